//! Standing groups (DOMAIN.md): 微型消防站 and 志愿消防队 with their members, duty roster and
//! equipment, and 消防安全委员会 / 村消防安全领导小组 with their members. A village leader or the
//! township keeps each group as a whole record, last writer wins (a roster is retyped, not
//! merged). Equipment checks (`EquipmentCheck`) are written once by whoever checks, and each
//! item falls due `check_every_days` after its last check, as a place falls due for patrol.
//! Drills and meetings are activities naming the group (`Activity::group_id`).

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::{Day, Hlc};
use crate::error::{self, Field, InvalidInput, Problem, Result};
use crate::op::OpBody;
use crate::org::{self, Actor};
use crate::store::Store;
use crate::vocab::vocabulary;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    MicroStation,
    VolunteerTeam,
    SafetyCommittee,
    LeadingGroup,
}

vocabulary!(GroupKind, Field::Group, {
    MicroStation => ("micro_station", "微型消防站"),
    VolunteerTeam => ("volunteer_team", "志愿消防队"),
    SafetyCommittee => ("safety_committee", "消防安全委员会"),
    LeadingGroup => ("leading_group", "村消防安全领导小组"),
});

impl GroupKind {
    /// Whether the group keeps equipment and drills (a station or a team, not a committee).
    pub fn keeps_equipment(self) -> bool {
        matches!(self, GroupKind::MicroStation | GroupKind::VolunteerTeam)
    }
}

/// The most members and equipment items one group lists.
pub const MAX_MEMBERS: usize = 200;
pub const MAX_ITEMS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    /// The member's account, where they have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// 职务 (站长、队员、主任委员…).
    #[serde(default)]
    pub duty: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Equipment {
    /// Stable within the group, so checks name the item.
    pub key: String,
    /// 器材类型 (灭火器、消防水带、破拆工具…).
    pub kind: String,
    pub count: u32,
    pub check_every_days: u32,
    /// 有效期至 (an extinguisher's refill date), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<Day>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: Uuid,
    /// Named `group` on the wire: `kind` is the op's own tag.
    #[serde(rename = "group")]
    pub kind: GroupKind,
    /// The village (or township, or grid) the group belongs to.
    pub org_id: String,
    pub name: String,
    #[serde(default)]
    pub members: Vec<Member>,
    /// 值班安排, as the station writes it.
    #[serde(default)]
    pub roster: String,
    #[serde(default)]
    pub equipment: Vec<Equipment>,
    pub active: bool,
}

impl Group {
    /// What a group may hold, the same on the phone and the server.
    pub(crate) fn check(&self) -> std::result::Result<(), InvalidInput> {
        org::check_code(Field::Grid, &self.org_id)?;
        error::text(Field::Name, &self.name, 50)?;
        error::optional_text(Field::Note, &self.roster, 500)?;
        let too_many = |max| InvalidInput::new(Field::Count, Problem::TooLong { max });
        if self.members.len() > MAX_MEMBERS {
            return Err(too_many(MAX_MEMBERS));
        }
        if self.equipment.len() > MAX_ITEMS {
            return Err(too_many(MAX_ITEMS));
        }
        for m in &self.members {
            error::text(Field::Name, &m.name, 20)?;
            error::optional_text(Field::Name, &m.duty, 20)?;
            if let Some(u) = &m.user_id {
                org::check_code(Field::Id, u)?;
            }
        }
        if !self.kind.keeps_equipment() && !self.equipment.is_empty() {
            return Err(InvalidInput::new(Field::Group, Problem::Malformed));
        }
        let mut keys: Vec<&str> = Vec::new();
        for e in &self.equipment {
            org::check_code(Field::Answer, &e.key)?;
            error::text(Field::Name, &e.kind, 30)?;
            if e.count > 10_000 {
                return Err(InvalidInput::new(
                    Field::Count,
                    Problem::OutOfRange {
                        min: "0".into(),
                        max: "10000".into(),
                    },
                ));
            }
            if !(1..=366).contains(&e.check_every_days) {
                return Err(InvalidInput::new(
                    Field::PatrolEveryDays,
                    Problem::OutOfRange {
                        min: "1".into(),
                        max: "366".into(),
                    },
                ));
            }
            if keys.contains(&e.key.as_str()) {
                return Err(InvalidInput::new(Field::Answer, Problem::Malformed));
            }
            keys.push(&e.key);
        }
        Ok(())
    }

    pub fn item(&self, key: &str) -> Option<&Equipment> {
        self.equipment.iter().find(|e| e.key == key)
    }
}

/// One item as checked: in working order or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemCheck {
    pub key: String,
    pub ok: bool,
    #[serde(default)]
    pub note: String,
}

/// A check of a group's equipment (器材检查), written once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquipmentCheck {
    pub id: Uuid,
    pub group_id: Uuid,
    pub checked_on: Day,
    pub items: Vec<ItemCheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
}

