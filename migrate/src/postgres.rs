//! PostgreSQL: the server's database for many instances. Migrating happens in one transaction
//! that first takes a transaction-scoped advisory lock, so instances starting together migrate
//! once: the others wait on the lock, then find the history up to date (each statement under
//! READ COMMITTED sees what the first committed).

use postgres::{Client, Transaction};
use refinery_core::traits::sync::{Migrate, Query, Transaction as RunnerTransaction};
use refinery_core::Migration;

use crate::{AdapterError, Error, Outcome, Step, HISTORY_TABLE};

/// Taken while the schema is migrated. The value ("GPMIGRAT") is the one servers from before
/// the runner took, so an old and a new instance starting together also exclude each other.
pub const MIGRATE_LOCK: i64 = 0x4750_4d49_4752_4154;

/// Brings the database on `client` to the last of `steps`, under [`MIGRATE_LOCK`]. `legacy`
/// says which version a database without history already has (0 when new); `after` runs in
/// the same transaction once the steps have, and its error undoes everything.
pub fn migrate<E: From<Error>>(
    client: &mut Client,
    steps: &[Step],
    legacy: impl FnOnce(&mut Transaction<'_>) -> Result<i32, postgres::Error>,
    after: impl FnOnce(&mut Transaction<'_>, &Outcome) -> Result<(), E>,
) -> Result<Outcome, E> {
    let mut tx = client.transaction().map_err(Error::from)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
        .map_err(Error::from)?;
    let recorded = recorded(&mut tx).map_err(Error::from)?;
    let legacy = legacy(&mut tx).map_err(Error::from)?;
    let outcome = crate::run(&mut Adapter(&mut tx), steps, recorded, legacy)?;
    after(&mut tx, &outcome)?;
    tx.commit().map_err(Error::from)?;
    Ok(outcome)
}

/// Whether a table (or any relation) of this name is on the search path.
pub fn table_exists(tx: &mut Transaction<'_>, name: &str) -> Result<bool, postgres::Error> {
    tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])?
        .try_get(0)
}

/// The SQLSTATE of an error, or "connection" when there is none: all that is logged or shown.
pub(crate) fn sqlstate(e: &postgres::Error) -> &str {
    e.code().map_or("connection", |c| c.code())
}

fn recorded(tx: &mut Transaction<'_>) -> Result<Option<i32>, postgres::Error> {
    if !table_exists(tx, HISTORY_TABLE)? {
        return Ok(None);
    }
    tx.query_one(&format!("SELECT max(version) FROM {HISTORY_TABLE}"), &[])?
        .try_get(0)
}

/// Refinery's view of the migrating transaction.
struct Adapter<'t, 'c>(&'t mut Transaction<'c>);

impl RunnerTransaction for Adapter<'_, '_> {
    type Error = AdapterError;

    fn execute<'a, T: Iterator<Item = &'a str>>(
        &mut self,
        queries: T,
    ) -> Result<usize, Self::Error> {
        let mut count = 0;
        for query in queries {
            self.0.batch_execute(query)?;
            count += 1;
        }
        Ok(count)
    }
}

impl Query<Vec<Migration>> for Adapter<'_, '_> {
    fn query(&mut self, query: &str) -> Result<Vec<Migration>, Self::Error> {
        let mut applied = Vec::new();
        for row in self.0.query(query, &[])? {
            let version: i32 = row.try_get(0)?;
            let at: String = row.try_get(2)?;
            let checksum: String = row.try_get(3)?;
            applied.push(crate::applied(version, row.try_get(1)?, &at, &checksum)?);
        }
        Ok(applied)
    }
}

impl Migrate for Adapter<'_, '_> {}
