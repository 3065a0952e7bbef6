//! The subcommands: how each maps onto one core call, and how its result is printed.

use std::fmt::Write as _;
use std::path::Path;

use gridpatrol_core::activity::NewActivity;
use gridpatrol_core::checklist::{library, AnswerValue};
use gridpatrol_core::error::{Field, InvalidInput, Problem};
use gridpatrol_core::hazard::HazardStatus;
use gridpatrol_core::op::short_id;
use gridpatrol_core::patrol::{GpsSample, PatrolInput, RaiseHazard};
use gridpatrol_core::place::RiskLevel;
use gridpatrol_core::plan::PatrolPlan;
use gridpatrol_core::report::export::LedgerFormat;
use gridpatrol_core::report::ledgers::Ledger;
use gridpatrol_core::sync::engine::Progress;
use gridpatrol_core::{demo, Clock, Day, Error, Result, Store};
use serde::Serialize;

use crate::args::PatrolArgs;
use crate::Command;

pub(crate) fn open(db: &Path) -> Result<Store> {
    if !db.exists() {
        return Err(Error::not_found(
            gridpatrol_core::error::Entity::Device,
            "database (run `gridpatrol init` first)",
        ));
    }
    Store::open(db, Clock::System)
}

pub(crate) fn json<T: Serialize>(v: &T) -> Result<String> {
    Ok(serde_json::to_string_pretty(v)?)
}

