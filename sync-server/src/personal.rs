//! What personal data a reader receives (个人信息保护法: minimum necessary). Users are reference
//! data every device holds, for names on records and for the org tree, but a user's phone
//! number goes only up and down their own line of command: to themselves, to whoever's area
//! holds all of theirs (their village leader, the township's officers, the county brigade) and
//! to whoever's area lies wholly within theirs (a leader's workers, a worker's colleague on the
//! same grids). Two workers of neighbouring grids, or two village leaders, do not see each
//! other's. Places carry their responsible person's phone, and places reach only their grid's
//! scope already (`core::server::grids_touched`).
//!
//! The op is served with the phone blanked, under the same id: a device keeps ops by id, so
//! it never holds both, and its fold shows the user with no phone. Whose area holds whose is
//! read as the records stand when the op is served (a reassignment is itself a new user op,
//! served by the new areas; a reader's own change of area sends their device back to a
//! snapshot).

use std::collections::HashMap;

use gridpatrol_core::op::{Op, OpBody};
use gridpatrol_core::org::Actor;
use gridpatrol_core::Store;

/// Whether one of two areas (sets of grids) lies within the other. An empty area is nobody's
/// line of command.
fn in_line(a: &[String], b: &[String]) -> bool {
    let within = |x: &[String], y: &[String]| x.iter().all(|g| y.contains(g));
    !a.is_empty() && !b.is_empty() && (within(a, b) || within(b, a))
}

/// `ops` as `reader` may receive them: each user's phone blanked unless the user is in the
/// reader's line of command, by the areas `records` hold now.
pub fn for_reader(records: &Store, reader: &Actor, mut ops: Vec<Op>) -> Vec<Op> {
    let mut areas: HashMap<String, Vec<String>> = HashMap::new();
    for op in &mut ops {
        let OpBody::User(user) = &mut op.body else {
            continue;
        };
        if user.phone.is_none() || user.id == reader.user_id {
            continue;
        }
        // A user the records cannot place (none should be) is nobody's to call.
        let area = areas
            .entry(user.id.clone())
            .or_insert_with(|| records.actor(&user.id).map(|a| a.grids).unwrap_or_default());
        if !in_line(&reader.grids, area) {
            user.phone = None;
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(grids: &[&str]) -> Vec<String> {
        grids.iter().map(|g| g.to_string()).collect()
    }

    #[test]
    fn a_line_of_command_is_one_area_within_the_other() {
        let (worker, leader) = (area(&["g01"]), area(&["g01", "g02", "g03"]));
        assert!(in_line(&worker, &leader) && in_line(&leader, &worker));
        assert!(in_line(&worker, &area(&["g01"])), "a colleague on the grid");
        assert!(!in_line(&worker, &area(&["g02"])), "a neighbouring grid");
        assert!(
            !in_line(&leader, &area(&["g03", "g04"])),
            "another village's"
        );
        assert!(!in_line(&[], &leader) && !in_line(&leader, &[]));
    }
}
