//! The demo township: 1 township, 3 villages, 8 grids, 200 places, the checklist library and
//! users of every role, with a scripted walk through every hazard lifecycle path followed by
//! weeks of simulated patrols. All names and phone numbers are invented. The run is
//! deterministic (fixed seed, manual clock), so tests can check its figures by hand.

mod paths;
mod registers;
mod simulate;

use std::fmt::Write as _;

use crate::clock::{Clock, Day};
use crate::error::Result;
use crate::hazard::{HazardEvent, Severity};
use crate::org::{Actor, OrgLevel, OrgNode, Role, User};
use crate::place::{GeoPoint, NewPlace, RiskLevel};
use crate::report::Report;
use crate::store::Store;
pub use simulate::simulate;

pub const TOWNSHIP: &str = "t01";
/// The demo starts on 2026-09-01 08:00 China time.
pub const START_MS: i64 = 1_788_220_800_000;
pub const SIMULATED_DAYS: i32 = 60;

/// A clock for the demo: manual, starting at `START_MS`.
pub fn clock() -> Clock {
    Clock::manual(START_MS)
}

/// splitmix64: a tiny deterministic generator, so the demo (and the load generator, whose
/// devices draw from neighbouring seeds) needs no randomness crate.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

const VILLAGES: [(&str, &str, &[&str]); 3] = [
    ("v01", "东沟村", &["g01", "g02", "g03"]),
    ("v02", "西岭村", &["g04", "g05", "g06"]),
    ("v03", "南河社区", &["g07", "g08"]),
];

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "郭", "马",
];
const GIVEN: [&str; 12] = [
    "建国", "秀英", "海燕", "志强", "桂兰", "晓东", "丽娟", "文斌", "春梅", "国庆", "玉珍", "永刚",
];

/// The demo's people: the worker(s) of each grid, each village's leader, the two township
/// officers and the brigade advisor.
pub struct Cast {
    pub workers: Vec<(String, Vec<String>)>,
    pub leaders: Vec<(String, String)>,
    pub officers: [String; 2],
    pub advisor: String,
}

impl Cast {
    pub fn worker_of(&self, grid: &str) -> &str {
        self.workers
            .iter()
            .find(|(_, g)| g.iter().any(|x| x == grid))
            .map_or("w01", |(w, _)| w.as_str())
    }
    pub fn leader_of(&self, village: &str) -> &str {
        self.leaders
            .iter()
            .find(|(_, v)| v == village)
            .map_or("l01", |(l, _)| l.as_str())
    }
}

fn person(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(&SURNAMES), rng.pick(&GIVEN))
}

fn phone(rng: &mut Rng) -> String {
    format!(
        "1{}{:08}",
        rng.pick(&[35, 37, 38, 39, 58, 86]),
        rng.below(100_000_000)
    )
}

/// Who the demo township's people are.
fn cast() -> Cast {
    // One worker per grid, except that w01 covers two grids and g03 has two workers.
    let workers: Vec<(String, Vec<String>)> = vec![
        ("w01".into(), vec!["g01".into(), "g02".into()]),
        ("w03".into(), vec!["g03".into()]),
        ("w09".into(), vec!["g03".into()]),
        ("w04".into(), vec!["g04".into()]),
        ("w05".into(), vec!["g05".into()]),
        ("w06".into(), vec!["g06".into()]),
        ("w07".into(), vec!["g07".into()]),
        ("w08".into(), vec!["g08".into()]),
    ];
    let leaders: Vec<(String, String)> = VILLAGES
        .iter()
        .enumerate()
        .map(|(i, (v, _, _))| (format!("l0{}", i + 1), v.to_string()))
        .collect();
    Cast {
        workers,
        leaders,
        officers: ["o01".into(), "o02".into()],
        advisor: "b01".into(),
    }
}

/// The ids of everyone the demo seeds: its cast, and the worker of each of `more_grids`
/// extra grids (`seed_more_grids`). A demo server sets the demo password for these only.
pub fn user_ids(more_grids: usize) -> Vec<String> {
    let c = cast();
    c.workers
        .into_iter()
        .map(|(w, _)| w)
        .chain(c.leaders.into_iter().map(|(l, _)| l))
        .chain(c.officers)
        .chain([c.advisor])
        .chain((0..more_grids).map(extra_worker))
        .collect()
}

fn extra_worker(g: usize) -> String {
    format!("xw{g:04}")
}

