//! Re-dating what a device has not sent yet, when the server says its clock was wrong: a
//! phone's clock jumps ahead, or is set to a wrong year, while it works offline for days; the
//! server refuses ops dated ahead of its own clock (they would carry every device's clock with
//! them), and nobody may lose the work. Nobody else has these ops yet, so changing them on the
//! device that made them changes no one's history.

use std::collections::BTreeSet;

use rusqlite::params;

use super::{lock, Store};
use crate::apply;
use crate::clock::{Day, Hlc};
use crate::error::Result;
use crate::op::OpBody;

/// Brings the times a record carries besides its op's HLC back from after the server's time
/// `server_ms` to `true_ms` (when its device's corrected clock says it was made), and a day
/// chosen from a calendar that read the wrong date back to `day`: times that were right stay
/// as they are. Whether anything changed.
fn bring_back(body: &mut OpBody, server_ms: i64, true_ms: i64, day: Day) -> bool {
    match body {
        OpBody::Patrol(p) if p.ended_at > server_ms => {
            let shift = true_ms - p.ended_at;
            p.started_at = p.started_at.saturating_add(shift);
            p.ended_at = true_ms;
            true
        }
        OpBody::Photo(c) if c.taken_at > server_ms => {
            c.taken_at = true_ms;
            true
        }
        OpBody::Activity(a) if a.held_on > day => {
            a.held_on = day;
            true
        }
        OpBody::Fire(f) if f.occurred_at > server_ms => {
            f.occurred_at = true_ms;
            true
        }
        OpBody::Letter(l) if l.signed_on > day => {
            l.signed_on = day;
            true
        }
        OpBody::EquipmentCheck(c) if c.checked_on > day => {
            c.checked_on = day;
            true
        }
        _ => false,
    }
}

impl Store {
    /// Corrects this device's clock by `server_time_ms` and re-dates each unsent op dated
    /// after it: to the time the device's own clock read when the op was made, corrected, and
    /// never after the server's time. Times inside a record that lie after the server's time
    /// come back with it (see `bring_back`); times that were right stay. HLCs keep rising with
    /// the sequence. Each record touched is folded again. Returns how many ops changed.
    pub fn redate_unsent(&self, server_time_ms: i64) -> Result<usize> {
        self.learn_server_time(server_time_ms)?;
        let offset = self.offset_from(server_time_ms);
        let device = self.device_id.to_string();
        let n = self.write(|tx| {
            let acked: i64 =
                tx.query_row("SELECT acked_seq FROM device WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
            // Sent ops dated after the server's time (before it bounded clocks) are taken as
            // dated now, as the server takes them.
            let mut prev = Hlc(tx.query_row(
                "SELECT coalesce(max(hlc), 0) FROM ops WHERE device_id = ?1 AND seq <= ?2",
                params![device, acked],
                |r| r.get(0),
            )?)
            .min(Hlc::new(server_time_ms, 0));
            let unsent = self.outbox_batch_in(tx, usize::MAX >> 1)?;
            let mut refold = BTreeSet::new();
            let mut n = 0;
            for mut op in unsent {
                let true_ms = op.wall_ms.saturating_add(offset).min(server_time_ms);
                let mut hlc = op.hlc;
                if hlc.wall_ms() > server_time_ms {
                    hlc = Hlc::new(true_ms, 0);
                }
                if hlc <= prev {
                    hlc = Hlc(prev.0 + 1);
                }
                let moved = bring_back(&mut op.body, server_time_ms, true_ms, hlc.day());
                if hlc != op.hlc || moved {
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
