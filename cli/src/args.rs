//! The command line's shapes: the arguments of each subcommand. Coded values are the core's
//! codes, read by the core's own parsers (`FromStr`), so the CLI accepts exactly what the
//! console and the apps do.

use clap::{Args, Subcommand};
use gridpatrol_core::activity::ActivityKind;
use gridpatrol_core::hazard::Severity;
use gridpatrol_core::photo::PhotoRole;

#[derive(Args)]
pub struct AsUser {
    /// The acting user's id.
    #[arg(long = "as", env = "GRIDPATROL_USER")]
    pub(crate) user: String,
}

#[derive(Args)]
pub struct PlaceRef {
    /// Place id, or a unique tail of it (6+ characters).
    pub(crate) place: String,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PlaceArgs {
    #[command(subcommand)]
    pub(crate) action: Option<PlaceCmd>,
    /// Place id, or a unique tail of it (6+ characters): shows its file (一户一档).
    pub(crate) place: Option<String>,
}

/// Registering a place found on patrol, or correcting one.
#[derive(Subcommand)]
pub enum PlaceCmd {
    /// Register a place found on patrol (it is marked for the village or township to confirm).
    Add {
        #[command(flatten)]
        who: AsUser,
        #[arg(long)]
        grid: String,
        /// The place type: its code or its Chinese name (出租房, 小饭店, ...).
        #[arg(long = "type")]
        place_type: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        address: String,
        /// high, medium or low (高风险, 中风险, 低风险).
        #[arg(long, default_value = "medium")]
        risk: String,
        #[arg(long, default_value = "")]
        responsible: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long, requires = "lon")]
        lat: Option<f64>,
        #[arg(long, requires = "lat")]
        lon: Option<f64>,
    },
    /// Correct a place: its responsible person and phone, name, address or risk level.
    Edit {
        #[command(flatten)]
        who: AsUser,
        place: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        risk: Option<String>,
        #[arg(long)]
        responsible: Option<String>,
        #[arg(long)]
        phone: Option<String>,
    },
}

#[derive(Args)]
pub struct PatrolArgs {
    #[command(flatten)]
    pub(crate) who: AsUser,
    #[arg(long)]
    pub(crate) place: String,
    /// An answer, `ITEM=VALUE` (pass, fail, na, a number, a choice, text or a photo hash).
    #[arg(long = "answer", value_name = "ITEM=VALUE")]
    pub(crate) answers: Vec<String>,
    /// Raise a hazard from this failed item (repeatable).
    #[arg(long = "raise", value_name = "ITEM")]
    pub(crate) raise: Vec<String>,
    /// Raise a hazard from every failed item.
    #[arg(long)]
    pub(crate) raise_all: bool,
    /// A photo of a failed item's hazard, `ITEM=FILE` (a file, or a kept photo's hash); an
    /// item marked photo-required needs one (repeatable).
    #[arg(long = "photo", value_name = "ITEM=FILE")]
    pub(crate) photos: Vec<String>,
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) lat: Option<f64>,
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) lon: Option<f64>,
    #[arg(long)]
    pub(crate) accuracy: Option<f64>,
    #[arg(long, default_value = "")]
    pub(crate) note: String,
    /// Minutes the visit took (its start time is now minus this).
    #[arg(long, default_value_t = 15)]
    pub(crate) minutes: i64,
}

#[derive(Args)]
pub struct HazardsArgs {
    #[command(flatten)]
    pub(crate) who: AsUser,
    /// Only hazards in this status (e.g. notified, rectifying, closed).
    #[arg(long)]
    pub(crate) status: Option<String>,
}

#[derive(Args)]
pub struct Target {
    /// Hazard id, or a unique tail of it (6+ characters).
    pub(crate) id: String,
    #[command(flatten)]
    pub(crate) who: AsUser,
}

