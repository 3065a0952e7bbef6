//! Checking a 底数清单 against the rules and the records the server holds, row by row, before
//! anything is written, and what importing it would change. Rows are matched to records by a
//! stable key: villages, grids and people by their 编号 or 账号; a place by its 编号 when given,
//! else by name, address and grid (its id is derived from that key, so the same file imported
//! again finds the same places and changes nothing).

use std::collections::{BTreeMap, BTreeSet};

use gridpatrol_core::checklist::library;
use gridpatrol_core::org::{OrgLevel, OrgNode, Role, User};
use gridpatrol_core::place::{GeoPoint, Place, PlaceChanges, RiskLevel};
use gridpatrol_core::Store;
use uuid::Uuid;

use super::sheets::{Book, Row, GRIDS, PEOPLE, PLACES, VILLAGES};
use super::Problem;

/// The namespace of the ids of imported places (UUIDv5 of the township and the row's key).
const PLACE_IDS: Uuid = Uuid::from_u128(0x6a1f_3c2e_8d4b_4e5f_9a7c_0b1d_2e3f_4a5b);

/// Role labels a person writes, besides the codes and the official names.
const ROLE_LABELS: [(&str, Role); 8] = [
    ("网格员", Role::GridWorker),
    ("村（社区）负责人", Role::VillageLeader),
    ("村负责人", Role::VillageLeader),
    ("社区负责人", Role::VillageLeader),
    ("乡镇管理员", Role::TownshipOfficer),
    ("乡镇负责人", Role::TownshipOfficer),
    ("消防救援大队", Role::BrigadeAdvisor),
    ("消防大队", Role::BrigadeAdvisor),
];

/// The labels the template offers for each role, in its validation list.
pub const ROLE_CHOICES: [&str; 4] = ["网格员", "村（社区）负责人", "乡镇管理员", "消防救援大队"];
/// The labels the template offers for risk levels.
pub const RISK_CHOICES: [&str; 3] = ["高风险", "中风险", "低风险"];

/// What a record's row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Changed,
}

/// What importing a checked file will record, in order: villages and grids, then places (which
/// need their grids), then people (who need their areas).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub officer: String,
    pub nodes: Vec<(OrgNode, Change)>,
    pub new_places: Vec<Place>,
    pub changed_places: Vec<PlaceChanges>,
    pub people: Vec<(User, Change)>,
}

/// Counts for the preview.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub villages_added: usize,
    pub villages_changed: usize,
    pub grids_added: usize,
    pub grids_changed: usize,
    pub places_added: usize,
    pub places_changed: usize,
    pub places_archived: usize,
    pub people_added: usize,
    pub people_changed: usize,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        *self == Summary::default()
    }
    pub fn zh(&self) -> String {
        format!(
            "村社区 新增 {} 变更 {}；网格 新增 {} 变更 {}；场所 新增 {} 变更 {} 停用 {}；人员 新增 {} 变更 {}",
            self.villages_added,
            self.villages_changed,
            self.grids_added,
            self.grids_changed,
            self.places_added,
            self.places_changed,
            self.places_archived,
            self.people_added,
            self.people_changed
        )
    }
    pub fn en(&self) -> String {
        format!(
            "villages {} added {} changed; grids {} added {} changed; places {} added {} changed \
             {} archived; people {} added {} changed",
            self.villages_added,
            self.villages_changed,
            self.grids_added,
            self.grids_changed,
            self.places_added,
            self.places_changed,
            self.places_archived,
            self.people_added,
            self.people_changed
        )
    }
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for (n, c) in &self.nodes {
            let (added, changed) = match n.level {
                OrgLevel::Village => (&mut s.villages_added, &mut s.villages_changed),
                _ => (&mut s.grids_added, &mut s.grids_changed),
            };
            *(if *c == Change::Added { added } else { changed }) += 1;
        }
        s.places_added = self.new_places.len();
        s.places_archived = self
            .changed_places
            .iter()
            .filter(|c| c.archived == Some(true))
            .count();
        s.places_changed = self.changed_places.len() - s.places_archived;
        for (_, c) in &self.people {
            *(if *c == Change::Added {
                &mut s.people_added
            } else {
                &mut s.people_changed
            }) += 1;
        }
        s
    }
}

/// Collects the problems of a check: every bad row is reported, not only the first.
struct Check<'a> {
    store: &'a Store,
    township: String,
    problems: Vec<Problem>,
}

impl Check<'_> {
    fn bad(&mut self, row: &Row, zh: String, en: String) {
        self.problems
            .push(Problem::at(row.sheet, row.number, zh, en));
    }

    fn invalid(&mut self, row: &Row, e: &gridpatrol_core::error::InvalidInput) {
        self.bad(row, e.zh(), e.en());
    }

    /// The node `id` as the records hold it, if it is in this township.
    fn held(&self, id: &str) -> Option<OrgNode> {
        let node = self.store.org_node(id).ok()?;
        let in_township = match node.level {
            OrgLevel::Village => node.parent_id.as_deref() == Some(&self.township),
            OrgLevel::Grid => node
                .parent_id
                .as_deref()
                .and_then(|v| self.store.org_node(v).ok())
                .is_some_and(|v| v.parent_id.as_deref() == Some(&self.township)),
            OrgLevel::Township => node.id == self.township,
            OrgLevel::County => false,
        };
        in_township.then_some(node)
    }

    /// Whether `id` names a node held elsewhere (another township's, or another level).
    fn taken_elsewhere(&self, id: &str, level: OrgLevel) -> bool {
        self.store
            .org_node(id)
            .is_ok_and(|n| n.level != level || self.held(id).is_none())
    }
}

