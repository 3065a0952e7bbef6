//! What every backend does the same way whatever keeps its rows: password hashes and device
//! tokens, the answers to a push, pull and snapshot pages built from a stretch of the log
//! (cursors, scope, compaction horizon), and who may read a photo.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use gridpatrol_core::apply::Applied;
use gridpatrol_core::op::Op;
use gridpatrol_core::org::Actor;
use gridpatrol_core::server::{FeedItem, FeedQuery, Records};
use gridpatrol_core::sync::authz;
use gridpatrol_core::sync::protocol::{
    PullResponse, PushOutcome, PushResult, SnapshotPage, MAX_AHEAD_MS, MAX_PUSH_OPS,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::backend::{ApiError, Refusal, Session};
use crate::cursor::{self, Cursor};
use crate::personal;
use crate::storage::OpLog;

/// The most ops one pull or snapshot page reads.
pub const MAX_PAGE: usize = 5000;

/// Judges a push by the device's clock before any op of it: one whose clock as it sends, or
/// whose ops, are ahead of the server's `now_ms` by more than `MAX_AHEAD_MS` would carry every
/// device in scope into its future through their HLCs, so it is refused whole with the server's
/// time (the device re-dates its unsent ops and pushes again). A push of more ops than
/// `MAX_PUSH_OPS` is refused too.
pub fn judge_push(ops: &[Op], sent_at_ms: Option<i64>, now_ms: i64) -> Result<(), ApiError> {
    if ops.len() > MAX_PUSH_OPS {
        return Err(ApiError::new(
            413,
            "too_many_ops",
            &format!("一次最多上传 {MAX_PUSH_OPS} 条操作"),
            &format!("a push may carry at most {MAX_PUSH_OPS} ops"),
        ));
    }
    let latest = ops
        .iter()
        .map(|op| op.hlc.wall_ms())
        .chain(sent_at_ms)
        .max()
        .unwrap_or(i64::MIN);
    if latest > now_ms.saturating_add(MAX_AHEAD_MS) {
        return Err(ApiError::clock_skew(now_ms));
    }
    Ok(())
}

/// A new password must be 8 to 256 characters.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if (8..=256).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "weak_password",
            "密码长度须为 8 到 256 个字符",
            "a password must be 8 to 256 characters long",
        ))
    }
}

/// An argon2 hash of `password` with 16 random bytes of salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    // 16 random bytes from the OS, by way of a v4 UUID.
    let salt =
        SaltString::encode_b64(Uuid::new_v4().as_bytes()).map_err(|_| ApiError::internal())?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| ApiError::internal())?
        .to_string())
}

/// Whether `password` matches the stored `hash`. No hash (no such user) is never a match, but
/// is checked against a dummy hash of the same cost all the same, so that how long the answer
/// takes does not tell which user names exist.
pub fn password_matches(hash: Option<&str>, password: &str) -> bool {
    let known = hash.is_some();
    let Ok(parsed) = PasswordHash::new(hash.unwrap_or_else(|| dummy_hash())) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    known && matches
}

/// A hash of a random password, made like every stored one, made once.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&Uuid::new_v4().to_string()).unwrap_or_default())
}

