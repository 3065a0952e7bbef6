//! Work in progress across the FFI: a screen saves at every answer (`save_draft_answer` and
//! its siblings) and never holds the only copy; the home screen lists `drafts` (续填); a
//! finished draft is submitted once (`submit_draft`) or thrown away on purpose
//! (`discard_draft`). GPS comes in as an optional fix: no fix is recorded as none and the work
//! goes on. The rules are the core's (`gridpatrol_core::draft`); this is conversion only.

use gridpatrol_core::activity::{ActivityKind, Channel};
use gridpatrol_core::draft::{ActivityDraft, DraftBody, DraftHazard, HazardDraft, Submitted};
use gridpatrol_core::patrol::{GpsSample, PatrolOutcome};
use uuid::Uuid;

use crate::error::GridPatrolError;
use crate::hazards::Severity;
use crate::records::{Answer, HazardProposal, ItemAnswer, PatrolResult};
use crate::store::{id, PatrolStore};

type Result<T> = std::result::Result<T, GridPatrolError>;

/// A location as the platform's location service gave it.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct GpsFix {
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_m: Option<f64>,
    /// The OS marked it as coming from a mock location provider.
    pub mock: bool,
}

fn sample(fix: Option<GpsFix>) -> GpsSample {
    fix.map_or_else(GpsSample::default, |f| GpsSample {
        lat: Some(f.latitude),
        lon: Some(f.longitude),
        accuracy_m: f.accuracy_m,
        mock: f.mock,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DraftKind {
    Patrol,
    Hazard,
    Activity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ActivityType {
    /// 消防宣传
    Publicity,
    /// 消防培训
    Training,
    /// 消防演练, by a station or team
    Drill,
    /// 会议, of a committee
    Meeting,
}

impl From<ActivityType> for ActivityKind {
    fn from(t: ActivityType) -> Self {
        match t {
            ActivityType::Publicity => ActivityKind::Publicity,
            ActivityType::Training => ActivityKind::Training,
            ActivityType::Drill => ActivityKind::Drill,
            ActivityType::Meeting => ActivityKind::Meeting,
        }
    }
}

impl From<ActivityKind> for ActivityType {
    fn from(k: ActivityKind) -> Self {
        match k {
            ActivityKind::Publicity => ActivityType::Publicity,
            ActivityKind::Training => ActivityType::Training,
            ActivityKind::Drill => ActivityType::Drill,
            ActivityKind::Meeting => ActivityType::Meeting,
        }
    }
}

/// Where publicity went (宣传"五进").
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PublicityChannel {
    /// 进企业
    Enterprises,
    /// 进农村
    Villages,
    /// 进社区
    Communities,
    /// 进学校
    Schools,
    /// 进家庭
    Families,
}

impl From<PublicityChannel> for Channel {
    fn from(c: PublicityChannel) -> Self {
        match c {
            PublicityChannel::Enterprises => Channel::Enterprises,
            PublicityChannel::Villages => Channel::Villages,
            PublicityChannel::Communities => Channel::Communities,
            PublicityChannel::Schools => Channel::Schools,
            PublicityChannel::Families => Channel::Families,
        }
    }
}

impl From<Channel> for PublicityChannel {
    fn from(c: Channel) -> Self {
        match c {
            Channel::Enterprises => PublicityChannel::Enterprises,
            Channel::Villages => PublicityChannel::Villages,
            Channel::Communities => PublicityChannel::Communities,
            Channel::Schools => PublicityChannel::Schools,
            Channel::Families => PublicityChannel::Families,
        }
    }
}

/// A grid worker (or anyone with an account) at a training, by account, with their assessment
/// (考核): None when they were not assessed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Trainee {
    pub user_id: String,
    pub passed: Option<bool>,
}

/// A line of the home screen's 续填 list.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DraftSummary {
    pub draft_id: String,
    pub kind: DraftKind,
    pub place_id: Option<String>,
    pub place_name: Option<String>,
    pub started_at_ms: i64,
    pub updated_at_ms: i64,
    /// Checklist items answered so far (a patrol).
    pub answered: u32,
}

/// A failed item to raise, as the worker has it so far.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ItemHazard {
    pub item_key: String,
    /// None: the item's failure wording.
    pub description: Option<String>,
    pub photos: Vec<String>,
}

/// A visit in progress, to put back on the checklist screen.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PatrolInProgress {
    pub draft_id: String,
    pub place_id: String,
    pub started_at_ms: i64,
    pub fix: Option<GpsFix>,
    pub answers: Vec<ItemAnswer>,
    pub hazards: Vec<ItemHazard>,
    pub note: String,
}

