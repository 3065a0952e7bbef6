//! The report's figures from the registers beside patrols and hazards (`crate::registers`,
//! and the training log's attendance): fires with their deaths, injuries and direct loss, by
//! cause, month and place type; the grid workers trained and how their assessments went; and
//! the share of active places with a signed responsibility letter in force (责任书签订率) and
//! of villages with a fire pact. Each is counted over the grids under the report's scope.

use std::collections::BTreeMap;

use rusqlite::{params_from_iter, types::Value, Connection};
use serde::Serialize;

use super::sheet::{col, Cell, Column};
use super::{placeholders, ratio, Count};
use crate::activity::Trainee;
use crate::checklist::library;
use crate::clock::Day;
use crate::error::Result;
use crate::registers::fire::FireCause;
use crate::registers::letter::VALID_DAYS;

/// 火灾情况 over the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FireFigures {
    pub fires: u32,
    pub deaths: u32,
    pub injuries: u32,
    /// 直接财产损失（元）
    pub loss_yuan: u64,
    pub brigade_attended: u32,
    /// Fires at a registered place.
    pub at_registered_places: u32,
    /// Every cause in the order the vocabulary lists them, zero or not.
    pub by_cause: Vec<Count>,
    /// `YYYY-MM` of each month of the period that had a fire.
    pub by_month: Vec<Count>,
    /// Fires at registered places by their type; the others count as `unregistered`.
    pub by_place_type: Vec<Count>,
}

/// Training of the scope's grid workers (消防培训) over the period, wherever it was held.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrainingFigures {
    /// Grid workers with an account in the scope.
    pub grid_workers: u32,
    /// Of those, how many attended a training in the period.
    pub grid_workers_trained: u32,
    pub trained_rate: Option<f64>,
    /// Assessments of those workers (one assessed at two trainings counts twice), and passed.
    pub assessed: u32,
    pub passed: u32,
    /// 考核合格率
    pub pass_rate: Option<f64>,
}

/// Signed papers in force at the period's end.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LetterFigures {
    /// Active places (as coverage counts them).
    pub places: u32,
    /// Of those, with a responsibility letter or pledge signed within a year.
    pub places_signed: u32,
    /// 责任书签订率
    pub signed_rate: Option<f64>,
    pub villages: u32,
    pub villages_with_pact: u32,
}

/// Stations, teams and committees of the scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GroupFigures {
    pub micro_stations: u32,
    pub volunteer_teams: u32,
    /// 消防安全委员会 and 村领导小组.
    pub committees: u32,
    /// Members of the stations and teams.
    pub members: u32,
    pub equipment_items: u32,
    /// Items due for a check at the period's end (never checked, or past their cycle).
    pub equipment_due: u32,
    /// Items past their refill or replacement date then.
    pub equipment_expired: u32,
    pub drills: u32,
    pub drill_attendance: u64,
    pub meetings: u32,
}

fn grid_args(grids: &[String], first: Vec<Value>) -> (Vec<Value>, String) {
    let n = first.len();
    let args = first
        .into_iter()
        .chain(grids.iter().cloned().map(Into::into))
        .collect();
    (args, placeholders(grids.len(), n + 1))
}

pub(crate) fn fires(c: &Connection, grids: &[String], from: Day, to: Day) -> Result<FireFigures> {
    use chrono::Datelike;
    let (args, grid_in) = grid_args(grids, vec![from.0.into(), to.0.into()]);
    let mut stmt = c.prepare(&format!(
        "SELECT f.occurred_on, f.cause, f.deaths, f.injuries, f.loss_yuan, f.brigade_attended,
                p.place_type
         FROM fires f LEFT JOIN places p ON p.id = f.place_id
         WHERE f.occurred_on >= ?1 AND f.occurred_on <= ?2 AND f.grid_id IN ({grid_in})
             AND f.withdrawn_reason IS NULL"
    ))?;
    let mut f = FireFigures::default();
    let mut causes: BTreeMap<String, u32> = BTreeMap::new();
    let mut months: BTreeMap<String, u32> = BTreeMap::new();
    let mut types: BTreeMap<String, u32> = BTreeMap::new();
    let mut rows = stmt.query(params_from_iter(args.iter()))?;
    while let Some(r) = rows.next()? {
        let day = Day(r.get(0)?).date();
        f.fires += 1;
        f.deaths += r.get::<_, u32>(2)?;
        f.injuries += r.get::<_, u32>(3)?;
        f.loss_yuan += u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0);
        f.brigade_attended += u32::from(r.get::<_, bool>(5)?);
        *causes.entry(r.get(1)?).or_default() += 1;
        *months
            .entry(format!("{:04}-{:02}", day.year(), day.month()))
            .or_default() += 1;
        let place_type: Option<String> = r.get(6)?;
        f.at_registered_places += u32::from(place_type.is_some());
        *types
            .entry(place_type.unwrap_or_else(|| "unregistered".into()))
            .or_default() += 1;
    }
    f.by_cause = FireCause::ALL
        .iter()
        .map(|cause| Count {
            code: cause.code().into(),
            label: cause.zh().into(),
            count: causes.get(cause.code()).copied().unwrap_or(0),
        })
        .collect();
    f.by_month = months
        .into_iter()
        .map(|(code, count)| Count {
            label: code.clone(),
            code,
            count,
        })
        .collect();
    f.by_place_type = super::counts(types, |t| match t {
        "unregistered" => "未登记场所".to_string(),
        t => library().place_type_zh(t).to_string(),
    });
    Ok(f)
}

