//! A hazard's case page: its facts, its photos, the forms of what the user may do with it now
//! (see `actions`), and its timeline; and the photos themselves, served within the user's
//! scope.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use gridpatrol_core::checklist::library;
use gridpatrol_core::hazard::{EventRow, HazardEvent};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::actions::{action_form, draft_owner, Problem, CONSOLE_VERBS, DRAFTS, PROBLEMS};
use crate::console::components::{overdue_badge, severity_badge};
use crate::console::labels::{event_text, verb_name, PHOTO_AFTER, PHOTO_BEFORE, PHOTO_FOUND};
use crate::console::layout::{alert, page};
use crate::console::values::Typed;
use crate::console::values::{names, person, when};
use crate::console::{
    blob_name, blocking, not_visible, view, ApiError, Me, Page, Refused, Shared, View,
};
use gridpatrol_core::hazard::case_label;

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    done: Option<String>,
    /// The key of a refused action's note (`actions::PROBLEMS`) or of a kept draft (`actions::DRAFTS`).
    problem: Option<String>,
}

pub(super) fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| not_visible())
}

/// The photos a hazard's events cite, each with what it shows.
fn photos_of(events: &[EventRow]) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for e in events.iter().filter(|e| e.conflict.is_none()) {
        match &e.event {
            HazardEvent::Report(r) => out.extend(r.photos.iter().map(|p| (p.clone(), PHOTO_FOUND))),
            HazardEvent::SubmitRectification { photos, .. } => {
                out.extend(photos.iter().map(|p| (p.clone(), PHOTO_AFTER)))
            }
            HazardEvent::FixOnSpot {
                before_photo,
                after_photo,
                ..
            } => {
                out.extend(before_photo.iter().map(|p| (p.clone(), PHOTO_BEFORE)));
                out.extend(after_photo.iter().map(|p| (p.clone(), PHOTO_AFTER)));
            }
            _ => {}
        }
    }
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The detail page of a hazard in the user's scope.
pub(super) fn detail(
    v: &View,
    id: Uuid,
    done: Option<&str>,
    problem: Option<&Problem>,
) -> Result<Page, Refused> {
    let (b, me, store, tree) = (v.b, v.me, v.store, &v.tree);
    let d = match store.hazard(id) {
        Ok(d) if me.actor().covers(&d.hazard.report.grid_id) => d,
        Ok(_) => return Err(not_visible().into()),
        Err(e) if e.code() == "not_found" => return Err(not_visible().into()),
        Err(e) => return Err(e.into()),
    };
    let h = &d.hazard;
    let who = names(store)?;
    let person = |id: &str| person(&who, id);
    let place = store.place(h.report.place_id).ok();
    let village = tree.village_of(&h.report.grid_id).unwrap_or("");
    let photos: Vec<(String, &str, bool)> = photos_of(&d.events)
        .into_iter()
        .map(|(hash, what)| {
            let held = b
                .blobs()
                .received(&blob_name(&hash, "original"))
                .is_ok_and(|r| r.complete);
            (hash, what, held)
        })
        .collect();
    let allowed = store.allowed_transitions(me.actor(), id)?;
    let offered: Vec<&str> = CONSOLE_VERBS
        .iter()
        .copied()
        .filter(|v| allowed.contains(v))
        .collect();
    let fact = |k: &str, v: Markup| html! { dt { (k) } dd { (v) } };

    let body = html! {
        p { a href="/console/hazards" { "← 隐患清单" } }
        h1 { "隐患 " (case_label(h.case_number.as_deref(), &h.id)) " · " (library().category_zh(&h.report.category)) }
        p.docs {
            a href={ "/console/hazards/" (h.id) "/notice" } { "整改通知书" }
            @if d.events.iter().any(|e| e.conflict.is_none() && matches!(e.event, gridpatrol_core::hazard::HazardEvent::Review { .. })) {
                " · " a href={ "/console/hazards/" (h.id) "/notice?doc=review" } { "复查意见书" }
            }
        }
        @if let Some(verb) = done {
            p.msg.ok role="status" {
                "已记录「" (verb_name(verb)) "」，网格员手机下次同步时即可看到。"
            }
        }
        // The reason is shown in the form, beside what to correct, when the form is here.
        @if let Some(p) = problem {
            @if offered.contains(&p.verb.as_str()) {
                (alert(
                    &format!("「{}」未能记录，请看下方表单中的说明。", verb_name(&p.verb)),
                    "Not recorded; see the form below.",
                ))
            } @else {
                (alert(
                    &format!("「{}」未能记录：{}", verb_name(&p.verb), p.error.zh),
                    &format!("Not recorded: {}", p.error.en),
                ))
            }
        }
        div.grid2 {
            section.card {
                h2 { "基本情况" }
                dl.facts {
                    (fact("状态", html! {
                        (h.status.zh()) "（" (h.level.zh()) "）"
                        @if h.supervised { " " span.badge.supervised { "挂牌督办" } }
                        @if let Some(n) = d.days_overdue { " " (overdue_badge(n)) }
                    }))
                    (fact("严重程度", severity_badge(h.severity)))
                    (fact("描述", html! { (Typed(&h.report.description)) }))
                    @if let Some(p) = &place {
                        (fact("场所", html! {
                            (p.place.name) "（" (library().place_type_zh(&p.place.place_type)) "）"
                            br; (p.place.address)
                        }))
                        (fact("责任人", html! {
                            (p.place.responsible_name) " " (p.place.responsible_phone.as_deref().unwrap_or(""))
                        }))
                    }
                    (fact("村 / 网格", html! {
                        (tree.name(village)) " / " (tree.name(&h.report.grid_id))
                    }))
                    @if let Some(l) = h.report.location {
                        (fact("位置", html! { (format!("{:.5}, {:.5}", l.lat, l.lon)) }))
                    }
                    (fact("发现", html! { (when(h.reported_at)) " " (person(&h.reporter_id)) }))
                    (fact("整改期限", html! {
                        @match h.deadline { Some(d) => (d), None => "—" }
                    }))
                    @if let Some(p) = &h.responsible_party {
                        (fact("整改责任方", html! { (p) }))
                    }
                    @if let Some(r) = &h.referral {
                        (fact("移交", html! { (r.department) "，案号 " (r.case_number) }))
                    }
                    @if let Some(reason) = d.escalation_due {
                        (fact("应当上报", html! { (reason.zh()) }))
                    }
                    @if !d.repeat_of.is_empty() {
                        (fact("重复隐患", html! { "同一场所同类隐患半年内曾销号" }))
                    }
                }
            }
            section.card {
                h2 { "照片" }
                @if photos.is_empty() {
                    p.muted { "没有照片" }
                } @else {
                    div.photos {
                        @for (hash, what, held) in &photos {
                            figure {
                                @if *held {
                                    a href={ "/console/photos/" (hash) "?variant=display" } {
                                        img src={ "/console/photos/" (hash) "?variant=thumb" } alt={ "隐患照片：" (what) };
                                    }
                                } @else {
                                    div.nophoto { "照片尚未上传" br; "not uploaded yet" }
                                }
                                figcaption { (what) }
                            }
                        }
                    }
                }
            }
        }
        section.actions {
            h2 { "处理" }
            @if offered.is_empty() {
                p.muted { "您在本阶段没有可在工作台办理的操作。" }
            }
            @for verb in &offered {
                (action_form(
                    verb,
                    h,
                    tree.name(&h.report.grid_id),
                    me,
                    problem.filter(|p| p.verb == *verb),
                    store.today(),
                ))
            }
        }
        section {
            h2 { "处理经过" }
            ol.timeline {
                @for e in &d.events {
                    li class=[e.conflict.is_some().then_some("conflict")] {
                        strong { (verb_name(e.event.verb())) }
                        " · " (when(e.hlc.wall_ms())) " · " (person(&e.actor_id))
                        br; (Typed(&event_text(&e.event)))
                        @if let Some(c) = &e.conflict {
                            br; strong { "未生效（冲突）" } " " (c.zh())
                        }
                    }
                }
            }
        }
    };
    let mut p = page("隐患详情", v, "/console/hazards", body);
    // A refused action's page says so in its status; a draft kept over a new sign-in is
    // just the page.
    if let Some(pr) = problem.filter(|pr| pr.error.status != 401) {
        p.status = StatusCode::from_u16(pr.error.status).unwrap_or(StatusCode::BAD_REQUEST);
    }
    Ok(p)
}

