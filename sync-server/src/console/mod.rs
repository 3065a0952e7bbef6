//! The township console under `/console/`: the web pages the township office, village leaders
//! and brigade advisors work in, served by the sync server from the same records the phones
//! sync. Pages are rendered here as plain HTML (no script, no external asset: offices may have
//! no internet), styled by one stylesheet built into the binary.
//!
//! A browser signs in with the same accounts as a phone and gets a device token like a phone,
//! kept in an HttpOnly, SameSite=Strict cookie; every form carries a token derived from it, so
//! another site cannot post on the user's behalf. What a page shows is cut to the user's scope
//! from the server's records; what a user does goes through the op log as a lifecycle event
//! recorded by the server's own device for that user, checked by the same rules as a pushed
//! op, so it reaches phones at their next sync.
//!
//! Every page is a maud template: markup is written as Rust, checked when the server compiles,
//! and every value spliced into it is escaped, so nothing a phone typed can become markup.
//! This module owns the routes, the request plumbing shared by every page (the response
//! headers, the error answer, reading the fold off the async runtime) and the one place the
//! console reaches into the rest of the server: what it needs of storage, sign-in and photos
//! is re-exported here for the page modules.

mod chart;
mod components;
mod flash;
mod labels;
mod layout;
mod pages;
mod scope;
mod session;
mod values;

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gridpatrol_core::Store;
use maud::Markup;

pub(crate) use crate::backend::{ApiError, Backend, RefusalKey, RefusalQuery, Session};
pub(crate) use crate::blobs::blob_name;
pub(crate) use crate::serve::token_hash;
pub(crate) use scope::Tree;
pub(crate) use session::Me;

type Shared = Arc<dyn Backend>;

const CSS: &str = include_str!("assets/console.css");

/// The console's routes, to be merged into the server's router (which adds the shared
/// sign-in limit per client address as an extension).
pub fn routes() -> Router<Shared> {
    use pages::*;
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(dashboard::dashboard))
        .route("/console/login", get(login::login_page).post(login::login))
        .route("/console/logout", post(login::logout))
        .route("/console/assets/console.css", get(css))
        .route("/console/escalations", get(escalations::escalations))
        .route("/console/hazards", get(hazards::hazards))
        .route("/console/hazards/{id}", get(hazard::hazard))
        .route("/console/hazards/{id}/act", post(actions::act))
        .route("/console/hazards/{id}/notice", get(notice::notice))
        .route("/console/photos/{hash}", get(hazard::photo))
        .route("/console/coverage", get(coverage::coverage))
        .route("/console/registers", get(registers::registers))
        .route(
            "/console/registers/withdraw-fire",
            post(registers::withdraw_fire),
        )
        .route("/console/exports", get(exports::exports))
        .route("/console/export/ledger", get(exports::export_ledger))
        .route("/console/export/annual", get(annual::export_annual))
        .route("/console/annual", get(annual::annual))
        .route("/console/conflicts", get(conflicts::conflicts))
        .route(
            "/console/password",
            get(password::password_page).post(password::change),
        )
        .route(
            "/console/admin/import",
            get(import::import_page).post(import::upload),
        )
        .route("/console/admin/import/template.xlsx", get(import::template))
        .route(
            "/console/admin/areas",
            get(admin::areas::areas).post(admin::areas::change),
        )
        .route(
            "/console/admin/people",
            get(admin::people::people).post(admin::people::change),
        )
        .route(
            "/console/admin/places",
            get(admin::places::places).post(admin::places::add),
        )
        .route(
            "/console/admin/places/{id}",
            get(admin::places::place).post(admin::places::change),
        )
        .route(
            "/console/admin/campaigns",
            get(admin::campaigns::campaigns).post(admin::campaigns::change),
        )
        .route(
            "/console/admin/plans",
            get(admin::plans::plans).post(admin::plans::change),
        )
        .route(
            "/console/admin/checklists",
            get(admin::checklists::checklists),
        )
        .route(
            "/console/admin/checklists/{id}",
            get(admin::checklists::checklist).post(admin::checklists::publish),
        )
        .route(
            "/console/export/campaign/{id}",
            get(admin::campaigns::export),
        )
        .route("/console/{*rest}", get(not_found_page))
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// A page the console answers with, or an error page; both are complete HTML documents.
pub(crate) struct Page {
    status: StatusCode,
    body: Markup,
}

impl Page {
    pub fn new(status: StatusCode, body: Markup) -> Page {
        Page { status, body }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut res = (self.status, self.body).into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        h.insert(
            header::HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
        res
    }
}

/// Why a console request did not get its page.
pub(crate) enum Refused {
    /// Not signed in: to the sign-in page.
    SignIn,
    /// The sign-in ended (expired or revoked): to the sign-in page, which says so, and after
    /// it back to `next` (the page the person was on).
    Expired {
        next: String,
        /// Whose sign-in ran out, when the server still knows (a revoked one it does not).
        user: Option<String>,
    },
    /// Signed in with a first password: to the page that changes it.
    ChangePassword,
    Error(ApiError),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Refused::Error(e)
    }
}

impl From<gridpatrol_core::Error> for Refused {
    fn from(e: gridpatrol_core::Error) -> Self {
        Refused::Error(e.into())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::SignIn => Redirect::to("/console/login").into_response(),
            Refused::Expired { next, .. } => Redirect::to(&format!(
                "/console/login?expired=1&next={}",
                values::url(&next)
            ))
            .into_response(),
            Refused::ChangePassword => Redirect::to("/console/password").into_response(),
            Refused::Error(e) if e.status == 401 => Redirect::to("/console/login").into_response(),
            Refused::Error(e) => {
                let status =
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Page::new(status, layout::error_page(status, &e)).into_response()
            }
        }
    }
}

pub(crate) fn not_visible() -> ApiError {
    ApiError::new(
        404,
        "not_found",
        "没有这条记录，或不在您的负责范围内",
        "no such record, or it is outside your area",
    )
}

async fn not_found_page() -> Refused {
    Refused::Error(ApiError::new(
        404,
        "not_found",
        "没有这个页面",
        "no such page",
    ))
}

/// How the console behaves, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// How long a sign-in lasts (an office PC is often shared).
    pub session_seconds: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_seconds: 12 * 3600,
        }
    }
}

/// What a page is made from: the signed-in user, the records caught up with the log, the org
/// tree, and the backend for what else it needs.
pub(crate) struct View<'a> {
    pub b: &'a Shared,
    pub me: &'a Me,
    pub store: &'a Store,
    pub tree: Tree,
}

/// Makes the page with `f` on the blocking pool.
pub(crate) async fn view<T: Send + 'static>(
    b: Shared,
    me: Me,
    f: impl FnOnce(&View) -> Result<T, Refused> + Send + 'static,
) -> Result<T, Refused> {
    blocking(move || {
        let store = b.records()?;
        let tree = Tree::load(store, &me.actor().user_id)?;
        f(&View {
            b: &b,
            me: &me,
            store,
            tree,
        })
    })
    .await
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Refused> + Send + 'static,
) -> Result<T, Refused> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Refused::Error(ApiError::internal()))?
}