pub(crate) fn training(
    c: &Connection,
    grids: &[String],
    from: Day,
    to: Day,
) -> Result<TrainingFigures> {
    let (args, grid_in) = grid_args(grids, Vec::new());
    let workers: Vec<String> = c
        .prepare(&format!(
            "SELECT DISTINCT u.id FROM users u JOIN user_orgs o ON o.user_id = u.id
             WHERE u.role = 'grid_worker' AND o.org_id IN ({grid_in})"
        ))?
        .query_map(params_from_iter(args.iter()), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // The scope's grid workers wherever they were trained: the brigade trains a township's
    // workers at the township, and each village's figure counts its own among them.
    let lists: Vec<String> = c
        .prepare_cached(
            "SELECT trainees FROM activities
             WHERE kind = 'training' AND held_on >= ?1 AND held_on <= ?2 AND trainees <> '[]'",
        )?
        .query_map(rusqlite::params![from.0, to.0], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut t = TrainingFigures {
        grid_workers: workers.len() as u32,
        ..TrainingFigures::default()
    };
    let mut trained = std::collections::BTreeSet::new();
    for list in lists {
        for person in serde_json::from_str::<Vec<Trainee>>(&list)? {
            if !workers.contains(&person.user_id) {
                continue;
            }
            if let Some(passed) = person.passed {
                t.assessed += 1;
                t.passed += u32::from(passed);
            }
            trained.insert(person.user_id);
        }
    }
    t.grid_workers_trained = trained.len() as u32;
    t.trained_rate = ratio(t.grid_workers_trained, t.grid_workers);
    t.pass_rate = ratio(t.passed, t.assessed);
    Ok(t)
}

pub(crate) fn groups(c: &Connection, scope_id: &str, on: Day) -> Result<GroupFigures> {
    use crate::registers::group::{self, GroupKind};
    let mut g = GroupFigures::default();
    for x in group::groups_under(c, scope_id)?
        .iter()
        .filter(|x| x.active)
    {
        match x.kind {
            GroupKind::MicroStation => g.micro_stations += 1,
            GroupKind::VolunteerTeam => g.volunteer_teams += 1,
            GroupKind::SafetyCommittee | GroupKind::LeadingGroup => g.committees += 1,
        }
        if x.kind.keeps_equipment() {
            g.members += x.members.len() as u32;
        }
    }
    for item in group::items_due(c, scope_id, on)? {
        g.equipment_items += 1;
        g.equipment_due += u32::from(item.due(on));
        g.equipment_expired += u32::from(item.expired);
    }
    Ok(g)
}

pub(crate) fn letters(c: &Connection, grids: &[String], on: Day) -> Result<LetterFigures> {
    let since = on.plus(1 - VALID_DAYS);
    let (args, grid_in) = grid_args(grids, vec![since.0.into(), on.0.into()]);
    let (places, places_signed): (u32, u32) = c.query_row(
        &format!(
            "SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM letters l
                 WHERE l.place_id = p.id AND l.signed_on >= ?1 AND l.signed_on <= ?2)), 0)
             FROM places p WHERE NOT p.archived AND p.grid_id IN ({grid_in})"
        ),
        params_from_iter(args.iter()),
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (villages, villages_with_pact): (u32, u32) = c.query_row(
        &format!(
            "SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM letters l
                 WHERE l.org_id = v.id AND l.kind = 'village_pact'
                 AND l.signed_on >= ?1 AND l.signed_on <= ?2)), 0)
             FROM org_nodes v WHERE v.id IN (SELECT DISTINCT parent_id FROM org_nodes
                 WHERE id IN ({grid_in}))"
        ),
        params_from_iter(args.iter()),
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(LetterFigures {
        places,
        places_signed,
        signed_rate: ratio(places_signed, places),
        villages,
        villages_with_pact,
    })
}

pub const FIRE_COLUMNS: [Column; 18] = [
    col("日期", 11.0),
    col("时间", 7.0),
    col("村（社区）", 12.0),
    col("网格", 10.0),
    col("场所", 18.0),
    col("地址", 22.0),
    col("场所类型", 12.0),
    col("起火原因", 10.0),
    col("死亡", 6.0),
    col("受伤", 6.0),
    col("直接财产损失（元）", 12.0),
    col("消防队出动", 8.0),
    col("起火前最近巡查", 11.0),
    col("前一年巡查次数", 8.0),
    col("起火时未销号隐患", 30.0),
    col("照片", 6.0),
    col("记录人", 10.0),
    col("备注", 24.0),
];

