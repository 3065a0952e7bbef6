//! Criterion benchmarks for the device core. Run: `cargo bench -p gridpatrol-core`.
//!
//! - `write/patrol_20_answers_1_hazard`: one patrol with 20 answers and one hazard raised,
//!   through the real write path (ops, outbox, fold) in one transaction, next to
//!   `write/raw_rusqlite_same_rows`: the same rows inserted with plain rusqlite in one
//!   transaction, on the same machine in the same run. The ratio is printed at the end.
//! - `query_1m/*`: open hazards of one grid, and a township's overdue list, in a database of
//!   1,000,000 hazards (built once into target/, reused by later runs).
//! - `report/township_year`: the full report for the demo township after a simulated year.

// A benchmark harness, like a test: a failed set-up should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BatchSize, Criterion};
use gridpatrol_core::checklist::{AnswerValue, Item, ItemKind};
use gridpatrol_core::clock::{Clock, Day, MS_PER_DAY};
use gridpatrol_core::org::{Actor, OrgLevel, OrgNode, Role, User};
use gridpatrol_core::patrol::{GpsSample, PatrolInput, RaiseHazard};
use gridpatrol_core::place::{GeoPoint, NewPlace, RiskLevel};
use gridpatrol_core::{demo, Store};
use rusqlite::params;
use uuid::Uuid;

const T0: i64 = 1_772_413_200_000;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// A store with one grid, a worker, 50 places and a 20-item checklist (the library's nine-small
/// checklist's answerable items, republished with extra items up to 20).
fn write_fixture(dir: &Path) -> (Store, Actor, Vec<Uuid>, Vec<(String, AnswerValue)>) {
    let store = Store::open(dir.join("w.db"), Clock::manual(T0)).expect("open");
    let sys = Actor::provisioner();
    for (id, level, parent) in [
        ("c1", OrgLevel::County, None),
        ("t1", OrgLevel::Township, Some("c1")),
        ("v1", OrgLevel::Village, Some("t1")),
        ("g1", OrgLevel::Grid, Some("v1")),
    ] {
        let node = OrgNode {
            id: id.into(),
            level,
            parent_id: parent.map(Into::into),
            name: id.into(),
        };
        store.put_org_node(&sys, node).expect("org");
    }
    store.install_library().expect("library");
    let mut t = store.template("nine_small", None).expect("template");
    t.items.retain(|i| {
        matches!(
            i.kind,
            ItemKind::PassFail | ItemKind::Number | ItemKind::Select
        )
    });
    let extra: Vec<Item> = (t.items.len()..20)
        .map(|i| Item {
            key: format!("extra_{i}"),
            label: format!("附加检查项{i}"),
            ..t.items[0].clone()
        })
        .collect();
    t.items.extend(extra);
    store.publish_template(&sys, t.clone()).expect("publish");
    let user = User {
        id: "w1".into(),
        name: "网格员".into(),
        phone: None,
        role: Role::GridWorker,
        org_ids: vec!["g1".into()],
    };
    store.put_user(&sys, user).expect("user");
    let w1 = store.actor("w1").expect("actor");
    let places = (0..50)
        .map(|i| {
            store
                .create_place(
                    &w1,
                    NewPlace {
                        place_type: "small_shop".into(),
                        name: format!("商店{i}"),
                        address: "一组".into(),
                        location: Some(GeoPoint {
                            lat: 37.8,
                            lon: 112.5,
                        }),
                        grid_id: "g1".into(),
                        responsible_name: "店主".into(),
                        responsible_phone: None,
                        risk_level: RiskLevel::Medium,
                        patrol_every_days: None,
                    },
                )
                .expect("place")
        })
        .collect();
    let answers = t
        .items
        .iter()
        .map(|i| {
            let v = match i.kind {
                ItemKind::Number => AnswerValue::Number(3.0),
                ItemKind::Select => AnswerValue::Choice(i.options[0].clone()),
                _ if i.key == "extinguisher" => AnswerValue::Fail,
                _ => AnswerValue::Pass,
            };
            (i.key.clone(), v)
        })
        .collect();
    (store, w1, places, answers)
}

