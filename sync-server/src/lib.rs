//! The GridPatrol sync server as a library. Who may call whom, top down (ADR 0010):
//! `http` and `console` (requests) → `backend::Backend`, implemented once by `service`
//! (sign-in in `signin`, token lifetimes in `tokens`, push, pages in `serve`, cursors in
//! `cursor`) → `storage`'s two traits (`AccountStore`, `OpLog`), each with a SQLite (`sqlite`)
//! and a PostgreSQL (`pg`) implementation (their schemas in `storage::schema`) → the core's
//! `server::Records`. Errors rise as `storage::StorageError` and become HTTP in one place
//! (`error`). Photo files are in `blobs`, who may read and send them and each user's quota
//! in `photos`; which phone numbers a reader receives in `personal`; synthetic patrols for
//! the load generator and benchmarks in `synthetic`. `/healthz`, `/readyz` and `/metrics`
//! are `health`'s, the counters behind `/metrics` `metrics`'s. The backup file (writing,
//! checking, unpacking) is `backup`'s; moving a SQLite township to PostgreSQL `migrate_pg`'s.
//! The binary in `main.rs` wires them to the command line; the backend contract tests drive
//! a backend directly.

pub mod backend;
pub mod backup;
pub mod blobs;
pub mod client;
pub mod console;
pub mod cursor;
pub mod error;
pub mod health;
pub mod http;
pub mod import;
pub mod log;
pub mod metrics;
pub mod migrate_pg;
pub mod personal;
pub mod photos;
pub mod serve;
pub mod service;
pub mod setup;
pub mod signin;
pub mod storage;
pub mod synthetic;
pub mod tokens;

pub use storage::{pg, sqlite};

/// The demo users' password: printed in the README, for trying the product only.
pub const DEMO_PASSWORD: &str = "gridpatrol";
