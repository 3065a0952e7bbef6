//! A township's first start, without the demo: its county and township nodes and its first
//! township officer, who then signs in to the console and sets up the rest. Recorded as the
//! server's own ops, like every other change, so phones receive the tree at their first sync.

use gridpatrol_core::org::{Actor, OrgLevel, OrgNode, Role, User};

use crate::backend::{Admin, ApiError};
use crate::serve::check_password;

/// What `init` creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstStart {
    pub county_id: String,
    pub county: String,
    pub township_id: String,
    pub township: String,
    pub admin_id: String,
    pub admin_name: String,
    pub admin_phone: Option<String>,
}

/// Creates the county and township nodes and the first township officer with `password`.
/// Refused, changing nothing, when the server already holds a township (a second `init` on a
/// live server must not make a second tree) or when any field or the password is not valid.
pub fn init_township(b: &impl Admin, start: &FirstStart, password: &str) -> Result<(), ApiError> {
    check_password(password)?;
    let existing = b.records()?.org_nodes(OrgLevel::Township)?;
    if let Some(t) = existing.first() {
        return Err(ApiError::new(
            409,
            "already_initialised",
            &format!("服务器已初始化（乡镇 {}），未做任何更改", t.id),
            &format!(
                "the server is already initialised (township {}); nothing changed",
                t.id
            ),
        ));
    }
    // Everything is checked before the first op is recorded: a refused field must not leave
    // half a tree that a second `init` would then refuse to complete.
    let county = OrgNode {
        id: start.county_id.clone(),
        level: OrgLevel::County,
        parent_id: None,
        name: start.county.clone(),
    }
    .validated()
    .map_err(gridpatrol_core::Error::from)?;
    let township = OrgNode {
        id: start.township_id.clone(),
        level: OrgLevel::Township,
        parent_id: Some(county.id.clone()),
        name: start.township.clone(),
    }
    .validated()
    .map_err(gridpatrol_core::Error::from)?;
    let admin = User {
        id: start.admin_id.clone(),
        name: start.admin_name.clone(),
        phone: start.admin_phone.clone(),
        role: Role::TownshipOfficer,
        org_ids: vec![township.id.clone()],
    }
    .validated()
    .map_err(gridpatrol_core::Error::from)?;
    let sys = Actor::provisioner();
    b.author(|store| {
        store.put_org_node(&sys, county)?;
        store.put_org_node(&sys, township)?;
        store.put_user(&sys, admin)
    })?;
    b.set_password(&start.admin_id, password)
}
