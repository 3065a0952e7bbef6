//! Errors. `Error` is what every core call returns; each variant a person can act on carries a
//! message in zh-CN and English, built only from codes and ids, never from names, phones,
//! addresses or coordinates, so an error can be logged or reported without leaking personal data.

use serde::{Deserialize, Serialize};

use crate::hazard::lifecycle::Rejection;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input from a person or a caller; nothing was stored.
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    /// A hazard transition that the state, the role or separation of duties does not allow.
    #[error("{0}")]
    Rejected(#[from] Rejection),
    #[error("{}", bilingual(&format!("找不到{}：{id}", what.zh()), &format!("{} not found: {id}", what.en())))]
    NotFound { what: Entity, id: String },
    #[error("{}", bilingual("操作已中断", "operation interrupted"))]
    Interrupted,
    #[error("{}", bilingual("数据库已关闭", "the database has been shut down"))]
    ShutDown,
    #[error("{}", bilingual(&format!("数据库版本 {found} 比本程序支持的 {supported} 新，请升级应用"), &format!("database schema {found} is newer than supported {supported}; update the app")))]
    SchemaTooNew { found: u32, supported: u32 },
    /// Another op already holds this device's sequence number: two copies of one device's
    /// database are in use. The op is not applied and nothing is dropped silently.
    #[error("{}", bilingual(&format!("设备 {device_id} 的序号 {seq} 已被另一操作占用（设备数据可能被复制）"), &format!("sequence {seq} of device {device_id} is already used by another op (a copied device database?)")))]
    SequenceClash { device_id: uuid::Uuid, seq: i64 },
    /// The sync server answered with an error it explained.
    #[error("{zh} / {en}")]
    Remote {
        status: u16,
        code: String,
        zh: String,
        en: String,
        /// The server's clock, when the refusal is about the device's.
        server_time_ms: Option<i64>,
        /// The server's epoch, when the refusal is about a restore the device has not seen.
        epoch: Option<i64>,
    },
    /// The sync server could not be reached or gave no usable answer (after retries).
    #[error("{}", bilingual("无法连接同步服务器，数据已保存在本机，有网络时再同步", &format!("cannot reach the sync server ({detail}); everything is kept on this device")))]
    Network { detail: String },
    /// This device has not signed in to a sync server yet.
    #[error(
        "{}",
        bilingual("请先登录同步服务器", "sign in to a sync server first")
    )]
    NotSignedIn,
    /// A server address that would carry passwords and records in plain text over a network.
    #[error("{}", bilingual("服务器地址须以 https:// 开头（本机地址除外）；确需明文连接请使用 --insecure-http", "the server address must start with https:// (except for this machine); to connect in plain text anyway, use --insecure-http"))]
    InsecureServer,
    /// Signing out would strand records not yet sent.
    #[error("{}", bilingual(&format!("还有 {count} 条记录未上传，请先同步再退出登录"), &format!("{count} records are not sent yet; sync before signing out")))]
    PendingOps { count: i64 },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("data encoding error: {0}")]
    Json(#[from] serde_json::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("export error: {0}")]
    Export(String),
    /// The schema could not be migrated (a failing step, or a recorded step that differs from
    /// this app's); nothing was changed.
    #[error("{0}")]
    Migration(gridpatrol_migrate::Error),
}

impl From<gridpatrol_migrate::Error> for Error {
    fn from(e: gridpatrol_migrate::Error) -> Self {
        match e {
            gridpatrol_migrate::Error::TooNew { found, supported } => Error::SchemaTooNew {
                found: u32::try_from(found).unwrap_or(u32::MAX),
                supported: u32::try_from(supported).unwrap_or(0),
            },
            gridpatrol_migrate::Error::Sqlite(e) => Error::Sqlite(e),
            e => Error::Migration(e),
        }
    }
}

impl Error {
    /// Whether this error refuses one op or one request for what it says (bad input, a rule, a
    /// missing record, a sequence clash), as opposed to a failure of storage or of the machine.
    pub fn refuses_input(&self) -> bool {
        matches!(
            self,
            Error::Invalid(_)
                | Error::Rejected(_)
                | Error::NotFound { .. }
                | Error::SequenceClash { .. }
                | Error::InsecureServer
        )
    }

    /// The field a person is to correct, when the error is about one.
    pub fn field(&self) -> Option<Field> {
        match self {
            Error::Invalid(i) => Some(i.field),
            Error::Rejected(crate::hazard::lifecycle::Rejection::Invalid { input }) => {
                Some(input.field)
            }
            _ => None,
        }
    }

