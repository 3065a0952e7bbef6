//! The registers beside patrols and hazards (fires, signed letters, trained grid workers):
//! who may record them, what is refused and leaves nothing behind, and the report's figures
//! against a hand count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dump, photo, town, T0};
use gridpatrol_core::activity::{ActivityKind, NewActivity, Trainee};
use gridpatrol_core::clock::{Day, MS_PER_DAY};
use gridpatrol_core::hazard::{NewHazard, Severity};
use gridpatrol_core::registers::fire::{FireCause, NewFire};
use gridpatrol_core::registers::letter::{LetterKind, NewLetter};
use gridpatrol_core::Error;

fn fire(grid: &str, place: Option<uuid::Uuid>, at: i64, cause: FireCause) -> NewFire {
    NewFire {
        grid_id: grid.into(),
        place_id: place,
        address: if place.is_some() {
            String::new()
        } else {
            "村东麦场".into()
        },
        occurred_at: at,
        cause,
        deaths: 0,
        injuries: 0,
        loss_yuan: 0,
        brigade_attended: false,
        note: String::new(),
        photos: Vec::new(),
    }
}

fn letter(
    kind: LetterKind,
    place: Option<uuid::Uuid>,
    village: Option<&str>,
    on: Day,
) -> NewLetter {
    NewLetter {
        kind,
        place_id: place,
        village_id: village.map(Into::into),
        signed_on: on,
        signed_by: "店主".into(),
        note: String::new(),
        photos: vec![photo(7)],
    }
}

#[test]
fn who_may_record_a_fire_or_a_letter() {
    let t = town();
    let s = &t.store;
    let at = T0 - 3_600_000;
    let (w1, l1, l2, o1, b1) = (
        t.actor("w1"),
        t.actor("l1"),
        t.actor("l2"),
        t.actor("o1"),
        t.actor("b1"),
    );
    let before = dump(s);
    // A grid worker records no fire; a leader none outside the village; nobody a fire in a
    // village or at a place of another grid.
    for (who, new) in [
        (&w1, fire("g1", None, at, FireCause::Electrical)),
        (&l2, fire("g1", None, at, FireCause::Electrical)),
        (&o1, fire("v1", None, at, FireCause::Electrical)),
        (&o1, fire("g3", Some(t.place_g1), at, FireCause::Electrical)),
    ] {
        assert!(s.record_fire(who, new).is_err());
    }
    // A pact is the village's: not a grid worker's, and only for a village.
    assert!(s
        .record_letter(
            &w1,
            letter(LetterKind::VillagePact, None, Some("v1"), s.today())
        )
        .is_err());
    assert!(s
        .record_letter(
            &o1,
            letter(LetterKind::VillagePact, None, Some("g1"), s.today())
        )
        .is_err());
    // A worker collects no letter of a place outside their grids.
    assert!(s
        .record_letter(
            &w1,
            letter(
                LetterKind::Responsibility,
                Some(t.place_g3),
                None,
                s.today()
            )
        )
        .is_err());
    assert_eq!(dump(s), before, "a refused record leaves nothing behind");

    s.record_fire(&l1, fire("g1", Some(t.place_g1), at, FireCause::Smoking))
        .unwrap();
    s.record_fire(&o1, fire("g3", None, at, FireCause::Other))
        .unwrap();
    s.record_fire(&b1, fire("g2", None, at, FireCause::Unknown))
        .unwrap();
    s.record_letter(
        &w1,
        letter(
            LetterKind::Responsibility,
            Some(t.place_g1),
            None,
            s.today(),
        ),
    )
    .unwrap();
    s.record_letter(
        &l1,
        letter(LetterKind::VillagePact, None, Some("v1"), s.today()),
    )
    .unwrap();
    let fires = s.fires("t1", s.today().plus(-1), s.today()).unwrap();
    assert_eq!(fires.len(), 3);
    // A fire at a place takes the place's address when none is typed.
    assert_eq!(
        fires.iter().filter(|f| f.fire.address == "一组1号").count(),
        1
    );
}

#[test]
fn bad_fields_are_refused_with_their_field_named() {
    let t = town();
    let s = &t.store;
    let o1 = t.actor("o1");
    let before = dump(s);
    let cases: Vec<(NewFire, &str)> = vec![
        (
            NewFire {
                deaths: 1_001,
                ..fire("g1", None, T0 - 1, FireCause::Other)
            },
            "数量",
        ),
        (
            NewFire {
                loss_yuan: 10_000_000_001,
                ..fire("g1", None, T0 - 1, FireCause::Other)
            },
            "直接财产损失",
        ),
        (
            fire("g1", None, T0 + 2 * MS_PER_DAY, FireCause::Other),
            "日期",
        ),
        (
            NewFire {
                address: " ".into(),
                ..fire("g1", None, T0 - 1, FireCause::Other)
            },
            "地址",
        ),
        (
            NewFire {
                photos: vec!["x".into()],
                ..fire("g1", None, T0 - 1, FireCause::Other)
            },
            "照片",
        ),
    ];
    for (new, field) in cases {
        let e = s.record_fire(&o1, new).unwrap_err();
        assert!(matches!(e, Error::Invalid(_) | Error::Rejected(_)), "{e:?}");
        assert!(e.to_string().contains(field), "{e} should name {field}");
    }
    assert!("arson ".parse::<FireCause>().is_err());
    let l = letter(
        LetterKind::Responsibility,
        Some(t.place_g1),
        None,
        s.today().plus(1),
    );
    assert!(s.record_letter(&o1, l).is_err());
    let l = NewLetter {
        signed_by: String::new(),
        ..letter(LetterKind::Pledge, Some(t.place_g1), None, s.today())
    };
    assert!(s
        .record_letter(&o1, l)
        .unwrap_err()
        .to_string()
        .contains("名称"));
    assert_eq!(dump(s), before);
}

