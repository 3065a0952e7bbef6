//! The server's copy of the state (feature `server`; the phone library leaves it out). A sync
//! server keeps everyone's ops in a core `Store` used as a fold, wrapped here as `Records`: it
//! judges pushed ops (`judge`), reads the log forward from a position with each op's grids (to
//! serve pulls by scope), folds ops the server's own log holds, says where a photo belongs, and
//! compacts superseded history. The log's row order is the fold's own sequence: ops are only
//! ever appended, so a position never moves backwards.

mod judge;

use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::apply::{op_row_at, OP_COLUMNS};
use crate::clock::Clock;
use crate::error::Result;
use crate::hazard::HazardEvent;
use crate::op::{Op, OpBody};
use crate::org;
use crate::store::Store;
use crate::sync::protocol::{PushOutcome, PushResult};

/// What to read of the log: see `Records::feed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedQuery {
    pub after: i64,
    pub limit: usize,
    pub upto: Option<i64>,
    pub skip_device: Option<Uuid>,
    pub compact: bool,
}

/// A stretch of the log read forward: the ops to consider, where reading stopped, and whether
/// it stopped at the limit (more may follow).
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub items: Vec<FeedItem>,
    pub last_position: i64,
    pub full: bool,
}

/// One op of the feed with its server position and the grids it belongs to (empty: reference
/// data every device receives).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    pub position: i64,
    pub op: Op,
    pub grids: Vec<String>,
}

/// Where a photo belongs (see `Records::photo_home`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoHome {
    /// The device that made the first op citing the photo: the one that took it.
    pub device_id: Uuid,
    pub user_id: String,
    /// The grids of that op's record as held now: who may read the photo.
    pub grids: Vec<String>,
}

fn grid_of(c: &Connection, table: &str, id: &Uuid) -> Result<Option<String>> {
    Ok(
        c.prepare_cached(&format!("SELECT grid_id FROM {table} WHERE id = ?1"))?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?,
    )
}

/// The grids `body` touches, as far as the records held here tell: where a place is now and
/// where it moves to, the grid of a hazard (from its report when it is the report), the grids
/// under an activity's org node. Reference data touches none.
pub(crate) fn grids_touched(c: &Connection, body: &OpBody) -> Result<Vec<String>> {
    let mut grids: Vec<String> = match body {
        OpBody::OrgNode(_) | OpBody::User(_) | OpBody::Template(_) => Vec::new(),
        OpBody::PlaceCreate(p) => vec![p.grid_id.clone()],
        OpBody::PlaceUpdate(ch) => grid_of(c, "places", &ch.place_id)?
            .into_iter()
            .chain(ch.grid_id.clone())
            .collect(),
        OpBody::Patrol(p) => vec![p.grid_id.clone()],
        // A plan, like a place, touches the grid it is in now as well as the one it names.
        OpBody::Plan(p) => grid_of(c, "patrol_plans", &p.id)?
            .into_iter()
            .chain([p.grid_id.clone()])
            .collect(),
        OpBody::Photo(c) => vec![c.grid_id.clone()],
        OpBody::Activity(a) => org::grids_under(c, &a.org_id)?,
        OpBody::Fire(f) => vec![f.grid_id.clone()],
        OpBody::FireWithdrawn(w) => grid_of(c, "fires", &w.fire_id)?.into_iter().collect(),
        OpBody::Letter(l) => org::grids_under(c, &l.org_id)?,
        // A group, like a plan, touches the area it is in now as well as the one it names.
        OpBody::Group(g) => {
            let mut grids = org::grids_under(c, &g.org_id)?;
            if let Some(held) = crate::registers::group::load_group(c, &g.id)? {
                grids.extend(org::grids_under(c, &held.org_id)?);
            }
            grids
        }
        OpBody::EquipmentCheck(x) => match crate::registers::group::load_group(c, &x.group_id)? {
            Some(g) => org::grids_under(c, &g.org_id)?,
            None => Vec::new(),
        },
        // A campaign touches every grid of its township, and of the one it is stored under.
        // A campaign belongs to a township: named anything else, it touches nothing (refused).
        OpBody::Campaign(x) => {
            if !matches!(org::node(c, &x.township_id), Ok(n) if n.level == org::OrgLevel::Township)
            {
                return Ok(Vec::new());
            }
            let mut grids = org::grids_under(c, &x.township_id)?;
            if let Some(t) = crate::campaign::township_of(c, &x.id)? {
                grids.extend(org::grids_under(c, &t)?);
            }
            grids
        }
        OpBody::Hazard { hazard_id, event } => match event {
            HazardEvent::Report(r) => vec![r.grid_id.clone()],
            _ => grid_of(c, "hazards", hazard_id)?.into_iter().collect(),
        },
    };
    grids.sort();
    grids.dedup();
    Ok(grids)
}

