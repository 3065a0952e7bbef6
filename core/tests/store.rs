//! The store as an app uses it: schema upgrade from a frozen old database, bad input leaving
//! the database unchanged, field-level last-writer-wins, patrols and their proposals, template
//! versions, scope, interrupt and shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{dump, photo, town, T0};
use gridpatrol_core::checklist::{library, AnswerValue};
use gridpatrol_core::clock::{Clock, Hlc};
use gridpatrol_core::error::Error;
use gridpatrol_core::hazard::{HazardEvent, HazardStatus, NewHazard, Severity};
use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::org::Role;
use gridpatrol_core::patrol::{GpsSample, PatrolInput, RaiseHazard};
use gridpatrol_core::place::{GeoPoint, NewPlace, PlaceChanges, RiskLevel};
use gridpatrol_core::store::schema::VERSION;
use gridpatrol_core::Store;
use uuid::Uuid;

fn schema_of(path: &std::path::Path) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut stmt = c
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| {
        let sql: String = r.get(1)?;
        // Compare the definitions, not their layout (ALTER TABLE rewrites the text).
        let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok((
            r.get(0)?,
            sql.replace("( ", "(").replace(" )", ")").replace(" ,", ","),
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn upgrades_a_frozen_version_1_database_to_the_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v1.db");
    {
        let c = rusqlite::Connection::open(&old).unwrap();
        c.execute_batch(include_str!("data/schema-v1.sql")).unwrap();
        let v: u32 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
    }
    let store = Store::open(&old, Clock::manual(T0)).unwrap();
    let (fresh, _d) = common::empty_store();
    assert_eq!(schema_of(&old), schema_of(fresh.path()));
    let v: u32 = rusqlite::Connection::open(&old)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, VERSION);

    // The old data is all there and still folds to the same state.
    let w1 = store.actor("w1").unwrap();
    let hazards = store.hazards(&w1, None).unwrap();
    assert_eq!(hazards.len(), 1);
    assert_eq!(hazards[0].status, HazardStatus::Notified);
    let before = dump(&store);
    store.rebuild().unwrap();
    assert_eq!(
        before,
        dump(&store),
        "derived state equals a refold of the old log"
    );
    // And the device keeps working on the upgraded database.
    store
        .hazard_event(
            &w1,
            hazards[0].id,
            HazardEvent::StartRectification {
                note: String::new(),
            },
        )
        .unwrap();
    assert!(store.pending_ops().unwrap() > 28);
}

/// Every released version after the first, opened with today's code: the same schema as a new
/// database, and the old data still folds to the same state.
#[test]
fn upgrades_frozen_version_2_and_3_databases_to_the_current_schema() {
    for (version, sql) in [
        (2, include_str!("data/schema-v2.sql")),
        (3, include_str!("data/schema-v3.sql")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join(format!("v{version}.db"));
        {
            let c = rusqlite::Connection::open(&old).unwrap();
            c.execute_batch(sql).unwrap();
            let v: u32 = c
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, version);
        }
        let store = Store::open(&old, Clock::manual(T0)).unwrap();
        let (fresh, _d) = common::empty_store();
        assert_eq!(schema_of(&old), schema_of(fresh.path()), "from v{version}");
        let c = rusqlite::Connection::open(&old).unwrap();
        let v: u32 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        // The versions it had are recorded as applied, the rest as run now.
        let recorded: Vec<u32> = c
            .prepare("SELECT version FROM refinery_schema_history ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(recorded, (1..=VERSION).collect::<Vec<_>>());

        let w1 = store.actor("w1").unwrap();
        let hazards = store.hazards(&w1, None).unwrap();
        assert_eq!(hazards.len(), 1);
        assert_eq!(hazards[0].status, HazardStatus::Notified);
        let before = dump(&store);
        store.rebuild().unwrap();
        assert_eq!(
            before,
            dump(&store),
            "derived state equals a refold of the old log"
        );
        store
            .hazard_event(
                &w1,
                hazards[0].id,
                HazardEvent::StartRectification {
                    note: String::new(),
                },
            )
            .unwrap();
        assert!(store.pending_ops().unwrap() > 28);
    }
}

/// A database's schema, `user_version` and history (version and checksum of each step).
type RecordedState = (Vec<(String, String)>, u32, Vec<(u32, String)>);

fn recorded_state(path: &std::path::Path) -> RecordedState {
    let c = rusqlite::Connection::open(path).unwrap();
    let v = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let history = c
        .prepare("SELECT version, checksum FROM refinery_schema_history ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (schema_of(path), v, history)
}

/// A database a newer app wrote (its own history, or only a higher `user_version` as apps
/// before the runner read) is refused, and not one byte of it changes.
#[test]
fn a_database_from_a_newer_app_is_left_unchanged() {
    for newer_history in [false, true] {
        let (store, dir) = common::empty_store();
        let path = store.path().to_path_buf();
        store.shutdown();
        drop(store);
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", VERSION + 1).unwrap();
            if newer_history {
                c.execute(
                    "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
                     SELECT version + 1, 'from_the_future', applied_on, '1'
                     FROM refinery_schema_history WHERE version = ?1",
                    [VERSION],
                )
                .unwrap();
                c.pragma_update(None, "user_version", VERSION).unwrap();
            }
        }
        let before = recorded_state(&path);
        let e = Store::open(&path, Clock::System).err().unwrap();
        assert!(
            matches!(e, Error::SchemaTooNew { found, supported } if found == VERSION + 1 && supported == VERSION),
            "{e}"
        );
        assert!(e.to_string().contains("请升级应用"), "{e}");
        assert_eq!(before, recorded_state(&path));
        drop(dir);
    }
}

#[test]
fn refuses_a_database_from_a_newer_app() {
    let (store, dir) = common::empty_store();
    let path = store.path().to_path_buf();
    store.shutdown();
    drop(store);
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", VERSION + 1)
        .unwrap();
    let e = Store::open(&path, Clock::System).err().unwrap();
    assert!(matches!(e, Error::SchemaTooNew { .. }), "{e}");
    drop(dir);
}

#[test]
fn bad_input_is_refused_with_a_typed_error_and_changes_nothing() {
    let t = town();
    let w1 = t.actor("w1");
    let w3 = t.actor("w3");
    let b1 = t.actor("b1");
    let hazard = t
        .store
        .report_hazard(
            &w1,
            NewHazard::new(t.place_g1, "wiring", Severity::General, "私拉电线"),
        )
        .unwrap();
    let before = dump(&t.store);
    let new_place = |f: &dyn Fn(&mut NewPlace)| {
        let mut p = NewPlace {
            place_type: "small_shop".into(),
            name: "小超市".into(),
            address: "".into(),
            location: None,
            grid_id: "g1".into(),
            responsible_name: "".into(),
            responsible_phone: None,
            risk_level: RiskLevel::Low,
            patrol_every_days: None,
        };
        f(&mut p);
        t.store.create_place(&w1, p)
    };
    let mut errors: Vec<Error> = vec![
        new_place(&|p| p.name = "   ".into()).unwrap_err(),
        new_place(&|p| p.name = "长".repeat(61)).unwrap_err(),
        new_place(&|p| {
            p.location = Some(GeoPoint {
                lat: 91.0,
                lon: 0.0,
            })
        })
        .unwrap_err(),
        new_place(&|p| {
            p.location = Some(GeoPoint {
                lat: 30.0,
                lon: f64::NAN,
            })
        })
        .unwrap_err(),
        new_place(&|p| p.place_type = "spaceport".into()).unwrap_err(),
        new_place(&|p| p.responsible_phone = Some("call me".into())).unwrap_err(),
        new_place(&|p| p.patrol_every_days = Some(0)).unwrap_err(),
        new_place(&|p| p.grid_id = "g3".into()).unwrap_err(),
        new_place(&|p| p.grid_id = "nowhere".into()).unwrap_err(),
    ];
    let ev = |a, e| t.store.hazard_event(a, hazard, e).unwrap_err();
    errors.push(ev(
        &w1,
        HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: t.today().plus(-1),
            note: String::new(),
        },
    ));
    errors.push(ev(
        &b1,
        HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: t.today().plus(1),
            note: String::new(),
        },
    ));
    errors.push(ev(
        &w3,
        HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: t.today().plus(1),
            note: String::new(),
        },
    ));
    errors.push(ev(
        &w1,
        HazardEvent::Review {
            passed: true,
            note: String::new(),
            new_deadline: None,
        },
    ));
    errors.push(ev(
        &w1,
        HazardEvent::Withdraw {
            reason: "我写错了".into(),
        },
    ));
    errors.push(
        t.store
            .hazard_event(
                &w1,
                Uuid::now_v7(),
                HazardEvent::StartRectification {
                    note: String::new(),
                },
            )
            .unwrap_err(),
    );
    let patrol = |answers: Vec<(String, AnswerValue)>, raise: Vec<RaiseHazard>| {
        t.store
            .record_patrol(
                &w1,
                PatrolInput {
                    place_id: t.place_g1,
                    started_at: T0 - 60_000,
                    gps: GpsSample::default(),
                    answers,
                    raise,
                    note: String::new(),
                },
            )
            .unwrap_err()
    };
    errors.push(patrol(
        vec![("no_such_item".into(), AnswerValue::Pass)],
        vec![],
    ));
    errors.push(patrol(
        vec![("extinguisher_count".into(), AnswerValue::Pass)],
        vec![],
    ));
    errors.push(patrol(
        vec![("extinguisher".into(), AnswerValue::Pass)],
        vec![RaiseHazard {
            item_key: "extinguisher".into(),
            ..Default::default()
        }],
    ));
    errors.push(patrol(
        vec![(
            "front_photo".into(),
            AnswerValue::Photo("not-a-hash".into()),
        )],
        vec![],
    ));
    errors.push(
        t.store
            .record_patrol(
                &w1,
                PatrolInput {
                    place_id: t.place_g1,
                    started_at: T0,
                    gps: GpsSample {
                        lat: Some(100.0),
                        lon: Some(1.0),
                        accuracy_m: None,
                        mock: false,
                    },
                    answers: vec![("extinguisher".into(), AnswerValue::Pass)],
                    raise: vec![],
                    note: String::new(),
                },
            )
            .unwrap_err(),
    );
    for e in &errors {
        let text = e.to_string();
        assert!(text.contains(" / "), "bilingual: {text}");
        assert!(
            !text.contains("小超市") && !text.contains("13900000000"),
            "no personal data: {text}"
        );
        assert!(
            matches!(
                e,
                Error::Invalid(_) | Error::Rejected(_) | Error::NotFound { .. }
            ),
            "{e:?}"
        );
    }
    assert_eq!(before, dump(&t.store), "nothing stored changed");
}

