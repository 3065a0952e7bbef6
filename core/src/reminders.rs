//! Reminders (提醒) without a server: what is waiting for one person, computed on the phone from
//! its own records, and when the phone should say it. The apps only schedule what `notices`
//! returns (Android WorkManager and NotificationManager, iOS UNUserNotificationCenter), so every
//! rule is here and tested once: at most one summary a day, an alert on a deadline's day, never
//! outside 08:30 to 20:00, never a nag about being online or checking in (DOMAIN.md: no
//! 形式主义), and nothing when nothing waits.
//!
//! Days are the store's corrected days (`Store::today`), and the times handed to the apps are
//! on the phone's own clock: a phone whose clock is days off, once it has synced, still reminds
//! on the right morning.

use serde::Serialize;
use uuid::Uuid;

use crate::checklist::library;
use crate::clock::{Day, MS_PER_DAY};
use crate::error::Result;
use crate::hazard::derived::DEADLINE_RUNS_IN;
use crate::hazard::{case_label, HazardRow, HazardStatus, Level};
use crate::org::{Actor, Role};
use crate::store::Store;

/// How far ahead a deadline is called soon (today and the next three days).
pub const SOON_DAYS: i32 = 3;
/// The day's summary, minutes after midnight (China time).
const SUMMARY_AT_MIN: i64 = 8 * 60 + 30;
/// A deadline's alert on its day.
const ALERT_AT_MIN: i64 = 9 * 60;
/// Nothing is said after this.
const QUIET_FROM_MIN: i64 = 20 * 60;

/// What waits for one person today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reminders {
    pub today: Day,
    /// Places due for a patrol today, and those past due.
    pub patrols_due: u32,
    pub patrols_overdue: u32,
    /// The person's own cases (at their level) whose deadline is today or within `SOON_DAYS`.
    pub deadlines_soon: Vec<HazardRow>,
    /// The person's own cases past their deadline.
    pub cases_overdue: Vec<HazardRow>,
    /// Cases waiting for this person's re-inspection (复查).
    pub reviews: Vec<HazardRow>,
    /// Extension requests this person decides.
    pub extensions: Vec<HazardRow>,
    /// Equipment of the stations and teams this person may check, due for its check.
    pub equipment_due: u32,
}

/// One notification for the app to schedule. Scheduling one with a key already scheduled
/// replaces it, so running this again never doubles a reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub key: String,
    /// When to show it, on the phone's own clock (Unix ms).
    pub at_ms: i64,
    pub title: String,
    pub body: String,
    /// The case it is about, for the app to open.
    pub hazard_id: Option<Uuid>,
}

impl Reminders {
    pub fn is_empty(&self) -> bool {
        self.patrols_due == 0
            && self.patrols_overdue == 0
            && self.deadlines_soon.is_empty()
            && self.cases_overdue.is_empty()
            && self.reviews.is_empty()
            && self.extensions.is_empty()
            && self.equipment_due == 0
    }

    /// The day's one summary, or None when nothing waits.
    pub fn summary_zh(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.patrols_due + self.patrols_overdue > 0 {
            let mut s = format!("待巡查 {} 处", self.patrols_due + self.patrols_overdue);
            if self.patrols_overdue > 0 {
                s.push_str(&format!("（其中逾期 {} 处）", self.patrols_overdue));
            }
            parts.push(s);
        }
        let count = |v: &[HazardRow], what: &str| {
            (!v.is_empty()).then(|| format!("{} {} 条", what, v.len()))
        };
        parts.extend(count(&self.cases_overdue, "隐患逾期未整改"));
        parts.extend(count(
            &self.deadlines_soon,
            &format!("{SOON_DAYS} 天内到期隐患"),
        ));
        parts.extend(count(&self.reviews, "待复查"));
        parts.extend(count(&self.extensions, "延期申请待审批"));
        if self.equipment_due > 0 {
            parts.push(format!("消防站器材待检查 {} 项", self.equipment_due));
        }
        (!parts.is_empty()).then(|| parts.join("；"))
    }
}

