//! Keeping the township current from the console (issue 15): areas, places, people and
//! campaigns, each a page of forms. Who may do what is the core's rule (`gridpatrol_core::admin`,
//! the place and campaign rules); every change goes through `Backend::act` as the signed-in
//! user's op, checked like a pushed one, so phones receive it at their next sync. A refused
//! form comes back with what was typed and why; a done one redirects to its page with a note.

pub(crate) mod areas;
pub(crate) mod campaigns;
pub(crate) mod checklists;
pub(crate) mod people;
pub(crate) mod places;
pub(crate) mod plans;

use axum::extract::rejection::FormRejection;
use axum::extract::Form;
use axum::response::{IntoResponse, Redirect, Response};
use gridpatrol_core::org::Role;
use maud::{html, Markup};

use crate::console::layout::alert;
use crate::console::{ApiError, Me, Refused};

/// What a form sent, field by field, in order (a field may come more than once: checkboxes,
/// a multiple select).
#[derive(Default)]
pub(crate) struct Sent(Vec<(String, String)>);

impl Sent {
    pub fn new() -> Sent {
        Sent::default()
    }

    /// The first value sent for `name`.
    pub fn get(&self, name: &str) -> Option<&String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Every value sent for `name`, trimmed, empty ones left out.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
}

/// A form as posted, every field in order.
pub(crate) type Posted = Result<Form<Vec<(String, String)>>, FormRejection>;

/// The answer to a form: done, back to `here` with what was done noted; refused for a reason
/// the user can act on, the page again (`again`) with why and what was typed.
pub(crate) fn answer(
    done: Result<&str, ApiError>,
    here: &str,
    again: impl FnOnce(&ApiError) -> Result<crate::console::Page, Refused>,
) -> Result<Response, Refused> {
    match done {
        Ok(what) => {
            let to = format!("{here}?done={}", crate::console::values::url(what));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) if e.status < 500 => Ok(again(&e)?.into_response()),
        Err(e) => Err(e.into()),
    }
}

/// The sent form, with its form key checked.
pub(crate) fn read_form(me: &Me, form: Posted) -> Result<Sent, Refused> {
    let Form(fields) = form.map_err(|_| ApiError::bad_request("form"))?;
    let sent = Sent(fields);
    me.check_csrf(get(&sent, "csrf"))?;
    Ok(sent)
}

pub(crate) fn get<'a>(typed: &'a Sent, name: &str) -> &'a str {
    typed.get(name).map_or("", |s| s.trim())
}

/// Township officers only (areas, campaigns, the import).
pub(crate) fn officers_only(me: &Me) -> Result<(), ApiError> {
    if me.actor().role == Role::TownshipOfficer {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            "not_allowed",
            "只有乡镇管理员可以进行此项管理",
            "only a township officer may do this",
        ))
    }
}

/// Township officers and village leaders (places, people).
pub(crate) fn keepers_only(me: &Me) -> Result<(), ApiError> {
    if matches!(me.actor().role, Role::TownshipOfficer | Role::VillageLeader) {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            "not_allowed",
            "只有乡镇管理员和村（社区）负责人可以管理",
            "only a township officer or a village leader may administer",
        ))
    }
}

/// The administration pages, for the navigation between them.
const PAGES: [(&str, &str, bool); 7] = [
    ("/console/admin/places", "场所", false),
    ("/console/admin/people", "人员", false),
    ("/console/admin/plans", "巡查计划", false),
    ("/console/admin/areas", "村与网格", true),
    ("/console/admin/campaigns", "专项行动", true),
    ("/console/admin/checklists", "检查表", true),
    ("/console/admin/import", "底数导入", true),
];

/// The navigation between administration pages the user may use, `current` marked.
pub(crate) fn admin_nav(me: &Me, current: &str) -> Markup {
    let officer = me.actor().role == Role::TownshipOfficer;
    html! {
        nav.pages aria-label="管理" {
            @for (href, label, officers) in PAGES {
                @if officer || !officers {
                    a href=(href) aria-current=[(href == current).then_some("page")] { (label) }
                }
            }
        }
    }
}

/// What happened to the last form: done (from the redirect's `done`) or refused.
pub(crate) fn outcome(done: Option<&str>, refused: Option<&ApiError>) -> Markup {
    html! {
        @if let Some(e) = refused { (alert(&e.zh, &e.en)) }
        @if let Some(what) = done {
            p.msg.ok role="status" { "已保存：" (what) " / Saved" }
        }
    }
}

/// A labelled text input holding what was typed (or `default`).
pub(crate) fn text_input(
    typed: &Sent,
    name: &str,
    label: &str,
    default: &str,
    required: bool,
) -> Markup {
    let value = typed.get(name).map_or(default, String::as_str);
    html! { label { (label) input name=(name) value=(value) required[required]; } }
}

/// A labelled select of `(value, text)` options, `chosen` selected.
pub(crate) fn choice(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
) -> Markup {
    html! {
        label { (label) select name=(name) required {
            @for (value, text) in options {
                option value=(value) selected[value == chosen] { (text) }
            }
        } }
    }
}

/// A first password, shown this once to hand on.
pub(crate) fn first_password(user_id: &str, password: &str) -> Markup {
    html! {
        section.card.msg.ok role="status" {
            p { "账号 " strong { (user_id) } " 的初始密码：" code.password { (password) } }
            p.muted { "只显示这一次，请交给本人；首次登录须修改。" }
        }
    }
}

/// The one node the signed-in user answers for (an officer's township, a leader's village).
pub(crate) fn home(v: &crate::console::View) -> Result<String, ApiError> {
    v.store
        .user(&v.me.actor().user_id)?
        .org_ids
        .into_iter()
        .next()
        .ok_or_else(crate::console::not_visible)
}

/// The `?done=` of the page a change redirects to.
#[derive(serde::Deserialize, Default)]
pub struct Done {
    pub(crate) done: Option<String>,
}