#[test]
fn poor_gps_never_blocks_a_patrol() {
    let t = town();
    let w1 = t.actor("w1");
    for gps in [
        GpsSample::default(),
        GpsSample {
            lat: None,
            lon: None,
            accuracy_m: Some(3000.0),
            mock: false,
        },
        GpsSample {
            lat: Some(37.8),
            lon: Some(112.5),
            accuracy_m: None,
            mock: true,
        },
    ] {
        t.store
            .record_patrol(
                &w1,
                PatrolInput {
                    place_id: t.place_g1,
                    started_at: T0 - 1,
                    gps,
                    answers: vec![("extinguisher".into(), AnswerValue::Pass)],
                    raise: vec![],
                    note: String::new(),
                },
            )
            .unwrap();
    }
}

#[test]
fn a_patrol_proposes_hazards_and_remembers_what_failed_last_time() {
    let t = town();
    let w1 = t.actor("w1");
    let form = t.store.patrol_form(t.place_g1).unwrap();
    assert_eq!(form.template.id, "nine_small");
    assert!(form.failed_last_time.is_empty());
    let answers: Vec<(String, AnswerValue)> = vec![
        ("extinguisher".into(), AnswerValue::Fail),
        ("extinguisher_count".into(), AnswerValue::Number(1.0)),
        ("routes_clear".into(), AnswerValue::Fail),
        (
            "staff_knowledge".into(),
            AnswerValue::Choice("全部会".into()),
        ),
        ("no_bars".into(), AnswerValue::NotApplicable),
    ];
    let proposals = t.store.propose_hazards(&form, &answers).unwrap();
    let keys: Vec<&str> = proposals.iter().map(|p| p.item_key.as_str()).collect();
    // The yes/no item and the count item of one missing extinguisher are one hazard, worded
    // as what is wrong (the item's label says what is right).
    assert_eq!(keys, ["extinguisher", "routes_clear"]);
    assert_eq!(
        proposals[0].description,
        "灭火器缺失、数量不足、未放在显眼处或已过期；灭火器数量不足（每层应不少于2具）"
    );
    let routes = &proposals[1];
    assert_eq!(
        routes.description,
        "疏散通道、楼梯或安全出口堵塞、上锁或堆放杂物"
    );
    assert_eq!(routes.category, "exit_blocked");
    assert_eq!(routes.suggested_deadline, t.today().plus(1));
    assert!(routes.fixable_on_spot && routes.photo_required);
    assert!(routes
        .legal_basis
        .as_deref()
        .unwrap()
        .contains("第二十八条"));

    let out = t
        .store
        .record_patrol(
            &w1,
            PatrolInput {
                place_id: t.place_g1,
                started_at: T0 - 900_000,
                gps: GpsSample {
                    lat: Some(37.8),
                    lon: Some(112.5),
                    accuracy_m: Some(9.0),
                    mock: false,
                },
                answers,
                raise: vec![RaiseHazard {
                    item_key: "routes_clear".into(),
                    photos: vec![photo(1)],
                    ..Default::default()
                }],
                note: String::new(),
            },
        )
        .unwrap();
    assert_eq!(out.hazard_ids.len(), 1);
    assert_eq!(
        out.unraised.len(),
        1,
        "both extinguisher items, as one proposal"
    );
    let h = t.store.hazard(out.hazard_ids[0]).unwrap().hazard;
    assert_eq!(
        h.report.description,
        "疏散通道、楼梯或安全出口堵塞、上锁或堆放杂物"
    );
    assert_eq!(h.report.source.as_ref().unwrap().template_version, 1);
    assert_eq!(h.report.village_id, "v1");
    assert_eq!(h.report.township_id, "t1");
    // One transaction: patrol op + hazard op, both queued for upload.
    assert_eq!(
        t.store
            .ops()
            .unwrap()
            .iter()
            .filter(|o| matches!(o.body, OpBody::Patrol(_) | OpBody::Hazard { .. }))
            .count(),
        2
    );

    let again = t.store.patrol_form(t.place_g1).unwrap();
    assert_eq!(
        again.failed_last_time,
        ["extinguisher", "extinguisher_count", "routes_clear"]
    );
    let file = t.store.place_file(t.place_g1).unwrap();
    assert_eq!((file.patrols.len(), file.hazards.len()), (1, 1));
    assert_eq!(file.patrols[0].failed_items, 3);
}

