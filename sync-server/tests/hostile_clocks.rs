//! Clocks as hostile and broken phones have them (issue 14): an honest phone whose clock is days
//! fast or set to a wrong year loses nothing and its records show the true dates; a pushed op
//! dated years ahead is refused and moves no one's clock; a device's clock only rises with its
//! sequence, so a reassigned worker cannot back-date work into the old grid; a push and a case
//! have bounds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Browser, Server};
use gridpatrol_core::clock::MS_PER_DAY;
use gridpatrol_core::hazard::{NewHazard, Severity};
use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::sync::protocol::ErrorBody;
use gridpatrol_core::{Clock, Day, Hlc, Store};

fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A phone of `user` whose clock reads `clock`, signed in and synced.
fn phone_with(server: &Server, name: &str, user: &str, clock: Clock) -> Store {
    let store = Store::open(server.dir.path().join(name), clock).unwrap();
    store.sign_in(&server.url, user, "gridpatrol").unwrap();
    store.sync(&mut |_| {}).unwrap();
    store
}

/// Reports a hazard at the first place of `grid` on `phone`.
fn report(phone: &Store, user: &str, grid: &str, what: &str) -> uuid::Uuid {
    let w = phone.actor(user).unwrap();
    let place = common::place_in(phone, user, grid);
    phone
        .report_hazard(
            &w,
            NewHazard::new(place.id, "extinguisher", Severity::General, what),
        )
        .unwrap()
}

/// `op` as the next op of its device, `bump` sequence numbers on, with `body`.
fn next(op: &Op, bump: i64, body: OpBody) -> Op {
    Op {
        id: uuid::Uuid::now_v7(),
        seq: op.seq + bump,
        hlc: Hlc(op.hlc.0 + bump),
        body,
        ..op.clone()
    }
}

/// The newest op `phone` made itself.
fn own_last(phone: &Store) -> Op {
    phone
        .ops()
        .unwrap()
        .into_iter()
        .filter(|o| o.device_id == phone.device_id())
        .max_by_key(|o| o.seq)
        .unwrap()
}

/// The day a hazard was found, as the township console's case page shows it.
fn console_shows(officer: &Browser, id: uuid::Uuid) -> String {
    officer.page(&format!("/console/hazards/{id}"))
}

common::on_both_backends!(
    honest_phones_with_wrong_clocks_sync_and_show_true_dates_sqlite,
    honest_phones_with_wrong_clocks_sync_and_show_true_dates_postgres,
    wrong_clocks
);

