//! The GridPatrol sync server as a library: the HTTP API (`http`), what it needs of storage
//! (`backend`, with the SQLite implementation in `sqlite`; photo files in `blobs`), and the cursors it hands out
//! (`cursor`); synthetic patrols for the load generator and benchmarks (`synthetic`). The binary in `main.rs` wires them to the command line; the backend contract
//! tests drive a backend directly.

pub mod backend;
pub mod blobs;
pub mod cursor;
pub mod http;
pub mod pg;
pub mod serve;
pub mod sqlite;
pub mod synthetic;

/// The demo users' password: printed in the README, for trying the product only.
pub const DEMO_PASSWORD: &str = "gridpatrol";
