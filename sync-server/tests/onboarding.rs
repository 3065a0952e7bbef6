//! A real township's first start, without the demo (issue 15): `init` creates the county, the
//! township and the first township officer, refuses to run twice or to leave half a tree; the
//! server then starts without `--demo`, the officer signs in to the console, and accounts can be
//! added under the township.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::Browser;

const SECRET: &str = "青石镇 a long secret";

/// `gridpatrol-sync-server <args> --data-dir <dir>` with `stdin`, to completion.
fn server_command(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridpatrol-sync-server"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn init_args(admin: &str) -> Vec<&str> {
    vec![
        "init",
        "--county",
        "晋源区",
        "--township",
        "青石镇",
        "--admin",
        admin,
        "--admin-name",
        "张晓东",
    ]
}

/// The server on `dir` without the demo; killed when dropped.
struct Plain(std::process::Child, String);

impl Drop for Plain {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path) -> Plain {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridpatrol-sync-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("GRIDPATROL_LOG_LEVEL", "warn")
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
        .unwrap()
        .to_string();
    Plain(child, url)
}

#[test]
fn a_township_starts_without_the_demo() {
    let dir = tempfile::tempdir().unwrap();

    // A bad field or password changes nothing, so the right `init` still works afterwards.
    for (args, stdin) in [
        (init_args("o 01"), format!("{SECRET}\n")),
        (init_args("o01"), "short\n".to_string()),
    ] {
        let out = server_command(dir.path(), &args, &stdin);
        assert!(!out.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("错误 / error"));
    }
    let out = server_command(dir.path(), &init_args("o01"), &format!("{SECRET}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("青石镇（t01）"));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(SECRET),
        "the password is never printed"
    );

    // A second `init` is refused and makes no second tree.
    let again = server_command(dir.path(), &init_args("o09"), &format!("{SECRET}\n"));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("已初始化"));

    // Accounts go under the township now (before `init`: 找不到组织节点：t01).
    let added = server_command(
        dir.path(),
        &[
            "user",
            "add",
            "o02",
            "--name",
            "李梅",
            "--role",
            "township_officer",
            "--org",
            "t01",
        ],
        &format!("{SECRET}\n"),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let users = common::admin(dir.path(), &["user", "list"], "");
    assert!(
        users.contains("o01\t张晓东") && users.contains("o02\t李梅"),
        "{users}"
    );
    assert!(!users.contains("w01"), "no demo people");

    // The server starts without --demo and the officer signs in to the console.
    let server = serve(dir.path());
    let officer = Browser::sign_in_at(&server.1, "o01", SECRET);
    let home = officer.page("/console/");
    assert!(home.contains("青石镇"), "the township's own name");
}
