//! The hazard list: every case in the user's grids, newest first, filtered by state, severity,
//! village, grid, place type and overdue, a page of `LIST_LIMIT` at a time.

use axum::extract::{Query, State};
use gridpatrol_core::checklist::library;
use gridpatrol_core::hazard::{HazardFilter, HazardStatus, Severity};
use maud::{html, Markup};
use serde::Deserialize;

use crate::console::components::{hazard_table, select};
use crate::console::layout::page;
use crate::console::values::url;
use crate::console::{view, ApiError, Me, Page, Refused, Shared};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    severity: Option<String>,
    village: Option<String>,
    grid: Option<String>,
    place_type: Option<String>,
    overdue: Option<String>,
    /// Words to find in the case number or the description.
    q: Option<String>,
    /// `deadline`: nearest deadline first; `oldest`: oldest first; else newest first.
    sort: Option<String>,
    /// 1 for the first `PAGE` rows, 2 for the next, ... (anything else reads as 1)
    page: Option<String>,
}

/// Rows on one page of the list: a screen or two, not a scroll of thousands of pixels.
const PAGE: usize = 50;

impl ListQuery {
    /// This list's address at page `page`, every filter kept, as a link's `href` holds it.
    fn at_page(&self, page: usize) -> Markup {
        let filters = [
            ("status", &self.status),
            ("severity", &self.severity),
            ("village", &self.village),
            ("grid", &self.grid),
            ("place_type", &self.place_type),
            ("overdue", &self.overdue),
            ("q", &self.q),
            ("sort", &self.sort),
        ];
        html! {
            "/console/hazards?page=" (page)
            @for (k, v) in filters {
                @if let Some(v) = nonempty(v) { "&" (k) "=" (url(v)) }
            }
        }
    }
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

pub async fn hazards(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<ListQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let bad = |what: &str| Refused::Error(ApiError::bad_request(what));
        let status = nonempty(&q.status)
            .map(|s| s.parse::<HazardStatus>().map_err(|_| bad("status")))
            .transpose()?;
        let severity = nonempty(&q.severity)
            .map(|s| s.parse::<Severity>().map_err(|_| bad("severity")))
            .transpose()?;
        let at = q
            .page
            .as_deref()
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let grids = me.actor().grids.clone();
        let villages: Vec<String> = {
            let mut v: Vec<String> = grids
                .iter()
                .filter_map(|g| tree.village_of(g).map(String::from))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let filter = HazardFilter {
            grids: grids.clone(),
            status,
            severity,
            level: None,
            village_id: nonempty(&q.village).map(String::from),
            grid_id: nonempty(&q.grid).map(String::from),
            place_type: nonempty(&q.place_type).map(String::from),
            overdue: q.overdue.is_some(),
            search: nonempty(&q.q).map(String::from),
            oldest_first: nonempty(&q.sort) == Some("oldest"),
            by_deadline: nonempty(&q.sort) == Some("deadline"),
            offset: (at - 1).saturating_mul(PAGE),
            limit: PAGE,
        };
        let (total, rows) = store.hazard_list(&filter)?;

        let statuses: Vec<(String, String)> = HazardStatus::ALL
            .iter()
            .map(|s| (s.code().into(), s.zh().into()))
            .collect();
        let severities: Vec<(String, String)> = Severity::ALL
            .iter()
            .map(|s| (s.code().into(), s.zh().into()))
            .collect();
        let vs: Vec<(String, String)> = villages
            .iter()
            .map(|v| (v.clone(), tree.name(v).to_string()))
            .collect();
        let gs: Vec<(String, String)> = grids
            .iter()
            .map(|g| (g.clone(), tree.name(g).to_string()))
            .collect();
        let types: Vec<(String, String)> = library()
            .place_types
            .iter()
            .map(|t| (t.code.clone(), t.zh.clone()))
            .collect();
        let orders: Vec<(String, String)> =
            [("deadline", "期限最近的在前"), ("oldest", "最早发现的在前")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let first = filter.offset + 1;
        let last = filter.offset + rows.len();
        let caption = if total > rows.len() && !rows.is_empty() {
            format!("共 {total} 条，第 {first}–{last} 条")
        } else {
            format!("共 {total} 条")
        };
        let body = html! {
            h1 { "隐患清单" }
            form.filters method="get" action="/console/hazards" {
                label { "查找"
                    input type="search" name="q" maxlength="100" placeholder="编号或描述"
                        value=(nonempty(&q.q).unwrap_or("")); }
                (select("status", "状态", &statuses, nonempty(&q.status)))
                (select("severity", "严重程度", &severities, nonempty(&q.severity)))
                (select("village", "村", &vs, nonempty(&q.village)))
                (select("grid", "网格", &gs, nonempty(&q.grid)))
                (select("place_type", "场所类型", &types, nonempty(&q.place_type)))
                label {
                    "仅逾期"
                    input type="checkbox" name="overdue" value="1" checked[filter.overdue];
                }
                (select("sort", "排序", &orders, nonempty(&q.sort)))
                button type="submit" { "筛选" }
            }
            (hazard_table(store, tree, &rows, Some(&caption)))
            @if total > rows.len() {
                nav.pages aria-label="分页" {
                    @if at > 1 { a href=(q.at_page(at - 1)) { "← 较新" } }
                    @if last < total { a href=(q.at_page(at + 1)) { "较早" } }
                }
            }
        };
        Ok(page("隐患", v, "/console/hazards", body))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_link_keeps_every_filter() {
        let q = ListQuery {
            status: Some("notified".into()),
            village: Some("v01".into()),
            grid: Some(String::new()),
            overdue: Some("1".into()),
            ..ListQuery::default()
        };
        assert_eq!(
            q.at_page(3).into_string(),
            "/console/hazards?page=3&amp;status=notified&amp;village=v01&amp;overdue=1"
        );
    }
}
