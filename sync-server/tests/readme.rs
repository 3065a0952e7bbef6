//! README's "Set up your township" block, run as written on a fresh folder (issue 15): docs are
//! tested as written. The release binaries the block puts on PATH are stood in for by the
//! binaries this test run built, under the same names.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

/// The lines of the first `sh` block after `heading` in README.md.
fn block_after(heading: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = &readme[readme.find(heading).unwrap()..];
    let start = section.find("```sh\n").unwrap() + 6;
    let end = start + section[start..].find("```").unwrap();
    section[start..end].lines().map(str::to_string).collect()
}

#[test]
fn the_set_up_your_township_block_runs_as_written() {
    let lines = block_after("## Set up your township");
    assert!(lines.len() >= 5, "{lines:?}");
    let dir = tempfile::tempdir().unwrap();
    // target/release, as the block's first line expects, holding the binaries built here.
    let bin = dir.path().join("target/release");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_gridpatrol-sync-server"),
        bin.join("gridpatrol-sync-server"),
    )
    .unwrap();
    let script = format!("set -euo pipefail\n{}\n", lines.join("\n"));
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("已创建 青石镇（t01）"), "{stdout}");
    assert!(dir.path().join("底数清单.xlsx").exists());
    // The template's example rows are never imported: the unfilled template changes nothing.
    assert!(stdout.contains("未写入 / nothing written"), "{stdout}");
    assert!(stdout.contains("o01\t张晓东"), "{stdout}");
}
