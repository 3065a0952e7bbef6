//! The registers beside patrols and hazards through a real server (issue 18): each entered on
//! the phone where the work happens, reviewed in the console, counted on the annual page by
//! exactly what was entered, and exported in its ledger; and who may write and read each.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::registers::{annual, last_own_op, number, token_of, xlsx_rows};
use common::{forged, push_codes, Browser, Server};
use gridpatrol_core::activity::{ActivityKind, NewActivity, Trainee};
use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::registers::fire::{FireCause, NewFire};
use gridpatrol_core::registers::letter::{LetterKind, NewLetter};
use gridpatrol_core::Store;

common::on_both_backends!(
    each_register_goes_from_the_phone_to_the_console_and_its_ledger_sqlite,
    each_register_goes_from_the_phone_to_the_console_and_its_ledger_postgres,
    phone_to_console_and_ledger
);

fn phone_to_console_and_ledger(database: Option<String>) {
    let server = Server::start(database, &[]);
    let officer = Browser::sign_in(&server, "o01");
    let before = annual(&officer);

    // A grid worker collects a place's signed letter; the place is flagged no more.
    let worker = common::device(&server, "w04");
    let w04 = worker.actor("w04").unwrap();
    let place = common::place_in(&worker, "w04", "g04");
    let registers = officer.page("/console/registers?scope=t01");
    let flagged = registers.contains(&place.name);
    worker
        .record_letter(
            &w04,
            NewLetter {
                kind: LetterKind::Responsibility,
                place_id: Some(place.id),
                village_id: None,
                signed_on: worker.today(),
                signed_by: "签字人甲".into(),
                note: String::new(),
                photos: Vec::new(),
            },
        )
        .unwrap();
    worker.sync(&mut |_| {}).unwrap();

    // The village leader records a fire at that place; the brigade its training with the
    // assessment of two grid workers.
    let leader = common::device(&server, "l02");
    let l02 = leader.actor("l02").unwrap();
    leader
        .record_fire(
            &l02,
            NewFire {
                grid_id: "g04".into(),
                place_id: Some(place.id),
                address: String::new(),
                occurred_at: leader.device_wall_ms() - 2 * 3_600_000,
                cause: FireCause::Electrical,
                deaths: 1,
                injuries: 2,
                loss_yuan: 123_456,
                brigade_attended: true,
                note: "电动车充电起火".into(),
                photos: Vec::new(),
            },
        )
        .unwrap();
    leader.sync(&mut |_| {}).unwrap();
    let brigade = common::device(&server, "b01");
    let b01 = brigade.actor("b01").unwrap();
    brigade
        .log_activity(
            &b01,
            NewActivity {
                kind: ActivityKind::Training,
                org_id: "t01".into(),
                held_on: brigade.today(),
                title: "网格员初期火灾扑救培训".into(),
                audience: 10,
                note: String::new(),
                channel: None,
                attendees: Vec::new(),
                photos: Vec::new(),
                trainees: vec![
                    Trainee {
                        user_id: "w04".into(),
                        passed: Some(true),
                    },
                    Trainee {
                        user_id: "w05".into(),
                        passed: Some(false),
                    },
                ],
                group_id: None,
            },
        )
        .unwrap();
    brigade.sync(&mut |_| {}).unwrap();

    // The annual page moved by exactly what was entered.
    let after = annual(&officer);
    for (heading, by) in [
        ("火灾起数", 1),
        ("火灾死亡人数", 1),
        ("火灾受伤人数", 2),
        ("火灾直接财产损失（元）", 123_456),
        ("考核人次", 2),
        ("培训次数", 1),
    ] {
        assert_eq!(
            number(&after, heading),
            number(&before, heading) + by,
            "{heading}"
        );
    }
    // The brigade entered the same fire again; the officer withdraws it from the console, with
    // a reason, and the figures count it once.
    let again = brigade
        .record_fire(
            &b01,
            NewFire {
                grid_id: "g04".into(),
                place_id: Some(place.id),
                address: String::new(),
                occurred_at: brigade.device_wall_ms() - 2 * 3_600_000,
                cause: FireCause::Electrical,
                deaths: 1,
                injuries: 2,
                loss_yuan: 123_456,
                brigade_attended: true,
                note: "大队补录".into(),
                photos: Vec::new(),
            },
        )
        .unwrap();
    brigade.sync(&mut |_| {}).unwrap();
    assert_eq!(
        number(&annual(&officer), "火灾起数"),
        number(&before, "火灾起数") + 2
    );
    let csrf = officer.csrf("/console/registers");
    let id = again.to_string();
    let refused = officer.post(
        "/console/registers/withdraw-fire",
        &[("csrf", &csrf), ("id", &id), ("reason", " ")],
    );
    // Refused, the page comes back saying why, and nothing is withdrawn.
    assert_eq!(refused.status(), 200);
    assert!(refused.text().unwrap().contains("理由不能为空"));
    assert_eq!(
        number(&annual(&officer), "火灾起数"),
        number(&before, "火灾起数") + 2
    );
    let res = officer.post(
        "/console/registers/withdraw-fire",
        &[
            ("csrf", &csrf),
            ("id", &id),
            ("reason", "与村委会登记的同一起火灾重复"),
        ],
    );
    assert_eq!(res.status(), 303);
    let after = annual(&officer);
    assert_eq!(number(&after, "火灾起数"), number(&before, "火灾起数") + 1);
    assert_eq!(
        number(&after, "火灾死亡人数"),
        number(&before, "火灾死亡人数") + 1
    );
    // The brigade's phone learns it at its next sync.
    brigade.sync(&mut |_| {}).unwrap();
    let (today, year_start) = (
        brigade.today(),
        format!("{}-01-01", &common::in_days(0)[..4]),
    );
    let listed = brigade
        .fires("t01", year_start.parse().unwrap(), today)
        .unwrap();
    assert!(listed.iter().all(|f| f.fire.id != again));

    // The console page shows the fire with what the place's records said, and the place
    // off the unsigned list.
    let page = officer.page("/console/registers?scope=t01");
    assert!(
        page.contains("电动车充电起火") || page.contains("123456"),
        "the fire is listed"
    );
    assert!(page.contains("签字人甲"), "the letter is listed");
    let unsigned = page
        .split("未签订或已过期的场所")
        .nth(1)
        .unwrap()
        .split("期内签订")
        .next()
        .unwrap();
    assert!(
        !unsigned.contains(&place.name),
        "{} no longer flagged (was: {flagged})",
        place.name
    );
    let dashboard = officer.page("/console/");
    assert!(dashboard.contains("责任书签订率") && dashboard.contains("火灾起数"));

    // 火灾台账 and 责任书台账 carry them.
    let today = common::in_days(0);
    let ledger = |code: &str| {
        let res = officer.get(&format!(
            "/console/export/ledger?ledger={code}&scope=t01&from={}-01-01&to={today}&format=xlsx",
            &today[..4]
        ));
        assert_eq!(res.status(), 200, "{code}");
        res.bytes().unwrap().to_vec()
    };
    let fires = xlsx_rows(&ledger("fires"), "火灾台账");
    let ours = fires
        .iter()
        .find(|r| r.iter().any(|c| c == "123456"))
        .expect("the fire's row");
    assert!(ours.contains(&place.name), "{ours:?}");
    assert!(
        ours.contains(&"电气".to_string()) && ours.contains(&"是".to_string()),
        "{ours:?}"
    );
    let letters = xlsx_rows(&ledger("letters"), "责任书台账");
    assert!(letters
        .iter()
        .any(|r| r.contains(&"签字人甲".to_string()) && r.contains(&place.name)));
    let training = xlsx_rows(&ledger("activities"), "宣传培训台账");
    assert!(training
        .iter()
        .any(|r| r.iter().any(|c| c.contains("（合格）"))
            && r.iter().any(|c| c.contains("（不合格）"))));
}

