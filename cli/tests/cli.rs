//! The `gridpatrol` binary end to end, as a person or a script drives a device: init, load the
//! demo township, patrol, walk a hazard to closed, report and export, and bad input that exits
//! with a clear message and leaves the database as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn gp(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridpatrol"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("GRIDPATROL_USER")
        .output()
        .expect("run gridpatrol")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = gp(db, args);
    assert!(
        out.status.success(),
        "gridpatrol {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(db: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(db, &all)).unwrap()
}

/// Every row of every table, for "nothing changed" checks.
fn contents(db: &Path) -> String {
    let c = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = String::new();
    for t in tables {
        let mut stmt = c
            .prepare(&format!("SELECT * FROM {t} ORDER BY 1, 2"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}|"))
                    })
                    .collect::<Result<String, _>>()
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        out.push_str(&format!("## {t}\n{}\n", rows.join("\n")));
    }
    out
}

#[test]
fn a_device_session_from_init_to_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    let missing = gp(&db, &["places", "--as", "w01"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("gridpatrol init"));

    assert!(ok(&db, &["init"]).contains("已初始化"));
    ok(&db, &["load-demo"]);
    let users = ok(&db, &["users"]);
    assert!(users.contains("w01") && users.contains("网格员"));

    let due = json(&db, &["due", "--as", "w04"]);
    let due = due.as_array().unwrap();
    assert_eq!(due.len(), 25, "every place is due before its first patrol");
    let place = due
        .iter()
        .find(|p| {
            p["place"]["place_type"] == "small_shop"
                || p["place"]["place_type"] == "small_restaurant"
        })
        .or_else(|| due.first())
        .unwrap();
    let place_id = place["place"]["id"].as_str().unwrap().to_string();
    let tail = &place_id[place_id.len() - 8..];

    let form = json(&db, &["form", tail]);
    let first_pass_fail = form["template"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "pass_fail")
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let answer = format!("{first_pass_fail}=fail");
    // The item asks for a photo when it fails: without one the hazard is not raised.
    let raise_without_photo = gp(
        &db,
        &[
            "patrol",
            "--as",
            "w04",
            "--place",
            tail,
            "--answer",
            &answer,
            "--raise-all",
        ],
    );
    assert_eq!(raise_without_photo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&raise_without_photo.stderr).contains("照片不能为空"));
    let shot = dir.path().join("IMG_0002.jpg");
    std::fs::write(&shot, b"\xff\xd8\xff\xe0 not really a jpeg").unwrap();
    let with_photo = format!("{first_pass_fail}={}", shot.to_str().unwrap());
    let patrol = json(
        &db,
        &[
            "patrol",
            "--as",
            "w04",
            "--place",
            tail,
            "--answer",
            &answer,
            "--raise-all",
            "--photo",
            &with_photo,
            "--lat",
            "37.8",
            "--lon",
            "112.5",
        ],
    );
    let hazard = patrol["hazard_ids"][0].as_str().unwrap().to_string();
    let h = &hazard[hazard.len() - 10..];

    // A week on: within what a grid worker may give (a month at most).
    let deadline = gridpatrol_core::clock::Day::from_ms(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    )
    .plus(7)
    .to_string();
    let deadline = deadline.as_str();
    ok(
        &db,
        &[
            "hazard",
            "notify",
            h,
            "--as",
            "w04",
            "--party",
            "店主",
            "--deadline",
            deadline,
        ],
    );
    ok(&db, &["hazard", "start", h, "--as", "w04"]);
    ok(
        &db,
        &["hazard", "submit", h, "--as", "w04", "--note", "已整改"],
    );

    // The submitter may not verify their own work: exit 2, message in both languages.
    let own = gp(&db, &["hazard", "review", h, "--as", "w04", "--pass"]);
    assert_eq!(own.status.code(), Some(2));
    let err = String::from_utf8_lossy(&own.stderr);
    assert!(err.contains("无权") || err.contains("复查人"), "{err}");
    assert!(err.contains(" / "), "{err}");

    let closed = json(&db, &["hazard", "review", h, "--as", "l02", "--pass"]);
    assert_eq!(closed["status"], "closed");
    let shown = ok(&db, &["hazard", "show", h]);
    assert!(
        shown.contains("已销号") && shown.contains("submit_rectification"),
        "{shown}"
    );
    assert!(ok(&db, &["form", tail]).contains("上次不合格"));

    ok(
        &db,
        &[
            "log",
            "publicity",
            "--as",
            "w04",
            "--org",
            "g04",
            "--title",
            "电动车安全宣传",
            "--audience",
            "25",
        ],
    );
    let status = json(&db, &["status", "--as", "w04"]);
    assert!(status["pending_ops"].as_i64().unwrap() > 200);
    assert_eq!(status["refused_ops"].as_array().unwrap().len(), 0);
    assert_eq!(status["conflicts"], 0);

    let csv = dir.path().join("ledger.csv");
    let xlsx = dir.path().join("ledger.xlsx");
    let report = json(
        &db,
        &[
            "report",
            "--scope",
            "t01",
            "--from",
            "2000-01-01",
            "--to",
            "2099-12-31",
            "--csv",
            csv.to_str().unwrap(),
            "--xlsx",
            xlsx.to_str().unwrap(),
        ],
    );
    assert_eq!(report["hazards_reported"], 1);
    assert_eq!(report["closed"], 1);
    assert_eq!(report["in_grid_closure_rate"], 1.0);
    assert_eq!(report["publicity_events"], 1);
    assert!(std::fs::read_to_string(&csv).unwrap().contains("已销号"));
    assert!(std::fs::metadata(&xlsx).unwrap().len() > 1000);
    let text = ok(
        &db,
        &[
            "report",
            "--scope",
            "g04",
            "--from",
            "2000-01-01",
            "--to",
            "2099-12-31",
        ],
    );
    assert!(text.contains("闭环率 closure rate: 100.0%"), "{text}");
}

