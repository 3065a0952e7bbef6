//! The demo township: 1 township, 3 villages, 8 grids, 200 places, the checklist library and
//! users of every role, with a scripted walk through every hazard lifecycle path followed by
//! weeks of simulated patrols. All names and phone numbers are invented. The run is
//! deterministic (fixed seed, manual clock), so tests can check its figures by hand.

use std::fmt::Write as _;

use uuid::Uuid;

use crate::activity::{ActivityKind, NewActivity};
use crate::checklist::{AnswerValue, ItemKind};
use crate::clock::{Clock, Day, Hlc, MS_PER_DAY};
use crate::error::{Error, Result};
use crate::hazard::{EscalationReason, HazardEvent, HazardStatus, Level, NewHazard, Severity};
use crate::op::{Op, OpBody};
use crate::org::{Actor, OrgLevel, OrgNode, Role, User};
use crate::patrol::{GpsSample, PatrolInput, RaiseHazard};
use crate::place::{GeoPoint, NewPlace, RiskLevel};
use crate::report::Report;
use crate::store::Store;

pub const TOWNSHIP: &str = "t01";
/// The demo starts on 2026-09-01 08:00 China time.
pub const START_MS: i64 = 1_788_220_800_000;
pub const SIMULATED_DAYS: i32 = 60;

/// A clock for the demo: manual, starting at `START_MS`.
pub fn clock() -> Clock {
    Clock::manual(START_MS)
}

/// splitmix64: a tiny deterministic generator, so the demo needs no randomness crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
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
    store.install_library(&sys)?;

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
        officers: ["o01".into(), "o02".into()],
        advisor: "b01".into(),
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
            let actor = store.actor(cast.worker_of(g))?;
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

struct Script<'a> {
    store: &'a Store,
    log: String,
}

impl Script<'_> {
    fn say(&mut self, line: impl AsRef<str>) {
        let _ = writeln!(self.log, "{}", line.as_ref());
    }

    fn act(&mut self, user: &str, hazard: Uuid, ev: HazardEvent) -> Result<()> {
        let actor = self.store.actor(user)?;
        let verb = ev.verb();
        self.store.hazard_event(&actor, hazard, ev)?;
        let h = self.store.hazard(hazard)?.hazard;
        self.say(format!(
            "  {user} ({}) {verb} → {} [{}]{}",
            actor.role.zh(),
            h.status.zh(),
            h.level.code(),
            h.deadline.map_or(String::new(), |d| format!(" 期限 {d}"))
        ));
        Ok(())
    }

    /// An action that the rules must refuse; the refusal is printed, not fatal.
    fn refused(&mut self, user: &str, hazard: Uuid, ev: HazardEvent) -> Result<()> {
        let actor = self.store.actor(user)?;
        let verb = ev.verb();
        match self.store.hazard_event(&actor, hazard, ev) {
            Err(Error::Rejected(r)) => {
                self.say(format!("  {user} {verb} ✗ 被拒绝 / refused: {r}"));
                Ok(())
            }
            Err(Error::Invalid(e)) => {
                self.say(format!("  {user} {verb} ✗ 被拒绝 / refused: {e}"));
                Ok(())
            }
            Err(e) => Err(e),
            Ok(()) => Err(Error::Export(format!(
                "{verb} by {user} should have been refused"
            ))),
        }
    }

    fn days(&self, n: i32) -> Day {
        self.store.today().plus(n)
    }

    fn next_day(&self) {
        self.store.clock().advance_ms(MS_PER_DAY);
    }

    /// A patrol at a place of `grid` that fails `item` and raises a hazard from it.
    fn hazard_from_patrol(
        &mut self,
        grid: &str,
        worker: &str,
        nth: usize,
        item: &str,
    ) -> Result<Uuid> {
        let actor = self.store.actor(worker)?;
        let places = self.store.places(&actor)?;
        let place = places
            .iter()
            .filter(|p| p.place.grid_id == grid)
            .filter(|p| {
                self.store
                    .patrol_form(p.place.id)
                    .is_ok_and(|f| f.template.item(item).is_ok())
            })
            .nth(nth)
            .ok_or_else(|| Error::not_found(crate::error::Entity::Place, grid))?;
        let form = self.store.patrol_form(place.place.id)?;
        let answers: Vec<(String, AnswerValue)> = form
            .template
            .items
            .iter()
            .filter(|i| i.kind == ItemKind::PassFail)
            .map(|i| {
                let v = if i.key == item {
                    AnswerValue::Fail
                } else {
                    AnswerValue::Pass
                };
                (i.key.clone(), v)
            })
            .collect();
        let out = self.store.record_patrol(
            &actor,
            PatrolInput {
                place_id: place.place.id,
                started_at: self.store.now_ms() - 15 * 60_000,
                gps: GpsSample {
                    lat: place.place.location.map(|l| l.lat),
                    lon: place.place.location.map(|l| l.lon),
                    accuracy_m: Some(12.0),
                    mock: false,
                },
                answers,
                raise: vec![RaiseHazard {
                    item_key: item.into(),
                    photos: vec![photo(nth as u64 + 1)],
                    ..RaiseHazard::default()
                }],
                note: String::new(),
            },
        )?;
        let id = out.hazard_ids.first().copied().ok_or(Error::Interrupted)?;
        self.say(format!(
            "  {worker} 巡查 {} 发现隐患 patrol found hazard …{}",
            place.place.place_type,
            &id.to_string()[24..]
        ));
        Ok(id)
    }
}

