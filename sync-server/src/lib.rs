//! The GridPatrol sync server as a library: the HTTP API (`http`), what it needs of storage
//! (`backend`, with the SQLite implementation in `sqlite` and the PostgreSQL one in `pg`;
//! their schemas and migrations in `schema`; photo files in `blobs`), the cursors it hands out (`cursor`), the township web console
//! (`console`), and synthetic patrols for the load generator and benchmarks (`synthetic`).
//! The binary in `main.rs` wires them to the command line; the backend contract tests drive
//! a backend directly.

pub mod backend;
pub mod blobs;
pub mod console;
pub mod cursor;
pub mod http;
pub mod pg;
pub mod schema;
pub mod serve;
pub mod sqlite;
pub mod synthetic;

/// The demo users' password: printed in the README, for trying the product only.
pub const DEMO_PASSWORD: &str = "gridpatrol";
