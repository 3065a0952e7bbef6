//! What the server keeps, behind two narrow traits, each with a SQLite implementation (the
//! default, `sqlite`) and a PostgreSQL one (`pg`), both passing the same contract tests:
//!
//! - `AccountStore`: password hashes, device tokens, and the ops refused from devices;
//! - `OpLog`: the op log, with the server's fold of it (`core::server::Records`) that judges
//!   pushes, names the grids an op touches, and answers who a user is.
//!
//! Everything that is the same whatever keeps the rows (sign-in limits, sessions, pages,
//! refusal bookkeeping, photo access) is written once above them, in `service`. Failures are
//! `StorageError`, which knows nothing of HTTP (`error` maps it).

pub mod pg;
pub mod schema;
pub mod sqlite;

use gridpatrol_core::apply::Applied;
use gridpatrol_core::op::Op;
use gridpatrol_core::org::Actor;
use gridpatrol_core::server::{Feed, FeedItem, FeedQuery, Records};
use gridpatrol_core::Store;
use serde::Serialize;
use uuid::Uuid;

/// A failure of the storage below the service. A database's own message is never kept: it can
/// quote a row (names, phone numbers); its kind and code are.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{database} {code}")]
    Database {
        database: &'static str,
        code: String,
    },
    /// A row that does not read back as what was written.
    #[error("unreadable {0} in the log")]
    Unreadable(&'static str),
    /// The core refused or failed (bad input keeps its code and text for the client).
    #[error(transparent)]
    Core(#[from] gridpatrol_core::Error),
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        let code = match &e {
            rusqlite::Error::SqliteFailure(f, _) => format!("{:?}", f.code),
            _ => "client".to_string(),
        };
        StorageError::Database {
            database: "SQLite",
            code,
        }
    }
}

impl From<postgres::Error> for StorageError {
    fn from(e: postgres::Error) -> Self {
        StorageError::Database {
            database: "PostgreSQL",
            code: e.code().map_or("connection", |c| c.code()).to_string(),
        }
    }
}

impl From<r2d2::Error> for StorageError {
    fn from(_: r2d2::Error) -> Self {
        StorageError::Database {
            database: "PostgreSQL",
            code: "no connection available".to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// A live device token as kept: whose, for which device, issued when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub user_id: String,
    pub device_id: String,
    pub issued_at_ms: i64,
}

/// An op the server refused from a device, kept so that someone who can sort it out sees it
/// (the device shows it to its user too). The op's content is not kept, only what it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub at_ms: i64,
    pub op_id: Uuid,
    pub user_id: String,
    pub device_id: Uuid,
    pub kind: String,
    pub entity: String,
    /// The grids the op would have touched, as the server's records tell.
    pub grids: Vec<String>,
    pub code: String,
    pub zh: String,
    pub en: String,
}

/// Accounts, device tokens and refused ops.
pub trait AccountStore: Send + Sync + 'static {
    fn password_hash(&self, user_id: &str) -> Result<Option<String>>;
    fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<()>;
    /// No password: nobody signs in as this user until one is set again.
    fn remove_password(&self, user_id: &str) -> Result<()>;
    fn add_token(&self, token_hash: &str, token: &TokenRecord) -> Result<()>;
    /// The token with this hash, unless it is unknown or revoked.
    fn live_token(&self, token_hash: &str) -> Result<Option<TokenRecord>>;
    fn revoke_token(&self, token_hash: &str, at_ms: i64) -> Result<()>;
    /// Revokes every live token of a user; returns how many.
    fn revoke_user(&self, user_id: &str, at_ms: i64) -> Result<usize>;
    /// Keeps refused ops (one already kept is left as it is).
    fn keep_refusals(&self, refused: &[Refusal]) -> Result<()>;
    /// The latest refused ops, newest first, at most `limit`.
    fn refusals(&self, limit: usize) -> Result<Vec<Refusal>>;
    fn forget_refusals_before(&self, at_ms: i64) -> Result<()>;
}

/// The op log and the server's fold of it.
pub trait OpLog: Send + Sync + 'static {
    /// The fold, caught up with the log as it is now.
    fn records(&self) -> Result<&Records>;
    /// Judges a batch pushed by `user` from `device_id` against the records and stores the
    /// ops it accepts, answering each (see `Records::accept_pushed`).
    fn accept(
        &self,
        user: &Actor,
        device_id: Uuid,
        ops: &[Op],
    ) -> Result<Vec<gridpatrol_core::Result<Applied>>>;
    /// Runs `f` on the fold, where it records ops as the server's own device, and stores
    /// those ops in the log before answering (also when `f` fails after recording some).
    fn author<T>(&self, f: impl FnOnce(&Store) -> gridpatrol_core::Result<T>) -> Result<T>;
    /// The stretch of the log `q` names, for `reader`. A log that indexes ops by grid may
    /// leave out ops touching none of the reader's grids (never reference data); pages are
    /// filtered by scope above either way.
    fn feed(&self, q: &FeedQuery, reader: &Actor) -> Result<Feed>;
    /// The position of the newest op (0 when there is none).
    fn last_position(&self) -> Result<i64>;
    /// Pull cursors below this position are refused: ops they would have needed are gone.
    fn horizon(&self) -> Result<i64>;
    /// Deletes superseded whole-record ops older than `before_ms` and raises the horizon over
    /// them; returns how many went.
    fn compact(&self, before_ms: i64) -> Result<usize>;
    /// Appends ops made elsewhere (the demo's history), each with the grids it touches, as
    /// they are and all at once, unless the log already holds users (another instance seeded
    /// first); returns whether it did.
    fn import_into_empty(&self, items: &[FeedItem]) -> Result<bool>;
    /// The server's wall clock.
    fn now_ms(&self) -> i64;
}
