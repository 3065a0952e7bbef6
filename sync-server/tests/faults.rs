//! Faults: the server killed with SIGKILL in the middle of a push and restarted, the
//! connection cut in the middle of a pull response, and the client process killed between
//! receiving a pulled page and committing it. Afterwards a sync completes with no op lost or
//! duplicated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gridpatrol_core::{Clock, Store};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &Path, port: u16) -> Child {
    common::start_server(dir, &format!("127.0.0.1:{port}"), &[]).0
}

fn ops_of_device_on_server(dir: &Path, device: uuid::Uuid) -> usize {
    let c = rusqlite::Connection::open(dir.join("ops.db")).unwrap();
    c.query_row(
        "SELECT count(*) FROM ops WHERE device_id = ?1",
        [device.to_string()],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as usize
}

/// `reader` holds every op `writer` made, each exactly once.
fn assert_holds_exactly_the_ops_of(reader: &Store, writer: &Store) {
    let of_writer = |s: &Store| -> Vec<uuid::Uuid> {
        let mut ids: Vec<_> = s
            .ops()
            .unwrap()
            .into_iter()
            .filter(|o| o.device_id == writer.device_id())
            .map(|o| o.id)
            .collect();
        ids.sort();
        ids
    };
    let (mine, got) = (of_writer(writer), of_writer(reader));
    assert!(!mine.is_empty());
    assert_eq!(got, mine, "no op lost or duplicated");
}

/// A device with `n` visits recorded offline.
fn busy_device(url: &str, n: usize) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("d.db"), Clock::System).unwrap();
    store.sign_in(url, "w01", "gridpatrol").unwrap();
    store.sync(&mut |_| {}).unwrap();
    let w = store.actor("w01").unwrap();
    let places = store.places(&w).unwrap();
    for i in 0..n {
        common::visit(&store, "w01", places[i % places.len()].place.id);
    }
    (store, dir)
}

#[test]
fn server_killed_during_a_push_loses_and_duplicates_nothing() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = start(data.path(), port);
    let (device, _d) = busy_device(&url, 3000);
    let pending = device.pending_ops().unwrap() as usize;
    assert_eq!(pending, 3000);

    // Kill the server (SIGKILL) as soon as the first batch has been acknowledged.
    let first_batch = Arc::new(AtomicBool::new(false));
    let seen = first_batch.clone();
    let killed = std::thread::scope(|s| {
        let sync = s.spawn(|| {
            device.sync(&mut |p| {
                if matches!(p, gridpatrol_core::sync::engine::Progress::Pushed { .. }) {
                    seen.store(true, Ordering::SeqCst);
                }
            })
        });
        while !first_batch.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(2));
        }
        server.kill().unwrap();
        server.wait().unwrap();
        sync.join().unwrap()
    });
    assert!(killed.is_err(), "the sync cannot finish without a server");
    let left = device.pending_ops().unwrap() as usize;
    assert!(
        left > 0 && left < pending,
        "stopped part way: {left} of {pending} left"
    );

    let mut server = start(data.path(), port);
    let report = device.sync(&mut |_| {}).unwrap();
    assert_eq!(report.refused, 0);
    assert_eq!(device.pending_ops().unwrap(), 0);
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(
        ops_of_device_on_server(data.path(), device.device_id()),
        pending,
        "every op exactly once"
    );
}

/// Forwards connections to `target`; the first time a response stream from the server passes
/// `cut_after` bytes (only a pull page is that large), it is cut off there.
fn cutting_proxy(target: u16, cut_after: usize) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let cuts = Arc::new(AtomicUsize::new(0));
    let counter = cuts.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                break;
            };
            let counter = counter.clone();
            let (mut c_read, mut u_write) =
                (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut u_write);
                let _ = u_write.shutdown(std::net::Shutdown::Both);
            });
            let (mut u_read, mut c_write) = (upstream, client);
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 16 * 1024];
                let mut sent = 0usize;
                loop {
                    let n = match u_read.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if sent + n > cut_after && counter.fetch_add(1, Ordering::SeqCst) == 0 {
                        let _ = c_write.write_all(&buf[..cut_after.saturating_sub(sent)]);
                        break;
                    }
                    if c_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    sent += n;
                }
                let _ = c_write.shutdown(std::net::Shutdown::Both);
                let _ = u_read.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    (port, cuts)
}

#[test]
fn connection_cut_during_a_pull_response_loses_and_duplicates_nothing() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(data.path(), port);
    let url = format!("http://127.0.0.1:{port}");
    // The reader has bootstrapped; then another device puts plenty of work on the server.
    let dir = tempfile::tempdir().unwrap();
    let reader = Store::open(dir.path().join("r.db"), Clock::System).unwrap();
    reader.sign_in(&url, "l01", "gridpatrol").unwrap();
    reader.sync(&mut |_| {}).unwrap();
    let (writer, _w) = busy_device(&url, 1500);
    writer.sync(&mut |_| {}).unwrap();

    let (proxy, cuts) = cutting_proxy(port, 20_000);
    reader
        .sign_in(&format!("http://127.0.0.1:{proxy}"), "l01", "gridpatrol")
        .unwrap();
    let first = reader.sync(&mut |_| {});
    assert!(
        matches!(first, Err(gridpatrol_core::Error::Network { .. })),
        "{first:?}"
    );
    reader.sync(&mut |_| {}).unwrap();
    assert!(cuts.load(Ordering::SeqCst) >= 1, "a pull response was cut");

    assert_holds_exactly_the_ops_of(&reader, &writer);
    server.kill().unwrap();
    server.wait().unwrap();
}

/// Run only as a child of `client_killed_between_receiving_and_committing_a_pull`: syncs the
/// device database named in the environment and dies the moment a page has arrived.
#[test]
#[ignore = "run as a child process by another test"]
fn child_sync_that_dies_on_receipt() {
    let Ok(db) = std::env::var("GRIDPATROL_CHILD_DB") else {
        return;
    };
    let store = Store::open(db, Clock::System).unwrap();
    let mut seen = Vec::new();
    let result = store.sync(&mut |p| {
        seen.push(format!("{p:?}"));
        if matches!(p, gridpatrol_core::sync::engine::Progress::Received { ops } if ops > 0) {
            std::process::abort();
        }
    });
    panic!("the sync ended without receiving a page: {result:?} {seen:?}");
}

#[test]
fn client_killed_between_receiving_and_committing_a_pull() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(data.path(), port);
    let url = format!("http://127.0.0.1:{port}");
    // The reader has bootstrapped; then another device puts work on the server.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("reader.db");
    let before = {
        let reader = Store::open(&db, Clock::System).unwrap();
        reader.sign_in(&url, "l01", "gridpatrol").unwrap();
        reader.sync(&mut |_| {}).unwrap();
        reader.pull_cursor().unwrap()
    };
    assert!(before.is_some());
    let (writer, _w) = busy_device(&url, 300);
    writer.sync(&mut |_| {}).unwrap();

    let child = common::run_child_test("child_sync_that_dies_on_receipt", &db);
    assert!(
        !child.status.success(),
        "the child should die mid-sync: {}\n{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );

    let reader = Store::open(&db, Clock::System).unwrap();
    assert_eq!(
        reader.pull_cursor().unwrap(),
        before,
        "nothing of the page was committed"
    );
    reader.sync(&mut |_| {}).unwrap();
    assert_holds_exactly_the_ops_of(&reader, &writer);
    server.kill().unwrap();
    server.wait().unwrap();
}
