//! The org tree (county → township → village → grid), users and their roles, and the scope a
//! user may read and write. Org nodes and users arrive as ops like everything else (a later sync
//! brings them from the server), and are last-writer-wins by HLC as whole records.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::error::{self, Entity, Error, Field, InvalidInput, Problem, Result};
use crate::op::OpBody;
use crate::store::Store;
use crate::vocab::{unknown, vocabulary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgLevel {
    County,
    Township,
    Village,
    Grid,
}

vocabulary!(OrgLevel, Field::OrgLevel, {
    County => ("county", "县（市、区）"),
    Township => ("township", "乡镇（街道）"),
    Village => ("village", "村（社区）"),
    Grid => ("grid", "网格"),
});

impl OrgLevel {
    /// The level's short name, for beside a place name ("青石镇（乡镇）", not
    /// "青石镇（乡镇（街道））").
    pub fn short_zh(self) -> &'static str {
        match self {
            OrgLevel::County => "县",
            OrgLevel::Township => "乡镇",
            OrgLevel::Village => "村",
            OrgLevel::Grid => "网格",
        }
    }

    fn parent(self) -> Option<OrgLevel> {
        match self {
            OrgLevel::County => None,
            OrgLevel::Township => Some(OrgLevel::County),
            OrgLevel::Village => Some(OrgLevel::Township),
            OrgLevel::Grid => Some(OrgLevel::Village),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    GridWorker,
    VillageLeader,
    TownshipOfficer,
    BrigadeAdvisor,
}

vocabulary!(Role, Field::Role, {
    GridWorker => ("grid_worker", "网格员"),
    VillageLeader => ("village_leader", "村（社区）消防工作领导小组"),
    TownshipOfficer => ("township_officer", "乡镇消防安全委员会办公室"),
    BrigadeAdvisor => ("brigade_advisor", "县级消防救援大队"),
});

impl Role {
    /// Rank in the hazard-handling chain; the brigade advises and reads, it is outside the chain.
    pub fn rank(self) -> u8 {
        match self {
            Role::BrigadeAdvisor => 0,
            Role::GridWorker => 1,
            Role::VillageLeader => 2,
            Role::TownshipOfficer => 3,
        }
    }
    /// The org level a user of this role is anchored at.
    pub fn anchor_level(self) -> OrgLevel {
        match self {
            Role::GridWorker => OrgLevel::Grid,
            Role::VillageLeader => OrgLevel::Village,
            Role::TownshipOfficer => OrgLevel::Township,
            Role::BrigadeAdvisor => OrgLevel::County,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgNode {
    pub id: String,
    pub level: OrgLevel,
    pub parent_id: Option<String>,
    pub name: String,
}

/// A user and where they work. A grid worker lists their grids; other roles name the one node
/// (village, township, county) they are responsible for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub org_ids: Vec<String>,
}

/// The acting user of a call: who they are and which grids they may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub role: Role,
    pub grids: Vec<String>,
}

impl Actor {
    /// The identity that installs reference data (org tree, users, the built-in library) on a
    /// new database before any user exists; sync later brings the same records from the server.
    pub fn provisioner() -> Actor {
        Actor {
            user_id: SYSTEM_USER.into(),
            role: Role::TownshipOfficer,
            grids: Vec::new(),
        }
    }

    pub fn covers(&self, grid_id: &str) -> bool {
        self.grids.iter().any(|g| g == grid_id)
    }

    /// Whether this person works within `area` (grid ids): they have grids, and all of them
    /// lie in it. Who a training held for an area may name as its trainees.
    pub fn works_within(&self, area: &[String]) -> bool {
        !self.grids.is_empty() && self.grids.iter().all(|g| area.contains(g))
    }
}

/// The user id of what the server itself records (reference data, case numbers); no person
/// may take it.
pub const SYSTEM_USER: &str = "system";

/// Record ids chosen by people (org codes, user logins) are short and plain so they can be typed.
pub(crate) fn check_code(field: Field, id: &str) -> Result<(), InvalidInput> {
    if id.is_empty() {
        return Err(InvalidInput::new(field, Problem::Empty));
    }
    if id.len() > 64 {
        return Err(InvalidInput::new(field, Problem::TooLong { max: 64 }));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(InvalidInput::new(field, Problem::Malformed));
    }
    Ok(())
}

pub(crate) fn check_phone(phone: &str) -> Result<String, InvalidInput> {
    let p = error::optional_text(Field::Phone, phone, 20)?;
    if !p.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c)) {
        return Err(InvalidInput::new(Field::Phone, Problem::Malformed));
    }
    Ok(p)
}

impl OrgNode {
    /// The node as the rules allow it (a typable id, a name, a parent unless a county).
    pub fn validated(mut self) -> Result<Self, InvalidInput> {
        check_code(Field::Id, &self.id)?;
        self.name = error::text(Field::Name, &self.name, 60)?;
        if self.level.parent().is_some() != self.parent_id.is_some() {
            return Err(InvalidInput::new(Field::Grid, Problem::Malformed));
        }
        Ok(self)
    }
}

impl User {
    /// The user as the rules allow them (a typable id, a name, a phone number, an area).
    pub fn validated(mut self) -> Result<Self, InvalidInput> {
        check_code(Field::Id, &self.id)?;
        self.name = error::text(Field::Name, &self.name, 40)?;
        self.phone = self.phone.as_deref().map(check_phone).transpose()?;
        if self.org_ids.is_empty() {
            return Err(InvalidInput::new(Field::Grid, Problem::Empty));
        }
        Ok(self)
    }
}

/// Writes the folded state of an org node (called by apply).
pub(crate) fn put_node(tx: &Transaction, n: &OrgNode) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO org_nodes (id, level, parent_id, name) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET level = excluded.level, parent_id = excluded.parent_id,
         name = excluded.name",
    )?
    .execute(params![n.id, n.level.code(), n.parent_id, n.name])?;
    Ok(())
}

