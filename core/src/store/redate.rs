//! Re-dating what a device has not sent yet, when the server says its clock was wrong: a
//! phone's clock jumps ahead, or is set to a wrong year, while it works offline for days; the
//! server refuses ops dated ahead of its own clock (they would carry every device's clock with
//! them), and nobody may lose the work. Nobody else has these ops yet, so changing them on the
//! device that made them changes no one's history.

use std::collections::BTreeSet;

use rusqlite::params;

use super::{lock, Store};
use crate::apply;
use crate::clock::Hlc;
use crate::error::Result;
use crate::op::OpBody;

/// Moves the times a record carries besides its op's HLC by `shift_ms`.
fn shift_times(body: &mut OpBody, shift_ms: i64) {
    match body {
        OpBody::Patrol(p) => {
            p.started_at = p.started_at.saturating_add(shift_ms);
            p.ended_at = p.ended_at.saturating_add(shift_ms);
        }
        OpBody::Photo(c) => c.taken_at = c.taken_at.saturating_add(shift_ms),
        _ => {}
    }
}

impl Store {
    /// Corrects this device's clock by `server_time_ms` and re-dates each unsent op dated
    /// after it: to the time the device's own clock read when the op was made, corrected, and
    /// never after the server's time; the times inside its record move with it, and HLCs keep
    /// rising with the sequence. Each record touched is folded again. Returns how many ops
    /// were re-dated.
    pub fn redate_unsent(&self, server_time_ms: i64) -> Result<usize> {
        self.learn_server_time(server_time_ms)?;
        let offset = self.offset_from(server_time_ms);
        let device = self.device_id.to_string();
        let n = self.write(|tx| {
            let acked: i64 =
                tx.query_row("SELECT acked_seq FROM device WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
            let mut prev = Hlc(tx.query_row(
                "SELECT coalesce(max(hlc), 0) FROM ops WHERE device_id = ?1 AND seq <= ?2",
                params![device, acked],
                |r| r.get(0),
            )?);
            let unsent = self.outbox_batch_in(tx, usize::MAX >> 1)?;
            let mut refold = BTreeSet::new();
            let mut n = 0;
            for mut op in unsent {
                let mut hlc = op.hlc;
                if hlc.wall_ms() > server_time_ms {
                    hlc = Hlc::new(op.wall_ms.saturating_add(offset).min(server_time_ms), 0);
                }
                if hlc <= prev {
                    hlc = Hlc(prev.0 + 1);
                }
                if hlc != op.hlc {
                    shift_times(&mut op.body, hlc.wall_ms() - op.hlc.wall_ms());
                    tx.prepare_cached("UPDATE ops SET hlc = ?2, body = ?3 WHERE id = ?1")?
                        .execute(params![
                            op.id.to_string(),
                            hlc.0,
                            serde_json::to_string(&op.body)?
                        ])?;
                    apply::forget_written(tx, &op.body)?;
                    refold.insert(op.body.entity());
                    n += 1;
                }
                prev = hlc;
            }
            for entity in refold {
                apply::refold_entity(tx, &entity)?;
            }
            Ok(n)
        })?;
        // The last op's HLC, remembered for the next one, has changed.
        let mut cursor = lock(&self.cursor);
        cursor.committed = None;
        cursor.staged = None;
        Ok(n)
    }
}
