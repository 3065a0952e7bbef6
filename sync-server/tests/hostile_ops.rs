//! The server as a hostile or broken phone would try it with the ops it pushes (issue 14): the
//! server judges each against the records it holds, so a forged op changes nothing stored and
//! reaches no other phone, and an honest phone's work still arrives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{device_at, forged, login, Browser, Server};
use gridpatrol_core::hazard::{HazardEvent, HazardReport, NewHazard, Severity};
use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::{Clock, Day, Store};

/// A token for `phone`'s own device, as a modified app on it would hold.
fn token_of(url: &str, phone: &Store, user: &str) -> String {
    login(
        &reqwest::blocking::Client::new(),
        url,
        user,
        phone.device_id(),
    )
    .token
}

common::on_both_backends!(
    a_phone_cannot_say_where_a_record_belongs_or_replace_one_sqlite,
    a_phone_cannot_say_where_a_record_belongs_or_replace_one_postgres,
    claims_are_judged
);

fn claims_are_judged(database: Option<String>) {
    let server = Server::start(database, &[]);
    let phone = common::device(&server, "w01");
    let w = phone.actor("w01").unwrap();
    let mine = common::place_in(&phone, "w01", "g01");
    let id = phone
        .report_hazard(
            &w,
            NewHazard::new(mine.id, "extinguisher", Severity::General, "灭火器过期"),
        )
        .unwrap();
    phone.sync(&mut |_| {}).unwrap();
    // The phone's own report (the server's number for the case came back with the sync).
    let honest = phone
        .ops()
        .unwrap()
        .into_iter()
        .rev()
        .find(|o| o.device_id == phone.device_id())
        .unwrap();
    let OpBody::Hazard {
        event: HazardEvent::Report(report),
        ..
    } = &honest.body
    else {
        panic!("the last op is the report")
    };
    let token = token_of(&server.url, &phone, "w01");
    let report_with = |change: &dyn Fn(&mut HazardReport)| {
        let mut r = report.clone();
        change(&mut r);
        OpBody::Hazard {
            hazard_id: uuid::Uuid::now_v7(),
            event: HazardEvent::Report(r),
        }
    };
    let o01 = Store::open(server.dir.path().join("o.db"), Clock::System).unwrap();
    o01.sign_in(&server.url, "o01", "gridpatrol").unwrap();
    o01.sync(&mut |_| {}).unwrap();
    let elsewhere = common::place_in(&o01, "o01", "g05");
    let checklist = gridpatrol_core::checklist::library()
        .place_type(&mine.place_type)
        .unwrap()
        .template
        .clone();
    let visit = |worker: &str, template: &str| {
        OpBody::Patrol(gridpatrol_core::patrol::PatrolRecord {
            id: uuid::Uuid::now_v7(),
            place_id: mine.id,
            grid_id: mine.grid_id.clone(),
            worker_id: worker.into(),
            template_id: template.into(),
            template_version: 1,
            started_at: honest.hlc.wall_ms() - 60_000,
            ended_at: honest.hlc.wall_ms(),
            gps: Default::default(),
            answers: vec![gridpatrol_core::patrol::Answer {
                key: "extinguisher".into(),
                value: gridpatrol_core::checklist::AnswerValue::NotApplicable,
                failed: false,
            }],
            note: String::new(),
        })
    };

    let ops = vec![
        // A place of another village, with w01's own grid claimed for it.
        forged(&honest, 100, report_with(&|r| r.place_id = elsewhere.id)),
        // A place nobody has.
        forged(
            &honest,
            101,
            report_with(&|r| r.place_id = uuid::Uuid::now_v7()),
        ),
        // The right place and grid, planted in another village's figures.
        forged(&honest, 102, report_with(&|r| r.village_id = "v02".into())),
        // Another place type, so other rules and figures apply.
        forged(
            &honest,
            103,
            report_with(&|r| r.place_type = "factory".into()),
        ),
        // The existing case again under a new op, with an earlier HLC and a major severity.
        Op {
            hlc: gridpatrol_core::Hlc(honest.hlc.0 - 1_000_000),
            ..forged(
                &honest,
                104,
                OpBody::Hazard {
                    hazard_id: id,
                    event: HazardEvent::Report(Box::new(HazardReport {
                        severity: Severity::Major,
                        ..(**report).clone()
                    })),
                },
            )
        },
        // The existing place again under a new op, renamed and moved, with an earlier HLC.
        Op {
            hlc: gridpatrol_core::Hlc(honest.hlc.0 - 1_000_000),
            ..forged(
                &honest,
                105,
                OpBody::PlaceCreate(gridpatrol_core::place::Place {
                    name: "冒名场所".into(),
                    grid_id: "g02".into(),
                    ..mine.clone()
                }),
            )
        },
        // A visit credited to a colleague, and one by a checklist nobody has.
        forged(&honest, 106, visit("w05", &checklist)),
        forged(&honest, 107, visit("w01", "no_such_list")),
        // A report under an id no phone makes (a name-based one, as an import's places have).
        forged(
            &honest,
            108,
            OpBody::Hazard {
                hazard_id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, b"taken"),
                event: HazardEvent::Report(report.clone()),
            },
        ),
        // A hazard from a checklist item that asks for a photo when it fails, with none.
        forged(&honest, 109, {
            let lib = gridpatrol_core::checklist::library();
            let template = lib.templates.iter().find(|t| t.id == checklist).unwrap();
            let item = template.items.iter().find(|i| i.photo_on_fail).unwrap();
            let mut r = (**report).clone();
            r.photos.clear();
            r.category = item.category.clone();
            r.source = Some(gridpatrol_core::hazard::HazardSource {
                patrol_id: uuid::Uuid::now_v7(),
                template_id: template.id.clone(),
                template_version: template.version,
                item_key: item.key.clone(),
            });
            OpBody::Hazard {
                hazard_id: uuid::Uuid::now_v7(),
                event: HazardEvent::Report(Box::new(r)),
            }
        }),
        // A deadline far past what a grid worker may give (a month).
        forged(
            &honest,
            110,
            OpBody::Hazard {
                hazard_id: id,
                event: HazardEvent::Notify {
                    responsible_party: "店主".into(),
                    deadline: "2099-12-31".parse().unwrap(),
                    note: String::new(),
                },
            },
        ),
        // A case number of the phone's own choosing: numbers are the server's to give.
        forged(
            &honest,
            111,
            OpBody::Hazard {
                hazard_id: id,
                event: HazardEvent::CaseNumber {
                    number: "FAKE-1".into(),
                },
            },
        ),
    ];
    assert_eq!(
        common::push_codes(&server.url, &token, phone.device_id(), ops),
        [
            "not_as_recorded",
            "no_such_place",
            "not_as_recorded",
            "not_as_recorded",
            "already_exists",
            "already_exists",
            "actor_mismatch",
            "not_as_recorded",
            "not_as_recorded",
            "invalid_input",
            "invalid_input",
            "role_not_allowed"
        ]
    );
    o01.sync(&mut |_| {}).unwrap();
    let case = o01.hazard(id).unwrap().hazard;
    assert_eq!(
        case.report.severity,
        Severity::General,
        "the case is as reported"
    );
    let Some(number) = case.case_number else {
        panic!("the server numbers every case")
    };
    assert!(number.starts_with("T01-"), "{number}");
    assert_eq!(
        o01.hazards(&o01.actor("o01").unwrap(), None).unwrap().len(),
        1
    );
    let place = o01.place(mine.id).unwrap().place;
    assert_eq!((place.name, place.grid_id), (mine.name, mine.grid_id));
}

