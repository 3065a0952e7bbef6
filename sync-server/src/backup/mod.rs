//! The server's backup file: writing it while the server serves (`backup_sqlite`, or
//! `backup_photos` for a PostgreSQL deployment, whose database `pg_dump` backs up), checking it
//! (`verify`) and putting it back into a data folder (`unpack`, which `restore` builds on).
//!
//! A backup is one tar archive: `manifest.json` first (what the file holds, each member's size
//! and SHA-256), then `ops.db` and `accounts.db` (copies made with SQLite's online backup, so
//! each is consistent even while the server writes), then every complete photo under
//! `photos/`. One file is easy to move to another disk and to keep N of; the manifest first
//! lets a reader check each member as it streams past, without room for a second copy. The
//! file is written under `FILE.tmp` and renamed when complete, so a backup cut short (a full
//! disk, a killed job) never sits under the name a schedule keeps.
//!
//! Order matters while the server runs: the log is copied before the accounts (the compaction
//! horizon in `accounts.db` may then be higher than the log needs, never lower), and photos
//! last (a photo arrives after the op that cites it, so every photo the copied log cites and
//! the server held is in the file).

mod read;
mod restore;

pub use read::{unpack, verify};
pub use restore::{made_ms, restore_photos, restore_sqlite};

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the manifest's `format` says, so `verify` tells a backup from any other tar file.
const FORMAT: &str = "gridpatrol-backup";
/// The archive layout's version; a newer one is refused rather than half understood.
const VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
/// The two databases of a SQLite data folder, in the order they are copied.
pub const DATABASES: [&str; 2] = ["ops.db", "accounts.db"];
/// A manifest larger than this is no manifest of ours (it is read into memory).
const MAX_MANIFEST_BYTES: u64 = 256 << 20;
/// How long a copy waits for a database busy with a checkpoint before giving up.
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// A failure of a backup, its check or its unpacking, told in zh-CN and English. I/O and
/// SQLite failures keep the library's message: they name files and codes, never a row.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{zh} / {en}")]
    Fault { zh: String, en: String },
    #[error("读写失败 / input or output failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("SQLite 错误 / SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

fn fault(zh: impl Into<String>, en: impl Into<String>) -> BackupError {
    BackupError::Fault {
        zh: zh.into(),
        en: en.into(),
    }
}

fn damaged(zh: &str, en: &str) -> BackupError {
    fault(
        format!("备份文件已损坏或不完整：{zh}"),
        format!("the backup file is damaged or incomplete: {en}"),
    )
}

pub type Result<T> = std::result::Result<T, BackupError>;

/// The first member of every backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// When the backup was made, RFC 3339 in UTC.
    pub created_at: String,
    /// The version of the server that made it.
    pub server_version: String,
    /// `sqlite` (the databases and photos) or `postgresql` (photos only: the database is
    /// backed up with `pg_dump`).
    pub database: String,
    /// Ops in the copied log (SQLite backups only).
    pub ops: Option<u64>,
    /// Users with a password in the copied accounts (SQLite backups only).
    pub accounts: Option<u64>,
    /// Every other member, in archive order.
    pub files: Vec<Member>,
}

/// One member of the archive as the manifest vouches for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What a backup holds, as written or as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub database: String,
    pub created_at: String,
    pub ops: Option<u64>,
    pub accounts: Option<u64>,
    pub photos: usize,
    /// Bytes of every member but the manifest.
    pub bytes: u64,
}

impl Summary {
    fn of(m: &Manifest) -> Summary {
        Summary {
            database: m.database.clone(),
            created_at: m.created_at.clone(),
            ops: m.ops,
            accounts: m.accounts,
            photos: m
                .files
                .iter()
                .filter(|f| photo_name(&f.path).is_some())
                .count(),
            bytes: m.files.iter().map(|f| f.bytes).sum(),
        }
    }

    /// One line in zh-CN.
    pub fn zh(&self) -> String {
        match (self.ops, self.accounts) {
            (Some(ops), Some(accounts)) => format!(
                "{} 条操作记录，{} 个账号，{} 个照片文件，共 {} 字节（备份于 {}）",
                ops, accounts, self.photos, self.bytes, self.created_at
            ),
            _ => format!(
                "仅照片：{} 个照片文件，共 {} 字节（备份于 {}）",
                self.photos, self.bytes, self.created_at
            ),
        }
    }

