//! The annual figures (年度统计) an office reports each year-end, for an area and each area under
//! it, as a printable page and as CSV. Every figure is the core's report for the year so far.

use axum::extract::{Query, State};
use axum::response::Response;
use gridpatrol_core::org::OrgLevel;
use gridpatrol_core::report::export::csv_with_bom;
use gridpatrol_core::report::Report;
use gridpatrol_core::Store;
use maud::html;
use serde::Deserialize;

use super::exports::download;
use crate::console::layout::page;
use crate::console::values::{pct, url};
use crate::console::{view, Me, Page, Refused, Shared, Tree};

#[derive(Deserialize, Default)]
pub struct YearQuery {
    scope: Option<String>,
    year: Option<String>,
}

const ANNUAL_HEADINGS: [&str; 39] = [
    "范围",
    "级别",
    "巡查次数",
    "发现隐患",
    "重大隐患",
    "撤销",
    "已销号",
    "闭环率",
    "按期整改率",
    "网格内闭环率",
    "逾期未整改",
    "上报上级",
    "移交",
    "挂牌督办",
    "巡查覆盖率",
    "宣传次数",
    "宣传人次",
    "培训次数",
    "培训人次",
    "宣传进企业人次",
    "宣传进农村人次",
    "宣传进社区人次",
    "宣传进学校人次",
    "宣传进家庭人次",
    "网格员人数",
    "参训网格员",
    "考核人次",
    "考核合格率",
    "火灾起数",
    "火灾死亡人数",
    "火灾受伤人数",
    "火灾直接财产损失（元）",
    "责任书签订率",
    "防火公约（已订村数）",
    "微型消防站",
    "志愿消防队",
    "器材待检查（项）",
    "消防演练次数",
    "委员会会议次数",
];

fn annual_row(level: OrgLevel, r: &Report) -> Vec<String> {
    let mut row = vec![
        r.scope_name.clone(),
        level.zh().into(),
        r.patrols.to_string(),
        r.hazards_reported.to_string(),
        r.major_reported.to_string(),
        r.withdrawn.to_string(),
        r.closed.to_string(),
        pct(r.closure_rate),
        pct(r.on_time_rate),
        pct(r.in_grid_closure_rate),
        r.overdue_count.to_string(),
        r.escalated.to_string(),
        r.referred.to_string(),
        r.supervised.to_string(),
        pct(r.coverage_rate()),
        r.publicity_events.to_string(),
        r.publicity_audience.to_string(),
        r.training_events.to_string(),
        r.training_audience.to_string(),
    ];
    // In the 五进 order of the headings above.
    row.extend(
        r.publicity_by_channel
            .iter()
            .map(|c| c.audience.to_string()),
    );
    let (t, f, l) = (&r.training, &r.fires, &r.letters);
    row.extend([
        t.grid_workers.to_string(),
        t.grid_workers_trained.to_string(),
        t.assessed.to_string(),
        pct(t.pass_rate),
        f.fires.to_string(),
        f.deaths.to_string(),
        f.injuries.to_string(),
        f.loss_yuan.to_string(),
        pct(l.signed_rate),
        format!("{} / {}", l.villages_with_pact, l.villages),
        r.groups.micro_stations.to_string(),
        r.groups.volunteer_teams.to_string(),
        r.groups.equipment_due.to_string(),
        r.groups.drills.to_string(),
        r.groups.meetings.to_string(),
    ]);
    row
}

/// The year's figures for a scope and each node under it.
fn annual_rows(
    store: &Store,
    tree: &Tree,
    me: &Me,
    q: &YearQuery,
) -> Result<(String, String, Vec<Vec<String>>), Refused> {
    let node = tree.scope_for(me.actor(), q.scope.as_deref())?;
    let today = store.today();
    let year = q
        .year
        .clone()
        .unwrap_or_else(|| today.to_string()[..4].to_string());
    let (from, to) = gridpatrol_core::report::year_period(&year, today)?;
    let mut rows = vec![annual_row(node.level, &store.report(&node.id, from, to)?)];
    for c in tree.children(&node.id) {
        rows.push(annual_row(c.level, &store.report(&c.id, from, to)?));
    }
    Ok((node.id.clone(), year, rows))
}

pub async fn annual(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<YearQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let (scope, year, rows) = annual_rows(store, tree, me, &q)?;
        let body = html! {
            h1 { (year) " 年度消防安全网格化管理统计" }
            p.noprint {
                a href={ "/console/export/annual?scope=" (url(&scope)) "&year=" (year) } { "下载 CSV" }
                " · 可直接打印本页"
            }
            // One column per area, one row per figure: a few areas fit a page across.
            div.scroll { table {
                thead { tr {
                    th scope="col" { "指标" }
                    @for r in &rows { th.num scope="col" { (r[0]) } }
                } }
                tbody {
                    @for (i, heading) in ANNUAL_HEADINGS.iter().enumerate().skip(1) {
                        tr {
                            th scope="row" { (heading) }
                            @for r in &rows { td.num { (r[i]) } }
                        }
                    }
                }
            } }
        };
        Ok(page("年度统计", v, "/console/exports", body))
    })
    .await
}

pub async fn export_annual(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<YearQuery>,
) -> Result<Response, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let (scope, year, rows) = annual_rows(store, tree, me, &q)?;
        let bytes = csv_with_bom(&ANNUAL_HEADINGS, &rows)?;
        let name = tree.name(&scope).to_string();
        Ok(download(
            bytes,
            "text/csv; charset=utf-8",
            &format!("annual-{}-{year}.csv", url(&scope)),
            &format!("年度统计-{name}-{year}.csv"),
        ))
    })
    .await
}
