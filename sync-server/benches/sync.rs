//! Sync over loopback against the real server binary: W1 pushes N hazards made offline on
//! device A, W2 brings them to a fresh device B (snapshot, then pull), W3 edits 1,000 of them on both devices
//! offline and syncs until both agree. Each is reported in seconds, records/s and bytes on the
//! wire (counted by a TCP proxy between the devices and the server), next to a reference
//! measured in the same run: the same rows (the hazards' ops and hazard rows) read from one
//! SQLite database and inserted into a fresh one with plain rusqlite in one transaction, which
//! is the least work moving them from one database to another can take.
//!
//! Run: `cargo bench -p gridpatrol-sync-server --bench sync` (N from GRIDPATROL_SYNC_BENCH_N,
//! default 50,000).

// A benchmark harness, like a test: a failed set-up should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use gridpatrol_core::clock::Day;
use gridpatrol_core::hazard::{HazardEvent, NewHazard, Severity};
use gridpatrol_core::{Clock, Store};

const EDITED: usize = 1_000;

/// Forwards every connection to `target`, counting the bytes that cross in both directions.
fn counting_proxy(target: &str) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let target = target.trim_start_matches("http://").to_string();
    let bytes = Arc::new(AtomicU64::new(0));
    let counter = bytes.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let upstream = TcpStream::connect(&target).unwrap();
            client.set_nodelay(true).unwrap();
            upstream.set_nodelay(true).unwrap();
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
                (upstream, client),
            ] {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        counter.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
    (url, bytes)
}

struct Measured {
    secs: f64,
    bytes: u64,
}

fn measure(bytes: &AtomicU64, f: impl FnOnce()) -> Measured {
    let before = bytes.load(Ordering::SeqCst);
    let t = Instant::now();
    f();
    let secs = t.elapsed().as_secs_f64();
    // The proxy's threads may still be counting the last response's tail.
    std::thread::sleep(std::time::Duration::from_millis(50));
    Measured {
        secs,
        bytes: bytes.load(Ordering::SeqCst) - before,
    }
}

fn device(dir: &Path, name: &str, url: &str) -> Store {
    let store = Store::open(dir.join(name), Clock::System).unwrap();
    store.sign_in(url, "w01", "gridpatrol").unwrap();
    store
}

fn sync(store: &Store) {
    let r = store.sync(&mut |_| {}).unwrap();
    assert_eq!(r.refused, 0, "nothing refused");
}

/// The reference: the hazards' op rows and hazard rows read from `from` and inserted into a
/// fresh database with the same schema, in one transaction, with plain rusqlite.
fn raw_copy(from: &Path, dir: &Path) -> (f64, usize) {
    let fresh = dir.join("raw.db");
    Store::open(&fresh, Clock::System).unwrap().shutdown();
    let src = rusqlite::Connection::open(from).unwrap();
    let mut dst = rusqlite::Connection::open(&fresh).unwrap();
    dst.pragma_update(None, "journal_mode", "WAL").unwrap();
    dst.pragma_update(None, "synchronous", "NORMAL").unwrap();
    let t = Instant::now();
    let mut rows = 0;
    for (table, filter) in [("ops", "WHERE entity LIKE 'hazard:%'"), ("hazards", "")] {
        let mut read = src
            .prepare(&format!("SELECT * FROM {table} {filter}"))
            .unwrap();
        let cols = read.column_count();
        let data: Vec<Vec<rusqlite::types::Value>> = read
            .query_map([], |r| (0..cols).map(|i| r.get(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let tx = dst.transaction().unwrap();
        {
            let marks = vec!["?"; cols].join(",");
            let mut insert = tx
                .prepare(&format!("INSERT INTO {table} VALUES ({marks})"))
                .unwrap();
            for row in &data {
                insert
                    .execute(rusqlite::params_from_iter(row.iter()))
                    .unwrap();
            }
        }
        tx.commit().unwrap();
        rows += data.len();
    }
    (t.elapsed().as_secs_f64(), rows)
}

fn hazard_rows(path: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut s = c.prepare("SELECT * FROM hazards ORDER BY id").unwrap();
    let cols = s.column_count();
    s.query_map([], |r| {
        let vals: Vec<rusqlite::types::Value> =
            (0..cols).map(|i| r.get(i)).collect::<Result<_, _>>()?;
        Ok(format!("{vals:?}"))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn line(name: &str, m: &Measured, records: usize, reference: Option<f64>) {
    let ratio = reference.map_or(String::new(), |r| {
        format!(", {:.2}× the raw reference", m.secs / r)
    });
    println!(
        "{name}: {:.2} s, {:.0} records/s, {:.2} MB on the wire{ratio}",
        m.secs,
        records as f64 / m.secs,
        m.bytes as f64 / 1e6,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter naming another bench skips this one.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"sync".contains(a.as_str()))
    {
        return;
    }
    let n: usize = std::env::var("GRIDPATROL_SYNC_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let data = tempfile::tempdir().unwrap();
    let (mut server, url) = common::start_server(data.path(), "127.0.0.1:0", &[]);
    let (proxy, bytes) = counting_proxy(&url);
    let dir = tempfile::tempdir().unwrap();

    let a = device(dir.path(), "a.db", &proxy);
    sync(&a);
    let w = a.actor("w01").unwrap();
    let places = a.places(&w).unwrap();
    let t = Instant::now();
    let mut hazards = Vec::with_capacity(n);
    for i in 0..n {
        let place = &places[i % places.len()].place;
        let h = NewHazard::new(
            place.id,
            "extinguisher",
            Severity::General,
            "灭火器压力不足，指针在红区",
        );
        hazards.push(a.report_hazard(&w, h).unwrap());
    }
    println!(
        "set-up: {n} hazards reported offline on device A in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let (raw_secs, raw_rows) = raw_copy(a.path(), dir.path());
    println!(
        "reference: {raw_rows} rows (the hazards' ops and hazard rows) read and inserted with raw rusqlite in {raw_secs:.2} s"
    );

    let w1 = measure(&bytes, || sync(&a));
    assert_eq!(a.pending_ops().unwrap(), 0);
    line("W1 push", &w1, n, Some(raw_secs));

    let b = device(dir.path(), "b.db", &proxy);
    let w2 = measure(&bytes, || sync(&b));
    line("W2 bootstrap of a fresh device", &w2, n, Some(raw_secs));

    let today = a.today();
    for (i, id) in hazards.iter().take(EDITED).enumerate() {
        for (store, party) in [(&a, "店主"), (&b, "负责人")] {
            let ev = HazardEvent::Notify {
                responsible_party: party.into(),
                deadline: Day(today.0 + 3 + (i % 5) as i32),
                note: String::new(),
            };
            store.hazard_event(&w, *id, ev).unwrap();
        }
    }
    let w3 = measure(&bytes, || {
        sync(&a);
        sync(&b);
        sync(&a);
    });
    line(
        "W3 1,000 edited on both, synced to convergence",
        &w3,
        EDITED,
        None,
    );
    let (rows_a, rows_b) = (hazard_rows(a.path()), hazard_rows(b.path()));
    assert_eq!(rows_a.len(), n);
    assert!(rows_a == rows_b, "both devices hold identical hazards");
    println!("converged: {} hazards identical on A and B", rows_a.len());

    let _ = server.kill();
    let _ = server.wait();
}