fn nodes(c: &mut Check, book: &Book, plan: &mut Plan) -> BTreeMap<String, OrgLevel> {
    let mut known: BTreeMap<String, OrgLevel> = BTreeMap::new();
    for (sheet, level) in [(VILLAGES, OrgLevel::Village), (GRIDS, OrgLevel::Grid)] {
        for row in book.sheet(sheet) {
            let id = row.get("编号").to_string();
            let parent = match level {
                OrgLevel::Village => c.township.clone(),
                _ => row.get("村社区编号").to_string(),
            };
            if known.contains_key(&id) {
                c.bad(
                    row,
                    format!("编号“{id}”重复"),
                    format!("the id \"{id}\" appears twice"),
                );
                continue;
            }
            if c.taken_elsewhere(&id, level) {
                c.bad(
                    row,
                    format!("编号“{id}”已被其他组织节点使用"),
                    format!("the id \"{id}\" is another org node's"),
                );
                continue;
            }
            if level == OrgLevel::Grid
                && known.get(&parent) != Some(&OrgLevel::Village)
                && c.held(&parent).is_none_or(|p| p.level != OrgLevel::Village)
            {
                c.bad(
                    row,
                    format!("村社区编号“{parent}”不在本乡镇的村社区中"),
                    format!("\"{parent}\" is not a village of this township"),
                );
                continue;
            }
            let node = OrgNode {
                id: id.clone(),
                level,
                parent_id: Some(parent),
                name: row.get("名称").to_string(),
            };
            let node = match node.validated() {
                Ok(n) => n,
                Err(e) => {
                    c.invalid(row, &e);
                    continue;
                }
            };
            known.insert(id.clone(), level);
            match c.held(&id) {
                None => plan.nodes.push((node, Change::Added)),
                Some(held) if held != node => plan.nodes.push((node, Change::Changed)),
                Some(_) => {}
            }
        }
    }
    known
}

fn number<T: std::str::FromStr>(c: &mut Check, row: &Row, header: &str) -> Result<Option<T>, ()> {
    let v = row.get(header);
    if v.is_empty() {
        return Ok(None);
    }
    v.parse().map(Some).map_err(|_| {
        c.bad(
            row,
            format!("“{header}”应为数字：{v}"),
            format!("\"{header}\" should be a number: {v}"),
        )
    })
}

fn place_row(c: &mut Check, row: &Row, grids: &BTreeMap<String, OrgLevel>) -> Option<Place> {
    let grid = row.get("网格编号").to_string();
    if grids.get(&grid) != Some(&OrgLevel::Grid)
        && c.held(&grid).is_none_or(|g| g.level != OrgLevel::Grid)
    {
        c.bad(
            row,
            format!("网格编号“{grid}”不在本乡镇的网格中"),
            format!("\"{grid}\" is not a grid of this township"),
        );
        return None;
    }
    let Some(place_type) = library()
        .place_type_named(row.get("场所类型"))
        .ok()
        .map(|t| t.code.clone())
    else {
        let choices: Vec<&str> = library()
            .place_types
            .iter()
            .map(|t| t.zh.as_str())
            .collect();
        c.bad(
            row,
            format!(
                "场所类型“{}”无法识别；可选：{}",
                row.get("场所类型"),
                choices.join("、")
            ),
            format!(
                "the place type \"{}\" is not recognised; choose one of: {}",
                row.get("场所类型"),
                choices.join(", ")
            ),
        );
        return None;
    };
    let Ok(risk_level) = RiskLevel::named(row.get("风险等级")) else {
        c.bad(
            row,
            format!(
                "风险等级“{}”无法识别；可选：高风险、中风险、低风险",
                row.get("风险等级")
            ),
            format!(
                "the risk level \"{}\" is not recognised; choose high, medium or low",
                row.get("风险等级")
            ),
        );
        return None;
    };
    let lat: Option<f64> = number(c, row, "纬度").ok()?;
    let lon: Option<f64> = number(c, row, "经度").ok()?;
    let every: Option<u32> = number(c, row, "巡查周期（天）").ok()?;
    let location = match (lat, lon) {
        (Some(lat), Some(lon)) => Some(GeoPoint { lat, lon }),
        (None, None) => None,
        _ => {
            c.bad(
                row,
                "纬度和经度须同时填写".into(),
                "latitude and longitude go together".into(),
            );
            return None;
        }
    };
    let archived = match row.get("状态") {
        "" | "在用" | "正常" => false,
        "停用" | "注销" | "已关闭" => true,
        other => {
            c.bad(
                row,
                format!("状态“{other}”无法识别；可选：在用、停用"),
                format!("the status \"{other}\" is not recognised; choose 在用 or 停用"),
            );
            return None;
        }
    };
    let key = match row.get("编号") {
        "" => format!(
            "{}|{}|{}|{}",
            c.township,
            row.get("名称"),
            row.get("地址"),
            grid
        ),
        code => format!("{}|编号|{code}", c.township),
    };
    let place = Place {
        id: Uuid::new_v5(&PLACE_IDS, key.as_bytes()),
        place_type,
        name: row.get("名称").to_string(),
        address: row.get("地址").to_string(),
        location,
        grid_id: grid,
        responsible_name: row.get("负责人").to_string(),
        responsible_phone: Some(row.get("负责人电话").to_string()).filter(|p| !p.is_empty()),
        risk_level,
        patrol_every_days: every,
        archived,
    };
    match place.validated() {
        Ok(p) => Some(p),
        Err(e) => {
            c.invalid(row, &e);
            None
        }
    }
}