#[test]
fn a_visit_dated_a_hundred_million_years_ago_breaks_no_phone() {
    let server = Server::start(None, &[]);
    let phone = common::device(&server, "w01");
    let place = common::place_in(&phone, "w01", "g01");
    common::visit(&phone, "w01", place.id);
    let honest = phone.ops().unwrap().pop().unwrap();
    let OpBody::Patrol(visit) = &honest.body else {
        panic!("the last op is the visit")
    };
    // At a place nobody has visited, so it is the place's last visit.
    let w = phone.actor("w01").unwrap();
    let unvisited = phone
        .places(&w)
        .unwrap()
        .into_iter()
        .find(|p| p.place.grid_id == "g01" && p.place.id != place.id)
        .unwrap()
        .place;
    let mut ancient = visit.clone();
    ancient.id = uuid::Uuid::now_v7();
    ancient.place_id = unvisited.id;
    ancient.started_at = -100_000_000_000_000_000;
    ancient.ended_at = -100_000_000_000_000_000;
    let token = token_of(&server.url, &phone, "w01");
    let op = forged(&honest, 100, OpBody::Patrol(ancient));
    common::push_codes(&server.url, &token, phone.device_id(), vec![op]);

    // Another phone of the same worker, and the township, read it back and go on working.
    let dir = tempfile::tempdir().unwrap();
    let other = device_at(dir.path(), "w01b.db", &server.url, "w01");
    let due = other.due_patrols(&w).unwrap();
    assert!(serde_json::to_string(&due)
        .unwrap()
        .contains(&unvisited.id.to_string()));
    let o01 = device_at(dir.path(), "o01.db", &server.url, "o01");
    let today = o01.today();
    o01.report("t01", Day::from_ms(0), today).unwrap();
}

