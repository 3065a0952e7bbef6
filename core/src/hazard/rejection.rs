//! Why an event or an op does not apply: the rejections the fold, the local commands and the
//! server's judge give, with a stable code and zh-CN and English text for a person.

use serde::{Deserialize, Serialize};

use crate::error::{bilingual, InvalidInput};
use crate::org::Role;

use super::{HazardStatus, Level, Verb};

/// Why an event is not valid at its position. Serialised into the op log next to a conflicted op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
#[error("{}", bilingual(&self.zh(), &self.en()))]
pub enum Rejection {
    NotReported,
    AlreadyExists,
    NotCreated,
    Finished {
        status: HazardStatus,
    },
    WrongStatus {
        event: String,
        status: HazardStatus,
    },
    RoleNotAllowed {
        event: String,
        role: Role,
    },
    SeparationOfDuties,
    OutOfScope,
    NeedsMajor,
    NeedsGeneral,
    ExtensionPending,
    NoExtensionPending,
    WrongLevel {
        level: Level,
    },
    AlreadySupervised,
    NotAboveReporter,
    /// A pushed op that names another user, or another role, than the one who pushed it.
    ActorMismatch,
    /// A pushed op made on another device than the one whose token pushed it.
    WrongDevice,
    /// A pushed op naming a place the server's records do not hold.
    NoSuchPlace,
    /// A pushed op whose grid, village, township or place type is not what the server's
    /// records say of its place.
    NotAsRecorded,
    /// A pushed op dated after the server's clock (by more than `sync::protocol::MAX_AHEAD_MS`).
    ClockAhead,
    /// A pushed op dated before an earlier op of the same device: a device's clock only rises
    /// with its sequence.
    ClockBackwards,
    /// A pushed op dated before its device was first signed in.
    BeforeSignIn,
    /// A record already holds as many ops as one record may.
    TooManyOps {
        max: u32,
    },
    Invalid {
        input: InvalidInput,
    },
}

