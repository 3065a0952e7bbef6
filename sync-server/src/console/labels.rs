//! The console's wording of the lifecycle, from the core's labels (one `zh()` per domain enum):
//! a verb's name, and the one-line account of an event on a timeline or the conflicts page.
//! Texts are plain; the templates escape them.

use gridpatrol_core::checklist::library;
use gridpatrol_core::hazard::{HazardEvent, Verb};

/// A verb as the console names it, the core's zh-CN label (an unknown code shows as itself).
pub(crate) fn verb_name(verb: &str) -> String {
    verb.parse::<Verb>()
        .map_or_else(|_| verb.to_string(), |v| v.zh().to_string())
}

/// What a photo shows, by the event that cited it.
pub(crate) const PHOTO_FOUND: &str = "发现时";
pub(crate) const PHOTO_BEFORE: &str = "整改前";
pub(crate) const PHOTO_AFTER: &str = "整改后";

/// An event in one line, as a timeline shows it.
pub(crate) fn event_text(ev: &HazardEvent) -> String {
    match ev {
        HazardEvent::Report(r) => format!(
            "{}，{}：{}",
            library().category_zh(&r.category),
            r.severity.zh(),
            r.description
        ),
        HazardEvent::Notify {
            responsible_party,
            deadline,
            note,
        } => format!("责任人 {responsible_party}，期限 {deadline}。{note}"),
        HazardEvent::StartRectification { note } => note.clone(),
        HazardEvent::SubmitRectification { note, photos } => {
            format!("{note}（照片 {} 张）", photos.len())
        }
        HazardEvent::FixOnSpot { note, .. } => note.clone(),
        HazardEvent::Review {
            passed,
            note,
            new_deadline,
        } => format!(
            "{}{}。{note}",
            if *passed {
                "通过，销号"
            } else {
                "未通过"
            },
            new_deadline.map_or(String::new(), |d| format!("，新期限 {d}")),
        ),
        HazardEvent::RequestExtension {
            reason,
            proposed_deadline,
            interim_measures,
        } => format!("申请延至 {proposed_deadline}。理由：{reason}；临时措施：{interim_measures}"),
        HazardEvent::DecideExtension { approved, basis } => {
            format!("{}。{basis}", if *approved { "同意" } else { "不同意" })
        }
        HazardEvent::Escalate { to, reason, note } => {
            format!("上报至{}，原因：{}。{note}", to.zh(), reason.zh())
        }
        HazardEvent::HandBack {
            to,
            guidance,
            deadline,
        } => format!("交办至{}，期限 {deadline}。指导意见：{guidance}", to.zh()),
        HazardEvent::JointEnforcement {
            departments,
            note,
            deadline,
        } => format!(
            "联合执法部门：{departments}{}。{note}",
            by("，办结期限", *deadline)
        ),
        HazardEvent::Refer {
            department,
            case_number,
            note,
            deadline,
        } => format!(
            "移交 {department}，案号 {case_number}{}。{note}",
            by("，办结期限", *deadline)
        ),
        HazardEvent::RecordOutcome { outcome } => format!("结果：{outcome}"),
        HazardEvent::Supervise { note, deadline } => {
            deadline.map_or(note.clone(), |d| format!("督办期限 {d}。{note}"))
        }
        HazardEvent::Reclassify { severity, reason } => {
            format!("认定为{}。理由：{reason}", severity.zh())
        }
        HazardEvent::SettleConflict { note, .. } => format!("冲突已处理：{note}"),
        HazardEvent::CaseNumber { number } => format!("编号 {number}"),
        HazardEvent::Withdraw { reason } => format!("理由：{reason}"),
    }
}

/// A township deadline as a timeline says it, when the event set one.
fn by(label: &str, deadline: Option<gridpatrol_core::clock::Day>) -> String {
    deadline.map_or(String::new(), |d| format!("{label} {d}"))
}
