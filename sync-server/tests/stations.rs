//! Stations, teams and committees through a real server (issue 18): kept on a leader's phone,
//! their equipment checked and drilled, reviewed in the console, counted on the annual page and
//! exported; and what a worker or a modified phone may not do with them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::registers::{annual, last_own_op, number, token_of, xlsx_rows};
use common::{forged, push_codes, Browser, Server};
use gridpatrol_core::activity::{ActivityKind, NewActivity, Trainee};
use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::registers::group::{Equipment, Group, GroupKind, ItemCheck, Member};

common::on_both_backends!(
    a_station_is_kept_on_the_leaders_phone_checked_and_exported_sqlite,
    a_station_is_kept_on_the_leaders_phone_checked_and_exported_postgres,
    station_on_the_phone
);

fn station_on_the_phone(database: Option<String>) {
    let server = Server::start(database, &[]);
    let officer = Browser::sign_in(&server, "o01");
    let before = annual(&officer);
    let leader = common::device(&server, "l02");
    let l02 = leader.actor("l02").unwrap();
    let station = Group {
        id: uuid::Uuid::now_v7(),
        kind: GroupKind::MicroStation,
        org_id: "v02".into(),
        name: "测试村微型消防站".into(),
        members: vec![Member {
            name: "站长甲".into(),
            user_id: Some("l02".into()),
            duty: "站长".into(),
        }],
        roster: "每日轮流值班".into(),
        equipment: vec![
            Equipment {
                key: "ext".into(),
                kind: "测试灭火器".into(),
                count: 12,
                check_every_days: 30,
                expires_on: None,
            },
            Equipment {
                key: "hose".into(),
                kind: "测试水带".into(),
                count: 3,
                check_every_days: 90,
                expires_on: None,
            },
        ],
        active: true,
    };
    let id = leader.put_group(&l02, station.clone()).unwrap();
    let due_before = leader
        .equipment_due_for(&l02)
        .unwrap()
        .iter()
        .filter(|i| i.group_id == id)
        .count();
    assert_eq!(due_before, 2, "never checked: both due");
    leader
        .check_equipment(
            &l02,
            id,
            leader.today(),
            vec![ItemCheck {
                key: "ext".into(),
                ok: false,
                note: "压力不足".into(),
            }],
            vec![],
        )
        .unwrap();
    leader
        .log_activity(
            &l02,
            NewActivity {
                kind: ActivityKind::Drill,
                org_id: "v02".into(),
                held_on: leader.today(),
                title: "灭火器实操演练".into(),
                audience: 8,
                note: String::new(),
                channel: None,
                attendees: vec!["站长甲".into()],
                photos: Vec::new(),
                trainees: Vec::new(),
                group_id: Some(id),
            },
        )
        .unwrap();
    // The village's leading group, and its meeting with minutes.
    let committee = leader
        .put_group(
            &l02,
            Group {
                id: uuid::Uuid::now_v7(),
                kind: GroupKind::LeadingGroup,
                name: "测试村消防安全领导小组".into(),
                equipment: Vec::new(),
                roster: String::new(),
                ..station.clone()
            },
        )
        .unwrap();
    leader
        .log_activity(
            &l02,
            NewActivity {
                kind: ActivityKind::Meeting,
                org_id: "v02".into(),
                held_on: leader.today(),
                title: "冬季防火工作部署会".into(),
                audience: 5,
                note: "会议纪要：落实冬季防火巡查".into(),
                channel: None,
                attendees: vec!["站长甲".into()],
                photos: Vec::new(),
                trainees: Vec::new(),
                group_id: Some(committee),
            },
        )
        .unwrap();
    leader.sync(&mut |_| {}).unwrap();

    // The annual page: one more station, one more drill, both items still due (the hose never
    // checked, the extinguishers found wanting).
    let after = annual(&officer);
    for (heading, by) in [
        ("微型消防站", 1),
        ("消防演练次数", 1),
        ("器材待检查（项）", 2),
    ] {
        assert_eq!(
            number(&after, heading),
            number(&before, heading) + by,
            "{heading}"
        );
    }
    // The console lists the station and the hose as due; the ledger has both items.
    let page = officer.page("/console/registers?scope=v02");
    assert!(page.contains("测试村微型消防站") && page.contains("每日轮流值班"));
    assert!(page.contains("测试村消防安全领导小组"));
    let res = officer.get(&format!(
        "/console/export/ledger?ledger=activities&scope=v02&from={}&to={}&format=xlsx",
        common::in_days(-1),
        common::in_days(0)
    ));
    let rows = xlsx_rows(&res.bytes().unwrap(), "宣传培训台账");
    assert!(rows
        .iter()
        .any(|r| r.contains(&"会议".to_string()) && r.iter().any(|c| c.contains("会议纪要"))));
    assert!(rows.iter().any(|r| r.contains(&"消防演练".to_string())));
    let due = page.split("今日待检查的器材").nth(1).unwrap();
    assert!(
        due.contains("测试水带") && due.contains("测试灭火器") && due.contains("损坏或缺失"),
        "the hose never checked, the extinguishers found wanting: both due"
    );
    let res = officer.get("/console/export/ledger?ledger=stations&scope=v02&format=xlsx");
    assert_eq!(res.status(), 200);
    let rows = xlsx_rows(&res.bytes().unwrap(), "消防站器材台账");
    let ext = rows
        .iter()
        .find(|r| r.contains(&"测试灭火器".to_string()))
        .expect("the extinguishers");
    assert!(ext.contains(&"损坏或缺失".to_string()), "{ext:?}");
    assert!(rows
        .iter()
        .any(|r| r.contains(&"测试水带".to_string()) && r.contains(&"未检查".to_string())));

    // Who may: a worker's phone keeps no station; a worker of another village receives none;
    // what a modified phone pushes is refused.
    let worker = common::device(&server, "w01");
    let w01 = worker.actor("w01").unwrap();
    assert!(worker
        .put_group(
            &w01,
            Group {
                id: uuid::Uuid::now_v7(),
                org_id: "g01".into(),
                ..station.clone()
            }
        )
        .is_err());
    assert!(
        worker.groups("t01").is_err() || worker.groups("t01").unwrap().iter().all(|g| g.id != id)
    );
    let honest = last_own_op(&leader);
    let token = token_of(&server, &leader, "l02");
    let forged_ops: Vec<Op> = vec![
        // The station moved to a village the leader does not lead.
        OpBody::Group(Group {
            org_id: "v01".into(),
            ..station.clone()
        }),
        // The station moved to an area that does not exist (it would reach no one's scope,
        // or everyone's).
        OpBody::Group(Group {
            org_id: "zzz".into(),
            ..station.clone()
        }),
        // A check of an item the station does not list: stored (the list may have been retyped
        // since an honest check was made offline) but never read as an item of the station.
        OpBody::EquipmentCheck(gridpatrol_core::registers::group::EquipmentCheck {
            id: uuid::Uuid::now_v7(),
            group_id: id,
            checked_on: leader.today(),
            items: vec![ItemCheck {
                key: "ladder".into(),
                ok: true,
                note: String::new(),
            }],
            photos: Vec::new(),
        }),
        // A check of a station that does not exist.
        OpBody::EquipmentCheck(gridpatrol_core::registers::group::EquipmentCheck {
            id: uuid::Uuid::now_v7(),
            group_id: uuid::Uuid::now_v7(),
            checked_on: leader.today(),
            items: vec![ItemCheck {
                key: "ext".into(),
                ok: true,
                note: String::new(),
            }],
            photos: Vec::new(),
        }),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, b)| forged(&honest, 10 + i as i64, b))
    .collect();
    let codes = push_codes(&server.url, &token, leader.device_id(), forged_ops);
    assert_eq!(
        codes,
        ["out_of_scope", "not_as_recorded", "", "not_as_recorded"]
    );

    // A worker's phone holds no meeting, and a training naming an account the server does not
    // know is refused.
    common::visit(&worker, "w01", common::place_in(&worker, "w01", "g01").id);
    worker.sync(&mut |_| {}).unwrap();
    let honest = last_own_op(&leader);
    let meeting = |by: &Op, f: &dyn Fn(&mut gridpatrol_core::activity::Activity)| {
        let OpBody::Activity(a) = leader
            .ops()
            .unwrap()
            .into_iter()
            .rev()
            .find_map(|o| match o.body {
                OpBody::Activity(a) if a.kind == ActivityKind::Meeting => Some(OpBody::Activity(a)),
                _ => None,
            })
            .unwrap()
        else {
            unreachable!()
        };
        let mut a = a;
        a.id = uuid::Uuid::now_v7();
        f(&mut a);
        forged(by, 20, OpBody::Activity(a))
    };
    let bogus = meeting(&honest, &|a| {
        a.kind = ActivityKind::Training;
        a.group_id = None;
        a.trainees = vec![Trainee {
            user_id: "nobody".into(),
            passed: Some(true),
        }];
    });
    let codes = push_codes(&server.url, &token, leader.device_id(), vec![bogus]);
    assert_eq!(codes, ["not_as_recorded"]);
    let worker_meeting = {
        let mine = last_own_op(&worker);
        let mut op = meeting(&mine, &|a| {
            a.org_id = "g01".into();
            a.group_id = Some(id);
        });
        op.actor_id = "w01".into();
        op.actor_role = gridpatrol_core::org::Role::GridWorker;
        op
    };
    let token = token_of(&server, &worker, "w01");
    let codes = push_codes(
        &server.url,
        &token,
        worker.device_id(),
        vec![worker_meeting],
    );
    assert!(
        codes[0] == "role_not_allowed" || codes[0] == "not_as_recorded",
        "{codes:?}"
    );
    let page = officer.page("/console/registers?scope=t01");
    assert!(!page.contains("ladder"));
}