pub fn run(db: &Path, as_json: bool, cmd: Command) -> Result<String> {
    let out = |text: String, value: &dyn erased::Json| -> Result<String> {
        if as_json {
            value.to_json()
        } else {
            Ok(text)
        }
    };
    match cmd {
        Command::Init => {
            let store = Store::open(db, Clock::System)?;
            let n = store.install_library()?;
            let id = store.device_id().to_string();
            out(
                format!(
                    "已初始化设备数据库 / initialised {} (device {id}, {n} checklists)",
                    db.display()
                ),
                &serde_json::json!({"device_id": id, "templates_installed": n}),
            )
        }
        Command::LoadDemo => {
            let store = open(db)?;
            let cast = demo::seed(&store)?;
            let users: Vec<&str> = cast.workers.iter().map(|(w, _)| w.as_str()).collect();
            out(
                format!(
                    "已载入示范乡镇 / loaded the demo township {}: workers {}, leaders l01-l03, officers o01 o02, advisor b01",
                    demo::TOWNSHIP,
                    users.join(" ")
                ),
                &serde_json::json!({"township": demo::TOWNSHIP, "workers": users}),
            )
        }
        Command::Demo { keep } => run_demo(keep.as_deref(), as_json),
        Command::Users => {
            let store = open(db)?;
            let users = store.users()?;
            let mut s = String::new();
            for (id, name, role) in &users {
                let _ = writeln!(s, "{id}\t{name}\t{}", role.zh());
            }
            let v: Vec<_> = users
                .iter()
                .map(|(id, name, role)| serde_json::json!({"id": id, "name": name, "role": role}))
                .collect();
            out(s, &v)
        }
        Command::Places(who) => {
            let store = open(db)?;
            let actor = store.actor(&who.user)?;
            let places = store.places(&actor)?;
            let mut s = String::new();
            for p in &places {
                let _ = writeln!(
                    s,
                    "{}\t{}\t{}\t{}\t{}",
                    short_id(&p.place.id.to_string()),
                    p.place.grid_id,
                    library().place_type_zh(&p.place.place_type),
                    p.place.risk_level.zh(),
                    p.place.name
                );
            }
            out(s, &places)
        }
        Command::Due(who) => {
            let store = open(db)?;
            let actor = store.actor(&who.user)?;
            let today = store.today();
            let due = store.due_patrols(&actor)?;
            let mut s = format!("待巡查 / due: {}\n", due.len());
            for p in &due {
                let _ = writeln!(
                    s,
                    "{}\t{}\t{}\t周期 {} 天\t逾期 {} 天\t{}",
                    short_id(&p.place.id.to_string()),
                    p.place.grid_id,
                    library().place_type_zh(&p.place.place_type),
                    p.cycle_days,
                    p.days_overdue(today),
                    p.place.name
                );
            }
            out(s, &due)
        }
        Command::Plan(a) => {
            let store = open(db)?;
            let actor = store.actor(&a.who.user)?;
            let id = match &a.id {
                Some(tail) => store.find_plan(tail)?,
                None => uuid::Uuid::now_v7(),
            };
            let risk_levels = a
                .risk
                .iter()
                .map(|r| r.parse())
                .collect::<std::result::Result<Vec<RiskLevel>, _>>()?;
            let id = store.put_plan(
                &actor,
                PatrolPlan {
                    id,
                    grid_id: a.grid,
                    worker_id: a.worker,
                    place_types: a.types,
                    risk_levels,
                    every_days: a.every,
                    focus_items: a.focus,
                    active: !a.inactive,
                    note: a.note,
                    starts_on: None,
                    ends_on: None,
                },
            )?;
            out(
                format!("巡查计划已保存 / plan saved {id}"),
                &serde_json::json!({"id": id}),
            )
        }
        Command::Plans(who) => {
            let store = open(db)?;
            let plans = store.plans(&store.actor(&who.user)?)?;
            let mut s = format!("巡查计划 / plans: {}\n", plans.len());
            for p in &plans {
                let _ = writeln!(
                    s,
                    "{}\t{}\t{}\t{}\t每 {} 天\t{}{}",
                    short_id(&p.id.to_string()),
                    p.grid_id,
                    p.worker_id.as_deref().unwrap_or("全体网格员"),
                    if p.place_types.is_empty() {
                        "全部场所".into()
                    } else {
                        p.place_types.join(",")
                    },
                    p.every_days.map_or("—".into(), |d| d.to_string()),
                    p.focus_items.join(","),
                    if p.active { "" } else { "\t已停用" }
                );
            }
            out(s, &plans)
        }
        Command::Place(a) => crate::place::run(db, as_json, a),
        Command::Form(a) => {
            let store = open(db)?;
            let form = store.patrol_form(store.find_place(&a.place)?)?;
            let mut s = format!("{} v{}\n", form.template.name, form.template.version);
            for i in &form.template.items {
                let focus = if form.focus_items.contains(&i.key) {
                    " ★计划重点 plan focus"
                } else {
                    ""
                };
                let mark = if form.failed_last_time.contains(&i.key) {
                    " ⚠上次不合格 failed last time"
                } else {
                    ""
                };
                let _ = writeln!(s, "  {:<26} [{:?}] {}{focus}{mark}", i.key, i.kind, i.label);
            }
            out(s, &form)
        }
        Command::Patrol(a) => patrol(db, as_json, a),
        Command::Hazards(a) => {
            let store = open(db)?;
            let actor = store.actor(&a.who.user)?;
            let status = a
                .status
                .as_deref()
                .map(str::parse::<HazardStatus>)
                .transpose()?;
            let rows = store.hazards(&actor, status)?;
            let mut s = format!("隐患 / hazards: {}\n", rows.len());
            for h in &rows {
                let _ = writeln!(
                    s,
                    "{}\t{}\t{}\t{}\t{}{}",
                    short_id(&h.id.to_string()),
                    h.grid_id,
                    library().category_zh(&h.category),
                    h.severity.zh(),
                    h.status.zh(),
                    h.days_overdue
                        .map_or(String::new(), |d| format!("\t逾期 {d} 天"))
                );
            }
            out(s, &rows)
        }
        Command::Hazard(cmd) => crate::hazard::run(db, as_json, cmd),
        Command::Overdue { township, limit } => {
            let store = open(db)?;
            let (n, rows) = store.overdue_hazards(&township, limit)?;
            let mut s = format!("逾期隐患 / overdue: {n}\n");
            for h in &rows {
                let _ = writeln!(
                    s,
                    "{}\t{}\t{}\t逾期 {} 天",
                    short_id(&h.id.to_string()),
                    h.grid_id,
                    library().category_zh(&h.category),
                    h.days_overdue.unwrap_or(0)
                );
            }
            out(s, &serde_json::json!({"count": n, "hazards": rows}))
        }
        Command::Conflicts { who, all } => {
            let store = open(db)?;
            let actor = store.actor(&who.user)?;
            let rows = if all {
                store.conflicts_in_scope(&actor)?
            } else {
                store.conflicts(&actor)?
            };
            let mut s = format!("冲突 / conflicts: {}\n", rows.len());
            for c in &rows {
                let why = c
                    .event
                    .conflict
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_default();
                let rival = c
                    .rival
                    .as_ref()
                    .map(|r| format!("{} {}", r.actor_id, r.event.verb()))
                    .unwrap_or_else(|| "-".into());
                let _ = writeln!(
                    s,
                    "{}\t{} {}\t与 vs {rival}\t{}\t{why}",
                    short_id(&c.hazard_id.to_string()),
                    c.event.actor_id,
                    c.event.event.verb(),
                    c.node_id.as_deref().unwrap_or("-"),
                );
            }
            out(s, &rows)
        }
        Command::Log(a) => {
            let store = open(db)?;
            let actor = store.actor(&a.who.user)?;
            let held_on = match &a.date {
                Some(d) => d.parse()?,
                None => store.today(),
            };
            let id = store.log_activity(
                &actor,
                NewActivity {
                    kind: a.kind,
                    org_id: a.org,
                    held_on,
                    title: a.title,
                    audience: a.audience,
                    note: a.note,
                    channel: None,
                    attendees: Vec::new(),
                    photos: Vec::new(),
                    trainees: Vec::new(),
                    group_id: None,
                },
            )?;
            out(
                format!("已登记 / logged {id}"),
                &serde_json::json!({"id": id}),
            )
        }
        Command::Report(a) => {
            let store = open(db)?;
            let (from, to): (Day, Day) = (a.from.parse()?, a.to.parse()?);
            let report = store.report(&a.scope, from, to)?;
            let mut s = report.to_text();
            let which: Ledger = a.ledger.parse()?;
            for (path, format, name) in [
                (&a.csv, LedgerFormat::Csv, "CSV"),
                (&a.xlsx, LedgerFormat::Xlsx, "XLSX"),
            ] {
                if let Some(p) = path {
                    let (n, bytes) = store.ledger_of(which, &a.scope, from, to, format)?;
                    std::fs::write(p, bytes)?;
                    let _ = writeln!(
                        s,
                        "{} {name} ledger: {} ({n} rows)",
                        which.zh(),
                        p.display()
                    );
                }
            }
            out(s, &report)
        }
        Command::Login {
            server,
            user,
            password,
            insecure_http,
        } => {
            // Signing in is a phone's first use: its database is made here if it is not yet.
            let store = Store::open(db, Clock::System)?;
            store.install_library()?;
            let who = store.sign_in_with(&server, &user, &password, insecure_http)?;
            let mut text = format!("已登录 / signed in to {} as {}", who.server, who.user_id);
            if who.must_change_password {
                text.push_str(
                    "\n这是初始密码，请用 `gridpatrol password` 设置自己的密码 / this is a first \
                     password: choose your own with `gridpatrol password`",
                );
            }
            out(text, &who)
        }
        Command::Password { old, new } => {
            open(db)?.change_password(&old, &new)?;
            out(
                "已修改密码 / password changed".to_string(),
                &serde_json::json!({ "changed": true }),
            )
        }
        Command::Sync => {
            let store = open(db)?;
            let mut progress = |p: Progress| {
                if !as_json {
                    match p {
                        Progress::Pushed { done, total } => {
                            eprint!("\r上传 push {done}/{total}   ")
                        }
                        Progress::Received { .. } => {}
                        Progress::Pulled { ops } => eprint!("\r下载 pull {ops}   "),
                        Progress::Photos { done, total } => {
                            eprint!("\r照片 photos {done}/{total}   ")
                        }
                        Progress::Restarted => eprintln!(
                            "\r负责范围已变更或离线过久，重新下载全部数据（本机未上传的记录保留）\n\
                             scope changed or offline too long: downloading everything again \
                             (unsynced records kept)"
                        ),
                    }
                }
            };
            let report = store.sync(&mut progress)?;
            if !as_json {
                eprintln!();
            }
            out(
                format!(
                    "同步完成 / synced: 上传 pushed {}（被拒绝 refused {}），下载 pulled {}，照片 photos sent {}（失败 failed {}）",
                    report.pushed, report.refused, report.pulled, report.photos_sent, report.photos_failed
                ),
                &report,
            )
        }
        Command::Status { user } => {
            let store = open(db)?;
            let pending = store.pending_ops()?;
            let refused = store.refused_ops()?;
            let conflicts = match &user {
                Some(u) => store.conflicts(&store.actor(u)?)?.len(),
                None => 0,
            };
            let id = store.device_id();
            let signed_in = store.signed_in()?;
            let mut s = format!(
                "设备 device {id}\n待同步操作 pending ops: {pending}\n被拒绝的操作 refused ops: {}\n",
                refused.len()
            );
            match &signed_in {
                Some((who, last)) => {
                    let _ = writeln!(
                        s,
                        "同步服务器 server {} ({})，上次同步 last sync: {}",
                        who.server,
                        who.user_id,
                        last.map_or("—".into(), |ms| gridpatrol_core::Day::from_ms(ms)
                            .to_string())
                    );
                }
                None => s.push_str("未登录同步服务器 / not signed in\n"),
            }
            for r in &refused {
                let _ = writeln!(
                    s,
                    "  {} {} — {} / {}",
                    short_id(&r.op.id.to_string()),
                    r.op.body.kind(),
                    r.zh,
                    r.en
                );
            }
            let photos = store.photo_queue()?;
            let _ = writeln!(s, "照片待上传 photos pending: {}", photos.len());
            for p in photos.iter().filter(|p| p.last_error.is_some()) {
                let _ = writeln!(
                    s,
                    "  照片 photo {} ({}/{} B, {} 次 attempts): {}",
                    short_id(&p.hash),
                    p.sent,
                    p.size.map_or("?".into(), |n| n.to_string()),
                    p.attempts,
                    p.last_error.as_deref().unwrap_or_default()
                );
            }
            if user.is_some() {
                let _ = writeln!(s, "冲突 conflicts: {conflicts}");
            }
            out(
                s,
                &serde_json::json!({
                    "device_id": id,
                    "pending_ops": pending,
                    "photos_pending": photos,
                    "refused_ops": refused,
                    "conflicts": conflicts,
                    "last_sync_ms": signed_in.as_ref().and_then(|s| s.1),
                }),
            )
        }
    }
}

