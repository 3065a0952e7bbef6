//! The records and enums the apps see. Ids are UUID strings, days are `YYYY-MM-DD` (China
//! Standard Time), instants are Unix milliseconds; every coded value comes with its zh-CN label
//! so the apps never keep a second copy of the vocabulary.

use crate::hazards::Severity;
use gridpatrol_core::checklist::{library, AnswerValue, ItemKind};
use gridpatrol_core::sync::engine::Progress;

/// How a device store is opened.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DeviceConfig {
    /// A fixed clock (Unix ms) for training and tests; `None` reads the system clock.
    pub fixed_clock_ms: Option<i64>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct DuePatrol {
    pub place_id: String,
    pub name: String,
    pub address: String,
    pub place_type_zh: String,
    pub grid_id: String,
    pub risk_zh: String,
    pub next_due: String,
    pub days_overdue: i32,
    pub last_patrol_ms: Option<i64>,
    /// Registered on patrol and not yet confirmed by the village or township (新增).
    pub pending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ItemType {
    PassFail,
    Number,
    Select,
    Text,
    Photo,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct ChecklistItem {
    pub key: String,
    pub label: String,
    pub item_type: ItemType,
    pub options: Vec<String>,
    pub unit: Option<String>,
    pub photo_on_fail: bool,
    /// How a failure here reads as a hazard (the library's wording), to prefill and edit.
    pub failure_wording: String,
    /// What the place's last patrol answered here.
    pub last_answer: Option<Answer>,
    /// This item failed at the place's last patrol.
    pub failed_last_time: bool,
    /// The patrol plan asks to look at this item first.
    pub focus: bool,
}

/// A place with the checklist to run there.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PatrolForm {
    pub place_id: String,
    pub place_name: String,
    pub template_name: String,
    pub template_version: u32,
    pub items: Vec<ChecklistItem>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Answer {
    Pass,
    Fail,
    NotApplicable,
    Number {
        value: f64,
    },
    Choice {
        value: String,
    },
    Text {
        value: String,
    },
    /// A photo by the SHA-256 (lower-case hex) of its original file.
    Photo {
        sha256: String,
    },
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct ItemAnswer {
    pub key: String,
    pub answer: Answer,
}

/// A finished visit, as the checklist screen submits it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PatrolDraft {
    pub place_id: String,
    /// When the visit began, by the phone's clock (Unix ms).
    pub started_at_ms: i64,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub answers: Vec<ItemAnswer>,
    /// Failed items to raise as hazards right away, with the library's prefilled text.
    pub raise_items: Vec<String>,
    pub note: String,
    /// Photos of failed items (by item key, each a kept photo's SHA-256 from `add_photo_file`):
    /// an item marked `photo_on_fail` is raised only with one.
    #[uniffi(default)]
    pub item_photos: Vec<ItemPhoto>,
}

/// A photo of one failed item.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ItemPhoto {
    pub key: String,
    pub sha256: String,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct HazardProposal {
    pub item_key: String,
    pub description: String,
    pub severity: Severity,
    pub suggested_deadline: String,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct PatrolResult {
    pub patrol_id: String,
    pub hazard_ids: Vec<String>,
    /// Failed items not raised: offered to the worker, prefilled.
    pub proposals: Vec<HazardProposal>,
}

/// The figures of one grid, village or township over a period.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ReportFigures {
    pub scope_id: String,
    pub scope_name: String,
    pub from: String,
    pub to: String,
    pub hazards_reported: u32,
    pub withdrawn: u32,
    pub closed: u32,
    pub closed_on_time: u32,
    /// Closed cases that never had a deadline: a gap in the data, left out of 按期整改率.
    pub closed_without_deadline: u32,
    pub general_closed: u32,
    pub general_closed_in_grid: u32,
    pub escalated: u32,
    pub overdue_count: u32,
    /// The day `overdue_count` was counted at (`YYYY-MM-DD`): the period's end, or today.
    pub overdue_as_of: String,
    pub patrols: u32,
    /// 闭环率, 按期整改率, 一般隐患网格内闭环率, 巡查覆盖率 (0 to 1; none when nothing to count).
    pub closure_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub in_grid_closure_rate: Option<f64>,
    pub coverage_rate: Option<f64>,
    /// 火灾情况: fires that broke out in the period, and the deaths, injuries and direct loss
    /// (元) in them.
    pub fires: u32,
    pub deaths: u32,
    pub injuries: u32,
    pub loss_yuan: u64,
    /// Grid workers with an account in the scope, those at a training in the period, and the
    /// assessments (考核) held there and passed: 考核合格率 is `pass_rate`.
    pub grid_workers: u32,
    pub grid_workers_trained: u32,
    pub trained_rate: Option<f64>,
    pub assessed: u32,
    pub passed: u32,
    pub pass_rate: Option<f64>,
    /// Active places, and those with a letter or pledge in force at the period's end
    /// (责任书签订率 is `signed_rate`); villages, and those with a fire pact in force.
    pub places: u32,
    pub places_signed: u32,
    pub signed_rate: Option<f64>,
    pub villages: u32,
    pub villages_with_pact: u32,
    /// Active stations, teams and committees (消防安全委员会 and 村领导小组 together), and the
    /// members of the stations and teams.
    pub micro_stations: u32,
    pub volunteer_teams: u32,
    pub committees: u32,
    pub members: u32,
    /// The stations' and teams' equipment items, those due for a check at the period's end
    /// (never checked, or past their cycle) and those past their refill or replacement date.
    pub equipment_items: u32,
    pub equipment_due: u32,
    pub equipment_expired: u32,
    /// 消防演练 held in the period and the people at them (人次), and committee meetings.
    pub drills: u32,
    pub drill_attendance: u64,
    pub meetings: u32,
}

#[derive(Debug, Clone, uniffi::Enum)]
pub enum SyncProgress {
    Pushed {
        done: u64,
        total: u64,
    },
    Received {
        ops: u64,
    },
    Pulled {
        ops: u64,
    },
    /// The server sent the device back to a snapshot; its own unsent work is kept.
    Restarted,
    /// Photos, after the data.
    Photos {
        done: u64,
        total: u64,
    },
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncReport {
    pub pushed: u64,
    pub refused: u64,
    pub pulled: u64,
    pub photos_sent: u64,
    pub photos_failed: u64,
}

/// What a photo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PhotoKind {
    Before,
    After,
    Notice,
    Document,
}

impl From<PhotoKind> for gridpatrol_core::photo::PhotoRole {
    fn from(k: PhotoKind) -> Self {
        use gridpatrol_core::photo::PhotoRole as R;
        match k {
            PhotoKind::Before => R::Before,
            PhotoKind::After => R::After,
            PhotoKind::Notice => R::Notice,
            PhotoKind::Document => R::Document,
        }
    }
}

/// Which file of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PhotoVariant {
    Thumb,
    Display,
    Original,
}

impl From<PhotoVariant> for gridpatrol_core::photo::Variant {
    fn from(v: PhotoVariant) -> Self {
        use gridpatrol_core::photo::Variant as V;
        match v {
            PhotoVariant::Thumb => V::Thumb,
            PhotoVariant::Display => V::Display,
            PhotoVariant::Original => V::Original,
        }
    }
}

/// A photo just taken, with where and when, for `capture_photo`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PhotoCaptureInput {
    /// The file the camera wrote (kept unmodified under its SHA-256).
    pub path: String,
    pub place_id: String,
    pub hazard_id: Option<String>,
    pub kind: PhotoKind,
    pub taken_at_ms: i64,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accuracy_m: Option<f64>,
    /// The OS said the position came from a mock provider.
    pub mock_location: bool,
}

