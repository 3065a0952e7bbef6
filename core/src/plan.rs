//! Patrol plans (巡查计划): the village or township says, for a grid, who patrols which places
//! (by type and risk level), how often, and which checklist items to look at first — the seed's
//! "细化巡查人员、巡查对象、巡查内容". Places no plan covers keep the built-in place type × risk
//! rule and stay with every worker of their grid. Plans arrive as ops and are last-writer-wins
//! as whole records.

use rusqlite::{params, Connection, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checklist::library;
use crate::clock::Day;
use crate::error::{self, Field, InvalidInput, Problem, Result};
use crate::hazard::lifecycle::Rejection;
use crate::op::OpBody;
use crate::org::{self, Actor, Role};
use crate::place::{self, PlaceRow, RiskLevel};
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatrolPlan {
    pub id: Uuid,
    pub grid_id: String,
    /// The worker it assigns; `None`: every worker of the grid.
    pub worker_id: Option<String>,
    /// Place types it covers; empty: all.
    #[serde(default)]
    pub place_types: Vec<String>,
    /// Risk levels it covers; empty: all.
    #[serde(default)]
    pub risk_levels: Vec<RiskLevel>,
    /// Days between visits; `None`: the place type × risk rule.
    pub every_days: Option<u32>,
    /// Checklist items to look at first (巡查内容); empty: the whole checklist as usual.
    #[serde(default)]
    pub focus_items: Vec<String>,
    pub active: bool,
    #[serde(default)]
    pub note: String,
    /// The first day it applies; `None`: from when it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_on: Option<Day>,
    /// The last day it applies; `None`: until it is stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_on: Option<Day>,
}

impl PatrolPlan {
    fn covers(&self, p: &place::Place, today: Day) -> bool {
        self.active
            && self.starts_on.is_none_or(|d| d <= today)
            && self.ends_on.is_none_or(|d| today <= d)
            && self.grid_id == p.grid_id
            && (self.place_types.is_empty() || self.place_types.contains(&p.place_type))
            && (self.risk_levels.is_empty() || self.risk_levels.contains(&p.risk_level))
    }

    fn assigns(&self, user_id: &str) -> bool {
        self.worker_id.as_deref().is_none_or(|w| w == user_id)
    }

    pub(crate) fn validated(mut self) -> Result<Self, InvalidInput> {
        for t in &self.place_types {
            library().place_type(t)?;
        }
        for k in &self.focus_items {
            org::check_code(Field::Answer, k)?;
        }
        if let Some(d) = self.every_days {
            if !(1..=366).contains(&d) {
                return Err(InvalidInput::new(
                    Field::PatrolEveryDays,
                    Problem::OutOfRange {
                        min: "1".into(),
                        max: "366".into(),
                    },
                ));
            }
        }
        self.note = error::optional_text(Field::Note, &self.note, 200)?;
        if let (Some(from), Some(to)) = (self.starts_on, self.ends_on) {
            if to < from {
                return Err(InvalidInput::new(
                    Field::Period,
                    Problem::NotAfter {
                        other: from.to_string(),
                    },
                ));
            }
        }
        Ok(self)
    }
}

pub(crate) fn put_plan(tx: &Transaction, p: &PatrolPlan) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO patrol_plans (id, grid_id, body) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET grid_id = excluded.grid_id, body = excluded.body",
    )?
    .execute(params![
        p.id.to_string(),
        p.grid_id,
        serde_json::to_string(p)?
    ])?;
    Ok(())
}

pub(crate) fn plans_in(c: &Connection, grids: &[String]) -> Result<Vec<PatrolPlan>> {
    let mut stmt =
        c.prepare_cached("SELECT body FROM patrol_plans WHERE grid_id = ?1 ORDER BY id")?;
    let mut out = Vec::new();
    for g in grids {
        for body in stmt.query_map([g], |r| r.get::<_, String>(0))? {
            out.push(serde_json::from_str(&body?)?);
        }
    }
    Ok(out)
}

/// The places `actor` is to patrol and how often, once the grids' plans are applied. A place
/// that plans assign only to other workers leaves a grid worker's list; a place no plan covers
/// stays on every list with the rule's cycle; a covered place takes the shortest cycle of the
/// plans that apply. A cycle set on the place itself still comes first.
///
/// `worker` is the grid worker whose list it is; `None` for the office, which sees every
/// place on the cycle the plans give it.
pub(crate) fn apply_plans(
    rows: Vec<PlaceRow>,
    plans: &[PatrolPlan],
    worker: Option<&str>,
    today: Day,
) -> Vec<PlaceRow> {
    rows.into_iter()
        .filter_map(|mut row| {
            let covering: Vec<&PatrolPlan> = plans
                .iter()
                .filter(|x| x.covers(&row.place, today))
                .collect();
            let mine: Vec<&PatrolPlan> = covering
                .iter()
                .copied()
                .filter(|x| worker.is_none_or(|w| x.assigns(w)))
                .collect();
            if mine.is_empty() && !covering.is_empty() {
                return None;
            }
            let planned = mine.iter().filter_map(|x| x.every_days).min();
            if let (None, Some(days)) = (row.place.patrol_every_days, planned) {
                row.cycle_days = days;
                // Never patrolled stays due today; otherwise due a cycle after the last visit.
                if let Some(ms) = row.last_patrol_at {
                    row.next_due = Day::from_ms(ms).plus(days as i32);
                }
            }
            Some(row)
        })
        .collect()
}

/// The focus items of every active plan that covers the place, and of every campaign running
/// on `today` that reaches it.
pub(crate) fn focus_items(c: &Connection, p: &place::Place, today: Day) -> Result<Vec<String>> {
    let mut items: Vec<String> = plans_in(c, std::slice::from_ref(&p.grid_id))?
        .into_iter()
        .filter(|x| x.covers(p, today))
        .flat_map(|x| x.focus_items)
        .collect();
    items.extend(crate::campaign::focus_items(c, p, today)?);
    items.sort();
    items.dedup();
    Ok(items)
}

impl Store {
    /// Adds or replaces a patrol plan. Village leaders plan their village's grids, township
    /// officers the township's; the assigned worker must work in the grid.
    pub fn put_plan(&self, actor: &Actor, plan: PatrolPlan) -> Result<Uuid> {
        if !matches!(actor.role, Role::VillageLeader | Role::TownshipOfficer) {
            return Err(Rejection::RoleNotAllowed {
                event: "plan".into(),
                role: actor.role,
            }
            .into());
        }
        let plan = plan.validated()?;
        let id = plan.id;
        self.write(|tx| {
            place::require_grid_in_scope(tx, actor, &plan.grid_id)?;
            // Stopping a plan never fails on an item switched off since it was made.
            if plan.active {
                crate::checklist::require_items_known(tx, &plan.focus_items)?;
            }
            if let Some(w) = &plan.worker_id {
                let worker = org::load_actor(tx, w)?;
                if worker.role != Role::GridWorker || !worker.covers(&plan.grid_id) {
                    return Err(crate::vocab::unknown(Field::Id, w).into());
                }
            }
            self.commit_local(tx, actor, OpBody::Plan(plan))?;
            Ok(id)
        })
    }

    /// Resolves a plan id typed by a person: the full id or a unique tail of 6+ characters.
    pub fn find_plan(&self, id_or_tail: &str) -> Result<Uuid> {
        self.resolve_id("patrol_plans", id_or_tail, crate::error::Entity::Plan)
    }

    /// The plans of the actor's grids.
    pub fn plans(&self, actor: &Actor) -> Result<Vec<PatrolPlan>> {
        self.read(|c| plans_in(c, &actor.grids))
    }
}