    /// A stable code for programs and for the sync protocol.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid_input",
            Error::Rejected(r) => r.code(),
            Error::NotFound { .. } => "not_found",
            Error::Interrupted => "interrupted",
            Error::ShutDown => "shut_down",
            Error::SchemaTooNew { .. } => "schema_too_new",
            Error::SequenceClash { .. } => "sequence_clash",
            Error::Remote { .. } => "remote",
            Error::Network { .. } => "network",
            Error::NotSignedIn => "not_signed_in",
            Error::InsecureServer => "insecure_server",
            Error::PendingOps { .. } => "pending_ops",
            Error::Sqlite(_) => "storage",
            Error::Json(_) => "encoding",
            Error::Io(_) => "io",
            Error::Export(_) => "export",
            Error::Migration(_) => "migration",
        }
    }

    pub fn not_found(what: Entity, id: impl Into<String>) -> Self {
        Error::NotFound {
            what,
            id: id.into(),
        }
    }
}

pub(crate) fn bilingual(zh: &str, en: &str) -> String {
    format!("{zh} / {en}")
}

/// The kinds of record an id can name, for `NotFound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    OrgNode,
    User,
    Place,
    PlaceType,
    Template,
    TemplateItem,
    Patrol,
    Hazard,
    Plan,
    Campaign,
    Device,
    Photo,
    Draft,
    Group,
}

impl Entity {
    pub fn zh(self) -> &'static str {
        match self {
            Entity::OrgNode => "组织节点",
            Entity::User => "用户",
            Entity::Place => "巡查对象",
            Entity::PlaceType => "场所类型",
            Entity::Template => "检查表",
            Entity::TemplateItem => "检查项",
            Entity::Patrol => "巡查记录",
            Entity::Hazard => "隐患",
            Entity::Plan => "巡查计划",
            Entity::Campaign => "专项行动",
            Entity::Device => "设备",
            Entity::Photo => "照片",
            Entity::Draft => "草稿",
            Entity::Group => "消防站或组织",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Entity::OrgNode => "org node",
            Entity::User => "user",
            Entity::Place => "place",
            Entity::PlaceType => "place type",
            Entity::Template => "checklist template",
            Entity::TemplateItem => "checklist item",
            Entity::Patrol => "patrol",
            Entity::Hazard => "hazard",
            Entity::Plan => "patrol plan",
            Entity::Campaign => "campaign",
            Entity::Device => "device",
            Entity::Photo => "photo",
            Entity::Draft => "draft",
            Entity::Group => "fire station or committee",
        }
    }
}

/// One field of one input that is wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", bilingual(&self.zh(), &self.en()))]
pub struct InvalidInput {
    pub field: Field,
    pub problem: Problem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Id,
    Name,
    Address,
    Phone,
    Latitude,
    Longitude,
    Accuracy,
    PlaceType,
    RiskLevel,
    PatrolEveryDays,
    Template,
    Answer,
    Note,
    Reason,
    Deadline,
    ResponsibleParty,
    Department,
    CaseNumber,
    Description,
    Category,
    Photo,
    Role,
    Grid,
    Period,
    Count,
    Date,
    Status,
    Severity,
    Level,
    Cause,
    Verb,
    OrgLevel,
    PhotoRole,
    Activity,
    Decision,
    Year,
    Township,
    Guidance,
    InterimMeasures,
    Outcome,
    Basis,
    Ledger,
    FireCause,
    Loss,
    Letter,
    Group,
}

