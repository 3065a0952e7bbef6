//! The people a township officer (the township's) or a village leader (the village's grid
//! workers) keeps: add one with a first password shown once, move them to other areas, give a
//! new first password, disable someone who left, sign out a lost phone.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridpatrol_core::org::{Role, User};
use maud::html;

use super::{
    admin_nav, choice, first_password, get, keepers_only, outcome, read_form, text_input, Done,
    Sent,
};
use crate::backend::AccountChange;
use crate::console::layout::page;
use crate::console::values::url;
use crate::console::{view, ApiError, Me, Page, Refused, Shared, View};

const HERE: &str = "/console/admin/people";

pub async fn people(
    State(b): State<Shared>,
    me: Me,
    Query(d): Query<Done>,
) -> Result<Page, Refused> {
    keepers_only(&me)?;
    view(b, me, move |v| {
        render(v, &Sent::new(), d.done.as_deref(), None, None)
    })
    .await
}

pub async fn change(
    State(b): State<Shared>,
    me: Me,
    form: super::Posted,
) -> Result<Response, Refused> {
    keepers_only(&me)?;
    view(b, me, move |v| {
        let sent = read_form(v.me, form)?;
        match apply(v, &sent) {
            Ok((what, Some(password))) => {
                let shown = (get(&sent, "user").to_string(), password);
                Ok(render(v, &Sent::new(), Some(what), None, Some(&shown))?.into_response())
            }
            Ok((what, None)) => {
                Ok(Redirect::to(&format!("{HERE}?done={}", url(what))).into_response())
            }
            Err(e) if e.status < 500 => Ok(render(v, &sent, None, Some(&e), None)?.into_response()),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// Records what the form asks; what was done, and a first password to show once.
fn apply(v: &View, sent: &Sent) -> Result<(&'static str, Option<String>), ApiError> {
    let actor = v.me.actor().clone();
    let id = get(sent, "user");
    let account = |change| v.b.manage_account(&actor, id, change);
    match get(sent, "do") {
        "add" => {
            if v.store.user(id).is_ok() {
                return Err(ApiError::new(
                    409,
                    "already_exists",
                    &format!("账号 {id} 已存在"),
                    &format!("the account {id} exists already"),
                ));
            }
            let role: Role = get(sent, "role")
                .parse()
                .map_err(gridpatrol_core::Error::from)?;
            let phone = Some(get(sent, "phone").to_string()).filter(|p| !p.is_empty());
            let user = User {
                id: id.to_string(),
                name: get(sent, "name").to_string(),
                phone,
                role,
                org_ids: vec![get(sent, "org").to_string()],
            };
            v.b.act(&mut |s| s.administer_user(&actor, user.clone()))?;
            Ok(("新增人员", account(AccountChange::FirstPassword)?))
        }
        "assign" => {
            let mut user = v.store.user(id)?;
            user.org_ids = vec![get(sent, "org").to_string()];
            v.b.act(&mut |s| s.administer_user(&actor, user.clone()))?;
            Ok(("调整负责区域", None))
        }
        "reset" => Ok(("重置密码", account(AccountChange::FirstPassword)?)),
        "disable" => Ok(("停用账号", account(AccountChange::Disable)?)),
        "sign_out" => Ok(("注销设备登录", account(AccountChange::SignOutDevices)?)),
        _ => Err(ApiError::bad_request("do")),
    }
}

fn render(
    v: &View,
    sent: &Sent,
    done: Option<&str>,
    refused: Option<&ApiError>,
    password: Option<&(String, String)>,
) -> Result<Page, Refused> {
    let actor = v.me.actor();
    let people = v.store.kept_users(actor)?;
    let areas: Vec<(String, String)> = v
        .tree
        .scopes(actor)
        .into_iter()
        .map(|n| {
            (
                n.id.clone(),
                format!("{}（{}）", n.name, n.level.short_zh()),
            )
        })
        .collect();
    let roles: Vec<(String, String)> = match actor.role {
        Role::TownshipOfficer => vec![Role::GridWorker, Role::VillageLeader, Role::TownshipOfficer],
        _ => vec![Role::GridWorker],
    }
    .into_iter()
    .map(|r| (r.code().to_string(), r.zh().to_string()))
    .collect();
    // Where each role may be moved to: the nodes of its own level.
    let areas_for = |role: Role| -> Vec<(String, String)> {
        v.tree
            .scopes(actor)
            .into_iter()
            .filter(|n| n.level == role.anchor_level())
            .map(|n| (n.id.clone(), n.name.clone()))
            .collect()
    };
    let row_form = |user: &str, what: &str, label: &str| {
        html! {
            form.inline method="post" action=(HERE) {
                (v.me.csrf_field())
                input type="hidden" name="user" value=(user);
                input type="hidden" name="do" value=(what);
                button.secondary type="submit" { (label) }
            }
        }
    };
    let body = html! {
        h1 { "人员" }
        (admin_nav(v.me, HERE))
        (outcome(done, refused))
        @if let Some((id, pw)) = password { (first_password(id, pw)) }
        section.card {
            h2 { "新增人员" }
            p.muted { "网格员选网格，村（社区）负责人选村，乡镇管理员选乡镇。初始密码只显示一次，首次登录须修改。" }
            form.filters method="post" action=(HERE) {
                (v.me.csrf_field())
                input type="hidden" name="do" value="add";
                (text_input(sent, "user", "账号", "", true))
                (text_input(sent, "name", "姓名", "", true))
                (choice("role", "角色", &roles, get(sent, "role")))
                (choice("org", "负责区域", &areas, get(sent, "org")))
                (text_input(sent, "phone", "电话", "", false))
                button type="submit" { "新增" }
            }
        }
        div.scroll { table {
            caption { "共 " (people.len()) " 人" }
            thead { tr {
                th scope="col" { "账号" } th scope="col" { "姓名" } th scope="col" { "角色" }
                th scope="col" { "负责区域" } th scope="col" { "电话" } th scope="col" { "操作" }
            } }
            tbody {
                @for u in &people {
                    @let active = v.b.can_sign_in(&u.id)?;
                    tr id={ "user-" (u.id) } {
                        td { (u.id) @if !active { " " span.badge { "已停用" } } }
                        td { (u.name) }
                        td { (u.role.zh()) }
                        td { @for o in &u.org_ids { (v.tree.name(o)) " " } }
                        td { (u.phone.as_deref().unwrap_or("—")) }
                        td.actions {
                            form.inline method="post" action=(HERE) {
                                (v.me.csrf_field())
                                input type="hidden" name="user" value=(u.id);
                                input type="hidden" name="do" value="assign";
                                (choice("org", "调至", &areas_for(u.role), u.org_ids.first().map_or("", String::as_str)))
                                button.secondary type="submit" { "调整" }
                            }
                            @if active {
                                (row_form(&u.id, "reset", "重置密码"))
                                (row_form(&u.id, "sign_out", "注销设备"))
                                (row_form(&u.id, "disable", "停用"))
                            } @else {
                                (row_form(&u.id, "reset", "重新启用（新初始密码）"))
                            }
                        }
                    }
                }
            }
        } }
    };
    Ok(page("人员", v, HERE, body))
}