/// A stand-in photo reference (the content hash a real photo would have).
fn photo(n: u64) -> String {
    format!("{:064x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn text(s: &str) -> String {
    s.to_string()
}

/// Walks through every lifecycle path, then simulates `SIMULATED_DAYS` of patrols, and reports.
pub fn run(store: &Store) -> Result<DemoRun> {
    let cast = seed(store)?;
    let from = store.today();
    let mut s = Script {
        store,
        log: String::new(),
    };
    let (o1, o2) = (cast.officers[0].as_str(), cast.officers[1].as_str());

    s.say("【1】一般隐患闭环 / general hazard closed in the grid");
    let h = s.hazard_from_patrol("g01", "w01", 0, "extinguisher")?;
    let notify = |days: Day| HazardEvent::Notify {
        responsible_party: text("店主"),
        deadline: days,
        note: text("下发整改通知书"),
    };
    s.act("w01", h, notify(s.days(3)))?;
    s.act(
        "w01",
        h,
        HazardEvent::StartRectification {
            note: text("已购买灭火器"),
        },
    )?;
    s.act(
        "w01",
        h,
        HazardEvent::SubmitRectification {
            note: text("灭火器已配齐"),
            photos: vec![photo(11)],
        },
    )?;
    s.refused(
        "w01",
        h,
        HazardEvent::Review {
            passed: true,
            note: String::new(),
            new_deadline: None,
        },
    )?;
    s.act(
        "l01",
        h,
        HazardEvent::Review {
            passed: true,
            note: text("复查合格，销号"),
            new_deadline: None,
        },
    )?;

    s.say("【2】复查不合格返工 / review failed, reworked, closed");
    let h = s.hazard_from_patrol("g04", "w04", 0, "routes_clear")?;
    s.act("w04", h, notify(s.days(1)))?;
    s.act(
        "w04",
        h,
        HazardEvent::SubmitRectification {
            note: text("已清理"),
            photos: vec![photo(12)],
        },
    )?;
    s.act(
        "l02",
        h,
        HazardEvent::Review {
            passed: false,
            note: text("楼梯仍有杂物"),
            new_deadline: Some(s.days(2)),
        },
    )?;
    s.next_day();
    s.act(
        "w04",
        h,
        HazardEvent::SubmitRectification {
            note: text("已彻底清理"),
            photos: vec![photo(13)],
        },
    )?;
    s.act(
        "l02",
        h,
        HazardEvent::Review {
            passed: true,
            note: text("合格"),
            new_deadline: None,
        },
    )?;

    s.say("【3】当场整改 / fixed on the spot with before and after photos");
    let h = s.hazard_from_patrol("g07", "w07", 0, "no_ebike_indoor")?;
    s.act(
        "w07",
        h,
        HazardEvent::FixOnSpot {
            note: text("电动车已移至室外"),
            before_photo: Some(photo(21)),
            after_photo: Some(photo(22)),
        },
    )?;
    s.act(
        "w07",
        h,
        HazardEvent::Review {
            passed: true,
            note: text("当场整改完毕"),
            new_deadline: None,
        },
    )?;

    s.say("【4】延期申请 / extension: the deadline moves only when approved");
    let h = s.hazard_from_patrol("g05", "w05", 0, "wiring")?;
    s.act("w05", h, notify(s.days(7)))?;
    s.act(
        "w05",
        h,
        HazardEvent::RequestExtension {
            reason: text("电工要下周才能到"),
            proposed_deadline: s.days(14),
            interim_measures: text("停用大功率电器，每日巡查"),
        },
    )?;
    s.refused(
        "w05",
        h,
        HazardEvent::DecideExtension {
            approved: true,
            basis: text("同意"),
        },
    )?;
    s.act(
        "l02",
        h,
        HazardEvent::DecideExtension {
            approved: true,
            basis: text("理由属实，临时措施到位"),
        },
    )?;
    s.act(
        "w05",
        h,
        HazardEvent::RequestExtension {
            reason: text("再延一周"),
            proposed_deadline: s.days(30),
            interim_measures: text("同上"),
        },
    )?;
    s.act(
        "l02",
        h,
        HazardEvent::DecideExtension {
            approved: false,
            basis: text("已延期一次，不再延期"),
        },
    )?;
    s.act(
        "w05",
        h,
        HazardEvent::SubmitRectification {
            note: text("线路已更换"),
            photos: vec![photo(31)],
        },
    )?;
    s.act(
        "l02",
        h,
        HazardEvent::Review {
            passed: true,
            note: text("合格"),
            new_deadline: None,
        },
    )?;

    s.say("【5】上报村里后交办回网格 / escalated to the village, handed back, closed");
    let h = s.hazard_from_patrol("g02", "w01", 0, "routes_clear")?;
    s.act("w01", h, notify(s.days(3)))?;
    s.act(
        "w01",
        h,
        HazardEvent::Escalate {
            to: Level::Village,
            reason: EscalationReason::OwnerRefuses,
            note: text("店主拒不整改"),
        },
    )?;
    s.act(
        "l01",
        h,
        HazardEvent::HandBack {
            to: Level::Grid,
            guidance: text("村两委已约谈店主，请网格员跟进"),
            deadline: s.days(5),
        },
    )?;
    s.act(
        "w01",
        h,
        HazardEvent::SubmitRectification {
            note: text("已整改"),
            photos: vec![photo(41)],
        },
    )?;
    s.act(
        "l01",
        h,
        HazardEvent::Review {
            passed: true,
            note: text("合格"),
            new_deadline: None,
        },
    )?;

    s.say("【6】上报乡镇联合执法 / escalated to the township, joint enforcement");
    let h = s.hazard_from_patrol("g06", "w06", 0, "wiring")?;
    s.act(
        "w06",
        h,
        HazardEvent::Escalate {
            to: Level::Township,
            reason: EscalationReason::NeedsEnforcement,
            note: text("需要执法"),
        },
    )?;
    s.refused(
        "w06",
        h,
        HazardEvent::JointEnforcement {
            departments: text("派出所"),
            note: String::new(),
        },
    )?;
    s.act(
        o1,
        h,
        HazardEvent::JointEnforcement {
            departments: text("派出所、综合行政执法办"),
            note: text("联合检查"),
        },
    )?;
    s.act(
        o1,
        h,
        HazardEvent::RecordOutcome {
            outcome: text("责令整改，已整改完毕"),
        },
    )?;
    s.refused(
        o1,
        h,
        HazardEvent::Review {
            passed: true,
            note: String::new(),
            new_deadline: None,
        },
    )?;
    s.act(
        o2,
        h,
        HazardEvent::Review {
            passed: true,
            note: text("复查合格"),
            new_deadline: None,
        },
    )?;

    s.say("【7】重大隐患挂牌督办并移交 / major hazard: supervised and referred");
    let w8 = store.actor("w08")?;
    let place = store
        .places(&w8)?
        .into_iter()
        .next()
        .ok_or(Error::Interrupted)?;
    let h = store.report_hazard(
        &w8,
        NewHazard {
            place_id: place.place.id,
            category: text("three_in_one"),
            severity: Severity::Major,
            description: text("一楼生产加工，二楼住人，三合一"),
            photos: vec![photo(51)],
            location: place.place.location,
            source: None,
            legal_basis: Some(text("《中华人民共和国消防法》第十九条")),
        },
    )?;
    s.say(format!(
        "  w08 上报重大隐患 reported a major hazard …{}",
        &h.to_string()[24..]
    ));
    s.refused(
        "w08",
        h,
        HazardEvent::FixOnSpot {
            note: String::new(),
            before_photo: None,
            after_photo: None,
        },
    )?;
    s.act(
        "w08",
        h,
        HazardEvent::Escalate {
            to: Level::Township,
            reason: EscalationReason::Major,
            note: text("重大隐患"),
        },
    )?;
    s.act(
        o1,
        h,
        HazardEvent::Supervise {
            note: text("挂牌督办"),
        },
    )?;
    s.act(
        o1,
        h,
        HazardEvent::Refer {
            department: text("县消防救援大队"),
            case_number: text("QS-2026-017"),
            note: text("超出乡镇权限"),
        },
    )?;
    s.act(
        o1,
        h,
        HazardEvent::RecordOutcome {
            outcome: text("大队依法查处，已拆除住人部分"),
        },
    )?;
    s.act(
        o2,
        h,
        HazardEvent::Review {
            passed: true,
            note: text("现场核查，已销号"),
            new_deadline: None,
        },
    )?;

    s.say("【8】撤销 / withdrawn by someone above the reporter");
    let h = s.hazard_from_patrol("g03", "w03", 0, "wiring")?;
    s.refused(
        "w03",
        h,
        HazardEvent::Withdraw {
            reason: text("重复上报"),
        },
    )?;
    s.act(
        "l01",
        h,
        HazardEvent::Withdraw {
            reason: text("与上周已上报隐患重复"),
        },
    )?;

    s.say("【9】错误输入 / bad input is refused and changes nothing");
    let h = s.hazard_from_patrol("g08", "w08", 1, "extinguisher")?;
    let yesterday = s.days(-1);
    s.refused("w08", h, notify(yesterday))?;
    s.refused("b01", h, notify(s.days(3)))?;

    s.say("【10】离线冲突 / an offline conflict is kept and shown, not dropped");
    s.act("w08", h, notify(s.days(3)))?;
    // The township, offline on another device, escalates the same case at the same moment as
    // the worker submits the fix: both ops reach this device, and the fold orders them.
    let officer_op = Op {
        id: Uuid::now_v7(),
        device_id: Uuid::now_v7(),
        seq: 1,
        hlc: Hlc::new(store.now_ms() + 1, 0),
        wall_ms: store.now_ms(),
        actor_id: o1.into(),
        actor_role: Role::TownshipOfficer,
        body: OpBody::Hazard {
            hazard_id: h,
            event: HazardEvent::Escalate {
                to: Level::Township,
                reason: EscalationReason::Overdue,
                note: text("乡镇直接督办"),
            },
        },
    };
    store.apply_remote(&officer_op)?;
    let worker_op = Op {
        id: Uuid::now_v7(),
        device_id: Uuid::now_v7(),
        seq: 1,
        hlc: Hlc::new(store.now_ms() + 2, 0),
        wall_ms: store.now_ms(),
        actor_id: "w08".into(),
        actor_role: Role::GridWorker,
        body: OpBody::Hazard {
            hazard_id: h,
            event: HazardEvent::SubmitRectification {
                note: text("离线时已整改"),
                photos: vec![photo(61)],
            },
        },
    };
    store.apply_remote(&worker_op)?;
    let d = store.hazard(h)?;
    s.say(format!(
        "  现状态 status: {} [{}]",
        d.hazard.status.zh(),
        d.hazard.level.code()
    ));
    for e in d.events.iter().filter(|e| e.conflict.is_some()) {
        if let Some(c) = &e.conflict {
            s.say(format!(
                "  冲突 conflict: {} {} — {}",
                e.actor_id,
                e.event.verb(),
                c
            ));
        }
    }
    s.act(
        o2,
        h,
        HazardEvent::HandBack {
            to: Level::Grid,
            guidance: text("按网格员离线提交的整改复查"),
            deadline: s.days(2),
        },
    )?;
    s.act(
        "w08",
        h,
        HazardEvent::SubmitRectification {
            note: text("重新提交整改"),
            photos: vec![photo(62)],
        },
    )?;
    s.act(
        "l03",
        h,
        HazardEvent::Review {
            passed: true,
            note: text("合格"),
            new_deadline: None,
        },
    )?;

    s.say("【11】逾期 / overdue, and the rules propose escalation");
    let h = s.hazard_from_patrol("g05", "w05", 1, "smoke_alarm")?;
    s.act("w05", h, notify(s.days(2)))?;
    store.clock().advance_ms(12 * MS_PER_DAY);
    let d = store.hazard(h)?;
    s.say(format!(
        "  12 天后 12 days later: 逾期 {} 天 overdue; 建议上报 escalation due: {}",
        d.days_overdue.unwrap_or(0),
        d.escalation_due.map_or("—", |r| r.zh())
    ));

    s.say("【12】宣传与培训 / publicity and training");
    let w1 = store.actor("w01")?;
    store.log_activity(
        &w1,
        NewActivity {
            kind: ActivityKind::Publicity,
            org_id: "g01".into(),
            held_on: store.today(),
            title: text("电动自行车安全进村入户"),
            audience: 46,
            note: String::new(),
        },
    )?;
    let o = store.actor(o1)?;
    store.log_activity(
        &o,
        NewActivity {
            kind: ActivityKind::Training,
            org_id: TOWNSHIP.into(),
            held_on: store.today(),
            title: text("网格员消防业务培训"),
            audience: 12,
            note: String::new(),
        },
    )?;
    s.say("  已登记 1 次宣传、1 次培训 / logged one publicity event and one training");

    s.say(format!(
        "【13】模拟 {SIMULATED_DAYS} 天日常巡查 / simulating {SIMULATED_DAYS} days of patrols"
    ));
    simulate(store, &cast, SIMULATED_DAYS, 85)?;
    let to = store.today();
    let report = store.report(TOWNSHIP, from, to)?;
    Ok(DemoRun {
        cast,
        log: s.log,
        report,
        from,
        to,
    })
}

/// Simulates `days` of daily patrols and case handling from the store's clock on (each worker
/// visits up to three due places a day; cases move on the way people would move them).
pub fn simulate(store: &Store, cast: &Cast, days: i32, seed: u64) -> Result<()> {
    let scope = store.interrupt_scope();
    let rng = &mut Rng(seed);
    for _ in 0..days {
        scope.check()?;
        store
            .clock()
            .set_ms(Day::from_ms(store.now_ms()).plus(1).start_ms() + 9 * 3_600_000);
        for (worker, _) in &cast.workers {
            let actor = store.actor(worker)?;
            for place in store.due_patrols(&actor)?.into_iter().take(3) {
                patrol_once(store, &actor, place.place.id, rng)?;
                store.clock().advance_ms(40 * 60_000);
            }
        }
        store.clock().advance_ms(3_600_000);
        progress(store, cast, rng)?;
    }
    Ok(())
}

fn patrol_once(store: &Store, actor: &Actor, place: Uuid, rng: &mut Rng) -> Result<()> {
    let form = store.patrol_form(place)?;
    let mut answers = Vec::new();
    for item in &form.template.items {
        let v = match item.kind {
            ItemKind::PassFail
                if rng.chance(if item.severity == Severity::Major {
                    1
                } else {
                    4
                }) =>
            {
                AnswerValue::Fail
            }
            ItemKind::PassFail if rng.chance(3) => AnswerValue::NotApplicable,
            ItemKind::PassFail => AnswerValue::Pass,
            ItemKind::Number => {
                let base = item.min.or(item.max).unwrap_or(1.0);
                AnswerValue::Number(if rng.chance(5) {
                    (base - 1.0).max(0.0) + if item.max.is_some() { 2.0 } else { 0.0 }
                } else {
                    base
                })
            }
            ItemKind::Select => AnswerValue::Choice(item.options[0].clone()),
            ItemKind::Text | ItemKind::Photo => continue,
        };
        answers.push((item.key.clone(), v));
    }
    let proposals = store.propose_hazards(&form, &answers)?;
    let raise = proposals
        .iter()
        .take(2)
        .map(|p| RaiseHazard {
            item_key: p.item_key.clone(),
            photos: vec![photo(rng.next())],
            ..RaiseHazard::default()
        })
        .collect();
    store.record_patrol(
        actor,
        PatrolInput {
            place_id: place,
            started_at: store.now_ms() - 20 * 60_000,
            gps: GpsSample {
                lat: form.place.place.location.map(|l| l.lat),
                lon: form.place.place.location.map(|l| l.lon),
                accuracy_m: Some(8.0 + rng.below(40) as f64),
                mock: false,
            },
            answers,
            raise,
            note: String::new(),
        },
    )?;
    Ok(())
}

/// Moves open cases on, the way a township's people would over a day.
fn progress(store: &Store, cast: &Cast, rng: &mut Rng) -> Result<()> {
    let officer = store.actor(&cast.officers[0])?;
    let today = store.today();
    let open: Vec<_> = store
        .hazards(&officer, None)?
        .into_iter()
        .filter(|h| !h.status.is_final())
        .collect();
    for row in open {
        let h = store.hazard(row.id)?.hazard;
        let worker = cast.worker_of(&h.report.grid_id).to_string();
        let leader = cast.leader_of(&h.report.village_id).to_string();
        let act = |user: &str, ev: HazardEvent| -> Result<()> {
            let actor = store.actor(user)?;
            store.hazard_event(&actor, h.id, ev)
        };
        use HazardStatus as S;
        match h.status {
            S::Reported if h.severity == Severity::Major => act(
                &worker,
                HazardEvent::Escalate {
                    to: Level::Township,
                    reason: EscalationReason::Major,
                    note: String::new(),
                },
            )?,
            S::Reported if rng.chance(25) => {
                act(
                    &worker,
                    HazardEvent::FixOnSpot {
                        note: text("当场整改"),
                        before_photo: Some(photo(rng.next())),
                        after_photo: Some(photo(rng.next())),
                    },
                )?;
                act(
                    &worker,
                    HazardEvent::Review {
                        passed: true,
                        note: String::new(),
                        new_deadline: None,
                    },
                )?;
            }
            S::Reported => act(
                &worker,
                HazardEvent::Notify {
                    responsible_party: text("负责人"),
                    deadline: today.plus(7),
                    note: String::new(),
                },
            )?,
            S::Notified | S::Rectifying if row.days_overdue.unwrap_or(0) > 7 && rng.chance(50) => {
                act(
                    &worker,
                    HazardEvent::Escalate {
                        to: Level::Village,
                        reason: EscalationReason::Overdue,
                        note: String::new(),
                    },
                )?
            }
            S::Notified if rng.chance(35) => act(
                &worker,
                HazardEvent::StartRectification {
                    note: String::new(),
                },
            )?,
            S::Rectifying if rng.chance(25) => act(
                &worker,
                HazardEvent::SubmitRectification {
                    note: text("已整改"),
                    photos: vec![photo(rng.next())],
                },
            )?,
            S::AwaitingReview if h.level == Level::Township => act(
                &cast.officers[1],
                HazardEvent::Review {
                    passed: true,
                    note: String::new(),
                    new_deadline: None,
                },
            )?,
            S::AwaitingReview if rng.chance(50) => {
                let passed = rng.chance(85);
                act(
                    &leader,
                    HazardEvent::Review {
                        passed,
                        note: String::new(),
                        new_deadline: (!passed).then(|| today.plus(5)),
                    },
                )?
            }
            S::Escalated if h.level == Level::Village => act(
                &leader,
                HazardEvent::HandBack {
                    to: Level::Grid,
                    guidance: text("村里已约谈，请跟进"),
                    deadline: today.plus(7),
                },
            )?,
            S::Escalated if rng.chance(50) => act(
                &cast.officers[0],
                HazardEvent::Refer {
                    department: text("县消防救援大队"),
                    case_number: format!("QS-2026-{:03}", rng.below(1000)),
                    note: String::new(),
                },
            )?,
            S::Referred if rng.chance(30) => act(
                &cast.officers[0],
                HazardEvent::RecordOutcome {
                    outcome: text("已依法处理"),
                },
            )?,
            _ => {}
        }
    }
    Ok(())
}
