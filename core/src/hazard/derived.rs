//! What is derived from a hazard's state and never stored, so it cannot conflict offline:
//! overdue (the one rule, in Rust and as the SQL the lists filter with), whether the rules
//! propose escalation, and the steps a role may take next (tried through the lifecycle's own
//! `step`, so buttons and rules cannot disagree).

use crate::clock::{Day, Hlc};
use crate::org::Role;

use super::lifecycle::{step, Ctx};
use super::{EscalationReason, Hazard, HazardEvent, HazardStatus, Level, Severity};

/// Days a case waits overdue before the rules propose escalating it.
pub const ESCALATE_AFTER_DAYS_OVERDUE: i32 = 7;

/// The statuses in which a deadline runs: once the rectification is submitted (or the case
/// escalated, referred, closed) the case is no longer overdue, whatever its deadline.
/// A case the township holds in joint enforcement or referral runs to its 办结期限.
pub const DEADLINE_RUNS_IN: [HazardStatus; 4] = [
    HazardStatus::Notified,
    HazardStatus::Rectifying,
    HazardStatus::JointEnforcement,
    HazardStatus::Referred,
];

/// Overdue: a deadline is running and has passed; the days past it as of `today`.
pub fn days_overdue(status: HazardStatus, deadline: Option<Day>, today: Day) -> Option<i32> {
    if !DEADLINE_RUNS_IN.contains(&status) {
        return None;
    }
    let d = deadline?;
    (today > d).then(|| today.days_since(d))
}

/// The same rule as a condition on the `hazards` table, with `today` bound to `today_param`
/// (e.g. `?2`), for lists and counts that filter in SQL.
pub(crate) fn overdue_sql(today_param: &str) -> String {
    let statuses = DEADLINE_RUNS_IN
        .iter()
        .map(|s| format!("'{}'", s.code()))
        .collect::<Vec<_>>()
        .join(", ");
    format!("(status IN ({statuses}) AND deadline < {today_param})")
}

impl Hazard {
    /// This case's days overdue as of `today` (`days_overdue` on its status and deadline).
    pub fn days_overdue(&self, today: Day) -> Option<i32> {
        days_overdue(self.status, self.deadline, today)
    }

    /// What the escalation rules propose for this case today; a person confirms it.
    pub fn escalation_due(&self, today: Day) -> Option<EscalationReason> {
        if self.status.is_final() || self.level == Level::Township {
            return None;
        }
        // A major case the township has seen and handed back down is the lower level's to
        // finish: its severity no longer calls for sending it up again.
        if self.severity == Severity::Major && !self.escalated {
            return Some(EscalationReason::Major);
        }
        if self.rework_count >= 2 {
            return Some(EscalationReason::ReworkTwice);
        }
        if self
            .days_overdue(today)
            .is_some_and(|d| d > ESCALATE_AFTER_DAYS_OVERDUE)
        {
            return Some(EscalationReason::Overdue);
        }
        None
    }
}

/// The events `role` could make next on `cur` (as `verb()` names them), for an app to offer as
/// buttons: each kind is tried with plausible content (a deadline a week ahead, a photo, a
/// note), and with each level where the kind names one. Whether the user's scope covers the
/// hazard is the caller's to check.
pub fn allowed_next(cur: &Hazard, actor_id: &str, role: Role, at: Hlc) -> Vec<&'static str> {
    let week = Day(at.day().0 + 7);
    let photo = "0".repeat(64);
    let text = || "-".to_string();
    let levels = [Level::Grid, Level::Village, Level::Township];
    let mut candidates = vec![
        HazardEvent::Notify {
            responsible_party: text(),
            deadline: week,
            note: String::new(),
        },
        HazardEvent::StartRectification {
            note: String::new(),
        },
        HazardEvent::SubmitRectification {
            note: String::new(),
            photos: vec![photo.clone()],
        },
        HazardEvent::FixOnSpot {
            note: String::new(),
            before_photo: Some(photo.clone()),
            after_photo: Some(photo),
        },
        HazardEvent::Review {
            passed: true,
            note: String::new(),
            new_deadline: None,
        },
        HazardEvent::RequestExtension {
            reason: text(),
            proposed_deadline: Day(week.0 + 7),
            interim_measures: text(),
        },
        HazardEvent::DecideExtension {
            approved: true,
            basis: text(),
        },
        HazardEvent::JointEnforcement {
            departments: text(),
            note: String::new(),
            deadline: Some(week),
        },
        HazardEvent::Refer {
            department: text(),
            case_number: text(),
            note: String::new(),
            deadline: Some(week),
        },
        HazardEvent::RecordOutcome { outcome: text() },
        HazardEvent::Supervise {
            note: String::new(),
            deadline: Some(week),
        },
        HazardEvent::Reclassify {
            severity: match cur.severity {
                Severity::General => Severity::Major,
                Severity::Major => Severity::General,
            },
            reason: text(),
        },
        HazardEvent::Withdraw { reason: text() },
    ];
    for to in levels {
        candidates.push(HazardEvent::Escalate {
            to,
            reason: EscalationReason::BeyondPower,
            note: String::new(),
        });
        candidates.push(HazardEvent::HandBack {
            to,
            guidance: text(),
            deadline: week,
        });
    }
    let ctx = Ctx { actor_id, role, at };
    let mut out: Vec<&'static str> = candidates
        .iter()
        .filter(|ev| step(cur.id, Some(cur), ctx, ev).is_ok())
        .map(|ev| ev.verb())
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overdue_only_while_a_deadline_runs_and_after_it() {
        let (deadline, today) = (Some(Day(100)), Day(103));
        assert_eq!(
            days_overdue(HazardStatus::Notified, deadline, today),
            Some(3)
        );
        assert_eq!(
            days_overdue(HazardStatus::Rectifying, deadline, Day(100)),
            None
        );
        assert_eq!(
            days_overdue(HazardStatus::AwaitingReview, deadline, today),
            None
        );
        assert_eq!(days_overdue(HazardStatus::Rectifying, None, today), None);
        assert_eq!(
            overdue_sql("?2"),
            "(status IN ('notified', 'rectifying', 'joint_enforcement', 'referred') AND deadline < ?2)"
        );
    }
}