impl From<InvalidInput> for Rejection {
    fn from(input: InvalidInput) -> Self {
        Rejection::Invalid { input }
    }
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::NotReported => "not_reported",
            Rejection::AlreadyExists => "already_exists",
            Rejection::NotCreated => "not_created",
            Rejection::Finished { .. } => "finished",
            Rejection::WrongStatus { .. } => "wrong_status",
            Rejection::RoleNotAllowed { .. } => "role_not_allowed",
            Rejection::SeparationOfDuties => "separation_of_duties",
            Rejection::OutOfScope => "out_of_scope",
            Rejection::NeedsMajor => "needs_major",
            Rejection::NeedsGeneral => "needs_general",
            Rejection::ExtensionPending => "extension_pending",
            Rejection::NoExtensionPending => "no_extension_pending",
            Rejection::WrongLevel { .. } => "wrong_level",
            Rejection::AlreadySupervised => "already_supervised",
            Rejection::NotAboveReporter => "not_above_reporter",
            Rejection::ActorMismatch => "actor_mismatch",
            Rejection::WrongDevice => "wrong_device",
            Rejection::NoSuchPlace => "no_such_place",
            Rejection::NotAsRecorded => "not_as_recorded",
            Rejection::ClockAhead => "clock_ahead",
            Rejection::ClockBackwards => "clock_backwards",
            Rejection::BeforeSignIn => "before_sign_in",
            Rejection::TooManyOps { .. } => "too_many_ops",
            Rejection::Invalid { .. } => "invalid_input",
        }
    }
    pub fn zh(&self) -> String {
        match self {
            Rejection::NotReported => "该隐患尚未上报".into(),
            Rejection::AlreadyExists => "记录已存在".into(),
            Rejection::NotCreated => "记录尚未建立".into(),
            Rejection::Finished { status } => format!("隐患已{}，不能再操作", status.zh()),
            Rejection::WrongStatus { event, status } => {
                format!("隐患处于“{}”状态，不能{}", status.zh(), event_zh(event))
            }
            Rejection::RoleNotAllowed { event, role } => {
                format!("{}无权{}", role.zh(), event_zh(event))
            }
            Rejection::SeparationOfDuties => "复查人不能是提交整改的人".into(),
            Rejection::OutOfScope => "不在您负责的范围内".into(),
            Rejection::NeedsMajor => "只有重大隐患可以挂牌督办".into(),
            Rejection::NeedsGeneral => "重大隐患不能当场整改销号".into(),
            Rejection::ExtensionPending => "已有待审批的延期申请".into(),
            Rejection::NoExtensionPending => "没有待审批的延期申请".into(),
            Rejection::WrongLevel { level } => format!("当前由{}处理，不能这样操作", level.zh()),
            Rejection::AlreadySupervised => "已挂牌督办".into(),
            Rejection::NotAboveReporter => "只有上报人的上级可以撤销".into(),
            Rejection::ActorMismatch => "操作人与登录用户不符".into(),
            Rejection::WrongDevice => "只能上传本设备的操作".into(),
            Rejection::NoSuchPlace => "服务器记录中没有这个场所".into(),
            Rejection::NotAsRecorded => {
                "所属网格、村（社区）、乡镇或场所类型与服务器记录不符".into()
            }
            Rejection::ClockAhead => "操作时间晚于服务器当前时间，请校准手机时间后再同步".into(),
            Rejection::ClockBackwards => "操作时间早于本设备之前的操作".into(),
            Rejection::BeforeSignIn => "操作时间早于本设备首次登录".into(),
            Rejection::TooManyOps { max } => format!("该记录的操作已达上限（{max} 条）"),
            Rejection::Invalid { input } => input.zh(),
        }
    }
    pub fn en(&self) -> String {
        match self {
            Rejection::NotReported => "the hazard has not been reported".into(),
            Rejection::AlreadyExists => "the record already exists".into(),
            Rejection::NotCreated => "the record has not been created".into(),
            Rejection::Finished { status } => format!("the hazard is {}", status.code()),
            Rejection::WrongStatus { event, status } => {
                format!("cannot {event} a hazard that is {}", status.code())
            }
            Rejection::RoleNotAllowed { event, role } => format!("a {role} may not {event}"),
            Rejection::SeparationOfDuties => {
                "the reviewer must not be the person who submitted the rectification".into()
            }
            Rejection::OutOfScope => "outside your area of responsibility".into(),
            Rejection::NeedsMajor => "only a major hazard can be put under supervision".into(),
            Rejection::NeedsGeneral => {
                "a major hazard cannot be fixed and closed on the spot".into()
            }
            Rejection::ExtensionPending => "an extension request is already pending".into(),
            Rejection::NoExtensionPending => "there is no pending extension request".into(),
            Rejection::WrongLevel { level } => {
                format!("the case is held at {} level", level.code())
            }
            Rejection::AlreadySupervised => "already under formal supervision".into(),
            Rejection::NotAboveReporter => "only someone above the reporter may withdraw".into(),
            Rejection::ActorMismatch => "the op names someone other than the signed-in user".into(),
            Rejection::WrongDevice => "a device may push only its own ops".into(),
            Rejection::NoSuchPlace => "the server's records hold no such place".into(),
            Rejection::NotAsRecorded => {
                "its grid, village, township or place type is not what the server's records say"
                    .into()
            }
            Rejection::ClockAhead => {
                "the op is dated after the server's clock; set the phone's time and sync again"
                    .into()
            }
            Rejection::BeforeSignIn => "the op is dated before its device first signed in".into(),
            Rejection::ClockBackwards => {
                "the op is dated before an earlier op of its device".into()
            }
            Rejection::TooManyOps { max } => {
                format!("the record already holds {max} ops, the most one may")
            }
            Rejection::Invalid { input } => input.en(),
        }
    }
}

/// A rejection keeps the verb as its code (it is stored with a conflicted op).
fn event_zh(verb: &str) -> &'static str {
    verb.parse::<Verb>().map_or("执行此操作", Verb::zh)
}