#[test]
fn bad_input_exits_2_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    ok(&db, &["init"]);
    ok(&db, &["load-demo"]);
    let place = json(&db, &["places", "--as", "w05"])[0]["place"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = contents(&db);
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "patrol",
            "--as",
            "w05",
            "--place",
            &place,
            "--answer",
            "no_such_item=pass",
        ],
        vec![
            "patrol", "--as", "w05", "--place", &place, "--lat", "95", "--lon", "1",
        ],
        vec!["patrol", "--as", "w01", "--place", &place],
        vec!["patrol", "--as", "nobody", "--place", &place],
        vec![
            "hazard",
            "report",
            "--as",
            "w05",
            "--place",
            &place,
            "--category",
            "nonsense",
            "--description",
            "x",
        ],
        vec![
            "hazard",
            "report",
            "--as",
            "w05",
            "--place",
            &place,
            "--category",
            "wiring",
            "--description",
            "   ",
        ],
        vec![
            "hazard",
            "notify",
            "00000000",
            "--as",
            "w05",
            "--party",
            "x",
            "--deadline",
            "2099-01-01",
        ],
        vec![
            "report",
            "--scope",
            "t01",
            "--from",
            "2026-13-01",
            "--to",
            "2026-12-31",
        ],
        vec![
            "log", "training", "--as", "w05", "--org", "g01", "--title", "培训",
        ],
        // A password in plain text across a network, unless told so (issue 14).
        vec![
            "login",
            "--server",
            "http://192.0.2.10:8080",
            "--user",
            "w05",
            "--password",
            "gridpatrol",
        ],
    ];
    for args in cases {
        let out = gp(&db, &args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("错误 / error ["), "{args:?}: {err}");
    }
    assert!(before == contents(&db), "the database is unchanged");
}

#[test]
fn demo_prints_every_path_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("demo.db");
    let out = ok(
        &dir.path().join("unused.db"),
        &["demo", "--keep", keep.to_str().unwrap()],
    );
    assert!(out.contains("【10】离线冲突"));
    assert!(out.contains("网格内闭环率 in-grid closure rate"));
    assert!(out.contains("手工核对"));
    assert!(keep.exists());
    // The kept database is a working device database.
    let hazards = json(&keep, &["hazards", "--as", "o01"]);
    assert!(hazards.as_array().unwrap().len() > 100);
}