    /// The same line in English.
    pub fn en(&self) -> String {
        match (self.ops, self.accounts) {
            (Some(ops), Some(accounts)) => format!(
                "{} ops, {} accounts, {} photo files, {} bytes (backed up at {})",
                ops, accounts, self.photos, self.bytes, self.created_at
            ),
            _ => format!(
                "photos only: {} photo files, {} bytes (backed up at {})",
                self.photos, self.bytes, self.created_at
            ),
        }
    }
}

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    digest: Sha256,
    bytes: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            digest: Sha256::new(),
            bytes: 0,
        }
    }

    fn finish(self) -> (u64, String) {
        (self.bytes, hex::encode(self.digest.finalize()))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

fn measure(path: &Path) -> Result<(u64, String)> {
    let mut h = Hashing::new(BufReader::new(File::open(path)?));
    std::io::copy(&mut h, &mut std::io::sink())?;
    Ok(h.finish())
}

/// The file name of a photo member (`photos/<name>`), when `path` is one and the name is
/// safe to create in a folder: no separator, nothing hidden, no upload in progress.
fn photo_name(path: &str) -> Option<&str> {
    let name = path.strip_prefix("photos/")?;
    let safe = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.ends_with(".part");
    safe.then_some(name)
}

/// The complete photos in `dir`, by name: uploads in progress (`.part`) and hidden files (the
/// readiness probe) are left out, and so is anything but a plain file.
fn complete_photos(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut photos = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(photos),
        Err(e) => return Err(e.into()),
    };
    for e in entries {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type()?.is_file() && photo_name(&format!("photos/{name}")).is_some() {
            photos.push((name, e.path()));
        }
    }
    photos.sort();
    Ok(photos)
}

/// Copies the SQLite database at `from` to `to` with the online backup API in one step: one
/// read transaction, so the copy is the database as of one moment, and in WAL mode the server
/// keeps writing meanwhile.
fn copy_online(from: &Path, to: &Path) -> Result<()> {
    // Read-write but never created: a read-only connection cannot open a WAL database whose
    // shared-memory file is gone (a stopped server's); the backup only reads.
    let src = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(BUSY_WAIT)?;
    let mut dst = Connection::open(to)?;
    let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
    let started = std::time::Instant::now();
    loop {
        match backup.step(-1)? {
            rusqlite::backup::StepResult::Done => return Ok(()),
            // A checkpoint or another step holds a lock: wait, within reason.
            _ if started.elapsed() < BUSY_WAIT => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                return Err(fault(
                    format!("数据库 {} 一直忙，未能复制", from.display()),
                    format!("{} stayed busy and could not be copied", from.display()),
                ))
            }
        }
    }
}

