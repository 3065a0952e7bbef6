//! Reading a backup back: `verify` checks a file through, `unpack` checks it and puts it into a
//! data folder. Both stream the archive once, checking each member against the manifest as it
//! passes, so a file of any size is checked without room for a second copy of its photos.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::Path;

use rusqlite::Connection;

use super::{
    complete_photos, count, damaged, fault, photo_name, Hashing, Manifest, Member, Result, Summary,
    DATABASES, FORMAT, MANIFEST, MAX_MANIFEST_BYTES, VERSION,
};

/// Checks the backup `file`: every member's size and SHA-256 against the manifest, each
/// database copy's integrity, and each original photo against its name.
pub fn verify(file: &Path) -> Result<Summary> {
    let scratch = tempfile::tempdir()?;
    read_archive(file, scratch.path(), false)
}

/// Checks the backup `file` (as `verify`), then puts its databases into `data_dir` and its
/// photos into `data_dir/photos`. Refused, changing nothing, when `data_dir` already holds a
/// database (or one's write-ahead log, which SQLite would replay into the restored file).
/// `prepare` sees the checked databases in their folder before they are moved into place
/// (`restore` begins the new epoch there, so no server ever opens them in the old one).
pub fn unpack(
    file: &Path,
    data_dir: &Path,
    prepare: impl FnOnce(&Path, &Summary) -> Result<()>,
) -> Result<Summary> {
    let occupied = |dir: &Path| {
        DATABASES
            .iter()
            .flat_map(|db| [db.to_string(), format!("{db}-wal")])
            .find(|name| dir.join(name).exists())
    };
    if let Some(name) = occupied(data_dir) {
        return Err(fault(
            format!(
                "{} 中已有 {name}，未做任何更改：请恢复到一个空目录",
                data_dir.display()
            ),
            format!(
                "{} already holds {name}; nothing changed: restore into an empty folder",
                data_dir.display()
            ),
        ));
    }
    std::fs::create_dir_all(data_dir)?;
    // Staged inside the data folder: the same disk, so each file is renamed into place.
    let staging = tempfile::Builder::new()
        .prefix(".restore-")
        .tempdir_in(data_dir)?;
    let summary = read_archive(file, staging.path(), true)?;
    let photos = data_dir.join("photos");
    std::fs::create_dir_all(&photos)?;
    for (name, path) in complete_photos(&staging.path().join("photos"))? {
        // A photo's name says what it is: one already here is the same photo.
        if !photos.join(&name).exists() {
            std::fs::rename(path, photos.join(&name))?;
        }
    }
    if summary.database == "sqlite" {
        if let Some(name) = occupied(data_dir) {
            return Err(fault(
                format!("恢复期间 {} 中出现了 {name}", data_dir.display()),
                format!(
                    "{name} appeared in {} during the restore",
                    data_dir.display()
                ),
            ));
        }
        prepare(staging.path(), &summary)?;
        // The log last: a folder with accounts but no log is plainly unfinished.
        for name in DATABASES.iter().rev() {
            std::fs::rename(staging.path().join(name), data_dir.join(name))?;
        }
    }
    File::open(data_dir)?.sync_all()?;
    tracing::info!(photos = summary.photos, "backup unpacked");
    Ok(summary)
}

fn read_manifest<R: Read>(entry: Option<std::io::Result<tar::Entry<'_, R>>>) -> Result<Manifest> {
    let not_a_backup = || {
        fault(
            "不是 GridPatrol 备份文件（缺少 manifest.json）",
            "not a GridPatrol backup (no manifest.json first)",
        )
    };
    let mut entry = entry
        .ok_or_else(not_a_backup)?
        .map_err(|_| not_a_backup())?;
    if entry.path_bytes().as_ref() != MANIFEST.as_bytes() || entry.size() > MAX_MANIFEST_BYTES {
        return Err(not_a_backup());
    }
    let mut json = Vec::new();
    entry
        .read_to_end(&mut json)
        .map_err(|_| damaged("清单读不全", "the manifest is cut short"))?;
    let m: Manifest = serde_json::from_slice(&json)
        .map_err(|_| damaged("清单无法解析", "the manifest cannot be read"))?;
    if m.format != FORMAT {
        return Err(not_a_backup());
    }
    if m.version > VERSION {
        return Err(fault(
            format!(
                "备份由更新版本的服务器（{}）生成，请升级后再读取",
                m.server_version
            ),
            format!(
                "the backup was made by a newer server ({}); update this one to read it",
                m.server_version
            ),
        ));
    }
    Ok(m)
}

