//! Changing one's own password. A first password (printed once at an import) must be changed
//! before any other console page opens: the session sends the browser here until it is.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::client::ClientAddr;
use crate::console::layout::{alert, page};
use crate::console::{blocking, view, ApiError, Me, Page, Refused, Shared};

fn form(me: &Me, first: bool, error: Option<&ApiError>) -> Markup {
    html! {
        h1 { "修改密码" }
        section.card {
            @if first {
                p.msg role="status" { "这是导入时分配的初始密码，请先设置自己的密码。" }
            }
            @if let Some(e) = error { (alert(&e.zh, &e.en)) }
            form method="post" action="/console/password" {
                (me.csrf_field())
                label { "原密码" input name="old" type="password" autocomplete="current-password" required; }
                label { "新密码（8 至 256 个字符）" input name="new" type="password" autocomplete="new-password" minlength="8" required; }
                label { "再输入一次" input name="repeat" type="password" autocomplete="new-password" minlength="8" required; }
                button type="submit" { "保存" }
            }
        }
    }
}

async fn show(b: Shared, me: Me, error: Option<ApiError>) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let first = v.b.must_change_password(&v.me.actor().user_id)?;
        Ok(page(
            "修改密码",
            v,
            "/console/password",
            form(v.me, first, error.as_ref()),
        ))
    })
    .await
}

pub async fn password_page(State(b): State<Shared>, me: Me) -> Result<Page, Refused> {
    show(b, me, None).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    old: String,
    new: String,
    repeat: String,
}

pub async fn change(
    State(b): State<Shared>,
    ClientAddr(client): ClientAddr,
    me: Me,
    Form(f): Form<PasswordForm>,
) -> Result<Response, Refused> {
    me.check_csrf(&f.csrf)?;
    if f.new != f.repeat {
        let e = ApiError::new(
            400,
            "passwords_differ",
            "两次输入的新密码不一致",
            "the two new passwords differ",
        );
        return Ok(show(b, me, Some(e)).await?.into_response());
    }
    let user = me.actor().user_id.clone();
    let b2 = b.clone();
    let changed = blocking(move || Ok(b2.change_password(&user, &f.old, &f.new, client))).await?;
    match changed {
        Ok(()) => Ok(Redirect::to("/console/").into_response()),
        Err(e) if e.status == 429 || e.status == 401 || e.status == 400 => {
            Ok(show(b, me, Some(e)).await?.into_response())
        }
        Err(e) => Err(e.into()),
    }
}
