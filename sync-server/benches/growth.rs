//! Cost growth of the server's storage, through the `Backend` trait on each backend: an
//! incremental pull of 10 new ops when 10,000 ops are stored, and again when 1,000,000 are
//! (the two should cost about the same: a pull reads from its cursor on, whatever lies
//! behind it), and a township officer's bootstrap (every snapshot page) at 1,000,000 ops;
//! on PostgreSQL also how long a new instance takes to fold the log before it serves.
//! Ops are patrols pushed by a grid worker in batches of 2,000, as a phone pushes them.
//!
//! Run: `cargo bench -p gridpatrol-sync-server --bench growth` (sizes from
//! GRIDPATROL_GROWTH_SMALL and GRIDPATROL_GROWTH_LARGE, default 10,000 and 1,000,000; the
//! PostgreSQL half runs when GRIDPATROL_TEST_PG names a cluster to create a database in).

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use gridpatrol_core::op::Op;
use gridpatrol_core::{Clock, Store};
use gridpatrol_sync_server::backend::{seed_demo, Backend, Session};
use gridpatrol_sync_server::pg::PgBackend;
use gridpatrol_sync_server::service::Service;
use gridpatrol_sync_server::sqlite::SqliteBackend;
use gridpatrol_sync_server::storage::{AccountStore, OpLog};
use gridpatrol_sync_server::synthetic::{example_patrol, Numbering, PLACE_TYPE};
use gridpatrol_sync_server::DEMO_PASSWORD;
use uuid::Uuid;

const PULLS: usize = 30;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn session(b: &dyn Backend, user: &str) -> Session {
    let token = b
        .login(
            user,
            DEMO_PASSWORD,
            Uuid::new_v4(),
            std::net::Ipv4Addr::LOCALHOST.into(),
        )
        .unwrap();
    b.authenticate(&token).unwrap()
}

struct Writer {
    session: Session,
    numbering: Numbering,
    example: Op,
    places: Vec<(Uuid, String)>,
}

impl Writer {
    fn new<A: AccountStore, L: OpLog>(b: &Service<A, L>, dir: &std::path::Path) -> Writer {
        let session = session(b, "w01");
        // The example patrol is made on a device filled from the backend's own snapshot.
        let device = Store::open(dir.join("w01.db"), Clock::System).unwrap();
        let mut cursor = String::new();
        loop {
            let page = b.snapshot(&session, Some(&cursor), 5000).unwrap();
            device
                .apply_snapshot_page(
                    &page.ops,
                    &page.cursor,
                    page.pull_cursor.as_deref(),
                    page.server_time_ms,
                )
                .unwrap();
            cursor = page.cursor;
            if !page.more {
                break;
            }
        }
        let me = device.actor("w01").unwrap();
        let places = device
            .places(&me)
            .unwrap()
            .into_iter()
            .filter(|p| p.place.place_type == PLACE_TYPE)
            .map(|p| (p.place.id, p.place.grid_id))
            .collect();
        Writer {
            numbering: Numbering::new(session.device_id),
            example: example_patrol(&device, "w01").unwrap(),
            session,
            places,
        }
    }

    /// Pushes patrols until the log holds `total` ops.
    fn fill<A: AccountStore, L: OpLog>(&mut self, b: &Service<A, L>, total: i64) {
        loop {
            let have = b.log().last_position().unwrap();
            if have >= total {
                return;
            }
            let n = (total - have).min(2000) as usize;
            let ops: Vec<Op> = (0..n)
                .map(|i| {
                    let (place, grid) = &self.places[i % self.places.len()];
                    self.numbering.patrol(&self.example, "w01", *place, grid)
                })
                .collect();
            let answers = b.push(&self.session, ops).unwrap();
            assert!(answers.iter().all(|a| matches!(
                a.outcome,
                gridpatrol_core::sync::protocol::PushOutcome::Applied
            )));
        }
    }
}

/// The median time of an officer's pull of 10 new ops from the end of the log, in ms.
fn pull_of_ten<A: AccountStore, L: OpLog>(
    b: &Service<A, L>,
    w: &mut Writer,
    officer: &Session,
) -> f64 {
    let mut times = Vec::with_capacity(PULLS);
    for _ in 0..PULLS {
        let end = b.log().last_position().unwrap();
        let cursor = gridpatrol_sync_server::cursor::Cursor::Pull {
            after: end,
            scope: gridpatrol_sync_server::cursor::scope_of(&officer.user),
            epoch: b.log().epoch().unwrap(),
        }
        .to_string();
        w.fill(b, end + 10);
        let t = Instant::now();
        let page = b.pull(officer, Some(&cursor), 1000).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(page.ops.len(), 10);
    }
    times.sort_by(f64::total_cmp);
    times[PULLS / 2]
}

/// Every snapshot page of an officer's bootstrap: (seconds, ops sent).
fn bootstrap<A: AccountStore, L: OpLog>(b: &Service<A, L>, officer: &Session) -> (f64, usize) {
    let t = Instant::now();
    let mut cursor = String::new();
    let mut ops = 0;
    loop {
        let page = b.snapshot(officer, Some(&cursor), 5000).unwrap();
        ops += page.ops.len();
        cursor = page.cursor;
        if !page.more {
            return (t.elapsed().as_secs_f64(), ops);
        }
    }
}

fn run<A: AccountStore, L: OpLog>(name: &str, b: &Service<A, L>, dir: &std::path::Path) {
    let (small, large) = (
        size("GRIDPATROL_GROWTH_SMALL", 10_000) as i64,
        size("GRIDPATROL_GROWTH_LARGE", 1_000_000) as i64,
    );
    // A device of its own per backend: one backend's places are not the other's.
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut w = Writer::new(b, &dir);
    let officer = session(b, "o01");
    w.fill(b, small);
    let at_small = pull_of_ten(b, &mut w, &officer);
    let t = Instant::now();
    w.fill(b, large);
    let filled = t.elapsed().as_secs_f64();
    let at_large = pull_of_ten(b, &mut w, &officer);
    let (secs, ops) = bootstrap(b, &officer);
    println!(
        "{name}: pull of 10 new ops, median of {PULLS}: {at_small:.2} ms at {small} ops, \
         {at_large:.2} ms at {large} ops ({:.2}x); filling to {large} took {filled:.0} s \
         ({:.0} ops/s pushed); township bootstrap at {large} ops: {secs:.1} s, {ops} ops sent",
        at_large / at_small,
        (large - small) as f64 / filled
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteBackend::open(&dir.path().join("sqlite"), 1 << 20).unwrap();
    seed_demo(&sqlite, DEMO_PASSWORD, 0, false).unwrap();
    run("SQLite", &sqlite, dir.path());
    drop(sqlite);
    if let Some(url) = common::pg_database() {
        let photos = dir.path().join("pg-photos");
        let pg = PgBackend::open(&url, 4, photos.clone(), 1 << 20).unwrap();
        seed_demo(&pg, DEMO_PASSWORD, 0, false).unwrap();
        run("PostgreSQL", &pg, dir.path());
        // What an instance joining (or restarting) takes: folding the whole log.
        let t = Instant::now();
        let another = PgBackend::open(&url, 4, photos, 1 << 20).unwrap();
        println!(
            "PostgreSQL: a new instance folded {} ops and was ready in {:.1} s",
            another.log().last_position().unwrap(),
            t.elapsed().as_secs_f64()
        );
    }
}