/// Reads the archive `file` through, checking every member against the manifest as it
/// streams past; the databases go into `out`, and the photos into `out/photos` when
/// `keep_photos` (else they are only checked). Then each database copy is checked.
fn read_archive(file: &Path, out: &Path, keep_photos: bool) -> Result<Summary> {
    let mut archive = tar::Archive::new(BufReader::new(File::open(file)?));
    let mut entries = archive
        .entries()
        .map_err(|_| damaged("无法读取", "it cannot be read as an archive"))?;
    let manifest = read_manifest(entries.next())?;
    let mut expected: BTreeMap<&str, &Member> = BTreeMap::new();
    for m in &manifest.files {
        let known = DATABASES.contains(&m.path.as_str()) || photo_name(&m.path).is_some();
        if !known || expected.insert(&m.path, m).is_some() {
            return Err(damaged(
                &format!("清单中有无法识别的条目 {}", m.path),
                &format!(
                    "the manifest lists an unknown or repeated member {}",
                    m.path
                ),
            ));
        }
    }
    if keep_photos {
        std::fs::create_dir_all(out.join("photos"))?;
    }
    let cut = || {
        damaged(
            "文件被截断或结构损坏",
            "the file is cut short or its structure is broken",
        )
    };
    for entry in entries {
        let mut entry = entry.map_err(|_| cut())?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(member) = expected.remove(path.as_str()) else {
            return Err(damaged(
                &format!("含有清单之外的条目 {path}"),
                &format!("it holds {path}, which the manifest does not list"),
            ));
        };
        if entry.header().entry_type() != tar::EntryType::Regular || entry.size() != member.bytes {
            return Err(damaged(
                &format!("{path} 的大小与清单不符"),
                &format!("the size of {path} differs from the manifest"),
            ));
        }
        let target = match photo_name(&path) {
            Some(name) if keep_photos => Some(out.join("photos").join(name)),
            Some(_) => None,
            None => Some(out.join(&path)),
        };
        // A member cut short reads as fewer bytes than listed, which the check below tells.
        let mut h = Hashing::new(&mut entry);
        match &target {
            Some(t) => {
                let mut w = BufWriter::new(File::create(t)?);
                std::io::copy(&mut h, &mut w)?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            }
            None => {
                std::io::copy(&mut h, &mut std::io::sink())?;
            }
        }
        let (bytes, sha256) = h.finish();
        if (bytes, &sha256) != (member.bytes, &member.sha256) {
            return Err(damaged(
                &format!("{path} 的内容与清单中的校验值不符"),
                &format!("the content of {path} does not match its SHA-256 in the manifest"),
            ));
        }
        // An original is named by its own hash: it must be that photo.
        if let Some(name) = photo_name(&path) {
            if is_hash(name) && name != sha256 {
                return Err(damaged(
                    &format!("照片 {name} 的内容与其编号不符"),
                    &format!("photo {name} does not match its name (its hash)"),
                ));
            }
        }
    }
    if let Some(missing) = expected.keys().next() {
        return Err(damaged(
            &format!("缺少 {missing}"),
            &format!("{missing} is missing"),
        ));
    }
    check_databases(&manifest, out)?;
    Ok(Summary::of(&manifest))
}

fn is_hash(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Runs SQLite's integrity check on each copied database and compares the log's op count
/// with the manifest's.
fn check_databases(manifest: &Manifest, dir: &Path) -> Result<()> {
    let listed = |name: &str| manifest.files.iter().any(|f| f.path == name);
    if manifest.database == "sqlite" && !DATABASES.iter().all(|db| listed(db)) {
        return Err(damaged("缺少数据库文件", "a database file is missing"));
    }
    for name in DATABASES.iter().filter(|db| listed(db)) {
        let unreadable = || {
            damaged(
                &format!("{name} 不是完好的 SQLite 数据库"),
                &format!("{name} is not a sound SQLite database"),
            )
        };
        let c = Connection::open(dir.join(name))?;
        let verdict: Vec<String> = c
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|_| unreadable())?;
        if verdict != ["ok"] {
            return Err(unreadable());
        }
    }
    if listed("ops.db") {
        let ops = count(&dir.join("ops.db"), "SELECT count(*) FROM ops")?;
        if Some(ops) != manifest.ops {
            return Err(damaged(
                "操作记录条数与清单不符",
                "the number of ops in the log differs from the manifest",
            ));
        }
    }
    Ok(())
}
