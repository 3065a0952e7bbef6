//! The printed documents of a case, as A4 pages without the console's frame: the 整改通知书
//! (`/console/hazards/{id}/notice`) and the 复查意见书 (`…/notice?doc=review`). What they say is
//! the core's `Store::notice`; here it is laid out, with the QR code holding the case number
//! and its verification code. The browser prints it, or saves it as PDF (打印 → 另存为 PDF):
//! the console sends no PDF of its own (see ADR 0013).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gridpatrol_core::hazard::notice::Notice;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;

use super::hazard::parse_id;
use crate::console::layout;
use crate::console::{not_visible, view, ApiError, Me, Page, Refused, Shared};

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    /// `review` for the 复查意见书; the 整改通知书 otherwise.
    doc: Option<String>,
}

/// The QR code of `text` as inline SVG (drawn by the `qrcode` crate from our own text, so it
/// carries nothing a person typed).
fn qr_svg(text: &str) -> Markup {
    let svg = qrcode::QrCode::new(text.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(112, 112)
                .build()
        })
        .unwrap_or_default();
    // The XML declaration has no place inside an HTML document.
    let start = svg.find("<svg").unwrap_or(svg.len());
    PreEscaped(svg[start..].to_string())
}

fn signatures(left: &str, right: &str) -> Markup {
    html! {
        div.signatures {
            p { (left) "（签名）：" span.line {} " 日期：" span.line.short {} }
            p { (right) "（签名）：" span.line {} " 日期：" span.line.short {} }
        }
    }
}

fn heading(n: &Notice, title: &str) -> Markup {
    html! {
        header.doc-head {
            div {
                h1 { (n.issuing_unit) (title) }
                p.number { "编号：" (n.case_number) }
            }
            figure.qr {
                (qr_svg(&n.qr_text))
                figcaption { "核验码 " (n.verification) }
            }
        }
    }
}

fn rectification(n: &Notice) -> Markup {
    html! {
        (heading(n, "消防安全隐患整改通知书"))
        p { strong { (n.responsible) } "：" }
        p.body {
            "经检查，你（单位）位于" (n.address) "的" strong { (n.place) }
            "存在下列" (n.category) "方面的消防安全隐患："
        }
        ol.items {
            @for item in &n.items {
                li {
                    (item.what)
                    @if let Some(basis) = &item.legal_basis {
                        br; span.basis { "依据：" (basis) }
                    }
                }
            }
        }
        p.body {
            "请于 " strong.deadline { (n.deadline.map_or("______".to_string(), |d| d.to_string())) }
            " 前整改完毕，整改完成后告知网格员复查。"
        }
        p.body { "整改期间临时管控措施：" (n.interim_measures) }
        p.body { "检查人员：" (n.inspector) "　　发出日期：" (n.issued_on) }
        (signatures("检查人员", "被检查单位（个人）"))
        p.muted.print-hint { "本通知一式两份，检查人员和被检查单位（个人）各执一份。" }
    }
}

fn review(n: &Notice) -> Result<Markup, ApiError> {
    let Some(r) = &n.review else {
        return Err(ApiError::new(
            409,
            "not_reviewed",
            "该隐患尚未复查，没有复查意见书",
            "the case has not been checked yet",
        ));
    };
    Ok(html! {
        (heading(n, "消防安全隐患复查意见书"))
        p { strong { (n.responsible) } "：" }
        p.body {
            "根据编号 " (n.case_number) " 整改通知书，" (r.on) "对" strong { (n.place) } "（" (n.address) "）的下列隐患整改情况进行了复查："
        }
        ol.items { @for item in &n.items { li { (item.what) } } }
        p.body {
            "复查意见："
            @if r.passed { strong { "整改合格，予以销号。" } }
            @else {
                strong { "整改不合格，" }
                "请于 " strong.deadline { (r.new_deadline.map_or("______".to_string(), |d| d.to_string())) } " 前继续整改。"
            }
            @if !r.note.is_empty() { " " (r.note) }
        }
        p.body { "复查人员：" (r.reviewer) "　　复查日期：" (r.on) }
        (signatures("复查人员", "被检查单位（个人）"))
    })
}

pub async fn notice(
    State(b): State<Shared>,
    me: Me,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let id = parse_id(&id)?;
        let grid = v
            .store
            .hazard(id)
            .map_err(|_| not_visible())?
            .hazard
            .report
            .grid_id;
        if !v.me.actor().covers(&grid) {
            return Err(not_visible().into());
        }
        let n = v.store.notice(id)?;
        let (title, body) = match q.doc.as_deref() {
            Some("review") => ("复查意见书", review(&n)?),
            None | Some("rectification") => ("整改通知书", rectification(&n)),
            Some(_) => return Err(ApiError::bad_request("doc").into()),
        };
        Ok(Page::new(
            StatusCode::OK,
            html! {
                (DOCTYPE)
                html lang="zh-CN" {
                    (layout::head(&format!("{title} {}", n.case_number)))
                    body.document {
                        p.screen-only {
                            a href={ "/console/hazards/" (id) } { "← 返回隐患" }
                            " · 用浏览器的“打印”即可打印或另存为 PDF（Ctrl+P）。"
                        }
                        article.a4 { (body) }
                    }
                }
            },
        ))
    })
    .await
}
