//! The server's service, written once over any storage (`storage::AccountStore` and
//! `storage::OpLog`): sign-in with its limits and its device binding, sessions of phones and
//! browsers, push with the refused-op bookkeeping, pull and snapshot pages, photo access, the
//! console's actions and the account commands. The HTTP layer and the console see it as
//! `Backend`; the command line as `Admin`.

use std::net::IpAddr;
use std::time::Duration;

use gridpatrol_core::hazard::lifecycle::Rejection;
use gridpatrol_core::op::Op;
use gridpatrol_core::org::Actor;
use gridpatrol_core::server::FeedItem;
use gridpatrol_core::sync::protocol::{
    PhotoReceived, PullResponse, PushResult, SnapshotPage, MAX_AHEAD_MS,
};
use gridpatrol_core::Store;
use uuid::Uuid;

use crate::backend::{AccountChange, Admin, Backend, Session};
use crate::blobs::{blob_name, BlobStore, FsBlobs};
use crate::error::ApiError;
use crate::photos::{self, Chunk, Quota};
use crate::serve;
use crate::signin::SignInGuard;
use crate::storage::{
    AccountStore, OpLog, Refusal, RefusalQuery, Result as StorageResult, TokenKind, TokenRecord,
};
use crate::tokens::{PhoneTokens, Verdict};

/// Whom the server's own devices are bound to. No user id can be this (an id is letters,
/// digits, `-` and `_`), so no sign-in ever gets a token for one of them.
pub const SERVER_OWNER: &str = "@server";

pub struct Service<A, L> {
    accounts: A,
    log: L,
    blobs: FsBlobs,
    sign_ins: SignInGuard,
    phone_tokens: PhoneTokens,
    quota: Quota,
}

impl<A: AccountStore, L: OpLog> Service<A, L> {
    /// The service over these stores, with the server's own devices claimed from anyone who
    /// signed in with them: the fold's, which the console and the account commands record as
    /// (each PostgreSQL instance, and each command, has one of its own), and the nil device of
    /// the built-in checklist library.
    pub fn new(accounts: A, log: L, blobs: FsBlobs) -> StorageResult<Self> {
        let service = Service {
            accounts,
            log,
            blobs,
            sign_ins: SignInGuard::default(),
            phone_tokens: PhoneTokens::default(),
            quota: Quota::new(photos::PHOTO_QUOTA_BYTES),
        };
        // A new log (nobody set up in it yet: it holds at most the built-in checklists)
        // starts in an epoch of its own: a server set up again where a lost one was, with no
        // backup, must not pass for it with the phones that knew the old one.
        if service.log.epoch()? == 0 && service.log.records()?.store().users()?.is_empty() {
            service.log.begin_epoch(None)?;
        }
        let own = service.log.records()?.store().device_id();
        service.claim_for_server([own, Uuid::nil()])?;
        // Cases stored by a version that numbered them after their push.
        service.log.author(|s| s.number_cases())?;
        Ok(service)
    }

