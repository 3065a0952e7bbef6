//! The hazard state machine. A hazard's state is a fold over its lifecycle events in (HLC, op id)
//! order: `step` takes the state so far and one event and returns the next state or a
//! `Rejection`. The fold keeps going past a rejected event (marking it conflicted) so that every
//! replica that holds the same set of events reaches the same state, in whatever order the
//! events arrived, and no event is ever dropped. A local command runs the same `step` before it
//! commits, so a person gets the rejection as an error instead of a conflict.
//!
//! What is derived from a state without being an event (overdue, escalation due, the next steps
//! allowed) is in `derived`.
//!
//! Role guards follow DOMAIN.md: handlers (grid worker, village leader, township officer) record
//! the work; verification belongs to the level that holds the case (village leader or township
//! officer for grid and village cases, the township for cases escalated to it); the verifier is
//! never the person who submitted the rectification, except an on-the-spot fix with both a before
//! and an after photo, which its fixer may close. The brigade advisor reads.

use uuid::Uuid;

use crate::checklist::{check_photo_ref, library};
use crate::clock::{Day, Hlc};
use crate::error::{self, Field, InvalidInput, Problem};
use crate::org::Role;

use super::{
    Hazard, HazardEvent, HazardStatus, Level, OnSpotFix, PendingExtension, Referral, Severity,
};

pub use super::rejection::Rejection;

/// Who did an event, and when (its HLC; the event's day is what deadlines are checked against).
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub actor_id: &'a str,
    pub role: Role,
    pub at: Hlc,
}

impl<'a> Ctx<'a> {
    /// Who made `op`, as whom, and when.
    pub fn of(op: &'a crate::op::Op) -> Self {
        Ctx {
            actor_id: &op.actor_id,
            role: op.actor_role,
            at: op.hlc,
        }
    }
}

const HANDLERS: &[Role] = &[Role::GridWorker, Role::VillageLeader, Role::TownshipOfficer];
const TOWNSHIP: &[Role] = &[Role::TownshipOfficer];
const VILLAGE_UP: &[Role] = &[Role::VillageLeader, Role::TownshipOfficer];

/// Who verifies (and hands back) a case held at a level.
fn holders(level: Level) -> &'static [Role] {
    match level {
        Level::Grid | Level::Village => VILLAGE_UP,
        Level::Township => TOWNSHIP,
    }
}

/// The furthest a role may set a deadline, in days from the day it acts: a grid worker gives
/// the time an owner needs for what a grid can fix; longer belongs to the village, and the
/// township's 办结/督办期限 to the township. An extension is asked for, never set alone.
pub fn max_deadline_days(role: Role) -> i32 {
    match role {
        Role::GridWorker => 30,
        Role::VillageLeader => 90,
        Role::TownshipOfficer | Role::BrigadeAdvisor => 365,
    }
}

/// A deadline `role` may set at `at`: not in the past, not past the role's reach.
fn deadline_from(day: Day, ctx: Ctx<'_>) -> Result<Day, Rejection> {
    let today = ctx.at.day();
    if day < today {
        return Err(InvalidInput::new(Field::Deadline, Problem::InThePast).into());
    }
    let latest = today.plus(max_deadline_days(ctx.role));
    if day > latest {
        return Err(InvalidInput::new(
            Field::Deadline,
            Problem::OutOfRange {
                min: today.to_string(),
                max: latest.to_string(),
            },
        )
        .into());
    }
    Ok(day)
}

fn note(s: &str) -> Result<(), Rejection> {
    error::optional_text(Field::Note, s, 500)?;
    Ok(())
}

fn required(field: Field, s: &str, max: usize) -> Result<(), Rejection> {
    error::text(field, s, max)?;
    Ok(())
}

