//! Reports for a grid, village or township over a period: every figure DOMAIN.md lists, worked
//! out from what was recorded once (patrols, hazards, the activity log), never typed again.
//!
//! The hazard figures are about the cohort reported in the period, in their state as of the
//! report day: 闭环率 = closed ÷ (reported − withdrawn); 按期整改率 = closed by the effective
//! deadline (or fixed on the spot) ÷ closed with a deadline or on the spot, a closed case with
//! no deadline being a data gap, counted apart; 一般隐患网格内闭环率 = general hazards closed without ever being escalated
//! ÷ general hazards closed. Overdue is what was overdue at the period's end (today while the
//! period runs). Coverage counts the active places whose latest patrol up to the period's end
//! falls within their cycle, under the patrol plans in force.

pub mod coverage;
pub mod export;
pub mod ledgers;
pub mod registers;
pub mod sheet;
mod trend;

pub use trend::MonthCount;

use std::collections::BTreeMap;

use rusqlite::{params_from_iter, Connection};
use serde::Serialize;

use crate::checklist::library;
use crate::clock::{Day, MS_PER_DAY};
use crate::error::{Field, InvalidInput, Problem, Result};
use crate::hazard::{self, HazardRow, HazardStatus};
use crate::org::{self, OrgLevel};
use crate::place::RiskLevel;
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub scope_id: String,
    pub scope_name: String,
    pub scope_level: OrgLevel,
    pub from: Day,
    pub to: Day,
    pub as_of: Day,
    pub hazards_reported: u32,
    pub withdrawn: u32,
    pub closed: u32,
    pub closed_on_time: u32,
    /// Closed cases that never had a deadline (nor were fixed on the spot): a gap in the data,
    /// left out of 按期整改率 rather than counted on time.
    pub closed_without_deadline: u32,
    pub general_closed: u32,
    pub general_closed_in_grid: u32,
    pub major_reported: u32,
    pub escalated: u32,
    pub referred: u32,
    pub supervised: u32,
    /// 闭环率
    pub closure_rate: Option<f64>,
    /// 按期整改率
    pub on_time_rate: Option<f64>,
    /// 一般隐患网格内闭环率
    pub in_grid_closure_rate: Option<f64>,
    pub overdue_count: u32,
    pub overdue: Vec<HazardRow>,
    /// 驳回: failed re-inspections among the cohort.
    pub rework_count: u32,
    pub median_days_to_close: Option<f64>,
    pub patrols: u32,
    pub hazards_per_100_patrols: Option<f64>,
    pub coverage: Vec<Coverage>,
    pub by_category: Vec<Count>,
    pub by_place_type: Vec<Count>,
    pub by_status: Vec<Count>,
    pub publicity_events: u32,
    pub publicity_audience: u64,
    /// Publicity by where it went (宣传"五进"), every channel in order; events logged without
    /// a channel count in the totals only.
    pub publicity_by_channel: Vec<ChannelCount>,
    pub training_events: u32,
    pub training_audience: u64,
    /// Grid workers trained and assessed.
    pub training: registers::TrainingFigures,
    pub fires: registers::FireFigures,
    /// Signed letters in force at the period's end (as overdue is counted).
    pub letters: registers::LetterFigures,
    /// Stations, teams and committees, their equipment due at the period's end, and their
    /// drills and meetings in the period.
    pub groups: registers::GroupFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub risk: RiskLevel,
    pub places: u32,
    pub covered: u32,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub code: String,
    pub label: String,
    pub count: u32,
}

/// Publicity through one of the 五进 channels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelCount {
    pub channel: crate::activity::Channel,
    pub label: &'static str,
    pub events: u32,
    pub audience: u64,
}