/// Installs the org tree, users, library and 200 places. Returns the cast.
pub fn seed(store: &Store) -> Result<Cast> {
    let sys = Actor::provisioner();
    let mut rng = Rng(20221085);
    let node = |id: &str, level, parent: Option<&str>, name: &str| OrgNode {
        id: id.into(),
        level,
        parent_id: parent.map(Into::into),
        name: name.into(),
    };
    store.put_org_node(&sys, node("c01", OrgLevel::County, None, "示范县"))?;
    store.put_org_node(
        &sys,
        node(TOWNSHIP, OrgLevel::Township, Some("c01"), "青石镇"),
    )?;
    for (v, name, grids) in VILLAGES {
        store.put_org_node(&sys, node(v, OrgLevel::Village, Some(TOWNSHIP), name))?;
        for (i, g) in grids.iter().enumerate() {
            let gname = format!("{name}第{}网格", i + 1);
            store.put_org_node(&sys, node(g, OrgLevel::Grid, Some(v), &gname))?;
        }
    }
    store.install_library()?;

    let Cast {
        workers, leaders, ..
    } = cast();
    let mut user = |id: &str, role, orgs: Vec<String>| {
        store.put_user(
            &sys,
            User {
                id: id.into(),
                name: person(&mut rng),
                phone: Some(phone(&mut rng)),
                role,
                org_ids: orgs,
            },
        )
    };
    for (w, grids) in &workers {
        user(w, Role::GridWorker, grids.clone())?;
    }
    for (l, v) in &leaders {
        user(l, Role::VillageLeader, vec![v.clone()])?;
    }
    user("o01", Role::TownshipOfficer, vec![TOWNSHIP.into()])?;
    user("o02", Role::TownshipOfficer, vec![TOWNSHIP.into()])?;
    user("b01", Role::BrigadeAdvisor, vec!["c01".into()])?;
    let cast = Cast {
        workers,
        leaders,
        ..cast()
    };

    // 25 places per grid: a mix weighted the way a rural township looks.
    let mix: [(&str, &str, u64); 12] = [
        ("farm_household", "农户", 30),
        ("rental_house", "出租房", 12),
        ("shared_rental", "群租房", 4),
        ("small_shop", "便民超市", 10),
        ("small_restaurant", "农家饭店", 8),
        ("small_hotel", "小旅馆", 4),
        ("street_shop", "沿街商铺", 10),
        ("business_self_built", "自建房门店", 8),
        ("small_workshop", "加工作坊", 6),
        ("homestay", "民宿", 4),
        ("high_rise", "住宅楼", 2),
        ("heritage_building", "古庙", 2),
    ];
    let total: u64 = mix.iter().map(|m| m.2).sum();
    for (vi, (_, vname, grids)) in VILLAGES.iter().enumerate() {
        for (gi, g) in grids.iter().enumerate() {
            // The township's register (底数清单), as an officer imports it: none await confirming.
            let actor = store.actor("o01")?;
            for n in 0..25 {
                let mut roll = rng.below(total);
                let &(ptype, label, _) = mix
                    .iter()
                    .find(|m| {
                        let hit = roll < m.2;
                        roll = roll.saturating_sub(m.2);
                        hit
                    })
                    .unwrap_or(&mix[0]);
                let risk = match rng.below(10) {
                    0..=1 => RiskLevel::High,
                    2..=5 => RiskLevel::Medium,
                    _ => RiskLevel::Low,
                };
                let owner = person(&mut rng);
                store.create_place(
                    &actor,
                    NewPlace {
                        place_type: ptype.into(),
                        name: format!("{owner}{label}"),
                        address: format!("{vname}{}组{}号", gi + 1, n + 1),
                        location: Some(GeoPoint {
                            lat: 37.80 + vi as f64 * 0.03 + rng.below(1000) as f64 * 1e-5,
                            lon: 112.50 + gi as f64 * 0.02 + rng.below(1000) as f64 * 1e-5,
                        }),
                        grid_id: g.to_string(),
                        responsible_name: owner,
                        responsible_phone: Some(phone(&mut rng)),
                        risk_level: risk,
                        patrol_every_days: None,
                    },
                )?;
            }
        }
    }
    Ok(cast)
}

/// The in-grid closure count done by hand: walks every hazard's event history (not the
/// report's tables) and counts general hazards with an accepted passing review, and among them
/// those with an accepted escalation. Returns (general closed, of which escalated).
pub fn hand_count(store: &Store, from: Day, to: Day) -> Result<(u32, u32)> {
    let officer = store.actor("o01")?;
    let (mut closed, mut escalated) = (0, 0);
    for row in store.hazards(&officer, None)? {
        let d = store.hazard(row.id)?;
        let accepted = || d.events.iter().filter(|e| e.conflict.is_none());
        let general = accepted()
            .any(|e| matches!(&e.event, HazardEvent::Report(r) if r.severity == Severity::General));
        let reported = Day::from_ms(d.hazard.reported_at);
        let in_period = from <= reported && reported <= to;
        let passed =
            accepted().any(|e| matches!(e.event, HazardEvent::Review { passed: true, .. }));
        if general && in_period && passed {
            closed += 1;
            escalated +=
                u32::from(accepted().any(|e| matches!(e.event, HazardEvent::Escalate { .. })));
        }
    }
    Ok((closed, escalated))
}

