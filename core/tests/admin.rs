//! Keeping a township current (issue 15): who may change areas and people (`admin`), places a
//! grid worker registers await confirmation (新增), and campaigns with their figures against a
//! hand count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{town, visit};
use gridpatrol_core::campaign::Campaign;
use gridpatrol_core::clock::Day;
use gridpatrol_core::hazard::{NewHazard, Severity};
use gridpatrol_core::org::{Actor, OrgLevel, OrgNode, Role, User};
use gridpatrol_core::place::{NewPlace, PlaceChanges, RiskLevel};
use uuid::Uuid;

fn node(id: &str, level: OrgLevel, parent: &str) -> OrgNode {
    OrgNode {
        id: id.into(),
        level,
        parent_id: Some(parent.into()),
        name: format!("新{id}"),
    }
}

fn worker(id: &str, grid: &str) -> User {
    User {
        id: id.into(),
        name: "新人".into(),
        phone: None,
        role: Role::GridWorker,
        org_ids: vec![grid.into()],
    }
}

#[test]
fn an_officer_keeps_the_townships_areas_and_nobody_else_does() {
    let t = town();
    let (o1, l1) = (t.actor("o1"), t.actor("l1"));
    // Another township the officer has nothing to do with.
    let sys = Actor::provisioner();
    t.store
        .put_org_node(&sys, node("t2", OrgLevel::Township, "c1"))
        .unwrap();
    t.store
        .put_org_node(&sys, node("v9", OrgLevel::Village, "t2"))
        .unwrap();

    t.store
        .administer_area(&o1, node("v3", OrgLevel::Village, "t1"))
        .unwrap();
    t.store
        .administer_area(&o1, node("g4", OrgLevel::Grid, "v3"))
        .unwrap();
    // Moving a grid: g3 from v2 to v3; the officer's scope still holds it.
    t.store
        .administer_area(&o1, node("g3", OrgLevel::Grid, "v3"))
        .unwrap();
    assert_eq!(
        t.store.org_node("g3").unwrap().parent_id.as_deref(),
        Some("v3")
    );
    assert_eq!(t.store.grids_under("v3").unwrap(), ["g3", "g4"]);
    assert!(t.actor("o1").covers("g4"));

    let refused = |who: &Actor, n: OrgNode| t.store.administer_area(who, n).unwrap_err().code();
    assert_eq!(
        refused(&l1, node("g5", OrgLevel::Grid, "v1")),
        "role_not_allowed"
    );
    assert_eq!(
        refused(&o1, node("g5", OrgLevel::Grid, "v9")),
        "out_of_scope"
    );
    // Nor can a grid of its own be moved out, or another township's village be taken in.
    assert_eq!(
        refused(&o1, node("g1", OrgLevel::Grid, "v9")),
        "out_of_scope"
    );
    assert_eq!(
        refused(&o1, node("v9", OrgLevel::Village, "t1")),
        "out_of_scope"
    );
    assert_eq!(
        refused(&o1, node("t3", OrgLevel::Township, "c1")),
        "role_not_allowed"
    );
    assert_eq!(
        t.store.org_node("v9").unwrap().parent_id.as_deref(),
        Some("t2")
    );
}

#[test]
fn a_leader_keeps_the_villages_grid_workers_only() {
    let t = town();
    let (o1, l1, w1) = (t.actor("o1"), t.actor("l1"), t.actor("w1"));
    t.store.administer_user(&l1, worker("w10", "g2")).unwrap();
    assert_eq!(t.actor("w10").grids, ["g2"]);
    let code = |who: &Actor, u: User| t.store.administer_user(who, u).unwrap_err().code();
    // Not into another village, not someone of another village, not a leader.
    assert_eq!(code(&l1, worker("w10", "g3")), "out_of_scope");
    assert_eq!(code(&l1, worker("w3", "g1")), "out_of_scope");
    let mut leader = worker("l9", "v1");
    leader.role = Role::VillageLeader;
    assert_eq!(code(&l1, leader.clone()), "role_not_allowed");
    assert_eq!(code(&w1, worker("w11", "g1")), "role_not_allowed");
    t.store.administer_user(&o1, leader).unwrap();
    // Not one's own record, nor the id the setup records act as.
    assert_eq!(code(&o1, worker("system", "g1")), "role_not_allowed");
    let mut me = t.store.user("o1").unwrap();
    me.org_ids = vec!["t1".into()];
    assert_eq!(code(&o1, me), "role_not_allowed");

    // Accounts: the same rule, and never one's own from here.
    t.store.may_manage_account(&l1, "w10").unwrap();
    assert_eq!(
        t.store.may_manage_account(&l1, "w3").unwrap_err().code(),
        "out_of_scope"
    );
    assert_eq!(
        t.store.may_manage_account(&o1, "o1").unwrap_err().code(),
        "role_not_allowed"
    );
    assert_eq!(
        t.store.may_manage_account(&o1, "b1").unwrap_err().code(),
        "role_not_allowed"
    );
    let kept: Vec<String> = t
        .store
        .kept_users(&l1)
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(kept, ["w1", "w10", "w2"]);
}

