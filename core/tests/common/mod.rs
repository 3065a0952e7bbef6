//! A small township for tests: county c1 → township t1 → villages v1 (grids g1, g2) and v2
//! (grid g3). Workers w1 and w2 share g1, w3 works g3; l1 and l2 lead v1 and v2; o1 and o2 are
//! the township officers; b1 is the brigade advisor. One place in g1, one in g3.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use gridpatrol_core::clock::{Clock, Day, MS_PER_DAY};
use gridpatrol_core::org::{Actor, OrgLevel, OrgNode, Role, User};
use gridpatrol_core::place::{GeoPoint, NewPlace, RiskLevel};
use gridpatrol_core::Store;
use uuid::Uuid;

/// 2026-03-02 09:00 China time.
pub const T0: i64 = 1_772_413_200_000;

pub struct Town {
    pub store: Store,
    pub dir: tempfile::TempDir,
    pub place_g1: Uuid,
    pub place_g3: Uuid,
}

impl Town {
    pub fn actor(&self, id: &str) -> Actor {
        self.store.actor(id).expect("actor")
    }
    pub fn today(&self) -> Day {
        self.store.today()
    }
    pub fn advance_days(&self, n: i64) {
        self.store.clock().advance_ms(n * MS_PER_DAY);
    }
}

/// A scratch folder, in memory (tmpfs) where the machine has one: property tests open
/// thousands of stores, and nothing here needs to survive a power cut.
pub fn scratch() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().expect("tempdir")
}

pub fn empty_store() -> (Store, tempfile::TempDir) {
    let dir = scratch();
    let store = Store::open(dir.path().join("t.db"), Clock::manual(T0)).expect("open");
    (store, dir)
}

pub fn town() -> Town {
    let (store, dir) = empty_store();
    let sys = Actor::provisioner();
    let node = |id: &str, level, parent: Option<&str>| OrgNode {
        id: id.into(),
        level,
        parent_id: parent.map(Into::into),
        name: format!("节点{id}"),
    };
    for n in [
        node("c1", OrgLevel::County, None),
        node("t1", OrgLevel::Township, Some("c1")),
        node("v1", OrgLevel::Village, Some("t1")),
        node("v2", OrgLevel::Village, Some("t1")),
        node("g1", OrgLevel::Grid, Some("v1")),
        node("g2", OrgLevel::Grid, Some("v1")),
        node("g3", OrgLevel::Grid, Some("v2")),
    ] {
        store.put_org_node(&sys, n).unwrap();
    }
    store.install_library().unwrap();
    let users = [
        ("w1", Role::GridWorker, vec!["g1"]),
        ("w2", Role::GridWorker, vec!["g1", "g2"]),
        ("w3", Role::GridWorker, vec!["g3"]),
        ("l1", Role::VillageLeader, vec!["v1"]),
        ("l2", Role::VillageLeader, vec!["v2"]),
        ("o1", Role::TownshipOfficer, vec!["t1"]),
        ("o2", Role::TownshipOfficer, vec!["t1"]),
        ("b1", Role::BrigadeAdvisor, vec!["c1"]),
    ];
    for (id, role, orgs) in users {
        store
            .put_user(
                &sys,
                User {
                    id: id.into(),
                    name: format!("用户{id}"),
                    phone: Some("13800000000".into()),
                    role,
                    org_ids: orgs.into_iter().map(Into::into).collect(),
                },
            )
            .unwrap();
    }
    let place = |grid: &str, worker: &str, ptype: &str| {
        store
            .create_place(
                &store.actor(worker).unwrap(),
                NewPlace {
                    place_type: ptype.into(),
                    name: format!("{grid}小超市"),
                    address: "一组1号".into(),
                    location: Some(GeoPoint {
                        lat: 37.8,
                        lon: 112.5,
                    }),
                    grid_id: grid.into(),
                    responsible_name: "店主".into(),
                    responsible_phone: Some("13900000000".into()),
                    risk_level: RiskLevel::Medium,
                    patrol_every_days: None,
                },
            )
            .unwrap()
    };
    let place_g1 = place("g1", "w1", "small_shop");
    let place_g3 = place("g3", "w3", "rental_house");
    Town {
        store,
        dir,
        place_g1,
        place_g3,
    }
}

/// A visit to `place` with its first item answered 不适用: the least that counts as a patrol.
pub fn visit(store: &Store, who: &Actor, place: Uuid) -> gridpatrol_core::patrol::PatrolOutcome {
    store
        .record_patrol(
            who,
            gridpatrol_core::patrol::PatrolInput {
                place_id: place,
                started_at: store.device_wall_ms() - 60_000,
                gps: gridpatrol_core::patrol::GpsSample::default(),
                answers: vec![(
                    store.patrol_form(place).expect("form").template.items[0]
                        .key
                        .clone(),
                    gridpatrol_core::checklist::AnswerValue::NotApplicable,
                )],
                raise: vec![],
                note: String::new(),
            },
        )
        .expect("visit")
}

/// A photo reference (64 hex chars).
pub fn photo(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// Every table's rows, as text, for "nothing changed" checks.
pub fn dump(store: &Store) -> String {
    dump_tables(store, |_| true)
}

/// The derived state only: every table but the op log and the device row.
pub fn dump_state(store: &Store) -> String {
    dump_tables(store, |t| t != "ops" && t != "device")
}

fn dump_tables(store: &Store, wanted: impl Fn(&str) -> bool) -> String {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = String::new();
    for t in tables.into_iter().filter(|t| wanted(t)) {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {t} ORDER BY 1, 2"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let mut s = String::new();
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    s.push_str(&format!("{v:?}|"));
                }
                Ok(s)
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        out.push_str(&format!("## {t}\n{}\n", rows.join("\n")));
    }
    out
}
