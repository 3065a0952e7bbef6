#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One figure, one function: a small story played by phones against a real server, counted by
//! hand, then read off every surface that shows the figures (the dashboard, the coverage page,
//! the annual page and its CSV, the hazard ledger, the command line's report as text and JSON,
//! the FFI's report a phone app shows) and the server's own report: each must say the hand
//! count.
//!
//! The story, in g04 today (no demo history: the township's people and places only):
//!
//! | case | what happens                                                        | counts as      |
//! |------|---------------------------------------------------------------------|----------------|
//! | A    | notified (deadline in 5 days), rectified, verified by l02            | closed on time |
//! | B    | fixed on the spot with before and after photos, closed by its fixer  | closed on time |
//! | C    | escalated to the township, referred with no 办结期限 (an old phone),   | closed, a gap  |
//! |      | outcome recorded by o01, verified by o02                             |                |
//! | D    | reported only                                                        | open           |
//!
//! 闭环率 3/4 = 75.0%; 按期整改率 2/2 = 100.0% with 1 closed without a deadline; 网格内闭环率
//! 2/3 = 66.7% (C left the grid); overdue 0; one visit, so coverage is 1 ÷ the township's
//! places. The place also had a fire (1 death, 2 injured, 5,000 元) and signed its letter, so
//! 火灾 1 and 责任书签订率 is 1 ÷ the places too.

mod common;

use common::{device, in_days, Browser, Server};
use gridpatrol_core::hazard::{EscalationReason, HazardEvent, Level, NewHazard, Severity};

/// The value shown above a figure's label on the dashboard.
fn dashboard_figure(html: &str, label: &str) -> String {
    let before = html
        .split(&format!("<div class=\"label\">{label}"))
        .next()
        .unwrap();
    let value = before.rsplit("<div class=\"value\">").next().unwrap();
    let value = value.split("</div>").next().unwrap();
    // A figure may be a link (overdue): its text.
    let text = value.rsplit('>').next().unwrap_or(value);
    let text = if text.is_empty() {
        value.split('>').nth(1).unwrap().split('<').next().unwrap()
    } else {
        text
    };
    text.trim().to_string()
}

