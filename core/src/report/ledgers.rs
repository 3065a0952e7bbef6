//! The ledgers beside the hazard ledger, each made from what was recorded once: the patrol
//! ledger (巡查台账, one row per visit), the place register (一户一档, one sheet per village,
//! each place with its visits and hazards) and the publicity and training ledger (宣传培训台账).
//! Each is a `Sheet`, written as XLSX or CSV like the hazard ledger.

use std::collections::BTreeMap;

use rusqlite::{params_from_iter, Connection};

use super::export::{person_name, subtitle, LedgerFormat};
use super::sheet::{col, xlsx, Cell, Column, Sheet};
use crate::checklist::library;
use crate::clock::Day;
use crate::error::Result;
use crate::org::{self, OrgLevel};
use crate::store::Store;

/// Which ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ledger {
    /// 隐患台账
    Hazards,
    /// 巡查台账
    Patrols,
    /// 一户一档
    Places,
    /// 宣传培训台账
    Activities,
    /// 火灾台账
    Fires,
    /// 责任书台账
    Letters,
    /// 消防站器材台账
    Stations,
}

impl Ledger {
    pub const ALL: [Ledger; 7] = [
        Ledger::Hazards,
        Ledger::Patrols,
        Ledger::Places,
        Ledger::Activities,
        Ledger::Fires,
        Ledger::Letters,
        Ledger::Stations,
    ];

    /// How links and the command line name it.
    pub fn code(self) -> &'static str {
        match self {
            Ledger::Hazards => "hazards",
            Ledger::Patrols => "patrols",
            Ledger::Places => "places",
            Ledger::Activities => "activities",
            Ledger::Fires => "fires",
            Ledger::Letters => "letters",
            Ledger::Stations => "stations",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Ledger::Hazards => "隐患台账",
            Ledger::Patrols => "巡查台账",
            Ledger::Places => "一户一档",
            Ledger::Activities => "宣传培训台账",
            Ledger::Fires => "火灾台账",
            Ledger::Letters => "责任书台账",
            Ledger::Stations => "消防站器材台账",
        }
    }

    /// The ledger's columns (a place register's every sheet has the same).
    pub fn columns(self) -> &'static [Column] {
        match self {
            Ledger::Hazards => &super::export::HAZARD_COLUMNS,
            Ledger::Patrols => &PATROL_COLUMNS,
            Ledger::Places => &PLACE_COLUMNS,
            Ledger::Activities => &ACTIVITY_COLUMNS,
            Ledger::Fires => &super::registers::FIRE_COLUMNS,
            Ledger::Letters => &super::registers::LETTER_COLUMNS,
            Ledger::Stations => &super::registers::STATION_COLUMNS,
        }
    }
}

impl std::str::FromStr for Ledger {
    type Err = crate::error::InvalidInput;
    fn from_str(code: &str) -> std::result::Result<Ledger, Self::Err> {
        Ledger::ALL
            .into_iter()
            .find(|l| l.code() == code)
            .ok_or_else(|| crate::vocab::unknown(crate::error::Field::Ledger, code))
    }
}

pub const PATROL_COLUMNS: [Column; 14] = [
    col("巡查日期", 11.0),
    col("时间", 12.0),
    col("乡镇", 10.0),
    col("村（社区）", 12.0),
    col("网格", 10.0),
    col("场所", 18.0),
    col("地址", 22.0),
    col("场所类型", 12.0),
    col("巡查人", 10.0),
    col("检查项数", 8.0),
    col("不合格项数", 8.0),
    col("不合格项", 36.0),
    col("定位", 8.0),
    col("备注", 20.0),
];

pub const PLACE_COLUMNS: [Column; 14] = [
    col("网格", 10.0),
    col("场所", 18.0),
    col("地址", 22.0),
    col("场所类型", 12.0),
    col("风险等级", 8.0),
    col("责任人", 10.0),
    col("电话", 13.0),
    col("状态", 8.0),
    col("上次巡查", 11.0),
    col("期间巡查次数", 8.0),
    col("巡查日期", 24.0),
    col("期间隐患数", 8.0),
    col("隐患（编号 类别 状态）", 40.0),
    col("责任书", 14.0),
];