/// A hazard report in progress.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HazardInProgress {
    pub draft_id: String,
    pub place_id: String,
    pub category: String,
    pub severity: Severity,
    pub description: String,
    pub photos: Vec<String>,
    pub fix: Option<GpsFix>,
}

/// A publicity, training, drill or meeting log in progress.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ActivityInProgress {
    pub draft_id: String,
    pub activity: ActivityType,
    pub org_id: String,
    pub held_on: String,
    pub title: String,
    pub audience: u32,
    pub note: String,
    pub channel: Option<PublicityChannel>,
    pub attendees: Vec<String>,
    pub photos: Vec<String>,
    /// Training only: who attended by account, with their assessment.
    pub trainees: Vec<Trainee>,
    /// A drill's station or team, a meeting's committee (`GroupEntry.group_id`).
    pub group_id: Option<String>,
}

/// What a submitted draft became.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum DraftOutcome {
    Patrol { result: PatrolResult },
    Hazard { hazard_id: String },
    Activity { activity_id: String },
}

fn fix_of(g: GpsSample) -> Option<GpsFix> {
    Some(GpsFix {
        latitude: g.lat?,
        longitude: g.lon?,
        accuracy_m: g.accuracy_m,
        mock: g.mock,
    })
}

pub(crate) fn patrol_result(out: PatrolOutcome) -> PatrolResult {
    PatrolResult {
        patrol_id: out.patrol_id.to_string(),
        hazard_ids: out.hazard_ids.iter().map(Uuid::to_string).collect(),
        proposals: out
            .unraised
            .into_iter()
            .map(|p| HazardProposal {
                item_key: p.item_key,
                description: p.description,
                severity: p.severity.into(),
                suggested_deadline: p.suggested_deadline.to_string(),
            })
            .collect(),
    }
}

/// A draft id of another kind (a hazard draft given to a patrol screen) is no draft of this one.
fn wrong_kind() -> gridpatrol_core::Error {
    gridpatrol_core::Error::not_found(gridpatrol_core::error::Entity::Draft, "")
}

impl PatrolStore {
    fn edit(
        &self,
        user_id: &str,
        draft_id: &str,
        f: impl FnOnce(&mut DraftBody) -> gridpatrol_core::error::Result<()>,
    ) -> Result<()> {
        let actor = self.actor(user_id)?;
        self.store.edit_draft(&actor, id(draft_id)?, f)?;
        Ok(())
    }
}

#[uniffi::export]
impl PatrolStore {
    /// Starts a visit at `place_id` now, with the fix the phone had (None: no fix, and the
    /// visit goes on). Returns the draft's id.
    pub fn start_patrol_draft(
        &self,
        user_id: String,
        place_id: String,
        fix: Option<GpsFix>,
    ) -> Result<String> {
        let actor = self.actor(&user_id)?;
        Ok(self
            .store
            .start_patrol_draft(&actor, id(&place_id)?, sample(fix))?
            .to_string())
    }

    /// Saves one answer at once (None clears it).
    pub fn save_draft_answer(
        &self,
        user_id: String,
        draft_id: String,
        item_key: String,
        answer: Option<Answer>,
    ) -> Result<()> {
        let actor = self.actor(&user_id)?;
        self.store
            .save_draft_answer(&actor, id(&draft_id)?, &item_key, answer.map(Into::into))?;
        Ok(())
    }

    /// Raises (`hazard` given) or stops raising (None) a failed item of a patrol draft, with
    /// its own description and photos.
    pub fn save_draft_item_hazard(
        &self,
        user_id: String,
        draft_id: String,
        item_key: String,
        hazard: Option<ItemHazard>,
    ) -> Result<()> {
        self.edit(&user_id, &draft_id, |body| {
            let DraftBody::Patrol(p) = body else {
                return Err(wrong_kind());
            };
            p.raise.retain(|r| r.item_key != item_key);
            if let Some(h) = hazard {
                p.raise.push(DraftHazard {
                    item_key,
                    description: h.description,
                    photos: h.photos,
                });
            }
            Ok(())
        })
    }

