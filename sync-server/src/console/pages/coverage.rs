//! Patrol coverage of an area: for each grid and risk level, its places and how many are due,
//! overdue, never patrolled and covered, with totals per risk level. The counts are the core's
//! (`Store::coverage`), the same the report's coverage figure is summed from. Below them, the
//! work list: every place due today, most overdue first, with its grid's workers.

use axum::extract::{Query, State};
use gridpatrol_core::place::RiskLevel;
use gridpatrol_core::report::coverage::{by_risk, CoverageCount};
use maud::{html, Markup};
use serde::Deserialize;

use crate::console::components::scope_form;
use crate::console::layout::page;
use crate::console::values::{names, pct, person, when};
use crate::console::{view, Me, Page, Refused, Shared};

#[derive(Deserialize, Default)]
pub struct AreaQuery {
    scope: Option<String>,
}

pub async fn coverage(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<AreaQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let node = tree.scope_for(me.actor(), q.scope.as_deref())?;
        let rows = store.coverage(&node.id)?;
        let due = store.due_places(&node.id)?;
        let who = names(store)?;
        let lib = gridpatrol_core::checklist::library();
        let body = html! {
            h1 { "巡查覆盖：" (node.name) }
            p.muted {
                "按风险等级统计各网格的场所：到期（今天应巡查或已过期）、逾期（已超过巡查周期）、从未巡查。"
            }
            (scope_form(tree, me, "/console/coverage", &node.id, None))
            table {
                thead { tr {
                    th scope="col" { "村 / 网格" }
                    th scope="col" { "风险等级" }
                    @for h in ["场所", "到期", "逾期", "从未巡查", "按期覆盖率"] {
                        th.num scope="col" { (h) }
                    }
                } }
                tbody {
                    @for r in &rows {
                        (coverage_row(html! {
                            (tree.name(tree.village_of(&r.grid_id).unwrap_or(""))) " / " (tree.name(&r.grid_id))
                        }, r.risk, &r.count))
                    }
                    // A risk level with no places in the area has no total either.
                    @for (risk, total) in by_risk(&rows) {
                        @if total.places > 0 {
                            (coverage_row(html! { "合计" }, risk, &total))
                        }
                    }
                }
            }
            h2 id="due" { "应巡查场所（" (due.len()) "）" }
            p.muted { "今天应巡查或已逾期的场所，逾期最久的在前。" }
            table {
                thead { tr {
                    @for h in ["村 / 网格", "场所", "类型", "风险等级", "上次巡查", "应巡查日期", "逾期天数", "网格员"] {
                        th scope="col" { (h) }
                    }
                } }
                tbody {
                    @if due.is_empty() {
                        tr { td colspan="8" class="muted" { "没有" } }
                    }
                    @for d in &due {
                        tr {
                            td { (tree.name(tree.village_of(&d.row.place.grid_id).unwrap_or(""))) " / " (tree.name(&d.row.place.grid_id)) }
                            td { (d.row.place.name) }
                            td { (lib.place_type_zh(&d.row.place.place_type)) }
                            td { (d.row.place.risk_level.zh()) }
                            td { (d.row.last_patrol_at.map_or("从未巡查".to_string(), when)) }
                            td { (d.row.next_due) }
                            td.num { (d.days_overdue) }
                            td { @for (i, w) in d.workers.iter().enumerate() { @if i > 0 { "、" } (person(&who, w)) } }
                        }
                    }
                }
            }
        };
        Ok(page("巡查覆盖", v, "/console/coverage", body))
    })
    .await
}

/// A row of the coverage table: places, due, overdue, never patrolled, and the share patrolled
/// within their cycle.
fn coverage_row(area: Markup, risk: RiskLevel, c: &CoverageCount) -> Markup {
    html! {
        tr {
            th scope="row" { (area) }
            td { (risk.zh()) }
            @for n in [c.places, c.due, c.overdue, c.never_patrolled] {
                td.num { (n) }
            }
            td.num { (pct(c.rate())) }
        }
    }
}
