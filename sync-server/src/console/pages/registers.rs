//! The registers beside patrols and hazards, as an office reviews them: the fires of an area
//! and period, each at a registered place read with what that place's records said when it
//! broke out; the grid workers trained and how their assessments went; the signed letters and
//! the places still without one in force; the stations, teams and committees with the
//! equipment due for its check. Every figure is the core's report, the same the
//! dashboard, the annual page and the phone show; the lists are the core's too. A village
//! leader or township officer withdraws (撤销) a fire entered twice or in error from here.

use axum::extract::{Query, State};
use axum::response::Response;
use gridpatrol_core::clock::Day;
use gridpatrol_core::report::ledgers::Ledger;
use maud::{html, Markup};

use super::admin::{answer, get, keepers_only, outcome, read_form, Done, Posted};
use super::ScopeQuery;
use crate::console::components::{figure, scope_form};
use crate::console::layout::page;
use crate::console::values::{pct, url, when};
use crate::console::{not_visible, view, ApiError, Me, Page, Refused, Shared, View};

const HERE: &str = "/console/registers";

pub async fn registers(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<ScopeQuery>,
    Query(d): Query<Done>,
) -> Result<Page, Refused> {
    view(b, me, move |v| render(v, &q, d.done.as_deref(), None)).await
}

/// Withdraws a fire entered twice or in error, with the reason typed beside it.
pub async fn withdraw_fire(
    State(b): State<Shared>,
    me: Me,
    form: Posted,
) -> Result<Response, Refused> {
    keepers_only(&me)?;
    view(b, me, move |v| {
        let sent = read_form(v.me, form)?;
        let done = (|| {
            let id = uuid::Uuid::parse_str(get(&sent, "id")).map_err(|_| not_visible())?;
            let reason = get(&sent, "reason").to_string();
            let actor = v.me.actor().clone();
            v.b.act(&mut |s| s.withdraw_fire(&actor, id, &reason))?;
            Ok::<_, ApiError>("火灾记录已撤销")
        })();
        answer(done, HERE, |e| {
            render(v, &ScopeQuery::default(), None, Some(e))
        })
    })
    .await
}