fn patrol(db: &Path, as_json: bool, a: PatrolArgs) -> Result<String> {
    let store = open(db)?;
    let actor = store.actor(&a.who.user)?;
    let place_id = store.find_place(&a.place)?;
    let form = store.patrol_form(place_id)?;
    let mut answers = Vec::new();
    for pair in &a.answers {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| Error::Invalid(InvalidInput::new(Field::Answer, Problem::Malformed)))?;
        let item = form.template.item(key.trim())?;
        answers.push((item.key.clone(), AnswerValue::parse_for(item, value)?));
    }
    let mut keys: Vec<String> = a.raise.clone();
    if a.raise_all {
        keys = store
            .propose_hazards(&form, &answers)?
            .into_iter()
            .map(|p| p.item_key)
            .collect();
    }
    let mut photos = Vec::with_capacity(a.photos.len());
    for pair in &a.photos {
        let (key, file) = pair
            .split_once('=')
            .ok_or_else(|| Error::Invalid(InvalidInput::new(Field::Photo, Problem::Malformed)))?;
        let key = form.template.item(key.trim())?.key.clone();
        photos.push((key, crate::hazard::photo_ref(&store, file.trim())?));
    }
    let raise = RaiseHazard::with_photos(keys, photos);
    let outcome = store.record_patrol(
        &actor,
        PatrolInput {
            place_id,
            started_at: store.device_wall_ms() - a.minutes.clamp(0, 24 * 60) * 60_000,
            gps: GpsSample {
                lat: a.lat,
                lon: a.lon,
                accuracy_m: a.accuracy,
                mock: false,
            },
            answers,
            raise,
            note: a.note,
        },
    )?;
    if as_json {
        return json(&outcome);
    }
    let mut s = format!("已记录巡查 / patrol recorded {}\n", outcome.patrol_id);
    for h in &outcome.hazard_ids {
        let _ = writeln!(s, "  隐患已上报 / hazard reported {h}");
    }
    for p in &outcome.unraised {
        let _ = writeln!(
            s,
            "  建议上报 / proposed: {} — {}（{}，建议期限 {}）",
            p.item_key,
            p.description,
            p.severity.zh(),
            p.suggested_deadline
        );
    }
    Ok(s)
}

