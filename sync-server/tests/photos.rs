//! Photos against the real server: data first, photos after; an upload stopped by a killed
//! server resumes from what the server holds; a damaged upload is refused and sent again; the
//! same photo from two devices is stored once; a photo too large is refused with a reason the
//! device keeps; a photo is readable only by whoever may read its record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Child;

use gridpatrol_core::hazard::{NewHazard, Severity};
use gridpatrol_core::{Clock, Store};

fn start(dir: &Path, port: u16, extra: &[&str]) -> Child {
    common::start_server(dir, &format!("127.0.0.1:{port}"), extra).0
}

fn device(dir: &Path, name: &str, url: &str, user: &str) -> Store {
    let store = Store::open(dir.join(name), Clock::System).unwrap();
    store.sign_in(url, user, "gridpatrol").unwrap();
    store.sync(&mut |_| {}).unwrap();
    store
}

/// Reports a hazard in g01 citing `photos` (already kept on `store`).
fn report(store: &Store, photos: &[String]) -> uuid::Uuid {
    let w = store.actor("w01").unwrap();
    let place = common::place_in(store, "w01", "g01");
    let mut h = NewHazard::new(
        place.id,
        "extinguisher",
        Severity::General,
        "灭火器压力不足",
    );
    h.photos = photos.to_vec();
    store.report_hazard(&w, h).unwrap()
}

fn token(url: &str, user: &str) -> String {
    let http = reqwest::blocking::Client::new();
    let body = serde_json::json!({"user_id": user, "password": "gridpatrol", "device_id": uuid::Uuid::new_v4()});
    let reply: serde_json::Value = http
        .post(format!("{url}/v1/login"))
        .json(&body)
        .send()
        .unwrap()
        .json()
        .unwrap();
    reply["token"].as_str().unwrap().to_string()
}

fn download(url: &str, token: &str, hash: &str) -> (u16, Vec<u8>) {
    let res = reqwest::blocking::Client::new()
        .get(format!("{url}/v1/photos/{hash}"))
        .bearer_auth(token)
        .send()
        .unwrap();
    (res.status().as_u16(), res.bytes().unwrap().to_vec())
}

