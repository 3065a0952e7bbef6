//! The dashboard: the headline figures of the chosen area and period (the core's report), the
//! monthly trend and overdue cases by area as charts, and the figures of each area under it.

use axum::extract::{Query, State};
use gridpatrol_core::clock::Day;
use gridpatrol_core::org::OrgLevel;
use gridpatrol_core::report::Report;
use maud::{html, Markup};

use super::admin::campaigns::{figure_cells, figure_headings, state};
use super::escalations::queue;
use super::ScopeQuery;
use crate::console::chart::{bars, Group};
use crate::console::components::{figure, scope_form};
use crate::console::layout::page;
use crate::console::values::{pct, url};
use crate::console::{view, Me, Page, Refused, Shared};

pub async fn dashboard(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<ScopeQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let (node, from, to) = q.read(v)?;
        let r = store.report(&node.id, from, to)?;
        let children: Vec<(String, String, Report)> = tree
            .children(&node.id)
            .into_iter()
            .map(|c| Ok((c.id.clone(), c.name.clone(), store.report(&c.id, from, to)?)))
            .collect::<Result<_, gridpatrol_core::Error>>()?;
        let trend = store.monthly_trend(&node.id, from, to)?;
        let queue: usize = queue(store, me)?.iter().map(|(n, _)| n).sum();
        let child_level = tree
            .children(&node.id)
            .first()
            .map_or("下级", |c| c.level.zh());
        // Under a township (or county), the grids too, one level further down.
        let grandchildren: Vec<(String, String, Report)> = tree
            .children(&node.id)
            .into_iter()
            .filter(|c| c.level == OrgLevel::Village)
            .flat_map(|c| tree.children(&c.id))
            .map(|g| Ok((g.id.clone(), g.name.clone(), store.report(&g.id, from, to)?)))
            .collect::<Result<_, gridpatrol_core::Error>>()?;
        // The township's campaigns that ran in the period, counted in the area shown.
        let campaigns = match tree.township_of(&node.id) {
            Some(t) => store
                .campaigns(t)?
                .into_iter()
                .filter(|c| c.starts_on <= to && c.ends_on >= from)
                .map(|c| store.campaign_figures(c.id, &node.id))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let months: Vec<Group> = trend
            .iter()
            .map(|m| Group {
                label: m.month[2..].to_string(),
                values: vec![m.found, m.closed],
            })
            .collect();
        let overdue: Vec<Group> = children
            .iter()
            .map(|(_, name, cr)| Group {
                label: name.clone(),
                values: vec![cr.overdue_count],
            })
            .collect();

        let body = html! {
            h1 { (node.name) "消防安全网格化管理概览" }
            (scope_form(tree, me, "/console/", &node.id, Some((from, to))))
            section aria-label="主要指标" class="figures" {
                (figure(html! { (pct(r.closure_rate)) }, "闭环率"))
                (figure(html! { (pct(r.in_grid_closure_rate)) }, "一般隐患网格内闭环率"))
                (figure(html! { (pct(r.on_time_rate)) }, "按期整改率"))
                (figure(html! { a href=(overdue_link(node.level, &node.id)) { (r.overdue_count) } }, &format!("逾期未整改（截至 {}）", r.overdue_as_of())))
                (figure(html! { (pct(r.coverage_rate())) }, "巡查覆盖率"))
                (figure(html! { (r.hazards_reported) }, "发现隐患"))
                (figure(html! { a href={ "/console/registers?scope=" (url(&node.id)) "&from=" (from) "&to=" (to) "#letters" } { (pct(r.letters.signed_rate)) } }, "责任书签订率"))
                (figure(html! { a href={ "/console/registers?scope=" (url(&node.id)) "&from=" (from) "&to=" (to) } { (r.fires.fires) } }, "火灾起数"))
                // The brigade advisor reads; there is nothing in the queue for them to do.
                @if me.actor().role != gridpatrol_core::org::Role::BrigadeAdvisor {
                    (figure(html! { a href="/console/escalations" { (queue) } }, "待办上报"))
                }
            }
            @if !campaigns.is_empty() {
                h2 { "专项行动" }
                table {
                    thead { tr {
                        th scope="col" { "专项行动" } th scope="col" { "日期" } th scope="col" { "状态" }
                        (figure_headings())
                        th scope="col" { "导出" }
                    } }
                    tbody {
                        @for f in &campaigns {
                            tr {
                                th scope="row" { (f.campaign.name) }
                                td.date { (f.campaign.starts_on) " 至 " (f.campaign.ends_on) }
                                td { (state(&f.campaign, r.as_of)) }
                                (figure_cells(f))
                                td { a href={ "/console/export/campaign/" (f.campaign.id) "?scope=" (url(&node.id)) } { "CSV" } }
                            }
                        }
                    }
                }
            }
            p.muted {
                "统计期 " (from) " 至 " (to) "，截至 " (r.as_of) "；比率按期内发现的隐患计算（撤销的不计）。"
            }
            div.grid2 {
                div.card {
                    h2 { "每月发现与销号" }
                    (bars("每月发现与销号隐患数", &["发现", "销号"], &months))
                }
                // Overdue by area, when the area shown has areas under it.
                @if !children.is_empty() {
                    div.card {
                        h2 { "逾期未整改（按" (child_level) "）" }
                        (bars(&format!("各{child_level}逾期未整改隐患数"), &["逾期"], &overdue))
                    }
                }
            }
            (breakdown(child_level, &children, from, to))
            (breakdown(OrgLevel::Grid.zh(), &grandchildren, from, to))
            h2 { "月度数据" }
            table {
                thead { tr {
                    th scope="col" { "月份" }
                    th.num scope="col" { "发现" }
                    th.num scope="col" { "销号" }
                } }
                tbody {
                    @for m in &trend {
                        tr {
                            th scope="row" { (m.month) }
                            td.num { (m.found) }
                            td.num { (m.closed) }
                        }
                    }
                }
            }
        };
        Ok(page("概览", v, "/console/", body))
    })
    .await
}

/// The figures of each node under the one shown, each linking to its own dashboard.
fn breakdown(level: &str, rows: &[(String, String, Report)], from: Day, to: Day) -> Markup {
    if rows.is_empty() {
        return html! {};
    }
    html! {
        h2 { "分" (level) "情况" }
        table {
            thead { tr {
                th scope="col" { (level) }
                @for h in ["巡查次数", "发现隐患", "已销号", "闭环率", "网格内闭环率", "按期整改率", "逾期", "覆盖率"] {
                    th.num scope="col" { (h) }
                }
            } }
            tbody {
                @for (id, name, r) in rows {
                    tr {
                        th scope="row" {
                            a href={ "/console/?scope=" (url(id)) "&from=" (from) "&to=" (to) } { (name) }
                        }
                        td.num { (r.patrols) }
                        td.num { (r.hazards_reported) }
                        td.num { (r.closed) }
                        td.num { (pct(r.closure_rate)) }
                        td.num { (pct(r.in_grid_closure_rate)) }
                        td.num { (pct(r.on_time_rate)) }
                        td.num { (r.overdue_count) }
                        td.num { (pct(r.coverage_rate())) }
                    }
                }
            }
        }
    }
}

/// The overdue list of the area a dashboard shows (a village's or grid's own, not the
/// township's).
fn overdue_link(level: OrgLevel, id: &str) -> String {
    match level {
        OrgLevel::Village => format!("/console/hazards?overdue=1&village={}", url(id)),
        OrgLevel::Grid => format!("/console/hazards?overdue=1&grid={}", url(id)),
        OrgLevel::Township | OrgLevel::County => "/console/hazards?overdue=1".into(),
    }
}
