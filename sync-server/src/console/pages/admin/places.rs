//! The places of the user's area: search them, add one, and on a place's own page correct it,
//! move it to another grid, change its risk level, archive it, or confirm one a grid worker
//! registered on patrol (新增 until then). Each change is a field-wise op, so a grid worker's
//! edit made offline meanwhile is kept; the place's patrols and cases stay with it.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridpatrol_core::checklist::library;
use gridpatrol_core::clock::Day;
use gridpatrol_core::place::{NewPlace, Place, PlaceChanges, PlaceRow, RiskLevel};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::super::LIST_LIMIT;
use super::{admin_nav, choice, get, keepers_only, outcome, read_form, text_input, Sent};
use crate::console::layout::page;
use crate::console::values::url;
use crate::console::{not_visible, view, ApiError, Me, Page, Refused, Shared, View};

const HERE: &str = "/console/admin/places";

#[derive(Deserialize, Default)]
pub struct Search {
    q: Option<String>,
    grid: Option<String>,
    /// `new`: only the places awaiting confirmation.
    only: Option<String>,
    done: Option<String>,
}

pub async fn places(
    State(b): State<Shared>,
    me: Me,
    Query(s): Query<Search>,
) -> Result<Page, Refused> {
    keepers_only(&me)?;
    view(b, me, move |v| render_list(v, &s, &Sent::new(), None)).await
}

