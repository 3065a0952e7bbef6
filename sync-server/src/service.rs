//! The server's service, written once over any storage (`storage::AccountStore` and
//! `storage::OpLog`): sign-in with its limits, sessions, push with the refused-op
//! bookkeeping, pull and snapshot pages, photo access, the console's actions and the account
//! commands. The HTTP layer and the console see it as `Backend`; the command line as `Admin`.

use std::net::IpAddr;
use std::time::Duration;

use gridpatrol_core::op::Op;
use gridpatrol_core::server::FeedItem;
use gridpatrol_core::sync::protocol::{PullResponse, PushResult, SnapshotPage};
use gridpatrol_core::Store;
use uuid::Uuid;

use crate::backend::{Admin, Backend, Session};
use crate::blobs::{BlobStore, FsBlobs};
use crate::error::ApiError;
use crate::serve;
use crate::signin::SignInGuard;
use crate::storage::{AccountStore, OpLog, Refusal, TokenRecord};

pub struct Service<A, L> {
    accounts: A,
    log: L,
    blobs: FsBlobs,
    sign_ins: SignInGuard,
}

impl<A: AccountStore, L: OpLog> Service<A, L> {
    pub fn new(accounts: A, log: L, blobs: FsBlobs) -> Self {
        Service {
            accounts,
            log,
            blobs,
            sign_ins: SignInGuard::default(),
        }
    }

    /// The op log below the service (benchmarks read its end).
    pub fn log(&self) -> &L {
        &self.log
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
        self.sign_ins.check(user_id, password, client, || {
            let hash = self.accounts.password_hash(user_id)?;
            Ok(serve::password_matches(hash.as_deref(), password))
        })?;
        let (token, hash) = serve::new_token();
        self.accounts.add_token(
            &hash,
            &TokenRecord {
                user_id: user_id.to_string(),
                device_id: device_id.to_string(),
                issued_at_ms: self.now_ms(),
            },
        )?;
        Ok(token)
    }

    fn authenticate(&self, token: &str) -> Result<Session, ApiError> {
        let t = self
            .accounts
            .live_token(&serve::token_hash(token))?
            .ok_or_else(ApiError::unauthorized)?;
        // Caught up, so a reassignment made through another instance applies here at once.
        let records = self.log.records()?;
        Session::of(records.store(), &t.user_id, &t.device_id, t.issued_at_ms)
    }

    fn revoke(&self, token: &str) -> Result<(), ApiError> {
        Ok(self
            .accounts
            .revoke_token(&serve::token_hash(token), self.now_ms())?)
    }

    fn push(&self, session: &Session, ops: Vec<Op>) -> Result<Vec<PushResult>, ApiError> {
        let outcomes = self.log.accept(&session.user, session.device_id, &ops)?;
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
        serve::photo_access(session, hash, || {
            Ok(self.log.records()?.photo_grids(hash)?)
        })
    }

    fn blobs(&self) -> &dyn BlobStore {
        &self.blobs
    }

    fn now_ms(&self) -> i64 {
        self.log.now_ms()
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

    fn refusals(&self, limit: usize) -> Result<Vec<Refusal>, ApiError> {
        Ok(self.accounts.refusals(limit)?)
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

    fn disable_user(&self, user_id: &str) -> Result<usize, ApiError> {
        self.log.records()?.store().actor(user_id)?;
        self.accounts.remove_password(user_id)?;
        self.revoke_user(user_id)
    }

    fn revoke_user(&self, user_id: &str) -> Result<usize, ApiError> {
        Ok(self.accounts.revoke_user(user_id, self.now_ms())?)
    }

    fn import_into_empty(&self, items: &[FeedItem]) -> Result<bool, ApiError> {
        Ok(self.log.import_into_empty(items)?)
    }
}