pub(crate) fn put_user(tx: &Transaction, u: &User) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO users (id, name, phone, role) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
         role = excluded.role",
    )?
    .execute(params![u.id, u.name, u.phone, u.role.code()])?;
    tx.execute("DELETE FROM user_orgs WHERE user_id = ?1", [&u.id])?;
    for org in &u.org_ids {
        tx.execute(
            "INSERT OR IGNORE INTO user_orgs (user_id, org_id) VALUES (?1, ?2)",
            params![u.id, org],
        )?;
    }
    Ok(())
}

pub(crate) fn node(conn: &Connection, id: &str) -> Result<OrgNode> {
    conn.prepare_cached("SELECT id, level, parent_id, name FROM org_nodes WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?
        .map(|(id, level, parent_id, name)| {
            Ok(OrgNode {
                id,
                level: level.parse()?,
                parent_id,
                name,
            })
        })
        .unwrap_or_else(|| Err(Error::not_found(Entity::OrgNode, id)))
}

/// The nodes right below an org node, by id.
pub(crate) fn children(conn: &Connection, id: &str) -> Result<Vec<OrgNode>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, level, parent_id, name FROM org_nodes WHERE parent_id = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<(String, String, Option<String>, String)>>>()?;
    rows.into_iter()
        .map(|(id, level, parent_id, name)| {
            Ok(OrgNode {
                id,
                level: level.parse()?,
                parent_id,
                name,
            })
        })
        .collect()
}

/// The grid ids at or below an org node.
/// Refuses `actor` a node unless it has grids and every one is theirs: what a person may read
/// a figure of, or log an activity for.
pub(crate) fn require_whole(conn: &Connection, actor: &Actor, node_id: &str) -> Result<()> {
    let grids = grids_under(conn, node_id)?;
    if grids.is_empty() || !grids.iter().all(|g| actor.covers(g)) {
        return Err(crate::hazard::lifecycle::Rejection::OutOfScope.into());
    }
    Ok(())
}

