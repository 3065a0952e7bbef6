//! GridPatrol core: the offline patrol and hazard store that runs on every device.
//!
//! Everything a person does is an op (`op`), applied through one function (`apply`) that folds
//! each record's ops into its current state; `store` holds the SQLite database; the domain lives
//! in `org`, `place`, `plan`, `checklist`, `patrol`, `hazard`, `activity` and
//! `registers` (fires, signed letters); `report` computes the
//! figures and ledgers; `demo` builds a demo township.

pub mod activity;
pub mod admin;
pub mod apply;
pub mod campaign;
pub mod checklist;
pub mod clock;
pub mod demo;
pub mod draft;
pub mod error;
pub mod hazard;
pub mod op;
pub mod org;
pub mod patrol;
pub mod photo;
pub mod place;
pub mod plan;
pub mod registers;
pub mod reminders;
pub mod report;
pub mod rules;
#[cfg(feature = "server")]
pub mod server;
pub mod store;
pub mod sync;
pub mod township_items;
pub mod vocab;

pub use clock::{Clock, Day, Hlc};
pub use error::{Error, Result};
pub use store::Store;
