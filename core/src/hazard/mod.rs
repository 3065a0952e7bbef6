//! Hazards (隐患): what a hazard is, its vocabulary (status, severity, level, verbs) and the
//! events of its lifecycle. The state machine is in `lifecycle`; what is derived from a state
//! (overdue, escalation due, the next steps allowed) in `derived`; form fields become events in
//! `form`; the `hazards` table, the commands and the queries are in `store`.

mod conflict;
pub mod derived;
pub mod form;
pub mod lifecycle;
pub mod notice;
mod numbering;
mod rejection;
mod store;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::vocab::vocabulary;

use crate::clock::Day;
use crate::error::Field;
use crate::org::Role;
use crate::place::GeoPoint;
pub use conflict::Conflict;
pub use derived::days_overdue;
use lifecycle::Ctx;
pub(crate) use store::grid_of_hazard;
pub(crate) use store::{overdue_at, put_hazard, report_body, stored_state};
pub use store::{EventRow, HazardDetail, HazardFilter, HazardRow, NewHazard, REPEAT_WINDOW_DAYS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    General,
    Major,
}

vocabulary!(Severity, Field::Severity, {
    General => ("general", "一般隐患"),
    Major => ("major", "重大隐患"),
});

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

vocabulary!(HazardStatus, Field::Status, {
    Reported => ("reported", "已上报"),
    Notified => ("notified", "已下发整改通知"),
    Rectifying => ("rectifying", "整改中"),
    AwaitingReview => ("awaiting_review", "待复查"),
    FixedOnSpot => ("fixed_on_spot", "当场整改"),
    Escalated => ("escalated", "已上报上级"),
    JointEnforcement => ("joint_enforcement", "联合执法"),
    Referred => ("referred", "已移交监督执法部门"),
    Closed => ("closed", "已销号"),
    Withdrawn => ("withdrawn", "已撤销"),
});

impl HazardStatus {
    pub fn is_final(self) -> bool {
        matches!(self, HazardStatus::Closed | HazardStatus::Withdrawn)
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

vocabulary!(Level, Field::Level, {
    Grid => ("grid", "网格"),
    Village => ("village", "村（社区）"),
    Township => ("township", "乡镇（街道）"),
});

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

vocabulary!(EscalationReason, Field::Cause, {
    BeyondPower => ("beyond_power", "超出本级权限"),
    Major => ("major", "重大隐患"),
    NeedsEnforcement => ("needs_enforcement", "需要执法"),
    OwnerRefuses => ("owner_refuses", "责任人拒不整改"),
    ReworkTwice => ("rework_twice", "两次复查未通过"),
    Overdue => ("overdue", "逾期未整改"),
    ImminentDanger => ("imminent_danger", "存在紧急危险"),
});

/// What a person does to a hazard: the kind of a `HazardEvent`, as buttons, rejections, the
/// command line and forms name it. The labels are the regulation's and DOMAIN.md's verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Report,
    Notify,
    StartRectification,
    SubmitRectification,
    FixOnSpot,
    Review,
    RequestExtension,
    DecideExtension,
    Escalate,
    HandBack,
    JointEnforcement,
    Refer,
    RecordOutcome,
    Supervise,
    Reclassify,
    SettleConflict,
    CaseNumber,
    Withdraw,
}

vocabulary!(Verb, Field::Verb, {
    Report => ("report", "上报隐患"),
    Notify => ("notify", "下发整改通知"),
    StartRectification => ("start_rectification", "开始整改"),
    SubmitRectification => ("submit_rectification", "提交整改"),
    FixOnSpot => ("fix_on_spot", "当场整改"),
    Review => ("review", "复查"),
    RequestExtension => ("request_extension", "申请延期"),
    DecideExtension => ("decide_extension", "审批延期"),
    Escalate => ("escalate", "上报上级"),
    HandBack => ("hand_back", "交办"),
    JointEnforcement => ("joint_enforcement", "组织联合执法"),
    Refer => ("refer", "移交监督执法部门"),
    RecordOutcome => ("record_outcome", "登记处理结果"),
    Supervise => ("supervise", "挂牌督办"),
    Reclassify => ("reclassify", "认定隐患等级"),
    SettleConflict => ("settle_conflict", "标记冲突已处理"),
    CaseNumber => ("case_number", "编号"),
    Withdraw => ("withdraw", "撤销"),
});

impl Verb {
    /// The event's verb.
    pub fn of(event: &HazardEvent) -> Verb {
        match event {
            HazardEvent::Report(_) => Verb::Report,
            HazardEvent::Notify { .. } => Verb::Notify,
            HazardEvent::StartRectification { .. } => Verb::StartRectification,
            HazardEvent::SubmitRectification { .. } => Verb::SubmitRectification,
            HazardEvent::FixOnSpot { .. } => Verb::FixOnSpot,
            HazardEvent::Review { .. } => Verb::Review,
            HazardEvent::RequestExtension { .. } => Verb::RequestExtension,
            HazardEvent::DecideExtension { .. } => Verb::DecideExtension,
            HazardEvent::Escalate { .. } => Verb::Escalate,
            HazardEvent::HandBack { .. } => Verb::HandBack,
            HazardEvent::JointEnforcement { .. } => Verb::JointEnforcement,
            HazardEvent::Refer { .. } => Verb::Refer,
            HazardEvent::RecordOutcome { .. } => Verb::RecordOutcome,
            HazardEvent::Supervise { .. } => Verb::Supervise,
            HazardEvent::Reclassify { .. } => Verb::Reclassify,
            HazardEvent::SettleConflict { .. } => Verb::SettleConflict,
            HazardEvent::CaseNumber { .. } => Verb::CaseNumber,
            HazardEvent::Withdraw { .. } => Verb::Withdraw,
        }
    }