/// The level at which a person's own cases sit; a brigade advisor reads and owns none.
fn own_level(role: Role) -> Option<Level> {
    match role {
        Role::GridWorker => Some(Level::Grid),
        Role::VillageLeader => Some(Level::Village),
        Role::TownshipOfficer => Some(Level::Township),
        Role::BrigadeAdvisor => None,
    }
}

impl Store {
    /// What waits for `actor` today.
    pub fn reminders(&self, actor: &Actor) -> Result<Reminders> {
        let today = self.today();
        let (patrols_due, patrols_overdue) = if actor.role == Role::GridWorker {
            let due = self.due_patrols(actor)?;
            let overdue = due.iter().filter(|p| p.next_due < today).count();
            (
                u32::try_from(due.len() - overdue).unwrap_or(u32::MAX),
                u32::try_from(overdue).unwrap_or(u32::MAX),
            )
        } else {
            (0, 0)
        };
        let mut r = Reminders {
            today,
            patrols_due,
            patrols_overdue,
            deadlines_soon: Vec::new(),
            cases_overdue: Vec::new(),
            reviews: Vec::new(),
            extensions: Vec::new(),
            equipment_due: u32::try_from(self.equipment_due_for(actor)?.len()).unwrap_or(u32::MAX),
        };
        let own = own_level(actor.role);
        for h in self.hazards(actor, None)? {
            if h.status.is_final() {
                continue;
            }
            let allowed = self.allowed_transitions(actor, h.id)?;
            if h.status == HazardStatus::AwaitingReview && allowed.contains(&"review") {
                r.reviews.push(h);
                continue;
            }
            if allowed.contains(&"decide_extension") {
                r.extensions.push(h);
                continue;
            }
            if Some(h.level) != own || !DEADLINE_RUNS_IN.contains(&h.status) {
                continue;
            }
            match h.deadline {
                Some(d) if d < today => r.cases_overdue.push(h),
                Some(d) if d <= today.plus(SOON_DAYS) => r.deadlines_soon.push(h),
                _ => {}
            }
        }
        r.deadlines_soon.sort_by_key(|h| (h.deadline, h.id));
        Ok(r)
    }

    /// What the app should schedule for `actor` now: the day's summary unless one was already
    /// given today (`last_summary_on`, kept by the app), and an alert on the day of each own
    /// deadline within `SOON_DAYS`. Times outside 08:30 to 20:00 move to 08:30 or drop.
    pub fn notices(&self, actor: &Actor, last_summary_on: Option<Day>) -> Result<Vec<Notice>> {
        let r = self.reminders(actor)?;
        let now = self.now_ms();
        // Back to the phone's clock, which is what the app schedules by.
        let on_phone = now - self.device_wall_ms();
        // The summary comes at 08:30, or at once when asked later in the day; an alert only
        // at its own time, so asking again after it (each sync, each submit) never repeats it.
        let at = |day: Day, minute: i64, late_is_now: bool| -> Option<i64> {
            let start = day.start_ms();
            let wanted = start + minute * 60_000;
            let quiet = start + QUIET_FROM_MIN * 60_000;
            let when = if late_is_now { wanted.max(now) } else { wanted };
            (when >= now && when < quiet && now < start + MS_PER_DAY).then_some(when - on_phone)
        };
        let mut out = Vec::new();
        if last_summary_on != Some(r.today) {
            if let (Some(body), Some(at_ms)) = (r.summary_zh(), at(r.today, SUMMARY_AT_MIN, true)) {
                out.push(Notice {
                    key: format!("summary:{}", r.today),
                    at_ms,
                    title: "今日提醒".into(),
                    body,
                    hazard_id: None,
                });
            }
        }
        for h in &r.deadlines_soon {
            let Some(d) = h.deadline else { continue };
            let Some(at_ms) = at(d, ALERT_AT_MIN, false) else {
                continue;
            };
            out.push(Notice {
                key: format!("deadline:{}:{d}", h.id),
                at_ms,
                title: "隐患整改今日到期".into(),
                body: format!(
                    "{}（{}）整改期限 {d}",
                    case_label(h.case_number.as_deref(), &h.id),
                    library().category_zh(&h.category),
                ),
                hazard_id: Some(h.id),
            });
        }
        Ok(out)
    }
}