pub async fn add(
    State(b): State<Shared>,
    me: Me,
    form: super::Posted,
) -> Result<Response, Refused> {
    keepers_only(&me)?;
    view(b, me, move |v| {
        let sent = read_form(v.me, form)?;
        match add_place(v, &sent) {
            Ok(id) => {
                Ok(Redirect::to(&format!("{HERE}/{id}?done={}", url("新增场所"))).into_response())
            }
            Err(e) if e.status < 500 => {
                Ok(render_list(v, &Search::default(), &sent, Some(&e))?.into_response())
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

pub async fn place(
    State(b): State<Shared>,
    me: Me,
    Path(id): Path<String>,
    Query(d): Query<super::Done>,
) -> Result<Page, Refused> {
    keepers_only(&me)?;
    view(b, me, move |v| {
        let row = visible(v, &id)?;
        render_place(v, &row, &Sent::new(), d.done.as_deref(), None)
    })
    .await
}

pub async fn change(
    State(b): State<Shared>,
    me: Me,
    Path(id): Path<String>,
    form: super::Posted,
) -> Result<Response, Refused> {
    keepers_only(&me)?;
    view(b, me, move |v| {
        let sent = read_form(v.me, form)?;
        let row = visible(v, &id)?;
        let here = format!("{HERE}/{}", row.place.id);
        super::answer(change_place(v, &row.place, &sent), &here, |e| {
            render_place(v, &row, &sent, None, Some(e))
        })
    })
    .await
}

/// A place in the user's area, or not found (whether it exists elsewhere is not said).
fn visible(v: &View, id: &str) -> Result<PlaceRow, ApiError> {
    let id = Uuid::parse_str(id).map_err(|_| not_visible())?;
    let row = v.store.place(id).map_err(|_| not_visible())?;
    if v.me.actor().covers(&row.place.grid_id) {
        Ok(row)
    } else {
        Err(not_visible())
    }
}

fn risk(sent: &Sent) -> Result<RiskLevel, ApiError> {
    Ok(RiskLevel::named(get(sent, "risk")).map_err(gridpatrol_core::Error::from)?)
}

fn phone(sent: &Sent) -> Option<String> {
    Some(get(sent, "phone").to_string()).filter(|p| !p.is_empty())
}

fn add_place(v: &View, sent: &Sent) -> Result<Uuid, ApiError> {
    let new = NewPlace {
        place_type: get(sent, "place_type").to_string(),
        name: get(sent, "name").to_string(),
        address: get(sent, "address").to_string(),
        location: None,
        grid_id: get(sent, "grid").to_string(),
        responsible_name: get(sent, "responsible").to_string(),
        responsible_phone: phone(sent),
        risk_level: risk(sent)?,
        patrol_every_days: None,
    };
    let actor = v.me.actor().clone();
    let mut made = None;
    v.b.act(&mut |s| {
        made = Some(s.create_place(&actor, new.clone())?);
        Ok(())
    })?;
    made.ok_or_else(ApiError::internal)
}

fn change_place(v: &View, held: &Place, sent: &Sent) -> Result<&'static str, ApiError> {
    let (changes, what) = match get(sent, "do") {
        "edit" => {
            let new = Place {
                name: get(sent, "name").to_string(),
                address: get(sent, "address").to_string(),
                grid_id: get(sent, "grid").to_string(),
                responsible_name: get(sent, "responsible").to_string(),
                responsible_phone: phone(sent),
                risk_level: risk(sent)?,
                ..held.clone()
            };
            match PlaceChanges::between(held, &new) {
                Some(c) => (c, "修改场所"),
                None => return Ok("无改动"),
            }
        }
        verb @ ("confirm" | "archive" | "restore") => {
            let mut c = PlaceChanges {
                place_id: held.id,
                ..PlaceChanges::default()
            };
            match verb {
                "confirm" => c.confirmed = Some(true),
                other => c.archived = Some(other == "archive"),
            }
            let what = match verb {
                "confirm" => "确认新增场所",
                "archive" => "场所已归档",
                _ => "场所已恢复",
            };
            (c, what)
        }
        _ => return Err(ApiError::bad_request("do")),
    };
    let actor = v.me.actor().clone();
    v.b.act(&mut |s| s.update_place(&actor, changes.clone()))?;
    Ok(what)
}

/// The grids of the user's area, named with their village.
fn grid_options(v: &View) -> Vec<(String, String)> {
    v.me.actor()
        .grids
        .iter()
        .map(|g| {
            let village = v.tree.village_of(g).unwrap_or_default();
            (
                g.clone(),
                format!("{} / {}", v.tree.name(village), v.tree.name(g)),
            )
        })
        .collect()
}

fn risk_options() -> Vec<(String, String)> {
    RiskLevel::ALL
        .iter()
        .map(|r| (r.code().to_string(), r.zh().to_string()))
        .collect()
}

/// The fields of a place, with what was typed (or `held`'s values).
fn place_fields(v: &View, sent: &Sent, held: Option<&Place>) -> Markup {
    let held_or = |f: fn(&Place) -> String| held.map(f).unwrap_or_default();
    html! {
        (text_input(sent, "name", "名称", &held_or(|p| p.name.clone()), true))
        (text_input(sent, "address", "地址", &held_or(|p| p.address.clone()), false))
        (choice("grid", "网格", &grid_options(v),
            sent.get("grid").map_or_else(|| held_or(|p| p.grid_id.clone()), Clone::clone).as_str()))
        (choice("risk", "风险等级", &risk_options(),
            sent.get("risk").cloned().unwrap_or_else(|| held.map_or(RiskLevel::Medium, |p| p.risk_level).code().to_string()).as_str()))
        (text_input(sent, "responsible", "负责人", &held_or(|p| p.responsible_name.clone()), false))
        (text_input(sent, "phone", "电话", &held_or(|p| p.responsible_phone.clone().unwrap_or_default()), false))
    }
}

fn new_badge(row: &PlaceRow) -> Markup {
    html! { @if row.pending { span.badge.new title="网格员新登记，待确认" { "新增" } } }
}

fn render_list(
    v: &View,
    s: &Search,
    sent: &Sent,
    refused: Option<&ApiError>,
) -> Result<Page, Refused> {
    let q = s.q.as_deref().unwrap_or("").trim();
    let grid = s.grid.as_deref().filter(|g| !g.is_empty());
    let only_new = s.only.as_deref() == Some("new");
    let mut rows: Vec<PlaceRow> = v
        .store
        .places(v.me.actor())?
        .into_iter()
        .filter(|r| grid.is_none_or(|g| r.place.grid_id == g))
        .filter(|r| !only_new || r.pending)
        .filter(|r| {
            q.is_empty()
                || [&r.place.name, &r.place.address, &r.place.responsible_name]
                    .iter()
                    .any(|f| f.contains(q))
        })
        .collect();
    rows.sort_by_key(|r| !r.pending);
    let total = rows.len();
    let pending = rows.iter().filter(|r| r.pending).count();
    let types: Vec<(String, String)> = library()
        .place_types
        .iter()
        .map(|t| (t.code.clone(), t.zh.clone()))
        .collect();
    let grids = grid_options(v);
    let body = html! {
        h1 { "场所" }
        (admin_nav(v.me, HERE))
        (outcome(s.done.as_deref(), refused))
        form.filters method="get" action=(HERE) {
            label { "搜索" input type="search" name="q" value=(q) placeholder="名称、地址或负责人"; }
            (crate::console::components::select("grid", "网格", &grids, grid))
            label { input type="checkbox" name="only" value="new" checked[only_new]; " 只看新增" }
            button type="submit" { "查找" }
        }
        div.scroll { table {
            caption { "共 " (total) " 处，其中新增待确认 " (pending) " 处" @if total > LIST_LIMIT { "（显示前 " (LIST_LIMIT) " 处）" } }
            thead { tr {
                th scope="col" { "名称" } th scope="col" { "类型" } th scope="col" { "地址" }
                th scope="col" { "村 / 网格" } th scope="col" { "风险" } th scope="col" { "负责人" }
                th scope="col" { "下次巡查" }
            } }
            tbody {
                @if rows.is_empty() { tr { td colspan="7" class="muted" { "没有记录" } } }
                @for r in rows.iter().take(LIST_LIMIT) {
                    tr {
                        td { a href={ (HERE) "/" (r.place.id) } { (r.place.name) } " " (new_badge(r)) }
                        td { (library().place_type_zh(&r.place.place_type)) }
                        td { (r.place.address) }
                        td { (v.tree.name(v.tree.village_of(&r.place.grid_id).unwrap_or_default())) " / " (v.tree.name(&r.place.grid_id)) }
                        td { (r.place.risk_level.zh()) }
                        td { (r.place.responsible_name) }
                        td.date { (r.next_due) }
                    }
                }
            }
        } }
        section.card {
            h2 { "新增场所" }
            form.filters method="post" action=(HERE) {
                (v.me.csrf_field())
                (choice("place_type", "类型", &types, get(sent, "place_type")))
                (place_fields(v, sent, None))
                button type="submit" { "新增" }
            }
        }
    };
    Ok(page("场所", v, HERE, body))
}

fn render_place(
    v: &View,
    row: &PlaceRow,
    sent: &Sent,
    done: Option<&str>,
    refused: Option<&ApiError>,
) -> Result<Page, Refused> {
    let p = &row.place;
    let action = format!("{HERE}/{}", p.id);
    let button = |what: &str, label: &str| {
        html! {
            form.inline method="post" action=(action) {
                (v.me.csrf_field())
                input type="hidden" name="do" value=(what);
                button.secondary type="submit" { (label) }
            }
        }
    };
    let body = html! {
        h1 { (p.name) " " (new_badge(row)) @if p.archived { " " span.badge { "已归档" } } }
        (admin_nav(v.me, HERE))
        (outcome(done, refused))
        section.card {
            dl.facts {
                dt { "类型" } dd { (library().place_type_zh(&p.place_type)) }
                dt { "网格" } dd { (v.tree.name(&p.grid_id)) }
                dt { "最近巡查" } dd { (row.last_patrol_at.map_or_else(|| "从未".to_string(), |ms| Day::from_ms(ms).to_string())) }
                dt { "巡查周期" } dd { (row.cycle_days) " 天" }
            }
            @if row.pending {
                p { "此场所由网格员巡查时新登记，核实后请确认。" }
                (button("confirm", "确认"))
            }
        }
        section.card {
            h2 { "修改" }
            form.filters method="post" action=(action) {
                (v.me.csrf_field())
                input type="hidden" name="do" value="edit";
                (place_fields(v, sent, Some(p)))
                button type="submit" { "保存" }
            }
            p.muted { "调整网格即把场所移交该网格，巡查记录和隐患随场所保留。" }
            @if p.archived { (button("restore", "恢复")) } @else { (button("archive", "归档")) }
        }
        p { a href=(HERE) { "返回场所列表" } }
    };
    Ok(page("场所", v, HERE, body))
}