fn places(c: &mut Check, book: &Book, known: &BTreeMap<String, OrgLevel>, plan: &mut Plan) {
    let mut seen = BTreeSet::new();
    for row in book.sheet(PLACES) {
        let Some(place) = place_row(c, row, known) else {
            continue;
        };
        if !seen.insert(place.id) {
            c.bad(
                row,
                "与前面某行是同一场所（编号，或名称、地址和网格相同）".into(),
                "the same place as an earlier row (same id, or name, address and grid)".into(),
            );
            continue;
        }
        match c.store.place(place.id) {
            Ok(held) => plan
                .changed_places
                .extend(PlaceChanges::between(&held.place, &place)),
            Err(_) => plan.new_places.push(place),
        }
    }
}

fn role(label: &str) -> Option<Role> {
    Role::ALL
        .into_iter()
        .find(|r| r.code() == label || r.zh() == label)
        .or_else(|| {
            ROLE_LABELS
                .iter()
                .find(|(l, _)| *l == label)
                .map(|(_, r)| *r)
        })
}

fn people(c: &mut Check, book: &Book, known: &BTreeMap<String, OrgLevel>, plan: &mut Plan) {
    let mut seen = BTreeSet::new();
    for row in book.sheet(PEOPLE) {
        let id = row.get("账号").to_string();
        if !seen.insert(id.clone()) {
            c.bad(
                row,
                format!("账号“{id}”重复"),
                format!("the account \"{id}\" appears twice"),
            );
            continue;
        }
        let Some(role) = role(row.get("角色")) else {
            c.bad(
                row,
                format!(
                    "角色“{}”无法识别；可选：{}",
                    row.get("角色"),
                    ROLE_CHOICES.join("、")
                ),
                format!("the role \"{}\" is not recognised", row.get("角色")),
            );
            continue;
        };
        let orgs: Vec<String> = row
            .get("负责范围")
            .split(['、', ',', '，', ';', '；', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let wrong = orgs.iter().find(|o| {
            let level = known
                .get(*o)
                .copied()
                .or_else(|| c.held(o).map(|n| n.level));
            level != Some(role.anchor_level())
        });
        if let Some(o) = wrong {
            c.bad(
                row,
                format!(
                    "负责范围“{o}”不是本乡镇中该角色可负责的{}",
                    role.anchor_level().zh()
                ),
                format!(
                    "\"{o}\" is not a {} of this township",
                    role.anchor_level().code()
                ),
            );
            continue;
        }
        let user = User {
            id: id.clone(),
            name: row.get("姓名").to_string(),
            phone: Some(row.get("电话").to_string()).filter(|p| !p.is_empty()),
            role,
            org_ids: orgs,
        };
        match user.validated() {
            Ok(u) => match c.store.user(&id) {
                Ok(held) if held == u => {}
                Ok(_) => plan.people.push((u, Change::Changed)),
                Err(_) => plan.people.push((u, Change::Added)),
            },
            Err(e) => c.invalid(row, &e),
        }
    }
}

/// Checks `book` for an import by `officer` (a township officer) against `store`: the plan, or
/// every problem found (a file with any bad row imports nothing).
pub fn check(store: &Store, officer: &str, book: &Book) -> Result<Plan, Vec<Problem>> {
    let township = match store.user(officer) {
        Ok(u) if u.role == Role::TownshipOfficer => u.org_ids.first().cloned(),
        _ => None,
    };
    let Some(township) = township else {
        return Err(vec![Problem::file(
            "只有乡镇管理员可以导入底数清单",
            "only a township officer may import the register",
        )]);
    };
    let mut c = Check {
        store,
        township,
        problems: Vec::new(),
    };
    let mut plan = Plan {
        officer: officer.to_string(),
        ..Plan::default()
    };
    let known = nodes(&mut c, book, &mut plan);
    places(&mut c, book, &known, &mut plan);
    people(&mut c, book, &known, &mut plan);
    if c.problems.is_empty() {
        Ok(plan)
    } else {
        Err(c.problems)
    }
}