struct Server {
    child: Child,
    data: tempfile::TempDir,
    port: u16,
    url: String,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let data = tempfile::tempdir().unwrap();
        let port = common::free_port();
        Server {
            child: start(data.path(), port, extra),
            url: format!("http://127.0.0.1:{port}"),
            data,
            port,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_hazard_with_two_photos_arrives_with_its_data_and_only_its_scope_reads_them() {
    two_photos_by_scope(&[]);
}

#[test]
fn on_postgres_a_hazard_with_two_photos_arrives_with_its_data_and_only_its_scope_reads_them() {
    if let Some(db) = common::pg_database() {
        two_photos_by_scope(&["--database-url", &db]);
    }
}

fn two_photos_by_scope(backend: &[&str]) {
    let server = Server::start(backend);
    let dir = tempfile::tempdir().unwrap();
    let worker = device(dir.path(), "w.db", &server.url, "w01");
    let photos: Vec<Vec<u8>> = vec![
        common::photo_bytes(700_000, 1),
        common::photo_bytes(300_000, 2),
    ];
    let hashes: Vec<String> = photos
        .iter()
        .map(|p| worker.add_photo(p).unwrap())
        .collect();
    let hazard = report(&worker, &hashes);
    assert_eq!(worker.photo_queue().unwrap().len(), 2);

    let mut seen_photos = false;
    let r = worker
        .sync(&mut |p| {
            seen_photos |= matches!(p, gridpatrol_core::sync::engine::Progress::Photos { .. })
        })
        .unwrap();
    assert_eq!((r.pushed, r.photos_sent, r.photos_failed), (1, 2, 0));
    assert!(seen_photos);
    assert!(worker.photo_queue().unwrap().is_empty(), "all sent");
    for (h, bytes) in hashes.iter().zip(&photos) {
        assert_eq!(
            &std::fs::read(server.data.path().join("photos").join(h)).unwrap(),
            bytes
        );
    }

    let leader = device(dir.path(), "l.db", &server.url, "l01");
    assert_eq!(leader.hazard(hazard).unwrap().hazard.report.photos, hashes);
    let (status, bytes) = download(&server.url, &token(&server.url, "l01"), &hashes[0]);
    assert_eq!((status, &bytes), (200, &photos[0]));
    let (status, _) = download(&server.url, &token(&server.url, "w04"), &hashes[0]);
    assert_eq!(status, 403, "another village's worker may not read it");
    let (status, _) = download(&server.url, &token(&server.url, "l01"), &"0".repeat(64));
    assert_eq!(status, 404, "a photo nothing cites");
}

#[test]
fn an_upload_stopped_by_a_killed_server_resumes_from_what_the_server_holds() {
    let mut server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let worker = device(dir.path(), "w.db", &server.url, "w01");
    let bytes = common::photo_bytes(3_000_000, 7);
    let hash = worker.add_photo(&bytes).unwrap();
    report(&worker, std::slice::from_ref(&hash));

    // Kill the server (SIGKILL) once part of the photo has arrived.
    let part = server
        .data
        .path()
        .join("photos")
        .join(format!("{hash}.part"));
    let stopped = std::thread::scope(|s| {
        let sync = s.spawn(|| worker.sync(&mut |_| {}));
        while std::fs::metadata(&part).map_or(0, |m| m.len()) < 600_000 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        sync.join().unwrap()
    });
    assert!(stopped.is_err(), "the photo could not finish");
    assert_eq!(worker.pending_ops().unwrap(), 0, "the data had gone first");
    let queued = worker.photo_queue().unwrap();
    assert_eq!(queued.len(), 1);
    assert!(
        queued[0].sent > 0 && (queued[0].sent as usize) < bytes.len(),
        "{queued:?}"
    );
    assert!(queued[0].last_error.is_some(), "the failure is shown");
    let held = std::fs::metadata(&part).unwrap().len();
    assert!(held >= queued[0].sent as u64);

    server.child = start(server.data.path(), server.port, &[]);
    let r = worker.sync(&mut |_| {}).unwrap();
    assert_eq!(r.photos_sent, 1);
    let stored = std::fs::read(server.data.path().join("photos").join(&hash)).unwrap();
    assert_eq!(stored, bytes, "complete and exact");
    assert!(!part.exists());
}

#[test]
fn a_damaged_upload_is_refused_and_a_missing_file_is_named() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let worker = device(dir.path(), "w.db", &server.url, "w01");
    let bytes = common::photo_bytes(100_000, 3);
    let hash = worker.add_photo(&bytes).unwrap();
    report(&worker, std::slice::from_ref(&hash));
    // The file is gone before the sync: the data goes, the photo is named as missing.
    std::fs::remove_file(worker.photo_path(&hash).unwrap()).unwrap();
    let r = worker.sync(&mut |_| {}).unwrap();
    assert_eq!((r.pushed, r.photos_sent, r.photos_failed), (1, 0, 1));
    let queued = worker.photo_queue().unwrap();
    assert!(
        queued[0].last_error.as_deref().unwrap().contains("missing"),
        "{queued:?}"
    );

    let http = reqwest::blocking::Client::new();
    let t = token(&server.url, "w01");
    let put = |body: Vec<u8>| {
        http.put(format!("{}/v1/photos/{hash}", server.url))
            .bearer_auth(&t)
            .query(&[("offset", 0), ("total", bytes.len())])
            .body(body)
            .send()
            .unwrap()
    };
    let mut damaged = bytes.clone();
    damaged[50_000] ^= 0xff;
    let res = put(damaged);
    assert_eq!(res.status().as_u16(), 422);
    let e: serde_json::Value = res.json().unwrap();
    assert_eq!(e["code"], "hash_mismatch");
    assert!(!server.data.path().join("photos").join(&hash).exists());
    let res = put(bytes.clone());
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        std::fs::read(server.data.path().join("photos").join(&hash)).unwrap(),
        bytes
    );
}

