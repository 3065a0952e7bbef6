//! Hazards (隐患): what a hazard is and the events of its lifecycle. The state machine is in
//! `lifecycle`; the `hazards` table, the commands and the queries are in `store`.

mod conflict;
pub mod lifecycle;
mod store;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Day;
use crate::org::Role;
use crate::place::GeoPoint;
pub use conflict::Conflict;
use lifecycle::Ctx;
pub(crate) use store::grid_of_hazard;
pub(crate) use store::{overdue_in, put_hazard, report_body};
pub use store::{EventRow, HazardDetail, HazardFilter, HazardRow, NewHazard, REPEAT_WINDOW_DAYS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    General,
    Major,
}

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::General => "general",
            Severity::Major => "major",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Severity::General => "一般隐患",
            Severity::Major => "重大隐患",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardStatus {
    Reported,
    Notified,
    Rectifying,
    AwaitingReview,
    FixedOnSpot,
    Escalated,
    JointEnforcement,
    Referred,
    Closed,
    Withdrawn,
}

impl HazardStatus {
    pub const ALL: [HazardStatus; 10] = [
        HazardStatus::Reported,
        HazardStatus::Notified,
        HazardStatus::Rectifying,
        HazardStatus::AwaitingReview,
        HazardStatus::FixedOnSpot,
        HazardStatus::Escalated,
        HazardStatus::JointEnforcement,
        HazardStatus::Referred,
        HazardStatus::Closed,
        HazardStatus::Withdrawn,
    ];
    pub fn code(self) -> &'static str {
        match self {
            HazardStatus::Reported => "reported",
            HazardStatus::Notified => "notified",
            HazardStatus::Rectifying => "rectifying",
            HazardStatus::AwaitingReview => "awaiting_review",
            HazardStatus::FixedOnSpot => "fixed_on_spot",
            HazardStatus::Escalated => "escalated",
            HazardStatus::JointEnforcement => "joint_enforcement",
            HazardStatus::Referred => "referred",
            HazardStatus::Closed => "closed",
            HazardStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            HazardStatus::Reported => "已上报",
            HazardStatus::Notified => "已下发整改通知",
            HazardStatus::Rectifying => "整改中",
            HazardStatus::AwaitingReview => "待复查",
            HazardStatus::FixedOnSpot => "当场整改",
            HazardStatus::Escalated => "已上报上级",
            HazardStatus::JointEnforcement => "联合执法",
            HazardStatus::Referred => "已移交监督执法部门",
            HazardStatus::Closed => "已销号",
            HazardStatus::Withdrawn => "已撤销",
        }
    }
    pub fn is_final(self) -> bool {
        matches!(self, HazardStatus::Closed | HazardStatus::Withdrawn)
    }
    pub fn parse(s: &str) -> Option<HazardStatus> {
        HazardStatus::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// The level that holds a case: it starts in the grid and moves up by escalation, down by 交办.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Grid,
    Village,
    Township,
}

impl Level {
    pub fn code(self) -> &'static str {
        match self {
            Level::Grid => "grid",
            Level::Village => "village",
            Level::Township => "township",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Level::Grid => "网格",
            Level::Village => "村（社区）",
            Level::Township => "乡镇（街道）",
        }
    }
    fn parse(s: &str) -> Level {
        match s {
            "village" => Level::Village,
            "township" => Level::Township,
            _ => Level::Grid,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    BeyondPower,
    Major,
    NeedsEnforcement,
    OwnerRefuses,
    ReworkTwice,
    Overdue,
    ImminentDanger,
}

impl EscalationReason {
    pub fn zh(self) -> &'static str {
        match self {
            EscalationReason::BeyondPower => "超出本级权限",
            EscalationReason::Major => "重大隐患",
            EscalationReason::NeedsEnforcement => "需要执法",
            EscalationReason::OwnerRefuses => "责任人拒不整改",
            EscalationReason::ReworkTwice => "两次复查未通过",
            EscalationReason::Overdue => "逾期未整改",
            EscalationReason::ImminentDanger => "存在紧急危险",
        }
    }
}

/// Where a hazard came from when it was raised from a checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HazardSource {
    pub patrol_id: Uuid,
    pub template_id: String,
    pub template_version: u32,
    pub item_key: String,
}

/// The report event's content. The place's grid, village, township and type are copied in when
/// the hazard is raised, so folding a hazard never needs to look anything else up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HazardReport {
    pub place_id: Uuid,
    pub place_type: String,
    pub grid_id: String,
    pub village_id: String,
    pub township_id: String,
    pub category: String,
    pub severity: Severity,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<HazardSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HazardEvent {
    Report(Box<HazardReport>),
    Notify {
        responsible_party: String,
        deadline: Day,
        #[serde(default)]
        note: String,
    },
    StartRectification {
        #[serde(default)]
        note: String,
    },
    SubmitRectification {
        #[serde(default)]
        note: String,
        #[serde(default)]
        photos: Vec<String>,
    },
    FixOnSpot {
        #[serde(default)]
        note: String,
        before_photo: Option<String>,
        after_photo: Option<String>,
    },
    Review {
        passed: bool,
        #[serde(default)]
        note: String,
        new_deadline: Option<Day>,
    },
    RequestExtension {
        reason: String,
        proposed_deadline: Day,
        interim_measures: String,
    },
    DecideExtension {
        approved: bool,
        basis: String,
    },
    Escalate {
        to: Level,
        reason: EscalationReason,
        #[serde(default)]
        note: String,
    },
    HandBack {
        to: Level,
        guidance: String,
        deadline: Day,
    },
    JointEnforcement {
        departments: String,
        #[serde(default)]
        note: String,
    },
    Refer {
        department: String,
        case_number: String,
        #[serde(default)]
        note: String,
    },
    RecordOutcome {
        outcome: String,
    },
    Supervise {
        #[serde(default)]
        note: String,
    },
    Withdraw {
        reason: String,
    },
}

