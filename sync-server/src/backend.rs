//! What the HTTP layer and the console need of the server (`Backend`), and what the account
//! commands and the demo need besides (`Admin`): both implemented once, by `service::Service`,
//! over whichever storage keeps the rows (`storage`).

use std::net::IpAddr;
use std::time::Duration;

use gridpatrol_core::op::Op;
use gridpatrol_core::org::Actor;
use gridpatrol_core::server::{FeedItem, FeedQuery, Records};
use gridpatrol_core::sync::protocol::{PhotoReceived, PullResponse, PushResult, SnapshotPage};
use gridpatrol_core::Store;
use uuid::Uuid;

pub use crate::error::ApiError;
pub use crate::storage::{Refusal, RefusalKey, RefusalQuery};

/// An authenticated request: the user (with their scope, from the server's own records), the
/// device the token was issued to, and when it was issued.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: Actor,
    pub device_id: Uuid,
    pub issued_at_ms: i64,
}

impl Session {
    /// The session of a token issued to `user_id` on `device` at `issued_at_ms`, with the
    /// user's scope from the server's own records as they are now, never from the client.
    pub fn of(
        records: &Store,
        user_id: &str,
        device: &str,
        issued_at_ms: i64,
    ) -> Result<Session, ApiError> {
        let device_id = Uuid::parse_str(device).map_err(|_| ApiError::unauthorized())?;
        let user = records
            .actor(user_id)
            .map_err(|_| ApiError::unauthorized())?;
        Ok(Session {
            user,
            device_id,
            issued_at_ms,
        })
    }
}