/// Everyone's records as the server holds them: a fold of the server's log, and what only a
/// server does with it. Reads of the state (people, places, hazards, reports) go through
/// `store()`, the same functions a phone uses.
pub struct Records {
    store: Store,
}

impl Records {
    /// Opens (creating) the fold at `path` with the built-in checklist library every device
    /// installs (identical ops, so never conflicting).
    pub fn open(path: impl AsRef<std::path::Path>, clock: Clock) -> Result<Records> {
        let store = Store::open(path, clock)?;
        store.install_library()?;
        Ok(Records { store })
    }

    /// Records over a store opened elsewhere (tests, the demo's scratch database).
    pub fn new(store: Store) -> Records {
        Records { store }
    }

    /// The state, read and written through the same functions as on a phone; what the server
    /// records there itself (account changes, the console's actions) it records as its own
    /// device.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The server's wall clock: a server has no server to correct its clock against.
    pub fn now_ms(&self) -> i64 {
        self.store.device_wall_ms()
    }

    /// The grids an op touches, for authorising it (see `sync::authz`).
    pub fn grids_touched(&self, body: &OpBody) -> Result<Vec<String>> {
        self.store.read(|c| grids_touched(c, body))
    }

    /// Folds ops that the server's log already holds (read back from it, or imported), in
    /// log order, in one transaction.
    pub fn fold_logged(&self, ops: &[Op]) -> Result<()> {
        self.store.write(|tx| {
            for op in ops {
                self.store.apply_remote_in(tx, op)?;
            }
            Ok(())
        })
    }

    /// Ops recorded here as the server's own device that are not yet marked as in the
    /// server's log (what the console or an account command just recorded, and any left by a
    /// failure before they were stored), in sequence order.
    pub fn unlogged(&self) -> Result<Vec<Op>> {
        self.store.outbox_batch(usize::MAX >> 1)
    }

    /// Marks `ops`, stored in the server's log, as logged.
    pub fn mark_logged(&self, ops: &[Op]) -> Result<()> {
        let stored: Vec<PushResult> = ops
            .iter()
            .map(|op| PushResult {
                op_id: op.id,
                outcome: PushOutcome::Applied,
            })
            .collect();
        self.store.acknowledge(&stored)?;
        Ok(())
    }