fn ratio(num: u32, den: u32) -> Option<f64> {
    (den > 0).then(|| f64::from(num) / f64::from(den))
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn counts(map: BTreeMap<String, u32>, label: impl Fn(&str) -> String) -> Vec<Count> {
    let mut v: Vec<Count> = map
        .into_iter()
        .map(|(code, count)| Count {
            label: label(&code),
            code,
            count,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    v
}

/// The hazard column that holds ids of this level, and the ids to match for the scope.
fn scope_filter(c: &Connection, node: &org::OrgNode) -> Result<(&'static str, Vec<String>)> {
    Ok(match node.level {
        OrgLevel::Grid => ("grid_id", vec![node.id.clone()]),
        OrgLevel::Village => ("village_id", vec![node.id.clone()]),
        OrgLevel::Township => ("township_id", vec![node.id.clone()]),
        OrgLevel::County => {
            let mut stmt = c.prepare_cached("SELECT id FROM org_nodes WHERE parent_id = ?1")?;
            let ids = stmt
                .query_map([&node.id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            ("township_id", ids)
        }
    })
}

fn placeholders(n: usize, first: usize) -> String {
    (0..n)
        .map(|i| format!("?{}", first + i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many overdue rows a report lists (the count covers all of them).
const OVERDUE_LISTED: usize = 200;

/// A period must not end before it starts.
pub(crate) fn check_period(from: Day, to: Day) -> Result<()> {
    if to < from {
        return Err(InvalidInput::new(
            Field::Period,
            Problem::NotAfter {
                other: from.to_string(),
            },
        )
        .into());
    }
    Ok(())
}

/// The days of a year's report, written as a person types it (`2026`): four digits, from 2000
/// to this year; the year running ends today.
pub fn year_period(year: &str, today: Day) -> Result<(Day, Day)> {
    use chrono::Datelike;
    let this_year = today.date().year();
    let bad = || {
        InvalidInput::new(
            Field::Year,
            Problem::OutOfRange {
                min: "2000".into(),
                max: this_year.to_string(),
            },
        )
    };
    let y: i32 = match year.trim() {
        y if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => {
            y.parse().map_err(|_| bad())?
        }
        _ => return Err(bad().into()),
    };
    if !(2000..=this_year).contains(&y) {
        return Err(bad().into());
    }
    let day = |m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).map(Day::from_date);
    let (Some(from), Some(end)) = (day(1, 1), day(12, 31)) else {
        return Err(bad().into());
    };
    Ok((from, end.min(today)))
}

pub(crate) fn build(
    c: &Connection,
    scope_id: &str,
    from: Day,
    to: Day,
    as_of: Day,
) -> Result<Report> {
    check_period(from, to)?;
    let node = org::node(c, scope_id)?;
    let (column, ids) = scope_filter(c, &node)?;
    let start_ms = from.start_ms();
    let end_ms = to.plus(1).start_ms();
    let mut args: Vec<rusqlite::types::Value> = vec![start_ms.into(), end_ms.into()];
    args.extend(ids.iter().cloned().map(Into::into));
    let in_scope = format!("{column} IN ({})", placeholders(ids.len(), 3));

    let mut r = Report {
        scope_id: node.id.clone(),
        scope_name: node.name.clone(),
        scope_level: node.level,
        from,
        to,
        as_of,
        hazards_reported: 0,
        withdrawn: 0,
        closed: 0,
        closed_on_time: 0,
        closed_without_deadline: 0,
        general_closed: 0,
        general_closed_in_grid: 0,
        major_reported: 0,
        escalated: 0,
        referred: 0,
        supervised: 0,
        closure_rate: None,
        on_time_rate: None,
        in_grid_closure_rate: None,
        overdue_count: 0,
        overdue: Vec::new(),
        rework_count: 0,
        median_days_to_close: None,
        patrols: 0,
        hazards_per_100_patrols: None,
        coverage: Vec::new(),
        by_category: Vec::new(),
        by_place_type: Vec::new(),
        by_status: Vec::new(),
        publicity_events: 0,
        publicity_audience: 0,
        publicity_by_channel: crate::activity::Channel::ALL
            .iter()
            .map(|&channel| ChannelCount {
                channel,
                label: channel.zh(),
                events: 0,
                audience: 0,
            })
            .collect(),
        training_events: 0,
        training_audience: 0,
        training: registers::TrainingFigures::default(),
        fires: registers::FireFigures::default(),
        letters: registers::LetterFigures::default(),
        groups: registers::GroupFigures::default(),
    };

    let mut by_category = BTreeMap::new();
    let mut by_place_type = BTreeMap::new();
    let mut by_status = BTreeMap::new();
    let mut days_to_close = Vec::new();
    let mut stmt = c.prepare(&format!(
        "SELECT status, severity, escalated, rework_count, reported_at, closed_at,
             closed_on_time, category, place_type, supervised, body LIKE '%\"referral\":{{%'
         FROM hazards WHERE reported_at >= ?1 AND reported_at < ?2 AND {in_scope}"
    ))?;
    let mut rows = stmt.query(params_from_iter(args.iter()))?;
    while let Some(row) = rows.next()? {
        let status: String = row.get(0)?;
        let general = row.get::<_, String>(1)? == "general";
        let escalated: bool = row.get(2)?;
        r.hazards_reported += 1;
        r.rework_count += row.get::<_, u32>(3)?;
        r.major_reported += u32::from(!general);
        r.escalated += u32::from(escalated);
        r.supervised += u32::from(row.get::<_, bool>(9)?);
        r.referred += u32::from(row.get::<_, bool>(10)?);
        *by_category.entry(row.get::<_, String>(7)?).or_insert(0) += 1;
        *by_place_type.entry(row.get::<_, String>(8)?).or_insert(0) += 1;
        *by_status.entry(status.clone()).or_insert(0) += 1;
        match status.as_str() {
            "withdrawn" => r.withdrawn += 1,
            "closed" => {
                r.closed += 1;
                match row.get::<_, Option<bool>>(6)? {
                    Some(on_time) => r.closed_on_time += u32::from(on_time),
                    None => r.closed_without_deadline += 1,
                }
                if general {
                    r.general_closed += 1;
                    r.general_closed_in_grid += u32::from(!escalated);
                }
                let reported: i64 = row.get(4)?;
                if let Some(closed) = row.get::<_, Option<i64>>(5)? {
                    days_to_close.push((closed - reported) as f64 / MS_PER_DAY as f64);
                }
            }
            _ => {}
        }
    }
    r.closure_rate = ratio(r.closed, r.hazards_reported - r.withdrawn);
    r.on_time_rate = ratio(r.closed_on_time, r.closed - r.closed_without_deadline);
    r.in_grid_closure_rate = ratio(r.general_closed_in_grid, r.general_closed);
    r.median_days_to_close = median(days_to_close);
    let lib = library();
    r.by_category = counts(by_category, |c| lib.category_zh(c).to_string());
    r.by_place_type = counts(by_place_type, |t| lib.place_type_zh(t).to_string());
    r.by_status = counts(by_status, |s| {
        s.parse::<HazardStatus>()
            .map_or(s.to_string(), |h| h.zh().to_string())
    });

    // What was overdue at the period's end (as of today while the period runs).
    for id in &ids {
        let (n, rows) = hazard::overdue_at(c, column, id, to, as_of, OVERDUE_LISTED)?;
        r.overdue_count += n as u32;
        r.overdue.extend(rows);
    }
    r.overdue.sort_by_key(|h| (h.deadline, h.id));
    r.overdue.truncate(OVERDUE_LISTED);

    let grids: Vec<String> = {
        let mut g = Vec::new();
        for id in &ids {
            g.extend(org::grids_under(c, id)?);
        }
        g
    };
    let grid_args: Vec<rusqlite::types::Value> = [start_ms.into(), end_ms.into()]
        .into_iter()
        .chain(grids.iter().cloned().map(Into::into))
        .collect();
    let grid_in = placeholders(grids.len(), 3);
    r.patrols = c.query_row(
        &format!(
            "SELECT count(*) FROM patrols WHERE ended_at >= ?1 AND ended_at < ?2
             AND grid_id IN ({grid_in})"
        ),
        params_from_iter(grid_args.iter()),
        |row| row.get(0),
    )?;
    r.hazards_per_100_patrols = ratio(r.hazards_reported * 100, r.patrols);
    r.fires = registers::fires(c, &grids, from, to)?;
    r.training = registers::training(c, &grids, from, to)?;
    r.letters = registers::letters(c, &grids, to.min(as_of))?;
    r.groups = registers::groups(c, &node.id, to.min(as_of))?;

    // Coverage: latest patrol of each place up to the end of the period against its cycle.
    let per_grid = coverage::by_grid(c, &grids, to.min(as_of), as_of)?;
    r.coverage = coverage::by_risk(&per_grid)
        .into_iter()
        .map(|(risk, n)| Coverage {
            risk,
            places: n.places,
            covered: n.covered,
            rate: n.rate(),
        })
        .collect();

    // Activities logged anywhere at or below the scope's node.
    let mut act = c.prepare_cached(
        "WITH RECURSIVE sub(id) AS (
            SELECT ?1 UNION ALL SELECT o.id FROM org_nodes o JOIN sub ON o.parent_id = sub.id)
         SELECT kind, channel, count(*), coalesce(sum(audience), 0) FROM activities
         WHERE held_on >= ?2 AND held_on <= ?3 AND org_id IN sub
         GROUP BY kind, channel",
    )?;
    let mut rows = act.query(rusqlite::params![node.id, from.0, to.0])?;
    while let Some(row) = rows.next()? {
        let kind: String = row.get(0)?;
        let channel: Option<String> = row.get(1)?;
        // A sum of many activities outgrows their own field: read it as the 64 bits it is.
        let (n, audience): (u32, i64) = (row.get(2)?, row.get(3)?);
        let audience = u64::try_from(audience).unwrap_or(0);
        if kind == "publicity" {
            r.publicity_events += n;
            r.publicity_audience += audience;
            let at = channel.and_then(|c| {
                r.publicity_by_channel
                    .iter_mut()
                    .find(|x| x.channel.code() == c)
            });
            if let Some(x) = at {
                (x.events, x.audience) = (n, audience);
            }
        } else if kind == "training" {
            r.training_events += n;
            r.training_audience += audience;
        } else if kind == "drill" {
            r.groups.drills += n;
            r.groups.drill_attendance += audience;
        } else if kind == "meeting" {
            r.groups.meetings += n;
        }
    }
    Ok(r)
}

impl Store {
    /// The report for an org node (grid, village, township or county) and a period (inclusive).
    pub fn report(&self, scope_id: &str, from: Day, to: Day) -> Result<Report> {
        let as_of = self.today();
        self.read(|c| build(c, scope_id, from, to, as_of))
    }
}

impl Report {
    /// The day the overdue figure is counted at: the period's end, or today while it runs.
    pub fn overdue_as_of(&self) -> Day {
        self.to.min(self.as_of)
    }

    /// The report as plain text, zh-CN first with English figure names.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let pct = |x: Option<f64>| x.map_or("—".to_string(), |v| format!("{:.1}%", v * 100.0));
        let mut s = String::new();
        let _ = writeln!(
            s,
            "消防安全网格化管理统计 / Grid fire-safety report\n{}（{}） {} 至 {}，截至 {}",
            self.scope_name,
            self.scope_level.short_zh(),
            self.from,
            self.to,
            self.as_of
        );
        let _ = writeln!(s, "巡查次数 patrols: {}", self.patrols);
        let _ = writeln!(
            s,
            "上报隐患 hazards reported: {}（重大 major {}，撤销 withdrawn {}）",
            self.hazards_reported, self.major_reported, self.withdrawn
        );
        let _ = writeln!(
            s,
            "已销号 closed: {}   闭环率 closure rate: {}",
            self.closed,
            pct(self.closure_rate)
        );
        let _ = writeln!(
            s,
            "按期整改 closed on time: {}   按期整改率 on-time rate: {}   无整改期限（数据缺失）closed without a deadline: {}",
            self.closed_on_time,
            pct(self.on_time_rate),
            self.closed_without_deadline
        );
        let _ = writeln!(
            s,
            "一般隐患网格内闭环 general closed in grid: {} / {}   网格内闭环率 in-grid closure rate: {}",
            self.general_closed_in_grid,
            self.general_closed,
            pct(self.in_grid_closure_rate)
        );
        let _ = writeln!(
            s,
            "上报上级 escalated: {}   移交 referred: {}   挂牌督办 supervised: {}",
            self.escalated, self.referred, self.supervised
        );
        let _ = writeln!(
            s,
            "逾期未整改（截至 {}）overdue: {}   复查驳回 reworks: {}   销号中位天数 median days to close: {}",
            self.overdue_as_of(),
            self.overdue_count,
            self.rework_count,
            self.median_days_to_close
                .map_or("—".into(), |d| format!("{d:.1}"))
        );
        let _ = writeln!(
            s,
            "每百次巡查发现隐患 hazards per 100 patrols: {}",
            self.hazards_per_100_patrols
                .map_or("—".into(), |d| format!("{d:.1}"))
        );
        let _ = writeln!(s, "巡查覆盖率 coverage: {}", pct(self.coverage_rate()));
        for c in &self.coverage {
            let _ = writeln!(
                s,
                "  {}: {} / {} = {}",
                c.risk.zh(),
                c.covered,
                c.places,
                pct(c.rate)
            );
        }
        let _ = writeln!(
            s,
            "宣传 publicity: {} 次 events, {} 人次 people   培训 training: {} 次, {} 人次",
            self.publicity_events,
            self.publicity_audience,
            self.training_events,
            self.training_audience
        );
        let channels: Vec<String> = self
            .publicity_by_channel
            .iter()
            .map(|c| format!("{} {} 次 {} 人次", c.label, c.events, c.audience))
            .collect();
        let _ = writeln!(s, "宣传五进 publicity by channel: {}", channels.join("，"));
        let t = &self.training;
        let _ = writeln!(
            s,
            "网格员培训 grid workers trained: {} / {} = {}   考核合格 passed: {} / {} = {}",
            t.grid_workers_trained,
            t.grid_workers,
            pct(t.trained_rate),
            t.passed,
            t.assessed,
            pct(t.pass_rate)
        );
        let g = &self.groups;
        let _ = writeln!(
            s,
            "微型消防站 micro stations: {}   志愿消防队 volunteer teams: {}   队员 members: {}   器材待检查 equipment due: {} / {}   过期 expired: {}   演练 drills: {} 次 {} 人次   会议 meetings: {}",
            g.micro_stations,
            g.volunteer_teams,
            g.members,
            g.equipment_due,
            g.equipment_items,
            g.equipment_expired,
            g.drills,
            g.drill_attendance,
            g.meetings
        );
        let f = &self.fires;
        let _ = writeln!(
            s,
            "火灾 fires: {} 起，死亡 deaths {} 人，受伤 injuries {} 人，直接财产损失 direct loss {} 元，消防队出动 brigade attended {}",
            f.fires, f.deaths, f.injuries, f.loss_yuan, f.brigade_attended
        );
        let l = &self.letters;
        let _ = writeln!(
            s,
            "责任书签订率 letters signed: {} / {} = {}   防火公约 village pacts: {} / {}",
            l.places_signed,
            l.places,
            pct(l.signed_rate),
            l.villages_with_pact,
            l.villages
        );
        let dist = |title: &str, v: &[Count]| {
            let items: Vec<String> = v
                .iter()
                .map(|c| format!("{} {}", c.label, c.count))
                .collect();
            format!("{title}: {}\n", items.join("，"))
        };
        s.push_str(&dist("按类别 by category", &self.by_category));
        s.push_str(&dist("按场所类型 by place type", &self.by_place_type));
        s.push_str(&dist("按状态 by status", &self.by_status));
        s.push_str(&dist("火灾按原因 fires by cause", &f.by_cause));
        s.push_str(&dist("火灾按月份 fires by month", &f.by_month));
        if !self.overdue.is_empty() {
            let _ = writeln!(
                s,
                "逾期清单 overdue list (前 {} 条):",
                self.overdue.len().min(10)
            );
            for h in self.overdue.iter().take(10) {
                let _ = writeln!(
                    s,
                    "  {} {} {} 期限 {} 逾期 {} 天",
                    hazard::case_label(h.case_number.as_deref(), &h.id),
                    h.grid_id,
                    library().category_zh(&h.category),
                    h.deadline.map_or("—".into(), |d| d.to_string()),
                    h.days_overdue.unwrap_or(0)
                );
            }
        }
        s
    }
}
