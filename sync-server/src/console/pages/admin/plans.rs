//! Patrol plans (巡查计划) for village leaders and township officers: who patrols which places
//! of a grid (by type and risk level), how often, between which dates, and which checklist
//! items to look at first; a plan is stopped rather than deleted (`gridpatrol_core::plan`).

use axum::extract::{Query, State};
use axum::response::Response;
use gridpatrol_core::checklist::library;
use gridpatrol_core::clock::Day;
use gridpatrol_core::org::Role;
use gridpatrol_core::place::RiskLevel;
use gridpatrol_core::plan::PatrolPlan;
use maud::{html, Markup};
use uuid::Uuid;

use super::{admin_nav, choice, get, keepers_only, outcome, read_form, text_input, Done, Sent};
use crate::console::components::select;
use crate::console::layout::page;
use crate::console::{not_visible, view, ApiError, Me, Page, Refused, Shared, View};

const HERE: &str = "/console/admin/plans";

pub async fn plans(
    State(b): State<Shared>,
    me: Me,
    Query(d): Query<Done>,
) -> Result<Page, Refused> {
    keepers_only(&me)?;
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
    keepers_only(&me)?;
    view(b, me, move |v| {
        let sent = read_form(v.me, form)?;
        super::answer(apply(v, &sent), HERE, |e| render(v, &sent, None, Some(e)))
    })
    .await
}

/// An optional day: empty is none.
fn day(sent: &Sent, name: &str) -> Result<Option<Day>, ApiError> {
    match get(sent, name) {
        "" => Ok(None),
        d => Ok(Some(
            d.parse::<Day>().map_err(gridpatrol_core::Error::from)?,
        )),
    }
}

fn apply(v: &View, sent: &Sent) -> Result<&'static str, ApiError> {
    let (plan, what) = match get(sent, "do") {
        "add" => {
            let every = get(sent, "every_days");
            let risk_levels = sent
                .all("risk")
                .iter()
                .map(|r| r.parse::<RiskLevel>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(gridpatrol_core::Error::from)?;
            let plan = PatrolPlan {
                id: Uuid::now_v7(),
                grid_id: get(sent, "grid").to_string(),
                worker_id: Some(get(sent, "worker").to_string()).filter(|w| !w.is_empty()),
                place_types: sent.all("place_type"),
                risk_levels,
                every_days: match every {
                    "" => None,
                    n => Some(n.parse().map_err(|_| ApiError::bad_request("every_days"))?),
                },
                focus_items: sent.all("focus"),
                active: true,
                note: get(sent, "note").to_string(),
                starts_on: day(sent, "starts_on")?,
                ends_on: day(sent, "ends_on")?,
            };
            (plan, "新增巡查计划")
        }
        "stop" => {
            let id = Uuid::parse_str(get(sent, "id")).map_err(|_| not_visible())?;
            let mut plan = v
                .store
                .plans(v.me.actor())?
                .into_iter()
                .find(|p| p.id == id)
                .ok_or_else(not_visible)?;
            plan.active = false;
            (plan, "巡查计划已停止")
        }
        _ => return Err(ApiError::bad_request("do")),
    };
    let actor = v.me.actor().clone();
    v.b.act(&mut |s| s.put_plan(&actor, plan.clone()).map(|_| ()))?;
    Ok(what)
}

