//! What the server keeps, behind two narrow traits, each with a SQLite implementation (the
//! default, `sqlite`) and a PostgreSQL one (`pg`), both passing the same contract tests:
//!
//! - `AccountStore`: password hashes, device tokens and whose each device is, sign-in
//!   attempts, and the ops refused from devices;
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

/// Which sign-in a token was issued by: a phone's (the `/v1/` API) or a console browser's. Each
/// is accepted only where it was issued, and lasts by its own rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Phone,
    Console,
}

impl TokenKind {
    pub fn code(self) -> &'static str {
        match self {
            TokenKind::Phone => "phone",
            TokenKind::Console => "console",
        }
    }

    /// The kind stored as `code`; a kind this server does not know is nobody's.
    pub fn parse(code: &str) -> Result<TokenKind> {
        match code {
            "phone" => Ok(TokenKind::Phone),
            "console" => Ok(TokenKind::Console),
            _ => Err(StorageError::Unreadable("token kind")),
        }
    }
}

/// A live device token as kept: whose, for which device, of which kind, issued when, and when
/// its lifetime last started again (a phone's, on use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub user_id: String,
    pub device_id: String,
    pub kind: TokenKind,
    pub issued_at_ms: i64,
    pub renewed_at_ms: i64,
}

/// A key's sign-in attempts in its current window, the one just counted included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    pub count: i64,
    /// When the window started (the key's first attempt in it).
    pub since_ms: i64,
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

impl Refusal {
    /// Where a listing that ended with this refusal goes on from.
    pub fn key(&self) -> RefusalKey {
        RefusalKey {
            at_ms: self.at_ms,
            op_id: self.op_id,
        }
    }
}

/// A refusal's place in the listing, newest first: by time, then by op id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusalKey {
    pub at_ms: i64,
    pub op_id: Uuid,
}

/// Which refused ops to read, newest first: those that touched one of `grids` (with
/// `ungridded`, also those that touched none), or every one when `grids` is `None`; after
/// `after` (the last of the page before), at most `limit`. The store cuts them to the scope
/// itself, so a flood of refusals elsewhere never pushes a reader's own out of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefusalQuery {
    pub grids: Option<Vec<String>>,
    pub ungridded: bool,
    pub after: Option<RefusalKey>,
    pub limit: usize,
}

impl RefusalQuery {
    /// The newest `limit` refusals, wherever they were.
    pub fn latest(limit: usize) -> RefusalQuery {
        RefusalQuery {
            limit,
            ..RefusalQuery::default()
        }
    }
}

/// Accounts, device tokens, the devices they are bound to, sign-in attempts and refused ops.
pub trait AccountStore: Send + Sync + 'static {
    fn password_hash(&self, user_id: &str) -> Result<Option<String>>;
    /// Sets a user's password hash; a password set this way need not be changed.
    fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<()>;
    /// Marks a user's password as a first one, to be changed at the next sign-in.
    fn require_password_change(&self, user_id: &str) -> Result<()>;
    /// Whether a user's password is a first one still to be changed.
    fn must_change_password(&self, user_id: &str) -> Result<bool>;
    /// No password: nobody signs in as this user until one is set again.
    fn remove_password(&self, user_id: &str) -> Result<()>;
    fn add_token(&self, token_hash: &str, token: &TokenRecord) -> Result<()>;
    /// The token with this hash, unless it is unknown or revoked.
    fn live_token(&self, token_hash: &str) -> Result<Option<TokenRecord>>;
    /// Starts a live token's lifetime again at `at_ms`.
    fn renew_token(&self, token_hash: &str, at_ms: i64) -> Result<()>;
    fn revoke_token(&self, token_hash: &str, at_ms: i64) -> Result<()>;
    /// Binds `device_id` to `user_id` unless it is bound already; returns whom it is bound to
    /// (one answer however many sign-ins race, on any instance).
    fn bind_device(&self, device_id: &str, user_id: &str, at_ms: i64) -> Result<String>;
    /// Binds `device_id` to `owner` whoever held it, and revokes every live token issued for
    /// it: for the server's own devices, which nobody else may ever use.
    fn claim_device(&self, device_id: &str, owner: &str, at_ms: i64) -> Result<()>;
    /// When `device_id` was first signed in with (bound), if it has been.
    fn device_bound_at(&self, device_id: &str) -> Result<Option<i64>>;
    /// Counts one sign-in attempt of `key` at `now_ms` in a window of `window_ms` that starts
    /// at the key's first attempt (one whose window has passed starts a new one), and answers
    /// the window's count so far; forgets keys whose window has passed.
    fn count_attempt(&self, key: &str, now_ms: i64, window_ms: i64) -> Result<Attempts>;
    /// Forgets the attempts of `key` (a sign-in that succeeded).
    fn forget_attempts(&self, key: &str) -> Result<()>;
    /// Revokes every live token of a user; returns how many.
    fn revoke_user(&self, user_id: &str, at_ms: i64) -> Result<usize>;
    /// Keeps refused ops (one already kept is left as it is).
    fn keep_refusals(&self, refused: &[Refusal]) -> Result<()>;
    /// The refused ops `q` asks for, newest first.
    fn refusals(&self, q: &RefusalQuery) -> Result<Vec<Refusal>>;
    fn forget_refusals_before(&self, at_ms: i64) -> Result<()>;
}

/// The keys of `meta` (both backends) that say which epoch a log is in and, once restored,
/// when the backup it came from was made.
pub const EPOCH_KEY: &str = "epoch";
pub const RESTORED_FROM_KEY: &str = "restored_from_ms";

/// A new epoch: random (two restores of one backup must differ, and so must two servers
/// restored on the same day), never 0 nor `old`, and below 2^53 so any JSON reader keeps it.
pub fn next_epoch(old: i64) -> i64 {
    loop {
        let bits = Uuid::new_v4().as_u128();
        let epoch = i64::try_from(bits >> 75).unwrap_or(1);
        if epoch != 0 && epoch != old {
            return epoch;
        }
    }
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
    /// The server's epoch (`protocol::SERVER_RESTORED`), kept beside the horizon: random from
    /// the log's creation (0 for a log from before epochs), new at each restore.
    fn epoch(&self) -> Result<i64>;
    /// Starts a new epoch, as a restore from a backup made at `backup_ms` does (`None`: a new
    /// log): devices then learn that the server has forgotten what it acknowledged since.
    /// Returns it.
    fn begin_epoch(&self, backup_ms: Option<i64>) -> Result<i64>;
    /// When the backup this log was last restored from was made (`None`: never restored).
    fn restored_from(&self) -> Result<Option<i64>>;
    /// Deletes superseded whole-record ops older than `before_ms` and raises the horizon over
    /// them; returns how many went.
    fn compact(&self, before_ms: i64) -> Result<usize>;
    /// Appends ops made elsewhere (the demo's history), each with the grids it touches, as
    /// they are and all at once, unless the log already holds users (another instance seeded
    /// first); returns whether it did.
    fn import_into_empty(&self, items: &[FeedItem]) -> Result<bool>;
    /// The server's wall clock.
    fn now_ms(&self) -> i64;
    /// Whether the database answers a trivial query now, within a couple of seconds (for
    /// `/readyz`: a database that is gone must be told, not waited for).
    fn ping(&self) -> Result<()>;
}
