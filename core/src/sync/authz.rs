//! Who may write which op, and who may read which record: the server's rule (role × scope × op
//! kind), one pure function each, so the rule has one home and one test table.
//!
//! Writes: the op's acting user and role must be the authenticated user's own; the brigade
//! advisor writes only its own training sessions; org nodes and users are managed on the server, never pushed; every
//! other kind names the roles that may ever make it (the hazard state machine then decides,
//! case by case, whether it fits where it falls); and every grid the op touches must be in the
//! user's scope (an activity logged for a village or township touches every grid under it).
//! Reads: a record is visible to a user whose scope holds its grid; scope comes from the
//! user's assignments on the server, never from a filter the device sends.

use crate::hazard::lifecycle::Rejection;
use crate::hazard::HazardEvent;
use crate::op::{Op, OpBody};
use crate::org::{Actor, Role};

use crate::activity::ActivityKind;
use Role::{BrigadeAdvisor as B, GridWorker as G, TownshipOfficer as T, VillageLeader as V};

/// The roles that may make an op of this kind at all.
pub fn writers(body: &OpBody) -> &'static [Role] {
    match body {
        OpBody::OrgNode(_) | OpBody::User(_) => &[],
        OpBody::Template(_) | OpBody::Campaign(_) => &[T],
        OpBody::Plan(_) => &[V, T],
        // Village leaders and the township record fires, and the brigade that attended them.
        OpBody::Fire(_) => &[V, T, B],
        // A fire entered twice or in error is taken back by the village or the township.
        OpBody::FireWithdrawn(_) => &[V, T],
        // A grid worker collects a place's signed letter; a village adopts its pact.
        OpBody::Letter(l) if l.kind.of_place() => &[G, V, T],
        OpBody::Letter(_) => &[V, T],
        // Villages and the township keep their stations and committees; whoever is at the
        // station checks its equipment.
        OpBody::Group(_) => &[V, T],
        OpBody::EquipmentCheck(_) => &[G, V, T],
        // The brigade trains grid workers and logs its own sessions.
        OpBody::Activity(a) if a.kind == ActivityKind::Training => &[G, V, T, B],
        // Committees meet at the village and the township.
        OpBody::Activity(a) if a.kind == ActivityKind::Meeting => &[V, T],
        OpBody::PlaceCreate(_)
        | OpBody::PlaceUpdate(_)
        | OpBody::Patrol(_)
        | OpBody::Activity(_)
        | OpBody::Photo(_) => &[G, V, T],
        OpBody::Hazard { event, .. } => match event {
            // The server numbers cases; no device does.
            HazardEvent::CaseNumber { .. } => &[],
            HazardEvent::Report(_)
            | HazardEvent::Notify { .. }
            | HazardEvent::StartRectification { .. }
            | HazardEvent::SubmitRectification { .. }
            | HazardEvent::FixOnSpot { .. }
            | HazardEvent::RequestExtension { .. }
            | HazardEvent::Escalate { .. }
            // A grid worker closes only their own on-the-spot fix with before and after photos.
            | HazardEvent::Review { .. } => &[G, V, T],
            HazardEvent::DecideExtension { .. }
            | HazardEvent::HandBack { .. }
            | HazardEvent::SettleConflict { .. }
            | HazardEvent::Withdraw { .. } => &[V, T],
            HazardEvent::JointEnforcement { .. }
            | HazardEvent::Refer { .. }
            | HazardEvent::RecordOutcome { .. }
            | HazardEvent::Supervise { .. }
            | HazardEvent::Reclassify { .. } => &[T],
        },
    }
}

/// `writers` as a local command applies it: what a phone accepts is what the server keeps.
pub(crate) fn require_writer(actor: &Actor, body: &OpBody) -> crate::error::Result<()> {
    if writers(body).contains(&actor.role) {
        Ok(())
    } else {
        Err(Rejection::RoleNotAllowed {
            event: body.kind().into(),
            role: actor.role,
        }
        .into())
    }
}

/// May `user` push `op`, which touches `grids` (resolved by the caller from the op and the
/// server's records: a place's grid before and after a move, a hazard's grid, the grids under
/// an activity's org node)?
pub fn authorize_write(user: &Actor, op: &Op, grids: &[String]) -> Result<(), Rejection> {
    if op.actor_id != user.user_id || op.actor_role != user.role {
        return Err(Rejection::ActorMismatch);
    }
    if !writers(&op.body).contains(&user.role) {
        return Err(Rejection::RoleNotAllowed {
            event: op.body.kind().into(),
            role: user.role,
        });
    }
    // A grid worker registers places and corrects what a place is and who answers for it;
    // where it belongs and how it is handled stay with the village and township.
    let worker_exceeds = match (&op.body, user.role) {
        (OpBody::PlaceUpdate(c), Role::GridWorker) => !c.grid_worker_may(),
        (OpBody::PlaceCreate(p), Role::GridWorker) => p.archived || p.patrol_every_days.is_some(),
        _ => false,
    };
    if worker_exceeds {
        return Err(Rejection::RoleNotAllowed {
            event: op.body.kind().into(),
            role: user.role,
        });
    }
    // An activity is logged for an area wholly the user's: a grid worker's grid, never the
    // township (whose figures a worker's training would swell).
    let in_scope = match op.body {
        OpBody::Template(_) => true,
        _ => !grids.is_empty() && grids.iter().all(|g| user.covers(g)),
    };
    if in_scope {
        Ok(())
    } else {
        Err(Rejection::OutOfScope)
    }
}

/// May `user` receive a record of `grid`?
pub fn may_read(user: &Actor, grid: &str) -> bool {
    user.covers(grid)
}
