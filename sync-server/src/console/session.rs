//! Who a console request is from: the sign-in cookie read back into the user's session (or a
//! trip to the sign-in page), and the form key derived from its token that every form posts
//! back, so another site cannot post for the user.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use gridpatrol_core::org::Actor;
use maud::{html, Markup};

use super::{blocking, token_hash, ApiError, Config, Refused, Session, Shared};

/// The sign-in cookie's name.
pub(crate) const COOKIE: &str = "gp_console";

/// The signed-in user of a console request, with the token's derived form key. As an
/// extractor it signs the request in from its cookie, or sends the browser to sign in.
pub(crate) struct Me {
    pub session: Session,
    pub csrf: String,
    pub(crate) token: String,
}

impl Me {
    pub fn actor(&self) -> &Actor {
        &self.session.user
    }

    /// A hidden form field proving the form came from a console page.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }

    pub fn check_csrf(&self, sent: &str) -> Result<(), ApiError> {
        if sent == self.csrf {
            Ok(())
        } else {
            Err(ApiError::new(
                403,
                "csrf",
                "表单已过期，请刷新页面后重试",
                "the form has expired; reload the page and try again",
            ))
        }
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|t| !t.is_empty() && t.len() <= 128)
}

impl FromRequestParts<Shared> for Me {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, b: &Shared) -> Result<Me, Refused> {
        let lasts = parts
            .extensions
            .get::<Config>()
            .copied()
            .unwrap_or_default()
            .session_seconds;
        let token = cookie_token(&parts.headers).ok_or(Refused::SignIn)?;
        // Where to come back to after signing in again: the page asked for, or for a form sent
        // the page that held it.
        let next = if parts.method == axum::http::Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or("/console/".into(), |p| p.as_str().to_string())
        } else {
            parts
                .headers
                .get(axum::http::header::REFERER)
                .and_then(|r| r.to_str().ok())
                .and_then(|r| r.find("/console/").map(|i| r[i..].to_string()))
                .unwrap_or_else(|| "/console/".into())
        };
        let expired = move |user: Option<String>| Refused::Expired { next, user };
        // A first password is changed before anything else (signing out still works).
        let anywhere = matches!(parts.uri.path(), "/console/password" | "/console/logout");
        let b = b.clone();
        let me = blocking(move || {
            // An unknown or revoked token, or a phone's, answers 401, which sends the browser
            // to sign in; a failing database is an error page, not a sign-in form.
            let session = match b.console_session(&token) {
                Ok(s) => s,
                Err(e) if e.status == 401 => return Err(expired(None)),
                Err(e) => return Err(e.into()),
            };
            // A sign-in lasts as long on the server as in the cookie; a stale token is revoked
            // so that it cannot be used again.
            if b.now_ms() - session.issued_at_ms > i64::from(lasts) * 1000 {
                b.revoke(&token)?;
                return Err(expired(Some(session.user.user_id.clone())));
            }
            if !anywhere && b.must_change_password(&session.user.user_id)? {
                return Err(Refused::ChangePassword);
            }
            Ok(Me {
                session,
                csrf: token_hash(&format!("csrf:{token}")),
                token,
            })
        })
        .await?;
        if let Some(who) = parts.extensions.get::<crate::log::RequestUser>() {
            who.set(&me.session.user.user_id);
        }
        Ok(me)
    }
}