/// A before photo and the after photo taken nearest to it, with the distance between them.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PhotoPair {
    pub before: String,
    pub after: String,
    pub distance_m: Option<f64>,
}

/// A photo of this device not yet sent, with the last failure if it keeps failing.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PendingPhoto {
    pub sha256: String,
    pub sent_bytes: i64,
    pub size: Option<i64>,
    pub attempts: u32,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncStatus {
    pub user_id: Option<String>,
    pub server: Option<String>,
    pub pending_ops: u64,
    pub last_sync_ms: Option<i64>,
    pub refused_ops: u64,
    pub conflicts: u64,
    /// Photos waiting to be sent ("data synced, N photos pending").
    pub photos_pending: u64,
}

/// A record the server refused, kept on the device with its reason.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RefusedOp {
    pub op_id: String,
    pub kind: String,
    pub code: String,
    pub zh: String,
    pub en: String,
}

/// Two offline actions that collided, listed for the level that sorts them out.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ConflictItem {
    pub hazard_id: String,
    pub actor_id: String,
    pub verb: String,
    pub rival_actor_id: Option<String>,
    pub rival_verb: Option<String>,
    pub listed_for_zh: String,
    pub reason_zh: String,
    pub reason_en: String,
}

impl From<ItemKind> for ItemType {
    fn from(k: ItemKind) -> Self {
        match k {
            ItemKind::PassFail => ItemType::PassFail,
            ItemKind::Number => ItemType::Number,
            ItemKind::Select => ItemType::Select,
            ItemKind::Text => ItemType::Text,
            ItemKind::Photo => ItemType::Photo,
        }
    }
}

impl From<Answer> for AnswerValue {
    fn from(a: Answer) -> Self {
        match a {
            Answer::Pass => AnswerValue::Pass,
            Answer::Fail => AnswerValue::Fail,
            Answer::NotApplicable => AnswerValue::NotApplicable,
            Answer::Number { value } => AnswerValue::Number(value),
            Answer::Choice { value } => AnswerValue::Choice(value),
            Answer::Text { value } => AnswerValue::Text(value),
            Answer::Photo { sha256 } => AnswerValue::Photo(sha256),
        }
    }
}

impl From<AnswerValue> for Answer {
    fn from(a: AnswerValue) -> Self {
        match a {
            AnswerValue::Pass => Answer::Pass,
            AnswerValue::Fail => Answer::Fail,
            AnswerValue::NotApplicable => Answer::NotApplicable,
            AnswerValue::Number(value) => Answer::Number { value },
            AnswerValue::Choice(value) => Answer::Choice { value },
            AnswerValue::Text(value) => Answer::Text { value },
            AnswerValue::Photo(sha256) => Answer::Photo { sha256 },
        }
    }
}

impl From<Progress> for SyncProgress {
    fn from(p: Progress) -> Self {
        let n = |x: usize| x as u64;
        match p {
            Progress::Pushed { done, total } => SyncProgress::Pushed {
                done: n(done),
                total: n(total),
            },
            Progress::Received { ops } => SyncProgress::Received { ops: n(ops) },
            Progress::Pulled { ops } => SyncProgress::Pulled { ops: n(ops) },
            Progress::Restarted => SyncProgress::Restarted,
            Progress::Photos { done, total } => SyncProgress::Photos {
                done: n(done),
                total: n(total),
            },
        }
    }
}

pub(crate) fn category_zh(code: &str) -> String {
    library().category_zh(code).to_string()
}

pub(crate) fn place_type_zh(code: &str) -> String {
    library().place_type_zh(code).to_string()
}