pub trait Backend: Send + Sync + 'static {
    /// Checks a user's password (within the sign-in limits for `client`, the address the
    /// attempt came from) and issues a phone token for `device_id`. A device id is the user's
    /// from its first sign-in on: one bound to someone else (another user, or the server's
    /// own devices) is refused with `device_taken`.
    fn login(
        &self,
        user_id: &str,
        password: &str,
        device_id: Uuid,
        client: IpAddr,
    ) -> Result<String, ApiError>;
    /// `login` for a console browser: a token for a new device of its own, accepted by the
    /// console only.
    fn console_login(
        &self,
        user_id: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<String, ApiError>;
    /// The session a phone token belongs to, unless it is unknown, revoked, a console's, or
    /// unused for longer than its lifetime (`token_expired`); its use renews that lifetime.
    fn authenticate(&self, token: &str) -> Result<Session, ApiError>;
    /// The session a console token belongs to, unless it is unknown, revoked or a phone's (how
    /// long a console sign-in lasts is the console's to say).
    fn console_session(&self, token: &str) -> Result<Session, ApiError>;
    /// Revokes a token; later requests with it are refused.
    fn revoke(&self, token: &str) -> Result<(), ApiError>;
    /// Authorises, validates and stores each op; answers each one.
    fn push(&self, session: &Session, ops: Vec<Op>) -> Result<Vec<PushResult>, ApiError>;
    /// Ops of the session's scope after `cursor`, at most `limit`. A cursor made for another
    /// scope, or older than the retention window, is refused with `resync_required`.
    fn pull(
        &self,
        session: &Session,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<PullResponse, ApiError>;
    /// One page of a compacted snapshot of the session's scope (from the start when `cursor`
    /// is empty), at most `limit` ops read.
    fn snapshot(
        &self,
        session: &Session,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<SnapshotPage, ApiError>;
    /// May the session read photo `hash`? Only when the photo's own record (the first to cite
    /// it) is in its scope; a photo nothing cites yet is refused until its record has synced.
    fn photo_access(&self, session: &Session, hash: &str) -> Result<(), ApiError>;
    /// How much of `variant` of photo `hash` is held, for a device that may send it
    /// (`photos::may_send`).
    fn photo_upload_status(
        &self,
        session: &Session,
        hash: &str,
        variant: &str,
    ) -> Result<PhotoReceived, ApiError>;
    /// Stores a chunk of photo `hash` from a device that may send it, within its user's
    /// photo quota (`photos::Quota`).
    fn put_photo(
        &self,
        session: &Session,
        hash: &str,
        chunk: &crate::photos::Chunk<'_>,
    ) -> Result<PhotoReceived, ApiError>;
    /// Where photos are kept.
    fn blobs(&self) -> &dyn crate::blobs::BlobStore;
    fn now_ms(&self) -> i64;
    /// The server's epoch (`protocol::SERVER_RESTORED`).
    fn epoch(&self) -> Result<i64, ApiError>;
    /// The fold of the whole log, caught up with it: what the township console reads.
    fn records(&self) -> Result<&Store, ApiError>;
    /// Runs `f` on the fold, where it records ops as the server's own device (the console
    /// acting for a signed-in user), and stores those ops in the log before answering.
    fn act(&self, f: &mut dyn FnMut(&Store) -> gridpatrol_core::Result<()>)
        -> Result<(), ApiError>;
    /// The ops refused from devices that `q` asks for, newest first.
    fn refusals(&self, q: &RefusalQuery) -> Result<Vec<Refusal>, ApiError>;
    /// Whether `user_id`'s password is a first one still to be changed.
    fn must_change_password(&self, user_id: &str) -> Result<bool, ApiError>;
    /// A signed-in user changes their own password: the old one is checked as at a sign-in
    /// (and counted against the same limits), the new one must be a valid password and differ.
    fn change_password(
        &self,
        user_id: &str,
        old: &str,
        new: &str,
        client: std::net::IpAddr,
    ) -> Result<(), ApiError>;
    /// Records a checked 底数清单 import (`import::apply`): each new person's first password.
    fn import_register(&self, plan: crate::import::Plan)
        -> Result<Vec<(String, String)>, ApiError>;
    /// Whether `user_id` has a password to sign in with (a disabled person has none).
    fn can_sign_in(&self, user_id: &str) -> Result<bool, ApiError>;
    /// Changes another person's account as `by` may (`Store::may_manage_account`); a new
    /// first password comes back, to be shown once.
    fn manage_account(
        &self,
        by: &Actor,
        user_id: &str,
        change: AccountChange,
    ) -> Result<Option<String>, ApiError>;
}

/// What the console may do to another person's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    /// A new first password, to be changed at the next sign-in (a new person, a forgotten one).
    FirstPassword,
    /// Someone who left: no sign-in, every device signed out, their records kept.
    Disable,
    /// A lost phone: every device signed out.
    SignOutDevices,
}

/// What the account commands, the demo and the compactor need of a backend besides serving.
pub trait Admin: Backend {
    /// Runs `f` on the fold, where it may record ops as the server's own device (account
    /// changes, the demo), and stores those ops in the log.
    fn author<T>(
        &self,
        f: impl FnOnce(&Store) -> gridpatrol_core::Result<T>,
    ) -> Result<T, ApiError>;
    /// Deletes superseded history, and refused-op records, older than `retention`; returns how
    /// many ops went.
    fn compact(&self, retention: Duration) -> Result<usize, ApiError>;
    /// Sets a user's password (the user must exist in the org records).
    fn set_password(&self, user_id: &str, password: &str) -> Result<(), ApiError>;
    /// Marks a user's password as a first one, to be changed at their next sign-in.
    fn require_password_change(&self, user_id: &str) -> Result<(), ApiError>;
    /// Disables a user: their password goes (no sign-in until one is set again) and every
    /// live token is revoked; returns how many tokens.
    fn disable_user(&self, user_id: &str) -> Result<usize, ApiError>;
    /// Revokes every live token of a user; returns how many.
    fn revoke_user(&self, user_id: &str) -> Result<usize, ApiError>;
    /// Appends ops made elsewhere (the demo's history), each with the grids it touches, as
    /// they are and all at once, unless the log already holds users (another instance seeded
    /// first); returns whether it did.
    fn import_into_empty(&self, ops: &[FeedItem]) -> Result<bool, ApiError>;
    /// Starts a new epoch after the data was restored from a backup made at `backup_ms`
    /// (`OpLog::begin_epoch`): every device then sends again what this server forgot.
    /// Returns it.
    fn begin_epoch(&self, backup_ms: Option<i64>) -> Result<i64, ApiError>;
}

/// Seeds the demo township unless users exist: the org tree, users and places, and with
/// `history` the demo's two months of work (every lifecycle path, then daily patrols from
/// 2026-09-01) made in a scratch database on the demo's clock and imported as recorded.
/// `more_grids` grids are added for load tests (`demo::seed_more_grids`). Every demo user
/// (`demo::user_ids`) gets `password`; nobody else's is touched.
pub fn seed_demo(
    b: &impl Admin,
    password: &str,
    more_grids: usize,
    history: bool,
) -> Result<(), ApiError> {
    if history && b.records()?.users()?.is_empty() {
        let dir = tempfile::tempdir().map_err(|_| ApiError::internal())?;
        let scratch = Store::open(dir.path().join("demo.db"), gridpatrol_core::demo::clock())?;
        gridpatrol_core::demo::run(&scratch)?;
        let history = Records::new(scratch).feed(&FeedQuery {
            limit: usize::MAX >> 1,
            ..FeedQuery::default()
        })?;
        b.import_into_empty(&history.items)?;
    }
    b.author(|store| {
        if store.users()?.is_empty() {
            gridpatrol_core::demo::seed(store)?;
        }
        gridpatrol_core::demo::seed_more_grids(store, more_grids)?;
        Ok(())
    })?;
    // The demo's own people only: an account someone added keeps the password it was given.
    for id in gridpatrol_core::demo::user_ids(more_grids) {
        b.set_password(&id, password)?;
    }
    Ok(())
}