#[test]
fn who_may_write_and_read_each_register() {
    let server = Server::start(None, &[]);
    let worker = common::device(&server, "w04");
    let w04 = worker.actor("w04").unwrap();
    let place = common::place_in(&worker, "w04", "g04");
    worker
        .record_letter(
            &w04,
            NewLetter {
                kind: LetterKind::Pledge,
                place_id: Some(place.id),
                village_id: None,
                signed_on: worker.today(),
                signed_by: "签字人乙".into(),
                note: String::new(),
                photos: Vec::new(),
            },
        )
        .unwrap();
    // A grid worker's phone refuses to record a fire or a pact, before anything is stored.
    let fire = NewFire {
        grid_id: "g04".into(),
        place_id: None,
        address: "村口".into(),
        occurred_at: worker.device_wall_ms() - 60_000,
        cause: FireCause::Unknown,
        deaths: 0,
        injuries: 0,
        loss_yuan: 100,
        brigade_attended: false,
        note: String::new(),
        photos: Vec::new(),
    };
    assert!(worker.record_fire(&w04, fire.clone()).is_err());
    let pact = NewLetter {
        kind: LetterKind::VillagePact,
        place_id: None,
        village_id: Some("v02".into()),
        signed_on: worker.today(),
        signed_by: "村民代表大会".into(),
        note: String::new(),
        photos: Vec::new(),
    };
    assert!(worker.record_letter(&w04, pact.clone()).is_err());
    worker.sync(&mut |_| {}).unwrap();
    let honest = last_own_op(&worker);
    let OpBody::Letter(letter) = &honest.body else {
        panic!("the letter")
    };

    // What a modified phone pushes anyway is refused by the server, each for its reason.
    let token = token_of(&server, &worker, "w04");
    let fresh = |f: &dyn Fn(&mut gridpatrol_core::registers::letter::Letter)| {
        let mut l = letter.clone();
        l.id = uuid::Uuid::now_v7();
        f(&mut l);
        OpBody::Letter(l)
    };
    let as_fire = OpBody::Fire(gridpatrol_core::registers::fire::Fire {
        id: uuid::Uuid::now_v7(),
        grid_id: "g04".into(),
        place_id: None,
        address: "村口".into(),
        occurred_at: honest.hlc.wall_ms() - 60_000,
        cause: FireCause::Unknown,
        deaths: 0,
        injuries: 0,
        loss_yuan: 100,
        brigade_attended: false,
        note: String::new(),
        photos: Vec::new(),
    });
    let other_place = common::place_in(&common::device(&server, "o01"), "o01", "g01");
    let bodies = vec![
        // A worker's fire.
        as_fire,
        // A worker's pact.
        fresh(&|l| {
            l.kind = LetterKind::VillagePact;
            l.place_id = None;
            l.org_id = "v02".into();
        }),
        // A letter of a place in another village, claimed as of the worker's grid.
        fresh(&|l| l.place_id = Some(other_place.id)),
        // A letter of a place that does not exist.
        fresh(&|l| l.place_id = Some(uuid::Uuid::now_v7())),
        // A letter signed next year.
        fresh(&|l| l.signed_on = l.signed_on.plus(400)),
        // A withdrawal of a fire the server does not hold (a worker's, besides).
        OpBody::FireWithdrawn(gridpatrol_core::registers::fire::FireWithdrawal {
            fire_id: uuid::Uuid::now_v7(),
            reason: "重复".into(),
        }),
    ];
    let ops: Vec<Op> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, b)| forged(&honest, 10 + i as i64, b))
        .collect();
    let codes = push_codes(&server.url, &token, worker.device_id(), ops);
    assert!(
        codes.iter().all(|c| !c.is_empty()),
        "every forged op refused: {codes:?}"
    );
    assert_eq!(codes[0], "role_not_allowed", "{codes:?}");
    assert_eq!(codes[1], "role_not_allowed", "{codes:?}");
    assert_eq!(codes[5], "not_created", "{codes:?}");

    // A leader records no fire in another village; the brigade names no unknown trainee.
    let leader = common::device(&server, "l01");
    assert!(leader
        .record_fire(
            &leader.actor("l01").unwrap(),
            NewFire {
                grid_id: "g04".into(),
                ..fire
            }
        )
        .is_err());

    // Reading: the letter reaches the grid's worker and the township, not another village.
    let officer = common::device(&server, "o01");
    let other = common::device(&server, "w01");
    let today = officer.today();
    let seen = |phone: &Store, scope: &str| {
        phone
            .letters(scope, today.plus(-1), today)
            .map(|v| v.iter().any(|r| r.letter.id == letter.id))
            .unwrap_or(false)
    };
    assert!(seen(&officer, "t01"));
    assert!(
        !seen(&other, "v02") && !seen(&other, "t01"),
        "w01's phone holds no letter of g04"
    );
    // The console answers a village leader for their own village only.
    let l01 = Browser::sign_in(&server, "l01");
    assert_eq!(l01.get("/console/registers?scope=v01").status(), 200);
    assert_ne!(l01.get("/console/registers?scope=v02").status(), 200);
    assert_ne!(
        l01.get("/console/export/ledger?ledger=letters&scope=v02&format=xlsx")
            .status(),
        200
    );
}
