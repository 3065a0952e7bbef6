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

mod chart;
mod pages;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use gridpatrol_core::clock::{Day, MS_PER_DAY};
use gridpatrol_core::org::{Actor, OrgLevel, OrgNode, Role};
use gridpatrol_core::Store;
use serde::Deserialize;
use uuid::Uuid;

use crate::backend::{ApiError, Backend, Session};
use crate::serve::token_hash;

type Shared = Arc<dyn Backend>;

const COOKIE: &str = "gp_console";
const CSS: &str = include_str!("assets/console.css");

/// The console's routes, to be merged into the server's router (which adds the shared
/// sign-in limit per client address as an extension).
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(pages::dashboard))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/assets/console.css", get(css))
        .route("/console/escalations", get(pages::escalations))
        .route("/console/hazards", get(pages::hazards))
        .route("/console/hazards/{id}", get(pages::hazard))
        .route("/console/hazards/{id}/act", post(pages::act))
        .route("/console/photos/{hash}", get(pages::photo))
        .route("/console/coverage", get(pages::coverage))
        .route("/console/exports", get(pages::exports))
        .route("/console/export/ledger", get(pages::export_ledger))
        .route("/console/export/annual", get(pages::export_annual))
        .route("/console/annual", get(pages::annual))
        .route("/console/conflicts", get(pages::conflicts))
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

