//! The township's villages and grids, for its officers: add a village or a grid, rename one,
//! move a grid to another village. A grid's places, people and cases go with it; past cases
//! keep the village they were reported in.

use axum::extract::{Query, State};
use axum::response::Response;
use gridpatrol_core::org::{OrgLevel, OrgNode};
use maud::{html, Markup};

use super::{
    admin_nav, choice, get, home, officers_only, outcome, read_form, text_input, Done, Sent,
};
use crate::console::layout::page;
use crate::console::{view, ApiError, Page, Refused, Shared, View};

const HERE: &str = "/console/admin/areas";

pub async fn areas(
    State(b): State<Shared>,
    me: crate::console::Me,
    Query(d): Query<Done>,
) -> Result<Page, Refused> {
    officers_only(&me)?;
    view(b, me, move |v| {
        render(v, &Sent::new(), d.done.as_deref(), None)
    })
    .await
}

pub async fn change(
    State(b): State<Shared>,
    me: crate::console::Me,
    form: super::Posted,
) -> Result<Response, Refused> {
    officers_only(&me)?;
    view(b, me, move |v| {
        let sent = read_form(v.me, form)?;
        super::answer(apply(v, &sent), HERE, |e| render(v, &sent, None, Some(e)))
    })
    .await
}

/// The node a form describes, recorded as the officer's op; what was done, for the note.
fn apply(v: &View, sent: &Sent) -> Result<&'static str, ApiError> {
    let township = home(v)?;
    let new = |level: OrgLevel, parent: String| -> Result<OrgNode, ApiError> {
        let id = get(sent, "id");
        if v.store.org_node(id).is_ok() {
            return Err(ApiError::new(
                409,
                "already_exists",
                &format!("编号 {id} 已被使用，请换一个"),
                &format!("the id {id} is taken; choose another"),
            ));
        }
        Ok(OrgNode {
            id: id.to_string(),
            level,
            parent_id: Some(parent),
            name: get(sent, "name").to_string(),
        })
    };
    let (node, what) = match get(sent, "do") {
        "add_village" => (new(OrgLevel::Village, township)?, "新增村（社区）"),
        "add_grid" => (
            new(OrgLevel::Grid, get(sent, "village").to_string())?,
            "新增网格",
        ),
        "rename" => {
            let mut n = v.store.org_node(get(sent, "node"))?;
            n.name = get(sent, "name").to_string();
            (n, "改名")
        }
        "move" => {
            let mut n = v.store.org_node(get(sent, "grid"))?;
            if n.level != OrgLevel::Grid {
                return Err(ApiError::bad_request("grid"));
            }
            n.parent_id = Some(get(sent, "village").to_string());
            (n, "调整网格所属村")
        }
        _ => return Err(ApiError::bad_request("do")),
    };
    let actor = v.me.actor().clone();
    v.b.act(&mut |s| s.administer_area(&actor, node.clone()))?;
    Ok(what)
}

fn render(
    v: &View,
    sent: &Sent,
    done: Option<&str>,
    refused: Option<&ApiError>,
) -> Result<Page, Refused> {
    let township = home(v)?;
    let tree = &v.tree;
    let villages = tree.children(&township);
    let village_options: Vec<(String, String)> = villages
        .iter()
        .map(|n| (n.id.clone(), format!("{}（{}）", n.name, n.id)))
        .collect();
    let grids: Vec<&OrgNode> = villages.iter().flat_map(|n| tree.children(&n.id)).collect();
    let grid_options: Vec<(String, String)> = grids
        .iter()
        .map(|n| {
            let village = tree.village_of(&n.id).unwrap_or_default();
            (
                n.id.clone(),
                format!("{} / {}（{}）", tree.name(village), n.name, n.id),
            )
        })
        .collect();
    let all_options: Vec<(String, String)> = village_options
        .iter()
        .chain(&grid_options)
        .cloned()
        .collect();
    // What was typed goes back into the form it was typed in only.
    let empty = Sent::new();
    let typed = |what: &str| {
        if get(sent, "do") == what {
            sent
        } else {
            &empty
        }
    };
    let form = |what: &str, title: &str, fields: Markup| {
        html! {
            section.card {
                h2 { (title) }
                form.filters method="post" action=(HERE) {
                    (v.me.csrf_field())
                    input type="hidden" name="do" value=(what);
                    (fields)
                    button type="submit" { "保存" }
                }
            }
        }
    };
    let body = html! {
        h1 { "村与网格" }
        (admin_nav(v.me, HERE))
        (outcome(done, refused))
        table {
            caption { (tree.name(&township)) "：" (villages.len()) " 个村（社区），" (grids.len()) " 个网格" }
            thead { tr { th scope="col" { "村（社区）" } th scope="col" { "网格" } } }
            tbody {
                @if villages.is_empty() {
                    tr { td colspan="2" class="muted" { "还没有村（社区）：先新增，或用底数导入" } }
                }
                @for n in &villages {
                    tr {
                        td { (n.name) " " span.muted { (n.id) } }
                        td { @for g in tree.children(&n.id) { span.tag { (g.name) " " span.muted { (g.id) } } " " } }
                    }
                }
            }
        }
        div.grid2 {
            (form("add_village", "新增村（社区）", html! {
                (text_input(typed("add_village"), "id", "编号", "", true))
                (text_input(typed("add_village"), "name", "名称", "", true))
            }))
            (form("add_grid", "新增网格", html! {
                (choice("village", "所属村", &village_options, get(typed("add_grid"), "village")))
                (text_input(typed("add_grid"), "id", "编号", "", true))
                (text_input(typed("add_grid"), "name", "名称", "", true))
            }))
            (form("rename", "改名", html! {
                (choice("node", "村或网格", &all_options, get(typed("rename"), "node")))
                (text_input(typed("rename"), "name", "新名称", "", true))
            }))
            (form("move", "调整网格所属村", html! {
                (choice("grid", "网格", &grid_options, get(typed("move"), "grid")))
                (choice("village", "调入村", &village_options, get(typed("move"), "village")))
            }))
        }
    };
    Ok(page("村与网格", v, HERE, body))
}
