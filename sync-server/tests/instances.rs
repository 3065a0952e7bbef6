//! Several server instances over one PostgreSQL database, reached through a load balancer:
//! devices syncing through either instance at random while others commit converge and miss
//! nothing (the test of gap-safe positions), and an instance killed in the middle of a push
//! costs nothing: the device retries through the other, and every op is stored exactly once.
//! Skipped without a PostgreSQL cluster (`GRIDPATROL_TEST_PG`); `tests/run-all.sh` has one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use gridpatrol_core::sync::engine::Progress;
use gridpatrol_core::{Clock, Store};
use uuid::Uuid;

/// A server process, killed when dropped (also when a test fails).
struct Instance(Child);

impl Instance {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Two instances over database `db`, both asked to seed the demo (it is seeded once), sharing
/// `dir` for photos.
fn two_instances(dir: &Path, db: &str) -> [(Instance, String); 2] {
    // Each commit is held back a random while, so that an op committed after a later-numbered
    // one (were that possible) would be pulled past.
    std::env::set_var("GRIDPATROL_TEST_COMMIT_DELAY_MS", "30");
    let args = ["--database-url", db];
    let (a, a_url) = common::start_server(dir, "127.0.0.1:0", &args);
    let (b, b_url) = common::start_server(dir, "127.0.0.1:0", &args);
    [(Instance(a), a_url), (Instance(b), b_url)]
}

fn device(dir: &Path, url: &str, user: &str) -> Store {
    let store = Store::open(dir.join(format!("{user}.db")), Clock::System).unwrap();
    store.sign_in(url, user, "gridpatrol").unwrap();
    store
}

fn ids_by(store: &Store, devices: &[Uuid]) -> BTreeSet<Uuid> {
    store
        .ops()
        .unwrap()
        .into_iter()
        .filter(|o| devices.contains(&o.device_id))
        .map(|o| o.id)
        .collect()
}

fn count(db: &str, sql: &str) -> i64 {
    let mut c = postgres::Client::connect(db, postgres::NoTls).unwrap();
    c.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn devices_syncing_through_either_instance_converge_and_miss_nothing() {
    let Some(db) = common::pg_database() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let [(_a, a_url), (_b, b_url)] = two_instances(data.path(), &db);
    let lb = common::balancer(vec![a_url, b_url], true);
    assert_eq!(
        count(&db, "SELECT count(*) FROM ops WHERE kind = 'user'"),
        count(
            &db,
            "SELECT count(DISTINCT entity) FROM ops WHERE kind = 'user'"
        ),
        "two instances seeding the demo together seed it once"
    );

    // Workers (w03 and w09 share grid g03) record and sync in rounds; the officer and the
    // village leader pull the whole time, so their pulls overlap commits on both instances.
    let devices = tempfile::tempdir().unwrap();
    let workers = ["w01", "w03", "w09", "w04"];
    let readers = ["o01", "l01"];
    let workers_done = AtomicUsize::new(0);
    let reader_pulls = AtomicUsize::new(0);
    let stores: Vec<Store> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for (i, user) in workers.iter().enumerate() {
            let (lb, devices, done) = (&lb, devices.path(), &workers_done);
            handles.push(s.spawn(move || {
                let store = device(devices, lb, user);
                store.sync(&mut |_| {}).unwrap();
                let me = store.actor(user).unwrap();
                let places = store.places(&me).unwrap();
                for round in 0..25 {
                    for k in 0..=(round + i) % 4 {
                        let place = &places[(round * 7 + k) % places.len()];
                        common::visit(&store, user, place.place.id);
                    }
                    store.sync(&mut |_| {}).unwrap();
                }
                done.fetch_add(1, Ordering::SeqCst);
                store
            }));
        }
        for user in readers {
            let (lb, devices, done, pulls) = (&lb, devices.path(), &workers_done, &reader_pulls);
            handles.push(s.spawn(move || {
                let store = device(devices, lb, user);
                while done.load(Ordering::SeqCst) < workers.len() {
                    store.sync(&mut |_| {}).unwrap();
                    pulls.fetch_add(1, Ordering::SeqCst);
                }
                store
            }));
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        reader_pulls.load(Ordering::SeqCst) > 10,
        "readers pulled during the writes"
    );

    // One more sync each (the last pushes may have landed after a device's last pull).
    for store in &stores {
        store.sync(&mut |_| {}).unwrap();
        assert_eq!(store.pending_ops().unwrap(), 0);
    }
    let worker_devices: Vec<Uuid> = stores[..workers.len()]
        .iter()
        .map(|s| s.device_id())
        .collect();
    let made: BTreeSet<Uuid> = stores[..workers.len()]
        .iter()
        .flat_map(|s| ids_by(s, &[s.device_id()]))
        .collect();
    assert!(made.len() > 200, "{} ops made", made.len());
    let officer = &stores[workers.len()];
    let missed = made.difference(&ids_by(officer, &worker_devices)).count();
    assert_eq!(
        missed,
        0,
        "the township officer, pulling while they were committed, missed {missed} of {} ops",
        made.len()
    );
    let (w03, w09) = (&stores[1], &stores[2]);
    assert_eq!(
        ids_by(w03, &[w09.device_id()]),
        ids_by(w09, &[w09.device_id()])
    );
    assert_eq!(
        ids_by(w09, &[w03.device_id()]),
        ids_by(w03, &[w03.device_id()])
    );
    let leader = &stores[workers.len() + 1];
    assert_eq!(
        ids_by(leader, &[stores[0].device_id()]),
        ids_by(&stores[0], &[stores[0].device_id()])
    );
    assert!(
        ids_by(leader, &[stores[3].device_id()]).is_empty(),
        "w04 is another village's"
    );
    let devices_in = worker_devices
        .iter()
        .map(|d| format!("'{d}'"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        count(
            &db,
            &format!("SELECT count(*) FROM ops WHERE device_id IN ({devices_in})")
        ),
        made.len() as i64,
        "each op stored once"
    );
}

#[test]
fn an_instance_killed_mid_push_loses_and_duplicates_nothing() {
    let Some(db) = common::pg_database() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let [(mut a, a_url), (_b, b_url)] = two_instances(data.path(), &db);
    // Every connection goes to the first instance while it is up, then to the second.
    let lb = common::balancer(vec![a_url, b_url], false);
    let devices = tempfile::tempdir().unwrap();
    let store = device(devices.path(), &lb, "w01");
    store.sync(&mut |_| {}).unwrap();
    let me = store.actor("w01").unwrap();
    let places = store.places(&me).unwrap();
    for i in 0..5000 {
        common::visit(&store, "w01", places[i % places.len()].place.id);
    }
    let pending = store.pending_ops().unwrap();

    // Kill the first instance as soon as the first batch has been acknowledged: the second
    // batch is on its way to it or being stored by it. The engine may carry on through the
    // other instance in the same sync, or fail and leave the rest for the next.
    let first_batch = AtomicBool::new(false);
    let left_at_kill = std::thread::scope(|s| {
        let sync = s.spawn(|| {
            store.sync(&mut |p| {
                if matches!(p, Progress::Pushed { .. }) {
                    first_batch.store(true, Ordering::SeqCst);
                }
            })
        });
        while !first_batch.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        a.kill();
        let left = store.pending_ops().unwrap();
        let _ = sync.join().unwrap();
        left
    });
    assert!(
        left_at_kill > 0 && left_at_kill < pending,
        "killed part way: {left_at_kill} of {pending} left"
    );

    // The same device syncs again; the balancer sends it to the instance still running.
    let report = store.sync(&mut |_| {}).unwrap();
    assert_eq!(report.refused, 0);
    assert_eq!(store.pending_ops().unwrap(), 0);
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM ops WHERE device_id = '{}'",
                store.device_id()
            )
        ),
        pending,
        "every op exactly once"
    );
    // Another device reading through the surviving instance gets all of them.
    let officer = device(devices.path(), &lb, "o01");
    officer.sync(&mut |_| {}).unwrap();
    assert_eq!(ids_by(&officer, &[store.device_id()]).len() as i64, pending);
}

#[test]
fn two_instances_starting_together_import_the_demo_history_once() {
    let Some(db) = common::pg_database() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let args = ["--database-url", db.as_str(), "--demo-history", "true"];
    let _instances: Vec<Instance> = std::thread::scope(|s| {
        let started: Vec<_> = (0..2)
            .map(|_| s.spawn(|| common::start_server(data.path(), "127.0.0.1:0", &args).0))
            .collect();
        started
            .into_iter()
            .map(|h| Instance(h.join().unwrap()))
            .collect()
    });
    // The demo's history is made by one scratch device; two imports would be two devices.
    assert_eq!(
        count(
            &db,
            "SELECT count(DISTINCT device_id) FROM ops WHERE kind = 'patrol'"
        ),
        1
    );
    assert!(count(&db, "SELECT count(*) FROM ops WHERE kind = 'hazard.report'") > 100);
    assert_eq!(
        count(&db, "SELECT count(*) FROM ops WHERE kind = 'user'"),
        count(
            &db,
            "SELECT count(DISTINCT entity) FROM ops WHERE kind = 'user'"
        ),
        "the people seeded once"
    );
}