#[test]
fn a_place_a_grid_worker_registers_is_new_until_the_village_confirms_it() {
    let t = town();
    let (w1, l1, o1) = (t.actor("w1"), t.actor("l1"), t.actor("o1"));
    assert!(t.store.place(t.place_g1).unwrap().pending);
    let confirm = PlaceChanges {
        place_id: t.place_g1,
        confirmed: Some(true),
        ..Default::default()
    };
    // The worker corrects who answers for it, but cannot confirm, move or archive it.
    t.store
        .update_place(
            &w1,
            PlaceChanges {
                place_id: t.place_g1,
                responsible_name: Some("新店主".into()),
                ..Default::default()
            },
        )
        .unwrap();
    for change in [
        confirm.clone(),
        PlaceChanges {
            place_id: t.place_g1,
            grid_id: Some("g2".into()),
            ..Default::default()
        },
        PlaceChanges {
            place_id: t.place_g1,
            archived: Some(true),
            ..Default::default()
        },
    ] {
        assert_eq!(
            t.store.update_place(&w1, change).unwrap_err().code(),
            "role_not_allowed"
        );
    }
    assert!(t.store.place(t.place_g1).unwrap().pending);
    t.store.update_place(&l1, confirm).unwrap();
    let row = t.store.place(t.place_g1).unwrap();
    assert!(!row.pending);
    assert_eq!(row.place.responsible_name, "新店主");
    // The office's own places need no confirming.
    let id = t
        .store
        .create_place(
            &o1,
            NewPlace {
                place_type: "street_shop".into(),
                name: "办公室登记".into(),
                address: String::new(),
                location: None,
                grid_id: "g3".into(),
                responsible_name: String::new(),
                responsible_phone: None,
                risk_level: RiskLevel::Low,
                patrol_every_days: None,
            },
        )
        .unwrap();
    assert!(!t.store.place(id).unwrap().pending);
    // A rebuild from the log folds the same.
    t.store.rebuild().unwrap();
    assert!(!t.store.place(t.place_g1).unwrap().pending);
    assert!(t.store.place(t.place_g3).unwrap().pending);
}

fn campaign(types: &[&str]) -> Campaign {
    Campaign {
        id: Uuid::now_v7(),
        township_id: "t1".into(),
        name: "出租房电动自行车专项行动".into(),
        starts_on: Day::from_ms(common::T0),
        ends_on: Day::from_ms(common::T0).plus(30),
        place_types: types.iter().map(|t| t.to_string()).collect(),
        focus_items: vec!["no_ebike_indoor".into()],
        note: String::new(),
        active: true,
    }
}

#[test]
fn a_campaign_shows_its_focus_items_and_counts_its_figures_as_by_hand() {
    let t = town();
    let (o1, l1, w1, w3) = (t.actor("o1"), t.actor("l1"), t.actor("w1"), t.actor("w3"));
    let c = campaign(&["rental_house"]);
    assert_eq!(
        t.store.put_campaign(&l1, c.clone()).unwrap_err().code(),
        "role_not_allowed"
    );
    let mut bad = c.clone();
    bad.ends_on = bad.starts_on.plus(-1);
    assert_eq!(
        t.store.put_campaign(&o1, bad).unwrap_err().code(),
        "invalid_input"
    );
    let mut unknown_item = c.clone();
    unknown_item.focus_items = vec!["no_such_item".into()];
    assert_eq!(
        t.store.put_campaign(&o1, unknown_item).unwrap_err().code(),
        "invalid_input"
    );
    let id = t.store.put_campaign(&o1, c.clone()).unwrap();

    // Its focus items show on a patrol of a rental house (g3), not of the shop (g1).
    assert!(t
        .store
        .patrol_form(t.place_g3)
        .unwrap()
        .focus_items
        .contains(&"no_ebike_indoor".to_string()));
    assert!(t
        .store
        .patrol_form(t.place_g1)
        .unwrap()
        .focus_items
        .is_empty());

    // By hand: one rental house in the township (g3); patrolled twice; one hazard found there
    // and one at the shop, which the campaign does not reach.
    visit(&t.store, &w3, t.place_g3);
    visit(&t.store, &w3, t.place_g3);
    visit(&t.store, &w1, t.place_g1);
    t.store
        .report_hazard(
            &w3,
            NewHazard::new(t.place_g3, "wiring", Severity::General, "x"),
        )
        .unwrap();
    t.store
        .report_hazard(
            &w1,
            NewHazard::new(t.place_g1, "wiring", Severity::General, "y"),
        )
        .unwrap();
    let f = t.store.campaign_figures(id, "t1").unwrap();
    assert_eq!(
        (f.places, f.patrolled, f.patrols, f.hazards, f.closed),
        (1, 1, 2, 1, 0)
    );
    assert_eq!(f.coverage_rate(), Some(1.0));
    let v1 = t.store.campaign_figures(id, "v1").unwrap();
    assert_eq!((v1.places, v1.patrols, v1.hazards), (0, 0, 0));
    // The export: the township, then each village and its grids, one row each.
    let csv = String::from_utf8(t.store.campaign_csv(id, "t1").unwrap()).unwrap();
    assert_eq!(csv.lines().count(), 1 + 1 + 2 + 3, "{csv}");
    assert!(
        csv.lines().nth(1).unwrap().contains(",1,1,100.0%,2,1,0,"),
        "{csv}"
    );

    // Called off: no focus items any more, figures kept; calling off works even once its
    // focus item has been switched off in every checklist since.
    for list in gridpatrol_core::checklist::library().templates.iter() {
        let keep: Vec<String> = list
            .items
            .iter()
            .map(|i| i.key.clone())
            .filter(|k| k != "no_ebike_indoor")
            .collect();
        let edit = gridpatrol_core::township_items::ChecklistEdit {
            template_id: list.id.clone(),
            keep,
            add: None,
        };
        t.store.edit_checklist(&o1, edit).unwrap();
    }
    let mut stopped = c;
    stopped.active = false;
    t.store.put_campaign(&o1, stopped).unwrap();
    assert!(t
        .store
        .patrol_form(t.place_g3)
        .unwrap()
        .focus_items
        .is_empty());
    assert_eq!(t.store.campaign_figures(id, "t1").unwrap().patrols, 2);
}

