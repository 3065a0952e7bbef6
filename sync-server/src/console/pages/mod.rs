//! The console's pages, one module each; each reads the caught-up fold, cut to the signed-in
//! user's scope, and renders through the shared layout.

pub(super) mod actions;
pub(super) mod annual;
pub(super) mod conflicts;
pub(super) mod coverage;
pub(super) mod dashboard;
pub(super) mod escalations;
pub(super) mod exports;
pub(super) mod hazard;
pub(super) mod hazards;
pub(super) mod login;

/// The most rows a list shows (the total is always given).
const LIST_LIMIT: usize = 300;

/// An area and a period, as the dashboard and the exports page are asked for them.
#[derive(serde::Deserialize, Default)]
pub struct ScopeQuery {
    scope: Option<String>,
    from: Option<String>,
    to: Option<String>,
}
