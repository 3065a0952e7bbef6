//! The console's pages, one module each; each reads the caught-up fold, cut to the signed-in
//! user's scope, and renders through the shared layout.

pub(super) mod actions;
pub(super) mod admin;
pub(super) mod annual;
pub(super) mod conflicts;
pub(super) mod coverage;
pub(super) mod dashboard;
pub(super) mod escalations;
pub(super) mod exports;
pub(super) mod hazard;
pub(super) mod hazards;
pub(super) mod import;
pub(super) mod login;
pub(super) mod notice;
pub(super) mod password;
pub(super) mod registers;

use gridpatrol_core::clock::Day;

use crate::console::scope::period;

/// The most rows a list shows (the total is always given).
const LIST_LIMIT: usize = 300;

/// An area and a period, as the dashboard and the exports page are asked for them.
#[derive(serde::Deserialize, Default)]
pub struct ScopeQuery {
    scope: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl ScopeQuery {
    /// The area asked for (or the user's broadest) and the period (or this year so far).
    fn read<'v>(
        &self,
        v: &'v crate::console::View,
    ) -> Result<(&'v gridpatrol_core::org::OrgNode, Day, Day), crate::console::Refused> {
        let node = v.tree.scope_for(v.me.actor(), self.scope.as_deref())?;
        let (from, to) = period(self.from.as_deref(), self.to.as_deref(), v.store.today())?;
        Ok((node, from, to))
    }
}
