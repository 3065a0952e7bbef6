//! Sync, device side and shared rules. `protocol` holds the messages a device and the server
//! exchange; `bootstrap` starts a device from a snapshot of its scope; `outbox` hands this
//! device's pending ops out in order and takes the server's answers back; `pages` receives
//! snapshot and pull pages, reading the next while applying one; `upload` sends photos after
//! the data; `authz` is the one rule for who may write or read what, which the server applies
//! to every pushed op and every pulled one.

pub mod authz;
pub mod bootstrap;
pub mod engine;
pub mod outbox;
mod pages;
pub mod protocol;
mod upload;
