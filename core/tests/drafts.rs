//! Drafts: a visit in progress survives the app being killed (the store dropped and opened
//! again from its file), and no sequence of saving, killing, reopening, submitting and
//! discarding loses an answer or records a visit twice.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::{town, Town, T0};
use gridpatrol_core::checklist::{AnswerValue, ItemKind};
use gridpatrol_core::clock::Clock;
use gridpatrol_core::draft::{DraftBody, HazardDraft, Submitted};
use gridpatrol_core::hazard::Severity;
use gridpatrol_core::patrol::GpsSample;
use gridpatrol_core::{Error, Store};
use proptest::prelude::*;
use uuid::Uuid;

/// The app killed and started again: the store dropped, opened anew from its file.
fn reopen(t: &mut Town) {
    let now = t.store.now_ms();
    t.store = Store::open(t.dir.path().join("t.db"), Clock::manual(now)).unwrap();
}

/// Pass/fail items of the place's checklist, the ones the steps answer.
fn items(t: &Town, place: Uuid) -> Vec<String> {
    t.store
        .patrol_form(place)
        .unwrap()
        .template
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::PassFail && !i.photo_on_fail)
        .map(|i| i.key.clone())
        .take(6)
        .collect()
}

fn visits(t: &Town, place: Uuid) -> Vec<(u32, u32)> {
    let mut v: Vec<(u32, u32)> = t
        .store
        .place_file(place)
        .unwrap()
        .patrols
        .iter()
        .map(|p| (p.answered_items, p.failed_items))
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn a_visit_half_answered_survives_a_kill_and_is_submitted_once() {
    let mut t = town();
    let w1 = t.actor("w1");
    let keys = items(&t, t.place_g1);
    let id = t
        .store
        .start_patrol_draft(&w1, t.place_g1, GpsSample::default())
        .unwrap();
    for k in &keys[..3] {
        t.store
            .save_draft_answer(&w1, id, k, Some(AnswerValue::Pass))
            .unwrap();
    }
    reopen(&mut t);
    let w1 = t.actor("w1");
    let listed = t.store.drafts(&w1).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id, listed[0].answered), (id, 3));
    assert_eq!(listed[0].place_name.as_deref(), Some("g1小超市"));
    // Another person on the same phone sees none of it.
    assert!(t.store.drafts(&t.actor("w2")).unwrap().is_empty());
    // Opening the place again (a second tap, a restarted screen) opens the same visit.
    assert_eq!(
        t.store
            .start_patrol_draft(&w1, t.place_g1, GpsSample::default())
            .unwrap(),
        id
    );
    assert!(matches!(
        t.store.submit_draft(&t.actor("w2"), id),
        Err(Error::NotFound { .. })
    ));
    for k in &keys[3..] {
        t.store
            .save_draft_answer(&w1, id, k, Some(AnswerValue::Fail))
            .unwrap();
    }
    let Submitted::Patrol(out) = t.store.submit_draft(&w1, id).unwrap() else {
        panic!("a patrol")
    };
    assert!(out.hazard_ids.is_empty());
    let n = keys.len() as u32;
    assert!(n >= 4, "{keys:?}");
    assert_eq!(visits(&t, t.place_g1), [(n, n - 3)]);
    assert!(t.store.drafts(&w1).unwrap().is_empty());
    assert!(matches!(
        t.store.submit_draft(&w1, id),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(visits(&t, t.place_g1), [(n, n - 3)], "never twice");
}

#[test]
fn a_refused_submission_keeps_the_draft() {
    let t = town();
    let w1 = t.actor("w1");
    let id = t
        .store
        .start_patrol_draft(&w1, t.place_g1, GpsSample::default())
        .unwrap();
    // Nothing answered: not a visit.
    assert!(matches!(
        t.store.submit_draft(&w1, id),
        Err(Error::Invalid(e)) if e.field == gridpatrol_core::error::Field::Answer
    ));
    assert_eq!(t.store.drafts(&w1).unwrap().len(), 1);
    // An item not on the checklist, or a note too long, is refused and changes nothing.
    assert!(t
        .store
        .save_draft_answer(&w1, id, "no_such_item", Some(AnswerValue::Pass))
        .is_err());
    let long = "很".repeat(501);
    assert!(t
        .store
        .edit_draft(&w1, id, |b| {
            if let DraftBody::Patrol(p) = b {
                p.note = long;
            }
            Ok(())
        })
        .is_err());
    let DraftBody::Patrol(p) = t.store.draft(&w1, id).unwrap().body else {
        panic!()
    };
    assert!(p.answers.is_empty() && p.note.is_empty());
    // A place outside the worker's grids cannot be started at all.
    assert!(t
        .store
        .start_patrol_draft(&w1, t.place_g3, GpsSample::default())
        .is_err());
}

#[test]
fn a_hazard_draft_is_reported_with_its_photos_and_fix() {
    let t = town();
    let w1 = t.actor("w1");
    let gps = GpsSample {
        lat: Some(37.8),
        lon: Some(112.5),
        accuracy_m: Some(12.0),
        mock: false,
    };
    let id = t
        .store
        .start_draft(
            &w1,
            DraftBody::Hazard(HazardDraft {
                place_id: t.place_g1,
                category: "wiring".into(),
                severity: Severity::General,
                description: String::new(),
                photos: Vec::new(),
                gps,
            }),
        )
        .unwrap();
    t.store
        .edit_draft(&w1, id, |b| {
            if let DraftBody::Hazard(h) = b {
                h.description = "插线板串接".into();
                h.photos.push(common::photo(3));
            }
            Ok(())
        })
        .unwrap();
    let Submitted::Hazard(h) = t.store.submit_draft(&w1, id).unwrap() else {
        panic!("a hazard")
    };
    let d = t.store.hazard(h).unwrap().hazard;
    assert_eq!(d.report.description, "插线板串接");
    assert_eq!(d.report.photos, [common::photo(3)]);
    assert!(d.report.location.is_some());
}

#[derive(Debug, Clone)]
enum Step {
    Start,
    Answer(usize, bool),
    Clear(usize),
    Kill,
    Submit,
    Discard,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => Just(Step::Start),
        6 => (0..6usize, any::<bool>()).prop_map(|(i, pass)| Step::Answer(i, pass)),
        1 => (0..6usize).prop_map(Step::Clear),
        2 => Just(Step::Kill),
        2 => Just(Step::Submit),
        1 => Just(Step::Discard),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The model: the open drafts with their answers, and the visits submitted. After every
    /// step the store says the same.
    #[test]
    fn no_sequence_loses_an_answer_or_submits_twice(steps in prop::collection::vec(step(), 1..40)) {
        let mut t = town();
        let keys = items(&t, t.place_g1);
        let mut open: Vec<(Uuid, BTreeMap<String, bool>)> = Vec::new();
        let mut submitted: Vec<(u32, u32)> = Vec::new();
        for s in steps {
            let w1 = t.actor("w1");
            match s {
                Step::Start => {
                    let id = t.store.start_patrol_draft(&w1, t.place_g1, GpsSample::default()).unwrap();
                    // One visit in progress per place: starting again opens it.
                    match open.first() {
                        Some((begun, _)) => prop_assert_eq!(id, *begun),
                        None => open.push((id, BTreeMap::new())),
                    }
                }
                Step::Answer(i, pass) => if let Some((id, answers)) = open.last_mut() {
                    let v = if pass { AnswerValue::Pass } else { AnswerValue::Fail };
                    let k = &keys[i % keys.len()];
                    t.store.save_draft_answer(&w1, *id, k, Some(v)).unwrap();
                    answers.insert(k.clone(), pass);
                },
                Step::Clear(i) => if let Some((id, answers)) = open.last_mut() {
                    let k = &keys[i % keys.len()];
                    t.store.save_draft_answer(&w1, *id, k, None).unwrap();
                    answers.remove(k);
                },
                Step::Kill => reopen(&mut t),
                Step::Submit => if let Some((id, answers)) = open.first().cloned() {
                    let out = t.store.submit_draft(&w1, id);
                    if answers.is_empty() {
                        prop_assert!(out.is_err(), "an empty visit is refused");
                    } else {
                        prop_assert!(out.is_ok(), "{out:?}");
                        let failed = answers.values().filter(|p| !**p).count();
                        submitted.push((answers.len() as u32, failed as u32));
                        open.remove(0);
                        // A second tap on 提交 finds nothing to submit.
                        let again = t.store.submit_draft(&w1, id);
                        prop_assert!(matches!(again, Err(Error::NotFound { .. })), "{again:?}");
                    }
                },
                Step::Discard => if let Some((id, _)) = open.pop() {
                    t.store.discard_draft(&w1, id).unwrap();
                },
            }
            let w1 = t.actor("w1");
            let mut listed: Vec<Uuid> = t.store.drafts(&w1).unwrap().iter().map(|d| d.id).collect();
            listed.sort();
            let mut expected: Vec<Uuid> = open.iter().map(|(id, _)| *id).collect();
            expected.sort();
            prop_assert_eq!(listed, expected);
            for (id, answers) in &open {
                let DraftBody::Patrol(p) = t.store.draft(&w1, *id).unwrap().body else {
                    panic!("a patrol draft")
                };
                let kept: BTreeMap<String, bool> = p.answers.into_iter()
                    .map(|(k, v)| (k, v == AnswerValue::Pass)).collect();
                prop_assert_eq!(&kept, answers);
            }
            let mut want = submitted.clone();
            want.sort_unstable();
            prop_assert_eq!(visits(&t, t.place_g1), want);
        }
        let _ = T0;
    }
}

#[test]
fn an_activity_draft_keeps_its_channel_attendance_and_photos() {
    use gridpatrol_core::activity::{ActivityKind, Channel};
    use gridpatrol_core::draft::ActivityDraft;
    let t = town();
    let w1 = t.actor("w1");
    let start = |kind| {
        t.store
            .start_draft(
                &w1,
                DraftBody::Activity(ActivityDraft {
                    activity: kind,
                    org_id: "g1".into(),
                    held_on: t.store.today(),
                    title: String::new(),
                    audience: 0,
                    note: String::new(),
                    channel: None,
                    attendees: Vec::new(),
                    photos: Vec::new(),
                    trainees: Vec::new(),
                    group_id: None,
                }),
            )
            .unwrap()
    };
    let fill = |id, f: &dyn Fn(&mut ActivityDraft)| {
        t.store
            .edit_draft(&w1, id, |b| {
                if let DraftBody::Activity(a) = b {
                    f(a);
                }
                Ok(())
            })
            .unwrap();
    };
    // Training, with its sign-in list: the names are a floor under the head count.
    let training = start(ActivityKind::Training);
    fill(training, &|a| {
        a.title = "灭火器使用培训".into();
        a.attendees = vec!["张三".into(), "李四".into(), "王五".into()];
        a.audience = 2;
        a.photos = vec![common::photo(4)];
    });
    assert!(
        t.store.submit_draft(&w1, training).is_err(),
        "2 people cannot be 3 names"
    );
    fill(training, &|a| a.audience = 3);
    assert!(matches!(
        t.store.submit_draft(&w1, training).unwrap(),
        Submitted::Activity(_)
    ));
    // Publicity goes somewhere (五进) and keeps no sign-in list; a channel is no training's.
    let publicity = start(ActivityKind::Publicity);
    fill(publicity, &|a| {
        a.title = "消防安全进农村".into();
        a.audience = 40;
        a.attendees = vec!["张三".into()];
    });
    assert!(t.store.submit_draft(&w1, publicity).is_err());
    fill(publicity, &|a| {
        a.attendees.clear();
        a.channel = Some(Channel::Villages);
        a.photos = vec!["not a hash".into()];
    });
    assert!(
        t.store.submit_draft(&w1, publicity).is_err(),
        "a photo is a hash"
    );
    fill(publicity, &|a| a.photos.clear());
    t.store.submit_draft(&w1, publicity).unwrap();
    let bad_training = start(ActivityKind::Training);
    fill(bad_training, &|a| {
        a.title = "培训".into();
        a.channel = Some(Channel::Schools);
    });
    assert!(t.store.submit_draft(&w1, bad_training).is_err());
    // What was refused is still there to correct.
    assert_eq!(t.store.drafts(&w1).unwrap().len(), 1);
    let (_, bytes) = t
        .store
        .ledger_of(
            gridpatrol_core::report::ledgers::Ledger::Activities,
            "t1",
            t.store.today(),
            t.store.today(),
            gridpatrol_core::report::export::LedgerFormat::Csv,
        )
        .unwrap();
    let csv = String::from_utf8(bytes).unwrap();
    assert!(csv.contains("张三、李四、王五"), "{csv}");
    assert!(csv.contains("进农村"), "{csv}");
}