fn wrong_clocks(database: Option<String>) {
    let server = Server::start(database, &[]);
    let today = Day::from_ms(real_now());

    // Three days fast from the start: its sign-in corrects it.
    let fast = phone_with(
        &server,
        "fast.db",
        "w01",
        Clock::manual(real_now() + 3 * MS_PER_DAY),
    );
    let a = report(&fast, "w01", "g01", "灭火器过期");
    fast.sync(&mut |_| {}).unwrap();

    // Right at sign-in, then set to 2036 while working offline.
    let clock = Clock::manual(real_now());
    let wrong_year = phone_with(&server, "2036.db", "w03", clock.clone());
    clock.advance_ms(Day(24_120).start_ms() - real_now()); // 2036-01-15
    let b = report(&wrong_year, "w03", "g03", "疏散通道堵塞");
    let visit_place = common::place_in(&wrong_year, "w03", "g03").id;
    common::visit(&wrong_year, "w03", visit_place);
    let report_seq = wrong_year
        .ops()
        .unwrap()
        .iter()
        .filter(|o| o.device_id == wrong_year.device_id())
        .map(|o| o.seq)
        .max();
    let outcome = wrong_year.sync(&mut |_| {}).unwrap();
    assert_eq!(outcome.refused, 0, "nothing is lost");
    assert_eq!(wrong_year.pending_ops().unwrap(), 0);
    assert_eq!(
        wrong_year
            .ops()
            .unwrap()
            .iter()
            .filter(|o| o.device_id == wrong_year.device_id())
            .map(|o| o.seq)
            .max(),
        report_seq,
        "the ops were re-dated, not duplicated"
    );
    assert_eq!(wrong_year.today(), today, "the phone's today is corrected");

    let officer = Browser::sign_in(&server, "o01");
    for id in [a, b] {
        let page = console_shows(&officer, id);
        assert!(page.contains(&today.to_string()), "{id} found today");
        assert!(!page.contains("2036-") && !page.contains(&today.plus(3).to_string()));
    }
    let township = common::device(&server, "o01");
    let patrols = township.ops().unwrap();
    let visit = patrols
        .iter()
        .find_map(|o| match &o.body {
            OpBody::Patrol(p) if p.worker_id == "w03" => Some(p.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(Day::from_ms(visit.ended_at), today, "the visit's own times");
    assert!(visit.started_at <= visit.ended_at);
}

common::on_both_backends!(
    a_far_future_op_moves_no_ones_clock_sqlite,
    a_far_future_op_moves_no_ones_clock_postgres,
    far_future
);

fn far_future(database: Option<String>) {
    let server = Server::start(database, &[]);
    let hostile = common::device(&server, "w01");
    report(&hostile, "w01", "g01", "灭火器过期");
    hostile.sync(&mut |_| {}).unwrap();
    let last = hostile.ops().unwrap().pop().unwrap();
    let token = common::login(
        &reqwest::blocking::Client::new(),
        &server.url,
        "w01",
        hostile.device_id(),
    )
    .token;
    let mut ahead = next(
        &last,
        1,
        OpBody::Hazard {
            hazard_id: uuid::Uuid::now_v7(),
            event: match &last.body {
                OpBody::Hazard { event, .. } => event.clone(),
                _ => unreachable!(),
            },
        },
    );
    ahead.hlc = Hlc::new(Day(24_120).start_ms(), 0);
    let (status, body) = common::raw_push(&server.url, &token, hostile.device_id(), vec![ahead]);
    assert_eq!(status, 409, "{body}");
    let refusal: ErrorBody = serde_json::from_str(&body).unwrap();
    assert_eq!(refusal.code, "clock_skew");
    assert!(refusal.server_time_ms.is_some());

    // Every other device in scope pulls and records as of today.
    let today = Day::from_ms(real_now());
    let leader = common::device(&server, "l01");
    let township = common::device(&server, "o01");
    for (phone, user) in [(&leader, "l01"), (&township, "o01")] {
        phone.sync(&mut |_| {}).unwrap();
        report(phone, user, "g01", "电动车室内充电");
        let op = phone
            .ops()
            .unwrap()
            .into_iter()
            .max_by_key(|o| o.hlc)
            .unwrap();
        assert_eq!(op.hlc.day(), today, "{user} records today");
        assert_eq!(phone.today(), today);
    }
}

#[test]
fn a_reassigned_worker_cannot_back_date_work_into_the_old_grid() {
    // With the demo's history, w04 has been on g04 since September: an op dated any time
    // since then would be judged by that assignment, were it not for the clock rules.
    let server = Server::start(None, &["--demo-history", "true"]);
    let phone = common::device(&server, "w04");
    let old_place = common::place_in(&phone, "w04", "g04").id;
    common::visit(&phone, "w04", old_place);
    phone.sync(&mut |_| {}).unwrap();
    let before = phone.ops().unwrap().pop().unwrap();

    server.admin(&["user", "assign", "w04", "--org", "g05"]);
    phone.sync(&mut |_| {}).unwrap();
    common::after_now(&phone);
    let new_place = common::place_in(&phone, "w04", "g05").id;
    common::visit(&phone, "w04", new_place);
    phone.sync(&mut |_| {}).unwrap();
    let after = phone.ops().unwrap().pop().unwrap();

    // The next op of the device, dated before the reassignment, in the old grid.
    let OpBody::Patrol(p) = &before.body else {
        panic!("a visit")
    };
    let mut p = p.clone();
    p.id = uuid::Uuid::now_v7();
    let back_dated = Op {
        hlc: Hlc(before.hlc.0 + 1),
        ..next(&after, 1, OpBody::Patrol(p))
    };
    let token = common::login(
        &reqwest::blocking::Client::new(),
        &server.url,
        "w04",
        phone.device_id(),
    )
    .token;
    assert_eq!(
        common::push_codes(&server.url, &token, phone.device_id(), vec![back_dated]),
        ["clock_backwards"]
    );

    // Nor from a fresh device signed in after the reassignment.
    let fresh = uuid::Uuid::now_v7();
    let token = common::login(&reqwest::blocking::Client::new(), &server.url, "w04", fresh).token;
    let OpBody::Patrol(p) = &before.body else {
        panic!("a visit")
    };
    let mut p = p.clone();
    p.id = uuid::Uuid::now_v7();
    let from_fresh = Op {
        id: uuid::Uuid::now_v7(),
        device_id: fresh,
        seq: 1,
        hlc: Hlc::new(before.hlc.wall_ms() - 3_600_000, 0),
        body: OpBody::Patrol(p),
        ..before.clone()
    };
    assert_eq!(
        common::push_codes(&server.url, &token, fresh, vec![from_fresh]),
        ["before_sign_in"]
    );
}

#[test]
fn a_push_has_a_bound() {
    let server = Server::start(None, &[]);
    let phone = common::device(&server, "w01");
    report(&phone, "w01", "g01", "灭火器过期");
    let last = phone.ops().unwrap().pop().unwrap();
    let token = common::login(
        &reqwest::blocking::Client::new(),
        &server.url,
        "w01",
        phone.device_id(),
    )
    .token;
    let flood: Vec<Op> = (1..=2001)
        .map(|i| next(&last, i, last.body.clone()))
        .collect();
    let (status, body) = common::raw_push(&server.url, &token, phone.device_id(), flood);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("too_many_ops"), "{body}");
}

#[test]
fn a_far_future_op_the_log_held_before_the_bound_moves_no_clock_and_strands_nothing() {
    let mut server = Server::start(None, &[]);
    let phone = common::device(&server, "w01");
    let id = report(&phone, "w01", "g01", "灭火器过期");
    phone.sync(&mut |_| {}).unwrap();
    let last = phone.ops().unwrap().pop().unwrap();

    // As a server before issue 14 stored it: an op dated 2036, from another device.
    let _ = server.child.kill();
    let _ = server.child.wait();
    {
        let log = Store::open(server.dir.path().join("ops.db"), Clock::System).unwrap();
        let future = Op {
            device_id: uuid::Uuid::now_v7(),
            seq: 1,
            hlc: Hlc::new(Day(24_120).start_ms(), 0),
            ..next(
                &last,
                1,
                OpBody::Hazard {
                    hazard_id: id,
                    event: gridpatrol_core::hazard::HazardEvent::StartRectification {
                        note: String::new(),
                    },
                },
            )
        };
        log.apply_remote(&future).unwrap();
    }
    server.restart(&[]);

    // The phones that pull it record as of today, and their work arrives.
    let today = Day::from_ms(real_now());
    phone.sync(&mut |_| {}).unwrap();
    let visited = common::place_in(&phone, "w01", "g01").id;
    common::visit(&phone, "w01", visited);
    let outcome = phone.sync(&mut |_| {}).unwrap();
    assert_eq!((outcome.refused, phone.pending_ops().unwrap()), (0, 0));
    let mine = own_last(&phone);
    assert_eq!(mine.hlc.day(), today, "the visit is dated today");
    let leader = common::device(&server, "l01");
    report(&leader, "l01", "g01", "电动车室内充电");
    leader.sync(&mut |_| {}).unwrap();
    let theirs = own_last(&leader);
    assert_eq!(theirs.hlc.day(), today);
}

#[test]
fn a_clock_fast_then_fixed_offline_keeps_every_time_that_was_right() {
    let server = Server::start(None, &[]);
    let clock = Clock::manual(real_now());
    let phone = phone_with(&server, "fixed.db", "w01", clock.clone());
    let place = common::place_in(&phone, "w01", "g01").id;
    let other = common::place_in(&phone, "w01", "g02").id;
    let w01 = phone.actor("w01").unwrap();

    // Three days fast: a visit and a training logged on the phone's "today".
    clock.advance_ms(3 * MS_PER_DAY);
    common::visit(&phone, "w01", place);
    phone
        .log_activity(
            &w01,
            gridpatrol_core::activity::NewActivity {
                kind: gridpatrol_core::activity::ActivityKind::Publicity,
                org_id: "g01".into(),
                held_on: phone.today(),
                title: "消防宣传".into(),
                audience: 30,
                note: String::new(),
                channel: None,
                attendees: Vec::new(),
                photos: Vec::new(),
                trainees: Vec::new(),
                group_id: None,
            },
        )
        .unwrap();
    // The clock is put right, and another visit follows.
    clock.advance_ms(-3 * MS_PER_DAY);
    common::visit(&phone, "w01", other);
    let right = own_last(&phone);
    let OpBody::Patrol(right) = right.body else {
        panic!("the last op is the second visit")
    };

    let outcome = phone.sync(&mut |_| {}).unwrap();
    assert_eq!(
        (outcome.refused, phone.pending_ops().unwrap()),
        (0, 0),
        "nothing lost"
    );
    let today = Day::from_ms(real_now());
    let visits: Vec<_> = phone
        .ops()
        .unwrap()
        .into_iter()
        .filter_map(|o| match o.body {
            OpBody::Patrol(p) if p.worker_id == "w01" => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(visits.len(), 2);
    for v in &visits {
        assert_eq!(Day::from_ms(v.ended_at), today, "{v:?}");
        assert!(v.started_at <= v.ended_at);
    }
    let second = visits.iter().find(|v| v.id == right.id).unwrap();
    assert_eq!(
        (second.started_at, second.ended_at),
        (right.started_at, right.ended_at),
        "the visit made with the right clock keeps its times"
    );
    let activity = phone
        .ops()
        .unwrap()
        .into_iter()
        .find_map(|o| match o.body {
            OpBody::Activity(a) => Some(a),
            _ => None,
        })
        .unwrap();
    assert_eq!(activity.held_on, today);
}
