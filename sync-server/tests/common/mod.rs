//! What the server's tests and its bench share: starting the real server binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts `gridpatrol-sync-server --demo` on `listen` (port 0: any free port) with its data in
/// `dir`, waits until it listens, and returns the process and its URL.
pub fn start_server(dir: &Path, listen: &str, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridpatrol-sync-server"))
        .args(["--demo", "--listen", listen])
        .args(extra)
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected the listening line, got {line:?}"))
        .to_string();
    (child, url)
}
