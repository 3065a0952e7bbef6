//! GridPatrol's FFI facade, for the Android and iOS apps (and Python scripts): one store
//! object with blocking methods shaped after the app's screens, plain records, and one small
//! error type. Apps call it from their own background threads; nothing here spawns threads or
//! holds a runtime. It is a thin layer: every rule lives in `gridpatrol-core`, and this crate
//! only converts between the core's types and ones every binding language can carry (ids and
//! days as strings, enums as codes with their zh-CN labels beside them).

mod drafts;
mod error;
mod hazards;
mod labels;
mod people;
mod places;
mod records;
mod registers;
mod reminders;
mod stations;
mod store;
#[cfg(test)]
mod testing;

pub use drafts::*;
pub use error::GridPatrolError;
pub use hazards::*;
pub use labels::{answer_zh, level_zh, progress_zh, role_zh, verb_zh};
pub use people::PersonChoice;
pub use places::{NewPlaceInput, PlaceChoice, PlaceEdit, PlaceTypeChoice};
pub use records::*;
pub use registers::*;
pub use reminders::{LocalNotice, ReminderCounts};
pub use stations::*;
pub use store::{PatrolStore, SyncListener};

uniffi::setup_scaffolding!();
