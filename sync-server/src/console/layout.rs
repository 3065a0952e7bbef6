//! The frame of every console page: the document head with the one stylesheet, the skip link,
//! the header with the main navigation and the signed-in user (with sign-out), the main
//! region, and the error page that answers a refused request.

use axum::http::StatusCode;
use gridpatrol_core::org::Role;
use maud::{html, Markup, DOCTYPE};

use super::{ApiError, Page, View};

/// The navigation, with the current page marked for assistive technology.
const NAV: [(&str, &str); 7] = [
    ("/console/", "概览"),
    ("/console/escalations", "上报待办"),
    ("/console/hazards", "隐患"),
    ("/console/coverage", "巡查覆盖"),
    ("/console/registers", "台账登记"),
    ("/console/exports", "台账导出"),
    ("/console/conflicts", "冲突与退回"),
];

/// The administration entry, for township officers and village leaders.
const ADMIN: (&str, &str) = ("/console/admin/places", "管理");

/// A whole HTML document: the header with navigation (when signed in), then `body`.
pub(crate) fn document(
    title: &str,
    signed_in: Option<&View>,
    current: &str,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(&format!("{title} · 网格消防巡查")))
            body {
                a.skip href="#main" { "跳到正文" }
                header.top {
                    div.bar {
                        span.brand { "网格消防巡查 · 工作台" }
                        @if let Some(v) = signed_in { (signed_in_bar(v, current)) }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// The document head every console page shares: the one stylesheet, a phone's viewport.
pub(crate) fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            link rel="stylesheet" href="/console/assets/console.css";
        }
    }
}

/// The navigation and who is signed in, with the sign-out button.
fn signed_in_bar(v: &View, current: &str) -> Markup {
    let me = v.me;
    let name = v
        .store
        .user(&me.actor().user_id)
        .map_or_else(|_| me.actor().user_id.clone(), |u| u.name);
    html! {
        nav aria-label="主导航" {
            @for (href, label) in NAV {
                a href=(href) aria-current=[(href == current).then_some("page")] { (label) }
            }
            @if matches!(me.actor().role, Role::TownshipOfficer | Role::VillageLeader) {
                a href=(ADMIN.0) aria-current=[current.starts_with("/console/admin/").then_some("page")] { (ADMIN.1) }
            }
        }
        div.who {
            span { (name) "（" (me.actor().role.zh()) "）" }
            form method="post" action="/console/logout" {
                (me.csrf_field())
                button type="submit" { "退出" }
            }
        }
    }
}

/// A signed-in page: `body` in the frame, with `current` marked in the navigation.
pub(crate) fn page(title: &str, v: &View, current: &str, body: Markup) -> Page {
    Page::new(StatusCode::OK, document(title, Some(v), current, body))
}

/// A message in zh-CN with its English beside it, as an alert.
pub(crate) fn alert(zh: &str, en: &str) -> Markup {
    html! {
        p.msg.error role="alert" { (zh) br; span lang="en" { (en) } }
    }
}

/// The page answering a request that was refused: its status and why.
pub(crate) fn error_page(status: StatusCode, e: &ApiError) -> Markup {
    let body = html! {
        h1 { (status.as_u16()) }
        (alert(&e.zh, &e.en))
        p { a href="/console/" { "返回概览" } }
    };
    document("出错了", None, "", body)
}