/// One step of the fold: the state after `ev`, or why `ev` does not apply here.
pub fn step(
    id: Uuid,
    cur: Option<&Hazard>,
    ctx: Ctx<'_>,
    ev: &HazardEvent,
) -> Result<Hazard, Rejection> {
    let kind = ev.verb();
    let role_in = |allowed: &[Role]| {
        if allowed.contains(&ctx.role) {
            Ok(())
        } else {
            Err(Rejection::RoleNotAllowed {
                event: kind.into(),
                role: ctx.role,
            })
        }
    };
    let cur = match (cur, ev) {
        (None, HazardEvent::Report(r)) => {
            role_in(HANDLERS)?;
            required(Field::Description, &r.description, 500)?;
            library().category(&r.category)?;
            library().place_type(&r.place_type)?;
            for p in &r.photos {
                check_photo_ref(p)?;
            }
            if let Some(l) = r.location {
                l.validated()?;
            }
            return Ok(Hazard::reported(id, (**r).clone(), ctx));
        }
        (Some(_), HazardEvent::Report(_)) => return Err(Rejection::AlreadyExists),
        (None, _) => return Err(Rejection::NotReported),
        (Some(h), _) => h,
    };
    // The server numbers a case whatever its state (it may have closed offline); only the
    // server's own `system` acts so, and a case keeps its first number.
    if let HazardEvent::CaseNumber { number } = ev {
        if ctx.actor_id != crate::org::SYSTEM_USER {
            return Err(Rejection::RoleNotAllowed {
                event: kind.into(),
                role: ctx.role,
            });
        }
        if cur.case_number.is_some() {
            return Err(Rejection::AlreadyExists);
        }
        required(Field::CaseNumber, number, 30)?;
        let mut h = cur.clone();
        h.case_number = Some(number.clone());
        return Ok(h);
    }
    // A conflict is sorted out on a finished case as on an open one; the case is unchanged.
    if let HazardEvent::SettleConflict { op_id, note: n } = ev {
        role_in(VILLAGE_UP)?;
        required(Field::Note, n, 500)?;
        let mut h = cur.clone();
        if !h.settled_conflicts.contains(op_id) {
            h.settled_conflicts.push(*op_id);
        }
        return Ok(h);
    }
    if cur.status.is_final() {
        return Err(Rejection::Finished { status: cur.status });
    }
    let status_in = |allowed: &[HazardStatus]| {
        if allowed.contains(&cur.status) {
            Ok(())
        } else {
            Err(Rejection::WrongStatus {
                event: kind.into(),
                status: cur.status,
            })
        }
    };
    use HazardStatus as S;
    let mut h = cur.clone();
    match ev {
        HazardEvent::Report(_) => return Err(Rejection::AlreadyExists),
        HazardEvent::SettleConflict { .. } | HazardEvent::CaseNumber { .. } => return Ok(h),
        HazardEvent::Notify {
            responsible_party,
            deadline,
            note: n,
        } => {
            status_in(&[S::Reported])?;
            role_in(HANDLERS)?;
            required(Field::ResponsibleParty, responsible_party, 40)?;
            note(n)?;
            h.deadline = Some(deadline_from(*deadline, ctx)?);
            h.responsible_party = Some(responsible_party.trim().to_string());
            h.status = S::Notified;
        }
        HazardEvent::StartRectification { note: n } => {
            status_in(&[S::Notified])?;
            role_in(HANDLERS)?;
            note(n)?;
            h.status = S::Rectifying;
        }
        HazardEvent::SubmitRectification { note: n, photos } => {
            status_in(&[S::Notified, S::Rectifying])?;
            role_in(HANDLERS)?;
            note(n)?;
            for p in photos {
                check_photo_ref(p)?;
            }
            h.submitted_by = Some(ctx.actor_id.to_string());
            h.status = S::AwaitingReview;
        }
        HazardEvent::FixOnSpot {
            note: n,
            before_photo,
            after_photo,
        } => {
            status_in(&[S::Reported])?;
            role_in(HANDLERS)?;
            if h.severity != Severity::General {
                return Err(Rejection::NeedsGeneral);
            }
            note(n)?;
            for p in before_photo.iter().chain(after_photo) {
                check_photo_ref(p)?;
            }
            h.on_spot = Some(OnSpotFix {
                by: ctx.actor_id.to_string(),
                with_before_and_after_photos: before_photo.is_some() && after_photo.is_some(),
            });
            h.submitted_by = Some(ctx.actor_id.to_string());
            h.status = S::FixedOnSpot;
        }
        HazardEvent::Review {
            passed,
            note: n,
            new_deadline,
        } => {
            status_in(&[S::AwaitingReview, S::FixedOnSpot])?;
            note(n)?;
            let own_documented_fix = h.status == S::FixedOnSpot
                && h.on_spot
                    .as_ref()
                    .is_some_and(|f| f.with_before_and_after_photos && f.by == ctx.actor_id);
            if own_documented_fix {
                role_in(HANDLERS)?;
            } else {
                role_in(holders(h.level))?;
                if h.submitted_by.as_deref() == Some(ctx.actor_id) {
                    return Err(Rejection::SeparationOfDuties);
                }
            }
            if *passed {
                // An on-the-spot fix is on time; a case closed with no deadline is a gap in
                // the data, neither on time nor late.
                h.closed_on_time = if h.status == S::FixedOnSpot {
                    Some(true)
                } else {
                    h.deadline.map(|d| ctx.at.day() <= d)
                };
                h.status = S::Closed;
                h.closed_at = Some(ctx.at.wall_ms());
            } else {
                let d = new_deadline
                    .ok_or_else(|| InvalidInput::new(Field::Deadline, Problem::Empty))?;
                h.deadline = Some(deadline_from(d, ctx)?);
                h.rework_count += 1;
                h.submitted_by = None;
                h.on_spot = None;
                h.status = S::Rectifying;
            }
        }
        HazardEvent::RequestExtension {
            reason,
            proposed_deadline,
            interim_measures,
        } => {
            status_in(&[S::Notified, S::Rectifying])?;
            role_in(HANDLERS)?;
            if h.pending_extension.is_some() {
                return Err(Rejection::ExtensionPending);
            }
            required(Field::Reason, reason, 500)?;
            required(Field::InterimMeasures, interim_measures, 500)?;
            if let Some(d) = h.deadline {
                if *proposed_deadline <= d {
                    return Err(InvalidInput::new(
                        Field::Deadline,
                        Problem::NotAfter {
                            other: d.to_string(),
                        },
                    )
                    .into());
                }
            }
            h.pending_extension = Some(PendingExtension {
                requested_by: ctx.actor_id.to_string(),
                proposed_deadline: *proposed_deadline,
                reason: reason.trim().to_string(),
                interim_measures: interim_measures.trim().to_string(),
            });
        }
        HazardEvent::DecideExtension { approved, basis } => {
            let pending = h
                .pending_extension
                .take()
                .ok_or(Rejection::NoExtensionPending)?;
            let approvers = if h.level == Level::Township || h.severity == Severity::Major {
                TOWNSHIP
            } else {
                VILLAGE_UP
            };
            role_in(approvers)?;
            required(Field::Basis, basis, 500)?;
            if *approved {
                h.deadline = Some(deadline_from(pending.proposed_deadline, ctx)?);
                h.extensions_granted += 1;
            }
        }
        HazardEvent::Escalate {
            to,
            reason: _,
            note: n,
        } => {
            status_in(&[
                S::Reported,
                S::Notified,
                S::Rectifying,
                S::AwaitingReview,
                S::Escalated,
            ])?;
            if *to <= h.level {
                return Err(Rejection::WrongLevel { level: h.level });
            }
            let may = match ctx.role {
                Role::GridWorker => h.level == Level::Grid,
                Role::VillageLeader => h.level <= Level::Village,
                Role::TownshipOfficer => true,
                Role::BrigadeAdvisor => false,
            };
            if !may {
                return Err(Rejection::RoleNotAllowed {
                    event: kind.into(),
                    role: ctx.role,
                });
            }
            note(n)?;
            h.level = *to;
            h.escalated = true;
            h.submitted_by = None;
            h.status = S::Escalated;
        }
        HazardEvent::HandBack {
            to,
            guidance,
            deadline,
        } => {
            status_in(&[S::Escalated])?;
            role_in(holders(h.level))?;
            if *to >= h.level {
                return Err(Rejection::WrongLevel { level: h.level });
            }
            required(Field::Guidance, guidance, 500)?;
            h.deadline = Some(deadline_from(*deadline, ctx)?);
            h.level = *to;
            h.status = S::Notified;
        }
        HazardEvent::JointEnforcement {
            departments,
            note: n,
            deadline,
        } => {
            status_in(&[S::Escalated])?;
            role_in(TOWNSHIP)?;
            if h.level != Level::Township {
                return Err(Rejection::WrongLevel { level: h.level });
            }
            required(Field::Department, departments, 200)?;
            note(n)?;
            township_deadline(&mut h, *deadline, ctx)?;
            h.status = S::JointEnforcement;
        }
        HazardEvent::Refer {
            department,
            case_number,
            note: n,
            deadline,
        } => {
            status_in(&[S::Escalated, S::JointEnforcement])?;
            role_in(TOWNSHIP)?;
            if h.level != Level::Township {
                return Err(Rejection::WrongLevel { level: h.level });
            }
            required(Field::Department, department, 100)?;
            required(Field::CaseNumber, case_number, 60)?;
            note(n)?;
            township_deadline(&mut h, *deadline, ctx)?;
            h.referral = Some(Referral {
                department: department.trim().to_string(),
                case_number: case_number.trim().to_string(),
            });
            h.status = S::Referred;
        }
        HazardEvent::RecordOutcome { outcome } => {
            status_in(&[S::JointEnforcement, S::Referred])?;
            role_in(TOWNSHIP)?;
            required(Field::Outcome, outcome, 500)?;
            h.submitted_by = Some(ctx.actor_id.to_string());
            h.status = S::AwaitingReview;
        }
        HazardEvent::Supervise { note: n, deadline } => {
            role_in(TOWNSHIP)?;
            if h.severity != Severity::Major {
                return Err(Rejection::NeedsMajor);
            }
            if h.level != Level::Township {
                return Err(Rejection::WrongLevel { level: h.level });
            }
            if h.supervised {
                return Err(Rejection::AlreadySupervised);
            }
            note(n)?;
            township_deadline(&mut h, *deadline, ctx)?;
            h.supervised = true;
        }
        HazardEvent::Reclassify { severity, reason } => {
            role_in(TOWNSHIP)?;
            if *severity == h.severity {
                return Err(InvalidInput::new(Field::Severity, Problem::Unchanged).into());
            }
            // A major hazard is never closed on the spot: a fix awaiting its check goes back.
            if *severity == Severity::Major && h.status == S::FixedOnSpot {
                return Err(Rejection::WrongStatus {
                    event: kind.into(),
                    status: h.status,
                });
            }
            required(Field::Reason, reason, 500)?;
            h.severity = *severity;
        }
        HazardEvent::Withdraw { reason } => {
            let above = ctx.role.rank() > h.reporter_role.rank()
                || (ctx.role == Role::TownshipOfficer && ctx.actor_id != h.reporter_id);
            if ctx.role == Role::BrigadeAdvisor || !above {
                return Err(Rejection::NotAboveReporter);
            }
            required(Field::Reason, reason, 500)?;
            h.withdrawn_reason = Some(reason.trim().to_string());
            h.status = S::Withdrawn;
        }
    }
    h.last_event_at = ctx.at.wall_ms();
    Ok(h)
}

