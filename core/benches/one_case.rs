//! The server's cost of many events on one case (issue 14): a hostile or broken phone pushes
//! 2,000 events on one hazard. Each push folds the case once, so the cost grows with the events
//! pushed, not with their square. Measured through `Records::accept_pushed` (authorisation,
//! field rules, claims, clock bounds, the fold) in one push and in pushes of 250, next to the
//! physical limit of the same job: one insert of the same 2,000 op rows with plain rusqlite in
//! one transaction, in the same run. Then the township's conflict list of that case (every
//! notice after the first conflicts), read in one pass.
//!
//! Run: `cargo bench -p gridpatrol-core --features server --bench one_case` (events from
//! GRIDPATROL_ONE_CASE_EVENTS, default 2,000).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use gridpatrol_core::clock::{Clock, Hlc};
use gridpatrol_core::hazard::{HazardEvent, NewHazard, Severity};
use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::server::Records;
use gridpatrol_core::{demo, Store};
use rusqlite::params;
use uuid::Uuid;

/// A fresh server fold with the demo township, and a phone of w01 holding what it holds: the
/// phone's report of one hazard, and `n` events on it (a notice, then notices that conflict).
fn fixture(dir: &std::path::Path, n: usize) -> (Records, Vec<Op>) {
    let server = Store::open(dir.join("server.db"), Clock::System).unwrap();
    demo::seed(&server).unwrap();
    let phone = Store::open(dir.join("phone.db"), Clock::System).unwrap();
    for op in server.ops().unwrap() {
        phone.apply_remote(&op).unwrap();
    }
    let w01 = phone.actor("w01").unwrap();
    let place = phone
        .places(&w01)
        .unwrap()
        .into_iter()
        .find(|p| p.place.grid_id == "g01")
        .unwrap();
    let id = phone
        .report_hazard(
            &w01,
            NewHazard::new(
                place.place.id,
                "extinguisher",
                Severity::General,
                "灭火器过期",
            ),
        )
        .unwrap();
    let report = phone.outbox_batch(10).unwrap().pop().unwrap();
    let mut ops = vec![report.clone()];
    for i in 1..=n as i64 {
        ops.push(Op {
            id: Uuid::now_v7(),
            seq: report.seq + i,
            hlc: Hlc(report.hlc.0 + i),
            body: OpBody::Hazard {
                hazard_id: id,
                event: HazardEvent::Notify {
                    responsible_party: "店主".into(),
                    deadline: phone.today().plus(7),
                    note: format!("第 {i} 次通知"),
                },
            },
            ..report.clone()
        });
    }
    (Records::new(server), ops)
}

/// Seconds to accept `ops` in pushes of `batch`.
fn push(records: &Records, ops: &[Op], batch: usize) -> f64 {
    let w01 = records.store().actor("w01").unwrap();
    let device = ops[0].device_id;
    let t = Instant::now();
    for chunk in ops.chunks(batch) {
        let answers = records.accept_pushed(&w01, device, chunk).unwrap();
        assert!(answers.iter().all(Result::is_ok));
    }
    t.elapsed().as_secs_f64()
}

/// Seconds to insert the same op rows once, with plain rusqlite, in one transaction.
fn raw_insert(dir: &std::path::Path, ops: &[Op]) -> f64 {
    let mut c = rusqlite::Connection::open(dir.join("raw.db")).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE ops (id TEXT PRIMARY KEY, device_id TEXT, seq INTEGER, hlc INTEGER,
             wall_ms INTEGER, actor_id TEXT, actor_role TEXT, kind TEXT, entity TEXT, body TEXT);",
    )
    .unwrap();
    let t = Instant::now();
    let tx = c.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare("INSERT INTO ops VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")
            .unwrap();
        for op in ops {
            stmt.execute(params![
                op.id.to_string(),
                op.device_id.to_string(),
                op.seq,
                op.hlc.0,
                op.wall_ms,
                op.actor_id,
                op.actor_role.code(),
                op.body.kind(),
                op.body.entity(),
                serde_json::to_string(&op.body).unwrap(),
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
    t.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("GRIDPATROL_ONE_CASE_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let one = tempfile::tempdir().unwrap();
    let (records, ops) = fixture(one.path(), n);
    let raw = raw_insert(one.path(), &ops);
    let whole = push(&records, &ops, ops.len());
    let batched_dir = tempfile::tempdir().unwrap();
    let (records, ops) = fixture(batched_dir.path(), n);
    let batched = push(&records, &ops, 250);
    let officer = records.store().actor("o01").unwrap();
    let t = Instant::now();
    let listed = records.store().conflicts_in_scope(&officer).unwrap().len();
    let conflicts = t.elapsed().as_secs_f64();
    assert_eq!(
        listed,
        n - 1,
        "every notice after the first is a conflict, kept and listed"
    );
    println!("{n} events on one case, accepted by the server's fold:");
    println!(
        "  one push:            {whole:8.3} s  ({:.1}x one raw insert)",
        whole / raw
    );
    println!(
        "  pushes of 250:       {batched:8.3} s  ({:.1}x one raw insert)",
        batched / raw
    );
    println!("  raw insert, same rows: {raw:6.3} s");
    println!("  the conflict list ({listed} conflicts): {conflicts:.3} s");
}