    /// Phone tokens last `lifetime` unused (see `tokens`).
    pub fn with_phone_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.phone_tokens = PhoneTokens::new(lifetime);
        self
    }

    /// The service with `bytes` of photo storage for each user instead of the default.
    pub fn with_photo_quota(mut self, bytes: u64) -> Self {
        self.quota = Quota::new(bytes);
        self
    }

    /// May `session` send `variant` of photo `hash` (`photos::may_send`)?
    fn may_send(&self, session: &Session, hash: &str, variant: &str) -> Result<(), ApiError> {
        let records = self.log.records()?;
        let home = records.photo_home(hash)?;
        photos::may_send(session, hash, variant, home.as_ref(), || {
            Ok(records.photo_cited_on(hash, session.device_id, &session.user.user_id)?)
        })
    }

    /// The op log below the service (benchmarks read its end).
    pub fn log(&self) -> &L {
        &self.log
    }

    fn claim_for_server(&self, devices: impl IntoIterator<Item = Uuid>) -> StorageResult<()> {
        let now = self.log.now_ms();
        for device in devices {
            self.accounts
                .claim_device(&device.to_string(), SERVER_OWNER, now)?;
        }
        Ok(())
    }

    fn sign_in(
        &self,
        user_id: &str,
        password: &str,
        device_id: Uuid,
        kind: TokenKind,
        client: IpAddr,
    ) -> Result<String, ApiError> {
        let now = self.now_ms();
        self.sign_ins
            .check(&self.accounts, now, user_id, password, client, || {
                let hash = self.accounts.password_hash(user_id)?;
                Ok(serve::password_matches(hash.as_deref(), password))
            })?;
        // Bound only once the password is right, so that nobody learns whose a device is
        // without one.
        let owner = self
            .accounts
            .bind_device(&device_id.to_string(), user_id, now)?;
        if owner != user_id {
            tracing::warn!(
                user = user_id,
                "sign-in from a device bound to another account refused"
            );
            return Err(ApiError::device_taken());
        }
        let (token, hash) = serve::new_token();
        self.accounts.add_token(
            &hash,
            &TokenRecord {
                user_id: user_id.to_string(),
                device_id: device_id.to_string(),
                kind,
                issued_at_ms: now,
                renewed_at_ms: now,
            },
        )?;
        Ok(token)
    }

    /// The session of a live token of `kind`; a phone token's use renews it.
    fn session(&self, token: &str, kind: TokenKind) -> Result<Session, ApiError> {
        let hash = serve::token_hash(token);
        let t = self
            .accounts
            .live_token(&hash)?
            .filter(|t| t.kind == kind)
            .ok_or_else(ApiError::unauthorized)?;
        let now = self.now_ms();
        let verdict = match kind {
            TokenKind::Phone => self.phone_tokens.judge(t.renewed_at_ms, now),
            TokenKind::Console => Verdict::Live,
        };
        if verdict == Verdict::Expired {
            return Err(ApiError::token_expired());
        }
        // Caught up, so a reassignment made through another instance applies here at once.
        let records = self.log.records()?;
        let session = Session::of(records.store(), &t.user_id, &t.device_id, t.issued_at_ms)?;
        if verdict == Verdict::Renew {
            self.accounts.renew_token(&hash, now)?;
        }
        Ok(session)
    }
}

impl<A: AccountStore, L: OpLog> Backend for Service<A, L> {
    fn login(
        &self,
        user_id: &str,
        password: &str,
        device_id: Uuid,
        client: IpAddr,
    ) -> Result<String, ApiError> {
        self.sign_in(user_id, password, device_id, TokenKind::Phone, client)
    }