pub(crate) fn grids_under(conn: &Connection, node_id: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE sub(id, level) AS (
            SELECT id, level FROM org_nodes WHERE id = ?1
            UNION ALL SELECT o.id, o.level FROM org_nodes o JOIN sub ON o.parent_id = sub.id)
         SELECT id FROM sub WHERE level = 'grid' ORDER BY id",
    )?;
    let ids = stmt
        .query_map([node_id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(ids)
}

/// The village and township above a grid, denormalised onto hazards for fast scoped queries.
pub(crate) fn ancestors_of_grid(conn: &Connection, grid_id: &str) -> Result<(String, String)> {
    let grid = node(conn, grid_id)?;
    if grid.level != OrgLevel::Grid {
        return Err(unknown(Field::Grid, grid_id).into());
    }
    let village = grid
        .parent_id
        .ok_or_else(|| Error::not_found(Entity::OrgNode, grid_id))?;
    let township = node(conn, &village)?
        .parent_id
        .ok_or_else(|| Error::not_found(Entity::OrgNode, &village))?;
    Ok((village, township))
}

pub(crate) fn load_actor(conn: &Connection, user_id: &str) -> Result<Actor> {
    let role: String = conn
        .query_row("SELECT role FROM users WHERE id = ?1", [user_id], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| Error::not_found(Entity::User, user_id))?;
    let role: Role = role.parse()?;
    let mut grids = Vec::new();
    let mut stmt = conn.prepare_cached("SELECT org_id FROM user_orgs WHERE user_id = ?1")?;
    let orgs = stmt
        .query_map([user_id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for org in orgs {
        grids.extend(grids_under(conn, &org)?);
    }
    grids.sort();
    grids.dedup();
    Ok(Actor {
        user_id: user_id.to_string(),
        role,
        grids,
    })
}

impl Store {
    /// Adds or replaces an org node (reference data; normally from the server or the demo).
    pub fn put_org_node(&self, actor: &Actor, node: OrgNode) -> Result<()> {
        let node = node.validated()?;
        self.write(|tx| {
            if let Some(parent) = &node.parent_id {
                let p = self::node(tx, parent)?;
                if Some(p.level) != node.level.parent() {
                    return Err(InvalidInput::new(Field::Grid, Problem::Malformed).into());
                }
            }
            self.commit_local(tx, actor, OpBody::OrgNode(node))?;
            Ok(())
        })
    }

    pub fn put_user(&self, actor: &Actor, user: User) -> Result<()> {
        let user = user.validated()?;
        self.write(|tx| {
            for org in &user.org_ids {
                let n = node(tx, org)?;
                if n.level != user.role.anchor_level() {
                    return Err(unknown(Field::Grid, org).into());
                }
            }
            self.commit_local(tx, actor, OpBody::User(user))?;
            Ok(())
        })
    }

    /// The grid ids at or below an org node (the one rule; scopes, reports and the console
    /// all read it).
    pub fn grids_under(&self, node_id: &str) -> Result<Vec<String>> {
        self.read(|c| grids_under(c, node_id))
    }

    /// Refuses `actor` a reading of `scope_id` (a figure, a list) unless every grid under it is
    /// theirs: a worker's phone holds only its grids, so a township figure there would be
    /// both out of turn and wrong.
    pub fn require_scope(&self, actor: &Actor, scope_id: &str) -> Result<()> {
        self.read(|c| require_whole(c, actor, scope_id))
    }

    pub fn actor(&self, user_id: &str) -> Result<Actor> {
        self.read(|c| load_actor(c, user_id))
    }

    /// A user's record as stored: name, phone, role and the org nodes they answer for.
    pub fn user(&self, user_id: &str) -> Result<User> {
        self.read(|c| user_in(c, user_id))
    }

    pub fn users(&self) -> Result<Vec<(String, String, Role)>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT id, name, role FROM users ORDER BY role, id")?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(id, name, role)| Ok((id, name, role.parse()?)))
                .collect()
        })
    }

    pub fn org_node(&self, id: &str) -> Result<OrgNode> {
        self.read(|c| node(c, id))
    }

    pub fn org_nodes(&self, level: OrgLevel) -> Result<Vec<OrgNode>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, level, parent_id, name FROM org_nodes WHERE level = ?1 ORDER BY id",
            )?;
            let rows = stmt
                .query_map([level.code()], |r| {
                    Ok(OrgNode {
                        id: r.get(0)?,
                        level,
                        parent_id: r.get(2)?,
                        name: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}

/// A user's record as stored (see `Store::user`).
pub(crate) fn user_in(c: &Connection, user_id: &str) -> Result<User> {
    let row: Option<(String, Option<String>, String)> = c
        .prepare_cached("SELECT name, phone, role FROM users WHERE id = ?1")?
        .query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (name, phone, role) = row.ok_or_else(|| Error::not_found(Entity::User, user_id))?;
    let org_ids = c
        .prepare_cached("SELECT org_id FROM user_orgs WHERE user_id = ?1 ORDER BY org_id")?
        .query_map([user_id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(User {
        id: user_id.to_string(),
        name,
        phone,
        role: role.parse()?,
        org_ids,
    })
}
