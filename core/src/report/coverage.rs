//! Patrol coverage (巡查覆盖) as of a day, per grid and risk level: how many active places there
//! are, how many are due, overdue, never patrolled, and covered (last patrol within their
//! cycle). The report's coverage figure and the township console's coverage page are both
//! sums of these counts, so the office and a phone's report cannot disagree about a place.
//!
//! A place's last patrol is the latest one ended on or before the day; its cycle is the one the
//! phone's due list uses (the place's own, else the shortest of the patrol plans covering it,
//! else its type and risk level). It is covered when its next due day (a cycle after that
//! patrol) is after the day, due when it is not or when it was never patrolled, overdue when
//! the day is past its next due day. Covered and due therefore split the places in two, and a
//! place on a phone's due list today is never counted covered.

use std::collections::BTreeMap;

use rusqlite::{params_from_iter, Connection};
use serde::Serialize;

use super::{placeholders, ratio, Report};
use crate::clock::Day;
use crate::error::Result;
use crate::org;
use crate::place::{self, RiskLevel};
use crate::store::Store;

/// The places of one grid and risk level, or a total over several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CoverageCount {
    pub places: u32,
    /// Due on the day or earlier, never-patrolled places included.
    pub due: u32,
    /// Past their next due day.
    pub overdue: u32,
    pub never_patrolled: u32,
    /// Last patrolled within their cycle.
    pub covered: u32,
}

impl CoverageCount {
    /// 巡查覆盖率: covered ÷ places, none without places.
    pub fn rate(&self) -> Option<f64> {
        ratio(self.covered, self.places)
    }

    fn add(&mut self, other: &CoverageCount) {
        self.places += other.places;
        self.due += other.due;
        self.overdue += other.overdue;
        self.never_patrolled += other.never_patrolled;
        self.covered += other.covered;
    }
}

/// The coverage of one grid's places of one risk level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GridCoverage {
    pub grid_id: String,
    pub risk: RiskLevel,
    pub count: CoverageCount,
}

/// The active places of `grids` as they stood at the end of `day`: each with its last visit by
/// then and its next due day under the cycle the phone's due list uses (plans applied, as the
/// office sees them). `today` only dates the place rows read.
fn planned_rows(
    c: &Connection,
    grids: &[String],
    day: Day,
    today: Day,
) -> Result<Vec<place::PlaceRow>> {
    let args: Vec<rusqlite::types::Value> = [day.plus(1).start_ms().into()]
        .into_iter()
        .chain(grids.iter().cloned().map(Into::into))
        .collect();
    let mut latest = c.prepare(&format!(
        "SELECT place_id, max(ended_at) FROM patrols WHERE ended_at < ?1
         AND grid_id IN ({}) GROUP BY place_id",
        placeholders(grids.len(), 2)
    ))?;
    let last: BTreeMap<String, i64> = latest
        .query_map(params_from_iter(args.iter()), |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let rows: Vec<place::PlaceRow> = place::places_in(c, grids, today)?
        .into_iter()
        .map(|mut p| {
            p.last_patrol_at = last.get(&p.place.id.to_string()).copied();
            p.next_due = p
                .last_patrol_at
                .map_or(day, |ms| Day::from_ms(ms).plus(p.cycle_days as i32));
            p
        })
        .collect();
    let plans = crate::plan::plans_in(c, grids)?;
    Ok(crate::plan::apply_plans(rows, &plans, None, day))
}

/// The coverage of each (grid, risk level) with places in `grids`, as of `day`, ordered by
/// grid then risk (high first). `today` only dates the place rows read.
pub(crate) fn by_grid(
    c: &Connection,
    grids: &[String],
    day: Day,
    today: Day,
) -> Result<Vec<GridCoverage>> {
    let mut out: BTreeMap<(String, RiskLevel), CoverageCount> = BTreeMap::new();
    for p in planned_rows(c, grids, day, today)? {
        let n = out
            .entry((p.place.grid_id.clone(), p.place.risk_level))
            .or_default();
        n.places += 1;
        n.never_patrolled += u32::from(p.last_patrol_at.is_none());
        n.covered += u32::from(p.next_due > day);
        n.due += u32::from(p.next_due <= day);
        n.overdue += u32::from(p.next_due < day);
    }
    Ok(out
        .into_iter()
        .map(|((grid_id, risk), count)| GridCoverage {
            grid_id,
            risk,
            count,
        })
        .collect())
}

/// A place due for a patrol, with the grid workers who answer for its grid: the coverage
/// page's work list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuePlace {
    pub row: place::PlaceRow,
    pub days_overdue: i32,
    /// The grid's workers, by user id.
    pub workers: Vec<String>,
}

/// The rows summed per risk level, every level listed (high first), with or without places.
pub fn by_risk(rows: &[GridCoverage]) -> Vec<(RiskLevel, CoverageCount)> {
    RiskLevel::ALL
        .into_iter()
        .map(|risk| {
            let mut total = CoverageCount::default();
            for r in rows.iter().filter(|r| r.risk == risk) {
                total.add(&r.count);
            }
            (risk, total)
        })
        .collect()
}

impl Store {
    /// The patrol coverage of the grids under an org node, today, per grid and risk level.
    pub fn coverage(&self, scope_id: &str) -> Result<Vec<GridCoverage>> {
        let today = self.today();
        self.read(|c| {
            let node = org::node(c, scope_id)?;
            by_grid(c, &org::grids_under(c, &node.id)?, today, today)
        })
    }
}

impl Store {
    /// The places under an org node that are due today (the ones the coverage figure does not
    /// count as covered), most overdue first, each with its grid's workers.
    pub fn due_places(&self, scope_id: &str) -> Result<Vec<DuePlace>> {
        let today = self.today();
        self.read(|c| {
            let node = org::node(c, scope_id)?;
            let grids = org::grids_under(c, &node.id)?;
            let mut workers = c.prepare_cached(
                "SELECT u.id FROM users u JOIN user_orgs o ON o.user_id = u.id
                 WHERE o.org_id = ?1 AND u.role = 'grid_worker' ORDER BY u.id",
            )?;
            let mut out = Vec::new();
            for row in planned_rows(c, &grids, today, today)? {
                if row.next_due > today {
                    continue;
                }
                let w = workers
                    .query_map([&row.place.grid_id], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()?;
                out.push(DuePlace {
                    days_overdue: row.days_overdue(today),
                    workers: w,
                    row,
                });
            }
            out.sort_by_key(|d| (std::cmp::Reverse(d.days_overdue), d.row.place.id));
            Ok(out)
        })
    }
}

impl Report {
    /// 巡查覆盖率 over every risk level: covered places ÷ places.
    pub fn coverage_rate(&self) -> Option<f64> {
        let (covered, places) = self
            .coverage
            .iter()
            .fold((0, 0), |(c, p), x| (c + x.covered, p + x.places));
        ratio(covered, places)
    }
}