#[test]
fn a_township_switches_items_off_and_adds_its_own_as_a_new_version() {
    use gridpatrol_core::township_items::{ChecklistEdit, NewItem};
    let t = town();
    let (o1, l1, w1) = (t.actor("o1"), t.actor("l1"), t.actor("w1"));
    let before = t.store.patrol_form(t.place_g1).unwrap().template;
    visit(&t.store, &w1, t.place_g1);
    let keep: Vec<String> = before.items.iter().skip(1).map(|i| i.key.clone()).collect();
    let edit = ChecklistEdit {
        template_id: before.id.clone(),
        keep: keep.clone(),
        add: Some(NewItem {
            label: "电动自行车不在楼道充电".into(),
            category: "ebike".into(),
            severity: Severity::General,
            deadline_days: 3,
            fixable_on_spot: true,
        }),
    };
    assert_eq!(
        t.store
            .edit_checklist(&l1, edit.clone())
            .unwrap_err()
            .code(),
        "role_not_allowed"
    );
    let v = t.store.edit_checklist(&o1, edit).unwrap();
    assert_eq!(v, before.version + 1);
    let after = t.store.patrol_form(t.place_g1).unwrap().template;
    assert_eq!(after.version, v);
    assert!(!after.items.iter().any(|i| i.key == before.items[0].key));
    let own = after.items.last().unwrap();
    assert_eq!(
        (own.label.as_str(), own.category.as_str()),
        ("电动自行车不在楼道充电", "ebike")
    );
    // The patrol made before keeps its version; the switched-off item comes back on request,
    // and an edit that changes nothing publishes nothing.
    let file = t.store.place_file(t.place_g1).unwrap();
    assert_eq!(
        file.patrols[0].template,
        format!("{} v{}", before.id, before.version)
    );
    let mut all: Vec<String> = before.items.iter().map(|i| i.key.clone()).collect();
    all.push(own.key.clone());
    let back = ChecklistEdit {
        template_id: before.id.clone(),
        keep: all.clone(),
        add: None,
    };
    let v3 = t.store.edit_checklist(&o1, back.clone()).unwrap();
    assert_eq!(v3, v + 1);
    assert_eq!(
        t.store.template(&before.id, None).unwrap().items.len(),
        before.items.len() + 1
    );
    assert_eq!(t.store.edit_checklist(&o1, back).unwrap(), v3);
    let mut bad = ChecklistEdit {
        template_id: before.id.clone(),
        keep: all,
        add: Some(NewItem {
            label: String::new(),
            category: "no_such".into(),
            severity: Severity::General,
            deadline_days: 3,
            fixable_on_spot: false,
        }),
    };
    assert_eq!(
        t.store.edit_checklist(&o1, bad.clone()).unwrap_err().code(),
        "invalid_input"
    );
    bad.add = None;
    bad.keep.clear();
    assert_eq!(
        t.store.edit_checklist(&o1, bad).unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(t.store.template(&before.id, None).unwrap().version, v3);
}