/// The checklist items a plan or campaign may ask to look at first: each checklist's current
/// version (the township's own items too), each item once.
pub(crate) fn focus_select(v: &View, sent: &Sent) -> Result<Markup, Refused> {
    let chosen = sent.all("focus");
    let mut seen = std::collections::BTreeSet::new();
    let templates = library()
        .templates
        .iter()
        .map(|t| v.store.template(&t.id, None))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(html! {
        label {
            "重点检查项（可多选，巡查时优先显示）"
            select name="focus" multiple size="8" {
                @for t in &templates {
                    optgroup label=(t.name) {
                        @for i in &t.items {
                            @if seen.insert(i.key.clone()) {
                                option value=(i.key) selected[chosen.contains(&i.key)] { (i.label) }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// Checkboxes of the library's place types, named `place_type`.
pub(crate) fn place_type_boxes(sent: &Sent) -> Markup {
    let chosen = sent.all("place_type");
    html! {
        fieldset {
            legend { "场所类型（不选即全部）" }
            @for t in &library().place_types {
                label { input type="checkbox" name="place_type" value=(t.code) checked[chosen.contains(&t.code)]; " " (t.zh) }
            }
        }
    }
}

fn render(
    v: &View,
    sent: &Sent,
    done: Option<&str>,
    refused: Option<&ApiError>,
) -> Result<Page, Refused> {
    let actor = v.me.actor();
    let plans = v.store.plans(actor)?;
    let grids: Vec<(String, String)> = actor
        .grids
        .iter()
        .map(|g| (g.clone(), v.tree.name(g).to_string()))
        .collect();
    // None chosen ("全部"): every worker of the grid.
    let workers: Vec<(String, String)> = v
        .store
        .kept_users(actor)?
        .into_iter()
        .filter(|u| u.role == Role::GridWorker)
        .map(|u| (u.id.clone(), format!("{}（{}）", u.name, u.id)))
        .collect();
    let risks = sent.all("risk");
    let today = v.store.today();
    let body = html! {
        h1 { "巡查计划" }
        (admin_nav(v.me, HERE))
        (outcome(done, refused))
        div.scroll { table {
            caption { "计划覆盖的场所按计划的周期巡查；未被计划覆盖的场所按场所类型和风险等级的默认周期。" }
            thead { tr {
                th scope="col" { "网格" } th scope="col" { "巡查人" } th scope="col" { "场所类型" }
                th scope="col" { "风险等级" } th.num scope="col" { "周期（天）" } th scope="col" { "日期" }
                th scope="col" { "重点检查项" } th scope="col" { "状态" } th scope="col" { "操作" }
            } }
            tbody {
                @if plans.is_empty() { tr { td colspan="9" class="muted" { "还没有巡查计划" } } }
                @for p in &plans {
                    tr {
                        td { (v.tree.name(&p.grid_id)) }
                        td { (p.worker_id.as_deref().unwrap_or("全部")) }
                        td { @if p.place_types.is_empty() { "全部" } @for t in &p.place_types { (library().place_type_zh(t)) " " } }
                        td { @if p.risk_levels.is_empty() { "全部" } @for r in &p.risk_levels { (r.zh()) " " } }
                        td.num { (p.every_days.map_or_else(|| "默认".to_string(), |d| d.to_string())) }
                        td.date {
                            @match (p.starts_on, p.ends_on) {
                                (None, None) => "长期",
                                (from, to) => { (from.map_or_else(String::new, |d| d.to_string())) " 至 " (to.map_or_else(String::new, |d| d.to_string())) },
                            }
                        }
                        td { (p.focus_items.len()) " 项" }
                        td { @if !p.active { "已停止" } @else if p.ends_on.is_some_and(|d| d < today) { "已结束" } @else { "执行中" } }
                        td { @if p.active {
                            form.inline method="post" action=(HERE) {
                                (v.me.csrf_field())
                                input type="hidden" name="do" value="stop";
                                input type="hidden" name="id" value=(p.id);
                                button.secondary type="submit" { "停止" }
                            }
                        } }
                    }
                }
            }
        } }
        section.card {
            h2 { "新增巡查计划" }
            form.act method="post" action=(HERE) {
                (v.me.csrf_field())
                input type="hidden" name="do" value="add";
                (choice("grid", "网格", &grids, get(sent, "grid")))
                (select("worker", "巡查人（全部：本网格每位网格员）", &workers, sent.get("worker").map(String::as_str)))
                (place_type_boxes(sent))
                fieldset {
                    legend { "风险等级（不选即全部）" }
                    @for r in RiskLevel::ALL {
                        label { input type="checkbox" name="risk" value=(r.code()) checked[risks.iter().any(|x| x == r.code())]; " " (r.zh()) }
                    }
                }
                (text_input(sent, "every_days", "周期（天，空为默认）", "", false))
                label { "开始日期（可空）" input type="date" name="starts_on" value=(get(sent, "starts_on")); }
                label { "结束日期（可空）" input type="date" name="ends_on" value=(get(sent, "ends_on")); }
                (focus_select(v, sent)?)
                (text_input(sent, "note", "说明", "", false))
                div { button type="submit" { "新增" } }
            }
        }
    };
    Ok(page("巡查计划", v, HERE, body))
}
