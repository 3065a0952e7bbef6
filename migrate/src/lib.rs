//! Schema migrations for every GridPatrol database: the device database (the core `Store`), the
//! sync server's `accounts.db` and its PostgreSQL database. One runner, refinery's, keeps a
//! history table in each (`refinery_schema_history`: version, name, time applied, checksum); a
//! database's schema is a list of numbered, SQL-only [`Step`]s, frozen once released (refinery
//! refuses a database whose recorded step no longer matches its checksum).
//!
//! This crate owns what is the same for all three: running the steps, refusing a database
//! written by a newer program, and baselining a database made before the runner existed (the
//! versions it already has are recorded as applied without running them, then the rest run).
//! What version a database had before the runner, and what must happen after migrating (the
//! device refills derived state, the server keeps its old version table current), the caller
//! says.
//!
//! Refinery's own drivers are not used: its rusqlite driver stops at rusqlite 0.41 (we use
//! 0.43, and only one `sqlite3` can be linked), and both drivers open a transaction per call.
//! The adapters here run every query inside one transaction that the caller's own work joins,
//! so checking, baselining, migrating and refilling commit together or not at all.

#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;

use refinery_core::traits::sync::Migrate;
use refinery_core::{Migration, Runner, Target};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The history table, refinery's default name (so refinery's own tools can read it).
pub const HISTORY_TABLE: &str = "refinery_schema_history";

/// One version of a schema: the SQL that brings the version before it to this one.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub version: i32,
    /// A name in `[A-Za-z0-9_]`, recorded in the history with the version.
    pub name: &'static str,
    pub sql: &'static str,
    /// State derived from the data must be computed again after this step (the runner only
    /// reports it, in [`Outcome::refill`]: filling it is the database owner's code, not SQL).
    pub refill: bool,
}

impl Step {
    pub const fn new(version: i32, name: &'static str, sql: &'static str) -> Step {
        Step {
            version,
            name,
            sql,
            refill: false,
        }
    }

    pub const fn refills_derived_state(self) -> Step {
        Step {
            refill: true,
            ..self
        }
    }

    /// Refinery's checksum of this step (name, version and SQL), as recorded in the history.
    /// Tests pin it for released steps: an edited released step would otherwise be found only
    /// when an installed database refuses to open.
    pub fn checksum(&self) -> Result<u64, Error> {
        Ok(self.migration()?.checksum())
    }

    fn migration(&self) -> Result<Migration, Error> {
        Migration::unapplied(&format!("V{}__{}", self.version, self.name), self.sql)
            .map_err(Error::Runner)
    }
}

/// What migrating did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The version the database had (0: a new database).
    pub found: i32,
    /// The versions recorded as applied without running them: the database had them from
    /// before the runner.
    pub baselined: Vec<i32>,
    /// The versions run now, in order.
    pub applied: Vec<i32>,
    /// The version the database has now: the last step's.
    pub version: i32,
    /// A step flagged [`Step::refills_derived_state`] ran.
    pub refill: bool,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Written by a newer program: nothing was changed, so an old program never damages newer
    /// data.
    #[error("数据库结构版本 {found} 比本程序支持的 {supported} 新，请升级程序 / the database schema (version {found}) is newer than this program supports ({supported}); update the program")]
    TooNew { found: i32, supported: i32 },
    /// The steps are not numbered 1, 2, 3... (a programming error, caught by every test).
    #[error("迁移步骤编号须为 1、2、3…… / migration steps must be numbered 1, 2, 3...: {0}")]
    Numbering(String),
    /// The runner failed: a step's SQL, the history table, or a recorded step that differs
    /// from this program's (an edited released step).
    #[error("数据库结构迁移失败 / schema migration failed: {0}")]
    Runner(refinery_core::Error),
    #[error("数据库错误 / database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Only the SQLSTATE: a server message can quote a row.
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL 错误 / error {}", postgres::sqlstate(.0))]
    Postgres(#[from] ::postgres::Error),
}

impl From<refinery_core::Error> for Error {
    fn from(e: refinery_core::Error) -> Self {
        Error::Runner(e)
    }
}

/// The error type the refinery traits need from an adapter.
#[derive(Debug, thiserror::Error)]
enum AdapterError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL {}", postgres::sqlstate(.0))]
    Postgres(#[from] ::postgres::Error),
    #[error("unreadable {HISTORY_TABLE} row for version {0}")]
    History(i32),
}

/// A history row as refinery wants it.
fn applied(
    version: i32,
    name: String,
    applied_on: &str,
    checksum: &str,
) -> Result<Migration, AdapterError> {
    let at =
        OffsetDateTime::parse(applied_on, &Rfc3339).map_err(|_| AdapterError::History(version))?;
    let checksum = checksum
        .parse::<u64>()
        .map_err(|_| AdapterError::History(version))?;
    Ok(Migration::applied(version, name, at, checksum))
}

/// The last version, after checking the steps are numbered 1, 2, 3...
fn latest(steps: &[Step]) -> Result<i32, Error> {
    for (i, step) in steps.iter().enumerate() {
        if usize::try_from(step.version).ok() != Some(i + 1) {
            return Err(Error::Numbering(format!(
                "V{}__{}",
                step.version, step.name
            )));
        }
    }
    Ok(steps.last().map_or(0, |s| s.version))
}

/// Brings a database to the last step. `recorded` is the highest version in its history
/// (`None` without history), `legacy` the version it had before the runner existed (0 when it
/// has none). Writes nothing when the database is newer than the steps.
fn run<D: Migrate>(
    db: &mut D,
    steps: &[Step],
    recorded: Option<i32>,
    legacy: i32,
) -> Result<Outcome, Error> {
    let latest = latest(steps)?;
    // Both are read: a newer program keeps the legacy version current too, and an older
    // program without the runner only ever wrote that one.
    let found = recorded.unwrap_or(0).max(legacy);
    if found > latest {
        return Err(Error::TooNew {
            found,
            supported: latest,
        });
    }
    let migrations = steps
        .iter()
        .map(Step::migration)
        .collect::<Result<Vec<_>, _>>()?;
    let mut baselined = Vec::new();
    if recorded.is_none() && legacy > 0 {
        Runner::new(&migrations)
            .set_target(Target::FakeVersion(legacy))
            .run(db)?;
        baselined = (1..=legacy).collect();
    }
    // Grouped: one `execute` call, which the adapters run inside the caller's transaction.
    let report = Runner::new(&migrations).set_grouped(true).run(db)?;
    let applied: Vec<i32> = report
        .applied_migrations()
        .iter()
        .map(Migration::version)
        .collect();
    let refill = steps
        .iter()
        .any(|s| s.refill && applied.contains(&s.version));
    Ok(Outcome {
        found,
        baselined,
        applied,
        version: latest,
        refill,
    })
}