#[test]
fn due_patrols_follow_the_type_and_risk_rule() {
    let t = town();
    let w1 = t.actor("w1");
    // Never patrolled: due today.
    assert_eq!(t.store.due_patrols(&w1).unwrap().len(), 1);
    common::visit(&t.store, &w1, t.place_g1);
    assert!(t.store.due_patrols(&w1).unwrap().is_empty());
    let cycle = library().patrol_every_days("small_shop", RiskLevel::Medium) as i64;
    assert_eq!(t.store.place(t.place_g1).unwrap().cycle_days as i64, cycle);
    t.advance_days(cycle - 1);
    assert!(t.store.due_patrols(&w1).unwrap().is_empty());
    t.advance_days(3);
    let due = t.store.due_patrols(&w1).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].days_overdue(t.today()), 2);
    // A place's own cycle overrides the rule; the village sets it, never the grid worker.
    let cycle = PlaceChanges {
        place_id: t.place_g1,
        patrol_every_days: Some(90),
        ..Default::default()
    };
    assert!(matches!(
        t.store.update_place(&w1, cycle.clone()),
        Err(gridpatrol_core::Error::Rejected(
            gridpatrol_core::hazard::lifecycle::Rejection::RoleNotAllowed { .. }
        ))
    ));
    assert_eq!(t.store.due_patrols(&w1).unwrap().len(), 1);
    t.store.update_place(&t.actor("l1"), cycle).unwrap();
    assert!(t.store.due_patrols(&w1).unwrap().is_empty());
}