#[test]
fn every_surface_says_the_hand_count() {
    let server = Server::start(None, &[]);
    let w04 = device(&server, "w04");
    let worker = w04.actor("w04").unwrap();
    let place = common::place_in(&w04, "w04", "g04");
    let raise = |what: &str| {
        w04.report_hazard(
            &worker,
            NewHazard {
                photos: vec!["aa".repeat(32)],
                ..NewHazard::new(place.id, "wiring", Severity::General, what)
            },
        )
        .unwrap()
    };
    let (a, b, c, d) = (raise("甲"), raise("乙"), raise("丙"), raise("丁"));
    let act = |store: &gridpatrol_core::Store, user: &str, h, e| {
        store
            .hazard_event(&store.actor(user).unwrap(), h, e)
            .unwrap();
    };
    act(
        &w04,
        "w04",
        a,
        HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: w04.today().plus(5),
            note: String::new(),
        },
    );
    act(
        &w04,
        "w04",
        a,
        HazardEvent::SubmitRectification {
            note: "已更换电线".into(),
            photos: vec!["bb".repeat(32)],
        },
    );
    act(
        &w04,
        "w04",
        b,
        HazardEvent::FixOnSpot {
            note: "当场拔除".into(),
            before_photo: Some("cc".repeat(32)),
            after_photo: Some("dd".repeat(32)),
        },
    );
    let pass = || HazardEvent::Review {
        passed: true,
        note: String::new(),
        new_deadline: None,
    };
    act(&w04, "w04", b, pass());
    act(
        &w04,
        "w04",
        c,
        HazardEvent::Escalate {
            to: Level::Township,
            reason: EscalationReason::BeyondPower,
            note: String::new(),
        },
    );
    common::visit(&w04, "w04", place.id);
    w04.sync(&mut |_| {}).unwrap();
    // Four cases in one push get four numbers in a row, in the order they were raised.
    let numbers: Vec<u32> = [a, b, c, d]
        .iter()
        .map(|h| {
            let n = w04.hazard(*h).unwrap().hazard.case_number.unwrap();
            n.rsplit('-').next().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(
        numbers,
        (numbers[0]..numbers[0] + 4).collect::<Vec<_>>(),
        "{numbers:?}"
    );

    let l02 = device(&server, "l02");
    act(&l02, "l02", a, pass());
    l02.sync(&mut |_| {}).unwrap();
    let o01 = device(&server, "o01");
    act(
        &o01,
        "o01",
        c,
        HazardEvent::Refer {
            department: "县消防救援大队".into(),
            case_number: "2026-7".into(),
            note: String::new(),
            deadline: None,
        },
    );
    act(
        &o01,
        "o01",
        c,
        HazardEvent::RecordOutcome {
            outcome: "已查处".into(),
        },
    );
    o01.sync(&mut |_| {}).unwrap();
    let o02 = device(&server, "o02");
    act(&o02, "o02", c, pass());
    o02.sync(&mut |_| {}).unwrap();

    // The place's fire, recorded by its village leader, and its signed letter.
    let l02 = device(&server, "l02");
    l02.record_fire(
        &l02.actor("l02").unwrap(),
        gridpatrol_core::registers::fire::NewFire {
            grid_id: "g04".into(),
            place_id: Some(place.id),
            address: String::new(),
            occurred_at: l02.device_wall_ms() - 60_000,
            cause: gridpatrol_core::registers::fire::FireCause::Electrical,
            deaths: 1,
            injuries: 2,
            loss_yuan: 5_000,
            brigade_attended: true,
            note: String::new(),
            photos: Vec::new(),
        },
    )
    .unwrap();
    l02.sync(&mut |_| {}).unwrap();
    w04.record_letter(
        &worker,
        gridpatrol_core::registers::letter::NewLetter {
            kind: gridpatrol_core::registers::letter::LetterKind::Responsibility,
            place_id: Some(place.id),
            village_id: None,
            signed_on: w04.today(),
            signed_by: "店主".into(),
            note: String::new(),
            photos: Vec::new(),
        },
    )
    .unwrap();
    w04.sync(&mut |_| {}).unwrap();

    // The server's own report, against the hand count.
    o01.sync(&mut |_| {}).unwrap();
    let year = in_days(0)[..4].to_string();
    let (from, to) = (format!("{year}-01-01").parse().unwrap(), o01.today());
    let r = o01.report("t01", from, to).unwrap();
    assert_eq!((r.hazards_reported, r.closed, r.withdrawn), (4, 3, 0));
    assert_eq!((r.closed_on_time, r.closed_without_deadline), (2, 1));
    assert_eq!(r.on_time_rate, Some(1.0));
    assert_eq!((r.general_closed_in_grid, r.general_closed), (2, 3));
    assert_eq!((r.overdue_count, r.patrols), (0, 1));
    let places = o01
        .coverage("t01")
        .unwrap()
        .iter()
        .map(|g| g.count.places)
        .sum::<u32>();
    assert!(places > 1);
    let coverage = format!("{:.1}%", 100.0 / f64::from(places));
    assert_eq!(r.coverage_rate(), Some(1.0 / f64::from(places)));
    let f = &r.fires;
    assert_eq!(
        (f.fires, f.deaths, f.injuries, f.loss_yuan),
        (1, 1, 2, 5_000)
    );
    assert_eq!((r.letters.places_signed, r.letters.places), (1, places));
    let signed = coverage.clone();

    // The command line on a phone signed in as the officer, as a script reads it.
    let phone = tempfile::tempdir().unwrap();
    let db = phone.path().join("o01-cli.db");
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(common::gridpatrol_binary())
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("GRIDPATROL_PASSWORD", "gridpatrol")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    cli(&["login", "--server", &server.url, "--user", "o01"]);
    cli(&["sync"]);
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let json: serde_json::Value = serde_json::from_slice(&cli(&[
        "--json", "report", "--scope", "t01", "--from", &from_s, "--to", &to_s,
    ]))
    .unwrap();
    let n = |k: &str| json[k].as_u64().unwrap();
    assert_eq!(
        (n("hazards_reported"), n("closed"), n("withdrawn")),
        (4, 3, 0)
    );
    assert_eq!((n("closed_on_time"), n("closed_without_deadline")), (2, 1));
    assert_eq!((n("general_closed_in_grid"), n("general_closed")), (2, 3));
    assert_eq!((n("overdue_count"), n("patrols")), (0, 1));
    assert_eq!(json["on_time_rate"].as_f64(), Some(1.0));
    assert_eq!(json["closure_rate"].as_f64(), Some(0.75));
    assert_eq!(json["fires"]["fires"].as_u64(), Some(1));
    assert_eq!(json["fires"]["loss_yuan"].as_u64(), Some(5_000));
    assert_eq!(json["letters"]["places_signed"].as_u64(), Some(1));
    assert_eq!(json["letters"]["places"].as_u64(), Some(places.into()));
    let text = String::from_utf8(cli(&[
        "report", "--scope", "t01", "--from", &from_s, "--to", &to_s,
    ]))
    .unwrap();
    for want in [
        "闭环率 closure rate: 75.0%",
        "按期整改率 on-time rate: 100.0%",
        "网格内闭环率 in-grid closure rate: 66.7%",
    ] {
        assert!(text.contains(want), "the CLI says {want}: {text}");
    }
    assert!(
        text.contains(&format!("巡查覆盖率 coverage: {coverage}\n")),
        "{text}"
    );
    assert!(text.contains("火灾 fires: 1 起，死亡 deaths 1 人，受伤 injuries 2 人，直接财产损失 direct loss 5000 元"), "{text}");
    assert!(
        text.contains(&format!(
            "责任书签订率 letters signed: 1 / {places} = {signed}"
        )),
        "{text}"
    );

    // The FFI a phone app calls, on the same phone's database.
    let ffi = gridpatrol_ffi::PatrolStore::open(
        db.to_str().unwrap().into(),
        gridpatrol_ffi::DeviceConfig {
            fixed_clock_ms: None,
        },
    )
    .unwrap()
    .report("o01".into(), "t01".into(), from_s.clone(), to_s.clone())
    .unwrap();
    assert_eq!((ffi.hazards_reported, ffi.closed, ffi.withdrawn), (4, 3, 0));
    assert_eq!((ffi.closed_on_time, ffi.closed_without_deadline), (2, 1));
    assert_eq!((ffi.general_closed_in_grid, ffi.general_closed), (2, 3));
    assert_eq!((ffi.overdue_count, ffi.patrols), (0, 1));
    assert_eq!(ffi.closure_rate, Some(0.75));
    assert_eq!(ffi.on_time_rate, Some(1.0));
    assert_eq!(ffi.coverage_rate, r.coverage_rate());
    assert_eq!(ffi.overdue_as_of, to_s);
    assert_eq!(
        (ffi.fires, ffi.deaths, ffi.injuries, ffi.loss_yuan),
        (1, 1, 2, 5_000)
    );
    assert_eq!((ffi.places_signed, ffi.places), (1, places));
    assert_eq!(ffi.signed_rate, r.letters.signed_rate);

    let officer = Browser::sign_in(&server, "o01");
    // The dashboard.
    let html = officer.page(&format!(
        "/console/?scope=t01&from={year}-01-01&to={}",
        in_days(0)
    ));
    assert_eq!(dashboard_figure(&html, "闭环率"), "75.0%");
    assert_eq!(dashboard_figure(&html, "按期整改率"), "100.0%");
    assert_eq!(dashboard_figure(&html, "一般隐患网格内闭环率"), "66.7%");
    assert_eq!(dashboard_figure(&html, "巡查覆盖率"), coverage);
    assert!(html.contains(&format!("逾期未整改（截至 {}）", in_days(0))));
    assert_eq!(dashboard_figure(&html, "责任书签订率"), signed);
    assert_eq!(dashboard_figure(&html, "火灾起数"), "1");

    // The coverage page: its township total over every risk level is the same covered place.
    let page = officer.page("/console/coverage?scope=t01");
    let due = page.split("应巡查场所（").nth(1).unwrap();
    let due: u32 = due.split('）').next().unwrap().parse().unwrap();
    assert_eq!(due, places - 1, "every place but the one visited is due");

    // The annual page and its CSV: the township's row.
    let page = officer.page(&format!("/console/annual?scope=t01&year={year}"));
    // One row per figure, the township's column first.
    let township_cell = |figure: &str| -> String {
        let row = page.split("</tr>").find(|r| r.contains(figure)).unwrap();
        let cell = row.split("<td").nth(1).unwrap();
        cell.split('>')
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    for (figure, shown) in [
        ("闭环率", "75.0%"),
        ("按期整改率", "100.0%"),
        ("网格内闭环率", "66.7%"),
        ("巡查覆盖率", coverage.as_str()),
        ("逾期未整改", "0"),
        ("火灾起数", "1"),
        ("火灾直接财产损失（元）", "5000"),
        ("责任书签订率", signed.as_str()),
    ] {
        assert_eq!(township_cell(figure), shown, "{figure}");
    }
    let csv = officer
        .get(&format!("/console/export/annual?scope=t01&year={year}"))
        .text()
        .unwrap();
    let township = csv.lines().nth(1).unwrap();
    let cells: Vec<&str> = township.split(',').collect();
    assert_eq!(
        &cells[2..11],
        ["1", "4", "0", "0", "3", "75.0%", "100.0%", "66.7%", "0"]
    );
    assert_eq!(cells[14], coverage);

    // The hazard ledger: four cases, C closed without a deadline (无期限), A and B on time.
    let csv = officer
        .get(&format!(
            "/console/export/ledger?scope=t01&from={year}-01-01&to={}&format=csv",
            in_days(0)
        ))
        .text()
        .unwrap();
    assert_eq!(csv.lines().count(), 5, "headings and four cases");
    let on_time = gridpatrol_core::report::export::HAZARD_COLUMNS
        .iter()
        .position(|c| c.heading == "是否按期")
        .unwrap();
    let verdicts: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(on_time).unwrap())
        .collect();
    let count = |v: &str| verdicts.iter().filter(|x| **x == v).count();
    assert_eq!(
        (count("是"), count("无期限"), count("")),
        (2, 1, 1),
        "{verdicts:?}"
    );
}
