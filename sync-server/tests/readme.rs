//! README's command blocks, run as written on a fresh folder (issue 15): docs are tested as
//! written. The release binaries the blocks put on PATH are stood in for by the binaries this
//! test run built, under the same names; nothing in a block is substituted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The lines of each `sh` block in README.md's section under `heading` (up to the next `## `).
fn blocks_in(heading: &str) -> Vec<Vec<String>> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = &readme[readme.find(heading).unwrap() + heading.len()..];
    let mut section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut blocks = Vec::new();
    while let Some(start) = section.find("```sh\n") {
        let body = &section[start + 6..];
        let end = body.find("```").unwrap();
        blocks.push(body[..end].lines().map(str::to_string).collect());
        section = &body[end + 3..];
    }
    blocks
}

/// A fresh folder holding `target/release/<name>` for each binary, as the blocks'
/// `export PATH="$PWD/target/release:$PATH"` expects after `cargo build --release`.
fn fresh_folder(binaries: &[(&str, &Path)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("target/release");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, path) in binaries {
        std::os::unix::fs::symlink(path, bin.join(name)).unwrap();
    }
    dir
}

fn server_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gridpatrol-sync-server"))
}

/// Runs `blocks`, one after the other as a reader pastes them into one terminal, with
/// `bash -c 'set -euo pipefail ...'` in `dir`: their standard output. Fails the test if a
/// command fails or the blocks take longer than `limit`. Whatever the blocks left running (a
/// server in the background) is stopped, however they ended.
fn run_as_written(dir: &Path, blocks: &[&[String]], limit: Duration) -> String {
    use std::os::unix::process::CommandExt;
    let script = format!("set -euo pipefail\n{}\n", blocks.concat().join("\n"));
    // The output goes to files, not pipes: a background process keeping a pipe open would
    // keep the reader waiting after bash ends.
    let logs = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (logs.path().join("stdout"), logs.path().join("stderr"));
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(&script)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0);
    // The reader's own settings are not the README's.
    for var in [
        "GRIDPATROL_DB",
        "GRIDPATROL_USER",
        "GRIDPATROL_PASSWORD",
        "GRIDPATROL_NEW_PASSWORD",
        "GRIDPATROL_DATABASE_URL",
    ] {
        bash.env_remove(var);
    }
    let mut child = bash.spawn().unwrap();
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // bash leads its own process group: this stops it and everything it started, and no one
    // else. Nothing left to stop is fine.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    match status {
        Some(s) if s.success() => stdout,
        Some(s) => panic!("{script}\nended with {s}\n{stdout}\n{stderr}"),
        None => panic!("{script}\ntook longer than {limit:?}\n{stdout}\n{stderr}"),
    }
}

#[test]
fn the_set_up_your_township_block_runs_as_written() {
    let blocks = blocks_in("## Set up your township");
    assert_eq!(blocks.len(), 1, "a new block needs a test: {blocks:?}");
    assert!(blocks[0].len() >= 5, "{blocks:?}");
    let dir = fresh_folder(&[("gridpatrol-sync-server", server_binary())]);
    let stdout = run_as_written(dir.path(), &[&blocks[0]], Duration::from_secs(300));
    assert!(stdout.contains("已创建 青石镇（t01）"), "{stdout}");
    assert!(dir.path().join("底数清单.xlsx").exists());
    // The template's example rows are never imported: the unfilled template changes nothing.
    assert!(stdout.contains("未写入 / nothing written"), "{stdout}");
    assert!(stdout.contains("o01\t张晓东"), "{stdout}");
}

/// The two blocks of "Sync between devices" in order, in one shell: a worker's patrol reaches
/// the village leader through the demo server, then the account commands act on the demo's
/// accounts, which a restarted server then holds to.
#[test]
fn the_sync_between_devices_blocks_run_as_written() {
    let blocks = blocks_in("## Sync between devices");
    assert_eq!(blocks.len(), 2, "a new block needs a test: {blocks:?}");
    let (sync, accounts) = (&blocks[0], &blocks[1]);
    let gridpatrol = common::gridpatrol_binary();
    let dir = fresh_folder(&[
        ("gridpatrol-sync-server", server_binary()),
        ("gridpatrol", &gridpatrol),
    ]);
    let stdout = run_as_written(dir.path(), &[sync, accounts], Duration::from_secs(300));

    // Both devices signed in to the server the block started, on the port it picked.
    let url = std::fs::read_to_string(dir.path().join("server.txt")).unwrap();
    let url = url.trim().strip_prefix("listening on ").unwrap();
    for user in ["w01", "l01"] {
        let line = format!("已登录 / signed in to {url} as {user}");
        assert!(stdout.contains(&line), "{line}\n{stdout}");
    }
    // The patrol raised one hazard, and the worker's second sync sent it with its patrol.
    let reported: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("隐患已上报 / hazard reported "))
        .collect();
    assert_eq!(reported.len(), 1, "{stdout}");
    assert!(
        stdout.contains("上传 pushed 2（被拒绝 refused 0）"),
        "{stdout}"
    );
    // The leader's device, which never saw the patrol, lists that hazard (by the short id the
    // CLI shows) and only it: the demo has no history here.
    let hazard = reported[0];
    let leader = &stdout[stdout.find("隐患 / hazards: ").expect(&stdout)..];
    let listed: Vec<&str> = leader.lines().take(2).collect();
    assert_eq!(listed[0], "隐患 / hazards: 1", "{stdout}");
    assert!(
        hazard.ends_with(listed[1].split('\t').next().unwrap()),
        "{hazard} is not {}",
        listed[1]
    );
    assert!(listed[1].contains("\tg01\t烟感报警器\t"), "{}", listed[1]);

    // The account commands, each as the block says.
    for done in [
        "已添加用户 / user added: w10",
        "已调整负责范围 / reassigned: w10",
        "revoked 0 device token(s): w10",
        "disabled, 0 device token(s) revoked: w10",
    ] {
        assert!(stdout.contains(done), "{done}\n{stdout}");
    }
    let data = dir.path().join("gridpatrol-data");
    let users = common::admin(&data, &["user", "list"], "");
    assert!(users.contains("w10\t张三\t网格员\tg06\n"), "{users}");
    // Disabled means no sign-in with the password w10 was given, until `user password`
    // enables the account again; w01 signs in all along.
    let (mut server, url) = common::start_plain_server(&data);
    let login = |user: &str, password: &str| {
        Command::new(&gridpatrol)
            .arg("--db")
            .arg(dir.path().join(format!("{user}-again.db")))
            .args(["login", "--server", &url, "--user", user])
            .args(["--password", password])
            .env_remove("GRIDPATROL_PASSWORD")
            .output()
            .unwrap()
    };
    let disabled = login("w10", "a long secret");
    let w01 = login("w01", "gridpatrol");
    common::admin(&data, &["user", "password", "w10"], "a long secret\n");
    let enabled = login("w10", "a long secret");
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(!disabled.status.success(), "{disabled:?}");
    assert!(w01.status.success(), "{w01:?}");
    assert!(enabled.status.success(), "{enabled:?}");
}
