//! Campaigns (专项行动) for township officers: start one (name, dates, place types, items to
//! look at first), see each one's figures (the core's `campaign_figures`, the same the
//! dashboard and the export show), download them by area, call one off.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use gridpatrol_core::campaign::{Campaign, CampaignFigures};
use gridpatrol_core::checklist::library;
use gridpatrol_core::clock::Day;
use maud::{html, Markup};
use uuid::Uuid;

use super::super::exports::download;
use super::super::ScopeQuery;
use super::plans::{focus_select, place_type_boxes};
use super::{admin_nav, get, home, officers_only, outcome, read_form, text_input, Done, Sent};
use crate::console::layout::page;
use crate::console::values::{pct, url};
use crate::console::{not_visible, view, ApiError, Me, Page, Refused, Shared, View};

const HERE: &str = "/console/admin/campaigns";

pub async fn campaigns(
    State(b): State<Shared>,
    me: Me,
    Query(d): Query<Done>,
) -> Result<Page, Refused> {
    officers_only(&me)?;
    view(b, me, move |v| {
        render(v, &Sent::new(), d.done.as_deref(), None)
    })
    .await
}

pub async fn change(
    State(b): State<Shared>,
    me: Me,
    form: super::Posted,
) -> Result<Response, Refused> {
    officers_only(&me)?;
    view(b, me, move |v| {
        let sent = read_form(v.me, form)?;
        super::answer(apply(v, &sent), HERE, |e| render(v, &sent, None, Some(e)))
    })
    .await
}

fn day(sent: &Sent, name: &str) -> Result<Day, ApiError> {
    Ok(get(sent, name)
        .parse::<Day>()
        .map_err(gridpatrol_core::Error::from)?)
}

fn apply(v: &View, sent: &Sent) -> Result<&'static str, ApiError> {
    let (campaign, what) = match get(sent, "do") {
        "start" => (
            Campaign {
                id: Uuid::now_v7(),
                township_id: home(v)?,
                name: get(sent, "name").to_string(),
                starts_on: day(sent, "starts_on")?,
                ends_on: day(sent, "ends_on")?,
                place_types: sent.all("place_type"),
                focus_items: sent.all("focus"),
                note: get(sent, "note").to_string(),
                active: true,
            },
            "开始专项行动",
        ),
        "stop" => {
            let id = Uuid::parse_str(get(sent, "id")).map_err(|_| not_visible())?;
            let mut c = v.store.campaign(id).map_err(|_| not_visible())?;
            c.active = false;
            (c, "专项行动已停止")
        }
        _ => return Err(ApiError::bad_request("do")),
    };
    let actor = v.me.actor().clone();
    v.b.act(&mut |s| s.put_campaign(&actor, campaign.clone()).map(|_| ()))?;
    Ok(what)
}

/// How a campaign stands today.
pub(crate) fn state(c: &Campaign, today: Day) -> &'static str {
    if !c.active {
        "已停止"
    } else if today < c.starts_on {
        "未开始"
    } else if today > c.ends_on {
        "已结束"
    } else {
        "进行中"
    }
}

/// A campaign's figures as table cells (the dashboard's campaign table uses them too).
pub(crate) fn figure_cells(f: &CampaignFigures) -> Markup {
    html! {
        td.num { (f.places) }
        td.num { (f.patrolled) "（" (pct(f.coverage_rate())) "）" }
        td.num { (f.patrols) }
        td.num { (f.hazards) }
        td.num { (f.closed) "（" (pct(f.closure_rate())) "）" }
    }
}

/// The heading cells matching `figure_cells`.
pub(crate) fn figure_headings() -> Markup {
    html! {
        th.num scope="col" { "场所" }
        th.num scope="col" { "已检查（覆盖率）" }
        th.num scope="col" { "巡查次数" }
        th.num scope="col" { "发现隐患" }
        th.num scope="col" { "已销号（整改率）" }
    }
}

fn render(
    v: &View,
    sent: &Sent,
    done: Option<&str>,
    refused: Option<&ApiError>,
) -> Result<Page, Refused> {
    let township = home(v)?;
    let today = v.store.today();
    let list = v.store.campaigns(&township)?;
    let body = html! {
        h1 { "专项行动" }
        (admin_nav(v.me, HERE))
        (outcome(done, refused))
        div.scroll { table {
            caption { "本乡镇的专项行动，统计期为行动日期内截至今天" }
            thead { tr {
                th scope="col" { "名称" } th scope="col" { "日期" } th scope="col" { "状态" }
                th scope="col" { "场所类型" } (figure_headings()) th scope="col" { "操作" }
            } }
            tbody {
                @if list.is_empty() { tr { td colspan="10" class="muted" { "还没有专项行动" } } }
                @for c in &list {
                    @let f = v.store.campaign_figures(c.id, &township)?;
                    tr {
                        td { (c.name) }
                        td.date { (c.starts_on) " 至 " (c.ends_on) }
                        td { (state(c, today)) }
                        td { @if c.place_types.is_empty() { "全部" } @for t in &c.place_types { (library().place_type_zh(t)) " " } }
                        (figure_cells(&f))
                        td {
                            a href={ "/console/export/campaign/" (c.id) "?scope=" (url(&township)) } { "导出 CSV" }
                            @if c.active && today <= c.ends_on {
                                form.inline method="post" action=(HERE) {
                                    (v.me.csrf_field())
                                    input type="hidden" name="do" value="stop";
                                    input type="hidden" name="id" value=(c.id);
                                    button.secondary type="submit" { "停止" }
                                }
                            }
                        }
                    }
                }
            }
        } }
        section.card {
            h2 { "开始专项行动" }
            form.act method="post" action=(HERE) {
                (v.me.csrf_field())
                input type="hidden" name="do" value="start";
                (text_input(sent, "name", "名称", "", true))
                label { "开始日期" input type="date" name="starts_on" required
                    value=(sent.get("starts_on").cloned().unwrap_or_else(|| today.to_string())); }
                label { "结束日期" input type="date" name="ends_on" required
                    value=(sent.get("ends_on").cloned().unwrap_or_else(|| today.plus(30).to_string())); }
                (place_type_boxes(sent))
                (focus_select(v, sent)?)
                (text_input(sent, "note", "说明", "", false))
                div { button type="submit" { "开始" } }
            }
        }
    };
    Ok(page("专项行动", v, HERE, body))
}

/// A campaign's figures for the chosen area and each area under it, as CSV.
pub async fn export(
    State(b): State<Shared>,
    me: Me,
    Path(id): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> Result<Response, Refused> {
    view(b, me, move |v| {
        let (node, _, _) = q.read(v)?;
        let id = Uuid::parse_str(&id).map_err(|_| not_visible())?;
        let c = v.store.campaign(id).map_err(|_| not_visible())?;
        let bytes = v.store.campaign_csv(id, &node.id)?;
        Ok(download(
            bytes,
            "text/csv; charset=utf-8",
            &format!("campaign-{}.csv", url(&node.id)),
            &format!("专项行动-{}-{}.csv", c.name, node.name),
        ))
    })
    .await
}