pub async fn hazard(
    State(b): State<Shared>,
    me: Me,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Page, Refused> {
    view(b, me, move |v| {
        let id = parse_id(&id)?;
        let problem = q.problem.as_deref().and_then(|k| {
            PROBLEMS
                .get(&v.me.csrf, k)
                .or_else(|| DRAFTS.get(&draft_owner(&v.me.actor().user_id, id), k))
        });
        detail(v, id, q.done.as_deref(), problem.as_ref())
    })
    .await
}

#[derive(Deserialize)]
pub struct PhotoQuery {
    variant: Option<String>,
}

/// A photo in the user's scope: the variant asked for, else the original (a phone may not
/// have sent its smaller copies yet).
pub async fn photo(
    State(b): State<Shared>,
    me: Me,
    Path(hash): Path<String>,
    Query(q): Query<PhotoQuery>,
) -> Result<Response, Refused> {
    blocking(move || {
        b.photo_access(&me.session, &hash)?;
        let variant = q
            .variant
            .as_deref()
            .filter(|v| matches!(*v, "thumb" | "display"))
            .unwrap_or("original");
        let bytes = b
            .blobs()
            .read(&blob_name(&hash, variant))
            .or_else(|_| b.blobs().read(&blob_name(&hash, "original")))
            .map_err(|_| {
                ApiError::new(
                    404,
                    "photo_missing",
                    "照片尚未上传到服务器",
                    "the photo has not reached the server yet",
                )
            })?;
        Ok((
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "private, max-age=86400"),
            ],
            bytes,
        )
            .into_response())
    })
    .await
}
