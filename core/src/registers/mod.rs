//! The registers the policy asks for beside patrols and hazards (DOMAIN.md, "Other registers
//! the seed asks for"): fires (`fire`, 火灾情况) and signed responsibility letters, pledges and
//! village fire pacts (`letter`, 责任书、承诺书、防火公约), stations, teams and committees with
//! their equipment and its checks (`group`). Each entry is one op made on a device, written once
//! like an activity (a correction is a new entry; a group is a whole record, last writer wins),
//! checked by the same rules on the phone and the server, scoped to the grids of the area it
//! names, and counted in the reports (`report::registers`).

pub mod fire;
pub mod group;
pub mod letter;

use rusqlite::Connection;

use crate::error::{Field, InvalidInput, Problem, Result};
use crate::hazard::lifecycle::Rejection;

/// The most photos one entry keeps (a letter's pages, a fire's scene).
pub const MAX_PHOTOS: usize = 20;

pub(crate) fn check_photos(photos: &[String]) -> std::result::Result<(), InvalidInput> {
    if photos.len() > MAX_PHOTOS {
        return Err(InvalidInput::new(
            Field::Photo,
            Problem::TooLong { max: MAX_PHOTOS },
        ));
    }
    for h in photos {
        crate::checklist::check_photo_ref(h)?;
    }
    Ok(())
}

/// The grid a registered place is in, as held here: an entry about a place names that grid.
pub(crate) fn place_grid(c: &Connection, place: &uuid::Uuid) -> Result<String> {
    use rusqlite::OptionalExtension;
    c.prepare_cached("SELECT grid_id FROM places WHERE id = ?1")?
        .query_row([place.to_string()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Rejection::NoSuchPlace.into())
}

/// A stored value that does not read back as its type (a column written by an older fold).
pub(crate) fn unreadable(column: usize, e: &dyn std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        e.to_string().into(),
    )
}

/// A day typed after today: out of range up to today (a record is of what has happened).
pub(crate) fn after_today(today: crate::clock::Day) -> crate::error::Error {
    InvalidInput::new(
        Field::Date,
        Problem::OutOfRange {
            min: crate::clock::Day::from_ms(crate::rules::EARLIEST_MS).to_string(),
            max: today.to_string(),
        },
    )
    .into()
}
