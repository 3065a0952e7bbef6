//! The outbox: this device's ops above the acknowledged sequence number (`device.acked_seq`),
//! handed out oldest first. The server answers each op: applied and duplicate are done;
//! rejected is done too, kept with its reason in `push_rejections` for a person to see, and
//! never holds back the ops behind it. The watermark moves over the answered prefix only, so an
//! op the server did not answer (a cut connection, a crash) is sent again, and sending it again
//! is harmless because the server is idempotent by op id and by device sequence number.

use std::collections::HashMap;

use rusqlite::{params, Connection};
use serde::Serialize;
use uuid::Uuid;

use super::protocol::{PushOutcome, PushResult};
use crate::apply;
use crate::error::Result;
use crate::op::Op;
use crate::store::Store;

/// What an acknowledgement changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Acknowledged {
    pub done: usize,
    pub refused: usize,
    pub acked_seq: i64,
}

/// A local op the server refused, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefusedOp {
    pub op: Op,
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl Store {
    /// Up to `limit` pending ops of this device, in sequence order.
    pub fn outbox_batch(&self, limit: usize) -> Result<Vec<Op>> {
        self.read(|c| self.outbox_batch_in(c, limit))
    }

    /// `outbox_batch`, read on `c` (inside a transaction that changes them).
    pub(crate) fn outbox_batch_in(&self, c: &Connection, limit: usize) -> Result<Vec<Op>> {
        let ops = c
            .prepare_cached(&format!(
                "SELECT {} FROM ops WHERE device_id = ?1
                 AND seq > (SELECT acked_seq FROM device WHERE id = 1)
                 ORDER BY seq LIMIT ?2",
                apply::OP_COLUMNS
            ))?
            .query_map(params![self.device_id().to_string(), limit as i64], |r| {
                Ok(apply::op_row(r)?.0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ops)
    }

    /// Takes the server's answers to a push. In one transaction: rejections are recorded, and
    /// the watermark moves over the longest run of pending ops, from the oldest, that all have
    /// an answer. Answers for ops that are not pending (already acknowledged) change nothing.
    pub fn acknowledge(&self, results: &[PushResult]) -> Result<Acknowledged> {
        let by_id: HashMap<Uuid, &PushOutcome> =
            results.iter().map(|r| (r.op_id, &r.outcome)).collect();
        let device = self.device_id().to_string();
        self.write(|tx| {
            let acked: i64 =
                tx.query_row("SELECT acked_seq FROM device WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
            // The answered run is never longer than the answers: a phone with 50,000 ops
            // waiting reads 2,000 of them per push, not every one still waiting.
            let pending: Vec<(String, i64)> = tx
                .prepare_cached(
                    "SELECT id, seq FROM ops WHERE device_id = ?1 AND seq > ?2 ORDER BY seq
                     LIMIT ?3",
                )?
                .query_map(params![device, acked, results.len() as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Acknowledged {
                done: 0,
                refused: 0,
                acked_seq: acked,
            };
            for (id, seq) in pending {
                let Some(outcome) = Uuid::parse_str(&id).ok().and_then(|u| by_id.get(&u)) else {
                    break;
                };
                if let PushOutcome::Refused { code, zh, en } = outcome {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO push_rejections (op_id, code, zh, en)
                         VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![id, code, zh, en])?;
                    out.refused += 1;
                }
                out.done += 1;
                out.acked_seq = seq;
            }
            tx.execute(
                "UPDATE device SET acked_seq = ?1 WHERE id = 1",
                [out.acked_seq],
            )?;
            Ok(out)
        })
    }

    /// Local ops the server refused, oldest first, each with its reason.
    pub fn refused_ops(&self) -> Result<Vec<RefusedOp>> {
        self.read(|c| {
            let rows: Vec<(String, String, String, String)> = c
                .prepare_cached(
                    "SELECT r.op_id, r.code, r.zh, r.en FROM push_rejections r
                     JOIN ops o ON o.id = r.op_id ORDER BY o.seq",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for (id, code, zh, en) in rows {
                if let Some(op) = apply::op_by_id(c, &id)? {
                    out.push(RefusedOp { op, code, zh, en });
                }
            }
            Ok(out)
        })
    }
}