fn bench_write(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, w1, places, answers) = write_fixture(dir.path());
    assert_eq!(answers.len(), 20);
    let mut g = c.benchmark_group("write");
    g.measurement_time(Duration::from_secs(8));
    let mut n = 0usize;
    // The hazard row the reference inserts carries the same state JSON our write path stores.
    let sample = store
        .record_patrol(
            &w1,
            PatrolInput {
                place_id: places[0],
                started_at: T0 - 600_000,
                gps: GpsSample {
                    lat: Some(37.8),
                    lon: Some(112.5),
                    accuracy_m: Some(10.0),
                    mock: false,
                },
                answers: answers.clone(),
                raise: vec![RaiseHazard {
                    item_key: "extinguisher".into(),
                    photos: vec!["ab".repeat(32)],
                    ..RaiseHazard::default()
                }],
                note: String::new(),
            },
        )
        .expect("patrol");
    let hazard_body =
        serde_json::to_string(&store.hazard(sample.hazard_ids[0]).expect("hazard").hazard)
            .expect("json");
    g.bench_function("patrol_20_answers_1_hazard", |b| {
        b.iter(|| {
            n += 1;
            let out = store
                .record_patrol(
                    &w1,
                    PatrolInput {
                        place_id: places[n % places.len()],
                        started_at: T0 - 600_000,
                        gps: GpsSample {
                            lat: Some(37.8),
                            lon: Some(112.5),
                            accuracy_m: Some(10.0),
                            mock: false,
                        },
                        answers: answers.clone(),
                        raise: vec![RaiseHazard {
                            item_key: "extinguisher".into(),
                            photos: vec!["ab".repeat(32)],
                            ..RaiseHazard::default()
                        }],
                        note: String::new(),
                    },
                )
                .expect("patrol");
            assert_eq!(out.hazard_ids.len(), 1);
        })
    });

    // The reference: the same rows (a patrol, its 20 answers, one hazard with the same content)
    // with plain rusqlite in one transaction, into the same tables of a database with the same
    // schema and settings: what an app without an op log would write.
    let raw_dir = tempfile::tempdir().expect("tempdir");
    let raw_store = Store::open(raw_dir.path().join("raw.db"), Clock::manual(T0)).expect("open");
    let raw_path = raw_store.path().to_path_buf();
    raw_store.shutdown();
    let mut conn = rusqlite::Connection::open(&raw_path).expect("raw");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("sync");
    let encoded: Vec<(String, String, bool)> = answers
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::to_string(v).expect("json"),
                matches!(v, AnswerValue::Fail),
            )
        })
        .collect();
    g.bench_function("raw_rusqlite_same_rows", |b| {
        b.iter(|| {
            let tx = conn.transaction().expect("tx");
            let pid = Uuid::now_v7().to_string();
            tx.prepare_cached(
                "INSERT INTO patrols (id, place_id, grid_id, worker_id, template_id, template_version,
                    started_at, ended_at, lat, lon, accuracy_m, mock, note)
                 VALUES (?1, ?2, 'g1', 'w1', 'nine_small', 2, ?3, ?4, 37.8, 112.5, 10.0, 0, '')",
            )
            .expect("prep")
            .execute(params![pid, places[0].to_string(), T0 - 600_000, T0])
            .expect("patrol");
            {
                let mut a = tx
                    .prepare_cached("INSERT INTO patrol_answers (patrol_id, item_key, value, failed) VALUES (?1, ?2, ?3, ?4)")
                    .expect("prep");
                for (k, v, f) in &encoded {
                    a.execute(params![pid, k, v, f]).expect("answer");
                }
            }
            tx.prepare_cached(
                "INSERT INTO hazards (id, place_id, grid_id, village_id, township_id, place_type,
                    category, severity, status, level, deadline, reported_at, closed_at,
                    closed_on_time, escalated, rework_count, supervised, body)
                 VALUES (?1, ?2, 'g1', 'v1', 't1', 'small_shop', 'extinguisher', 'general',
                    'reported', 'grid', NULL, ?3, NULL, NULL, 0, 0, 0, ?4)",
            )
            .expect("prep")
            .execute(params![Uuid::now_v7().to_string(), places[0].to_string(), T0, hazard_body])
            .expect("hazard");
            tx.commit().expect("commit");
        })
    });
    g.finish();
}

