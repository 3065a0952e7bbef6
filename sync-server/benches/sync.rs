//! Sync over loopback against the real server binary, side by side with Automerge 0.12 moving
//! the same records in the same run. W1 pushes N hazards made offline on device A (80-character
//! Chinese descriptions); W2 brings them to a fresh device B (snapshot, then pull); W3 edits
//! 1,000 of them on both devices offline and syncs A, B, A until both agree, every edit a
//! conflict that must stay visible. Bytes on the wire are counted by a TCP proxy in front of
//! each server. The reference, measured in the same run, is the physical limit of the job: the
//! N hazard rows inserted once into a fresh database with plain rusqlite in one transaction.
//! The run ends with a table of the ratios the goals are stated in (docs/benchmarks.md).
//!
//! Run: `cargo bench -p gridpatrol-sync-server --bench sync` (N from GRIDPATROL_SYNC_BENCH_N,
//! default 50,000).

// A benchmark harness, like a test: a failed set-up should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use gridpatrol_bench_peers::{counting_proxy, measure, run_automerge, Measured};
use gridpatrol_core::clock::Day;
use gridpatrol_core::hazard::{HazardEvent, NewHazard, Severity};
use gridpatrol_core::sync::engine::Progress;
use gridpatrol_core::{Clock, Store};

const EDITED: usize = 1_000;

/// Twenty-character pieces of what grid workers write; four make a description of 80
/// characters (240 bytes), varied per record so compression sees text, not one string repeated.
const PIECES: [&str; 12] = [
    "灭火器压力不足指针已经在红区需要尽快更换",
    "疏散通道堆放纸箱杂物约两米长影响人员安全",
    "电动自行车在楼道内充电飞线从二楼窗户拉下",
    "厨房燃气软管老化开裂没有安装燃气泄漏报警",
    "安全出口指示标志不亮应急照明灯按下测试不",
    "仓库内电线私拉乱接未穿管保护插座上积灰较",
    "住人区域与生产储存区域未分隔夜间有三人住",
    "消火栓箱被货架遮挡箱内水带缺失阀门锈蚀打",
    "彩钢板搭建的临时用房内使用大功率电暖器取",
    "防火门被木楔顶住常开闭门器损坏无法自动关",
    "店主称已购买新灭火器但现场未见到需要复查",
    "液化气钢瓶放在室内灶台旁边未见检验标签已",
];

fn description(i: usize) -> String {
    let mut x = i as u64 * 6_364_136_223_846_793_005 + 1_442_695_040_888_963_407;
    (0..4)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            PIECES[(x >> 33) as usize % PIECES.len()]
        })
        .collect()
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

/// Syncs, returning when the push ended (the last push answer), from the start, and the bytes
/// the proxy had counted by then.
fn sync_timed(store: &Store, bytes: &AtomicU64) -> (f64, u64) {
    let t = Instant::now();
    let before = bytes.load(Ordering::SeqCst);
    let mut pushed = (0.0, 0);
    let r = store
        .sync(&mut |p| {
            if matches!(p, Progress::Pushed { .. }) {
                pushed = (
                    t.elapsed().as_secs_f64(),
                    bytes.load(Ordering::SeqCst) - before,
                );
            }
        })
        .unwrap();
    assert_eq!(r.refused, 0, "nothing refused");
    pushed
}

/// The reference: the N hazard rows of `from`, read beforehand, inserted once into a fresh
/// database with the same schema and pragmas, in one transaction, with plain rusqlite: the
/// least work that stores those records on the other side.
fn raw_insert(from: &Path, dir: &Path) -> (f64, usize) {
    let fresh = dir.join("raw.db");
    Store::open(&fresh, Clock::System).unwrap().shutdown();
    let src = rusqlite::Connection::open(from).unwrap();
    let mut read = src.prepare("SELECT * FROM hazards").unwrap();
    let cols = read.column_count();
    let data: Vec<Vec<rusqlite::types::Value>> = read
        .query_map([], |r| (0..cols).map(|i| r.get(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut dst = rusqlite::Connection::open(&fresh).unwrap();
    dst.pragma_update(None, "journal_mode", "WAL").unwrap();
    dst.pragma_update(None, "synchronous", "NORMAL").unwrap();
    let marks = vec!["?"; cols].join(",");
    let t = Instant::now();
    let tx = dst.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(&format!("INSERT INTO hazards VALUES ({marks})"))
            .unwrap();
        for row in &data {
            insert
                .execute(rusqlite::params_from_iter(row.iter()))
                .unwrap();
        }
    }
    tx.commit().unwrap();
    (t.elapsed().as_secs_f64(), data.len())
}

/// The records as JSON objects (each hazard as the device holds it), for the Automerge peer
/// and for the size the device database is compared with.
fn records(path: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut s = c
        .prepare("SELECT body FROM hazards ORDER BY rowid")
        .unwrap();
    s.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|b| serde_json::from_str(&b.unwrap()).unwrap())
        .collect()
}

/// A device database's size on disk once its write-ahead log is folded in.
fn db_bytes(path: &Path) -> u64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let wal = path.with_extension("db-wal");
    std::fs::metadata(path).unwrap().len() + std::fs::metadata(wal).map_or(0, |m| m.len())
}

