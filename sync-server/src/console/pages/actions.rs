//! What the console lets a user do with a case: the form for each verb it offers, the event a
//! submitted form describes, and recording it through the op log as the server's device acting
//! for the user, after the same checks a pushed op gets.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridpatrol_core::clock::Day;
use gridpatrol_core::error::Field;
use gridpatrol_core::hazard::form::{decision_code, event_from_form};
use gridpatrol_core::hazard::{EscalationReason, Hazard, HazardEvent, Level, Severity};
use gridpatrol_core::op::OpBody;
use gridpatrol_core::sync::authz;
use maud::{html, Markup};

use super::hazard::parse_id;
use crate::console::flash::Flash;
use crate::console::labels::verb_name;
use crate::console::{not_visible, view, ApiError, Me, Refused, Shared};

/// Refused actions waiting for the page they redirect to.
pub(super) static PROBLEMS: Flash<Problem> = Flash::new(10_000);
/// Forms sent after their sign-in ended, waiting for the person to sign in again. Anyone with
/// a stale cookie can leave one, so fewer are held, each only the boxes an action form has,
/// each cut to its limit.
pub(super) static DRAFTS: Flash<Problem> = Flash::new(1_000);

/// The boxes of the action forms, the only ones a kept draft holds.
const FORM_BOXES: [&str; 15] = [
    "verb",
    "to",
    "guidance",
    "deadline",
    "department",
    "case_number",
    "departments",
    "note",
    "outcome",
    "severity",
    "reason",
    "passed",
    "new_deadline",
    "approved",
    "basis",
];

/// Whom a kept draft is for: the person whose sign-in ran out, back on the same case.
pub(super) fn draft_owner(user: &str, id: uuid::Uuid) -> String {
    format!("draft:{user}:{id}")
}

/// What the console offers to do (the rest is done on a phone, at the place).
pub(super) const CONSOLE_VERBS: [&str; 11] = [
    "settle_conflict",
    "hand_back",
    "refer",
    "joint_enforcement",
    "record_outcome",
    "supervise",
    "reclassify",
    "review",
    "decide_extension",
    "escalate",
    "withdraw",
];

/// What a failed action sends back to the page: which form, why, and what was typed.
#[derive(Clone)]
pub struct Problem {
    pub(super) verb: String,
    pub(super) error: ApiError,
    pub(super) typed: HashMap<String, String>,
}