/// The township's 办结/督办期限, when the event names one (ops from before version 6 do not).
fn township_deadline(h: &mut Hazard, deadline: Option<Day>, ctx: Ctx<'_>) -> Result<(), Rejection> {
    if let Some(d) = deadline {
        h.deadline = Some(deadline_from(d, ctx)?);
    }
    Ok(())
}

/// One lifecycle event as it sits in the log.
pub struct LoggedEvent<'a> {
    pub op_id: Uuid,
    pub ctx: Ctx<'a>,
    pub event: &'a HazardEvent,
}

/// Folds events that are already sorted by (HLC, op id). Returns the state (None when no valid
/// report is among them) and the conflicted events with their reasons.
pub fn fold(id: Uuid, events: &[LoggedEvent<'_>]) -> (Option<Hazard>, Vec<(Uuid, Rejection)>) {
    let mut state: Option<Hazard> = None;
    let mut conflicts = Vec::new();
    for e in events {
        match step(id, state.as_ref(), e.ctx, e.event) {
            Ok(next) => state = Some(next),
            Err(r) => conflicts.push((e.op_id, r)),
        }
    }
    (state, conflicts)
}

/// Folds a hazard's ops as the log holds them (sorted by HLC and op id); other ops are skipped.
pub fn fold_ops(id: Uuid, ops: &[crate::op::Op]) -> (Option<Hazard>, Vec<(Uuid, Rejection)>) {
    let events: Vec<LoggedEvent<'_>> = ops
        .iter()
        .filter_map(|op| match &op.body {
            crate::op::OpBody::Hazard { event, .. } => Some(LoggedEvent {
                op_id: op.id,
                ctx: Ctx::of(op),
                event,
            }),
            _ => None,
        })
        .collect();
    fold(id, &events)
}