/// Where a device database's bytes lie: each table and index with its share, largest first.
fn where_bytes(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut s = c
        .prepare(
            "SELECT name, SUM(pgsize), SUM(payload), SUM(ncell) FROM dbstat \
             GROUP BY name ORDER BY SUM(pgsize) DESC LIMIT 12",
        )
        .unwrap();
    let rows = s
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (name, pages, payload, cells) = row.unwrap();
        println!(
            "  {name}: {:.1} MB in pages, {:.1} MB payload, {cells} cells",
            pages as f64 / 1e6,
            payload as f64 / 1e6
        );
    }
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

/// The W3 edit of record `i` on device `side`: both devices notify the same case with a
/// different responsible party and deadline, so every edited record is a real conflict.
fn edit(i: usize, side: &str) -> (String, i32) {
    let party = if side == "A" { "店主" } else { "负责人" };
    let days = 3 + (i % 5) as i32 + i32::from(side == "B");
    (party.to_string(), days)
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
        let h = NewHazard::new(place.id, "extinguisher", Severity::General, &description(i));
        hazards.push(a.report_hazard(&w, h).unwrap());
    }
    println!(
        "set-up: {n} hazards reported offline on device A in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let records = records(a.path());
    let json_bytes: usize = records
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap().len())
        .sum();

    let (raw_secs, raw_rows) = raw_insert(a.path(), dir.path());
    println!(
        "reference: {raw_rows} hazard rows inserted once with raw rusqlite in {raw_secs:.3} s"
    );

    let mut push = (0.0, 0);
    let w1 = measure(&bytes, || push = sync_timed(&a, &bytes));
    assert_eq!(a.pending_ops().unwrap(), 0);
    line("W1 push", &w1, n, Some(raw_secs));
    println!(
        "  of which the push {:.2} s and {:.2} MB, the pull after it (the server's case numbers) {:.2} s and {:.2} MB",
        push.0,
        push.1 as f64 / 1e6,
        w1.secs - push.0,
        (w1.bytes - push.1) as f64 / 1e6,
    );
    let a_bytes = db_bytes(a.path());
    println!("device A after W1: {:.1} MB", a_bytes as f64 / 1e6);
    where_bytes(a.path());

    let b = device(dir.path(), "b.db", &proxy);
    let w2 = measure(&bytes, || sync(&b));
    line("W2 bootstrap of a fresh device", &w2, n, Some(raw_secs));

    let today = a.today();
    for (i, id) in hazards.iter().take(EDITED).enumerate() {
        for (store, side) in [(&a, "A"), (&b, "B")] {
            let (party, days) = edit(i, side);
            let ev = HazardEvent::Notify {
                responsible_party: party,
                deadline: Day(today.0 + days),
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
    let conflicted: i64 = rusqlite::Connection::open(a.path())
        .unwrap()
        .query_row(
            "SELECT COUNT(DISTINCT entity) FROM ops WHERE conflict IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        conflicted as usize, EDITED,
        "every concurrent edit is a visible conflict"
    );
    println!(
        "converged: {} hazards identical on A and B, {conflicted} conflicts visible",
        rows_a.len()
    );
    let _ = server.kill();
    let _ = server.wait();

    let am = run_automerge(&records, EDITED, &move |i, side| {
        let (party, days) = edit(i, side);
        vec![
            ("responsible_party".into(), party.into()),
            ("deadline".into(), (today.0 + days).into()),
        ]
    });
    println!(
        "Automerge 0.12: W1 {:.2} s ({:.2} MB), W2 {:.2} s ({:.2} MB), W3 {:.2} s ({:.2} MB), {} conflicts visible",
        am.w1_secs,
        am.w1_bytes as f64 / 1e6,
        am.w2_secs,
        am.w2_bytes as f64 / 1e6,
        am.w3_secs,
        am.w3_bytes as f64 / 1e6,
        am.conflicts_after_w3,
    );

    println!();
    println!("| {n} records | GridPatrol | Automerge 0.12 | raw insert | goal |");
    println!("|---|---|---|---|---|");
    let speed = |name: &str, ours: f64, theirs: f64| {
        println!(
            "| {name} | {ours:.2} s, **{:.2}× raw** | {theirs:.2} s, **{:.2}× ours** | {raw_secs:.3} s | ≤ 3× raw, Automerge ≥ 3× ours |",
            ours / raw_secs,
            theirs / ours,
        );
    };
    speed("W1 push", w1.secs, am.w1_secs);
    speed("W2 fresh device", w2.secs, am.w2_secs);
    println!(
        "| W3 {EDITED} edited on both | **{:.2} s** | {:.2} s | | ≤ 0.3 s |",
        w3.secs, am.w3_secs
    );
    println!(
        "| W1 bytes on the wire | {:.2} MB, **{:.2}× Automerge's** | {:.2} MB | | ≤ 1× |",
        w1.bytes as f64 / 1e6,
        w1.bytes as f64 / am.w1_bytes as f64,
        am.w1_bytes as f64 / 1e6,
    );
    println!(
        "| device after W1 | {:.1} MB, **{:.2}× the JSON** | {:.1} MB | JSON {:.1} MB | ≤ 2× |",
        a_bytes as f64 / 1e6,
        a_bytes as f64 / json_bytes as f64,
        am.device_bytes_after_w1 as f64 / 1e6,
        json_bytes as f64 / 1e6,
    );
}
