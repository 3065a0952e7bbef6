//! The exports page (the ledgers as XLSX or CSV: hazards, patrols, the place register,
//! publicity and training; the annual figures) and the ledger download itself; files are
//! named in Chinese for the office.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use gridpatrol_core::report::export::LedgerFormat;
use gridpatrol_core::report::ledgers::Ledger;
use maud::html;
use serde::Deserialize;

use super::ScopeQuery;
use crate::console::components::scope_options;
use crate::console::layout::page;
use crate::console::values::url;
use crate::console::{view, ApiError, Me, Page, Refused, Shared};

pub async fn exports(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<ScopeQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let (node, from, to) = q.read(v)?;
        let year = &store.today().to_string()[..4];
        let options = scope_options(tree, me, &node.id);
        let body = html! {
            h1 { "台账导出" }
            section.card {
                h2 { "台账" }
                p.muted {
                    "隐患台账：期内发现的全部隐患，含整改、上报、移交和销号情况；巡查台账：每次巡查一行；"
                    "一户一档：每村一页，每个场所的巡查和隐患；宣传培训台账：每次活动一行。"
                    "XLSX 带标题、按 A4 横向打印，可直接用 Excel / WPS 打开。"
                }
                form.filters method="get" action="/console/export/ledger" {
                    label { "台账" select name="ledger" {
                        @for l in Ledger::ALL { option value=(l.code()) { (l.zh()) } }
                    } }
                    label { "范围" select name="scope" { (options) } }
                    label { "开始" input type="date" name="from" value=(from) required; }
                    label { "结束" input type="date" name="to" value=(to) required; }
                    button type="submit" name="format" value="xlsx" { "下载 XLSX" }
                    button type="submit" name="format" value="csv" class="secondary" { "下载 CSV" }
                }
            }
            section.card {
                h2 { "年度统计" }
                p.muted { "每年年底向本级党委、政府报告用：全年的巡查、隐患、闭环、覆盖、宣传培训数据，分村列出。" }
                form.filters method="get" action="/console/annual" {
                    label { "范围" select name="scope" { (options) } }
                    label { "年度" input name="year" inputmode="numeric" pattern="[0-9]{4}" value=(year) required; }
                    button type="submit" { "查看" }
                    button type="submit" formaction="/console/export/annual" class="secondary" { "下载 CSV" }
                }
            }
        };
        Ok(page("台账导出", v, "/console/exports", body))
    })
    .await
}

#[derive(Deserialize, Default)]
pub struct LedgerQuery {
    #[serde(flatten)]
    area: ScopeQuery,
    format: Option<String>,
    /// Which ledger (`Ledger::code`); the hazard ledger when absent.
    ledger: Option<String>,
}

/// A file to download, named in Chinese for the office (with an ASCII fallback).
pub(super) fn download(
    bytes: Vec<u8>,
    mime: &'static str,
    ascii_name: &str,
    name: &str,
) -> Response {
    let mut res = ([(header::CONTENT_TYPE, mime)], bytes).into_response();
    let disposition = format!(
        "attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}",
        url(name)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub async fn export_ledger(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, Refused> {
    view(b, me, move |v| {
        let store = v.store;
        let (node, from, to) = q.area.read(v)?;
        let (format, ext, mime) = match q.format.as_deref() {
            Some("csv") => (LedgerFormat::Csv, "csv", "text/csv; charset=utf-8"),
            Some("xlsx") | None => (
                LedgerFormat::Xlsx,
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            Some(_) => return Err(ApiError::bad_request("format").into()),
        };
        let which = match q.ledger.as_deref() {
            None => Ledger::Hazards,
            Some(code) => code
                .parse::<Ledger>()
                .map_err(|_| ApiError::bad_request("ledger"))?,
        };
        let (_, bytes) = store.ledger_of(which, &node.id, from, to, format)?;
        Ok(download(
            bytes,
            mime,
            &format!("{}-{}-{from}-{to}.{ext}", which.code(), url(&node.id)),
            &format!("{}-{}-{from}至{to}.{ext}", which.zh(), node.name),
        ))
    })
    .await
}