pub const LETTER_COLUMNS: [Column; 11] = [
    col("签订日期", 11.0),
    col("类型", 14.0),
    col("村（社区）", 12.0),
    col("网格", 10.0),
    col("场所", 18.0),
    col("地址", 22.0),
    col("签订人", 10.0),
    col("有效至", 11.0),
    col("照片", 6.0),
    col("记录人", 10.0),
    col("备注", 24.0),
];

/// The fire ledger's rows (火灾台账): each fire with what its place's records said then.
pub(crate) fn fire_cells(
    c: &Connection,
    grids: &[String],
    from: Day,
    to: Day,
) -> Result<Vec<Vec<Cell>>> {
    let rows = crate::registers::fire::fire_rows(c, grids, from, to)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let f = &r.fire;
            let h = r.history.unwrap_or_default();
            let open: Vec<String> = h
                .open_hazards
                .iter()
                .map(|(label, category, status)| format!("{label} {category} {status}"))
                .collect();
            vec![
                Cell::Day(Day::from_ms(f.occurred_at)),
                Cell::Text(super::ledgers::clock_time(f.occurred_at)),
                Cell::Text(r.village),
                Cell::Text(r.grid),
                Cell::Text(r.place_name.unwrap_or_else(|| "（未登记场所）".into())),
                Cell::Text(f.address.clone()),
                Cell::Text(
                    r.place_type
                        .map_or(String::new(), |t| library().place_type_zh(&t).to_string()),
                ),
                Cell::text(f.cause.zh()),
                Cell::Int(f.deaths.into()),
                Cell::Int(f.injuries.into()),
                Cell::Int(i64::try_from(f.loss_yuan).unwrap_or(i64::MAX)),
                Cell::text(if f.brigade_attended { "是" } else { "否" }),
                Cell::day(h.last_patrol_at.map(Day::from_ms)),
                Cell::Int(h.patrols_in_year.into()),
                Cell::Text(open.join("；")),
                Cell::Int(f.photos.len() as i64),
                Cell::Text(r.recorded_by),
                Cell::Text(f.note.clone()),
            ]
        })
        .collect())
}

/// The letter ledger's rows (责任书台账): every paper signed in the period.
pub(crate) fn letter_cells(
    c: &Connection,
    scope_id: &str,
    from: Day,
    to: Day,
) -> Result<Vec<Vec<Cell>>> {
    let rows = crate::registers::letter::letter_rows(c, scope_id, from, to)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let l = &r.letter;
            vec![
                Cell::Day(l.signed_on),
                Cell::text(l.kind.zh()),
                Cell::Text(r.village),
                Cell::Text(r.grid),
                Cell::Text(r.place_name.unwrap_or_default()),
                Cell::Text(r.address.unwrap_or_default()),
                Cell::Text(l.signed_by.clone()),
                Cell::Day(l.lapses_on().plus(-1)),
                Cell::Int(l.photos.len() as i64),
                Cell::Text(r.recorded_by),
                Cell::Text(l.note.clone()),
            ]
        })
        .collect())
}

pub const STATION_COLUMNS: [Column; 12] = [
    col("区域", 14.0),
    col("名称", 18.0),
    col("类型", 12.0),
    col("队员人数", 8.0),
    col("值班安排", 24.0),
    col("器材", 14.0),
    col("数量", 6.0),
    col("检查周期（天）", 8.0),
    col("上次检查", 11.0),
    col("检查结果", 8.0),
    col("下次检查", 11.0),
    col("有效期至", 11.0),
];

/// The station ledger's rows (消防站器材台账): every item of every active station and team, with
/// its last check up to `on` and when the next falls due.
pub(crate) fn station_cells(c: &Connection, scope_id: &str, on: Day) -> Result<Vec<Vec<Cell>>> {
    use crate::registers::group;
    let groups: std::collections::HashMap<uuid::Uuid, group::Group> =
        group::groups_under(c, scope_id)?
            .into_iter()
            .map(|g| (g.id, g))
            .collect();
    group::items_due(c, scope_id, on)?
        .into_iter()
        .map(|i| {
            let g = groups.get(&i.group_id);
            Ok(vec![
                Cell::Text(crate::org::node(c, &i.org_id)?.name),
                Cell::Text(i.group_name.clone()),
                Cell::text(g.map_or("", |g| g.kind.zh())),
                Cell::Int(g.map_or(0, |g| g.members.len() as i64)),
                Cell::Text(g.map_or(String::new(), |g| g.roster.clone())),
                Cell::Text(i.item.kind.clone()),
                Cell::Int(i.item.count.into()),
                Cell::Int(i.item.check_every_days.into()),
                Cell::day(i.last_checked),
                Cell::text(match i.last_ok {
                    Some(true) => "完好",
                    Some(false) => "损坏或缺失",
                    None => "未检查",
                }),
                Cell::Day(i.next_due.unwrap_or(on)),
                Cell::day(i.item.expires_on),
            ])
        })
        .collect()
}