pub const ACTIVITY_COLUMNS: [Column; 11] = [
    col("日期", 11.0),
    col("类型", 10.0),
    col("渠道", 8.0),
    col("区域", 16.0),
    col("名称", 28.0),
    col("人数", 8.0),
    col("参加人员", 30.0),
    col("参训网格员（考核）", 30.0),
    col("照片", 6.0),
    col("记录人", 10.0),
    col("备注", 30.0),
];

/// The clock time (China time) of a moment, as `HH:MM`.
pub(crate) fn clock_time(ms: i64) -> String {
    let minutes = (ms - Day::from_ms(ms).start_ms()) / 60_000;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn patrol_rows(c: &Connection, grids: &[String], from: Day, to: Day) -> Result<Vec<Vec<Cell>>> {
    let mut args: Vec<rusqlite::types::Value> =
        vec![from.start_ms().into(), to.plus(1).start_ms().into()];
    args.extend(grids.iter().cloned().map(Into::into));
    let mut stmt = c.prepare(&format!(
        "SELECT pa.id, pa.started_at, pa.ended_at, coalesce(t.name, ''), coalesce(v.name, ''),
                coalesce(g.name, ''), coalesce(p.name, ''), coalesce(p.address, ''),
                coalesce(p.place_type, ''), pa.worker_id, pa.lat IS NOT NULL, pa.mock, pa.note,
                pa.template_id, pa.template_version
         FROM patrols pa LEFT JOIN places p ON p.id = pa.place_id
         LEFT JOIN org_nodes g ON g.id = pa.grid_id LEFT JOIN org_nodes v ON v.id = g.parent_id
         LEFT JOIN org_nodes t ON t.id = v.parent_id
         WHERE pa.ended_at >= ?1 AND pa.ended_at < ?2 AND pa.grid_id IN ({})
         ORDER BY pa.ended_at, pa.id",
        super::placeholders(grids.len(), 3)
    ))?;
    let mut answers =
        c.prepare_cached("SELECT item_key, failed FROM patrol_answers WHERE patrol_id = ?1")?;
    let mut rows = Vec::new();
    let mut found = stmt.query(params_from_iter(args.iter()))?;
    while let Some(r) = found.next()? {
        let id: String = r.get(0)?;
        let (started, ended): (i64, i64) = (r.get(1)?, r.get(2)?);
        let worker: String = r.get(9)?;
        let (located, mock): (bool, bool) = (r.get(10)?, r.get(11)?);
        let (template_id, version): (String, u32) = (r.get(13)?, r.get(14)?);
        let template = crate::checklist::load_template(c, &template_id, version).ok();
        let answered: Vec<(String, bool)> = answers
            .query_map([&id], |a| Ok((a.get(0)?, a.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let failed: Vec<String> = answered
            .iter()
            .filter(|(_, failed)| *failed)
            .map(|(key, _)| {
                template
                    .as_ref()
                    .and_then(|t| t.item(key).ok())
                    .map_or_else(|| key.clone(), |i| i.label.clone())
            })
            .collect();
        rows.push(vec![
            Cell::Day(Day::from_ms(ended)),
            Cell::Text(format!("{}–{}", clock_time(started), clock_time(ended))),
            Cell::Text(r.get(3)?),
            Cell::Text(r.get(4)?),
            Cell::Text(r.get(5)?),
            Cell::Text(r.get(6)?),
            Cell::Text(r.get(7)?),
            Cell::text(library().place_type_zh(&r.get::<_, String>(8)?)),
            Cell::Text(person_name(c, &worker)?),
            Cell::Int(answered.len() as i64),
            Cell::Int(failed.len() as i64),
            Cell::Text(failed.join("；")),
            Cell::text(match (located, mock) {
                (true, false) => "有",
                (true, true) => "模拟定位",
                (false, _) => "无",
            }),
            Cell::Text(r.get(12)?),
        ]);
    }
    Ok(rows)
}

/// One sheet per village under the scope (the scope's own when it is a grid).
fn place_sheets(
    c: &Connection,
    node: &org::OrgNode,
    from: Day,
    to: Day,
    line: &str,
) -> Result<Vec<Sheet>> {
    let villages: Vec<org::OrgNode> = match node.level {
        OrgLevel::Grid | OrgLevel::Village => vec![node.clone()],
        _ => org::grids_under(c, &node.id)?
            .iter()
            .filter_map(|g| org::node(c, g).ok()?.parent_id)
            .collect::<std::collections::BTreeSet<String>>()
            .iter()
            .map(|v| org::node(c, v))
            .collect::<Result<_>>()?,
    };
    let (start, end) = (from.start_ms(), to.plus(1).start_ms());
    let today = Day::from_ms(end - 1);
    let mut visits = c.prepare_cached(
        "SELECT ended_at FROM patrols WHERE place_id = ?1 AND ended_at >= ?2 AND ended_at < ?3
         ORDER BY ended_at",
    )?;
    let mut hazards = c.prepare_cached(
        "SELECT id, category, status, case_number FROM hazards WHERE place_id = ?1
         AND reported_at >= ?2 AND reported_at < ?3 ORDER BY reported_at, id",
    )?;
    let mut sheets = Vec::new();
    for v in villages {
        let grids = org::grids_under(c, &v.id)?;
        let mut by_grid: BTreeMap<String, String> = BTreeMap::new();
        for g in &grids {
            by_grid.insert(g.clone(), org::node(c, g)?.name);
        }
        let mut rows = Vec::new();
        for p in crate::place::places_in(c, &grids, today)? {
            let id = p.place.id.to_string();
            let days: Vec<String> = visits
                .query_map(rusqlite::params![id, start, end], |r| r.get::<_, i64>(0))?
                .map(|ms| ms.map(|ms| Day::from_ms(ms).to_string()))
                .collect::<rusqlite::Result<_>>()?;
            let cases: Vec<String> = hazards
                .query_map(rusqlite::params![id, start, end], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })?
                .map(|h| {
                    h.map(|(hid, cat, status, number)| {
                        let status = status
                            .parse::<crate::hazard::HazardStatus>()
                            .map_or(status.clone(), |s| s.zh().to_string());
                        let id = uuid::Uuid::parse_str(&hid).unwrap_or_default();
                        let label = crate::hazard::case_label(number.as_deref(), &id);
                        format!("{label} {} {status}", library().category_zh(&cat))
                    })
                })
                .collect::<rusqlite::Result<_>>()?;
            rows.push(vec![
                Cell::Text(by_grid.get(&p.place.grid_id).cloned().unwrap_or_default()),
                Cell::Text(p.place.name.clone()),
                Cell::Text(p.place.address.clone()),
                Cell::text(library().place_type_zh(&p.place.place_type)),
                Cell::text(p.place.risk_level.zh()),
                Cell::Text(p.place.responsible_name.clone()),
                Cell::Text(p.place.responsible_phone.clone().unwrap_or_default()),
                Cell::text(if p.pending { "新增" } else { "在册" }),
                Cell::day(p.last_patrol_at.map(Day::from_ms)),
                Cell::Int(days.len() as i64),
                Cell::Text(days.join("；")),
                Cell::Int(cases.len() as i64),
                Cell::Text(cases.join("；")),
                Cell::Text(letter_state(c, &id, today)?),
            ]);
        }
        sheets.push(Sheet {
            // A tab's name is at most 31 characters.
            name: v.name.chars().take(31).collect(),
            title: format!("{}一户一档", v.name),
            subtitle: line.to_string(),
            columns: &PLACE_COLUMNS,
            rows,
        });
    }
    Ok(sheets)
}

/// A place's letter as its file shows it: signed when, or 未签订, or 已过期.
fn letter_state(c: &Connection, place: &str, on: Day) -> Result<String> {
    use crate::registers::letter::{in_force, latest_signed};
    let signed = latest_signed(c, place, on)?;
    Ok(match signed {
        None => "未签订".into(),
        Some(d) if in_force(signed, on) => format!("{d} 签订"),
        Some(d) => format!("已过期（{d} 签订）"),
    })
}

fn activity_rows(c: &Connection, node_id: &str, from: Day, to: Day) -> Result<Vec<Vec<Cell>>> {
    let mut stmt = c.prepare(
        "WITH RECURSIVE sub(id) AS (
            SELECT ?1 UNION ALL SELECT o.id FROM org_nodes o JOIN sub ON o.parent_id = sub.id)
         SELECT a.held_on, a.kind, coalesce(n.name, a.org_id), a.title, a.audience, a.user_id,
                a.note, a.channel, a.attendees, json_array_length(a.photos), a.trainees
         FROM activities a LEFT JOIN org_nodes n ON n.id = a.org_id
         WHERE a.held_on >= ?2 AND a.held_on <= ?3 AND a.org_id IN sub
         ORDER BY a.held_on, a.id",
    )?;
    let mut rows = Vec::new();
    let mut found = stmt.query(rusqlite::params![node_id, from.0, to.0])?;
    while let Some(r) = found.next()? {
        let kind: String = r.get(1)?;
        let kind = kind
            .parse::<crate::activity::ActivityKind>()
            .map_or(kind.clone(), |k| k.zh().to_string());
        let channel = r
            .get::<_, Option<String>>(7)?
            .and_then(|c| c.parse::<crate::activity::Channel>().ok())
            .map_or(String::new(), |c| c.zh().to_string());
        let attendees: Vec<String> = serde_json::from_str(&r.get::<_, String>(8)?)?;
        let trainees: Vec<crate::activity::Trainee> =
            serde_json::from_str(&r.get::<_, String>(10)?)?;
        let trainees = trainees
            .iter()
            .map(|t| {
                let result = match t.passed {
                    Some(true) => "（合格）",
                    Some(false) => "（不合格）",
                    None => "",
                };
                Ok(format!("{}{result}", person_name(c, &t.user_id)?))
            })
            .collect::<Result<Vec<String>>>()?;
        rows.push(vec![
            Cell::Day(Day(r.get(0)?)),
            Cell::Text(kind),
            Cell::Text(channel),
            Cell::Text(r.get(2)?),
            Cell::Text(r.get(3)?),
            Cell::Int(r.get(4)?),
            Cell::Text(attendees.join("、")),
            Cell::Text(trainees.join("、")),
            Cell::Int(r.get(9)?),
            Cell::Text(person_name(c, &r.get::<_, String>(5)?)?),
            Cell::Text(r.get(6)?),
        ]);
    }
    Ok(rows)
}

impl Store {
    /// One of the ledgers of a scope and period as a file's bytes, with the number of rows in
    /// it (for the place register, places). A CSV of the place register holds every village
    /// one after the other.
    pub fn ledger_of(
        &self,
        which: Ledger,
        scope_id: &str,
        from: Day,
        to: Day,
        format: LedgerFormat,
    ) -> Result<(usize, Vec<u8>)> {
        super::check_period(from, to)?;
        let today = self.today();
        let sheets = self.read(|c| {
            let node = org::node(c, scope_id)?;
            let line = subtitle(&node.name, from, to, today);
            let one = |rows| Sheet {
                name: which.zh().into(),
                title: format!("{}{}", node.name, which.zh()),
                subtitle: line.clone(),
                columns: which.columns(),
                rows,
            };
            Ok(match which {
                Ledger::Hazards => vec![super::export::hazard_sheet(c, &node, from, to, today)?],
                Ledger::Patrols => {
                    let grids = org::grids_under(c, &node.id)?;
                    vec![one(patrol_rows(c, &grids, from, to)?)]
                }
                Ledger::Activities => vec![one(activity_rows(c, &node.id, from, to)?)],
                Ledger::Fires => {
                    let grids = org::grids_under(c, &node.id)?;
                    vec![one(super::registers::fire_cells(c, &grids, from, to)?)]
                }
                Ledger::Letters => {
                    vec![one(super::registers::letter_cells(c, &node.id, from, to)?)]
                }
                Ledger::Stations => {
                    vec![one(super::registers::station_cells(
                        c,
                        &node.id,
                        to.min(today),
                    )?)]
                }
                Ledger::Places => place_sheets(c, &node, from, to, &line)?,
            })
        })?;
        let n = sheets.iter().map(|s| s.rows.len()).sum();
        let bytes = match format {
            LedgerFormat::Xlsx => xlsx(&sheets)?,
            // One table for a program to read: every sheet's rows under the one heading row.
            LedgerFormat::Csv => Sheet {
                name: String::new(),
                title: String::new(),
                subtitle: String::new(),
                columns: which.columns(),
                rows: sheets.into_iter().flat_map(|s| s.rows).collect(),
            }
            .csv()?,
        };
        Ok((n, bytes))
    }
}
