//! SQLite: the device database and the server's `accounts.db`. Everything happens in one
//! exclusive transaction, and `PRAGMA user_version` is kept equal to the schema version, so
//! programs from before the runner (which read only `user_version`) still refuse a newer
//! database, and a person with the `sqlite3` shell can read the version at a glance.

use refinery_core::traits::sync::{Migrate, Query, Transaction as RunnerTransaction};
use refinery_core::Migration;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::{AdapterError, Error, Outcome, Step, HISTORY_TABLE};

/// Brings the database on `conn` to the last of `steps`. `legacy` says which version a
/// database without history already has (0 when new); `after` runs in the same transaction
/// once the steps have (to refill derived state, or add the rows a new database needs), and
/// its error undoes everything.
pub fn migrate<E: From<Error>>(
    conn: &mut Connection,
    steps: &[Step],
    legacy: impl FnOnce(&Connection) -> rusqlite::Result<i32>,
    after: impl FnOnce(&Transaction<'_>, &Outcome) -> Result<(), E>,
) -> Result<Outcome, E> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Exclusive)
        .map_err(Error::from)?;
    let recorded = recorded(&tx).map_err(Error::from)?;
    let legacy = legacy(&tx).map_err(Error::from)?;
    let outcome = crate::run(&mut Adapter(&tx), steps, recorded, legacy)?;
    // Written only when it changes: opening an up-to-date database writes nothing.
    if user_version(&tx).map_err(Error::from)? != outcome.version {
        tx.pragma_update(None, "user_version", outcome.version)
            .map_err(Error::from)?;
    }
    after(&tx, &outcome)?;
    tx.commit().map_err(Error::from)?;
    Ok(outcome)
}

pub fn user_version(c: &Connection) -> rusqlite::Result<i32> {
    c.query_row("PRAGMA user_version", [], |r| r.get(0))
}

pub fn table_exists(c: &Connection, name: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [name],
        |r| r.get(0),
    )
}

/// The highest version in the history, `None` without history.
fn recorded(c: &Connection) -> rusqlite::Result<Option<i32>> {
    if !table_exists(c, HISTORY_TABLE)? {
        return Ok(None);
    }
    c.query_row(
        &format!("SELECT max(version) FROM {HISTORY_TABLE}"),
        [],
        |r| r.get(0),
    )
}

/// Refinery's view of the connection, inside the transaction `migrate` commits.
struct Adapter<'c>(&'c Connection);

impl RunnerTransaction for Adapter<'_> {
    type Error = AdapterError;

    fn execute<'a, T: Iterator<Item = &'a str>>(
        &mut self,
        queries: T,
    ) -> Result<usize, Self::Error> {
        let mut count = 0;
        for query in queries {
            self.0.execute_batch(query)?;
            count += 1;
        }
        Ok(count)
    }
}

impl Query<Vec<Migration>> for Adapter<'_> {
    fn query(&mut self, query: &str) -> Result<Vec<Migration>, Self::Error> {
        let mut stmt = self.0.prepare(query)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut applied = Vec::new();
        for row in rows {
            let (version, name, at, checksum) = row?;
            applied.push(crate::applied(version, name, &at, &checksum)?);
        }
        Ok(applied)
    }
}

impl Migrate for Adapter<'_> {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const STEPS: &[Step] = &[
        Step::new(1, "places", "CREATE TABLE places (id TEXT PRIMARY KEY);"),
        Step::new(2, "note", "ALTER TABLE places ADD COLUMN note TEXT;"),
        Step::new(3, "refs", "CREATE TABLE refs (id TEXT PRIMARY KEY);").refills_derived_state(),
    ];

    fn run(c: &mut Connection, steps: &[Step], legacy: i32) -> Result<Outcome, Error> {
        migrate(c, steps, |_| Ok(legacy), |_, _| Ok::<(), Error>(()))
    }

    fn schema(c: &Connection) -> Vec<String> {
        let mut s = c
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_new_database_runs_every_step_once() {
        let mut c = Connection::open_in_memory().unwrap();
        let o = run(&mut c, STEPS, 0).unwrap();
        assert_eq!((o.found, o.applied, o.version), (0, vec![1, 2, 3], 3));
        assert!(o.refill && o.baselined.is_empty());
        assert_eq!(user_version(&c).unwrap(), 3);
        let again = run(&mut c, STEPS, 3).unwrap();
        assert!(again.applied.is_empty() && !again.refill);
    }

    #[test]
    fn a_database_from_before_the_runner_is_baselined_then_migrated() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE places (id TEXT PRIMARY KEY); PRAGMA user_version = 1;")
            .unwrap();
        c.execute("INSERT INTO places (id) VALUES ('p1')", [])
            .unwrap();
        let o = migrate(&mut c, STEPS, user_version, |tx, o: &Outcome| {
            assert_eq!(user_version(tx).unwrap(), 3, "after runs once migrated");
            assert!(o.refill);
            Ok::<(), Error>(())
        })
        .unwrap();
        assert_eq!((o.found, o.baselined, o.applied), (1, vec![1], vec![2, 3]));
        let mut fresh = Connection::open_in_memory().unwrap();
        run(&mut fresh, STEPS, 0).unwrap();
        assert_eq!(schema(&c), schema(&fresh));
        let rows: i64 = c
            .query_row("SELECT count(*) FROM places WHERE note IS NULL", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(rows, 1);
    }

    #[test]
    fn a_newer_database_is_refused_and_left_unchanged() {
        for newer in ["PRAGMA user_version = 4;", ""] {
            let mut c = Connection::open_in_memory().unwrap();
            run(&mut c, STEPS, 0).unwrap();
            if newer.is_empty() {
                // A newer program's history, without touching user_version.
                let four = [STEPS, &[Step::new(4, "four", "SELECT 1;")]].concat();
                run(&mut c, &four, 0).unwrap();
                c.pragma_update(None, "user_version", 3).unwrap();
            } else {
                c.execute_batch(newer).unwrap();
            }
            let before = (schema(&c), user_version(&c).unwrap());
            let e = migrate(&mut c, STEPS, user_version, |_, _| Ok::<(), Error>(())).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::TooNew {
                        found: 4,
                        supported: 3
                    }
                ),
                "{e}"
            );
            assert!(e.to_string().contains("比本程序支持的 3 新"), "{e}");
            assert_eq!(before, (schema(&c), user_version(&c).unwrap()));
        }
    }

    #[test]
    fn an_edited_released_step_is_refused() {
        let mut c = Connection::open_in_memory().unwrap();
        run(&mut c, STEPS, 0).unwrap();
        let mut edited = STEPS.to_vec();
        edited[1].sql = "ALTER TABLE places ADD COLUMN remark TEXT;";
        let e = run(&mut c, &edited, 0).unwrap_err();
        assert!(matches!(e, Error::Runner(_)), "{e}");
    }

    #[test]
    fn a_failing_after_undoes_the_migration() {
        let mut c = Connection::open_in_memory().unwrap();
        let e = migrate(
            &mut c,
            STEPS,
            |_| Ok(0),
            |_, _| Err(Error::Numbering("boom".into())),
        )
        .unwrap_err();
        assert!(matches!(e, Error::Numbering(_)));
        assert!(schema(&c).is_empty());
        assert_eq!(user_version(&c).unwrap(), 0);
    }

    #[test]
    fn steps_must_be_numbered_from_one() {
        let mut c = Connection::open_in_memory().unwrap();
        let e = run(&mut c, &STEPS[1..], 0).unwrap_err();
        assert!(matches!(e, Error::Numbering(_)), "{e}");
    }
}
