//! A hazard with two photos over a weak link: device A (the worker) syncs through a loopback
//! proxy that carries 256 kbit/s each way; device B (the township) syncs directly and looks
//! for the hazard every 100 ms. Reports when the record became visible on B (data first)
//! against when both photos were complete on the server, and the bytes A sent and received.
//!
//! Run: `cargo bench -p gridpatrol-sync-server --bench photos` (photo size from
//! GRIDPATROL_PHOTO_BENCH_BYTES, default 4,000,000; the link from GRIDPATROL_PHOTO_BENCH_BPS in
//! bytes per second, default 32,000 = 256 kbit/s).

// A benchmark harness, like a test: a failed set-up should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use gridpatrol_core::hazard::{NewHazard, Severity};
use gridpatrol_core::{Clock, Store};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"photos".contains(a.as_str()))
    {
        return;
    }
    let size = env("GRIDPATROL_PHOTO_BENCH_BYTES", 4_000_000) as usize;
    let rate = env("GRIDPATROL_PHOTO_BENCH_BPS", 32_000);
    let data = tempfile::tempdir().unwrap();
    let (mut server, url) = common::start_server(data.path(), "127.0.0.1:0", &[]);
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str, user: &str| {
        let s = Store::open(dir.path().join(name), Clock::System).unwrap();
        s.sign_in(&url, user, "gridpatrol").unwrap();
        s.sync(&mut |_| {}).unwrap();
        s
    };
    let worker = open("a.db", "w01");
    let township = open("b.db", "o01");
    let (slow, carried) = common::throttled_proxy(&url, rate);
    worker.sign_in(&slow, "w01", "gridpatrol").unwrap();

    let hashes = vec![
        worker.add_photo(&common::photo_bytes(size, 1)).unwrap(),
        worker.add_photo(&common::photo_bytes(size, 2)).unwrap(),
    ];
    let w = worker.actor("w01").unwrap();
    let place = worker.places(&w).unwrap()[0].place.id;
    let mut h = NewHazard::new(place, "extinguisher", Severity::General, "灭火器压力不足");
    h.photos = hashes;
    let hazard = worker.report_hazard(&w, h).unwrap();

    let before = carried.load(Ordering::SeqCst);
    let started = Instant::now();
    let (visible, report) = std::thread::scope(|s| {
        let sync = s.spawn(|| worker.sync(&mut |_| {}).unwrap());
        let visible = loop {
            township.sync(&mut |_| {}).unwrap();
            if township.hazard(hazard).is_ok() {
                break started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        (visible, sync.join().unwrap())
    });
    let done = started.elapsed();
    let bytes = carried.load(Ordering::SeqCst) - before;
    assert_eq!(report.photos_sent, 2);
    println!(
        "link {} kbit/s, two photos of {:.1} MB: record visible on the township device after {:.2} s; \
         photos complete after {:.1} s; {:.2} MB through the link ({:.0}% over the photos' own bytes)",
        rate * 8 / 1000,
        size as f64 / 1e6,
        visible.as_secs_f64(),
        done.as_secs_f64(),
        bytes as f64 / 1e6,
        (bytes as f64 / (2.0 * size as f64) - 1.0) * 100.0
    );
    let _ = server.kill();
    let _ = server.wait();
}
