//! The sync protocol (version 2, JSON under `/v1/`): every message a device and the server
//! exchange and the paths they are sent to, used by both sides so neither keeps a copy. A
//! push carries a batch of this device's ops in sequence order and is answered op by op; a
//! pull returns ops of the user's scope after an opaque cursor, with the server's clock so the
//! device can keep its HLC near it; photos go up in chunks the server acknowledges.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::op::Op;

/// 2: ops of the registers (fires, letters, groups, equipment checks; drills, meetings and
/// trainees on activities), which a phone of version 1 cannot read: its push is refused with
/// 请升级应用 before it pulls what it could not fold. Its unsent work stays on it.
pub const PROTOCOL_VERSION: u32 = 2;

/// Beyond this bound past its clock, the server refuses a push with `CLOCK_SKEW` and its
/// time, and the device re-dates its unsent ops.
pub use crate::clock::MAX_AHEAD_MS;
/// The error code of a push refused for the device's clock (see `MAX_AHEAD_MS`).
pub const CLOCK_SKEW: &str = "clock_skew";
/// The most ops one push may carry.
pub const MAX_PUSH_OPS: usize = 2_000;
/// The most ops one device may add to one record (a hazard's whole history is a few dozen).
pub const MAX_OPS_PER_RECORD: u32 = 5_000;

/// The paths of the API, relative to the server's address.
pub mod routes {
    pub const LOGIN: &str = "/v1/login";
    pub const LOGOUT: &str = "/v1/logout";
    pub const PUSH: &str = "/v1/push";
    pub const PULL: &str = "/v1/pull";
    pub const SNAPSHOT: &str = "/v1/snapshot";
    /// A signed-in user changes their own password (a first one must be changed).
    pub const PASSWORD: &str = "/v1/password";
    /// `PHOTOS/{hash}`: download (GET) or one chunk up (PUT, `offset` and `total` in the query).
    pub const PHOTOS: &str = "/v1/photos";
    /// `PHOTOS/{hash}/upload` (GET): how much of a photo the server holds.
    pub const PHOTO_UPLOAD: &str = "upload";

    /// The path of photo `hash`.
    pub fn photo(hash: &str) -> String {
        format!("{PHOTOS}/{hash}")
    }
}

/// A sign-in from a device (or a console browser, which gets a device id of its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub user_id: String,
    pub password: String,
    pub device_id: Uuid,
}

/// A device token, shown once; the server keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub user_id: String,
    pub role: crate::org::Role,
    pub server_time_ms: i64,
    /// The password is a first one (printed at an import): the person must choose their own.
    #[serde(default)]
    pub must_change_password: bool,
    /// The server's epoch (`SERVER_RESTORED`), which a device that has sent and received
    /// nothing yet takes as its own.
    #[serde(default)]
    pub epoch: i64,
}

/// A signed-in user's change of their own password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePasswordRequest {
    pub old_password: String,
    pub new_password: String,
}

/// Every refused request's body: a stable code and a message in zh-CN and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// Seconds to wait before trying again (rate limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The server's clock, when the refusal is about the device's (`CLOCK_SKEW`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time_ms: Option<i64>,
    /// The server's epoch, when the refusal is about a device that has not seen it
    /// (`SERVER_RESTORED`, and `RESYNC_REQUIRED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<i64>,
}

/// How much of a photo file the server holds: the device resumes from `received`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoReceived {
    pub received: u64,
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub protocol: u32,
    pub device_id: Uuid,
    pub ops: Vec<Op>,
    /// The device's corrected clock as it sends: the server refuses a push from a device whose
    /// clock is off by more than `MAX_AHEAD_MS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at_ms: Option<i64>,
    /// The epoch of the server the device's acknowledged ops were sent in: a server restored
    /// since refuses the push with `SERVER_RESTORED` (an app from before epochs sends none and
    /// is not asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<i64>,
}

/// What the server did with one pushed op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PushOutcome {
    Applied,
    /// Already stored (the same op id, or the same device and sequence number): harmless.
    Duplicate,
    /// Refused for good, with a reason a person can read. The op stays on the device. (Sent as
    /// `rejected`, as protocol 1 always has.)
    #[serde(rename = "rejected")]
    Refused {
        code: String,
        zh: String,
        en: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    pub op_id: Uuid,
    #[serde(flatten)]
    pub outcome: PushOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
    pub server_time_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub ops: Vec<Op>,
    /// Opaque to the device: it sends it back unchanged on the next pull.
    pub cursor: String,
    pub more: bool,
    pub server_time_ms: i64,
}

/// One page of a bootstrap: a compacted snapshot of the user's scope as of one server
/// position. `cursor` resumes it; on the last page (`more` false) `pull_cursor` is where pulls
/// continue from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotPage {
    pub ops: Vec<Op>,
    pub cursor: String,
    pub more: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_cursor: Option<String>,
    pub server_time_ms: i64,
}

/// The error code with which a server refuses a pull cursor it can no longer serve (the
/// user's scope changed, the cursor is older than the retention window, or the server was
/// restored since it was made): the device starts again from a snapshot, keeping its unsynced
/// ops. The refusal carries the server's epoch: a device that knew another has more to do
/// (`SERVER_RESTORED`).
pub const RESYNC_REQUIRED: &str = "resync_required";

/// The error code with which a restored server refuses a push from a device that has not
/// seen its epoch. A server's epoch is a random number given when its database is created (0
/// for every database from before epochs) and a new one at each restore from a backup: a restored server has forgotten what it acknowledged after the
/// backup, and a device that learns of it sends again every op of its own (the server takes
/// each once, by op id), forgets the other devices' ops the server no longer holds (their
/// makers send them again) and starts again from a snapshot.
pub const SERVER_RESTORED: &str = "server_restored";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_results_read_flat_on_the_wire() {
        let r = PushResult {
            op_id: Uuid::nil(),
            outcome: PushOutcome::Refused {
                code: "out_of_scope".into(),
                zh: "不在您负责的范围内".into(),
                en: "outside your area of responsibility".into(),
            },
        };
        let json = serde_json::to_string(&r).unwrap_or_default();
        assert!(json.contains(r#""outcome":"rejected""#), "{json}");
        assert_eq!(serde_json::from_str::<PushResult>(&json).ok(), Some(r));
    }
}