#[test]
fn an_audience_of_billions_leaves_the_township_figures_working() {
    use gridpatrol_core::activity::{ActivityKind, NewActivity};
    let server = Server::start(None, &[]);
    let phone = common::device(&server, "w01");
    let w = phone.actor("w01").unwrap();
    phone
        .log_activity(
            &w,
            NewActivity {
                kind: ActivityKind::Publicity,
                org_id: "g01".into(),
                held_on: phone.today(),
                title: "入户宣传".into(),
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
    let honest = phone.ops().unwrap().pop().unwrap();
    let OpBody::Activity(activity) = &honest.body else {
        panic!("the last op is the activity")
    };
    let huge = |bump: i64| {
        let mut a = activity.clone();
        a.id = uuid::Uuid::now_v7();
        a.audience = 4_000_000_000;
        forged(&honest, bump, OpBody::Activity(a))
    };
    let token = token_of(&server.url, &phone, "w01");
    common::push_codes(
        &server.url,
        &token,
        phone.device_id(),
        vec![huge(100), huge(101)],
    );

    let officer = Browser::sign_in(&server, "o01");
    for page in ["/console/", "/console/annual", "/console/export/annual"] {
        assert_eq!(officer.get(page).status(), 200, "{page}");
    }
}

#[test]
fn what_a_phone_would_refuse_to_record_the_server_refuses_to_store() {
    let server = Server::start(None, &[]);
    let phone = common::device(&server, "w01");
    let w = phone.actor("w01").unwrap();
    let place = common::place_in(&phone, "w01", "g01");
    let id = phone
        .report_hazard(
            &w,
            NewHazard::new(place.id, "extinguisher", Severity::General, "灭火器过期"),
        )
        .unwrap();
    let honest = phone.ops().unwrap().pop().unwrap();
    let OpBody::Hazard {
        event: HazardEvent::Report(report),
        ..
    } = &honest.body
    else {
        panic!("the last op is the report")
    };
    phone.sync(&mut |_| {}).unwrap();
    let long = "长".repeat(1_000_000);
    let huge_report = OpBody::Hazard {
        hazard_id: uuid::Uuid::now_v7(),
        event: HazardEvent::Report(Box::new(HazardReport {
            description: long,
            ..(**report).clone()
        })),
    };
    let huge_note = OpBody::Hazard {
        hazard_id: id,
        event: HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: phone.today().plus(3),
            note: "长".repeat(10_000),
        },
    };
    let huge_place = OpBody::PlaceCreate(gridpatrol_core::place::Place {
        id: uuid::Uuid::now_v7(),
        name: "长".repeat(10_000),
        ..place.clone()
    });
    let token = token_of(&server.url, &phone, "w01");
    let codes = common::push_codes(
        &server.url,
        &token,
        phone.device_id(),
        vec![
            forged(&honest, 100, huge_report),
            forged(&honest, 101, huge_note),
            forged(&honest, 102, huge_place),
        ],
    );
    assert_eq!(codes, ["invalid_input", "invalid_input", "invalid_input"]);
    // Nothing of it reached the log: another phone sees the one honest case, as reported.
    let dir = tempfile::tempdir().unwrap();
    let other = device_at(dir.path(), "w01b.db", &server.url, "w01");
    let cases = other.hazards(&w, None).unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(
        other.places(&w).unwrap().len(),
        phone.places(&w).unwrap().len()
    );
    assert_eq!(other.hazard(id).unwrap().hazard.status.code(), "reported");
}