fn remote(device: u128, seq: i64, hlc: i64, actor: &str, role: Role, body: OpBody) -> Op {
    Op {
        id: Uuid::now_v7(),
        device_id: Uuid::from_u128(device),
        seq,
        hlc: Hlc::new(hlc, 0),
        wall_ms: hlc,
        actor_id: actor.into(),
        actor_role: role,
        body,
    }
}

#[test]
fn place_fields_are_last_writer_wins_per_field_in_any_order() {
    let t = town();
    let base = t
        .store
        .ops()
        .unwrap()
        .into_iter()
        .find(|o| matches!(&o.body, OpBody::PlaceCreate(p) if p.id == t.place_g1))
        .unwrap();
    let later = base.hlc.wall_ms() + 1000;
    let phone = |n: &str| PlaceChanges {
        place_id: t.place_g1,
        responsible_phone: Some(n.into()),
        ..Default::default()
    };
    let a = remote(
        7,
        1,
        later,
        "w1",
        Role::GridWorker,
        OpBody::PlaceUpdate(phone("13811111111")),
    );
    let b = remote(
        8,
        1,
        later + 5,
        "w2",
        Role::GridWorker,
        OpBody::PlaceUpdate(phone("13822222222")),
    );
    let c = remote(
        9,
        1,
        later + 1,
        "l1",
        Role::VillageLeader,
        OpBody::PlaceUpdate(PlaceChanges {
            place_id: t.place_g1,
            name: Some("改名超市".into()),
            ..Default::default()
        }),
    );
    // Arrive newest first: the newest phone still wins, and the name edit is kept too.
    for op in [&b, &c, &a, &b] {
        t.store.apply_remote(op).unwrap();
    }
    let p = t.store.place(t.place_g1).unwrap().place;
    assert_eq!(p.responsible_phone.as_deref(), Some("13822222222"));
    assert_eq!(p.name, "改名超市");
    assert_eq!(p.address, "一组1号");
}

