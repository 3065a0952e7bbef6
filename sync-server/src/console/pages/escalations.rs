//! The escalation queue: the cases waiting at the user's level, oldest first in each group, to
//! hand back, refer, supervise, record an outcome for or verify.

use axum::extract::State;
use gridpatrol_core::hazard::{HazardFilter, HazardRow, HazardStatus, Level};
use gridpatrol_core::org::Role;
use gridpatrol_core::Store;
use maud::html;

use super::LIST_LIMIT;
use crate::console::components::hazard_table;
use crate::console::layout::page;
use crate::console::{view, Me, Page, Refused, Shared};

/// The level whose queue a user works: a village leader's village, else the township.
fn queue_level(role: Role) -> Level {
    match role {
        Role::VillageLeader => Level::Village,
        _ => Level::Township,
    }
}

/// The groups of the queue, in the order the page shows them.
const QUEUE: [(HazardStatus, &str); 4] = [
    (HazardStatus::Escalated, "已上报本级 / Escalated"),
    (
        HazardStatus::JointEnforcement,
        "联合执法中 / In joint enforcement",
    ),
    (
        HazardStatus::Referred,
        "已移交，待记录结果 / Referred, outcome pending",
    ),
    (
        HazardStatus::AwaitingReview,
        "待复查销号 / Awaiting verification",
    ),
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
        let body = html! {
            h1 { "上报待办 / Escalation queue" }
            p.muted {
                "本级（" (level.zh()) "）需要处理的隐患：上报到本级的、联合执法或移交后待记录结果的、待本级复查销号的。"
                "打开一条即可交办、移交、挂牌督办、记录结果或复查销号。/ Cases waiting at your level; open one to act on it."
            }
            @for ((_, title), (total, rows)) in QUEUE.iter().zip(&groups) {
                h2 { (title) "（" (total) "）" }
                (hazard_table(store, tree, rows, None))
            }
        };
        Ok(page("上报待办 / Escalations", v, "/console/escalations", body))
    })
    .await
}
