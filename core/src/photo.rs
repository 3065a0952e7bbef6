//! Photo evidence on the device. Originals are kept unmodified, named by the SHA-256 of their
//! bytes, in a folder beside the database (`<db>.photos/`); ops cite photos by that hash, so a
//! record proves which exact file was taken. `photo_refs` says which ops cite which photo (on
//! the server it decides who may read a photo). `photo_uploads` is this device's queue of
//! photos to send: filled by the same transaction that records a local op citing a photo,
//! drained by the sync engine after the data has gone (data never waits for photos), with
//! the bytes the server holds, attempts and the last failure kept for the status screen.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::checklist::{check_photo_ref, AnswerValue};
use crate::error::Result;
use crate::hazard::HazardEvent;
use crate::op::{Op, OpBody};
use crate::store::Store;

impl OpBody {
    /// The photos this op cites.
    pub fn photo_refs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        match self {
            OpBody::Patrol(p) => {
                for a in &p.answers {
                    if let AnswerValue::Photo(h) = &a.value {
                        out.push(h);
                    }
                }
            }
            OpBody::Hazard { event, .. } => match event {
                HazardEvent::Report(r) => out.extend(r.photos.iter().map(String::as_str)),
                HazardEvent::SubmitRectification { photos, .. } => {
                    out.extend(photos.iter().map(String::as_str))
                }
                HazardEvent::FixOnSpot {
                    before_photo,
                    after_photo,
                    ..
                } => out.extend(before_photo.iter().chain(after_photo).map(String::as_str)),
                _ => {}
            },
            _ => {}
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Notes which photos `op` cites; for an op made here, queues them for upload.
pub(crate) fn record_refs(tx: &Transaction, op: &Op, local: bool) -> Result<()> {
    let refs = op.body.photo_refs();
    if refs.is_empty() {
        return Ok(());
    }
    let mut cite =
        tx.prepare_cached("INSERT OR IGNORE INTO photo_refs (hash, op_id) VALUES (?1, ?2)")?;
    let mut queue = tx.prepare_cached("INSERT OR IGNORE INTO photo_uploads (hash) VALUES (?1)")?;
    let id = op.id.to_string();
    for h in refs {
        cite.execute(params![h, id])?;
        if local {
            queue.execute([h])?;
        }
    }
    Ok(())
}

/// Recomputes `photo_refs` from the log (after a rebuild or an upgrade).
pub(crate) fn rebuild_refs(tx: &Transaction) -> Result<()> {
    tx.execute("DELETE FROM photo_refs", [])?;
    for op in crate::apply::all_ops(tx)? {
        record_refs(tx, &op, false)?;
    }
    Ok(())
}

/// A photo waiting to be sent, or one that keeps failing, for the sync screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoUpload {
    pub hash: String,
    /// Bytes the server is known to hold.
    pub sent: i64,
    pub size: Option<i64>,
    pub attempts: u32,
    /// The last failure, in zh-CN and English.
    pub last_error: Option<String>,
}

pub(crate) fn hash_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Store {
    /// Where this device keeps original photos.
    pub fn photo_dir(&self) -> PathBuf {
        let mut name = self.path().as_os_str().to_owned();
        name.push(".photos");
        PathBuf::from(name)
    }

    /// The file of a photo held here (it may not exist: a photo cited by another device's op).
    pub fn photo_path(&self, hash: &str) -> Result<PathBuf> {
        check_photo_ref(hash)?;
        Ok(self.photo_dir().join(hash))
    }

    /// Keeps `bytes` as an original photo and returns its hash, the reference ops cite. The
    /// file is written under a temporary name and renamed, so a crash never leaves a partial
    /// file under a hash; the same bytes twice are stored once.
    pub fn add_photo(&self, bytes: &[u8]) -> Result<String> {
        let hash = hash_hex(bytes);
        let dir = self.photo_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(&hash);
        if !path.exists() {
            let tmp = dir.join(format!("{hash}.tmp"));
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
        }
        Ok(hash)
    }

    /// Reads a photo file (from the camera's folder, say) and keeps it as an original.
    pub fn add_photo_file(&self, path: &Path) -> Result<String> {
        self.add_photo(&std::fs::read(path)?)
    }

    /// This device's photos not yet fully sent, oldest first, with any failure.
    pub fn photo_queue(&self) -> Result<Vec<PhotoUpload>> {
        self.read(photo_queue)
    }
}

/// What a storage clean-up removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Evicted {
    pub files: usize,
    pub bytes: u64,
}

impl Store {
    /// Keeps the photo folder within `budget` bytes by deleting originals the server already
    /// holds, oldest first. A photo not yet sent is never deleted, whatever the budget.
    pub fn evict_photos(&self, budget: u64) -> Result<Evicted> {
        let unsent: std::collections::HashSet<String> =
            self.photo_queue()?.into_iter().map(|p| p.hash).collect();
        let Ok(entries) = std::fs::read_dir(self.photo_dir()) else {
            return Ok(Evicted::default());
        };
        let mut files = Vec::new();
        let mut total = 0u64;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(meta) = e.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            total += meta.len();
            // Only whole photos (named by their hash) that have gone may go.
            if check_photo_ref(&name).is_ok() && !unsent.contains(&name) {
                let age = meta.modified().ok();
                files.push((age, name, meta.len()));
            }
        }
        files.sort();
        let mut out = Evicted::default();
        for (_, name, len) in files {
            if total <= budget {
                break;
            }
            std::fs::remove_file(self.photo_dir().join(&name))?;
            total -= len;
            out.files += 1;
            out.bytes += len;
        }
        Ok(out)
    }
}

pub(crate) fn photo_queue(c: &Connection) -> Result<Vec<PhotoUpload>> {
    let mut stmt = c.prepare_cached(
        "SELECT hash, sent, size, attempts, last_error FROM photo_uploads WHERE NOT done
         ORDER BY rowid",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(PhotoUpload {
                hash: r.get(0)?,
                sent: r.get(1)?,
                size: r.get(2)?,
                attempts: r.get(3)?,
                last_error: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