fn count(db: &Path, sql: &str) -> Result<u64> {
    let c = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    let n: i64 = c.query_row(sql, [], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Backs up the SQLite data folder `data_dir` (safe while its server runs) to the archive
/// `to`; returns what it holds.
pub fn backup_sqlite(data_dir: &Path, to: &Path) -> Result<Summary> {
    check_target(to)?;
    for name in DATABASES {
        if !data_dir.join(name).is_file() {
            return Err(fault(
                format!("{} 中没有 {name}：不是服务器的数据目录", data_dir.display()),
                format!(
                    "{} holds no {name}: not a server's data folder",
                    data_dir.display()
                ),
            ));
        }
    }
    // The copies are staged beside the backup file (that disk has the room the file needs).
    let staging = tempfile::Builder::new()
        .prefix(".gridpatrol-backup-")
        .tempdir_in(parent_of(to))?;
    let mut sources = Vec::new();
    for name in DATABASES {
        let copy = staging.path().join(name);
        copy_online(&data_dir.join(name), &copy)?;
        sources.push((name.to_string(), copy));
    }
    let ops = count(&staging.path().join("ops.db"), "SELECT count(*) FROM ops")?;
    let accounts = count(
        &staging.path().join("accounts.db"),
        "SELECT count(*) FROM passwords",
    )?;
    for (name, path) in complete_photos(&data_dir.join("photos"))? {
        sources.push((format!("photos/{name}"), path));
    }
    let summary = write_archive(to, "sqlite", Some(ops), Some(accounts), &sources)?;
    tracing::info!(
        ops,
        photos = summary.photos,
        bytes = summary.bytes,
        "backup written"
    );
    Ok(summary)
}

/// Backs up the photos of a PostgreSQL deployment, whose photo folder is `data_dir/photos`
/// (its database is backed up with `pg_dump`).
pub fn backup_photos(data_dir: &Path, to: &Path) -> Result<Summary> {
    check_target(to)?;
    let sources: Vec<(String, PathBuf)> = complete_photos(&data_dir.join("photos"))?
        .into_iter()
        .map(|(name, path)| (format!("photos/{name}"), path))
        .collect();
    let summary = write_archive(to, "postgresql", None, None, &sources)?;
    tracing::info!(
        photos = summary.photos,
        bytes = summary.bytes,
        "photo backup written"
    );
    Ok(summary)
}

/// A backup goes to a file in a folder that exists (a schedule's disk not mounted must fail
/// plainly, not make a folder on the wrong disk).
fn check_target(to: &Path) -> Result<()> {
    let folder = parent_of(to);
    if !folder.is_dir() {
        return Err(fault(
            format!("备份目录 {} 不存在", folder.display()),
            format!("the folder {} does not exist", folder.display()),
        ));
    }
    if to.is_dir() {
        return Err(fault(
            format!("{} 是目录，请给出备份文件名", to.display()),
            format!("{} is a folder; name the backup file", to.display()),
        ));
    }
    Ok(())
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn tmp_name(to: &Path) -> PathBuf {
    let mut name = to.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Writes the archive of `sources` (member path, file) to `to` through `to.tmp`.
fn write_archive(
    to: &Path,
    database: &str,
    ops: Option<u64>,
    accounts: Option<u64>,
    sources: &[(String, PathBuf)],
) -> Result<Summary> {
    // Each file is hashed first for the manifest, then read again into the archive, where its
    // bytes must hash the same (a photo is never rewritten once complete; were one, the
    // backup fails rather than hold what its manifest does not vouch for).
    let mut files = Vec::with_capacity(sources.len());
    for (path, file) in sources {
        let (bytes, sha256) = measure(file)?;
        files.push(Member {
            path: path.clone(),
            bytes,
            sha256,
        });
    }
    let manifest = Manifest {
        format: FORMAT.to_string(),
        version: VERSION,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        server_version: env!("CARGO_PKG_VERSION").to_string(),
        database: database.to_string(),
        ops,
        accounts,
        files,
    };
    let tmp = tmp_name(to);
    let written = write_members(&tmp, &manifest, sources);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, to)?;
    // The rename itself must survive a power cut, as the file's bytes do.
    File::open(parent_of(to))?.sync_all()?;
    Ok(Summary::of(&manifest))
}

/// A member's header: plain file, readable by its owner only (it holds password hashes),
/// dated when the backup was made.
fn header(bytes: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes);
    h.set_mode(0o600);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mtime(u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0));
    h
}

fn write_members(tmp: &Path, manifest: &Manifest, sources: &[(String, PathBuf)]) -> Result<()> {
    let out = BufWriter::new(File::create(tmp)?);
    let mut tar = tar::Builder::new(out);
    let json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    tar.append_data(&mut header(json.len() as u64), MANIFEST, &json[..])?;
    for ((path, file), member) in sources.iter().zip(&manifest.files) {
        let mut h = Hashing::new(BufReader::new(File::open(file)?).take(member.bytes));
        tar.append_data(&mut header(member.bytes), path, &mut h)?;
        if h.finish() != (member.bytes, member.sha256.clone()) {
            return Err(fault(
                format!("{path} 在备份过程中被改动，请重新备份"),
                format!("{path} changed while it was backed up; back up again"),
            ));
        }
    }
    let mut out = tar.into_inner()?;
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hash_of(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn only_complete_photos_with_plain_names_are_members() {
        let h = "a".repeat(64);
        assert_eq!(photo_name(&format!("photos/{h}")), Some(h.as_str()));
        assert!(photo_name(&format!("photos/{h}.thumb.jpg")).is_some());
        for bad in [
            "photos/",
            "photos/.ready-x",
            "photos/x.part",
            "photos/../ops.db",
            "photos/a/b",
            "ops.db",
        ] {
            assert_eq!(photo_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn photos_round_trip_and_a_photo_unlike_its_name_is_refused() {
        let data = tempfile::tempdir().unwrap();
        let photos = data.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        std::fs::write(photos.join(hash_of(b"one")), b"one").unwrap();
        std::fs::write(photos.join(format!("{}.part", hash_of(b"two"))), b"tw").unwrap();
        let out = tempfile::tempdir().unwrap();
        let file = out.path().join("b.tar");
        let made = backup_photos(data.path(), &file).unwrap();
        assert_eq!((made.photos, made.bytes, made.ops), (1, 3, None));
        assert_eq!(verify(&file).unwrap(), made);

        let into = tempfile::tempdir().unwrap();
        unpack(&file, into.path(), |_, _| Ok(())).unwrap();
        let read = std::fs::read(into.path().join("photos").join(hash_of(b"one"))).unwrap();
        assert_eq!(read, b"one");

        // Stored under another photo's name: the manifest agrees, the name does not.
        std::fs::write(photos.join(hash_of(b"three")), b"not three").unwrap();
        backup_photos(data.path(), &file).unwrap();
        let err = verify(&file).unwrap_err().to_string();
        assert!(err.contains("does not match its name"), "{err}");
    }

    #[test]
    fn a_member_outside_the_data_folder_is_refused_and_nothing_is_written() {
        let out = tempfile::tempdir().unwrap();
        let evil = "photos/../../escaped";
        let manifest = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            created_at: String::new(),
            server_version: String::new(),
            database: "postgresql".into(),
            ops: None,
            accounts: None,
            files: vec![Member {
                path: evil.into(),
                bytes: 1,
                sha256: hash_of(b"x"),
            }],
        };
        let file = out.path().join("evil.tar");
        let mut tar = tar::Builder::new(File::create(&file).unwrap());
        let json = serde_json::to_vec(&manifest).unwrap();
        tar.append_data(&mut header(json.len() as u64), MANIFEST, &json[..])
            .unwrap();
        // Written raw: the builder itself refuses `..` in a path.
        let mut h = header(1);
        h.as_gnu_mut().unwrap().name[..evil.len()].copy_from_slice(evil.as_bytes());
        h.set_cksum();
        tar.append(&h, &b"x"[..]).unwrap();
        tar.finish().unwrap();
        drop(tar);
        let into = out.path().join("a").join("b");
        let err = unpack(&file, &into, |_, _| Ok(())).unwrap_err().to_string();
        assert!(err.contains("unknown or repeated member"), "{err}");
        assert!(!out.path().join("escaped").exists() && !out.path().join("a/escaped").exists());
    }
}