    /// Each browser sign-in is a device of its own, so signing out revokes only it.
    fn console_login(
        &self,
        user_id: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<String, ApiError> {
        self.sign_in(
            user_id,
            password,
            Uuid::new_v4(),
            TokenKind::Console,
            client,
        )
    }

    fn authenticate(&self, token: &str) -> Result<Session, ApiError> {
        self.session(token, TokenKind::Phone)
    }

    fn console_session(&self, token: &str) -> Result<Session, ApiError> {
        self.session(token, TokenKind::Console)
    }

    fn revoke(&self, token: &str) -> Result<(), ApiError> {
        Ok(self
            .accounts
            .revoke_token(&serve::token_hash(token), self.now_ms())?)
    }

    fn push(&self, session: &Session, ops: Vec<Op>) -> Result<Vec<PushResult>, ApiError> {
        // Nothing a device sends is dated before it was first signed in (give or take the
        // clock bound): a user who signs in on a fresh device after being moved to another
        // grid cannot date work into the old one by the "assignment at the time" rule. A
        // device bound after the backup this server was restored from was bound earlier than
        // the restored accounts say, at the latest when the backup was made.
        let bound = self
            .accounts
            .device_bound_at(&session.device_id.to_string())?
            .map(|at| at.saturating_sub(MAX_AHEAD_MS));
        let below = |floor: Option<i64>, op: &Op| floor.is_some_and(|f| op.hlc.wall_ms() < f);
        // The log is asked only when some op is early by the binding, not on every push.
        let restored_from = if ops.iter().any(|op| below(bound, op)) {
            self.log.restored_from()?
        } else {
            None
        };
        let floor = match restored_from {
            Some(backup) => bound.map(|f| f.min(backup.saturating_sub(MAX_AHEAD_MS))),
            None => bound,
        };
        let early = |op: &Op| below(floor, op);
        let judged: Vec<Op> = ops.iter().filter(|op| !early(op)).cloned().collect();
        let mut accepted = self
            .log
            .accept(&session.user, session.device_id, &judged)?
            .into_iter();
        let mut outcomes = Vec::with_capacity(ops.len());
        for op in &ops {
            if early(op) {
                outcomes.push(Err(Rejection::BeforeSignIn.into()));
            } else if let Some(outcome) = accepted.next() {
                outcomes.push(outcome);
            }
        }
        // A new case got its number as its report was stored; the phone receives it at its
        // next pull.
        let results = serve::push_results(&ops, outcomes);
        let refused = serve::refusals(self.log.records()?, session, &ops, &results, self.now_ms());
        for r in &refused {
            tracing::warn!(user = r.user_id, kind = r.kind, code = r.code, "op refused");
        }
        if !refused.is_empty() {
            self.accounts.keep_refusals(&refused)?;
        }
        Ok(results)
    }

    fn pull(
        &self,
        session: &Session,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<PullResponse, ApiError> {
        serve::pull(&self.log, session, cursor, limit)
    }

    fn snapshot(
        &self,
        session: &Session,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<SnapshotPage, ApiError> {
        serve::snapshot(&self.log, session, cursor, limit)
    }

    fn photo_access(&self, session: &Session, hash: &str) -> Result<(), ApiError> {
        let home = self.log.records()?.photo_home(hash)?;
        photos::may_read(session, hash, home.as_ref())
    }

    fn photo_upload_status(
        &self,
        session: &Session,
        hash: &str,
        variant: &str,
    ) -> Result<PhotoReceived, ApiError> {
        self.may_send(session, hash, variant)?;
        self.blobs.received(&blob_name(hash, variant))
    }

    fn put_photo(
        &self,
        session: &Session,
        hash: &str,
        chunk: &Chunk<'_>,
    ) -> Result<PhotoReceived, ApiError> {
        self.may_send(session, hash, chunk.variant)?;
        let name = blob_name(hash, chunk.variant);
        let held = self.blobs.received(&name)?;
        if held.complete {
            return Ok(held);
        }
        let user = &session.user.user_id;
        self.quota
            .check(user, chunk.total.saturating_sub(held.received), || {
                let mine = self.log.records()?.photos_cited_by(user)?;
                Ok(mine.iter().map(|h| self.blobs.held_bytes(h)).sum())
            })?;
        let stored =
            self.blobs
                .append(&name, chunk.expect, chunk.offset, chunk.total, chunk.bytes)?;
        self.quota
            .add(user, stored.received.saturating_sub(held.received));
        Ok(stored)
    }

    fn blobs(&self) -> &dyn BlobStore {
        &self.blobs
    }

    fn now_ms(&self) -> i64 {
        self.log.now_ms()
    }

    fn epoch(&self) -> Result<i64, ApiError> {
        Ok(self.log.epoch()?)
    }

    fn records(&self) -> Result<&Store, ApiError> {
        Ok(self.log.records()?.store())
    }

    fn act(
        &self,
        f: &mut dyn FnMut(&Store) -> gridpatrol_core::Result<()>,
    ) -> Result<(), ApiError> {
        Ok(self.log.author(f)?)
    }

    fn refusals(&self, q: &RefusalQuery) -> Result<Vec<Refusal>, ApiError> {
        Ok(self.accounts.refusals(q)?)
    }

    fn must_change_password(&self, user_id: &str) -> Result<bool, ApiError> {
        Ok(self.accounts.must_change_password(user_id)?)
    }

    fn change_password(
        &self,
        user_id: &str,
        old: &str,
        new: &str,
        client: IpAddr,
    ) -> Result<(), ApiError> {
        serve::check_password(new)?;
        if new == old {
            return Err(ApiError::new(
                400,
                "same_password",
                "新密码不能与原密码相同",
                "the new password must differ from the old one",
            ));
        }
        self.sign_ins
            .check(&self.accounts, self.now_ms(), user_id, old, client, || {
                let hash = self.accounts.password_hash(user_id)?;
                Ok(serve::password_matches(hash.as_deref(), old))
            })?;
        let hash = serve::hash_password(new)?;
        Ok(self.accounts.set_password_hash(user_id, &hash)?)
    }

    fn import_register(
        &self,
        plan: crate::import::Plan,
    ) -> Result<Vec<(String, String)>, ApiError> {
        crate::import::apply(self, plan)
    }

    fn can_sign_in(&self, user_id: &str) -> Result<bool, ApiError> {
        Ok(self.accounts.password_hash(user_id)?.is_some())
    }

    fn manage_account(
        &self,
        by: &Actor,
        user_id: &str,
        change: AccountChange,
    ) -> Result<Option<String>, ApiError> {
        self.log
            .records()?
            .store()
            .may_manage_account(by, user_id)?;
        Ok(match change {
            AccountChange::FirstPassword => {
                let password = crate::import::initial_password();
                self.set_password(user_id, &password)?;
                self.require_password_change(user_id)?;
                Some(password)
            }
            AccountChange::Disable => {
                self.disable_user(user_id)?;
                None
            }
            AccountChange::SignOutDevices => {
                self.revoke_user(user_id)?;
                None
            }
        })
    }
}

impl<A: AccountStore, L: OpLog> Admin for Service<A, L> {
    fn author<T>(
        &self,
        f: impl FnOnce(&Store) -> gridpatrol_core::Result<T>,
    ) -> Result<T, ApiError> {
        Ok(self.log.author(f)?)
    }

    fn compact(&self, retention: Duration) -> Result<usize, ApiError> {
        let window = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let before = self.now_ms().saturating_sub(window);
        self.accounts.forget_refusals_before(before)?;
        Ok(self.log.compact(before)?)
    }

    fn set_password(&self, user_id: &str, password: &str) -> Result<(), ApiError> {
        self.log.records()?.store().actor(user_id)?;
        let hash = serve::hash_password(password)?;
        Ok(self.accounts.set_password_hash(user_id, &hash)?)
    }

    fn require_password_change(&self, user_id: &str) -> Result<(), ApiError> {
        Ok(self.accounts.require_password_change(user_id)?)
    }

    fn disable_user(&self, user_id: &str) -> Result<usize, ApiError> {
        self.log.records()?.store().actor(user_id)?;
        self.accounts.remove_password(user_id)?;
        self.revoke_user(user_id)
    }

    fn revoke_user(&self, user_id: &str) -> Result<usize, ApiError> {
        Ok(self.accounts.revoke_user(user_id, self.now_ms())?)
    }

    fn begin_epoch(&self, backup_ms: Option<i64>) -> Result<i64, ApiError> {
        let epoch = self.log.begin_epoch(backup_ms)?;
        tracing::warn!(epoch, "restored from a backup: a new epoch begins");
        Ok(epoch)
    }

    /// The imported ops' devices were the server's (the demo's scratch store), so they are
    /// claimed like its own.
    fn import_into_empty(&self, items: &[FeedItem]) -> Result<bool, ApiError> {
        if !self.log.import_into_empty(items)? {
            return Ok(false);
        }
        let devices: std::collections::BTreeSet<Uuid> =
            items.iter().map(|i| i.op.device_id).collect();
        self.claim_for_server(devices)?;
        self.log.author(|s| s.number_cases())?;
        Ok(true)
    }
}
