//! Signing in and out: the sign-in page, checking the account (with the per-address failure
//! limit phones share) and setting the cookie, and signing out, which revokes only this
//! browser's token.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;

use crate::client::ClientAddr;
use crate::console::layout::{alert, document};
use crate::console::session::COOKIE;
use crate::console::{blocking, ApiError, Config, Me, Page, Refused, Shared};

#[derive(Deserialize)]
pub struct LoginForm {
    user_id: String,
    password: String,
    /// The console page to go on to (`safe_next` decides).
    #[serde(default)]
    next: String,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    out: Option<String>,
    /// The sign-in ended while the person worked.
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

/// Where a sign-in may lead: a page of this console, never another site.
fn safe_next(next: &str) -> &str {
    let ok = next.starts_with("/console/")
        && !next.starts_with("/console/login")
        && !next.contains("//")
        && !next.contains('\\');
    if ok {
        next
    } else {
        "/console/"
    }
}

fn login_form(
    error: Option<&ApiError>,
    user_id: &str,
    signed_out: bool,
    expired: bool,
    next: &str,
) -> Markup {
    html! {
        div.login.card {
            h1 { "网格消防巡查 · 乡镇工作台" }
            @if let Some(e) = error {
                (alert(&e.zh, &e.en))
            } @else if signed_out {
                p.msg.ok role="status" { "已退出" }
            } @else if expired {
                p.msg.error role="alert" {
                    @if safe_next(next).contains("problem=") {
                        "登录已过期，刚才提交的内容尚未记录，已为您保留。请重新登录，登录后回到该页面核对再提交。"
                        br; span lang="en" { "Your sign-in expired; what you sent was not recorded but is kept. Sign in again to check it and submit." }
                    } @else {
                        "登录已过期，请重新登录，登录后回到刚才的页面（在其他设备注销时，刚才未提交的内容不予保留）。"
                        br; span lang="en" { "Your sign-in expired; sign in again to return to the page you were on (after a sign-out elsewhere, what was not yet submitted is not kept)." }
                    }
                }
            }
            form method="post" action="/console/login" {
                input type="hidden" name="next" value=(safe_next(next));
                label { "账号" input name="user_id" autocomplete="username" required value=(user_id) autofocus; }
                label { "密码" input name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { "登录" }
            }
            p.muted { "与手机端使用同一账号。" }
        }
    }
}

fn login_page_with(status: StatusCode, form: Markup) -> Page {
    Page::new(status, document("登录", None, "", form))
}

pub async fn login_page(Query(q): Query<LoginQuery>) -> Page {
    let next = q.next.as_deref().unwrap_or("/console/");
    login_page_with(
        StatusCode::OK,
        login_form(None, "", q.out.is_some(), q.expired.is_some(), next),
    )
}

/// Did a reverse proxy say the browser reached it over TLS (`X-Forwarded-Proto: https`)?
fn behind_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// Whether a sign-in form was posted from this console's own page: a browser names the page's
/// origin, which must be this host. (A form posted from another site could sign the office PC
/// in to an account of the attacker's, whose work the officer would then do. A client that
/// names no origin is no browser on another site.)
fn same_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, a)| a);
    // Behind a proxy the host the browser used is `Host` when the proxy passes it on (as
    // deploy.md's does), or `X-Forwarded-Host`.
    let named = |name: &str| headers.get(name).and_then(|h| h.to_str().ok());
    authority.is_some_and(|a| {
        [named("host"), named("x-forwarded-host")]
            .into_iter()
            .flatten()
            .any(|h| a.eq_ignore_ascii_case(h))
    })
}

pub async fn login(
    State(b): State<Shared>,
    ClientAddr(client): ClientAddr,
    Extension(config): Extension<Config>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let fail = |e: ApiError, user: &str, next: &str| {
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED);
        login_page_with(status, login_form(Some(&e), user, false, false, next)).into_response()
    };
    if !same_site(&headers) {
        return fail(
            ApiError::new(
                403,
                "other_site",
                "登录请求来自其他网站，请直接打开本系统的登录页",
                "the sign-in came from another site; open this console's sign-in page itself",
            ),
            "",
            "/console/",
        );
    }
    let Ok(Form(f)) = form else {
        return fail(ApiError::bad_credentials(), "", "/console/");
    };
    let user = f.user_id.clone();
    let next = safe_next(&f.next).to_string();
    let res = tokio::task::spawn_blocking(move || {
        // A token only the console accepts, for a device of this browser's own.
        b.console_login(&f.user_id, &f.password, client)
    })
    .await
    .unwrap_or_else(|_| Err(ApiError::internal()));
    match res {
        Ok(token) => {
            // The browser forgets the sign-in when it ends on the server. Behind a TLS proxy
            // that says so, the cookie is Secure.
            let secure = if behind_tls(&headers) { "; Secure" } else { "" };
            let cookie = format!(
                "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                config.session_seconds
            );
            let mut res = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => fail(e, &user, &next),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(b): State<Shared>,
    me: Me,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, Refused> {
    let Form(f) = form.map_err(|_| ApiError::bad_request("csrf"))?;
    me.check_csrf(&f.csrf)?;
    blocking(move || Ok(b.revoke(&me.token)?)).await?;
    let mut res = Redirect::to("/console/login?out=1").into_response();
    let expired = format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&expired) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}
