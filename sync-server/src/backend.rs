//! What the HTTP layer needs from storage, whatever the database: accounts and device tokens,
//! and push and pull of ops. The SQLite backend (`sqlite`) is the default; a PostgreSQL backend
//! is to implement the same trait and pass the same tests.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use gridpatrol_core::op::Op;
use gridpatrol_core::org::Actor;
use gridpatrol_core::sync::protocol::{PullResponse, PushResult, SnapshotPage};
use serde::Serialize;
use uuid::Uuid;

/// An authenticated request: the user (with their scope, from the server's own records) and
/// the device the token was issued to.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: Actor,
    pub device_id: Uuid,
}

/// An error a client receives as JSON: a stable code and a message in zh-CN and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {zh} / {en}")]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub code: String,
    pub zh: String,
    pub en: String,
    /// Seconds to wait before trying again (rate limits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, zh: &str, en: &str) -> Self {
        ApiError {
            status,
            code: code.into(),
            zh: zh.into(),
            en: en.into(),
            retry_after: None,
        }
    }
    pub fn unauthorized() -> Self {
        ApiError::new(
            401,
            "unauthorized",
            "未登录或登录已失效",
            "not signed in, or the token is no longer valid",
        )
    }
    pub fn bad_credentials() -> Self {
        ApiError::new(
            401,
            "bad_credentials",
            "用户名或密码错误",
            "wrong user name or password",
        )
    }
    pub fn bad_request(what: &str) -> Self {
        ApiError::new(
            400,
            "bad_request",
            &format!("请求格式不正确：{what}"),
            &format!("malformed request: {what}"),
        )
    }
    /// The cursor cannot be served incrementally: the device starts again from a snapshot.
    pub fn resync_required(zh_why: &str, en_why: &str) -> Self {
        ApiError::new(
            410,
            gridpatrol_core::sync::protocol::RESYNC_REQUIRED,
            &format!("{zh_why}，需要重新同步全部数据（本机未上传的记录会保留）"),
            &format!("{en_why}; a full resync is needed (unsynced records on the device are kept)"),
        )
    }
    /// Too many failed sign-ins; try again after `wait` seconds.
    pub fn too_many_attempts(wait: u64) -> Self {
        ApiError {
            retry_after: Some(wait),
            ..ApiError::new(
                429,
                "too_many_attempts",
                "登录失败次数过多，请稍后再试",
                "too many failed sign-ins; try again later",
            )
        }
    }
    pub fn internal() -> Self {
        ApiError::new(
            500,
            "internal",
            "服务器内部错误，请稍后再试",
            "server error, please try again later",
        )
    }
}

impl From<gridpatrol_core::Error> for ApiError {
    fn from(e: gridpatrol_core::Error) -> Self {
        if e.refuses_input() {
            let text = e.to_string();
            let (zh, en) = text.split_once(" / ").unwrap_or((&text, &text));
            ApiError::new(400, e.code(), zh, en)
        } else {
            ApiError::internal()
        }
    }
}

/// Failed sign-ins counted per key (a user, a client address) in a sliding window: after `max`
/// failures the key waits out the window. Stale keys are dropped as new failures come in.
pub struct FailureLimit<K> {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<K, (u32, Instant)>>,
}

impl<K: Eq + Hash> FailureLimit<K> {
    pub fn new(max: u32, window: Duration) -> Self {
        FailureLimit {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, (u32, Instant)>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses `key` while it has failed too often lately.
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        let failures = self.lock();
        let Some((n, since)) = failures.get(key) else {
            return Ok(());
        };
        match self.window.checked_sub(since.elapsed()) {
            Some(left) if *n >= self.max => Err(ApiError::too_many_attempts(left.as_secs().max(1))),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, key: K) {
        let window = self.window;
        let mut failures = self.lock();
        failures.retain(|_, (_, since)| since.elapsed() <= window);
        failures.entry(key).or_insert((0, Instant::now())).0 += 1;
    }

    pub fn forget(&self, key: &K) {
        self.lock().remove(key);
    }
}

pub trait Backend: Send + Sync + 'static {
    /// Checks a user's password and issues a token for one device.
    fn login(&self, user_id: &str, password: &str, device_id: Uuid) -> Result<String, ApiError>;
    /// The session a token belongs to, unless it is unknown or revoked.
    fn authenticate(&self, token: &str) -> Result<Session, ApiError>;
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
    /// May the session read (and so send) photo `hash`? Only when a record in its scope
    /// cites it; a photo nothing cites yet is refused until its record has synced.
    fn photo_access(&self, session: &Session, hash: &str) -> Result<(), ApiError>;
    /// Where photos are kept.
    fn blobs(&self) -> &dyn crate::blobs::BlobStore;
    fn now_ms(&self) -> i64;
}