#[derive(Subcommand)]
pub enum HazardCmd {
    /// Show a hazard with its whole history.
    Show { id: String },
    /// Attach a photo file to a hazard (before, after, a notice or a document), with where it
    /// was taken; the original is kept by its SHA-256 and sent after the data.
    Photo {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        file: std::path::PathBuf,
        /// before, after, notice or document.
        #[arg(long, default_value = "before")]
        kind: PhotoRole,
        #[arg(long, allow_hyphen_values = true)]
        lat: Option<f64>,
        #[arg(long, allow_hyphen_values = true)]
        lon: Option<f64>,
        #[arg(long)]
        accuracy: Option<f64>,
    },
    /// Raise a hazard at a place directly (outside a patrol).
    Report {
        #[command(flatten)]
        who: AsUser,
        #[arg(long)]
        place: String,
        #[arg(long)]
        category: String,
        /// general or major.
        #[arg(long, default_value = "general")]
        severity: Severity,
        #[arg(long)]
        description: String,
        /// A photo file (kept here by its SHA-256, sent after the data) or a kept photo's hash.
        #[arg(long = "photo")]
        photos: Vec<String>,
    },
    /// 下发整改通知: name the responsible party and a deadline.
    Notify {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        party: String,
        #[arg(long)]
        deadline: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 开始整改.
    Start {
        #[command(flatten)]
        t: Target,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 提交整改, for review.
    Submit {
        #[command(flatten)]
        t: Target,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long = "photo")]
        photos: Vec<String>,
    },
    /// 当场整改.
    FixOnSpot {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        before: Option<String>,
        #[arg(long)]
        after: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 复查: pass closes the case, fail sends it back with a new deadline.
    Review {
        #[command(flatten)]
        t: Target,
        #[arg(long, conflicts_with = "fail")]
        pass: bool,
        #[arg(long)]
        fail: bool,
        #[arg(long)]
        new_deadline: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 申请延期: the deadline does not move until approved.
    Extend {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        reason: String,
        #[arg(long = "to")]
        proposed: String,
        #[arg(long)]
        measures: String,
    },
    /// 审批延期.
    DecideExtension {
        #[command(flatten)]
        t: Target,
        #[arg(long, conflicts_with = "reject")]
        approve: bool,
        #[arg(long)]
        reject: bool,
        #[arg(long)]
        basis: String,
    },
    /// 上报上级.
    Escalate {
        #[command(flatten)]
        t: Target,
        /// The level it goes to: village or township.
        #[arg(long = "to")]
        to: String,
        /// beyond_power, major, needs_enforcement, owner_refuses, rework_twice, overdue or
        /// imminent_danger.
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 交办: hand a case back down with guidance and a deadline.
    HandBack {
        #[command(flatten)]
        t: Target,
        /// The level it goes to: grid or village.
        #[arg(long = "to")]
        to: String,
        #[arg(long)]
        guidance: String,
        #[arg(long)]
        deadline: String,
    },
    /// 联合执法.
    JointEnforcement {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        departments: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 移交监督执法部门.
    Refer {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        department: String,
        #[arg(long)]
        case_number: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 登记处理结果 of joint enforcement or a referral.
    Outcome {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        outcome: String,
    },
    /// 挂牌督办 (major hazards at township level).
    Supervise {
        #[command(flatten)]
        t: Target,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 撤销, with a reason.
    Withdraw {
        #[command(flatten)]
        t: Target,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args)]
pub struct LogArgs {
    /// publicity or training.
    pub(crate) kind: ActivityKind,
    #[command(flatten)]
    pub(crate) who: AsUser,
    #[arg(long)]
    pub(crate) org: String,
    #[arg(long)]
    pub(crate) title: String,
    #[arg(long, default_value_t = 0)]
    pub(crate) audience: u32,
    /// The day it was held (default today).
    #[arg(long)]
    pub(crate) date: Option<String>,
    #[arg(long, default_value = "")]
    pub(crate) note: String,
}

#[derive(Args)]
pub struct ReportArgs {
    /// A grid, village, township or county id.
    #[arg(long)]
    pub(crate) scope: String,
    #[arg(long)]
    pub(crate) from: String,
    #[arg(long)]
    pub(crate) to: String,
    /// Also write a ledger (台账) as CSV here.
    #[arg(long)]
    pub(crate) csv: Option<std::path::PathBuf>,
    /// Also write a ledger as XLSX here.
    #[arg(long)]
    pub(crate) xlsx: Option<std::path::PathBuf>,
    /// Which ledger --csv and --xlsx write: hazards (隐患台账), patrols (巡查台账), places
    /// (一户一档), activities (宣传培训台账), fires (火灾台账), letters (责任书台账) or stations
    /// (消防站器材台账).
    #[arg(long, default_value = "hazards")]
    pub(crate) ledger: String,
}

#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub(crate) who: AsUser,
    /// Replace this plan (its id or id tail) instead of adding one.
    #[arg(long)]
    pub(crate) id: Option<String>,
    #[arg(long)]
    pub(crate) grid: String,
    /// The grid worker it assigns (default: every worker of the grid).
    #[arg(long)]
    pub(crate) worker: Option<String>,
    /// Place types it covers, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub(crate) types: Vec<String>,
    /// Risk levels it covers, comma-separated: high, medium, low (default: all).
    #[arg(long, value_delimiter = ',')]
    pub(crate) risk: Vec<String>,
    /// Days between visits (default: the place type × risk rule).
    #[arg(long)]
    pub(crate) every: Option<u32>,
    /// Checklist items to look at first, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub(crate) focus: Vec<String>,
    /// Switch the plan off.
    #[arg(long)]
    pub(crate) inactive: bool,
    #[arg(long, default_value = "")]
    pub(crate) note: String,
}
