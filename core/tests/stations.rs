//! Stations, teams and committees: who keeps them, what falls due and for whom, drills and
//! meetings, and the figures against a hand count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dump, photo, town};
use gridpatrol_core::activity::{ActivityKind, NewActivity};

/// A village's station with three items, a team in g3 and the township's committee: what falls
/// due, who may check and drill, and the figures, counted by hand.
#[test]
fn stations_fall_due_and_count_by_hand() {
    use gridpatrol_core::registers::group::{Equipment, Group, GroupKind, ItemCheck, Member};
    let t = town();
    let s = &t.store;
    let (w1, w3, l1, l2, o1) = (
        t.actor("w1"),
        t.actor("w3"),
        t.actor("l1"),
        t.actor("l2"),
        t.actor("o1"),
    );
    let item = |key: &str, every| Equipment {
        key: key.into(),
        kind: format!("器材{key}"),
        count: 2,
        check_every_days: every,
        expires_on: None,
    };
    let group = |kind, org: &str, equipment| Group {
        id: uuid::Uuid::now_v7(),
        kind,
        org_id: org.into(),
        name: "东沟村微型消防站".into(),
        members: vec![
            Member {
                name: "站长".into(),
                user_id: Some("l1".into()),
                duty: "站长".into(),
            },
            Member {
                name: "队员".into(),
                user_id: None,
                duty: String::new(),
            },
        ],
        roster: "每日值班".into(),
        equipment,
        active: true,
    };
    let before = dump(s);
    // A worker keeps no station; a leader none of another village; a committee no equipment;
    // an item's cycle is 1 to 366 days; a member's account must exist.
    assert!(s
        .put_group(&w1, group(GroupKind::MicroStation, "v1", vec![]))
        .is_err());
    assert!(s
        .put_group(&l2, group(GroupKind::MicroStation, "v1", vec![]))
        .is_err());
    assert!(s
        .put_group(
            &o1,
            group(GroupKind::SafetyCommittee, "t1", vec![item("a", 30)])
        )
        .is_err());
    assert!(s
        .put_group(
            &l1,
            group(GroupKind::MicroStation, "v1", vec![item("a", 0)])
        )
        .is_err());
    let mut ghost = group(GroupKind::MicroStation, "v1", vec![]);
    ghost.members[1].user_id = Some("nobody".into());
    assert!(s.put_group(&l1, ghost).is_err());
    assert_eq!(dump(s), before);

    let station = s
        .put_group(
            &l1,
            group(
                GroupKind::MicroStation,
                "v1",
                vec![item("ext", 30), item("hose", 90), item("pump", 7)],
            ),
        )
        .unwrap();
    let team = s
        .put_group(
            &o1,
            group(
                GroupKind::VolunteerTeam,
                "g3",
                vec![Equipment {
                    expires_on: Some(s.today().plus(-1)),
                    ..item("ext", 30)
                }],
            ),
        )
        .unwrap();
    s.put_group(&o1, group(GroupKind::SafetyCommittee, "t1", vec![]))
        .unwrap();
    // Never checked: all four items are due today.
    assert_eq!(s.equipment_due("t1", s.today()).unwrap().len(), 4);
    // l1 checks the station's extinguishers and pump; a check of an item it does not list, or
    // by the worker of g1 (the station is the whole village's), is refused.
    let ok = |key: &str| ItemCheck {
        key: key.into(),
        ok: true,
        note: String::new(),
    };
    assert!(s
        .check_equipment(&l1, station, s.today(), vec![ok("nope")], vec![])
        .is_err());
    assert!(s
        .check_equipment(&w1, station, s.today(), vec![ok("ext")], vec![])
        .is_err());
    assert!(s
        .check_equipment(&l1, station, s.today().plus(1), vec![ok("ext")], vec![])
        .is_err());
    s.check_equipment(
        &l1,
        station,
        s.today(),
        vec![ok("ext"), ok("pump")],
        vec![photo(3)],
    )
    .unwrap();
    // w3 checks the team of their own grid.
    s.check_equipment(&w3, team, s.today(), vec![ok("ext")], vec![])
        .unwrap();
    let due: Vec<String> = s
        .equipment_due("t1", s.today())
        .unwrap()
        .iter()
        .map(|i| i.item.key.clone())
        .collect();
    assert_eq!(due, vec!["hose"], "only the never-checked hose is due");
    // A hose found torn stays due until a check finds it in order.
    let torn = ItemCheck {
        key: "hose".into(),
        ok: false,
        note: "破损".into(),
    };
    s.check_equipment(&l1, station, s.today(), vec![torn], vec![])
        .unwrap();
    let due = s.equipment_due("v1", s.today()).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].last_ok, Some(false));
    // A week on, the pump (every 7 days) is due again; l1's reminders say two items.
    t.advance_days(7);
    assert_eq!(s.equipment_due("v1", s.today()).unwrap().len(), 2);
    assert_eq!(s.equipment_due_for(&l1).unwrap().len(), 2);
    assert!(
        s.equipment_due_for(&w1).unwrap().is_empty(),
        "not the g1 worker's to check"
    );
    let r = s.reminders(&l1).unwrap();
    assert_eq!(r.equipment_due, 2);
    assert!(r.summary_zh().unwrap().contains("消防站器材待检查 2 项"));

    // A drill by the station, a meeting of the committee; a drill by a committee, or logged
    // for another area, or a meeting by a worker, is refused.
    let held = |who, kind, org: &str, group| {
        s.log_activity(
            who,
            NewActivity {
                kind,
                org_id: org.into(),
                held_on: s.today(),
                title: "演练".into(),
                audience: 6,
                note: String::new(),
                channel: None,
                attendees: vec!["队员".into()],
                photos: Vec::new(),
                trainees: Vec::new(),
                group_id: group,
            },
        )
    };
    held(&l1, ActivityKind::Drill, "v1", Some(station)).unwrap();
    assert!(held(&l1, ActivityKind::Drill, "v1", None).is_err());
    assert!(held(&o1, ActivityKind::Drill, "t1", Some(station)).is_err());
    assert!(held(&w3, ActivityKind::Meeting, "g3", Some(team)).is_err());
    let committee = s
        .groups("t1")
        .unwrap()
        .into_iter()
        .find(|g| g.kind == GroupKind::SafetyCommittee)
        .unwrap();
    assert!(held(&o1, ActivityKind::Drill, "t1", Some(committee.id)).is_err());
    held(&o1, ActivityKind::Meeting, "t1", Some(committee.id)).unwrap();

    let r = s.report("t1", s.today().plus(-30), s.today()).unwrap();
    let g = &r.groups;
    assert_eq!(
        (g.micro_stations, g.volunteer_teams, g.committees),
        (1, 1, 1)
    );
    assert_eq!(
        (g.members, g.equipment_items, g.equipment_expired),
        (4, 4, 1)
    );
    assert_eq!(g.equipment_due, 2, "the hose and the pump");
    assert_eq!((g.drills, g.drill_attendance, g.meetings), (1, 6, 1));
    // Drills and meetings are not training.
    assert_eq!(r.training_events, 0);
    assert!(r.to_text().contains("器材待检查 equipment due: 2 / 4"));
}
