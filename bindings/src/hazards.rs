//! The hazard lifecycle as the apps see it: a case's summary, timeline and detail, severity
//! and levels, and `Transition`, a step of the lifecycle with what the person entered, built
//! into the core's event by the core's one form builder.

use gridpatrol_core::hazard::form::{decision_code, event_from_form};
use gridpatrol_core::hazard::{self, EscalationReason, HazardEvent, Verb};

use crate::error::GridPatrolError;
use crate::records::PhotoPair;

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Severity {
    General,
    Major,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct NewHazard {
    pub place_id: String,
    pub category: String,
    pub severity: Severity,
    pub description: String,
    /// Photos by the SHA-256 (lower-case hex) of their original files.
    pub photos: Vec<String>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct HazardSummary {
    pub id: String,
    pub place_id: String,
    pub grid_id: String,
    pub category: String,
    pub category_zh: String,
    pub severity: Severity,
    pub status: String,
    pub status_zh: String,
    pub level: OrgLevelCode,
    pub deadline: Option<String>,
    pub days_overdue: Option<i32>,
    pub reported_at_ms: i64,
    /// How people name the case: the server's number, or 待编号 until the first sync.
    pub case_label: String,
}

/// One entry of a hazard's timeline.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TimelineEvent {
    pub op_id: String,
    pub verb: String,
    pub actor_id: String,
    pub actor_role_zh: String,
    /// The phone's own clock when it was done (for display).
    pub device_time_ms: i64,
    /// Why it did not apply, when it collided with another action.
    pub conflict_zh: Option<String>,
    pub conflict_en: Option<String>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct HazardDetail {
    pub summary: HazardSummary,
    pub description: String,
    pub responsible_party: Option<String>,
    pub photos: Vec<String>,
    pub rework_count: u32,
    pub escalation_due_zh: Option<String>,
    pub timeline: Vec<TimelineEvent>,
    /// Before and after photos paired, for the verifier.
    pub photo_pairs: Vec<PhotoPair>,
    /// What this user may do next, as `Transition` verbs (`notify`, `review`, ...).
    pub allowed: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OrgLevelCode {
    Grid,
    Village,
    Township,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EscalationCause {
    BeyondPower,
    Major,
    NeedsEnforcement,
    OwnerRefuses,
    ReworkTwice,
    Overdue,
    ImminentDanger,
}

/// A step in a hazard's life, with what the person entered. Days are `YYYY-MM-DD`.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum Transition {
    Notify {
        responsible_party: String,
        deadline: String,
        note: String,
    },
    StartRectification {
        note: String,
    },
    SubmitRectification {
        note: String,
        photos: Vec<String>,
    },
    FixOnSpot {
        note: String,
        before_photo: String,
        after_photo: String,
    },
    Review {
        passed: bool,
        note: String,
        new_deadline: Option<String>,
    },
    RequestExtension {
        reason: String,
        proposed_deadline: String,
        interim_measures: String,
    },
    DecideExtension {
        approved: bool,
        basis: String,
    },
    Escalate {
        to: OrgLevelCode,
        cause: EscalationCause,
        note: String,
    },
    HandBack {
        to: OrgLevelCode,
        guidance: String,
        deadline: String,
    },
    JointEnforcement {
        departments: String,
        note: String,
    },
    Refer {
        department: String,
        case_number: String,
        note: String,
    },
    RecordOutcome {
        outcome: String,
    },
    Supervise {
        note: String,
    },
    Withdraw {
        reason: String,
    },
}

impl From<gridpatrol_core::hazard::Severity> for Severity {
    fn from(s: gridpatrol_core::hazard::Severity) -> Self {
        match s {
            gridpatrol_core::hazard::Severity::General => Severity::General,
            gridpatrol_core::hazard::Severity::Major => Severity::Major,
        }
    }
}

impl From<Severity> for gridpatrol_core::hazard::Severity {
    fn from(s: Severity) -> Self {
        match s {
            Severity::General => gridpatrol_core::hazard::Severity::General,
            Severity::Major => gridpatrol_core::hazard::Severity::Major,
        }
    }
}

impl From<hazard::Level> for OrgLevelCode {
    fn from(l: hazard::Level) -> Self {
        match l {
            hazard::Level::Grid => OrgLevelCode::Grid,
            hazard::Level::Village => OrgLevelCode::Village,
            hazard::Level::Township => OrgLevelCode::Township,
        }
    }
}

impl From<OrgLevelCode> for hazard::Level {
    fn from(l: OrgLevelCode) -> Self {
        match l {
            OrgLevelCode::Grid => hazard::Level::Grid,
            OrgLevelCode::Village => hazard::Level::Village,
            OrgLevelCode::Township => hazard::Level::Township,
        }
    }
}

impl From<EscalationCause> for EscalationReason {
    fn from(c: EscalationCause) -> Self {
        match c {
            EscalationCause::BeyondPower => EscalationReason::BeyondPower,
            EscalationCause::Major => EscalationReason::Major,
            EscalationCause::NeedsEnforcement => EscalationReason::NeedsEnforcement,
            EscalationCause::OwnerRefuses => EscalationReason::OwnerRefuses,
            EscalationCause::ReworkTwice => EscalationReason::ReworkTwice,
            EscalationCause::Overdue => EscalationReason::Overdue,
            EscalationCause::ImminentDanger => EscalationReason::ImminentDanger,
        }
    }
}

impl Transition {
    /// The event, built by the core's one form builder from the fields this transition
    /// carries, so a day or a code is read here exactly as the console and the CLI read it.
    pub(crate) fn into_event(self) -> Result<HazardEvent, GridPatrolError> {
        let level = |l: OrgLevelCode| hazard::Level::from(l).code().to_string();
        let (verb, fields): (Verb, Vec<(&str, String)>) = match self {
            Transition::Notify {
                responsible_party,
                deadline,
                note,
            } => (
                Verb::Notify,
                vec![
                    ("responsible_party", responsible_party),
                    ("deadline", deadline),
                    ("note", note),
                ],
            ),
            Transition::StartRectification { note } => {
                (Verb::StartRectification, vec![("note", note)])
            }
            Transition::SubmitRectification { note, photos } => {
                let mut f = vec![("note", note)];
                f.extend(photos.into_iter().map(|p| ("photo", p)));
                (Verb::SubmitRectification, f)
            }
            Transition::FixOnSpot {
                note,
                before_photo,
                after_photo,
            } => (
                Verb::FixOnSpot,
                vec![
                    ("note", note),
                    ("before_photo", before_photo),
                    ("after_photo", after_photo),
                ],
            ),
            Transition::Review {
                passed,
                note,
                new_deadline,
            } => {
                let mut f = vec![
                    ("passed", decision_code(passed).to_string()),
                    ("note", note),
                ];
                f.extend(new_deadline.map(|d| ("new_deadline", d)));
                (Verb::Review, f)
            }
            Transition::RequestExtension {
                reason,
                proposed_deadline,
                interim_measures,
            } => (
                Verb::RequestExtension,
                vec![
                    ("reason", reason),
                    ("proposed_deadline", proposed_deadline),
                    ("interim_measures", interim_measures),
                ],
            ),
            Transition::DecideExtension { approved, basis } => (
                Verb::DecideExtension,
                vec![
                    ("approved", decision_code(approved).to_string()),
                    ("basis", basis),
                ],
            ),
            Transition::Escalate { to, cause, note } => (
                Verb::Escalate,
                vec![
                    ("to", level(to)),
                    ("reason", EscalationReason::from(cause).code().to_string()),
                    ("note", note),
                ],
            ),
            Transition::HandBack {
                to,
                guidance,
                deadline,
            } => (
                Verb::HandBack,
                vec![
                    ("to", level(to)),
                    ("guidance", guidance),
                    ("deadline", deadline),
                ],
            ),
            Transition::JointEnforcement { departments, note } => (
                Verb::JointEnforcement,
                vec![("departments", departments), ("note", note)],
            ),
            Transition::Refer {
                department,
                case_number,
                note,
            } => (
                Verb::Refer,
                vec![
                    ("department", department),
                    ("case_number", case_number),
                    ("note", note),
                ],
            ),
            Transition::RecordOutcome { outcome } => {
                (Verb::RecordOutcome, vec![("outcome", outcome)])
            }
            Transition::Supervise { note } => (Verb::Supervise, vec![("note", note)]),
            Transition::Withdraw { reason } => (Verb::Withdraw, vec![("reason", reason)]),
        };
        Ok(event_from_form(verb.code(), fields).map_err(gridpatrol_core::Error::from)?)
    }
}
