//! Case numbers (编号): the server gives each case a short number when it first arrives, as an
//! event of its own `system` user, so every device receives the same number.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::clock::Day;
use crate::error::{Error, Result};
use crate::op::{Op, OpBody};
use crate::org::Actor;
use crate::store::Store;

/// The prefix of a township's case numbers for `year`: `<TOWNSHIP>-<year>-`, the township's
/// id in capitals; the sequence after it has five digits and is counted per township and year.
fn prefix(township_id: &str, year: i32) -> String {
    format!("{}-{year}-", township_id.to_uppercase())
}

/// The highest sequence given under `prefix` in a township so far (0 when none).
fn last_sequence(c: &Connection, township_id: &str, prefix: &str) -> Result<i64> {
    let last: Option<i64> = c
        .prepare_cached(
            "SELECT max(CAST(substr(case_number, ?2) AS INTEGER)) FROM hazards
             WHERE township_id = ?1 AND substr(case_number, 1, ?3) = ?4",
        )?
        .query_row(
            params![
                township_id,
                prefix.len() as i64 + 1,
                prefix.len() as i64,
                prefix
            ],
            |r| r.get(0),
        )?;
    Ok(last.unwrap_or(0))
}

impl Store {
    /// Numbers every case here that has none, in the order they arrived: what a server does
    /// when it starts, for cases that reached its log by an older version that numbered them
    /// later. Returns how many were numbered.
    pub fn number_cases(&self) -> Result<usize> {
        self.write(|tx| {
            let waiting: Vec<String> = tx
                .prepare_cached("SELECT id FROM hazards WHERE case_number IS NULL ORDER BY rowid")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let ids = waiting
                .iter()
                .map(|id| Uuid::parse_str(id).map_err(|_| Error::Interrupted))
                .collect::<Result<Vec<_>>>()?;
            Ok(self.number_in(tx, &ids)?.len())
        })
    }

    /// Gives each of `cases` that is here without a number the next number of its township
    /// and year, in the order given, as an op of the server's own `system` user (so every
    /// device receives the same number): the ops made, in order. The server calls it in the
    /// transaction that accepts the reports, so no case is ever stored without its number.
    pub(crate) fn number_in(&self, tx: &Transaction, cases: &[Uuid]) -> Result<Vec<Op>> {
        use chrono::Datelike;
        let system = Actor::provisioner();
        // Each township-year's last sequence is read once, then counted on here: a push of
        // thousands of cases must not scan the township's cases for each one.
        let mut last: HashMap<String, i64> = HashMap::new();
        let mut made = Vec::new();
        for &hazard_id in cases {
            let waiting: Option<(String, i64)> = tx
                .prepare_cached(
                    "SELECT township_id, reported_at FROM hazards
                     WHERE id = ?1 AND case_number IS NULL",
                )?
                .query_row([hazard_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((township, reported_at)) = waiting else {
                continue;
            };
            let prefix = prefix(&township, Day::from_ms(reported_at).date().year());
            let seq = match last.get_mut(&prefix) {
                Some(seq) => seq,
                None => {
                    let found = last_sequence(tx, &township, &prefix)?;
                    last.entry(prefix.clone()).or_insert(found)
                }
            };
            *seq += 1;
            let number = format!("{prefix}{:05}", *seq);
            made.push(self.commit_local(
                tx,
                &system,
                OpBody::Hazard {
                    hazard_id,
                    event: super::HazardEvent::CaseNumber { number },
                },
            )?);
        }
        Ok(made)
    }
}