#[test]
fn a_worker_writes_only_in_their_grids() {
    let t = town();
    let w3 = t.actor("w3");
    let e = t
        .store
        .report_hazard(
            &w3,
            NewHazard::new(t.place_g1, "wiring", Severity::General, "x"),
        )
        .unwrap_err();
    assert_eq!(e.code(), "out_of_scope");
    // A worker with several grids sees all of them; a grid with two workers is seen by both.
    assert_eq!(t.actor("w2").grids, ["g1", "g2"]);
    assert!(t.actor("w1").covers("g1") && t.actor("w2").covers("g1"));
    assert_eq!(t.actor("l1").grids, ["g1", "g2"]);
    assert_eq!(t.actor("o1").grids, ["g1", "g2", "g3"]);
    assert_eq!(t.store.places(&t.actor("b1")).unwrap().len(), 2);
}

#[test]
fn template_edits_make_a_new_version_and_old_records_keep_theirs() {
    let t = town();
    let w1 = t.actor("w1");
    t.store
        .record_patrol(
            &w1,
            PatrolInput {
                place_id: t.place_g1,
                started_at: T0 - 1,
                gps: GpsSample::default(),
                answers: vec![("extinguisher".into(), AnswerValue::Pass)],
                raise: vec![],
                note: String::new(),
            },
        )
        .unwrap();
    let mut edited = t.store.template("nine_small", None).unwrap();
    edited.items.retain(|i| i.key != "self_pact");
    edited.items[0].label = "门口有两具4kg干粉灭火器".into();
    let v = t
        .store
        .publish_template(&gridpatrol_core::org::Actor::provisioner(), edited)
        .unwrap();
    assert_eq!(v, 2);
    assert_eq!(t.store.patrol_form(t.place_g1).unwrap().template.version, 2);
    let v1 = t.store.template("nine_small", Some(1)).unwrap();
    assert!(v1.item("self_pact").is_ok());
    let file = t.store.place_file(t.place_g1).unwrap();
    assert_eq!(file.patrols[0].template, "nine_small v1");
}

#[test]
fn every_change_is_an_op_in_the_outbox_with_increasing_sequence() {
    let t = town();
    let local: Vec<_> = t
        .store
        .ops()
        .unwrap()
        .into_iter()
        .filter(|o| o.device_id == t.store.device_id())
        .collect();
    assert_eq!(t.store.pending_ops().unwrap() as usize, local.len());
    let mut seqs: Vec<i64> = local.iter().map(|o| o.seq).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=local.len() as i64).collect::<Vec<_>>());
    assert!(
        local.windows(2).all(|w| w[0].hlc < w[1].hlc),
        "local HLCs strictly increase"
    );
    assert!(local.iter().all(|o| o.id.get_version_num() == 7));
}

#[test]
fn the_built_in_library_is_the_same_ops_on_every_device() {
    let (a, _da) = common::empty_store();
    let (b, _db) = common::empty_store();
    assert_eq!(a.install_library().unwrap(), library().templates.len());
    assert_eq!(
        a.install_library().unwrap(),
        0,
        "installing twice adds nothing"
    );
    b.install_library().unwrap();
    let (ops_a, ops_b) = (a.ops().unwrap(), b.ops().unwrap());
    assert_eq!(ops_a, ops_b);
    assert_eq!(
        a.pending_ops().unwrap(),
        0,
        "nothing of the library is uploaded"
    );
    // What another device sends of the library is a duplicate here, not a conflict.
    let pulled = a.apply_pulled(&ops_b, "c", T0).unwrap();
    assert_eq!((pulled.applied, pulled.duplicates), (0, ops_b.len()));
}

#[test]
fn interrupt_stops_long_work_and_shutdown_closes() {
    let t = town();
    let scope = t.store.interrupt_scope();
    assert!(scope.check().is_ok());
    t.store.interrupt();
    assert!(matches!(scope.check(), Err(Error::Interrupted)));
    // Calls made after an interrupt run normally.
    assert!(t.store.places(&t.actor("w1")).is_ok());
    t.store.shutdown();
    assert!(matches!(t.store.actor("w1"), Err(Error::ShutDown)));
    assert!(matches!(t.store.rebuild(), Err(Error::ShutDown)));
}