impl EquipmentCheck {
    pub(crate) fn check(&self, at: Hlc) -> std::result::Result<(), InvalidInput> {
        if self.checked_on > at.day().plus(1)
            || self.checked_on.start_ms() < crate::rules::EARLIEST_MS
        {
            return Err(InvalidInput::new(Field::Date, Problem::Malformed));
        }
        if self.items.is_empty() {
            return Err(InvalidInput::new(Field::Answer, Problem::Empty));
        }
        if self.items.len() > MAX_ITEMS {
            return Err(InvalidInput::new(
                Field::Answer,
                Problem::TooLong { max: MAX_ITEMS },
            ));
        }
        for i in &self.items {
            org::check_code(Field::Answer, &i.key)?;
            error::optional_text(Field::Note, &i.note, 200)?;
        }
        super::check_photos(&self.photos)
    }
}

pub(crate) fn put_group(tx: &Transaction, g: &Group) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO fire_groups (id, kind, org_id, active, body) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, org_id = excluded.org_id,
             active = excluded.active, body = excluded.body",
    )?
    .execute(params![
        g.id.to_string(),
        g.kind.code(),
        g.org_id,
        g.active,
        serde_json::to_string(g)?
    ])?;
    Ok(())
}

pub(crate) fn put_check(tx: &Transaction, c: &EquipmentCheck, by: &str) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO equipment_checks (check_id, group_id, item_key, checked_on, ok, user_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for i in &c.items {
        stmt.execute(params![
            c.id.to_string(),
            c.group_id.to_string(),
            i.key,
            c.checked_on.0,
            i.ok,
            by
        ])?;
    }
    Ok(())
}

