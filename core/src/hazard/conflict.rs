//! The conflict list. An event that the fold found invalid at its position (two people acted
//! on one hazard offline, and the other action came first) is kept and listed for the lowest
//! level that can see both actors: the conflicted event's actor and its rival, the last event
//! before it that did apply. Two grid workers' race is for the grid to sort out; a worker
//! against the village leader goes to the village; anything involving the township goes to
//! the township. Each level lists the conflicts routed to it in its own area; anyone may list
//! every conflict in their scope.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use super::store::EventRow;
use super::HazardEvent;
use crate::apply;
use crate::error::Result;
use crate::op::OpBody;
use crate::org::{Actor, OrgLevel, Role};
use crate::store::Store;

/// A conflicted hazard event, what it collided with, and where it is listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub hazard_id: Uuid,
    pub event: EventRow,
    /// The last event before it that applied (`None`: nothing had applied, so the conflicted
    /// event is a report that lost to another, or an event before any report arrived).
    pub rival: Option<EventRow>,
    /// The level that sorts it out, and the org node of the hazard at that level (`None`: the
    /// hazard has no state here, so its place in the tree is unknown).
    pub listed_for: OrgLevel,
    pub node_id: Option<String>,
    /// The hazard's grid, when it has state here.
    pub grid_id: Option<String>,
    /// Marked handled (a `settle_conflict` event): kept in the case's history, off the list
    /// of conflicts to handle.
    pub settled: bool,
}

/// The lowest level that sees both roles' actions: the higher anchor of the two.
fn level_for(roles: &[Role]) -> OrgLevel {
    match roles.iter().map(|r| r.rank()).max() {
        Some(3) => OrgLevel::Township,
        Some(2) => OrgLevel::Village,
        _ => OrgLevel::Grid,
    }
}

/// Every conflict, in the order of the conflicted events (HLC, op id). One pass over each
/// conflicted case's history finds the rival of each of its conflicts (a case with n
/// conflicted events is read once, not n times).
fn all_conflicts(c: &Connection) -> Result<Vec<Conflict>> {
    let conflicted = apply::conflicted_ops(c)?;
    let order: HashMap<Uuid, usize> = conflicted
        .iter()
        .enumerate()
        .map(|(i, (op, _))| (op.id, i))
        .collect();
    let mut cases: Vec<(Uuid, String)> = conflicted
        .iter()
        .filter_map(|(op, _)| match &op.body {
            OpBody::Hazard { hazard_id, .. } => Some((*hazard_id, op.body.entity())),
            _ => None,
        })
        .collect();
    cases.sort();
    cases.dedup();
    let mut out: Vec<(usize, Conflict)> = Vec::with_capacity(conflicted.len());
    for (hazard_id, entity) in cases {
        let stored: Option<(String, String, String, String)> = c
            .prepare_cached(
                "SELECT grid_id, village_id, township_id, body FROM hazards WHERE id = ?1",
            )?
            .query_row([hazard_id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let settled: Vec<Uuid> = match &stored {
            Some((_, _, _, body)) => serde_json::from_str::<super::Hazard>(body)?.settled_conflicts,
            None => Vec::new(),
        };
        let stored = stored.map(|(g, v, t, _)| (g, v, t));
        let mut rival: Option<EventRow> = None;
        for (op, why) in apply::entity_ops(c, &entity)? {
            let at = order.get(&op.id).copied();
            let bookkeeping = matches!(
                &op.body,
                OpBody::Hazard {
                    event: HazardEvent::SettleConflict { .. },
                    ..
                }
            );
            let Some(why) = why else {
                if bookkeeping {
                    continue;
                }
                rival = EventRow::from_op(op, None).map(|(_, row)| row);
                continue;
            };
            let (Some(at), Some((_, event))) = (at, EventRow::from_op(op, Some(why))) else {
                continue;
            };
            let roles: Vec<Role> = std::iter::once(event.actor_role)
                .chain(rival.as_ref().map(|r| r.actor_role))
                .collect();
            let listed_for = level_for(&roles);
            let place = stored.clone().or_else(|| match &event.event {
                HazardEvent::Report(r) => Some((
                    r.grid_id.clone(),
                    r.village_id.clone(),
                    r.township_id.clone(),
                )),
                _ => None,
            });
            let node_id = place.as_ref().map(|(g, v, t)| match listed_for {
                OrgLevel::Grid => g.clone(),
                OrgLevel::Village => v.clone(),
                _ => t.clone(),
            });
            let settled = settled.contains(&event.op_id);
            out.push((
                at,
                Conflict {
                    settled,
                    hazard_id,
                    event,
                    rival: rival.clone(),
                    listed_for,
                    node_id,
                    grid_id: place.map(|(g, _, _)| g),
                },
            ));
        }
    }
    out.sort_by_key(|(at, _)| *at);
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

impl Store {
    /// The conflicts this user's level is to sort out in their area, not yet marked handled.
    pub fn conflicts(&self, actor: &Actor) -> Result<Vec<Conflict>> {
        let level = actor.role.anchor_level();
        Ok(self
            .conflicts_in_scope(actor)?
            .into_iter()
            .filter(|c| c.listed_for == level && !c.settled)
            .collect())
    }

    /// Every conflict on a hazard in this user's scope (a hazard with no state here, whose
    /// grid is unknown, is shown to everyone rather than to no one).
    pub fn conflicts_in_scope(&self, actor: &Actor) -> Result<Vec<Conflict>> {
        let all = self.read(all_conflicts)?;
        Ok(all
            .into_iter()
            .filter(|c| c.grid_id.as_ref().is_none_or(|g| actor.covers(g)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_higher_of_the_two_actors_decides_the_level() {
        use Role::*;
        assert_eq!(level_for(&[GridWorker, GridWorker]), OrgLevel::Grid);
        assert_eq!(level_for(&[GridWorker]), OrgLevel::Grid);
        assert_eq!(level_for(&[GridWorker, VillageLeader]), OrgLevel::Village);
        assert_eq!(
            level_for(&[VillageLeader, TownshipOfficer]),
            OrgLevel::Township
        );
        assert_eq!(
            level_for(&[TownshipOfficer, GridWorker]),
            OrgLevel::Township
        );
    }
}