#[test]
fn a_hazard_detail_shows_repeat_hazards_and_its_history() {
    let t = town();
    let w1 = t.actor("w1");
    let l1 = t.actor("l1");
    let raise = || {
        t.store
            .report_hazard(
                &w1,
                NewHazard {
                    photos: vec![photo(4)],
                    ..NewHazard::new(t.place_g1, "ebike", Severity::General, "电动车楼道充电")
                },
            )
            .unwrap()
    };
    let first = raise();
    t.store
        .hazard_event(
            &w1,
            first,
            HazardEvent::FixOnSpot {
                note: String::new(),
                before_photo: Some(photo(1)),
                after_photo: None,
            },
        )
        .unwrap();
    t.store
        .hazard_event(
            &l1,
            first,
            HazardEvent::Review {
                passed: true,
                note: String::new(),
                new_deadline: None,
            },
        )
        .unwrap();
    t.advance_days(20);
    let second = raise();
    let d = t.store.hazard(second).unwrap();
    assert_eq!(d.repeat_of, vec![first]);
    let first_detail = t.store.hazard(first).unwrap();
    assert_eq!(first_detail.events.len(), 3);
    assert!(first_detail.events.iter().all(|e| e.conflict.is_none()));
    assert_eq!(t.store.open_hazards("g1").unwrap().len(), 1);
}

#[test]
fn patrol_plans_say_who_goes_where_how_often_and_what_to_look_at() {
    use gridpatrol_core::plan::PatrolPlan;
    let t = town();
    let (w1, w2, l1, o1) = (t.actor("w1"), t.actor("w2"), t.actor("l1"), t.actor("o1"));
    let patrol = |who: &gridpatrol_core::org::Actor| common::visit(&t.store, who, t.place_g1);
    // No plan: both workers of g1 see its shop, due today.
    assert_eq!(t.store.due_patrols(&w1).unwrap().len(), 1);
    assert_eq!(t.store.due_patrols(&w2).unwrap().len(), 1);
    patrol(&w1);

    // The village gives g1's shops to w2, every 3 days, looking first at e-bikes.
    let plan = PatrolPlan {
        id: Uuid::now_v7(),
        grid_id: "g1".into(),
        worker_id: Some("w2".into()),
        place_types: vec!["small_shop".into()],
        risk_levels: vec![],
        every_days: Some(3),
        focus_items: vec!["no_ebike_indoor".into()],
        active: true,
        note: "电动车专项整治".into(),
        starts_on: None,
        ends_on: None,
    };
    let refused = t.store.put_plan(&w1, plan.clone()).unwrap_err();
    assert_eq!(refused.code(), "role_not_allowed");
    let mut bad = plan.clone();
    bad.worker_id = Some("w3".into());
    assert!(
        t.store.put_plan(&l1, bad).is_err(),
        "w3 does not work in g1"
    );
    let mut bad = plan.clone();
    bad.place_types = vec!["castle".into()];
    assert!(t.store.put_plan(&l1, bad).is_err());
    t.store.put_plan(&l1, plan.clone()).unwrap();

    assert!(
        t.store.due_patrols(&w1).unwrap().is_empty(),
        "w1 is not assigned g1's shops"
    );
    assert!(
        t.store.due_patrols(&w2).unwrap().is_empty(),
        "visited today"
    );
    t.advance_days(3);
    let due = t.store.due_patrols(&w2).unwrap();
    assert_eq!((due.len(), due[0].cycle_days), (1, 3));
    assert!(t.store.due_patrols(&w1).unwrap().is_empty());
    assert_eq!(
        t.store.due_patrols(&o1).unwrap().len(),
        2,
        "the township sees every due place, g3 too"
    );
    assert_eq!(
        t.store.patrol_form(t.place_g1).unwrap().focus_items,
        ["no_ebike_indoor"]
    );
    assert_eq!(t.store.plans(&w2).unwrap().len(), 1);

    // A plan that does not cover a place leaves it on its workers' lists with the rule.
    let high_risk_only = PatrolPlan {
        id: Uuid::now_v7(),
        grid_id: "g3".into(),
        worker_id: None,
        place_types: vec![],
        risk_levels: vec![RiskLevel::High],
        every_days: Some(2),
        focus_items: vec![],
        active: true,
        note: String::new(),
        starts_on: None,
        ends_on: None,
    };
    t.store.put_plan(&o1, high_risk_only).unwrap();
    let w3_due = t.store.due_patrols(&t.actor("w3")).unwrap();
    assert_eq!((w3_due.len(), w3_due[0].cycle_days), (1, 15));

    // The campaign ends: the township switches the plan off, the rule applies again.
    let ended = PatrolPlan {
        active: false,
        ..plan.clone()
    };
    t.store.put_plan(&o1, ended).unwrap();
    assert!(
        t.store.due_patrols(&w1).unwrap().is_empty(),
        "back to the 15-day rule"
    );
    t.advance_days(13);
    assert_eq!(t.store.due_patrols(&w1).unwrap().len(), 1);
    assert!(t
        .store
        .patrol_form(t.place_g1)
        .unwrap()
        .focus_items
        .is_empty());

    // A dated plan applies within its dates only, switched off or not; its end is not before
    // its start.
    let today = t.today();
    let dated = |from: i32, to: i32| PatrolPlan {
        id: Uuid::now_v7(),
        starts_on: Some(today.plus(from)),
        ends_on: Some(today.plus(to)),
        ..plan.clone()
    };
    assert_eq!(
        t.store.put_plan(&l1, dated(1, 0)).unwrap_err().code(),
        "invalid_input"
    );
    t.store.put_plan(&l1, dated(-10, -1)).unwrap();
    t.store.put_plan(&l1, dated(1, 10)).unwrap();
    assert!(t
        .store
        .patrol_form(t.place_g1)
        .unwrap()
        .focus_items
        .is_empty());
    t.advance_days(1);
    assert_eq!(
        t.store.patrol_form(t.place_g1).unwrap().focus_items,
        ["no_ebike_indoor"]
    );
}