    /// Saves a patrol draft's note, and a later fix if the first had none.
    pub fn save_draft_note(
        &self,
        user_id: String,
        draft_id: String,
        note: String,
        fix: Option<GpsFix>,
    ) -> Result<()> {
        self.edit(&user_id, &draft_id, |body| {
            let DraftBody::Patrol(p) = body else {
                return Err(wrong_kind());
            };
            p.note = note;
            if p.gps.point().is_none() && fix.is_some() {
                p.gps = sample(fix);
            }
            Ok(())
        })
    }

    /// A patrol draft as saved, to resume.
    pub fn patrol_draft(&self, user_id: String, draft_id: String) -> Result<PatrolInProgress> {
        let d = self.store.draft(&self.actor(&user_id)?, id(&draft_id)?)?;
        let DraftBody::Patrol(p) = d.body else {
            return Err(wrong_kind().into());
        };
        Ok(PatrolInProgress {
            draft_id,
            place_id: p.place_id.to_string(),
            started_at_ms: p.started_at,
            fix: fix_of(p.gps),
            answers: p
                .answers
                .into_iter()
                .map(|(key, a)| ItemAnswer {
                    key,
                    answer: a.into(),
                })
                .collect(),
            hazards: p
                .raise
                .into_iter()
                .map(|r| ItemHazard {
                    item_key: r.item_key,
                    description: r.description,
                    photos: r.photos,
                })
                .collect(),
            note: p.note,
        })
    }

    /// Starts a hazard report at `place_id` (隐患上报), with the fix the phone had.
    pub fn start_hazard_draft(
        &self,
        user_id: String,
        place_id: String,
        category: String,
        severity: Severity,
        fix: Option<GpsFix>,
    ) -> Result<String> {
        let actor = self.actor(&user_id)?;
        let body = DraftBody::Hazard(HazardDraft {
            place_id: id(&place_id)?,
            category,
            severity: severity.into(),
            description: String::new(),
            photos: Vec::new(),
            gps: sample(fix),
        });
        Ok(self.store.start_draft(&actor, body)?.to_string())
    }

    /// Saves a hazard draft as the screen has it (category and severity may still change),
    /// and a fix that came after the draft began, if it began with none.
    #[allow(clippy::too_many_arguments)]
    pub fn save_hazard_draft(
        &self,
        user_id: String,
        draft_id: String,
        category: String,
        severity: Severity,
        description: String,
        photos: Vec<String>,
        fix: Option<GpsFix>,
    ) -> Result<()> {
        self.edit(&user_id, &draft_id, |body| {
            let DraftBody::Hazard(h) = body else {
                return Err(wrong_kind());
            };
            (h.category, h.severity) = (category, severity.into());
            (h.description, h.photos) = (description, photos);
            if h.gps.point().is_none() && fix.is_some() {
                h.gps = sample(fix);
            }
            Ok(())
        })
    }

    /// A hazard draft as saved, to resume.
    pub fn hazard_draft(&self, user_id: String, draft_id: String) -> Result<HazardInProgress> {
        let d = self.store.draft(&self.actor(&user_id)?, id(&draft_id)?)?;
        let DraftBody::Hazard(h) = d.body else {
            return Err(wrong_kind().into());
        };
        Ok(HazardInProgress {
            draft_id,
            place_id: h.place_id.to_string(),
            category: h.category,
            severity: h.severity.into(),
            description: h.description,
            photos: h.photos,
            fix: fix_of(h.gps),
        })
    }

    /// Starts a publicity, training, drill or meeting log for `org_id` held on `held_on`
    /// (`YYYY-MM-DD`); a drill or a meeting names its station or committee (`group_id`, of
    /// `org_id`), which defaults to none so a screen of the other kinds calls as before.
    #[uniffi::method(default(group_id))]
    pub fn start_activity_draft(
        &self,
        user_id: String,
        activity: ActivityType,
        org_id: String,
        held_on: String,
        group_id: Option<String>,
    ) -> Result<String> {
        let actor = self.actor(&user_id)?;
        let body = DraftBody::Activity(ActivityDraft {
            activity: activity.into(),
            org_id,
            held_on: held_on.parse().map_err(gridpatrol_core::Error::from)?,
            title: String::new(),
            audience: 0,
            note: String::new(),
            channel: None,
            attendees: Vec::new(),
            photos: Vec::new(),
            trainees: Vec::new(),
            group_id: group_id.as_deref().map(id).transpose()?,
        });
        Ok(self.store.start_draft(&actor, body)?.to_string())
    }