#[test]
fn a_photo_file_is_attached_to_a_hazard_and_queued_for_upload() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    ok(&db, &["init"]);
    ok(&db, &["load-demo"]);
    let due = json(&db, &["due", "--as", "w04"]);
    let place = due[0]["place"]["id"].as_str().unwrap().to_string();
    let photo = dir.path().join("IMG_0001.jpg");
    std::fs::write(&photo, b"\xff\xd8\xff\xe0 not really a jpeg").unwrap();
    let photo_arg = photo.to_str().unwrap();

    let missing = gp(
        &db,
        &[
            "hazard",
            "report",
            "--as",
            "w04",
            "--place",
            &place,
            "--category",
            "wiring",
            "--description",
            "私拉电线",
            "--photo",
            "/no/such/file.jpg",
        ],
    );
    assert_eq!(
        missing.status.code(),
        Some(2),
        "a missing file is bad input"
    );

    let reported = json(
        &db,
        &[
            "hazard",
            "report",
            "--as",
            "w04",
            "--place",
            &place,
            "--category",
            "wiring",
            "--description",
            "私拉电线",
            "--photo",
            photo_arg,
        ],
    );
    let shown = json(&db, &["hazard", "show", reported["id"].as_str().unwrap()]);
    let hash = shown["hazard"]["report"]["photos"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(hash.len(), 64);
    let kept = dir.path().join("d.db.photos").join(&hash);
    assert_eq!(std::fs::read(kept).unwrap(), std::fs::read(&photo).unwrap());

    let id = reported["id"].as_str().unwrap();
    let after = dir.path().join("IMG_0002.jpg");
    std::fs::write(&after, b"\xff\xd8 after the fix").unwrap();
    ok(
        &db,
        &[
            "hazard",
            "photo",
            id,
            "--as",
            "w04",
            "--file",
            after.to_str().unwrap(),
            "--kind",
            "after",
        ],
    );
    assert!(ok(&db, &["hazard", "show", id]).contains("整改前后照片 before/after"));

    let status = json(&db, &["status"]);
    let queued = status["photos_pending"].as_array().unwrap();
    assert_eq!(queued.len(), 2);
    assert_eq!(queued[0]["hash"], hash.as_str());
    assert!(ok(&db, &["status"]).contains("照片待上传 photos pending: 2"));
}

#[test]
fn a_worker_registers_a_place_found_on_patrol_and_corrects_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.db");
    ok(&db, &["init"]);
    ok(&db, &["load-demo"]);
    let before = json(&db, &["places", "--as", "w05"])
        .as_array()
        .unwrap()
        .len();
    let added = json(
        &db,
        &[
            "place",
            "add",
            "--as",
            "w05",
            "--grid",
            "g05",
            "--type",
            "出租房",
            "--name",
            "新发现出租屋",
            "--address",
            "南河社区 8 号",
            "--risk",
            "高",
            "--responsible",
            "赵某",
            "--phone",
            "13700000000",
            "--lat",
            "37.8",
            "--lon",
            "112.5",
        ],
    );
    let id = added["place_id"].as_str().unwrap().to_string();
    let places = json(&db, &["places", "--as", "w05"]);
    assert_eq!(places.as_array().unwrap().len(), before + 1);
    let file = json(&db, &["place", &id]);
    assert_eq!(file["place"]["place"]["place_type"], "rental_house");
    assert_eq!(file["place"]["place"]["risk_level"], "high");

    ok(
        &db,
        &[
            "place",
            "edit",
            &id,
            "--as",
            "w05",
            "--responsible",
            "钱某",
            "--phone",
            "13600000000",
        ],
    );
    let file = json(&db, &["place", &id]);
    assert_eq!(file["place"]["place"]["responsible_name"], "钱某");
    assert_eq!(file["place"]["place"]["responsible_phone"], "13600000000");

    // Another grid's worker may not, and an unknown type names the field; nothing changes.
    let snapshot = contents(&db);
    for args in [
        vec![
            "place",
            "edit",
            id.as_str(),
            "--as",
            "w01",
            "--responsible",
            "孙某",
        ],
        vec![
            "place",
            "add",
            "--as",
            "w05",
            "--grid",
            "g05",
            "--type",
            "小作坊",
            "--name",
            "x",
        ],
        vec![
            "place",
            "add",
            "--as",
            "w05",
            "--grid",
            "g01",
            "--type",
            "出租房",
            "--name",
            "x",
        ],
    ] {
        let out = gp(&db, &args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(snapshot == contents(&db), "the database is unchanged");
}