/// A year in two villages, counted by hand.
#[test]
fn the_report_counts_the_registers_by_hand() {
    let t = town();
    let s = &t.store;
    let (w1, w2, w3, l1, o1, b1) = (
        t.actor("w1"),
        t.actor("w2"),
        t.actor("w3"),
        t.actor("l1"),
        t.actor("o1"),
        t.actor("b1"),
    );
    let year_start = Day::from_date(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    // The place in g1 was patrolled, then a wiring hazard was found and left open.
    common::visit(s, &w1, t.place_g1);
    let open = s
        .report_hazard(
            &w1,
            NewHazard::new(t.place_g1, "wiring", Severity::General, "电线老化"),
        )
        .unwrap();
    t.advance_days(10);
    let now = s.device_wall_ms();
    // Three fires: at the g1 place (electrical, 1 death, 2 injured, 50,000 yuan, brigade out),
    // in g3 by a field (smoking, 3,000 yuan) and last month in g2 (electrical, 1 injured).
    let mut at_place = fire(
        "g1",
        Some(t.place_g1),
        now - 3_600_000,
        FireCause::Electrical,
    );
    (
        at_place.deaths,
        at_place.injuries,
        at_place.loss_yuan,
        at_place.brigade_attended,
    ) = (1, 2, 50_000, true);
    s.record_fire(&l1, at_place).unwrap();
    let mut field = fire("g3", None, now - 7_200_000, FireCause::Smoking);
    field.loss_yuan = 3_000;
    s.record_fire(&o1, field).unwrap();
    let mut earlier = fire("g2", None, now - 30 * MS_PER_DAY, FireCause::Electrical);
    earlier.injuries = 1;
    s.record_fire(&b1, earlier).unwrap();

    // Training: w1 passed, w3 failed, w2 came but was not assessed, b1 not a grid worker.
    let training = |who, org: &str, trainees: Vec<Trainee>| {
        s.log_activity(
            who,
            NewActivity {
                kind: ActivityKind::Training,
                org_id: org.into(),
                held_on: s.today(),
                title: "网格员消防培训".into(),
                audience: 20,
                note: String::new(),
                channel: None,
                attendees: vec!["村民甲".into()],
                photos: Vec::new(),
                trainees,
                group_id: None,
            },
        )
    };
    let trainee = |id: &str, passed| Trainee {
        user_id: id.into(),
        passed,
    };
    training(
        &b1,
        "t1",
        vec![
            trainee("w1", Some(true)),
            trainee("w3", Some(false)),
            trainee("w2", None),
            trainee("o1", Some(true)),
        ],
    )
    .unwrap();
    // An unknown account is refused, and so is the same person twice.
    assert!(training(&b1, "t1", vec![trainee("nobody", Some(true))]).is_err());
    assert!(training(&b1, "t1", vec![trainee("w1", None), trainee("w1", None)]).is_err());

    // A worker's training at their grid names only that grid's people.
    let at_grid = s.log_activity(
        &w1,
        NewActivity {
            kind: ActivityKind::Training,
            org_id: "g1".into(),
            held_on: s.today(),
            title: "网格内培训".into(),
            audience: 2,
            note: String::new(),
            channel: None,
            attendees: Vec::new(),
            photos: Vec::new(),
            trainees: vec![trainee("w3", Some(true))],
            group_id: None,
        },
    );
    assert!(at_grid.is_err(), "w3 is not of g1");

    // Letters: the g1 place signed this year; the g3 place signed 400 days ago (lapsed);
    // v1 adopted a pact.
    s.record_letter(
        &w2,
        letter(
            LetterKind::Responsibility,
            Some(t.place_g1),
            None,
            s.today(),
        ),
    )
    .unwrap();
    s.record_letter(
        &w3,
        letter(
            LetterKind::Pledge,
            Some(t.place_g3),
            None,
            s.today().plus(-400),
        ),
    )
    .unwrap();
    s.record_letter(
        &l1,
        letter(
            LetterKind::VillagePact,
            None,
            Some("v1"),
            s.today().plus(-20),
        ),
    )
    .unwrap();

    let r = s.report("t1", year_start, s.today()).unwrap();
    let f = &r.fires;
    assert_eq!(
        (
            f.fires,
            f.deaths,
            f.injuries,
            f.loss_yuan,
            f.brigade_attended
        ),
        (3, 1, 3, 53_000, 1)
    );
    assert_eq!(f.at_registered_places, 1);
    let cause = |c: &str| f.by_cause.iter().find(|x| x.code == c).unwrap().count;
    assert_eq!(
        (cause("electrical"), cause("smoking"), cause("arson")),
        (2, 1, 0)
    );
    assert_eq!(f.by_cause.len(), FireCause::ALL.len());
    assert_eq!(f.by_month.iter().map(|m| m.count).sum::<u32>(), 3);
    let types: Vec<(&str, u32)> = f
        .by_place_type
        .iter()
        .map(|c| (c.code.as_str(), c.count))
        .collect();
    assert_eq!(types, vec![("unregistered", 2), ("small_shop", 1)]);

    let tr = &r.training;
    assert_eq!((tr.grid_workers, tr.grid_workers_trained), (3, 3));
    // o1 is no grid worker: their assessment is not the workers' pass rate.
    assert_eq!((tr.assessed, tr.passed), (2, 1));
    assert_eq!(tr.pass_rate, Some(0.5));

    let l = &r.letters;
    assert_eq!((l.places, l.places_signed), (2, 1));
    assert_eq!(l.signed_rate, Some(0.5));
    assert_eq!((l.villages, l.villages_with_pact), (2, 1));

    // A village's report holds only its own.
    let v2 = s.report("v2", year_start, s.today()).unwrap();
    assert_eq!((v2.fires.fires, v2.fires.loss_yuan), (1, 3_000));
    assert_eq!(
        (
            v2.letters.places,
            v2.letters.places_signed,
            v2.letters.villages_with_pact
        ),
        (1, 0, 0)
    );
    assert_eq!(
        (v2.training.grid_workers, v2.training.grid_workers_trained),
        (1, 1),
        "w3 of v2 was trained at the township's session, and counts for the village"
    );
    assert_eq!((v2.training.assessed, v2.training.passed), (1, 0));

    // The fire at the place is read with its history: patrolled 10 days before, one case open.
    let fires = s.fires("g1", year_start, s.today()).unwrap();
    let h = fires[0].history.as_ref().expect("a place's history");
    assert_eq!(h.patrols_in_year, 1);
    assert!(h.last_patrol_at.is_some());
    assert_eq!(
        h.open_hazards.len(),
        1,
        "{open} was open when the fire broke out"
    );
    assert!(fires
        .iter()
        .all(|r| r.fire.grid_id == "g1" || r.fire.grid_id == "g2"));

    // The text report says them too.
    let text = r.to_text();
    assert!(text.contains("火灾 fires: 3 起"), "{text}");
    assert!(
        text.contains("责任书签订率 letters signed: 1 / 2 = 50.0%"),
        "{text}"
    );
    assert!(text.contains("考核合格 passed: 1 / 2 = 50.0%"), "{text}");
}

#[test]
fn a_fire_entered_twice_is_withdrawn_and_leaves_the_figures() {
    let t = town();
    let s = &t.store;
    let (w1, l1, l2, b1) = (t.actor("w1"), t.actor("l1"), t.actor("l2"), t.actor("b1"));
    let at = T0 - 3_600_000;
    let mut twice = fire("g1", None, at, FireCause::Electrical);
    twice.deaths = 1;
    let first = s.record_fire(&l1, twice.clone()).unwrap();
    let second = s.record_fire(&b1, twice).unwrap();
    let day = Day::from_ms(at);
    assert_eq!(s.report("t1", day, day).unwrap().fires.deaths, 2);
    let before = dump(s);
    // The brigade and a grid worker withdraw nothing; another village's leader nothing of v1;
    // a withdrawal says why; a fire that does not exist is refused.
    assert!(s.withdraw_fire(&b1, second, "重复登记").is_err());
    assert!(s.withdraw_fire(&w1, second, "重复登记").is_err());
    assert!(s.withdraw_fire(&l2, second, "重复登记").is_err());
    let e = s.withdraw_fire(&l1, second, "  ").unwrap_err();
    assert!(e.to_string().contains("理由"), "{e}");
    assert!(s
        .withdraw_fire(&l1, uuid::Uuid::now_v7(), "重复登记")
        .is_err());
    assert_eq!(dump(s), before);

    s.withdraw_fire(&l1, second, "与村委会登记的同一起火灾重复")
        .unwrap();
    let r = s.report("t1", day, day).unwrap();
    assert_eq!((r.fires.fires, r.fires.deaths), (1, 1));
    let listed: Vec<uuid::Uuid> = s
        .fires("t1", day, day)
        .unwrap()
        .iter()
        .map(|f| f.fire.id)
        .collect();
    assert_eq!(listed, vec![first]);
    // Withdrawing again changes nothing; the log keeps both.
    s.withdraw_fire(&l1, second, "再次撤销").unwrap();
    assert_eq!(s.report("t1", day, day).unwrap().fires.fires, 1);
    // A rebuild from the log comes to the same.
    s.rebuild().unwrap();
    assert_eq!(s.report("t1", day, day).unwrap().fires.fires, 1);
}