impl HazardEvent {
    /// The event's verb, as named in rejections and the CLI.
    pub fn verb(&self) -> &'static str {
        match self {
            HazardEvent::Report(_) => "report",
            HazardEvent::Notify { .. } => "notify",
            HazardEvent::StartRectification { .. } => "start_rectification",
            HazardEvent::SubmitRectification { .. } => "submit_rectification",
            HazardEvent::FixOnSpot { .. } => "fix_on_spot",
            HazardEvent::Review { .. } => "review",
            HazardEvent::RequestExtension { .. } => "request_extension",
            HazardEvent::DecideExtension { .. } => "decide_extension",
            HazardEvent::Escalate { .. } => "escalate",
            HazardEvent::HandBack { .. } => "hand_back",
            HazardEvent::JointEnforcement { .. } => "joint_enforcement",
            HazardEvent::Refer { .. } => "refer",
            HazardEvent::RecordOutcome { .. } => "record_outcome",
            HazardEvent::Supervise { .. } => "supervise",
            HazardEvent::Withdraw { .. } => "withdraw",
        }
    }
    /// The op kind in the log.
    pub fn kind(&self) -> &'static str {
        match self {
            HazardEvent::Report(_) => "hazard.report",
            HazardEvent::Notify { .. } => "hazard.notify",
            HazardEvent::StartRectification { .. } => "hazard.start_rectification",
            HazardEvent::SubmitRectification { .. } => "hazard.submit_rectification",
            HazardEvent::FixOnSpot { .. } => "hazard.fix_on_spot",
            HazardEvent::Review { .. } => "hazard.review",
            HazardEvent::RequestExtension { .. } => "hazard.request_extension",
            HazardEvent::DecideExtension { .. } => "hazard.decide_extension",
            HazardEvent::Escalate { .. } => "hazard.escalate",
            HazardEvent::HandBack { .. } => "hazard.hand_back",
            HazardEvent::JointEnforcement { .. } => "hazard.joint_enforcement",
            HazardEvent::Refer { .. } => "hazard.refer",
            HazardEvent::RecordOutcome { .. } => "hazard.record_outcome",
            HazardEvent::Supervise { .. } => "hazard.supervise",
            HazardEvent::Withdraw { .. } => "hazard.withdraw",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingExtension {
    pub requested_by: String,
    pub proposed_deadline: Day,
    pub reason: String,
    pub interim_measures: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnSpotFix {
    pub by: String,
    pub with_before_and_after_photos: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub department: String,
    pub case_number: String,
}

/// The folded state of one hazard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hazard {
    pub id: Uuid,
    pub report: HazardReport,
    pub reporter_id: String,
    pub reporter_role: Role,
    pub reported_at: i64,
    pub status: HazardStatus,
    pub level: Level,
    pub severity: Severity,
    pub deadline: Option<Day>,
    pub responsible_party: Option<String>,
    pub rework_count: u32,
    /// Ever escalated out of the grid: such a case never counts as closed in the grid.
    pub escalated: bool,
    pub supervised: bool,
    pub pending_extension: Option<PendingExtension>,
    pub extensions_granted: u32,
    pub submitted_by: Option<String>,
    pub on_spot: Option<OnSpotFix>,
    pub referral: Option<Referral>,
    pub closed_at: Option<i64>,
    pub closed_on_time: Option<bool>,
    pub withdrawn_reason: Option<String>,
    pub last_event_at: i64,
}

impl Hazard {
    fn reported(id: Uuid, r: HazardReport, ctx: Ctx<'_>) -> Hazard {
        Hazard {
            id,
            severity: r.severity,
            report: HazardReport {
                description: r.description.trim().to_string(),
                ..r
            },
            reporter_id: ctx.actor_id.to_string(),
            reporter_role: ctx.role,
            reported_at: ctx.at.wall_ms(),
            status: HazardStatus::Reported,
            level: Level::Grid,
            deadline: None,
            responsible_party: None,
            rework_count: 0,
            escalated: false,
            supervised: false,
            pending_extension: None,
            extensions_granted: 0,
            submitted_by: None,
            on_spot: None,
            referral: None,
            closed_at: None,
            closed_on_time: None,
            withdrawn_reason: None,
            last_event_at: ctx.at.wall_ms(),
        }
    }
}
