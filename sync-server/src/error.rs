//! The error a client receives, and the one place where every failure below the HTTP layer
//! becomes one: storage failures are logged by their kind only (a database message can quote
//! a row: names, phone numbers) and answered as a plain server error; the core's refusals of
//! bad input keep their code and zh-CN / English text.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gridpatrol_core::sync::protocol::{ErrorBody, CLOCK_SKEW, RESYNC_REQUIRED, SERVER_RESTORED};

use crate::storage::StorageError;

/// An error a client receives as JSON (`protocol::ErrorBody`): a stable code and a message in
/// zh-CN and English, with the HTTP status it is sent with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {zh} / {en}")]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub zh: String,
    pub en: String,
    /// What the refusal tells the device besides its reason.
    pub told: Told,
    /// The field to correct, for a form to show the error beside it (not sent to phones).
    pub field: Option<gridpatrol_core::error::Field>,
}

/// What a refusal tells a device besides its reason (one at most, so the error stays small).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    Nothing,
    /// Seconds to wait before trying again (rate limits).
    RetryAfter(u64),
    /// The server's clock, with a refusal about the device's.
    ServerTime(i64),
    /// The server's epoch, with a refusal a restored server gives a device that has not seen
    /// it (and with every resync, so such a device learns of it there too).
    Epoch(i64),
}

impl ApiError {
    /// Seconds to wait before trying again, when the refusal says.
    pub fn retry_after(&self) -> Option<u64> {
        match self.told {
            Told::RetryAfter(s) => Some(s),
            _ => None,
        }
    }

    pub fn new(status: u16, code: &str, zh: &str, en: &str) -> Self {
        ApiError {
            status,
            code: code.into(),
            zh: zh.into(),
            en: en.into(),
            told: Told::Nothing,
            field: None,
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
    /// A phone token unused for longer than its lifetime: the phone signs in again (what it
    /// has not sent stays on it).
    pub fn token_expired() -> Self {
        ApiError::new(
            401,
            "token_expired",
            "登录已过期，请重新登录（本机未上传的记录会保留）",
            "the sign-in has expired; sign in again (records not yet sent stay on the device)",
        )
    }
    /// A sign-in with a device id bound to someone else (another user's phone, or the
    /// server's own device).
    pub fn device_taken() -> Self {
        ApiError::new(
            403,
            "device_taken",
            "这台设备已绑定其他账号，不能用此账号登录；换人使用前请先同步，再清除应用数据",
            "this device is tied to another account and cannot sign in as this one; to hand it \
             over, sync it, then clear the app's data",
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
    pub fn too_large() -> Self {
        ApiError::new(413, "too_large", "请求过大", "request body too large")
    }
    /// The cursor cannot be served incrementally: the device starts again from a snapshot.
    pub fn resync_required(zh_why: &str, en_why: &str) -> Self {
        ApiError::new(
            410,
            RESYNC_REQUIRED,
            &format!("{zh_why}，需要重新同步全部数据（本机未上传的记录会保留）"),
            &format!("{en_why}; a full resync is needed (unsynced records on the device are kept)"),
        )
    }
    /// A refusal as a server in `epoch` sends it: a resync names the epoch, so a device that
    /// knew another learns there that the server was restored.
    pub fn in_epoch(mut self, epoch: i64) -> Self {
        if self.code == RESYNC_REQUIRED {
            self.told = Told::Epoch(epoch);
        }
        self
    }
    /// A push from a device that has not seen the server's `epoch`: the server was restored
    /// from a backup since, and the device sends everything of its own again.
    pub fn server_restored(epoch: i64) -> Self {
        ApiError {
            told: Told::Epoch(epoch),
            ..ApiError::new(
                409,
                SERVER_RESTORED,
                "服务器已从备份恢复，本机的记录将重新上传，请再次同步",
                "the server was restored from a backup; this device sends its records again, sync again",
            )
        }
    }
    /// Too many sign-in attempts; try again after `wait` seconds.
    pub fn too_many_attempts(wait: u64) -> Self {
        ApiError {
            told: Told::RetryAfter(wait),
            ..ApiError::new(
                429,
                "too_many_attempts",
                &format!("登录尝试次数过多，请 {wait} 秒后再试"),
                &format!("too many sign-in attempts; try again in {wait} seconds"),
            )
        }
    }
    /// The pushing device's clock, or an op it pushes, is ahead of the server's `now_ms` by more
    /// than the bound: the device re-dates its unsent ops by the server's clock and pushes again.
    pub fn clock_skew(now_ms: i64) -> Self {
        ApiError {
            told: Told::ServerTime(now_ms),
            ..ApiError::new(
                409,
                CLOCK_SKEW,
                "手机时间与服务器不一致，已按服务器时间校正，请重新同步",
                "the phone's clock disagrees with the server's; it is corrected, sync again",
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

    /// The body sent on the wire.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.clone(),
            zh: self.zh.clone(),
            en: self.en.clone(),
            retry_after: self.retry_after(),
            server_time_ms: match self.told {
                Told::ServerTime(t) => Some(t),
                _ => None,
            },
            epoch: match self.told {
                Told::Epoch(e) => Some(e),
                _ => None,
            },
        }
    }
}

impl From<gridpatrol_core::Error> for ApiError {
    fn from(e: gridpatrol_core::Error) -> Self {
        if e.refuses_input() {
            let text = e.to_string();
            let (zh, en) = text.split_once(" / ").unwrap_or((&text, &text));
            ApiError {
                field: e.field(),
                ..ApiError::new(400, e.code(), zh, en)
            }
        } else {
            tracing::error!(code = e.code(), "core failure");
            ApiError::internal()
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Core(e) => e.into(),
            other => {
                tracing::error!(cause = %other, "storage failure");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after();
        let mut res = (status, Json(self.body())).into_response();
        if let Some(secs) = retry {
            if let Ok(v) = secs.to_string().parse() {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}