#[test]
fn the_same_photo_from_two_devices_is_stored_once_and_an_oversize_one_is_refused() {
    let server = Server::start(&["--max-photo-bytes", "500000"]);
    let dir = tempfile::tempdir().unwrap();
    let a = device(dir.path(), "a.db", &server.url, "w01");
    let b = device(dir.path(), "b.db", &server.url, "w01");
    let bytes = common::photo_bytes(200_000, 5);
    let (ha, hb) = (a.add_photo(&bytes).unwrap(), b.add_photo(&bytes).unwrap());
    assert_eq!(ha, hb);
    report(&a, std::slice::from_ref(&ha));
    report(&b, std::slice::from_ref(&hb));
    assert_eq!(a.sync(&mut |_| {}).unwrap().photos_sent, 1);
    assert_eq!(b.sync(&mut |_| {}).unwrap().photos_sent, 1);
    let files: Vec<_> = std::fs::read_dir(server.data.path().join("photos"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files.len(), 1, "stored once: {files:?}");

    let big = a.add_photo(&common::photo_bytes(600_000, 9)).unwrap();
    report(&a, std::slice::from_ref(&big));
    let r = a.sync(&mut |_| {}).unwrap();
    assert_eq!((r.pushed, r.photos_sent, r.photos_failed), (1, 0, 1));
    let queued = a.photo_queue().unwrap();
    assert_eq!(
        queued.len(),
        1,
        "kept on the device, never skipped silently"
    );
    assert!(
        queued[0].last_error.as_deref().unwrap().contains("过大"),
        "{queued:?}"
    );
}

#[test]
fn over_a_weak_link_the_record_arrives_before_its_photos() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let worker = device(dir.path(), "w.db", &server.url, "w01");
    let officer = device(dir.path(), "o.db", &server.url, "o01");
    // From here the worker is on one bar: 256 kbit/s.
    let (slow, _) = common::throttled_proxy(&server.url, 32_000);
    worker.sign_in(&slow, "w01", "gridpatrol").unwrap();
    let photos = [
        common::photo_bytes(80_000, 11),
        common::photo_bytes(80_000, 12),
    ];
    let hashes: Vec<String> = photos
        .iter()
        .map(|p| worker.add_photo(p).unwrap())
        .collect();
    let hazard = report(&worker, &hashes);

    let started = std::time::Instant::now();
    let (seen_at, photos_held_then, report) = std::thread::scope(|s| {
        let sync = s.spawn(|| worker.sync(&mut |_| {}).unwrap());
        let seen_at = loop {
            officer.sync(&mut |_| {}).unwrap();
            if officer.hazard(hazard).is_ok() {
                break started.elapsed();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let held = hashes
            .iter()
            .filter(|h| server.data.path().join("photos").join(h).exists())
            .count();
        (seen_at, held, sync.join().unwrap())
    });
    let done_at = started.elapsed();
    assert_eq!(report.photos_sent, 2);
    assert!(
        photos_held_then < 2,
        "the record was there before both photos"
    );
    assert!(seen_at < done_at, "{seen_at:?} < {done_at:?}");
    let t = token(&server.url, "o01");
    assert_eq!(download(&server.url, &t, &hashes[1]).1, photos[1]);
}

#[test]
fn a_storage_budget_evicts_sent_originals_and_never_unsent_or_recent_ones() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let worker = device(dir.path(), "w.db", &server.url, "w01");
    let sent: Vec<String> = (0..3)
        .map(|i| {
            worker
                .add_photo(&common::photo_bytes(50_000, 20 + i))
                .unwrap()
        })
        .collect();
    report(&worker, &sent);
    let r = worker.sync(&mut |_| {}).unwrap();
    assert_eq!(
        r.photos_sent,
        3,
        "{r:?} {:?}",
        worker.photo_queue().unwrap()
    );
    // Two were taken days ago; the third today, which the server's nightly backup may not
    // hold yet.
    let days_ago = std::time::SystemTime::now()
        - std::time::Duration::from_secs((gridpatrol_core::photo::KEEP_SENT_DAYS + 1) * 86_400);
    for h in &sent[..2] {
        let file = std::fs::File::options()
            .append(true)
            .open(worker.photo_path(h).unwrap())
            .unwrap();
        file.set_modified(days_ago).unwrap();
    }
    let unsent = worker.add_photo(&common::photo_bytes(50_000, 30)).unwrap();
    report(&worker, std::slice::from_ref(&unsent));

    let gone = worker.evict_photos(0).unwrap();
    assert_eq!((gone.files, gone.bytes), (2, 100_000));
    assert!(
        worker.photo_path(&unsent).unwrap().exists(),
        "unsent: never evicted"
    );
    assert!(sent[..2]
        .iter()
        .all(|h| !worker.photo_path(h).unwrap().exists()));
    assert!(
        worker.photo_path(&sent[2]).unwrap().exists(),
        "sent today: kept"
    );
    // The evicted ones are still on the server for whoever needs them.
    let t = token(&server.url, "l01");
    assert_eq!(download(&server.url, &t, &sent[0]).0, 200);
    // Within budget, nothing goes.
    assert_eq!(worker.evict_photos(1 << 30).unwrap().files, 0);
}

/// Forwards to `target`, cutting each of the first `cuts` connections after a random number of
/// bytes from the device (inside a chunk upload, mostly); later connections pass whole.
fn cutting_upload_proxy(
    target: &str,
    cuts: usize,
    seed: u64,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let target = target.trim_start_matches("http://").to_string();
    let seen = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let cut = done.clone();
    std::thread::spawn(move || {
        let mut x = seed * 2 + 1;
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let upstream = std::net::TcpStream::connect(&target).unwrap();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let cut_at = if seen.fetch_add(1, Ordering::SeqCst) < cuts {
                Some(5_000 + (x % 200_000) as usize)
            } else {
                None
            };
            let (mut c_read, mut u_write) =
                (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            let cut = cut.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 8192];
                let mut sent = 0usize;
                while let Ok(n) = c_read.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if cut_at.is_some_and(|at| sent + n > at) {
                        cut.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    if u_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    sent += n;
                }
                let _ = u_write.shutdown(std::net::Shutdown::Both);
                let _ = c_read.shutdown(std::net::Shutdown::Both);
            });
            let (mut u_read, mut c_write) = (upstream, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut u_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    (url, done)
}

#[test]
fn uploads_cut_at_random_offsets_resume_and_complete_with_the_right_hash() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let worker = device(dir.path(), "w.db", &server.url, "w01");
    let bytes = common::photo_bytes(1_500_000, 41);
    let hash = worker.add_photo(&bytes).unwrap();
    report(&worker, std::slice::from_ref(&hash));
    // Everything from now on goes through a link that drops the first connections somewhere
    // past their first 5 kB from the device: inside a photo chunk, since the record's own
    // requests are smaller.
    let (proxy, cuts) = cutting_upload_proxy(&server.url, 3, 99);
    worker.sign_in(&proxy, "w01", "gridpatrol").unwrap();
    let mut attempts = 0;
    while !worker.photo_queue().unwrap().is_empty() {
        attempts += 1;
        assert!(attempts <= 5, "{:?}", worker.photo_queue().unwrap());
        let _ = worker.sync(&mut |_| {});
    }
    assert_eq!(worker.pending_ops().unwrap(), 0);
    assert!(
        cuts.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "the link was cut"
    );
    let stored = std::fs::read(server.data.path().join("photos").join(&hash)).unwrap();
    assert_eq!(stored, bytes);
    assert!(!server
        .data
        .path()
        .join("photos")
        .join(format!("{hash}.part"))
        .exists());
}

#[test]
fn on_a_metered_link_thumbnails_and_display_copies_go_first_and_originals_wait() {
    use gridpatrol_core::photo::{CaptureInput, PhotoRole, Variant};
    use gridpatrol_core::sync::engine::SyncOptions;
    const FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
    let font = std::fs::read(FONT)
        .unwrap_or_else(|_| panic!("{FONT} is missing: apt-get install fonts-wqy-microhei"));
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let worker = device(dir.path(), "w.db", &server.url, "w01");
    let township = device(dir.path(), "o.db", &server.url, "o01");
    let picture = image::RgbImage::from_fn(2000, 1500, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, 60])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92)
        .encode_image(&picture)
        .unwrap();
    let hazard = report(&worker, &[]);
    let place = worker.hazard(hazard).unwrap().hazard.report.place_id;
    let hash = worker
        .capture_photo(
            &worker.actor("w01").unwrap(),
            &jpeg,
            CaptureInput {
                place_id: place,
                hazard_id: Some(hazard),
                role: PhotoRole::Before,
                taken_at: worker.device_wall_ms(),
                gps: Default::default(),
            },
        )
        .unwrap();
    worker.make_display_copy(&hash, &font).unwrap();
    let order: Vec<Variant> = worker
        .photo_queue()
        .unwrap()
        .iter()
        .map(|p| p.variant)
        .collect();
    assert_eq!(order, [Variant::Thumb, Variant::Display, Variant::Original]);

    let metered = SyncOptions {
        send_originals: false,
    };
    let r = worker.sync_with(metered, &mut |_| {}).unwrap();
    assert_eq!(r.photos_sent, 2, "the thumbnail and the display copy");
    let left: Vec<Variant> = worker
        .photo_queue()
        .unwrap()
        .iter()
        .map(|p| p.variant)
        .collect();
    assert_eq!(left, [Variant::Original], "the original waits, queued");

    // The township sees the record, then the thumbnail and the display copy on demand; the
    // original is not there yet, and says so.
    township.sync(&mut |_| {}).unwrap();
    let thumb = township.fetch_photo(&hash, Variant::Thumb).unwrap();
    assert_eq!(image::open(&thumb).unwrap().width(), 320);
    let display = township.fetch_photo(&hash, Variant::Display).unwrap();
    assert_eq!(image::open(&display).unwrap().width(), 1600);
    match township.fetch_photo(&hash, Variant::Original) {
        Err(gridpatrol_core::Error::Remote {
            status: 404, code, ..
        }) => {
            assert_eq!(code, "photo_not_uploaded")
        }
        other => panic!("{other:?}"),
    }

    // On an unmetered link the original follows, and arrives exact.
    assert_eq!(worker.sync(&mut |_| {}).unwrap().photos_sent, 1);
    let original = township.fetch_photo(&hash, Variant::Original).unwrap();
    assert_eq!(std::fs::read(original).unwrap(), jpeg);
}
