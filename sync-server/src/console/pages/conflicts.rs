//! Conflicts and refused records: offline conflicts on cases in the user's area (the later
//! action did not apply), and ops the server refused at upload that touched the user's grids,
//! a page at a time (`?before=` the last one shown), cut to the user's scope by the store.

use axum::extract::{Query, State};
use gridpatrol_core::org::Role;
use maud::html;
use serde::Deserialize;

use crate::console::labels::{event_text, verb_name};
use crate::console::layout::page;
use crate::console::values::Typed;
use crate::console::values::{names, person, tail, when};
use crate::console::{view, ApiError, Me, Page, RefusalKey, RefusalQuery, Refused, Shared};

#[derive(Deserialize, Default)]
pub struct ConflictQuery {
    all: Option<String>,
    /// Set after a conflict was marked handled.
    done: Option<String>,
    /// The last refused op of the page before, as `<at_ms>.<op_id>`.
    before: Option<String>,
}

/// How many refused ops one page lists.
const REFUSALS_PAGE: usize = 50;

fn parse_key(text: &str) -> Result<RefusalKey, ApiError> {
    text.split_once('.')
        .and_then(|(at, id)| {
            Some(RefusalKey {
                at_ms: at.parse().ok()?,
                op_id: id.parse().ok()?,
            })
        })
        .ok_or_else(|| ApiError::bad_request("before"))
}

pub async fn conflicts(
    State(b): State<Shared>,
    me: Me,
    Query(q): Query<ConflictQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (b, me, store) = (v.b, v.me, v.store);
        let who = names(store)?;
        let person = |id: &str| person(&who, id);
        let all = q.all.is_some();
        let list = if all {
            store.conflicts_in_scope(me.actor())?
        } else {
            store.conflicts(me.actor())?
        };
        // A refused op is shown to whoever covers a grid it touched; one that touched none
        // (reference data a device may not write) to the township. One more than a page is
        // read to know whether another follows.
        let mut refused = b.refusals(&RefusalQuery {
            grids: Some(me.actor().grids.clone()),
            ungridded: me.actor().role == Role::TownshipOfficer,
            after: q.before.as_deref().map(parse_key).transpose()?,
            limit: REFUSALS_PAGE + 1,
        })?;
        let more = refused.len() > REFUSALS_PAGE;
        refused.truncate(REFUSALS_PAGE);
        let older = refused.last().filter(|_| more).map(|r| {
            let k = r.key();
            let all = if all { "&all=1" } else { "" };
            format!("/console/conflicts?before={}.{}{all}", k.at_ms, k.op_id)
        });
        let newest = if all {
            "/console/conflicts?all=1"
        } else {
            "/console/conflicts"
        };
        let may_settle = matches!(
            me.actor().role,
            Role::VillageLeader | Role::TownshipOfficer
        );
        let body = html! {
            h1 { "冲突与退回" }
            @if q.done.is_some() {
                p.msg.ok role="status" { "已标记为已处理。" }
            }
            h2 { "离线冲突（" (list.len()) "）" }
            p.muted {
                "两人离线时对同一隐患做了不同处理，后到的一条未生效。请打开隐患，按实际情况再办理一次。"
                " "
                @if all {
                    a href="/console/conflicts" { "只看本级" }
                } @else {
                    a href="/console/conflicts?all=1" { "查看范围内全部" }
                }
            }
            table {
                thead { tr {
                    @for h in ["隐患", "未生效的操作", "原因", "先生效的操作", "处理"] { th scope="col" { (h) } }
                } }
                tbody {
                    @if list.is_empty() {
                        tr { td colspan="5" class="muted" { "没有冲突" } }
                    }
                    @for c in &list {
                        tr {
                            td { a href={ "/console/hazards/" (c.hazard_id) } { (tail(&c.hazard_id)) } }
                            td {
                                (verb_name(c.event.event.verb())) " · " (person(&c.event.actor_id))
                                " · " (when(c.event.hlc.wall_ms()))
                                br; (Typed(&event_text(&c.event.event)))
                            }
                            td { @if let Some(r) = &c.event.conflict { (r.zh()) } }
                            td {
                                @match &c.rival {
                                    Some(r) => {
                                        (verb_name(r.event.verb())) " · " (person(&r.actor_id))
                                        " · " (when(r.hlc.wall_ms()))
                                    }
                                    None => "—",
                                }
                            }
                            td {
                                @if c.settled {
                                    "已处理"
                                } @else if may_settle {
                                    form.settle method="post" action={ "/console/hazards/" (c.hazard_id) "/act" } {
                                        (me.csrf_field())
                                        input type="hidden" name="verb" value="settle_conflict";
                                        input type="hidden" name="op_id" value=(c.event.op_id);
                                        label { "处理情况"
                                            input name="note" required maxlength="500"; }
                                        button type="submit" { "标记已处理" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 id="refused" { "服务器退回的记录" }
            p.muted {
                "手机上传时被拒绝的记录（如已不在其负责范围、权限不足）。记录仍保存在该手机上并向其本人说明了原因；如需补办，请联系本人或在此代为办理。"
            }
            table {
                thead { tr {
                    @for h in ["时间", "人员", "记录", "原因"] { th scope="col" { (h) } }
                } }
                tbody {
                    @if refused.is_empty() {
                        tr { td colspan="4" class="muted" { "没有" } }
                    }
                    @for r in &refused {
                        tr id={ "refused-" (r.op_id) } {
                            td { (when(r.at_ms)) }
                            td { (person(&r.user_id)) }
                            td {
                                (r.kind)
                                @if let Some(h) = r.entity.strip_prefix("hazard:") {
                                    " · " a href={ "/console/hazards/" (h) } { (h.get(24..).unwrap_or(h)) }
                                }
                            }
                            td { (r.zh) br; span lang="en" class="muted" { (r.en) } }
                        }
                    }
                }
            }
            p {
                @if q.before.is_some() {
                    a href={ (newest) "#refused" } { "最新的记录" } " "
                }
                @if let Some(link) = &older {
                    a href={ (link) "#refused" } { "更早的记录" }
                }
            }
        };
        Ok(page("冲突与退回", v, "/console/conflicts", body))
    })
    .await
}
