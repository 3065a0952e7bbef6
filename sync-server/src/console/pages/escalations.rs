//! The escalation queue: the cases waiting at the user's level, oldest first in each group, to
//! hand back, refer, supervise, record an outcome for or verify. Each row says what the case is,
//! why and by whom it came up, how long it has waited, whether it is under 挂牌督办, and, when
//! the user may not take the next step themselves, why.

use axum::extract::State;
use gridpatrol_core::clock::Day;
use gridpatrol_core::hazard::{
    case_label, HazardEvent, HazardFilter, HazardRow, HazardStatus, Level,
};
use gridpatrol_core::org::Role;
use gridpatrol_core::Store;
use maud::{html, Markup};

use super::LIST_LIMIT;
use crate::console::layout::page;
use crate::console::values::{names, person, when, Names, Typed};
use crate::console::{view, Me, Page, Refused, Shared, Tree};

/// The level whose queue a user works: a village leader's village, else the township.
fn queue_level(role: Role) -> Level {
    match role {
        Role::VillageLeader => Level::Village,
        _ => Level::Township,
    }
}

/// The groups of the queue, in the order the page shows them.
const QUEUE: [(HazardStatus, &str); 4] = [
    (HazardStatus::Escalated, "已上报本级"),
    (HazardStatus::JointEnforcement, "联合执法中"),
    (HazardStatus::Referred, "已移交，待记录结果"),
    (HazardStatus::AwaitingReview, "待复查销号"),
];

/// Cases waiting at the user's level, per group of `QUEUE`: escalated to it, in joint
/// enforcement or referred (waiting for an outcome), or submitted and waiting for its
/// verification. Each group has its full count and its oldest `LIST_LIMIT` cases: the case
/// waiting longest is the one to take up.
pub(super) fn queue(store: &Store, me: &Me) -> Result<Vec<(usize, Vec<HazardRow>)>, Refused> {
    QUEUE
        .iter()
        .map(|(status, _)| {
            Ok(store.hazard_list(&HazardFilter {
                grids: me.actor().grids.clone(),
                status: Some(*status),
                level: Some(queue_level(me.actor().role)),
                oldest_first: true,
                limit: LIST_LIMIT,
                ..HazardFilter::default()
            })?)
        })
        .collect()
}

pub async fn escalations(State(b): State<Shared>, me: Me) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let (me, store, tree) = (v.me, v.store, &v.tree);
        let level = queue_level(me.actor().role);
        let groups = queue(store, me)?;
        let who = names(store)?;
        let body = html! {
            h1 { "上报待办" }
            p.muted {
                "本级（" (level.zh()) "）需要处理的隐患：上报到本级的、联合执法或移交后待记录结果的、待本级复查销号的。"
                "打开一条即可交办、移交、挂牌督办、记录结果或复查销号。"
            }
            @for ((_, title), (total, rows)) in QUEUE.iter().zip(&groups) {
                h2 { (title) "（" (total) "）" }
                (queue_table(store, tree, me, &who, rows)?)
            }
        };
        Ok(page("上报待办", v, "/console/escalations", body))
    })
    .await
}

/// A group of the queue: each case with what it is, how it came up and how long it waits.
fn queue_table(
    store: &Store,
    tree: &Tree,
    me: &Me,
    who: &Names,
    rows: &[HazardRow],
) -> Result<Markup, Refused> {
    let today = store.today();
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let d = store.hazard(row.id)?;
        let h = &d.hazard;
        // The last escalation: why, by whom, when.
        let up = d.events.iter().rev().find_map(|e| match &e.event {
            HazardEvent::Escalate { reason, note, .. } if e.conflict.is_none() => Some((
                reason.zh(),
                note.clone(),
                e.actor_id.clone(),
                e.hlc.wall_ms(),
            )),
            _ => None,
        });
        let since = d
            .events
            .iter()
            .rev()
            .find(|e| e.conflict.is_none())
            .map_or(h.reported_at, |e| e.hlc.wall_ms());
        let allowed = store.allowed_transitions(me.actor(), row.id)?;
        // A case in the user's queue that the user may not verify says why.
        let why_not = (h.status == HazardStatus::AwaitingReview && !allowed.contains(&"review"))
            .then(|| {
                if h.submitted_by.as_deref() == Some(me.actor().user_id.as_str()) {
                    "您记录了处理结果，须由另一名干部复查销号"
                } else {
                    "您无权复查此隐患"
                }
            });
        lines.push(html! {
            tr {
                td {
                    a href={ "/console/hazards/" (row.id) } { (case_label(h.case_number.as_deref(), &row.id)) }
                    @if h.supervised { " " span.badge.major { "挂牌督办" } }
                }
                td { (Typed(&h.report.description)) br; span.muted { (tree.name(&h.report.grid_id)) } }
                td {
                    @match &up {
                        Some((reason, note, by, at)) => {
                            (reason) " · " (person(who, by)) br; span.muted { (when(*at)) }
                            @if !note.is_empty() { br; (Typed(note)) }
                        }
                        None => "—",
                    }
                }
                td.num { (today.days_since(Day::from_ms(since))) }
                td {
                    @match h.deadline { Some(d) => (d), None => "—" }
                    @if let Some(why) = why_not { br; span.muted { (why) } }
                }
            }
        });
    }
    Ok(html! {
        table.queue {
            thead { tr {
                th scope="col" { "编号" }
                th scope="col" { "隐患描述 / 网格" }
                th scope="col" { "上报原因 · 上报人 · 时间" }
                th.num scope="col" { "已等待天数" }
                th scope="col" { "期限" }
            } }
            tbody {
                @if lines.is_empty() { tr { td colspan="5" class="muted" { "没有记录" } } }
                @for l in &lines { (l) }
            }
        }
    })
}