/// HTML-escapes text for element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query value.
pub(crate) fn url(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A page the console answers with, or an error page; both are complete HTML documents.
pub(crate) struct Page {
    status: StatusCode,
    body: String,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut res = (self.status, Html(self.body)).into_response();
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
    /// Not signed in (or the session ended): back to the sign-in page.
    SignIn,
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
            Refused::Error(e) if e.status == 401 => Redirect::to("/console/login").into_response(),
            Refused::Error(e) => {
                let status =
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let body = format!(
                    "<h1>{}</h1><p class=\"msg error\" role=\"alert\">{}<br><span lang=\"en\">{}</span></p>\
                     <p><a href=\"/console/\">返回概览 / Back to the dashboard</a></p>",
                    status.as_u16(),
                    esc(&e.zh),
                    esc(&e.en)
                );
                Page {
                    status,
                    body: document("出错了 / Error", None, "", &body),
                }
                .into_response()
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

/// The signed-in user of a console request, with the token's derived form key. As an
/// extractor it signs the request in from its cookie, or sends the browser to sign in.
pub(crate) struct Me {
    pub session: Session,
    pub csrf: String,
    token: String,
}

impl Me {
    pub fn actor(&self) -> &Actor {
        &self.session.user
    }

    /// A hidden form field proving the form came from a console page.
    pub fn csrf_field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            self.csrf
        )
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
        let b = b.clone();
        blocking(move || {
            // An unknown or revoked token answers 401, which sends the browser to sign in; a
            // failing database is an error page, not a sign-in form.
            let session = b.authenticate(&token)?;
            // A sign-in lasts as long on the server as in the cookie; a stale token is revoked
            // so that it cannot be used again.
            if b.now_ms() - session.issued_at_ms > i64::from(lasts) * 1000 {
                b.revoke(&token)?;
                return Err(Refused::SignIn);
            }
            Ok(Me {
                session,
                csrf: token_hash(&format!("csrf:{token}")),
                token,
            })
        })
        .await
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
        let tree = Tree::load(store)?;
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

#[derive(Deserialize)]
struct LoginForm {
    user_id: String,
    password: String,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    #[serde(default)]
    out: Option<String>,
}

fn login_form(error: Option<&ApiError>, user_id: &str, signed_out: bool) -> String {
    let mut s = String::from("<div class=\"login card\"><h1>网格消防巡查 · 乡镇工作台<br><small class=\"muted\">GridPatrol township console</small></h1>");
    if let Some(e) = error {
        let _ = write!(
            s,
            "<p class=\"msg error\" role=\"alert\">{}<br><span lang=\"en\">{}</span></p>",
            esc(&e.zh),
            esc(&e.en)
        );
    } else if signed_out {
        s.push_str("<p class=\"msg ok\" role=\"status\">已退出 / Signed out</p>");
    }
    let _ = write!(
        s,
        "<form method=\"post\" action=\"/console/login\">\
         <label>账号 / User ID<input name=\"user_id\" autocomplete=\"username\" required value=\"{}\" autofocus></label>\
         <label>密码 / Password<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">登录 / Sign in</button></form>\
         <p class=\"muted\">与手机端使用同一账号。/ The same account as on the phone.</p></div>",
        esc(user_id)
    );
    s
}

async fn login_page(Query(q): Query<LoginQuery>) -> Page {
    Page {
        status: StatusCode::OK,
        body: document(
            "登录 / Sign in",
            None,
            "",
            &login_form(None, "", q.out.is_some()),
        ),
    }
}

/// Did a reverse proxy say the browser reached it over TLS (`X-Forwarded-Proto: https`)?
fn behind_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

async fn login(
    State(b): State<Shared>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    Extension(config): Extension<Config>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let fail = |e: ApiError, user: &str| {
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED);
        Page {
            status,
            body: document(
                "登录 / Sign in",
                None,
                "",
                &login_form(Some(&e), user, false),
            ),
        }
        .into_response()
    };
    let Ok(Form(f)) = form else {
        return fail(ApiError::bad_credentials(), "");
    };
    let user = f.user_id.clone();
    let res = tokio::task::spawn_blocking(move || {
        // Each browser sign-in is a device of its own, so signing out revokes only it.
        b.login(&f.user_id, &f.password, Uuid::new_v4(), client.ip())
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
            let mut res = Redirect::to("/console/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => fail(e, &user),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
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

/// The navigation, with the current page marked for assistive technology.
const NAV: [(&str, &str); 6] = [
    ("/console/", "概览 Dashboard"),
    ("/console/escalations", "上报待办 Escalations"),
    ("/console/hazards", "隐患 Hazards"),
    ("/console/coverage", "巡查覆盖 Coverage"),
    ("/console/exports", "台账导出 Exports"),
    ("/console/conflicts", "冲突与退回 Conflicts"),
];

/// A whole HTML document: the header with navigation (when signed in), then `body`.
pub(crate) fn document(title: &str, signed_in: Option<&View>, current: &str, body: &str) -> String {
    let mut s = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · 网格消防巡查</title><link rel=\"stylesheet\" href=\"/console/assets/console.css\">\
         </head><body><a class=\"skip\" href=\"#main\">跳到正文 / Skip to content</a>\
         <header class=\"top\"><div class=\"bar\"><span class=\"brand\">网格消防巡查 · 工作台</span>",
        esc(title)
    );
    if let Some(v) = signed_in {
        let me = v.me;
        let name = v
            .store
            .user(&me.actor().user_id)
            .map_or_else(|_| me.actor().user_id.clone(), |u| u.name);
        s.push_str("<nav aria-label=\"主导航 / Main\">");
        for (href, label) in NAV {
            let cur = if href == current {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(s, "<a href=\"{href}\"{cur}>{label}</a>");
        }
        let _ = write!(
            s,
            "</nav><div class=\"who\"><span>{}（{}）</span>\
             <form method=\"post\" action=\"/console/logout\">{}<button type=\"submit\">退出 / Sign out</button></form></div>",
            esc(&name),
            me.actor().role.zh(),
            me.csrf_field()
        );
    }
    let _ = write!(
        s,
        "</div></header><main id=\"main\" tabindex=\"-1\">{body}</main></body></html>"
    );
    s
}

pub(crate) fn page(title: &str, v: &View, current: &str, body: &str) -> Page {
    Page {
        status: StatusCode::OK,
        body: document(title, Some(v), current, body),
    }
}

/// The org tree as the server's records hold it, for naming nodes and cutting scope.
pub(crate) struct Tree {
    nodes: HashMap<String, OrgNode>,
    children: BTreeMap<String, Vec<String>>,
}

impl Tree {
    pub fn load(store: &Store) -> gridpatrol_core::Result<Tree> {
        let mut nodes = HashMap::new();
        let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for level in [
            OrgLevel::County,
            OrgLevel::Township,
            OrgLevel::Village,
            OrgLevel::Grid,
        ] {
            for n in store.org_nodes(level)? {
                if let Some(p) = &n.parent_id {
                    children.entry(p.clone()).or_default().push(n.id.clone());
                }
                nodes.insert(n.id.clone(), n);
            }
        }
        for v in children.values_mut() {
            v.sort();
        }
        Ok(Tree { nodes, children })
    }

    pub fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.nodes.get(id).map_or(id, |n| n.name.as_str())
    }

    pub fn children(&self, id: &str) -> Vec<&OrgNode> {
        self.children
            .get(id)
            .map(|c| c.iter().filter_map(|id| self.nodes.get(id)).collect())
            .unwrap_or_default()
    }

    pub fn grids_under(&self, id: &str) -> Vec<String> {
        match self.nodes.get(id) {
            Some(n) if n.level == OrgLevel::Grid => vec![n.id.clone()],
            Some(_) => self
                .children(id)
                .iter()
                .flat_map(|c| self.grids_under(&c.id))
                .collect(),
            None => Vec::new(),
        }
    }

    /// The village a grid belongs to.
    pub fn village_of(&self, grid: &str) -> Option<&str> {
        self.nodes.get(grid).and_then(|n| n.parent_id.as_deref())
    }

    /// The nodes wholly inside `actor`'s scope (every grid under them is theirs) and not above
    /// the level their role answers for, broadest first: what they may choose for a dashboard
    /// or an export. (A township officer of the county's only township sees the township, not
    /// the county.)
    pub fn scopes(&self, actor: &Actor) -> Vec<&OrgNode> {
        let top = actor.role.anchor_level();
        let mut out: Vec<&OrgNode> = self
            .nodes
            .values()
            .filter(|n| {
                if n.level < top {
                    return false;
                }
                let grids = self.grids_under(&n.id);
                !grids.is_empty() && grids.iter().all(|g| actor.covers(g))
            })
            .collect();
        out.sort_by(|a, b| a.level.cmp(&b.level).then(a.id.cmp(&b.id)));
        out
    }

    /// `requested` when it is within scope, else the broadest node that is.
    pub fn scope_for<'a>(
        &'a self,
        actor: &Actor,
        requested: Option<&str>,
    ) -> Result<&'a OrgNode, ApiError> {
        let scopes = self.scopes(actor);
        match requested.filter(|r| !r.is_empty()) {
            Some(r) => scopes
                .into_iter()
                .find(|n| n.id == r)
                .ok_or_else(not_visible),
            None => scopes.into_iter().next().ok_or_else(|| {
                ApiError::new(
                    403,
                    "no_scope",
                    "您的账号尚未分配负责范围",
                    "your account has no area assigned",
                )
            }),
        }
    }
}

/// A period from the query (`YYYY-MM-DD`), defaulting to this year so far.
pub(crate) fn period(
    from: Option<&str>,
    to: Option<&str>,
    today: Day,
) -> Result<(Day, Day), ApiError> {
    let parse = |s: Option<&str>, default: Day| -> Result<Day, ApiError> {
        match s.filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(s) => s.parse().map_err(|_| {
                ApiError::new(
                    400,
                    "bad_date",
                    &format!(
                        "日期格式不正确：{}（应为 年-月-日）",
                        s.chars().take(20).collect::<String>()
                    ),
                    "dates are written YYYY-MM-DD",
                )
            }),
        }
    };
    let year_start: Day = format!("{}-01-01", &today.to_string()[..4])
        .parse()
        .unwrap_or(today);
    let (from, to) = (parse(from, year_start)?, parse(to, today)?);
    if to < from {
        return Err(ApiError::new(
            400,
            "bad_period",
            "结束日期早于开始日期",
            "the period ends before it starts",
        ));
    }
    Ok((from, to))
}

/// A moment as the township reads it (China Standard Time), to the minute.
pub(crate) fn when(ms: i64) -> String {
    let day = Day::from_ms(ms);
    let minutes = (ms - day.start_ms()).rem_euclid(MS_PER_DAY) / 60_000;
    format!("{day} {:02}:{:02}", minutes / 60, minutes % 60)
}

/// Users' names by id, for timelines and lists (an unknown id shows as itself).
pub(crate) fn names(store: &Store) -> gridpatrol_core::Result<HashMap<String, (String, Role)>> {
    Ok(store
        .users()?
        .into_iter()
        .map(|(id, name, role)| (id, (name, role)))
        .collect())
}

/// A user by name and role, escaped (an unknown id shows as itself).
pub(crate) fn person(names: &HashMap<String, (String, Role)>, id: &str) -> String {
    names
        .get(id)
        .map_or(esc(id), |(n, r)| format!("{}（{}）", esc(n), r.zh()))
}

pub(crate) fn pct(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{:.1}%", v * 100.0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(url("青石 镇&x=1"), "%E9%9D%92%E7%9F%B3%20%E9%95%87%26x%3D1");
    }

    #[test]
    fn a_period_defaults_to_the_year_so_far_and_refuses_nonsense() {
        let today: Day = "2026-11-29".parse().unwrap();
        let (from, to) = period(None, None, today).unwrap();
        assert_eq!((from.to_string(), to), ("2026-01-01".to_string(), today));
        assert_eq!(
            period(Some("2026-13-01"), None, today).unwrap_err().code,
            "bad_date"
        );
        assert_eq!(
            period(Some("2026-05-02"), Some("2026-05-01"), today)
                .unwrap_err()
                .code,
            "bad_period"
        );
    }

    #[test]
    fn times_read_in_china_standard_time() {
        // 2026-01-01T00:30:00Z is 08:30 in Beijing.
        assert_eq!(when(1_767_227_400_000), "2026-01-01 08:30");
    }
}