fn run_demo(keep: Option<&Path>, as_json: bool) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let path = match keep {
        Some(p) => p.to_path_buf(),
        None => dir.path().join("demo.db"),
    };
    if path.exists() {
        return Err(Error::Invalid(InvalidInput::new(
            Field::Id,
            Problem::Malformed,
        )));
    }
    let store = Store::open(&path, demo::clock())?;
    let run = demo::run(&store)?;
    if as_json {
        return json(&run.report);
    }
    let r = &run.report;
    let mut s = String::from("GridPatrol 示范乡镇 / demo township\n");
    s.push_str(&run.log);
    s.push('\n');
    s.push_str(&r.to_text());
    let (closed, escalated) = demo::hand_count(&store, run.from, run.to)?;
    let _ = writeln!(
        s,
        "\n手工核对 / hand count from each hazard's event history: 一般隐患已销号 {closed} 条，其中曾上报上级 {escalated} 条 → 网格内闭环 {} ÷ {closed} = {}；报表 report: {}",
        closed - escalated,
        pct(f64::from(closed - escalated) / f64::from(closed.max(1))),
        r.in_grid_closure_rate.map_or("—".into(), pct)
    );
    if let Some(p) = keep {
        let _ = writeln!(s, "示范数据库 / demo database kept at {}", p.display());
    }
    Ok(s)
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Lets `run` print any result as JSON without naming its type at each arm.
mod erased {
    pub trait Json {
        fn to_json(&self) -> gridpatrol_core::Result<String>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> gridpatrol_core::Result<String> {
            Ok(serde_json::to_string_pretty(self)?)
        }
    }
}