impl Field {
    fn zh(self) -> &'static str {
        match self {
            Field::Id => "编号",
            Field::Name => "名称",
            Field::Address => "地址",
            Field::Phone => "电话",
            Field::Latitude => "纬度",
            Field::Longitude => "经度",
            Field::Accuracy => "定位精度",
            Field::PlaceType => "场所类型",
            Field::RiskLevel => "风险等级",
            Field::PatrolEveryDays => "巡查周期",
            Field::Template => "检查表版本",
            Field::Answer => "检查项答案",
            Field::Note => "备注",
            Field::Reason => "理由",
            Field::Deadline => "整改期限",
            Field::ResponsibleParty => "责任人",
            Field::Department => "移交部门",
            Field::CaseNumber => "案件编号",
            Field::Description => "隐患描述",
            Field::Category => "隐患类别",
            Field::Photo => "照片",
            Field::Role => "角色",
            Field::Grid => "网格",
            Field::Period => "统计期间",
            Field::Count => "数量",
            Field::Date => "日期",
            Field::Status => "状态",
            Field::Severity => "隐患等级",
            Field::Level => "处理层级",
            Field::Cause => "上报原因",
            Field::Verb => "操作",
            Field::OrgLevel => "组织层级",
            Field::PhotoRole => "照片类型",
            Field::Activity => "活动类型",
            Field::Decision => "结论",
            Field::Year => "年度",
            Field::Township => "乡镇（街道）",
            Field::Guidance => "指导意见",
            Field::InterimMeasures => "临时管控措施",
            Field::Outcome => "处理结果",
            Field::Basis => "审批依据",
            Field::Ledger => "台账",
            Field::FireCause => "起火原因",
            Field::Loss => "直接财产损失（元）",
            Field::Letter => "责任书类型",
            Field::Group => "组织类型",
        }
    }
    fn en(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::Address => "address",
            Field::Phone => "phone",
            Field::Latitude => "latitude",
            Field::Longitude => "longitude",
            Field::Accuracy => "GPS accuracy",
            Field::PlaceType => "place type",
            Field::RiskLevel => "risk level",
            Field::PatrolEveryDays => "patrol cycle",
            Field::Template => "checklist version",
            Field::Answer => "checklist answer",
            Field::Note => "note",
            Field::Reason => "reason",
            Field::Deadline => "deadline",
            Field::ResponsibleParty => "responsible party",
            Field::Department => "department",
            Field::CaseNumber => "case number",
            Field::Description => "hazard description",
            Field::Category => "hazard category",
            Field::Photo => "photo",
            Field::Role => "role",
            Field::Grid => "grid",
            Field::Period => "period",
            Field::Count => "count",
            Field::Date => "date",
            Field::Status => "status",
            Field::Severity => "severity",
            Field::Level => "level",
            Field::Cause => "escalation reason",
            Field::Verb => "action",
            Field::OrgLevel => "org level",
            Field::PhotoRole => "photo kind",
            Field::Activity => "activity kind",
            Field::Decision => "decision",
            Field::Year => "year",
            Field::Township => "township",
            Field::Guidance => "guidance",
            Field::InterimMeasures => "interim measures",
            Field::Outcome => "outcome",
            Field::Basis => "basis",
            Field::Ledger => "ledger",
            Field::FireCause => "fire cause",
            Field::Loss => "direct loss (yuan)",
            Field::Letter => "letter kind",
            Field::Group => "group kind",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    Empty,
    TooLong {
        max: usize,
    },
    OutOfRange {
        min: String,
        max: String,
    },
    /// A code that is not in the list it must come from (the bad code is kept: codes are not
    /// personal data).
    Unknown {
        code: String,
    },
    Malformed,
    /// A day not written as an existing `YYYY-MM-DD` date.
    NotADay,
    InThePast,
    NotAfter {
        other: String,
    },
    /// A change that changes nothing (a severity judged as what it already is).
    Unchanged,
}

impl InvalidInput {
    pub fn new(field: Field, problem: Problem) -> Self {
        InvalidInput { field, problem }
    }
    pub fn zh(&self) -> String {
        let f = self.field.zh();
        match &self.problem {
            Problem::Empty => format!("{f}不能为空"),
            Problem::TooLong { max } => format!("{f}过长（最多 {max} 个字）"),
            Problem::OutOfRange { min, max } => format!("{f}超出范围（{min} 至 {max}）"),
            Problem::Unknown { code } => format!("未知的{f}：{code}"),
            Problem::Malformed => format!("{f}格式不正确"),
            Problem::NotADay => format!("{f}：日期格式不正确（应为 年-月-日）"),
            Problem::InThePast => format!("{f}不能早于今天"),
            Problem::NotAfter { other } => format!("{f}必须晚于 {other}"),
            Problem::Unchanged => format!("{f}与原来相同，没有改变"),
        }
    }
    pub fn en(&self) -> String {
        let f = self.field.en();
        match &self.problem {
            Problem::Empty => format!("{f} must not be empty"),
            Problem::TooLong { max } => format!("{f} is too long (at most {max} characters)"),
            Problem::OutOfRange { min, max } => format!("{f} is out of range ({min} to {max})"),
            Problem::Unknown { code } => format!("unknown {f}: {code}"),
            Problem::Malformed => format!("{f} is malformed"),
            Problem::NotADay => format!("{f}: dates are written YYYY-MM-DD"),
            Problem::InThePast => format!("{f} must not be in the past"),
            Problem::NotAfter { other } => format!("{f} must be after {other}"),
            Problem::Unchanged => format!("{f} is the same as before"),
        }
    }
}

/// Checks for free text typed by a person: trimmed, not empty when required, bounded in length.
pub(crate) fn text(field: Field, value: &str, max: usize) -> Result<String, InvalidInput> {
    let v = value.trim();
    if v.is_empty() {
        return Err(InvalidInput::new(field, Problem::Empty));
    }
    optional_text(field, v, max)
}

pub(crate) fn optional_text(field: Field, value: &str, max: usize) -> Result<String, InvalidInput> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(InvalidInput::new(field, Problem::TooLong { max }));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_bilingual_and_name_no_value() {
        let e = Error::from(InvalidInput::new(
            Field::Phone,
            Problem::TooLong { max: 20 },
        ));
        let s = e.to_string();
        assert!(s.contains("电话过长"), "{s}");
        assert!(s.contains("phone is too long"), "{s}");
        assert_eq!(e.code(), "invalid_input");
    }

    #[test]
    fn text_trims_and_bounds() {
        assert_eq!(
            text(Field::Name, "  小卖部 ", 10).ok(),
            Some("小卖部".into())
        );
        assert!(text(Field::Name, "   ", 10).is_err());
        assert!(text(Field::Name, "一二三四五六", 5).is_err());
    }
}
