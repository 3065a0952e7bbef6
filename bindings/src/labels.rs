//! The zh-CN labels the apps show for what the core names by code: each is the core's own
//! label (`Verb::zh`, `Role::zh`, `Level::zh`, `AnswerValue::zh`), exported so Kotlin and Swift
//! keep no tables of their own that could drift from the core, the CLI and the console.

use gridpatrol_core::checklist::AnswerValue;
use gridpatrol_core::hazard::{self, Verb};
use gridpatrol_core::org::Role;

use crate::hazards::OrgLevelCode;
use crate::records::{Answer, SyncProgress};

/// The button text for a transition verb (as in `HazardDetail.allowed` and timelines); an
/// unknown code is shown as it is.
#[uniffi::export]
pub fn verb_zh(verb: String) -> String {
    verb.parse::<Verb>().map_or(verb, |v| v.zh().to_string())
}

/// A role by its code (`grid_worker`, ...); an unknown code is shown as it is.
#[uniffi::export]
pub fn role_zh(role: String) -> String {
    role.parse::<Role>().map_or(role, |r| r.zh().to_string())
}

/// The level that holds a case.
#[uniffi::export]
pub fn level_zh(level: OrgLevelCode) -> String {
    hazard::Level::from(level).zh().to_string()
}

/// An answer as shown beside a checklist item ("上次：不合格").
#[uniffi::export]
pub fn answer_zh(answer: Answer) -> String {
    AnswerValue::from(answer).zh()
}

/// One line for a sync progress bar.
#[uniffi::export]
pub fn progress_zh(progress: SyncProgress) -> String {
    match progress {
        SyncProgress::Pushed { done, total } => format!("上传 {done}/{total}"),
        SyncProgress::Received { ops } => format!("接收 {ops} 条"),
        SyncProgress::Pulled { ops } => format!("已下载 {ops} 条"),
        SyncProgress::Restarted => "负责范围已变更，重新下载（本机未上传的记录保留）".into(),
        SyncProgress::Photos { done, total } => format!("照片 {done}/{total}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_cores() {
        assert_eq!(verb_zh("notify".into()), "下发整改通知");
        assert_eq!(verb_zh("fix_on_spot".into()), "当场整改");
        assert_eq!(verb_zh("dance".into()), "dance");
        assert_eq!(role_zh("grid_worker".into()), "网格员");
        assert_eq!(level_zh(OrgLevelCode::Village), "村（社区）");
        assert_eq!(answer_zh(Answer::Fail), "不合格");
        assert_eq!(progress_zh(SyncProgress::Pulled { ops: 3 }), "已下载 3 条");
    }
}