/// The group with this id as held here.
pub(crate) fn load_group(c: &Connection, id: &Uuid) -> Result<Option<Group>> {
    let body: Option<String> = c
        .prepare_cached("SELECT body FROM fire_groups WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
}

/// The groups of the areas at or below `scope_id`.
pub(crate) fn groups_under(c: &Connection, scope_id: &str) -> Result<Vec<Group>> {
    let bodies: Vec<String> = c
        .prepare_cached(
            "WITH RECURSIVE sub(id) AS (
                SELECT ?1 UNION ALL SELECT o.id FROM org_nodes o JOIN sub ON o.parent_id = sub.id)
             SELECT body FROM fire_groups WHERE org_id IN sub ORDER BY kind, org_id, id",
        )?
        .query_map([scope_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    bodies
        .iter()
        .map(|b| Ok(serde_json::from_str(b)?))
        .collect()
}

/// An equipment item and when it falls due for its next check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemDue {
    pub group_id: Uuid,
    pub group_name: String,
    pub org_id: String,
    pub item: Equipment,
    pub last_checked: Option<Day>,
    /// Whether the last check found it in working order.
    pub last_ok: Option<bool>,
    /// Never checked: due from the day the group listed it, i.e. now.
    pub next_due: Option<Day>,
    /// Its refill or replacement date has passed.
    pub expired: bool,
}

impl ItemDue {
    /// Due on `on`: never checked, past its cycle, or found broken or missing at its last
    /// check (it stays on the list until a check finds it in order).
    pub fn due(&self, on: Day) -> bool {
        self.next_due.is_none_or(|d| d <= on) || self.last_ok == Some(false)
    }
}

/// Every item of the active stations and teams under `scope_id`, with its last check on or
/// before `on`.
pub(crate) fn items_due(c: &Connection, scope_id: &str, on: Day) -> Result<Vec<ItemDue>> {
    let mut last = c.prepare_cached(
        "SELECT checked_on, ok FROM equipment_checks
         WHERE group_id = ?1 AND item_key = ?2 AND checked_on <= ?3
         ORDER BY checked_on DESC, check_id DESC LIMIT 1",
    )?;
    let mut out = Vec::new();
    for g in groups_under(c, scope_id)? {
        if !g.active || !g.kind.keeps_equipment() {
            continue;
        }
        for e in &g.equipment {
            let checked: Option<(i32, bool)> = last
                .query_row(params![g.id.to_string(), e.key, on.0], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            out.push(ItemDue {
                group_id: g.id,
                group_name: g.name.clone(),
                org_id: g.org_id.clone(),
                item: e.clone(),
                last_checked: checked.map(|(d, _)| Day(d)),
                last_ok: checked.map(|(_, ok)| ok),
                next_due: checked.map(|(d, _)| Day(d).plus(e.check_every_days as i32)),
                expired: e.expires_on.is_some_and(|d| d < on),
            });
        }
    }
    Ok(out)
}

impl Store {
    /// Records a group as a whole (new, or its members, roster or equipment retyped).
    pub fn put_group(&self, actor: &Actor, group: Group) -> Result<Uuid> {
        let mut group = group;
        group.name = group.name.trim().to_string();
        group.roster = group.roster.trim().to_string();
        group.check()?;
        let id = group.id;
        self.write(|tx| {
            org::node(tx, &group.org_id)?;
            // The group's area now, and the one it names, are both the actor's.
            if let Some(held) = load_group(tx, &id)? {
                org::require_whole(tx, actor, &held.org_id)?;
            }
            org::require_whole(tx, actor, &group.org_id)?;
            for m in &group.members {
                if let Some(u) = &m.user_id {
                    org::user_in(tx, u)?;
                }
            }
            let body = OpBody::Group(group);
            crate::sync::authz::require_writer(actor, &body)?;
            self.commit_local(tx, actor, body)?;
            Ok(id)
        })
    }

    /// Records a check of some of a group's equipment; its id.
    pub fn check_equipment(
        &self,
        actor: &Actor,
        group_id: Uuid,
        checked_on: Day,
        items: Vec<ItemCheck>,
        photos: Vec<String>,
    ) -> Result<Uuid> {
        if checked_on > self.today() {
            return Err(super::after_today(self.today()));
        }
        let check = EquipmentCheck {
            id: Uuid::now_v7(),
            group_id,
            checked_on,
            items,
            photos,
        };
        check.check(Hlc::new(self.now_ms(), 0))?;
        self.write(|tx| {
            let group = load_group(tx, &group_id)?.ok_or_else(|| no_group(&group_id))?;
            check_items(&group, &check)?;
            org::require_whole(tx, actor, &group.org_id)?;
            let (id, body) = (check.id, OpBody::EquipmentCheck(check));
            crate::sync::authz::require_writer(actor, &body)?;
            self.commit_local(tx, actor, body)?;
            Ok(id)
        })
    }

    /// The equipment due today of the stations and teams whose area is wholly `actor`'s (those
    /// they may check), soonest first: their due list beside the places.
    pub fn equipment_due_for(&self, actor: &Actor) -> Result<Vec<ItemDue>> {
        let today = self.today();
        let mut due = self.read(|c| {
            let orgs: Vec<String> = c
                .prepare_cached("SELECT DISTINCT org_id FROM fire_groups WHERE active")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for org in orgs {
                if org::require_whole(c, actor, &org).is_ok() {
                    out.extend(
                        items_due(c, &org, today)?
                            .into_iter()
                            .filter(|i| i.due(today) && i.org_id == org),
                    );
                }
            }
            Ok(out)
        })?;
        due.sort_by_key(|i| (i.next_due, i.group_id));
        Ok(due)
    }

    /// The groups under `scope_id`.
    pub fn groups(&self, scope_id: &str) -> Result<Vec<Group>> {
        self.read(|c| groups_under(c, scope_id))
    }

    /// The equipment under `scope_id` that is due for a check on `on` (as the report counts
    /// it at a period's end), soonest first.
    pub fn equipment_due(&self, scope_id: &str, on: Day) -> Result<Vec<ItemDue>> {
        let mut due: Vec<ItemDue> = self
            .read(|c| items_due(c, scope_id, on))?
            .into_iter()
            .filter(|i| i.due(on))
            .collect();
        due.sort_by_key(|i| (i.next_due, i.group_id));
        Ok(due)
    }
}

/// A drill is held by a station or team, a meeting by a committee, and (with `org_id`) by one
/// of the area the activity is logged for. The server asks without the area: a group moved
/// since a drill was logged offline still held it.
pub(crate) fn require_held_by(
    c: &Connection,
    group: &Uuid,
    kind: crate::activity::ActivityKind,
    org_id: Option<&str>,
) -> Result<()> {
    let g = load_group(c, group)?.ok_or_else(|| no_group(group))?;
    let fits = match kind {
        crate::activity::ActivityKind::Drill => g.kind.keeps_equipment(),
        crate::activity::ActivityKind::Meeting => !g.kind.keeps_equipment(),
        _ => false,
    };
    // Logged for the group's own area, so its figures count where the group is.
    if !fits || org_id.is_some_and(|o| o != g.org_id) {
        return Err(InvalidInput::new(Field::Group, Problem::Malformed).into());
    }
    Ok(())
}

/// A check names only items the group lists, each once, and only a station's or team's.
pub(crate) fn check_items(group: &Group, check: &EquipmentCheck) -> Result<()> {
    let mut seen: Vec<&str> = Vec::new();
    for i in &check.items {
        if group.item(&i.key).is_none() || seen.contains(&i.key.as_str()) {
            return Err(crate::vocab::unknown(Field::Answer, &i.key).into());
        }
        seen.push(&i.key);
    }
    Ok(())
}

fn no_group(id: &Uuid) -> crate::error::Error {
    crate::error::Error::not_found(crate::error::Entity::Group, id.to_string())
}