/// The form for one verb; after a refusal, with what was typed and the reason beside the box
/// to correct (or above the button when it is about no one box).
pub(super) fn action_form(
    verb: &str,
    h: &Hazard,
    grid_name: &str,
    me: &Me,
    problem: Option<&Problem>,
    today: Day,
) -> Markup {
    let typed = problem.map(|p| &p.typed);
    let f = |name: &str| typed.and_then(|t| t.get(name)).map(String::as_str);
    let wrong = |field: Field| problem.filter(|p| p.error.field == Some(field));
    let says = |field: Field| {
        html! {
            @if let Some(p) = wrong(field) {
                span.field-error role="alert" { (p.error.zh) " / " span lang="en" { (p.error.en) } }
            }
        }
    };
    let text = |name: &str, label: &str, field: Field, max: usize, required: bool| {
        html! { label { (label)
        input name=(name) value=(f(name).unwrap_or("")) maxlength=(max) required[required]
            aria-invalid=[wrong(field).map(|_| "true")] autofocus[wrong(field).is_some()];
        (says(field)) } }
    };
    let area = |name: &str, label: &str, field: Field, required: bool| {
        html! { label { (label)
        textarea name=(name) maxlength="500" required[required]
            aria-invalid=[wrong(field).map(|_| "true")] autofocus[wrong(field).is_some()] { (f(name).unwrap_or("")) }
        (says(field)) } }
    };
    let date = |name: &str, label: &str, default: Day, required: bool| {
        let value = f(name).map_or_else(|| default.to_string(), String::from);
        html! { label { (label)
        input type="date" name=(name) value=(value) required[required]
            aria-invalid=[wrong(Field::Deadline).map(|_| "true")];
        (says(Field::Deadline)) } }
    };
    // Nothing is chosen until the person chooses: one stray click must not close a case.
    let yes_no = |name: &str, yes: &str, no: &str| {
        let checked = |v: bool| f(name) == Some(decision_code(v));
        html! {
            fieldset {
                legend { "结论" }
                label.choice { input type="radio" name=(name) value=(decision_code(true)) checked[checked(true)] required; " " (yes) }
                label.choice { input type="radio" name=(name) value=(decision_code(false)) checked[checked(false)]; " " (no) }
                (says(Field::Decision))
            }
        }
    };
    let levels = |below: bool| {
        html! {
            label { "至" select name="to" {
                @for l in [Level::Grid, Level::Village, Level::Township] {
                    @if (below && l < h.level) || (!below && l > h.level) {
                        option value=(l.code()) {
                            @match l { Level::Grid => { "网格：" (grid_name) }, _ => (l.zh()) }
                        }
                    }
                }
            } }
        }
    };
    let fields = html! {
        @match verb {
            "hand_back" => {
                (levels(true))
                (area("guidance", "指导意见", Field::Guidance, true))
                (date("deadline", "整改期限", today.plus(7), true))
            }
            "refer" => {
                (text("department", "移交部门", Field::Department, 100, true))
                (text("case_number", "案号", Field::CaseNumber, 60, true))
                (date("deadline", "办结期限", today.plus(30), true))
                (area("note", "备注", Field::Note, false))
            }
            "joint_enforcement" => {
                (text("departments", "参与部门", Field::Department, 200, true))
                (date("deadline", "办结期限", today.plus(30), true))
                (area("note", "备注", Field::Note, false))
            }
            "record_outcome" => (area("outcome", "处理结果", Field::Outcome, true)),
            "supervise" => {
                (date("deadline", "督办期限", today.plus(30), true))
                (area("note", "督办要求", Field::Note, false))
            }
            "reclassify" => {
                @let other = match h.severity { Severity::General => Severity::Major, Severity::Major => Severity::General };
                input type="hidden" name="severity" value=(other.code());
                p { "认定为" (other.zh()) }
                (area("reason", "认定理由", Field::Reason, true))
            }
            "review" => {
                (yes_no("passed", "通过，销号", "未通过，退回整改"))
                (area("note", "复查意见", Field::Note, false))
                (date("new_deadline", "未通过时的新期限", today.plus(7), false))
            }
            "decide_extension" => {
                @if let Some(p) = &h.pending_extension {
                    p { "申请延至 " (p.proposed_deadline) "：" (p.reason) }
                }
                (yes_no("approved", "同意", "不同意"))
                (area("basis", "依据", Field::Basis, true))
            }
            "escalate" => {
                (levels(false))
                label { "原因" select name="reason" {
                    @for r in EscalationReason::ALL { option value=(r.code()) { (r.zh()) } }
                } }
                (area("note", "备注", Field::Note, false))
            }
            "withdraw" => (area("reason", "撤销理由", Field::Reason, true)),
            _ => {}
        }
    };
    html! {
        details open[problem.is_some()] id={ "act-" (verb) } {
            summary { (verb_name(verb)) }
            form.act method="post" action={ "/console/hazards/" (h.id) "/act" } {
                (me.csrf_field())
                input type="hidden" name="verb" value=(verb);
                (fields)
                @if let Some(p) = problem.filter(|p| p.error.field.is_none()) {
                    p.field-error role="alert" { "未能记录：" (p.error.zh) " / Not recorded: " span lang="en" { (p.error.en) } }
                }
                div { button type="submit" { "提交" } }
            }
        }
    }
}

/// The event a submitted action form describes (the core's one builder from form fields), or
/// why it is not one: only `CONSOLE_VERBS` are.
fn event_from(verb: &str, f: &HashMap<String, String>) -> Result<HazardEvent, ApiError> {
    if !CONSOLE_VERBS.contains(&verb) {
        return Err(ApiError::bad_request("verb"));
    }
    event_from_form(verb, f).map_err(|e| gridpatrol_core::Error::from(e).into())
}

