//! The township's checklists, for its officers: each template with its current version, and
//! on a template's page its items to switch off or back on and an item of the township's own
//! to add, published together as the next version (`gridpatrol_core::township_items`).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridpatrol_core::checklist::library;
use gridpatrol_core::hazard::Severity;
use gridpatrol_core::township_items::{choices, ChecklistEdit, NewItem};
use maud::html;

use super::{admin_nav, choice, get, officers_only, outcome, read_form, text_input, Done, Sent};
use crate::console::layout::page;
use crate::console::values::url;
use crate::console::{not_visible, view, ApiError, Me, Page, Refused, Shared, View};

const HERE: &str = "/console/admin/checklists";

pub async fn checklists(State(b): State<Shared>, me: Me) -> Result<Page, Refused> {
    officers_only(&me)?;
    view(b, me, move |v| {
        let rows = library()
            .templates
            .iter()
            .map(|t| v.store.template(&t.id, None))
            .collect::<Result<Vec<_>, _>>()?;
        let body = html! {
            h1 { "检查表" }
            (admin_nav(v.me, HERE))
            p.muted { "可停用内置检查项、增加本乡镇自己的检查项；每次修改发布为新版本，已做的巡查保留原版本。" }
            table {
                thead { tr {
                    th scope="col" { "检查表" } th.num scope="col" { "版本" } th.num scope="col" { "检查项" }
                    th scope="col" { "适用场所" }
                } }
                tbody {
                    @for t in &rows {
                        tr {
                            td { a href={ (HERE) "/" (t.id) } { (t.name) } }
                            td.num { (t.version) }
                            td.num { (t.items.len()) }
                            td { @for p in library().place_types.iter().filter(|p| p.template == t.id) { (p.zh) " " } }
                        }
                    }
                }
            }
        };
        Ok(page("检查表", v, HERE, body))
    })
    .await
}

pub async fn checklist(
    State(b): State<Shared>,
    me: Me,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Result<Page, Refused> {
    officers_only(&me)?;
    view(b, me, move |v| {
        render(v, &id, &Sent::new(), d.done.as_deref(), None)
    })
    .await
}

pub async fn publish(
    State(b): State<Shared>,
    me: Me,
    Path(id): Path<String>,
    form: super::Posted,
) -> Result<Response, Refused> {
    officers_only(&me)?;
    view(b, me, move |v| {
        let sent = read_form(v.me, form)?;
        match apply(v, &id, &sent) {
            Ok(version) => {
                let done = url(&format!("第 {version} 版"));
                Ok(Redirect::to(&format!("{HERE}/{id}?done={done}")).into_response())
            }
            Err(e) if e.status < 500 => Ok(render(v, &id, &sent, None, Some(&e))?.into_response()),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

fn apply(v: &View, id: &str, sent: &Sent) -> Result<u32, ApiError> {
    v.store.template(id, None).map_err(|_| not_visible())?;
    let label = get(sent, "label");
    let add = if label.is_empty() {
        None
    } else {
        Some(NewItem {
            label: label.to_string(),
            category: get(sent, "category").to_string(),
            severity: get(sent, "severity")
                .parse::<Severity>()
                .map_err(gridpatrol_core::Error::from)?,
            deadline_days: get(sent, "deadline_days")
                .parse()
                .map_err(|_| ApiError::bad_request("deadline_days"))?,
            fixable_on_spot: get(sent, "fixable") == "yes",
        })
    };
    let edit = ChecklistEdit {
        template_id: id.to_string(),
        keep: sent.all("keep"),
        add,
    };
    let actor = v.me.actor().clone();
    let mut version = 0;
    v.b.act(&mut |s| {
        version = s.edit_checklist(&actor, edit.clone())?;
        Ok(())
    })?;
    Ok(version)
}

fn render(
    v: &View,
    id: &str,
    sent: &Sent,
    done: Option<&str>,
    refused: Option<&ApiError>,
) -> Result<Page, Refused> {
    let current = v.store.template(id, None).map_err(|_| not_visible())?;
    let categories: Vec<(String, String)> = library()
        .categories
        .iter()
        .map(|c| (c.code.clone(), c.zh.clone()))
        .collect();
    let severities: Vec<(String, String)> = Severity::ALL
        .iter()
        .map(|s| (s.code().to_string(), s.zh().to_string()))
        .collect();
    let action = format!("{HERE}/{id}");
    let body = html! {
        h1 { (current.name) "（第 " (current.version) " 版）" }
        (admin_nav(v.me, HERE))
        (outcome(done.map(|d| format!("发布{d}")).as_deref(), refused))
        form.act method="post" action=(action) {
            (v.me.csrf_field())
            table {
                caption { "勾选的检查项在新版本中保留" }
                thead { tr {
                    th scope="col" { "保留" } th scope="col" { "检查项" } th scope="col" { "隐患类别" }
                    th scope="col" { "严重程度" } th scope="col" { "来源" }
                } }
                tbody {
                    @for (item, held) in choices(&current) {
                        // After a refused form, the boxes as the officer left them.
                        @let on = if sent.get("csrf").is_some() { sent.all("keep").contains(&item.key) } else { held };
                        tr {
                            td { input type="checkbox" name="keep" value=(item.key) checked[on] aria-label={ "保留：" (item.label) }; }
                            td { (item.label) }
                            td { (library().category_zh(&item.category)) }
                            td { (item.severity.zh()) }
                            td { @if item.key.starts_with("own_") { "本乡镇" } @else { "内置" } }
                        }
                    }
                }
            }
            fieldset {
                legend { "增加本乡镇的检查项（可不填）" }
                (text_input(sent, "label", "检查项", "", false))
                (choice("category", "隐患类别", &categories, get(sent, "category")))
                (choice("severity", "严重程度", &severities, get(sent, "severity")))
                (text_input(sent, "deadline_days", "整改天数", "7", true))
                label { input type="checkbox" name="fixable" value="yes" checked[get(sent, "fixable") == "yes"]; " 可当场整改" }
            }
            div { button type="submit" { "发布新版本" } }
        }
    };
    Ok(page("检查表", v, HERE, body))
}
