//! Backups and the move to PostgreSQL, against real server processes and real phones' stores:
//! a backup made while phones sync is sound, `verify` finds a flipped byte and a cut file, a
//! backup unpacked into a new folder serves the same cases and photos to a new phone; a SQLite
//! township with photos moved to PostgreSQL (`migrate`) keeps its phones syncing without a new
//! sign-in, each seeing the other's work, photos included. The commands are those of
//! docs/deploy.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::Server;
use gridpatrol_core::photo::Variant;
use gridpatrol_core::Store;

/// Reports a hazard at a place of `grid` from `user`'s phone, with a new photo of its own
/// (`seed`), and syncs; returns the photo's hash.
fn case_with_photo(phone: &Store, user: &str, grid: &str, seed: u64) -> String {
    let hash = phone
        .add_photo(&common::photo_bytes(150_000, seed))
        .unwrap();
    common::report_at(
        phone,
        user,
        grid,
        "灭火器压力不足",
        std::slice::from_ref(&hash),
    );
    let r = phone.sync(&mut |_| {}).unwrap();
    assert_eq!((r.refused, r.photos_failed), (0, 0));
    hash
}

fn cases(phone: &Store, user: &str) -> usize {
    phone
        .hazards(&phone.actor(user).unwrap(), None)
        .unwrap()
        .len()
}

/// Whether `phone` holds a case citing photo `hash`.
fn sees_photo(phone: &Store, user: &str, hash: &str) -> bool {
    let who = phone.actor(user).unwrap();
    phone.hazards(&who, None).unwrap().iter().any(|row| {
        phone
            .hazard(row.id)
            .unwrap()
            .hazard
            .report
            .photos
            .contains(&hash.to_string())
    })
}

/// The photo `hash` fetched by `phone` from its server (not from its own folder).
fn downloaded(phone: &Store, hash: &str) -> Vec<u8> {
    let held = phone.photo_path(hash).unwrap();
    let _ = std::fs::remove_file(&held);
    std::fs::read(phone.fetch_photo(hash, Variant::Original).unwrap()).unwrap()
}

/// The server on `dir` without the demo, on `port`, with `extra` (a database URL).
fn start_on(dir: &Path, port: u16, extra: &[&str]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridpatrol-sync-server"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .args(extra)
        .env("GRIDPATROL_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening on "), "{line:?}");
    child
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// `verify` on `file`: succeeds, or fails with the damage told in both languages.
fn verify(dir: &Path, file: &Path) -> std::process::Output {
    common::admin_output(dir, &["verify", file.to_str().unwrap()], "")
}

fn assert_damaged(dir: &Path, file: &Path) {
    let out = verify(dir, file);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "verify passed a damaged file");
    assert!(
        err.contains("备份文件已损坏或不完整") && err.contains("damaged or incomplete"),
        "{err}"
    );
}

#[test]
fn a_backup_made_while_phones_sync_is_sound_catches_damage_and_serves_again_when_unpacked() {
    let server = Server::start(None, &[]);
    let data = server.dir.path();
    let w03 = common::device(&server, "w03");
    let w09 = common::device(&server, "w09");
    let before = case_with_photo(&w03, "w03", "g03", 1);
    // An upload in progress is no photo: it stays out of the backup.
    std::fs::write(
        data.join("photos").join(format!("{}.part", "a".repeat(64))),
        b"half",
    )
    .unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("gridpatrol-backup.tar");

    // The backup runs while another phone records and syncs.
    let backed_up = std::thread::scope(|s| {
        let busy = s.spawn(|| {
            for seed in 10..14 {
                case_with_photo(&w09, "w09", "g03", seed);
            }
        });
        let out = common::admin(data, &["backup", "--to", file.to_str().unwrap()], "");
        busy.join().unwrap();
        out
    });
    assert!(
        backed_up.contains("已备份") && backed_up.contains("backed up"),
        "{backed_up}"
    );
    assert!(file.is_file() && !out_dir.path().join("gridpatrol-backup.tar.tmp").exists());
    // Work goes on after it.
    let after = case_with_photo(&w03, "w03", "g03", 2);
    w09.sync(&mut |_| {}).unwrap();
    assert!(sees_photo(&w09, "w09", &after));

    let out = verify(data, &file);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("备份完好") && said.contains("the backup is sound"),
        "{said}"
    );

    // A flipped byte inside the log's copy, and a file cut short, both fail.
    let bytes = std::fs::read(&file).unwrap();
    let db_at = bytes
        .windows(16)
        .position(|w| w == b"SQLite format 3\0")
        .unwrap();
    let mut flipped = bytes.clone();
    flipped[db_at + 3000] ^= 0x01;
    let bad = out_dir.path().join("flipped.tar");
    std::fs::write(&bad, &flipped).unwrap();
    assert_damaged(data, &bad);
    let cut = out_dir.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    assert_damaged(data, &cut);
    let junk = out_dir.path().join("junk.tar");
    std::fs::write(&junk, b"not a backup at all").unwrap();
    assert!(!verify(data, &junk).status.success());

    // Unpacked into a new folder, it serves the same township.
    let restored = tempfile::tempdir().unwrap();
    let summary =
        gridpatrol_sync_server::backup::unpack(&file, restored.path(), |_, _| Ok(())).unwrap();
    assert!(summary.photos >= 1 && summary.ops.unwrap() > 0);
    assert!(!restored
        .path()
        .join("photos")
        .join(format!("{}.part", "a".repeat(64)))
        .exists());
    let again =
        gridpatrol_sync_server::backup::unpack(&file, restored.path(), |_, _| Ok(())).unwrap_err();
    assert!(again.to_string().contains("未做任何更改"), "{again}");
    let port = common::free_port();
    let mut child = start_on(restored.path(), port, &[]);
    let phones = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let fresh = common::device_at(phones.path(), "fresh.db", &url, "w09");
    assert!(sees_photo(&fresh, "w09", &before));
    assert!(!sees_photo(&fresh, "w09", &after), "made after the backup");
    assert!(cases(&fresh, "w09") >= 1);
    assert_eq!(downloaded(&fresh, &before), common::photo_bytes(150_000, 1));
    stop(&mut child);
}