/// Records one lifecycle event from the console: the server's device writes it for the user,
/// after the same checks a pushed op gets (role × kind, scope, then the state machine).
pub async fn act(
    State(b): State<Shared>,
    me: Result<Me, Refused>,
    Path(id): Path<String>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, Refused> {
    let Form(typed) = form.map_err(|_| ApiError::bad_request("form"))?;
    let me = match me {
        Ok(me) => me,
        Err(Refused::Expired { next, user }) => {
            let kept = user.as_deref().and_then(|u| keep_draft(u, &id, typed));
            return Err(kept.unwrap_or(Refused::Expired { next, user }));
        }
        Err(e) => return Err(e),
    };
    view(b, me, move |v| {
        let (b, me, store) = (v.b, v.me, v.store);
        me.check_csrf(typed.get("csrf").map_or("", String::as_str))?;
        let id = parse_id(&id)?;
        let verb = typed.get("verb").cloned().unwrap_or_default();
        // Only a hazard the user can see may be acted on, and errors about it say so.
        let grid = store
            .hazard(id)
            .map_err(|_| not_visible())?
            .hazard
            .report
            .grid_id;
        if !me.actor().covers(&grid) {
            return Err(not_visible().into());
        }
        let outcome = event_from(&verb, &typed).and_then(|event| {
            let body = OpBody::Hazard {
                hazard_id: id,
                event: event.clone(),
            };
            if !authz::writers(&body).contains(&me.actor().role) {
                return Err(ApiError::from(gridpatrol_core::Error::from(
                    gridpatrol_core::hazard::lifecycle::Rejection::RoleNotAllowed {
                        event: verb.clone(),
                        role: me.actor().role,
                    },
                )));
            }
            let actor = me.actor().clone();
            let mut event = Some(event);
            b.act(&mut |s| match event.take() {
                Some(ev) => s.hazard_event(&actor, id, ev),
                None => Ok(()),
            })
        });
        match outcome {
            // A conflict is marked handled from the conflicts list, and back there it goes.
            Ok(()) if verb == "settle_conflict" => {
                Ok(Redirect::to("/console/conflicts?done=settled").into_response())
            }
            Ok(()) => {
                Ok(Redirect::to(&format!("/console/hazards/{id}?done={verb}")).into_response())
            }
            // Post/redirect/get: Back and Reload then show the page, not a resubmission.
            Err(error) if error.status < 500 => {
                let mut typed = typed;
                typed.remove("csrf");
                let key = PROBLEMS.put(&me.csrf, Problem { verb, error, typed });
                Ok(Redirect::to(&format!("/console/hazards/{id}?problem={key}")).into_response())
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// A form sent after its sign-in ran out would be lost with the request: it is kept for that
/// person and case instead, and the sign-in page returns them to the case with the form open and
/// filled in as they left it, to check and submit again. Nothing is recorded from it. A sign-in
/// revoked (signed out elsewhere, a lost phone, a person who left) keeps nothing: whoever signs
/// in next on that browser must not find another's words in their form.
fn keep_draft(user: &str, id: &str, typed: HashMap<String, String>) -> Option<Refused> {
    let id = parse_id(id).ok()?;
    let verb = typed
        .get("verb")
        .filter(|v| CONSOLE_VERBS.contains(&v.as_str()))?
        .clone();
    let typed = typed
        .into_iter()
        .filter(|(k, _)| FORM_BOXES.contains(&k.as_str()))
        .map(|(k, v)| (k, v.chars().take(500).collect()))
        .collect();
    let error = ApiError::new(
        401,
        "sign_in_expired",
        "登录已过期，这项处理尚未记录；刚才填写的内容已保留，请核对后再提交",
        "your sign-in expired and this was not recorded; what you typed is kept: check it and submit again",
    );
    let key = DRAFTS.put(&draft_owner(user, id), Problem { verb, error, typed });
    Some(Refused::Expired {
        next: format!("/console/hazards/{id}?problem={key}"),
        user: Some(user.to_string()),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_kept_form_is_its_writers_alone_and_only_its_boxes() {
        let case = uuid::Uuid::now_v7();
        let typed: HashMap<String, String> = [
            ("verb", "hand_back"),
            ("guidance", "请督促业主三日内清理通道"),
            ("csrf", "secret"),
            ("smuggled", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let Some(Refused::Expired { next, .. }) = keep_draft("o01", &case.to_string(), typed)
        else {
            panic!("kept")
        };
        let key = next.split("problem=").nth(1).unwrap();
        let kept = DRAFTS.get(&draft_owner("o01", case), key).unwrap();
        assert_eq!(kept.verb, "hand_back");
        assert_eq!(kept.typed["guidance"], "请督促业主三日内清理通道");
        assert!(!kept.typed.contains_key("csrf") && !kept.typed.contains_key("smuggled"));
        assert!(
            DRAFTS.get(&draft_owner("o02", case), key).is_none(),
            "another officer"
        );
        // Not a console action, or not a case: nothing kept.
        let other: HashMap<String, String> = [("verb".to_string(), "notify".to_string())].into();
        assert!(keep_draft("o01", &case.to_string(), other).is_none());
        assert!(keep_draft("o01", "not-a-case", HashMap::new()).is_none());
    }
}
