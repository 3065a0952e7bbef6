//! Keeping a township current, as a hostile phone would try it (issue 15): a grid worker's
//! phone registers places but cannot confirm, move or re-rate them, and nobody but a township
//! officer starts a campaign; what the office does from its own phone reaches the workers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{forged, login, Server};
use gridpatrol_core::campaign::Campaign;
use gridpatrol_core::op::OpBody;
use gridpatrol_core::place::{NewPlace, PlaceChanges, RiskLevel};
use gridpatrol_core::{Day, Store};

fn token(url: &str, phone: &Store, user: &str) -> String {
    login(
        &reqwest::blocking::Client::new(),
        url,
        user,
        phone.device_id(),
    )
    .token
}

common::on_both_backends!(
    only_the_office_confirms_moves_and_runs_campaigns_sqlite,
    only_the_office_confirms_moves_and_runs_campaigns_postgres,
    office_rights_are_judged
);

fn office_rights_are_judged(database: Option<String>) {
    let server = Server::start(database, &[]);
    let worker = common::device(&server, "w01");
    let w = worker.actor("w01").unwrap();
    let found = worker
        .create_place(
            &w,
            NewPlace {
                place_type: "rental_house".into(),
                name: "巡查新发现出租屋".into(),
                address: "东沟村 9 号".into(),
                location: None,
                grid_id: "g01".into(),
                responsible_name: "赵某".into(),
                responsible_phone: None,
                risk_level: RiskLevel::Medium,
                patrol_every_days: None,
            },
        )
        .unwrap();
    worker.sync(&mut |_| {}).unwrap();
    let honest = worker.ops().unwrap().pop().unwrap();
    let change = |c: PlaceChanges| {
        OpBody::PlaceUpdate(PlaceChanges {
            place_id: found,
            ..c
        })
    };
    let today = Day::from_ms(honest.hlc.wall_ms());
    let campaign = Campaign {
        id: uuid::Uuid::now_v7(),
        township_id: "t01".into(),
        name: "冬春火灾防控".into(),
        starts_on: today,
        ends_on: today.plus(30),
        place_types: vec!["rental_house".into()],
        focus_items: vec!["no_ebike_indoor".into()],
        note: String::new(),
        active: true,
    };
    let ops = vec![
        forged(
            &honest,
            1,
            change(PlaceChanges {
                confirmed: Some(true),
                ..Default::default()
            }),
        ),
        // g02 is w01's too: the move is refused for who makes it, not where it goes.
        forged(
            &honest,
            2,
            change(PlaceChanges {
                grid_id: Some("g02".into()),
                ..Default::default()
            }),
        ),
        forged(
            &honest,
            3,
            change(PlaceChanges {
                risk_level: Some(RiskLevel::Low),
                ..Default::default()
            }),
        ),
        forged(&honest, 4, OpBody::Campaign(campaign.clone())),
        // A new place already archived, or on a cycle of the worker's choosing.
        forged(
            &honest,
            5,
            OpBody::PlaceCreate(gridpatrol_core::place::Place {
                id: uuid::Uuid::now_v7(),
                archived: true,
                ..worker.place(found).unwrap().place
            }),
        ),
        forged(
            &honest,
            6,
            OpBody::PlaceCreate(gridpatrol_core::place::Place {
                id: uuid::Uuid::now_v7(),
                patrol_every_days: Some(365),
                ..worker.place(found).unwrap().place
            }),
        ),
    ];
    let t = token(&server.url, &worker, "w01");
    assert_eq!(
        common::push_codes(&server.url, &t, worker.device_id(), ops),
        ["role_not_allowed"; 6]
    );

    // A leader's phone cannot start a campaign either; an officer's can, for its township only.
    let leader = common::device(&server, "l01");
    let l = leader.actor("l01").unwrap();
    assert_eq!(
        leader
            .put_campaign(&l, campaign.clone())
            .unwrap_err()
            .code(),
        "role_not_allowed"
    );
    let office = common::device(&server, "o01");
    let o = office.actor("o01").unwrap();
    assert!(
        office.place(found).unwrap().pending,
        "新增 on the office's phone"
    );
    office
        .update_place(
            &o,
            PlaceChanges {
                place_id: found,
                confirmed: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    office.put_campaign(&o, campaign.clone()).unwrap();
    let report = office.sync(&mut |_| {}).unwrap();
    assert_eq!((report.pushed, report.refused), (2, 0));
    let last = office.ops().unwrap().pop().unwrap();
    let elsewhere = Campaign {
        id: uuid::Uuid::now_v7(),
        township_id: "t99".into(),
        ..campaign.clone()
    };
    let t = token(&server.url, &office, "o01");
    // Nor for a village, nor the county, which would hide it from every township's list.
    let named = |t: &str| Campaign {
        id: uuid::Uuid::now_v7(),
        township_id: t.into(),
        ..campaign.clone()
    };
    let codes = common::push_codes(
        &server.url,
        &t,
        office.device_id(),
        vec![
            forged(&last, 1, OpBody::Campaign(elsewhere)),
            forged(&last, 2, OpBody::Campaign(named("v01"))),
            forged(&last, 3, OpBody::Campaign(named("c01"))),
        ],
    );
    assert_eq!(codes, ["out_of_scope"; 3]);

    // The worker's phone: the place confirmed, as recorded, and the campaign's focus item on
    // its patrol.
    worker.sync(&mut |_| {}).unwrap();
    let row = worker.place(found).unwrap();
    assert!(!row.pending);
    assert_eq!(
        (row.place.grid_id.as_str(), row.place.risk_level),
        ("g01", RiskLevel::Medium)
    );
    assert!(worker
        .patrol_form(found)
        .unwrap()
        .focus_items
        .contains(&"no_ebike_indoor".to_string()));
}