    /// The English name, for the bilingual console.
    pub fn en(self) -> &'static str {
        match self {
            Verb::Report => "Report",
            Verb::Notify => "Notify",
            Verb::StartRectification => "Start",
            Verb::SubmitRectification => "Submit",
            Verb::FixOnSpot => "Fixed on the spot",
            Verb::Review => "Verify",
            Verb::RequestExtension => "Ask for more time",
            Verb::DecideExtension => "Decide on more time",
            Verb::Escalate => "Escalate",
            Verb::HandBack => "Hand back",
            Verb::JointEnforcement => "Joint enforcement",
            Verb::Refer => "Refer",
            Verb::RecordOutcome => "Record the outcome",
            Verb::Supervise => "Supervise",
            Verb::Reclassify => "Judge the severity",
            Verb::SettleConflict => "Mark the conflict handled",
            Verb::CaseNumber => "Numbered",
            Verb::Withdraw => "Withdraw",
        }
    }

    /// The op kind in the log; op kinds are static strings everywhere else.
    pub fn kind(self) -> &'static str {
        match self {
            Verb::Report => "hazard.report",
            Verb::Notify => "hazard.notify",
            Verb::StartRectification => "hazard.start_rectification",
            Verb::SubmitRectification => "hazard.submit_rectification",
            Verb::FixOnSpot => "hazard.fix_on_spot",
            Verb::Review => "hazard.review",
            Verb::RequestExtension => "hazard.request_extension",
            Verb::DecideExtension => "hazard.decide_extension",
            Verb::Escalate => "hazard.escalate",
            Verb::HandBack => "hazard.hand_back",
            Verb::JointEnforcement => "hazard.joint_enforcement",
            Verb::Refer => "hazard.refer",
            Verb::RecordOutcome => "hazard.record_outcome",
            Verb::Supervise => "hazard.supervise",
            Verb::Reclassify => "hazard.reclassify",
            Verb::SettleConflict => "hazard.settle_conflict",
            Verb::CaseNumber => "hazard.case_number",
            Verb::Withdraw => "hazard.withdraw",
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
    /// The township takes the case to joint enforcement, by a 办结期限 (`deadline`; ops made
    /// before version 6 carry none).
    JointEnforcement {
        departments: String,
        #[serde(default)]
        note: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<Day>,
    },
    Refer {
        department: String,
        case_number: String,
        #[serde(default)]
        note: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<Day>,
    },
    RecordOutcome {
        outcome: String,
    },
    /// 挂牌督办, with its 督办期限 (`deadline`; ops made before version 6 carry none).
    Supervise {
        #[serde(default)]
        note: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<Day>,
    },
    /// The township judges the case's severity otherwise (a general hazard raised to major, so
    /// it can go under 挂牌督办, or the reverse), with its reason.
    Reclassify {
        severity: Severity,
        reason: String,
    },
    /// A conflicted event of this case has been looked at and sorted out (`note` says how): it
    /// stays in the case's history and leaves the conflicts to handle.
    SettleConflict {
        op_id: Uuid,
        note: String,
    },
    /// The case's short number (编号, e.g. T01-2026-00017), given by the server when the case
    /// first reaches it; a phone shows 待编号 until then. Never pushed by a device.
    CaseNumber {
        number: String,
    },
    Withdraw {
        reason: String,
    },
}

impl HazardEvent {
    /// The code of the event's verb (`Verb::of(ev).code()`), as rejections, timelines and the
    /// console name it.
    pub fn verb(&self) -> &'static str {
        Verb::of(self).code()
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

/// The folded state of one hazard. It is stored as JSON in every case's row, so what is unset
/// is left out rather than written as `null` (a fifth of an open case's body).
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_party: Option<String>,
    pub rework_count: u32,
    /// Ever escalated out of the grid: such a case never counts as closed in the grid.
    pub escalated: bool,
    pub supervised: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_extension: Option<PendingExtension>,
    pub extensions_granted: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_spot: Option<OnSpotFix>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<Referral>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_on_time: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_reason: Option<String>,
    pub last_event_at: i64,
    /// Conflicted events of this case marked handled (off the conflicts to handle).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settled_conflicts: Vec<Uuid>,
    /// The server's short number for the case; `None` (待编号) until it has reached the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
}

/// How a case is named to people: its number, or 待编号 with the tail of its id until the
/// server has numbered it.
pub fn case_label(number: Option<&str>, id: &Uuid) -> String {
    match number {
        Some(n) => n.to_string(),
        None => format!("待编号 {}", crate::op::short_id(&id.to_string())),
    }
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
            settled_conflicts: Vec::new(),
            case_number: None,
        }
    }
}
