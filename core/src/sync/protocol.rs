//! The sync protocol's messages (version 1, JSON under `/v1/`). A push carries a batch of this
//! device's ops in sequence order and is answered op by op; a pull returns ops of the user's
//! scope after an opaque cursor, with the server's clock so the device can keep its HLC near it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::op::Op;

pub const PROTOCOL_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub protocol: u32,
    pub device_id: Uuid,
    pub ops: Vec<Op>,
}

/// What the server did with one pushed op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PushOutcome {
    Applied,
    /// Already stored (the same op id, or the same device and sequence number): harmless.
    Duplicate,
    /// Refused for good, with a reason a person can read. The op stays on the device.
    Rejected {
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
/// user's scope changed, or the cursor is older than the retention window): the device
/// starts again from a snapshot, keeping its unsynced ops.
pub const RESYNC_REQUIRED: &str = "resync_required";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_results_read_flat_on_the_wire() {
        let r = PushResult {
            op_id: Uuid::nil(),
            outcome: PushOutcome::Rejected {
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
