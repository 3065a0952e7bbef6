//! The monthly trend of hazards found and closed, as the dashboard charts it.

use std::collections::BTreeMap;

use rusqlite::params_from_iter;
use serde::Serialize;

use super::{check_period, placeholders, scope_filter};
use crate::clock::Day;
use crate::error::Result;
use crate::org;
use crate::store::Store;

/// One month of the trend: hazards found in it, and hazards closed in it (whenever found).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthCount {
    /// `YYYY-MM`
    pub month: String,
    pub found: u32,
    pub closed: u32,
}

impl Store {
    /// Found and closed hazards per calendar month (UTC+8, as the days are) of `scope_id`,
    /// from the month holding `from` to the month holding `to`, every month listed.
    pub fn monthly_trend(&self, scope_id: &str, from: Day, to: Day) -> Result<Vec<MonthCount>> {
        use chrono::Datelike;
        check_period(from, to)?;
        self.read(|c| {
            let node = org::node(c, scope_id)?;
            let (column, ids) = scope_filter(c, &node)?;
            let mut months: BTreeMap<String, (u32, u32)> = BTreeMap::new();
            let (mut y, mut m) = (from.date().year(), from.date().month());
            let last = (to.date().year(), to.date().month());
            let first_day = |y: i32, m: u32| {
                chrono::NaiveDate::from_ymd_opt(y, m, 1).map_or(from, Day::from_date)
            };
            let start_ms = first_day(y, m).start_ms();
            while (y, m) <= last {
                months.insert(format!("{y:04}-{m:02}"), (0, 0));
                (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            }
            // The day after the last month: nothing from outside the months is read.
            let end_ms = first_day(y, m).start_ms();
            let key = |ms: i64| {
                let d = Day::from_ms(ms).date();
                format!("{:04}-{:02}", d.year(), d.month())
            };
            let mut args: Vec<rusqlite::types::Value> = vec![start_ms.into(), end_ms.into()];
            args.extend(ids.iter().cloned().map(Into::into));
            let in_scope = format!("{column} IN ({})", placeholders(ids.len(), 3));
            let mut stmt = c.prepare(&format!(
                "SELECT reported_at, closed_at FROM hazards WHERE {in_scope}
                 AND status <> 'withdrawn' AND reported_at < ?2
                 AND (reported_at >= ?1 OR closed_at >= ?1)"
            ))?;
            let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
            })?;
            for row in rows {
                let (reported, closed) = row?;
                if let Some(e) = months.get_mut(&key(reported)) {
                    e.0 += 1;
                }
                if let Some(e) = closed.and_then(|ms| months.get_mut(&key(ms))) {
                    e.1 += 1;
                }
            }
            Ok(months
                .into_iter()
                .map(|(month, (found, closed))| MonthCount {
                    month,
                    found,
                    closed,
                })
                .collect())
        })
    }
}
