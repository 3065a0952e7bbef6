//! A restore that loses nothing (issue 20), with real server processes on both backends: three
//! phones work and sync; a backup is taken; more work is synced; the server is stopped, its
//! data deleted and the backup restored (SQLite: `restore --from`; PostgreSQL: `pg_dump` and
//! `pg_restore` as docs/deploy.md says, then `restore --from` for the photos and the epoch);
//! the phones sync again. Every op any phone made is back on the server, and every phone
//! holds the same.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{report_at, Server};
use gridpatrol_core::hazard::HazardEvent;
use gridpatrol_core::op::OpBody;
use gridpatrol_core::photo::Variant;
use gridpatrol_core::Store;
use uuid::Uuid;

common::on_both_backends!(
    a_restored_server_gets_back_every_op_from_the_phones_sqlite,
    a_restored_server_gets_back_every_op_from_the_phones_postgres,
    restore_loses_nothing
);

/// The newest PostgreSQL client tool `name` on this machine.
fn pg_tool(name: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .flatten()
        .map(|d| d.path().join("bin").join(name))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop().expect("PostgreSQL's client tools")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn notify(phone: &Store, user: &str, case: Uuid) {
    let who = phone.actor(user).unwrap();
    phone
        .hazard_event(
            &who,
            case,
            HazardEvent::Notify {
                responsible_party: "店主".into(),
                deadline: phone.today().plus(7),
                note: String::new(),
            },
        )
        .unwrap();
}

fn sync_all(phones: &[&Store]) {
    for phone in phones {
        phone.sync(&mut |_| {}).unwrap();
    }
}

/// The ids of the ops `phone` made itself.
fn own_ops(phone: &Store) -> BTreeSet<Uuid> {
    phone
        .ops()
        .unwrap()
        .into_iter()
        .filter(|o| o.device_id == phone.device_id())
        .map(|o| o.id)
        .collect()
}

/// What `phone` holds of `cases`: each case as folded, and the ids of its ops.
fn held(phone: &Store, cases: &[Uuid]) -> Vec<(String, BTreeSet<Uuid>)> {
    let ops = phone.ops().unwrap();
    cases
        .iter()
        .map(|id| {
            let case = format!("{:?}", phone.hazard(*id).unwrap().hazard);
            let of_case = ops
                .iter()
                .filter(|o| matches!(&o.body, OpBody::Hazard { hazard_id, .. } if hazard_id == id))
                .map(|o| o.id)
                .collect();
            (case, of_case)
        })
        .collect()
}

/// Takes the backup: the data folder's (`backup`), and for PostgreSQL the database's too.
fn back_up(server: &Server, database: Option<&str>, to: &Path) {
    if let Some(url) = database {
        run(Command::new(pg_tool("pg_dump"))
            .args(["-Fc", "-d", url, "-f"])
            .arg(to.with_extension("dump")));
    }
    let said = server.admin(&["backup", "--to", to.to_str().unwrap()]);
    assert!(!said.is_empty());
}

/// Deletes the server's data, as a failed disk would, and restores the backup.
fn lose_and_restore(server: &mut Server, database: Option<&str>, from: &Path) {
    let _ = server.child.kill();
    let _ = server.child.wait();
    for entry in std::fs::read_dir(server.dir.path()).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
    if let Some(url) = database {
        let (base, name) = url.rsplit_once('/').unwrap();
        let admin = std::env::var("GRIDPATROL_TEST_PG").unwrap();
        let mut superuser = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        // One statement each: neither may run inside a transaction block.
        superuser
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
        superuser
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        run(Command::new(pg_tool("pg_restore"))
            .args(["-d", &format!("{base}/{name}")])
            .arg(from.with_extension("dump")));
    }
    let said = server.admin(&["restore", "--from", from.to_str().unwrap()]);
    assert!(said.contains("恢复"), "{said}");
    server.restart(&[]);
}

#[test]
fn a_new_log_starts_in_an_epoch_of_its_own_and_keeps_it() {
    use gridpatrol_sync_server::storage::OpLog;
    let dir = tempfile::tempdir().unwrap();
    let open = || gridpatrol_sync_server::sqlite::SqliteBackend::open(dir.path(), 1 << 20).unwrap();
    let epoch = open().log().epoch().unwrap();
    assert_ne!(epoch, 0, "not the epoch of every server from before epochs");
    assert_eq!(open().log().epoch().unwrap(), epoch);
}

fn restore_loses_nothing(database: Option<String>) {
    let mut server = Server::start(database.clone(), &[]);
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("nightly.gpbak");
    // Two workers of grid g03 and a township officer, their phones away from the server's
    // disk.
    let held_by_phones = tempfile::tempdir().unwrap();
    let phone = |user: &str| {
        common::device_at(
            held_by_phones.path(),
            &format!("{user}.db"),
            &server.url,
            user,
        )
    };
    let (a, b, o) = (phone("w03"), phone("w09"), phone("o01"));
    let phones = [&a, &b, &o];

    // A photo from before the backup, which the phone clears from its storage days later.
    let early = a.add_photo(&common::photo_bytes(90_000, 3)).unwrap();
    let mut cases = vec![
        report_at(&a, "w03", "g03", "灭火器过期", std::slice::from_ref(&early)),
        report_at(&b, "w09", "g03", "疏散通道堵塞", &[]),
    ];
    sync_all(&phones);
    sync_all(&phones);
    let days_ago = std::time::SystemTime::now()
        - std::time::Duration::from_secs((gridpatrol_core::photo::KEEP_SENT_DAYS + 1) * 86_400);
    std::fs::File::options()
        .append(true)
        .open(a.photo_path(&early).unwrap())
        .unwrap()
        .set_modified(days_ago)
        .unwrap();
    assert_eq!(a.evict_photos(0).unwrap().files, 1);
    back_up(&server, database.as_deref(), &backup);

    // After the backup: work the server acknowledges and then forgets, a photo with it.
    let photo = common::photo_bytes(120_000, 7);
    let hash = a.add_photo(&photo).unwrap();
    let wiring = report_at(
        &a,
        "w03",
        "g03",
        "电线私拉乱接",
        std::slice::from_ref(&hash),
    );
    cases.push(wiring);
    notify(&b, "w09", cases[1]);
    sync_all(&phones);
    cases.push(report_at(&b, "w09", "g03", "电动车楼道充电", &[]));
    sync_all(&phones);
    sync_all(&phones);
    let acknowledged_then = [&a, &b].map(|p| p.pending_ops().unwrap());
    assert_eq!(acknowledged_then, [0, 0]);
    // And work still on a phone when the disk fails.
    cases.push(report_at(&a, "w03", "g03", "液化气瓶无检验", &[]));
    let made: Vec<BTreeSet<Uuid>> = phones.iter().map(|p| own_ops(p)).collect();

    lose_and_restore(&mut server, database.as_deref(), &backup);
    // One worker signs out and in again first (as someone told to sign in again would): the
    // phone still knows which epoch its work was acknowledged in.
    b.sign_out(false).unwrap();
    b.sign_in(&server.url, "w09", "gridpatrol").unwrap();
    // Each phone learns of the restore at its next sync; what one sends again reaches the
    // others at theirs.
    sync_all(&phones);
    sync_all(&phones);

    // Every op any phone made is on the server: a fresh phone of the officer receives them.
    let fresh = common::device_at(server.dir.path(), "fresh.db", &server.url, "o01");
    let on_server: BTreeSet<Uuid> = fresh.ops().unwrap().into_iter().map(|o| o.id).collect();
    for (phone, made) in phones.iter().zip(&made) {
        let missing: Vec<_> = made.difference(&on_server).copied().collect();
        assert!(missing.is_empty(), "lost: {missing:?}");
        assert_eq!(phone.pending_ops().unwrap(), 0);
        assert!(phone.refused_ops().unwrap().is_empty());
        // Every photo sent again, or found on the server (the one cleared from the phone).
        assert!(
            phone.photo_queue().unwrap().is_empty(),
            "{:?}",
            phone.photo_queue()
        );
    }
    // Every phone holds the same cases, each numbered once, as the server does.
    let expected = held(&fresh, &cases);
    for phone in phones {
        assert_eq!(held(phone, &cases), expected);
    }
    for case in &cases {
        assert!(fresh.hazard(*case).unwrap().hazard.case_number.is_some());
    }
    // The photo the server had and lost came back from the phone that took it.
    let fetched = fresh.fetch_photo(&hash, Variant::Original).unwrap();
    assert_eq!(std::fs::read(fetched).unwrap(), photo);
}
