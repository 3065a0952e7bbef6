//! Other sync systems driven as peers in GridPatrol's sync benchmark
//! (`sync-server/benches/sync.rs`), so ours is compared with them side by side in one run and
//! measured the same way: wall time of each phase and every byte on the wire through a counting
//! TCP proxy. Bench-only: nothing in the product depends on this crate.
//!
//! - [`counting_proxy`]: the proxy every system's server sits behind, and [`measure`], the
//!   seconds and bytes of one phase through it; [`throttled_proxy`], the same at a weak link's
//!   rate (the photo benchmark and test).
//! - [`run_automerge`]: Automerge 0.12 through W1, W2 and W3.

// A benchmark harness: a failed set-up should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod automerge_peer;
mod proxy;

pub use automerge_peer::{run_automerge, AutomergeFigures, Edit};
pub use proxy::{counting_proxy, measure, throttled_proxy, Measured};