#[test]
fn allowed_transitions_follow_state_role_and_separation_of_duties() {
    use gridpatrol_core::hazard::{HazardEvent, NewHazard, Severity};
    let town = common::town();
    let s = &town.store;
    let (w1, l1, o1, w3) = (
        town.actor("w1"),
        town.actor("l1"),
        town.actor("o1"),
        town.actor("w3"),
    );
    let h = s
        .report_hazard(
            &w1,
            NewHazard::new(town.place_g1, "wiring", Severity::General, "私拉电线"),
        )
        .unwrap();
    assert_eq!(
        s.allowed_transitions(&w1, h).unwrap(),
        ["notify", "fix_on_spot", "escalate"]
    );
    assert!(s.allowed_transitions(&l1, h).unwrap().contains(&"withdraw"));
    assert!(
        s.allowed_transitions(&w3, h).unwrap().is_empty(),
        "another grid's worker"
    );
    s.hazard_event(
        &w1,
        h,
        HazardEvent::SubmitRectification {
            note: String::new(),
            photos: vec![],
        },
    )
    .unwrap_err();
    s.hazard_event(
        &w1,
        h,
        HazardEvent::Notify {
            responsible_party: "店主".into(),
            deadline: town.today().plus(3),
            note: String::new(),
        },
    )
    .unwrap();
    s.hazard_event(
        &w1,
        h,
        HazardEvent::SubmitRectification {
            note: String::new(),
            photos: vec![],
        },
    )
    .unwrap();
    assert!(
        !s.allowed_transitions(&w1, h).unwrap().contains(&"review"),
        "not one's own"
    );
    assert!(s.allowed_transitions(&l1, h).unwrap().contains(&"review"));
    assert!(s.allowed_transitions(&o1, h).unwrap().contains(&"review"));
}

#[test]
fn photos_are_kept_by_hash_and_local_citations_queue_them_for_upload() {
    use gridpatrol_core::hazard::{NewHazard, Severity};
    let town = common::town();
    let s = &town.store;
    let w1 = town.actor("w1");
    let hash = s
        .add_photo(b"\xff\xd8 a photo of a broken extinguisher")
        .unwrap();
    assert_eq!(hash.len(), 64);
    assert_eq!(
        s.add_photo(b"\xff\xd8 a photo of a broken extinguisher")
            .unwrap(),
        hash
    );
    assert_eq!(
        std::fs::read(s.photo_path(&hash).unwrap()).unwrap(),
        b"\xff\xd8 a photo of a broken extinguisher"
    );
    assert!(
        s.photo_path("../etc/passwd").is_err(),
        "only hashes name photo files"
    );
    assert!(
        s.photo_queue().unwrap().is_empty(),
        "kept, but cited by nothing yet"
    );

    let mut h = NewHazard::new(town.place_g1, "wiring", Severity::General, "私拉电线");
    h.photos = vec![hash.clone()];
    let id = s.report_hazard(&w1, h).unwrap();
    let queue = s.photo_queue().unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!((queue[0].hash.as_str(), queue[0].sent), (hash.as_str(), 0));

    // Another device's op citing a photo does not queue it here.
    let dir = tempfile::tempdir().unwrap();
    let other = gridpatrol_core::Store::open(
        dir.path().join("o.db"),
        gridpatrol_core::Clock::manual(common::T0),
    )
    .unwrap();
    for op in s.ops().unwrap() {
        other.apply_remote(&op).unwrap();
    }
    assert!(other.photo_queue().unwrap().is_empty());
    assert_eq!(other.hazard(id).unwrap().hazard.report.photos, [hash]);
}

