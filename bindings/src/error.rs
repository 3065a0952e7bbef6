//! The one error type that crosses the FFI: only what an app acts on, each with a message in
//! zh-CN and English built from codes (never personal data). The mapping from the core's error
//! is this file's single `match`.

use gridpatrol_core::hazard::lifecycle::Rejection;
use gridpatrol_core::Error;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum GridPatrolError {
    /// A field the person filled in is not acceptable; show `zh` next to `field`.
    #[error("{zh} / {en}")]
    InvalidInput {
        field: String,
        zh: String,
        en: String,
    },
    /// The action is not allowed now (state, role, scope, separation of duties, unsent work).
    #[error("{zh} / {en}")]
    NotAllowed {
        code: String,
        zh: String,
        en: String,
    },
    #[error("{zh} / {en}")]
    NotFound { zh: String, en: String },
    /// The server could not be reached or refused the request; everything stays on the device.
    #[error("{zh} / {en}")]
    Network { zh: String, en: String },
    /// Sign in again (the token was revoked, or nobody is signed in on this device).
    #[error("{zh} / {en}")]
    AuthExpired { zh: String, en: String },
    /// The database failed, was shut down, or is newer than this app.
    #[error("{zh} / {en}")]
    Storage {
        code: String,
        zh: String,
        en: String,
    },
}

/// The core's messages are "zh / en"; split them for the two fields.
fn halves(e: &Error) -> (String, String) {
    let text = e.to_string();
    match text.split_once(" / ") {
        Some((zh, en)) => (zh.to_string(), en.to_string()),
        None => (text.clone(), text),
    }
}

impl From<Error> for GridPatrolError {
    fn from(e: Error) -> Self {
        let (zh, en) = halves(&e);
        match &e {
            // Bad input found by the lifecycle (a blank description) is still bad input.
            Error::Invalid(input) | Error::Rejected(Rejection::Invalid { input }) => {
                GridPatrolError::InvalidInput {
                    field: serde_json::to_value(input.field)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    zh,
                    en,
                }
            }
            Error::Rejected(_) | Error::PendingOps { .. } | Error::InsecureServer => {
                GridPatrolError::NotAllowed {
                    code: e.code().to_string(),
                    zh,
                    en,
                }
            }
            Error::NotFound { .. } => GridPatrolError::NotFound { zh, en },
            Error::Remote { status: 401, .. } | Error::NotSignedIn => {
                GridPatrolError::AuthExpired { zh, en }
            }
            Error::Remote { .. } | Error::Network { .. } => GridPatrolError::Network { zh, en },
            Error::Interrupted
            | Error::ShutDown
            | Error::SchemaTooNew { .. }
            | Error::SequenceClash { .. } => GridPatrolError::Storage {
                code: e.code().to_string(),
                zh,
                en,
            },
            Error::Sqlite(_)
            | Error::Json(_)
            | Error::Io(_)
            | Error::Export(_)
            | Error::Migration(_) => {
                GridPatrolError::Storage {
                    code: e.code().to_string(),
                    // Storage details may quote SQL or paths: the app shows a fixed text.
                    zh: "本机数据出错，数据未丢失，请重启应用".into(),
                    en: "a storage error on this device; nothing was lost, restart the app".into(),
                }
            }
        }
    }
}

/// An id typed or passed by the app that is not a UUID.
pub(crate) fn bad_id(what: &str) -> GridPatrolError {
    GridPatrolError::InvalidInput {
        field: "id".into(),
        zh: format!("编号格式不正确：{what}"),
        en: format!("malformed id: {what}"),
    }
}