    /// A stretch of the log in the order it was stored here: up to `limit` rows after
    /// `q.after` (and not after `q.upto`), each with its grids, leaving out ops made on
    /// `q.skip_device` (a device has its own ops already) and, when `q.compact`, whole-record
    /// ops (org nodes, users, plans) that a later op of the same record supersedes.
    pub fn feed(&self, q: &FeedQuery) -> Result<Feed> {
        self.store.read(|c| {
            let skip_device = q.skip_device.map(|d| d.to_string()).unwrap_or_default();
            let rows: Vec<(i64, Option<Op>)> = c
                .prepare_cached(&format!(
                    "SELECT rowid, device_id = ?3 OR (?5 AND kind IN ('org_node', 'user', 'plan')
                         AND EXISTS (SELECT 1 FROM ops later WHERE later.entity = ops.entity
                             AND (later.hlc, later.id) > (ops.hlc, ops.id))),
                         {OP_COLUMNS}
                     FROM ops WHERE rowid > ?1 AND rowid <= ?4 ORDER BY rowid LIMIT ?2"
                ))?
                .query_map(
                    params![
                        q.after,
                        q.limit as i64,
                        skip_device,
                        q.upto.unwrap_or(i64::MAX),
                        q.compact
                    ],
                    |r| {
                        let skip: bool = r.get(1)?;
                        let op = if skip { None } else { Some(op_row_at(r, 2)?.0) };
                        Ok((r.get(0)?, op))
                    },
                )?
                .collect::<rusqlite::Result<_>>()?;
            let full = rows.len() == q.limit;
            let last_position = rows.last().map_or(q.after, |(p, _)| *p);
            let mut items = Vec::with_capacity(rows.len());
            for (position, op) in rows {
                if let Some(op) = op {
                    let grids = grids_touched(c, &op.body)?;
                    items.push(FeedItem {
                        position,
                        op,
                        grids,
                    });
                }
            }
            Ok(Feed {
                items,
                last_position,
                full,
            })
        })
    }

    /// Where photo `hash` belongs: the op that first cited it in this log (its capture, or
    /// the record it was sent with), the device that made that op, and the grids of its
    /// record as held here now (`None`: nothing here cites it). A hash is learnt only from a
    /// record already here, so the first citation is the photo's own; a later op citing the
    /// same hash, from whoever, changes neither who sent the photo nor who may read it.
    pub fn photo_home(&self, hash: &str) -> Result<Option<PhotoHome>> {
        self.store.read(|c| {
            let first = c
                .prepare_cached(&format!(
                    "SELECT {OP_COLUMNS} FROM ops
                     WHERE id IN (SELECT op_id FROM photo_refs WHERE hash = ?1)
                     ORDER BY rowid LIMIT 1"
                ))?
                .query_row([hash], |r| op_row_at(r, 0))
                .optional()?;
            let Some((op, _, _)) = first else {
                return Ok(None);
            };
            Ok(Some(PhotoHome {
                grids: grids_touched(c, &op.body)?,
                device_id: op.device_id,
                user_id: op.actor_id,
            }))
        })
    }

    /// Whether an op made on `device_id`, or by `user_id`, cites photo `hash` (they have it
    /// to send).
    pub fn photo_cited_on(&self, hash: &str, device_id: Uuid, user_id: &str) -> Result<bool> {
        self.store.read(|c| {
            Ok(c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM ops WHERE (device_id = ?2 OR actor_id = ?3)
                     AND id IN (SELECT op_id FROM photo_refs WHERE hash = ?1))",
            )?
            .query_row(params![hash, device_id.to_string(), user_id], |r| r.get(0))?)
        })
    }

    /// The photos that `user_id`'s ops cite (what their storage quota is counted over).
    pub fn photos_cited_by(&self, user_id: &str) -> Result<Vec<String>> {
        self.store.read(|c| {
            Ok(c.prepare_cached(
                "SELECT DISTINCT r.hash FROM photo_refs r JOIN ops o ON o.id = r.op_id
                     WHERE o.actor_id = ?1",
            )?
            .query_map([user_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The position of the newest op stored here (0 when there is none).
    pub fn last_position(&self) -> Result<i64> {
        self.store
            .read(|c| Ok(c.query_row("SELECT coalesce(max(rowid), 0) FROM ops", [], |r| r.get(0))?))
    }

    /// Deletes whole-record ops (org nodes, users, plans) that a later op of the same record
    /// supersedes and whose HLC is older than `before_ms`. State does not change: the fold of
    /// such a record reads only its last op. Returns how many went and the highest position
    /// removed, below which a pull cursor can no longer be served incrementally.
    pub fn compact_superseded(&self, before_ms: i64) -> Result<(usize, Option<i64>)> {
        let before = crate::clock::Hlc::new(before_ms, 0).0;
        self.store.write(|tx| {
            // The newest row is never deleted: SQLite gives the next insert max(rowid) + 1,
            // and a reused position would hide that insert from cursors already past it.
            let doomed = "SELECT rowid FROM ops WHERE kind IN ('org_node', 'user', 'plan')
                AND hlc < ?1 AND conflict IS NULL AND rowid < (SELECT max(rowid) FROM ops)
                AND EXISTS (SELECT 1 FROM ops later WHERE later.entity = ops.entity
                    AND (later.hlc, later.id) > (ops.hlc, ops.id))";
            let highest: Option<i64> = tx.query_row(
                &format!("SELECT max(rowid) FROM ({doomed})"),
                [before],
                |r| r.get(0),
            )?;
            let n = tx.execute(
                &format!("DELETE FROM ops WHERE rowid IN ({doomed})"),
                [before],
            )?;
            Ok((n, highest))
        })
    }
}