#[test]
fn a_sqlite_township_moved_to_postgres_keeps_its_phones_syncing_without_signing_in() {
    let Some(db) = common::pg_database() else {
        return;
    };
    let mut server = Server::start(None, &[]);
    let data = server.dir.path().to_path_buf();
    let w03 = common::device(&server, "w03");
    let w09 = common::device(&server, "w09");
    let old_03 = case_with_photo(&w03, "w03", "g03", 21);
    let old_09 = case_with_photo(&w09, "w09", "g03", 22);
    // w08 is reassigned twice and the server compacts what that superseded, so the log has
    // holes in its positions (and a horizon), as a township's log of some age has: the move
    // must keep each op at its position, or the phones' cursors would point past new work.
    server.admin(&["user", "assign", "w08", "--org", "g07"]);
    server.admin(&["user", "assign", "w08", "--org", "g08"]);
    w03.sync(&mut |_| {}).unwrap();
    w09.sync(&mut |_| {}).unwrap();
    server.restart(&["--retention-days", "0"]);
    w03.sync(&mut |_| {}).unwrap();
    stop(&mut server.child);
    let sqlite = rusqlite::Connection::open(data.join("ops.db")).unwrap();
    let (last, held): (i64, i64) = sqlite
        .query_row("SELECT max(rowid), count(*) FROM ops", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(last > held, "compaction left holes");
    drop(sqlite);
    let horizon: i64 = rusqlite::Connection::open(data.join("accounts.db"))
        .unwrap()
        .query_row("SELECT value FROM meta WHERE key = 'horizon'", [], |r| {
            r.get(0)
        })
        .unwrap();

    let from = data.to_str().unwrap();
    let moved = common::admin(
        &data,
        &["migrate", "--from-data-dir", from, "--to-database-url", &db],
        "",
    );
    assert!(
        moved.contains("已迁移") && moved.contains("moved"),
        "{moved}"
    );
    // Once full, the database takes no second move.
    let twice = common::admin_output(
        &data,
        &["migrate", "--from-data-dir", from, "--to-database-url", &db],
        "",
    );
    let err = String::from_utf8_lossy(&twice.stderr);
    assert!(!twice.status.success());
    assert!(
        err.contains("目标数据库不是空的") && err.contains("not empty"),
        "{err}"
    );
    let mut pg = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    let row = pg
        .query_one(
            "SELECT max(pos), count(*), (SELECT value FROM meta WHERE key = 'horizon') FROM ops",
            &[],
        )
        .unwrap();
    assert_eq!(
        (
            row.get::<_, i64>(0),
            row.get::<_, i64>(1),
            row.get::<_, i64>(2)
        ),
        (last, held, horizon)
    );

    // The same address, now on PostgreSQL (photos where they were).
    server.child = start_on(&data, server.port, &["--database-url", &db]);
    // Neither phone signs in again: their tokens and cursors carry on.
    let new_03 = case_with_photo(&w03, "w03", "g03", 23);
    let new_09 = case_with_photo(&w09, "w09", "g03", 24);
    w03.sync(&mut |_| {}).unwrap();
    for hash in [&old_03, &old_09, &new_03, &new_09] {
        assert!(sees_photo(&w03, "w03", hash));
        assert!(sees_photo(&w09, "w09", hash));
    }
    assert_eq!(downloaded(&w03, &new_09), common::photo_bytes(150_000, 24));
    assert_eq!(downloaded(&w09, &old_03), common::photo_bytes(150_000, 21));
    assert_eq!(downloaded(&w09, &new_03), common::photo_bytes(150_000, 23));
    // The server holds what the phones hold: a new phone of the township's officer
    // bootstraps the same cases.
    let phones = tempfile::tempdir().unwrap();
    let officer = common::device_at(phones.path(), "o01.db", &server.url, "o01");
    assert_eq!(cases(&w03, "w03"), 4);
    assert_eq!(cases(&w09, "w09"), 4);
    assert_eq!(cases(&officer, "o01"), 4);

    // On PostgreSQL, `backup` keeps the photos and leaves the database to pg_dump.
    let file = phones.path().join("photos.tar");
    let said = common::admin(
        &data,
        &[
            "backup",
            "--to",
            file.to_str().unwrap(),
            "--database-url",
            &db,
        ],
        "",
    );
    assert!(said.contains("pg_dump"), "{said}");
    let checked = String::from_utf8_lossy(&verify(&data, &file).stdout).into_owned();
    assert!(checked.contains("仅照片：4 个照片文件"), "{checked}");
}
