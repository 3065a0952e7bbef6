//! The cursors a server hands out, opaque to devices. Each names the user's scope as it was
//! when the cursor was made, so a cursor made for another scope (the user was reassigned) is
//! refused and the device starts again from a snapshot: an incremental pull could neither
//! bring the history of a grid newly in scope nor take away one that left it.
//!
//! A cursor also names the server's epoch (`protocol::SERVER_RESTORED`): positions are
//! counted again from a backup after a restore, so a cursor made before it could skip what was
//! stored since; it is refused and the device learns of the restore.
//!
//! `p.<after>.<scope>`: pull ops stored after position `after`.
//! `s.<upto>.<after>.<scope>`: a snapshot as of position `upto`, read up to `after`.
//! Each followed by `.<epoch>` unless the epoch is 0 (a server never restored, and every
//! cursor made before epochs).

use gridpatrol_core::org::Actor;
use sha2::{Digest, Sha256};

use crate::backend::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Pull {
        after: i64,
        scope: String,
        epoch: i64,
    },
    Snapshot {
        upto: i64,
        after: i64,
        scope: String,
        epoch: i64,
    },
}

/// A short fingerprint of what `user` may see: their role and grids.
pub fn scope_of(user: &Actor) -> String {
    let mut grids = user.grids.clone();
    grids.sort();
    let digest = Sha256::digest(format!("{}|{}", user.role.code(), grids.join(",")));
    hex::encode(&digest[..8])
}

impl Cursor {
    pub fn parse(s: &str) -> Result<Cursor, ApiError> {
        let bad = || ApiError::bad_request("cursor");
        let num = |p: &str| p.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(bad);
        let mut parts: Vec<&str> = s.split('.').collect();
        let fields = match parts.first() {
            Some(&"p") => 3,
            Some(&"s") => 4,
            _ => return Err(bad()),
        };
        let epoch = match parts.len() {
            n if n == fields => 0,
            n if n == fields + 1 => parts.pop().map_or(Err(bad()), &num)?,
            _ => return Err(bad()),
        };
        match parts.as_slice() {
            ["p", after, scope] => Ok(Cursor::Pull {
                after: num(after)?,
                scope: scope.to_string(),
                epoch,
            }),
            ["s", upto, after, scope] => Ok(Cursor::Snapshot {
                upto: num(upto)?,
                after: num(after)?,
                scope: scope.to_string(),
                epoch,
            }),
            _ => Err(bad()),
        }
    }

    /// The epoch of the server that made the cursor.
    pub fn epoch(&self) -> i64 {
        match self {
            Cursor::Pull { epoch, .. } | Cursor::Snapshot { epoch, .. } => *epoch,
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cursor::Pull { after, scope, .. } => write!(f, "p.{after}.{scope}")?,
            Cursor::Snapshot {
                upto, after, scope, ..
            } => write!(f, "s.{upto}.{after}.{scope}")?,
        }
        match self.epoch() {
            0 => Ok(()),
            epoch => write!(f, ".{epoch}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridpatrol_core::org::Role;

    #[test]
    fn cursors_read_back_and_junk_is_refused() {
        for c in [
            Cursor::Pull {
                after: 42,
                scope: "ab12".into(),
                epoch: 0,
            },
            Cursor::Snapshot {
                upto: 9,
                after: 3,
                scope: "cd".into(),
                epoch: 0,
            },
            Cursor::Pull {
                after: 42,
                scope: "ab12".into(),
                epoch: 77,
            },
            Cursor::Snapshot {
                upto: 9,
                after: 3,
                scope: "cd".into(),
                epoch: 1 << 52,
            },
        ] {
            assert_eq!(Cursor::parse(&c.to_string()), Ok(c));
        }
        assert_eq!(Cursor::parse("p.5.ab").map(|c| c.epoch()), Ok(0));
        for junk in [
            "",
            "p",
            "p.-1.x",
            "p.1",
            "s.1.2",
            "x.1.2",
            "p.1.2.3.4",
            "p.1.2.-3",
            "s.1.2.3.4.5",
            "p.9999999999999999999.x",
        ] {
            assert!(Cursor::parse(junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn a_new_grid_is_a_new_scope_and_grid_order_is_not() {
        let user = |grids: &[&str]| Actor {
            user_id: "w".into(),
            role: Role::GridWorker,
            grids: grids.iter().map(|g| g.to_string()).collect(),
        };
        assert_eq!(
            scope_of(&user(&["g1", "g2"])),
            scope_of(&user(&["g2", "g1"]))
        );
        assert_ne!(scope_of(&user(&["g1"])), scope_of(&user(&["g3"])));
    }
}