    /// Saves an activity draft as the screen has it: title, audience (人次), note, publicity's
    /// channel, training's attendance list, photos, and training's trainees by account with
    /// their assessment (the head count covers attendees and trainees together). `trainees`
    /// defaults to none, so a screen without the list calls as before.
    #[allow(clippy::too_many_arguments)]
    #[uniffi::method(default(trainees))]
    pub fn save_activity_draft(
        &self,
        user_id: String,
        draft_id: String,
        title: String,
        audience: u32,
        note: String,
        channel: Option<PublicityChannel>,
        attendees: Vec<String>,
        photos: Vec<String>,
        trainees: Vec<Trainee>,
    ) -> Result<()> {
        self.edit(&user_id, &draft_id, |body| {
            let DraftBody::Activity(a) = body else {
                return Err(wrong_kind());
            };
            (a.title, a.audience, a.note) = (title, audience, note);
            (a.channel, a.attendees, a.photos) = (channel.map(Into::into), attendees, photos);
            a.trainees = trainees
                .into_iter()
                .map(|t| gridpatrol_core::activity::Trainee {
                    user_id: t.user_id,
                    passed: t.passed,
                })
                .collect();
            Ok(())
        })
    }

    /// An activity draft as saved, to resume.
    pub fn activity_draft(&self, user_id: String, draft_id: String) -> Result<ActivityInProgress> {
        let d = self.store.draft(&self.actor(&user_id)?, id(&draft_id)?)?;
        let DraftBody::Activity(a) = d.body else {
            return Err(wrong_kind().into());
        };
        Ok(ActivityInProgress {
            draft_id,
            activity: a.activity.into(),
            org_id: a.org_id,
            held_on: a.held_on.to_string(),
            title: a.title,
            audience: a.audience,
            note: a.note,
            channel: a.channel.map(Into::into),
            attendees: a.attendees,
            photos: a.photos,
            trainees: a
                .trainees
                .into_iter()
                .map(|t| Trainee {
                    user_id: t.user_id,
                    passed: t.passed,
                })
                .collect(),
            group_id: a.group_id.map(|g| g.to_string()),
        })
    }

    /// The user's drafts on this device, the last touched first (续填).
    pub fn drafts(&self, user_id: String) -> Result<Vec<DraftSummary>> {
        let rows = self.store.drafts(&self.actor(&user_id)?)?;
        Ok(rows
            .into_iter()
            .map(|r| DraftSummary {
                draft_id: r.id.to_string(),
                kind: match r.kind.as_str() {
                    "patrol" => DraftKind::Patrol,
                    "hazard" => DraftKind::Hazard,
                    _ => DraftKind::Activity,
                },
                place_id: r.place_id.map(|p| p.to_string()),
                place_name: r.place_name,
                started_at_ms: r.started_at,
                updated_at_ms: r.updated_at,
                answered: r.answered,
            })
            .collect())
    }

    /// Submits a draft: the records it makes and the draft's removal happen together, so a
    /// second tap finds nothing (NotFound). Refused, the draft stays as it was.
    pub fn submit_draft(&self, user_id: String, draft_id: String) -> Result<DraftOutcome> {
        let actor = self.actor(&user_id)?;
        Ok(match self.store.submit_draft(&actor, id(&draft_id)?)? {
            Submitted::Patrol(out) => DraftOutcome::Patrol {
                result: patrol_result(out),
            },
            Submitted::Hazard(h) => DraftOutcome::Hazard {
                hazard_id: h.to_string(),
            },
            Submitted::Activity(a) => DraftOutcome::Activity {
                activity_id: a.to_string(),
            },
        })
    }

    /// Throws a draft away; only when the person chose to.
    pub fn discard_draft(&self, user_id: String, draft_id: String) -> Result<()> {
        let actor = self.actor(&user_id)?;
        self.store.discard_draft(&actor, id(&draft_id)?)?;
        Ok(())
    }
}
