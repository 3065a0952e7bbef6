//! The scripted walk through every hazard lifecycle path, printed step by step: the happy path,
//! rework, an on-the-spot fix, extensions, escalation with hand-back, joint enforcement, referral
//! with supervision, withdrawal, refused input, an offline conflict and an overdue case.

use std::fmt::Write as _;

use uuid::Uuid;

use super::{demo_picture, photo, review, submit, text, Cast, TOWNSHIP};
use crate::activity::{ActivityKind, NewActivity};
use crate::checklist::{AnswerValue, ItemKind};
use crate::clock::{Day, Hlc, MS_PER_DAY};
use crate::error::{Error, Result};
use crate::hazard::{EscalationReason, HazardEvent, Level, NewHazard, Severity};
use crate::op::{short_id, Op, OpBody};
use crate::org::Role;
use crate::patrol::{GpsSample, PatrolInput, RaiseHazard};
use crate::photo::{CaptureInput, PhotoRole};
use crate::plan::PatrolPlan;
use crate::store::Store;

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

    /// Takes a before and an after photo of a hazard (pictures made up for the demo, with
    /// positions a few metres apart) and says how they pair.
    fn photos(&mut self, user: &str, hazard: Uuid) -> Result<()> {
        let actor = self.store.actor(user)?;
        let place = self.store.hazard(hazard)?.hazard.report.place_id;
        let mut hashes = Vec::new();
        for (seed, role, lat) in [
            (1, PhotoRole::Before, 37.80000),
            (2, PhotoRole::After, 37.80004),
        ] {
            let input = CaptureInput {
                place_id: place,
                hazard_id: Some(hazard),
                role,
                taken_at: self.store.device_wall_ms(),
                gps: GpsSample {
                    lat: Some(lat),
                    lon: Some(112.5),
                    accuracy_m: Some(5.0),
                    mock: false,
                },
            };
            hashes.push(
                self.store
                    .capture_photo(&actor, &demo_picture(seed)?, input)?,
            );
        }
        for p in self.store.photo_pairs(hazard)? {
            self.say(format!(
                "  照片 photos: 整改前 before {}… 整改后 after {}…，相距 {:.0} 米；原图按 SHA-256 保存，同步时在数据之后上传",
                short_id(&p.before),
                short_id(&p.after),
                p.distance_m.unwrap_or(f64::NAN)
            ));
        }
        Ok(())
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
                started_at: self.store.device_wall_ms() - 15 * 60_000,
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

/// An op made on another device (another person's phone, offline), as sync would deliver it.
fn remote_op(at: i64, actor: &str, role: Role, hazard_id: Uuid, event: HazardEvent) -> Op {
    Op {
        id: Uuid::now_v7(),
        device_id: Uuid::now_v7(),
        seq: 1,
        hlc: Hlc::new(at, 0),
        wall_ms: at,
        actor_id: actor.into(),
        actor_role: role,
        body: OpBody::Hazard { hazard_id, event },
    }
}

/// Runs every path and returns what it printed.
pub(super) fn walk(store: &Store, cast: &Cast) -> Result<String> {
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
    s.act("w01", h, submit(text("灭火器已配齐"), 11))?;
    s.photos("w01", h)?;
    s.refused("w01", h, review(true, String::new(), None))?;
    s.act("l01", h, review(true, text("复查合格，销号"), None))?;

    s.say("【2】复查不合格返工 / review failed, reworked, closed");
    let h = s.hazard_from_patrol("g04", "w04", 0, "routes_clear")?;
    s.act("w04", h, notify(s.days(1)))?;
    s.act("w04", h, submit(text("已清理"), 12))?;
    s.act(
        "l02",
        h,
        review(false, text("楼梯仍有杂物"), Some(s.days(2))),
    )?;
    s.next_day();
    s.act("w04", h, submit(text("已彻底清理"), 13))?;
    s.act("l02", h, review(true, text("合格"), None))?;

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
    s.act("w07", h, review(true, text("当场整改完毕"), None))?;

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
    s.act("w05", h, submit(text("线路已更换"), 31))?;
    s.act("l02", h, review(true, text("合格"), None))?;

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
    s.act("w01", h, submit(text("已整改"), 41))?;
    s.act("l01", h, review(true, text("合格"), None))?;

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
            deadline: Some(store.today().plus(30)),
        },
    )?;
    s.act(
        o1,
        h,
        HazardEvent::JointEnforcement {
            departments: text("派出所、综合行政执法办"),
            note: text("联合检查"),
            deadline: Some(store.today().plus(30)),
        },
    )?;
    s.act(
        o1,
        h,
        HazardEvent::RecordOutcome {
            outcome: text("责令整改，已整改完毕"),
        },
    )?;
    s.refused(o1, h, review(true, String::new(), None))?;
    s.act(o2, h, review(true, text("复查合格"), None))?;

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
            photos: vec![photo(51)],
            location: place.place.location,
            legal_basis: Some(text("《中华人民共和国消防法》第十九条")),
            ..NewHazard::new(
                place.place.id,
                "three_in_one",
                Severity::Major,
                "一楼生产加工，二楼住人，三合一",
            )
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
            deadline: Some(store.today().plus(60)),
        },
    )?;
    s.act(
        o1,
        h,
        HazardEvent::Refer {
            department: text("县消防救援大队"),
            case_number: text("QS-2026-017"),
            note: text("超出乡镇权限"),
            deadline: Some(store.today().plus(60)),
        },
    )?;
    s.act(
        o1,
        h,
        HazardEvent::RecordOutcome {
            outcome: text("大队依法查处，已拆除住人部分"),
        },
    )?;
    s.act(o2, h, review(true, text("现场核查，已销号"), None))?;

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
    let officer_op = remote_op(
        store.now_ms() + 1,
        o1,
        Role::TownshipOfficer,
        h,
        HazardEvent::Escalate {
            to: Level::Township,
            reason: EscalationReason::Overdue,
            note: text("乡镇直接督办"),
        },
    );
    let worker_op = remote_op(
        store.now_ms() + 2,
        "w08",
        Role::GridWorker,
        h,
        submit(text("离线时已整改"), 61),
    );
    // Delivered newest first: the fold still orders them by HLC.
    store.apply_remote(&worker_op)?;
    store.apply_remote(&officer_op)?;
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
    s.act("w08", h, submit(text("重新提交整改"), 62))?;
    s.act("l03", h, review(true, text("合格"), None))?;

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

    s.say("【12】宣传、培训与巡查计划 / publicity, training and a patrol plan");
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
            channel: Some(crate::activity::Channel::Families),
            attendees: Vec::new(),
            photos: Vec::new(),
            trainees: Vec::new(),
            group_id: None,
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
            channel: None,
            attendees: Vec::new(),
            photos: Vec::new(),
            trainees: Vec::new(),
            group_id: None,
        },
    )?;
    s.say("  已登记 1 次宣传、1 次培训 / logged one publicity event and one training");
    store.put_plan(
        &o,
        PatrolPlan {
            id: Uuid::now_v7(),
            grid_id: "g01".into(),
            worker_id: None,
            place_types: vec!["rental_house".into(), "shared_rental".into()],
            risk_levels: vec![],
            every_days: Some(7),
            focus_items: vec!["no_ebike_indoor".into(), "wiring".into()],
            active: true,
            note: text("电动自行车专项整治"),
            starts_on: None,
            ends_on: None,
        },
    )?;
    s.say("  乡镇为 g01 出租房定了每 7 天一次的巡查计划，重点查电动车和电线 / the township put g01's rented houses on a 7-day plan, e-bikes and wiring first");

    Ok(s.log)
}