/// A new device token (244 random bits, shown to the device once) and the hash kept of it.
pub fn new_token() -> (String, String) {
    let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The answer to each pushed op, from the core's verdicts in the same order.
pub fn push_results(
    ops: &[Op],
    outcomes: Vec<gridpatrol_core::Result<Applied>>,
) -> Vec<PushResult> {
    ops.iter()
        .zip(outcomes)
        .map(|(op, outcome)| PushResult {
            op_id: op.id,
            outcome: match outcome {
                Ok(Applied::Applied) => PushOutcome::Applied,
                Ok(Applied::Duplicate) => PushOutcome::Duplicate,
                Err(e) => {
                    let e = ApiError::from(e);
                    PushOutcome::Refused {
                        code: e.code,
                        zh: e.zh,
                        en: e.en,
                    }
                }
            },
        })
        .collect()
}

/// The refused ops among `results`, with the grids each would have touched.
pub fn refusals(
    records: &Records,
    session: &Session,
    ops: &[Op],
    results: &[PushResult],
    now_ms: i64,
) -> Vec<Refusal> {
    let mut out = Vec::new();
    for (op, r) in ops.iter().zip(results) {
        if let PushOutcome::Refused { code, zh, en } = &r.outcome {
            out.push(Refusal {
                at_ms: now_ms,
                op_id: op.id,
                user_id: session.user.user_id.clone(),
                device_id: session.device_id,
                kind: op.body.kind().to_string(),
                entity: op.body.entity(),
                grids: records.grids_touched(&op.body).unwrap_or_default(),
                code: code.clone(),
                zh: zh.clone(),
                en: en.clone(),
            });
        }
    }
    out
}

fn restored() -> ApiError {
    ApiError::resync_required(
        "服务器已从备份恢复",
        "the server was restored from a backup",
    )
}

fn scope_changed() -> ApiError {
    ApiError::resync_required(
        "您负责的范围已变更",
        "your area of responsibility has changed",
    )
}

/// A cursor this server cannot read (another version's, or damaged) is not the device's
/// fault: it starts again from a snapshot and loses nothing.
fn unreadable_cursor() -> ApiError {
    ApiError::resync_required("无法识别的同步位置", "unrecognised sync cursor")
}

/// The ops of `items` that `user` may read; reference data (no grid) goes to everyone (users'
/// phones cut by `personal`).
fn visible(user: &Actor, items: Vec<FeedItem>) -> Vec<Op> {
    use gridpatrol_core::op::OpBody;
    // An op with no grids is reference data every device holds; any other op whose grids are
    // gone (its area emptied) reaches nobody rather than everybody.
    let reference = |op: &Op| {
        matches!(
            op.body,
            OpBody::OrgNode(_) | OpBody::User(_) | OpBody::Template(_)
        )
    };
    items
        .into_iter()
        .filter(|i| {
            if i.grids.is_empty() {
                reference(&i.op)
            } else {
                i.grids.iter().any(|g| authz::may_read(user, g))
            }
        })
        .map(|i| i.op)
        .collect()
}

/// A pull page for `session` after `cursor` (see `Backend::pull`).
pub fn pull(
    log: &impl OpLog,
    session: &Session,
    cursor: Option<&str>,
    limit: usize,
) -> Result<PullResponse, ApiError> {
    let epoch = log.epoch()?;
    pull_in(log, epoch, session, cursor, limit).map_err(|e| e.in_epoch(epoch))
}

fn pull_in(
    log: &impl OpLog,
    epoch: i64,
    session: &Session,
    cursor: Option<&str>,
    limit: usize,
) -> Result<PullResponse, ApiError> {
    let scope = cursor::scope_of(&session.user);
    let after = match cursor.filter(|c| !c.is_empty()).map(Cursor::parse) {
        None => 0,
        Some(Ok(c)) if c.epoch() != epoch => return Err(restored()),
        Some(Ok(Cursor::Pull {
            after, scope: s, ..
        })) if s == scope => after,
        Some(Ok(Cursor::Pull { .. })) => return Err(scope_changed()),
        Some(_) => return Err(unreadable_cursor()),
    };
    if after < log.horizon()? {
        return Err(ApiError::resync_required(
            "离线时间超过服务器保留期限",
            "offline for longer than the server keeps history",
        ));
    }
    // Past the end of the log: made by a log since put back to an older copy (restored in
    // the database without `restore`), whose positions now name other ops.
    if after > log.last_position()? {
        return Err(restored());
    }
    let feed = log.feed(
        &FeedQuery {
            after,
            limit: limit.clamp(1, MAX_PAGE),
            skip_device: Some(session.device_id),
            ..FeedQuery::default()
        },
        &session.user,
    )?;
    Ok(PullResponse {
        ops: personal::for_reader(
            log.records()?.store(),
            &session.user,
            visible(&session.user, feed.items),
        ),
        cursor: Cursor::Pull {
            after: feed.last_position,
            scope,
            epoch,
        }
        .to_string(),
        more: feed.full,
        server_time_ms: log.now_ms(),
    })
}

/// A snapshot page for `session` (see `Backend::snapshot`).
pub fn snapshot(
    log: &impl OpLog,
    session: &Session,
    cursor: Option<&str>,
    limit: usize,
) -> Result<SnapshotPage, ApiError> {
    let epoch = log.epoch()?;
    snapshot_in(log, epoch, session, cursor, limit).map_err(|e| e.in_epoch(epoch))
}

fn snapshot_in(
    log: &impl OpLog,
    epoch: i64,
    session: &Session,
    cursor: Option<&str>,
    limit: usize,
) -> Result<SnapshotPage, ApiError> {
    let scope = cursor::scope_of(&session.user);
    let end = log.last_position()?;
    let (upto, after) = match cursor.filter(|c| !c.is_empty()).map(Cursor::parse) {
        None => (end, 0),
        Some(Ok(c)) if c.epoch() != epoch => return Err(restored()),
        Some(Ok(Cursor::Snapshot {
            upto,
            after,
            scope: s,
            ..
        })) if s == scope => (upto, after),
        Some(Ok(Cursor::Snapshot { .. })) => return Err(scope_changed()),
        Some(_) => return Err(unreadable_cursor()),
    };
    if upto > end {
        return Err(restored());
    }
    let feed = log.feed(
        &FeedQuery {
            after,
            limit: limit.clamp(1, MAX_PAGE),
            upto: Some(upto),
            skip_device: None,
            compact: true,
        },
        &session.user,
    )?;
    let more = feed.full && feed.last_position < upto;
    Ok(SnapshotPage {
        ops: personal::for_reader(
            log.records()?.store(),
            &session.user,
            visible(&session.user, feed.items),
        ),
        cursor: Cursor::Snapshot {
            upto,
            after: feed.last_position,
            scope: scope.clone(),
            epoch,
        }
        .to_string(),
        more,
        pull_cursor: (!more).then(|| {
            Cursor::Pull {
                after: upto,
                scope,
                epoch,
            }
            .to_string()
        }),
        server_time_ms: log.now_ms(),
    })
}

/// May `session` read photo `hash`, cited by records in `grids` (see `Backend::photo_access`)?
pub fn photo_access(
    session: &Session,
    hash: &str,
    grids: impl FnOnce() -> Result<Vec<String>, ApiError>,
) -> Result<(), ApiError> {
    gridpatrol_core::checklist::check_photo_ref(hash)
        .map_err(|_| ApiError::bad_request("photo hash"))?;
    let grids = grids()?;
    if grids.is_empty() {
        return Err(ApiError::new(
            404,
            "photo_not_cited",
            "没有记录引用这张照片，请先同步数据",
            "no record cites this photo; sync the data first",
        ));
    }
    if grids.iter().any(|g| authz::may_read(&session.user, g)) {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            "out_of_scope",
            "不在您负责的范围内",
            "outside your area of responsibility",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_user_costs_a_check_like_a_known_one() {
        let real = hash_password("correct horse").unwrap_or_default();
        let params =
            |h: &str| PasswordHash::new(h).map(|p| (p.algorithm.to_string(), p.params.to_string()));
        assert_eq!(
            params(dummy_hash()),
            params(&real),
            "same algorithm and cost"
        );
        assert!(password_matches(Some(&real), "correct horse"));
        assert!(!password_matches(Some(&real), "wrong"));
        assert!(!password_matches(None, "correct horse"));
        assert!(!password_matches(None, ""));
    }
}
