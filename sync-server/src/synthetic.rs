//! Synthetic patrols for load tests and benchmarks: one real patrol recorded through the core,
//! then copies of it under new ids, workers, places and times, numbered as a device numbers
//! its ops. The server judges them exactly as it judges a phone's.

use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::{Clock, Hlc, Store};
use uuid::Uuid;

/// A device's numbering of the ops it makes.
pub struct Numbering {
    pub device_id: Uuid,
    pub seq: i64,
    pub hlc: i64,
}

impl Numbering {
    pub fn new(device_id: Uuid) -> Self {
        Numbering {
            device_id,
            seq: 0,
            hlc: 0,
        }
    }

    /// A copy of patrol `example` by `worker` at `place` in `grid`, made now.
    pub fn patrol(&mut self, example: &Op, worker: &str, place: Uuid, grid: &str) -> Op {
        let now = Clock::System.now_ms();
        let mut op = example.clone();
        if let OpBody::Patrol(record) = &mut op.body {
            record.id = Uuid::now_v7();
            record.place_id = place;
            record.grid_id = grid.to_string();
            record.worker_id = worker.to_string();
            record.started_at = now - 600_000;
            record.ended_at = now;
        }
        self.seq += 1;
        self.hlc = Hlc::new(now, 0).0.max(self.hlc + 1);
        op.id = Uuid::now_v7();
        op.device_id = self.device_id;
        op.seq = self.seq;
        op.hlc = Hlc(self.hlc);
        op.wall_ms = now;
        op.actor_id = worker.to_string();
        op
    }
}

/// The place type every grid of the demo has, grown or not (`demo::seed_more_grids`).
pub const PLACE_TYPE: &str = "farm_household";

/// Records one patrol by `worker` at their first place of `PLACE_TYPE` on `store` (signed in
/// and synced) and returns its op, to copy to other places of that type (same checklist).
pub fn example_patrol(store: &Store, worker: &str) -> gridpatrol_core::Result<Op> {
    let me = store.actor(worker)?;
    let place = store
        .places(&me)?
        .into_iter()
        .find(|p| p.place.place_type == PLACE_TYPE)
        .ok_or_else(|| {
            gridpatrol_core::Error::not_found(gridpatrol_core::error::Entity::Place, worker)
        })?
        .place;
    store.record_patrol(
        &me,
        gridpatrol_core::patrol::PatrolInput {
            place_id: place.id,
            started_at: store.device_wall_ms() - 600_000,
            gps: Default::default(),
            answers: vec![(
                store.patrol_form(place.id)?.template.items[0].key.clone(),
                gridpatrol_core::checklist::AnswerValue::NotApplicable,
            )],
            raise: vec![],
            note: String::new(),
        },
    )?;
    store.outbox_batch(1)?.pop().ok_or_else(|| {
        gridpatrol_core::Error::not_found(gridpatrol_core::error::Entity::Patrol, worker)
    })
}