/// What the demo did, for printing and for tests.
pub struct DemoRun {
    pub cast: Cast,
    pub log: String,
    pub report: Report,
    pub from: Day,
    pub to: Day,
}

/// A stand-in photo reference (the content hash a real photo would have).
pub(crate) fn photo(n: u64) -> String {
    format!("{:064x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// A made-up camera picture (a JPEG gradient that differs by `seed`).
pub(crate) fn demo_picture(seed: u8) -> Result<Vec<u8>> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x / 3) as u8, (y / 2) as u8, seed.wrapping_mul(80)])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .map_err(|e| crate::error::Error::Export(e.to_string()))?;
    Ok(jpeg)
}

pub(crate) fn text(s: &str) -> String {
    s.to_string()
}

pub(crate) fn review(passed: bool, note: String, new_deadline: Option<Day>) -> HazardEvent {
    HazardEvent::Review {
        passed,
        note,
        new_deadline,
    }
}

pub(crate) fn submit(note: String, photo_seed: u64) -> HazardEvent {
    HazardEvent::SubmitRectification {
        note,
        photos: vec![photo(photo_seed)],
    }
}

/// Walks through every lifecycle path, then simulates `SIMULATED_DAYS` of patrols, and reports.
pub fn run(store: &Store) -> Result<DemoRun> {
    let cast = seed(store)?;
    // The report runs from New Year, so the year's registers entered below count in it.
    let today = store.today();
    let from = crate::report::year_period(&today.to_string()[..4], today)?.0;
    let mut log = paths::walk(store, &cast)?;
    let _ = writeln!(
        log,
        "【今年台账】火灾、责任书与公约、网格员培训考核 / the year's fires, letters and training\n{}",
        registers::backfill(store, &cast, &mut Rng(2026))?
    );
    let _ = writeln!(
        log,
        "【13】模拟 {SIMULATED_DAYS} 天日常巡查 / simulating {SIMULATED_DAYS} days of patrols"
    );
    simulate::simulate(store, &cast, SIMULATED_DAYS, 85)?;
    let to = store.today();
    let report = store.report(TOWNSHIP, from, to)?;
    Ok(DemoRun {
        cast,
        log,
        report,
        from,
        to,
    })
}

/// Grows the demo township for load tests: `grids` more grids (`xg0000`...) in villages of 20
/// (`xv000`...), each with one worker (`xw0000`...) and 10 farm households. Grids already there
/// are left as they are. Returns the ids of the workers added.
pub fn seed_more_grids(store: &Store, grids: usize) -> Result<Vec<String>> {
    let sys = Actor::provisioner();
    let mut rng = Rng(0x10AD_5EED);
    let mut added = Vec::new();
    for g in 0..grids {
        let (village, grid, worker) = (
            format!("xv{:03}", g / 20),
            format!("xg{g:04}"),
            extra_worker(g),
        );
        if store.user(&worker).is_ok() {
            continue;
        }
        let node = |id: &str, level, parent: &str, name: String| OrgNode {
            id: id.into(),
            level,
            parent_id: Some(parent.into()),
            name,
        };
        if g % 20 == 0 {
            let name = format!("扩展{}村", g / 20 + 1);
            store.put_org_node(&sys, node(&village, OrgLevel::Village, TOWNSHIP, name))?;
        }
        let name = format!("扩展网格{}", g + 1);
        store.put_org_node(&sys, node(&grid, OrgLevel::Grid, &village, name))?;
        store.put_user(
            &sys,
            User {
                id: worker.clone(),
                name: person(&mut rng),
                phone: Some(phone(&mut rng)),
                role: Role::GridWorker,
                org_ids: vec![grid.clone()],
            },
        )?;
        let actor = store.actor("o01")?;
        for n in 0..10 {
            let owner = person(&mut rng);
            store.create_place(
                &actor,
                NewPlace {
                    place_type: "farm_household".into(),
                    name: format!("{owner}农户"),
                    address: format!("扩展网格{}第{}号", g + 1, n + 1),
                    location: None,
                    grid_id: grid.clone(),
                    responsible_name: owner,
                    responsible_phone: None,
                    risk_level: RiskLevel::Low,
                    patrol_every_days: None,
                },
            )?;
        }
        added.push(worker);
    }
    Ok(added)
}