fn render(
    v: &View,
    q: &ScopeQuery,
    done: Option<&str>,
    refused: Option<&ApiError>,
) -> Result<Page, Refused> {
    let (me, store, tree) = (v.me, v.store, &v.tree);
    let keeper = keepers_only(me).is_ok();
    let (node, from, to) = q.read(v)?;
    let r = store.report(&node.id, from, to)?;
    let fires = store.fires(&node.id, from, to)?;
    let on = r.to.min(r.as_of);
    let unsigned = store.places_without_letter(&node.id, on)?;
    let letters = store.letters(&node.id, from, to)?;
    let groups = store.groups(&node.id)?;
    let due = store.equipment_due(&node.id, on)?;
    let lib = gridpatrol_core::checklist::library();
    let (f, t, l, g) = (&r.fires, &r.training, &r.letters, &r.groups);
    let export = |ledger: Ledger| {
        html! {
            a href={ "/console/export/ledger?ledger=" (ledger.code()) "&scope=" (url(&node.id)) "&from=" (from) "&to=" (to) "&format=xlsx" } {
                "下载" (ledger.zh())
            }
        }
    };
    let body = html! {
        h1 { "台账登记：" (node.name) }
        (outcome(done, refused))
        (scope_form(tree, me, "/console/registers", &node.id, Some((from, to))))
        section aria-label="台账指标" class="figures" {
            (figure(html! { (f.fires) }, "火灾起数"))
            (figure(html! { (f.deaths) " / " (f.injuries) }, "死亡 / 受伤（人）"))
            (figure(html! { (f.loss_yuan) }, "直接财产损失（元）"))
            (figure(html! { (t.grid_workers_trained) " / " (t.grid_workers) }, "参训网格员"))
            (figure(html! { (pct(t.pass_rate)) }, "考核合格率"))
            (figure(html! { (pct(l.signed_rate)) }, "责任书签订率"))
            (figure(html! { (l.villages_with_pact) " / " (l.villages) }, "已订防火公约的村"))
            (figure(html! { a href="#stations" { (g.equipment_due) } }, "器材待检查（项）"))
        }
        p.muted { "统计期 " (from) " 至 " (to) "；责任书自签订之日起一年内有效，按 " (on) " 计。" }

        h2 id="fires" { "火灾情况（" (fires.len()) "）" }
        p.noprint { (export(Ledger::Fires)) }
        div.scroll { table {
            caption.muted { "发生在已登记场所的火灾，列出起火前该场所的巡查和未销号隐患。" }
            thead { tr {
                @for h in ["时间", "村 / 网格", "场所 / 地址", "起火原因", "死亡", "受伤", "直接损失（元）", "消防队出动", "起火前最近巡查", "前一年巡查", "起火时未销号隐患"] {
                    th scope="col" { (h) }
                }
                @if keeper { th scope="col" { "重复或误录" } }
            } }
            tbody {
                @if fires.is_empty() { tr { td colspan="11" class="muted" { "没有" } } }
                @for row in &fires {
                    tr {
                        td.date { (when(row.fire.occurred_at)) }
                        td { (row.village) " / " (row.grid) }
                        td {
                            @if let Some(name) = &row.place_name { (name) "，" }
                            (row.fire.address)
                        }
                        td { (row.fire.cause.zh()) }
                        td.num { (row.fire.deaths) }
                        td.num { (row.fire.injuries) }
                        td.num { (row.fire.loss_yuan) }
                        td { (if row.fire.brigade_attended { "是" } else { "否" }) }
                        @match &row.history {
                            Some(h) => {
                                td { (h.last_patrol_at.map_or("从未巡查".to_string(), when)) }
                                td.num { (h.patrols_in_year) }
                                td {
                                    @if h.open_hazards.is_empty() { "无" }
                                    @for (label, category, status) in &h.open_hazards {
                                        div { (label) " " (category) " " (status) }
                                    }
                                }
                            }
                            None => { td.muted colspan="3" { "未登记场所" } }
                        }
                        @if keeper {
                            td {
                                form method="post" action="/console/registers/withdraw-fire" {
                                    (me.csrf_field())
                                    input type="hidden" name="id" value=(row.fire.id);
                                    label { "撤销理由" input type="text" name="reason" required maxlength="200"; }
                                    button type="submit" { "撤销" }
                                }
                            }
                        }
                    }
                }
            }
        } }
        (by_cause(&f.by_cause))

        h2 id="training" { "网格员培训与考核" }
        p {
            "期内参训网格员 " (t.grid_workers_trained) " 人（共 " (t.grid_workers) " 人，"
            (pct(t.trained_rate)) "）；考核 " (t.assessed) " 人次，合格 " (t.passed) " 人次，合格率 " (pct(t.pass_rate)) "。"
        }
        p.noprint { (export(Ledger::Activities)) }

        h2 id="letters" { "消防安全责任书" }
        p id="letter-figures" {
            "在册场所 " (l.places) " 处，责任书在有效期内 " (l.places_signed) " 处，签订率 " (pct(l.signed_rate))
            "；已订防火公约的村 " (l.villages_with_pact) " / " (l.villages) "。"
        }
        p.noprint { (export(Ledger::Letters)) }
        h3 id="unsigned" { "未签订或已过期的场所（" (unsigned.len()) "）" }
        div.scroll { table {
            thead { tr { @for h in ["村 / 网格", "场所", "地址", "类型", "责任书"] { th scope="col" { (h) } } } }
            tbody {
                @if unsigned.is_empty() { tr { td colspan="5" class="muted" { "没有" } } }
                @for (p, signed) in &unsigned {
                    tr {
                        td { (tree.name(tree.village_of(&p.place.grid_id).unwrap_or(""))) " / " (tree.name(&p.place.grid_id)) }
                        td { (p.place.name) }
                        td { (p.place.address) }
                        td { (lib.place_type_zh(&p.place.place_type)) }
                        td { (letter_state(*signed)) }
                    }
                }
            }
        } }
        h3 { "期内签订（" (letters.len()) "）" }
        div.scroll { table {
            thead { tr { @for h in ["签订日期", "类型", "村 / 网格", "场所", "签订人", "记录人"] { th scope="col" { (h) } } } }
            tbody {
                @if letters.is_empty() { tr { td colspan="6" class="muted" { "没有" } } }
                @for row in &letters {
                    tr {
                        td.date { (row.letter.signed_on) }
                        td { (row.letter.kind.zh()) }
                        td { (row.village) @if !row.grid.is_empty() { " / " (row.grid) } }
                        td { (row.place_name.as_deref().unwrap_or("—")) }
                        td { (row.letter.signed_by) }
                        td { (row.recorded_by) }
                    }
                }
            }
        } }

        h2 id="stations" { "微型消防站、志愿消防队与委员会" }
        p {
            "微型消防站 " (g.micro_stations) " 个，志愿消防队 " (g.volunteer_teams) " 支，队员 " (g.members)
            " 人；委员会与领导小组 " (g.committees) " 个。期内演练 " (g.drills) " 次（" (g.drill_attendance)
            " 人次），会议 " (g.meetings) " 次。"
        }
        p.noprint { (export(Ledger::Stations)) }
        div.scroll { table {
            thead { tr { @for h in ["名称", "类型", "区域", "成员（职务）", "值班安排", "器材"] { th scope="col" { (h) } } } }
            tbody {
                @if groups.is_empty() { tr { td colspan="6" class="muted" { "没有" } } }
                @for x in groups.iter().filter(|x| x.active) {
                    tr {
                        td { (x.name) }
                        td { (x.kind.zh()) }
                        td { (tree.name(&x.org_id)) }
                        td { @for (i, m) in x.members.iter().enumerate() { @if i > 0 { "、" } (m.name) @if !m.duty.is_empty() { "（" (m.duty) "）" } } }
                        td { (x.roster) }
                        td { @for (i, e) in x.equipment.iter().enumerate() { @if i > 0 { "、" } (e.kind) " ×" (e.count) } }
                    }
                }
            }
        } }
        h3 id="equipment-due" { "今日待检查的器材（" (due.len()) "）" }
        div.scroll { table {
            thead { tr { @for h in ["消防站", "器材", "数量", "上次检查", "结果", "应检查日期", "有效期至"] { th scope="col" { (h) } } } }
            tbody {
                @if due.is_empty() { tr { td colspan="7" class="muted" { "没有" } } }
                @for i in &due {
                    tr {
                        td { (i.group_name) }
                        td { (i.item.kind) }
                        td.num { (i.item.count) }
                        td.date { (i.last_checked.map_or("从未检查".to_string(), |d| d.to_string())) }
                        td { (match i.last_ok { Some(true) => "完好", Some(false) => "损坏或缺失", None => "—" }) }
                        td.date { (i.next_due.map_or("—".to_string(), |d| d.to_string())) }
                        td.date {
                            (i.item.expires_on.map_or("—".to_string(), |d| d.to_string()))
                            @if i.expired { " 已过期" }
                        }
                    }
                }
            }
        } }
    };
    Ok(page("台账登记", v, "/console/registers", body))
}

fn letter_state(signed: Option<Day>) -> String {
    match signed {
        None => "未签订".into(),
        Some(d) => format!("已过期（{d} 签订）"),
    }
}

/// Fires by cause, every cause listed.
fn by_cause(counts: &[gridpatrol_core::report::Count]) -> Markup {
    html! {
        div.scroll { table id="by-cause" {
            caption { "火灾按起火原因" }
            thead { tr { @for c in counts { th.num scope="col" { (c.label) } } } }
            tbody { tr { @for c in counts { td.num { (c.count) } } } }
        } }
    }
}
