//! Who keeps a township's reference records, written once for the console, the import and the
//! command line: a township officer keeps its areas (villages and grids) and its people; a
//! village leader keeps the grid workers of the village's grids; nobody reaches past their
//! own township or village, neither with the record as it was nor as it becomes. Places are
//! kept by the place rules (`place`, `sync::authz`), campaigns by `campaign`.

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Entity, Error, Result};
use crate::hazard::lifecycle::Rejection;
use crate::org::{self, Actor, OrgLevel, OrgNode, Role, User};
use crate::store::Store;

/// Whether `id` is `ancestor` or lies below it in the org tree.
fn is_under(c: &Connection, id: &str, ancestor: &str) -> Result<bool> {
    let mut at = id.to_string();
    // The tree is four levels deep; a bound keeps a corrupt cycle from looping.
    for _ in 0..8 {
        if at == ancestor {
            return Ok(true);
        }
        match org::node(c, &at)?.parent_id {
            Some(p) => at = p,
            None => return Ok(false),
        }
    }
    Ok(false)
}

/// The one node an actor of `role` answers for (a township, a village), as stored.
fn anchor(c: &Connection, actor: &Actor, role: Role) -> Result<String> {
    if actor.role != role {
        return Err(not_allowed(actor, "administer"));
    }
    let user = load_user(c, &actor.user_id)?;
    user.org_ids
        .into_iter()
        .next()
        .ok_or_else(|| Rejection::OutOfScope.into())
}

fn load_user(c: &Connection, id: &str) -> Result<User> {
    let role: String = c
        .query_row("SELECT role FROM users WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::not_found(Entity::User, id))?;
    let mut stmt = c.prepare_cached("SELECT org_id FROM user_orgs WHERE user_id = ?1")?;
    let org_ids = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(User {
        id: id.to_string(),
        name: String::new(),
        phone: None,
        role: role.parse()?,
        org_ids,
    })
}

fn not_allowed(actor: &Actor, what: &str) -> crate::Error {
    Rejection::RoleNotAllowed {
        event: what.into(),
        role: actor.role,
    }
    .into()
}

/// May `actor` keep a person with this role and these areas? An officer: anyone of the
/// township below it (not the county's brigade); a leader: grid workers of the village.
fn may_keep(c: &Connection, actor: &Actor, role: Role, org_ids: &[String]) -> Result<()> {
    let (home, allowed) = match actor.role {
        Role::TownshipOfficer => (
            anchor(c, actor, Role::TownshipOfficer)?,
            role != Role::BrigadeAdvisor,
        ),
        Role::VillageLeader => (
            anchor(c, actor, Role::VillageLeader)?,
            role == Role::GridWorker,
        ),
        _ => return Err(not_allowed(actor, "user")),
    };
    if !allowed {
        return Err(not_allowed(actor, "user"));
    }
    for org in org_ids {
        if !is_under(c, org, &home)? {
            return Err(Rejection::OutOfScope.into());
        }
    }
    Ok(())
}

impl Store {
    /// A village or grid added, renamed or moved by a township officer: the node, as it was
    /// and as it becomes, lies in the officer's township.
    pub fn administer_area(&self, actor: &Actor, node: OrgNode) -> Result<()> {
        self.read(|c| {
            let township = anchor(c, actor, Role::TownshipOfficer)?;
            if !matches!(node.level, OrgLevel::Village | OrgLevel::Grid) {
                return Err(not_allowed(actor, "org_node"));
            }
            let parent = node.parent_id.as_deref().unwrap_or_default();
            let before = org::node(c, &node.id).ok();
            let stays_home = match &before {
                Some(b) => b.level == node.level && is_under(c, &b.id, &township)?,
                None => true,
            };
            if !stays_home || !is_under(c, parent, &township)? {
                return Err(Rejection::OutOfScope.into());
            }
            Ok(())
        })?;
        self.put_org_node(actor, node)
    }

    /// A person added or changed by `actor`: the person, as they were and as they become, is
    /// one the actor may keep (`may_keep`).
    pub fn administer_user(&self, actor: &Actor, user: User) -> Result<()> {
        // Nobody changes their own record here, nor takes the id the setup records act as.
        if user.id == actor.user_id || user.id == Actor::provisioner().user_id {
            return Err(not_allowed(actor, "user"));
        }
        self.read(|c| {
            if let Ok(before) = load_user(c, &user.id) {
                may_keep(c, actor, before.role, &before.org_ids)?;
            }
            may_keep(c, actor, user.role, &user.org_ids)
        })?;
        self.put_user(actor, user)
    }

    /// May `actor` manage `user_id`'s account (a first password, disabling, signing out
    /// devices)? The same rule as changing the person's record, and never one's own here.
    pub fn may_manage_account(&self, actor: &Actor, user_id: &str) -> Result<()> {
        self.read(|c| {
            let user = load_user(c, user_id)?;
            if user.id == actor.user_id {
                return Err(not_allowed(actor, "account"));
            }
            may_keep(c, actor, user.role, &user.org_ids)
        })
    }

    /// The people `actor` may keep, with their records, by role and id.
    pub fn kept_users(&self, actor: &Actor) -> Result<Vec<User>> {
        let mut out = Vec::new();
        for (id, _, _) in self.users()? {
            if id != actor.user_id && self.may_manage_account(actor, &id).is_ok() {
                out.push(self.user(&id)?);
            }
        }
        Ok(out)
    }
}