/// Builds (once) a database of 1,000,000 hazards: 10 townships × 10 villages × 10 grids, 1,000
/// hazards per grid, one in twenty still open, deadlines spread over the past and next 60 days.
/// Rows are written straight into the derived `hazards` table with a short body, since the
/// queries measured read only the indexed columns.
fn million_db() -> PathBuf {
    let path = target_dir().join("bench-1m-hazards.db");
    let ready = rusqlite::Connection::open(&path)
        .and_then(|c| c.query_row("SELECT count(*) FROM hazards", [], |r| r.get::<_, i64>(0)))
        .is_ok_and(|n| n == 1_000_000);
    if ready {
        return path;
    }
    let _ = std::fs::remove_file(&path);
    let store = Store::open(&path, Clock::manual(T0)).expect("open");
    store.shutdown();
    let mut conn = rusqlite::Connection::open(&path).expect("open");
    let tx = conn.transaction().expect("tx");
    {
        let mut org = tx
            .prepare("INSERT INTO org_nodes (id, level, parent_id, name) VALUES (?1, ?2, ?3, ?1)")
            .expect("prep");
        org.execute(params!["c", "county", None::<String>])
            .expect("county");
        let mut h = tx
            .prepare(
                "INSERT INTO hazards (id, place_id, grid_id, village_id, township_id, place_type,
                    category, severity, status, level, deadline, reported_at, closed_at,
                    closed_on_time, escalated, rework_count, supervised, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'small_shop', 'wiring', 'general', ?6, 'grid', ?7, ?8,
                    ?9, ?10, 0, 0, 0, '{}')",
            )
            .expect("prep");
        let today = Day::from_ms(T0).0;
        let mut n: u64 = 0;
        for t in 0..10 {
            let tid = format!("t{t}");
            org.execute(params![tid, "township", "c"]).expect("t");
            for v in 0..10 {
                let vid = format!("{tid}v{v}");
                org.execute(params![vid, "village", tid]).expect("v");
                for g in 0..10 {
                    let gid = format!("{vid}g{g}");
                    org.execute(params![gid, "grid", vid]).expect("g");
                    for _ in 0..1000 {
                        n += 1;
                        let open = n % 20 == 0;
                        let status = if !open {
                            "closed"
                        } else if n % 40 == 0 {
                            "rectifying"
                        } else {
                            "notified"
                        };
                        let deadline = today - 60 + (n % 120) as i32;
                        let reported = T0 - ((n % 365) as i64) * MS_PER_DAY;
                        h.execute(params![
                            Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n as u128)
                                .to_string(),
                            Uuid::from_u128(n as u128 % 50_000).to_string(),
                            gid,
                            vid,
                            tid,
                            status,
                            deadline,
                            reported,
                            (!open).then_some(reported + 3 * MS_PER_DAY),
                            (!open).then_some(true),
                        ])
                        .expect("hazard");
                    }
                }
            }
        }
    }
    tx.commit().expect("commit");
    conn.execute_batch("ANALYZE").expect("analyze");
    path
}

fn bench_queries(c: &mut Criterion) {
    let path = million_db();
    let store = Store::open(&path, Clock::manual(T0)).expect("open");
    let mut g = c.benchmark_group("query_1m");
    let open = store.open_hazards("t3v4g5").expect("open hazards");
    let (overdue, listed) = store.overdue_hazards("t7", 100).expect("overdue");
    eprintln!(
        "1M db: grid t3v4g5 has {} open hazards; township t7 has {overdue} overdue, {} listed",
        open.len(),
        listed.len()
    );
    g.bench_function("open_hazards_of_a_grid", |b| {
        b.iter(|| store.open_hazards("t3v4g5").expect("q"))
    });
    g.bench_function("township_overdue_list_100", |b| {
        b.iter(|| store.overdue_hazards("t7", 100).expect("q"))
    });
    g.finish();
}

fn bench_report(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("year.db"), demo::clock()).expect("open");
    let cast = demo::seed(&store).expect("seed");
    let from = store.today();
    demo::simulate(&store, &cast, 365, 7).expect("simulate");
    let to = store.today();
    let r = store.report(demo::TOWNSHIP, from, to).expect("report");
    eprintln!(
        "township-year: {} patrols, {} hazards, 200 places",
        r.patrols, r.hazards_reported
    );
    let mut g = c.benchmark_group("report");
    g.bench_function("township_year", |b| {
        b.iter_batched(
            || (),
            |_| store.report(demo::TOWNSHIP, from, to).expect("report"),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn estimate_ns(group: &str, name: &str) -> Option<f64> {
    let p = target_dir()
        .join("criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// Whether the command line's filter (if any) selects benchmarks of `group`, so that a
/// filtered run skips the other groups' expensive set-up.
fn wanted(group: &str) -> bool {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    filter.is_none_or(|f| f.starts_with(group) || group.starts_with(&f))
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    if wanted("write") {
        bench_write(&mut c);
    }
    if wanted("query_1m") {
        bench_queries(&mut c);
    }
    if wanted("report") {
        bench_report(&mut c);
    }
    c.final_summary();
    if let (Some(ours), Some(raw)) = (
        estimate_ns("write", "patrol_20_answers_1_hazard"),
        estimate_ns("write", "raw_rusqlite_same_rows"),
    ) {
        println!(
            "\nratio write path / raw rusqlite (medians): {:.0} µs / {:.0} µs = {:.2}×",
            ours / 1000.0,
            raw / 1000.0,
            ours / raw
        );
    }
}