#[test]
fn photo_captures_record_where_and_when_and_pair_before_with_after() {
    use gridpatrol_core::hazard::{NewHazard, Severity};
    use gridpatrol_core::patrol::GpsSample;
    use gridpatrol_core::photo::{CaptureInput, PhotoRole};
    let town = common::town();
    let s = &town.store;
    let w1 = town.actor("w1");
    let hazard = s
        .report_hazard(
            &w1,
            NewHazard::new(town.place_g1, "wiring", Severity::General, "私拉电线"),
        )
        .unwrap();
    let at = |lat: f64, lon: f64| GpsSample {
        lat: Some(lat),
        lon: Some(lon),
        accuracy_m: Some(8.0),
        mock: false,
    };
    let capture = |bytes: &[u8], role, gps| {
        s.capture_photo(
            &w1,
            bytes,
            CaptureInput {
                place_id: town.place_g1,
                hazard_id: Some(hazard),
                role,
                taken_at: common::T0,
                gps,
            },
        )
    };
    let before = capture(b"before", PhotoRole::Before, at(37.8, 112.5)).unwrap();
    // About 11 m north.
    let after = capture(b"after", PhotoRole::After, at(37.8001, 112.5)).unwrap();
    let pairs = s.photo_pairs(hazard).unwrap();
    assert_eq!(pairs.len(), 1);
    assert_eq!(
        (pairs[0].before.as_str(), pairs[0].after.as_str()),
        (before.as_str(), after.as_str())
    );
    let d = pairs[0].distance_m.unwrap();
    assert!((10.0..12.5).contains(&d), "{d}");
    assert_eq!(s.photo_queue().unwrap().len(), 2, "both queued for upload");

    // Bad input changes nothing; another grid's worker may not attach.
    let mock_far = GpsSample {
        lat: Some(95.0),
        ..at(0.0, 0.0)
    };
    assert!(capture(b"x", PhotoRole::After, mock_far).is_err());
    let w3 = town.actor("w3");
    assert!(s
        .capture_photo(
            &w3,
            b"y",
            CaptureInput {
                place_id: town.place_g1,
                hazard_id: None,
                role: PhotoRole::Document,
                taken_at: common::T0,
                gps: GpsSample::default(),
            },
        )
        .is_err());
    assert_eq!(s.photo_queue().unwrap().len(), 2);

    // Another device folds the same captures into the same pairs.
    let dir = tempfile::tempdir().unwrap();
    let other = gridpatrol_core::Store::open(
        dir.path().join("o.db"),
        gridpatrol_core::Clock::manual(common::T0),
    )
    .unwrap();
    for op in s.ops().unwrap() {
        other.apply_remote(&op).unwrap();
    }
    assert_eq!(other.photo_pairs(hazard).unwrap(), pairs);
}

#[test]
fn a_display_copy_has_its_footer_burned_in_and_the_original_is_untouched() {
    use gridpatrol_core::patrol::GpsSample;
    use gridpatrol_core::photo::{CaptureInput, PhotoRole};
    use sha2::Digest;
    const FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";
    let font = std::fs::read(FONT)
        .unwrap_or_else(|_| panic!("{FONT} is missing: apt-get install fonts-wqy-microhei"));
    let town = common::town();
    let s = &town.store;
    // A 2400 × 1800 camera picture: a smooth gradient, nothing bright at the bottom.
    let source = image::RgbImage::from_fn(2400, 1800, |x, y| {
        image::Rgb([(x / 12) as u8, (y / 12) as u8, 90])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&source)
        .unwrap();
    let hash = s
        .capture_photo(
            &town.actor("w1"),
            &jpeg,
            CaptureInput {
                place_id: town.place_g1,
                hazard_id: None,
                role: PhotoRole::Before,
                taken_at: common::T0,
                gps: GpsSample {
                    lat: Some(37.8),
                    lon: Some(112.5),
                    accuracy_m: Some(6.0),
                    mock: false,
                },
            },
        )
        .unwrap();
    let copy = s.make_display_copy(&hash, &font).unwrap();
    let display = image::open(&copy.display).unwrap().to_rgb8();
    assert_eq!((display.width(), display.height()), (1600, 1200));
    let thumb = image::open(&copy.thumbnail).unwrap().to_rgb8();
    assert_eq!(thumb.width().max(thumb.height()), 320);
    // The footer band: darkened, so every bright pixel there is the burned-in text.
    let band = 1200 / 9;
    let bright = (1200 - band..1200)
        .flat_map(|y| (0..1600).map(move |x| (x, y)))
        .filter(|&(x, y)| display.get_pixel(x, y).0.iter().all(|&v| v > 200))
        .count();
    assert!(
        bright > 2000,
        "text drawn in the footer: {bright} bright pixels"
    );
    let above = display.get_pixel(800, 300).0;
    assert!(
        above.iter().all(|&v| v < 200),
        "the picture itself is not washed out"
    );
    // The evidence is unchanged.
    let original = std::fs::read(s.photo_path(&hash).unwrap()).unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&original)), hash);
    assert!(s.make_display_copy(&hash, b"not a font").is_err());
}
