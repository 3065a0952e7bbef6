//! Reminders across the FFI: what the app's daily background job asks for and schedules as
//! local notifications, with every rule (one summary a day, daytime only, deadline-day alerts,
//! no nags) in `gridpatrol_core::reminders`.

use crate::error::GridPatrolError;
use crate::store::PatrolStore;

type Result<T> = std::result::Result<T, GridPatrolError>;

/// What waits for the user today, for the home screen's badge line.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ReminderCounts {
    pub today: String,
    pub patrols_due: u32,
    pub patrols_overdue: u32,
    pub deadlines_soon: u32,
    pub cases_overdue: u32,
    pub reviews: u32,
    pub extensions: u32,
    /// Equipment of the stations and teams the user may check, due for its check.
    pub equipment_due: u32,
    /// The day's summary in one line, or None when nothing waits.
    pub summary: Option<String>,
}

/// A local notification to schedule; one with the same key replaces the earlier.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LocalNotice {
    pub key: String,
    /// When, on the phone's own clock (Unix ms).
    pub at_ms: i64,
    pub title: String,
    pub body: String,
    pub hazard_id: Option<String>,
}

#[uniffi::export]
impl PatrolStore {
    /// What waits for the user today.
    pub fn reminders(&self, user_id: String) -> Result<ReminderCounts> {
        let r = self.store.reminders(&self.actor(&user_id)?)?;
        let n =
            |v: &[gridpatrol_core::hazard::HazardRow]| u32::try_from(v.len()).unwrap_or(u32::MAX);
        Ok(ReminderCounts {
            today: r.today.to_string(),
            patrols_due: r.patrols_due,
            patrols_overdue: r.patrols_overdue,
            deadlines_soon: n(&r.deadlines_soon),
            cases_overdue: n(&r.cases_overdue),
            reviews: n(&r.reviews),
            extensions: n(&r.extensions),
            equipment_due: r.equipment_due,
            summary: r.summary_zh(),
        })
    }

    /// The notifications to schedule now. `last_summary_on` (`YYYY-MM-DD`) is the day the app
    /// last showed a summary, which it keeps; the summary comes at most once a day.
    pub fn notices(
        &self,
        user_id: String,
        last_summary_on: Option<String>,
    ) -> Result<Vec<LocalNotice>> {
        let last = last_summary_on
            .map(|d| d.parse())
            .transpose()
            .map_err(gridpatrol_core::Error::from)?;
        let out = self.store.notices(&self.actor(&user_id)?, last)?;
        Ok(out
            .into_iter()
            .map(|n| LocalNotice {
                key: n.key,
                at_ms: n.at_ms,
                title: n.title,
                body: n.body,
                hazard_id: n.hazard_id.map(|h| h.to_string()),
            })
            .collect())
    }
}
