//! Photo blobs on the server, behind a trait so object storage can replace the filesystem.
//! An upload is resumable: the device asks how many bytes are held and sends the rest in
//! chunks; each chunk is appended only at the held offset. On the last byte the whole file is
//! checked against its SHA-256 (an original's name; a display copy's or thumbnail's own hash,
//! named by the device): a mismatch (a corrupted chunk) discards it and is refused,
//! so a stored photo is always exactly the one the op log cites. A photo already held is held
//! once, whoever sends it again (who may send which file is the service's rule, `photos`).
//! An upload left unfinished for `STALE_UPLOAD` is deleted: at start and, at most hourly, as
//! uploads arrive, so abandoned partial files do not fill the disk; a phone that comes back
//! later asks what is held, hears nothing, and sends the photo again from its start.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use gridpatrol_core::sync::protocol::PhotoReceived;
use sha2::{Digest, Sha256};

use crate::backend::ApiError;

/// How long an unfinished upload is kept: two days, so a phone out of coverage over a weekend
/// night still resumes where it stopped.
pub const STALE_UPLOAD: Duration = Duration::from_secs(48 * 3600);

/// How often arriving uploads look for stale ones (the folder can hold many photos).
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// The variants of a photo, as they are named in the store.
pub const VARIANTS: [&str; 3] = ["original", "display", "thumb"];

/// A photo file's name in the store: the original is named by its hash; its display copy and
/// thumbnail by the original's hash and the variant.
pub fn blob_name(hash: &str, variant: &str) -> String {
    match variant {
        "original" => hash.to_string(),
        v => format!("{hash}.{v}.jpg"),
    }
}

pub trait BlobStore: Send + Sync {
    /// How much of blob `name` is held.
    fn received(&self, name: &str) -> Result<PhotoReceived, ApiError>;
    /// Appends `chunk` at `offset` of a blob of `total` bytes whose SHA-256 must be `expect`.
    fn append(
        &self,
        name: &str,
        expect: &str,
        offset: u64,
        total: u64,
        chunk: &[u8],
    ) -> Result<PhotoReceived, ApiError>;
    /// The whole blob.
    fn read(&self, name: &str) -> Result<Vec<u8>, ApiError>;
    /// Bytes held of photo `hash`: every variant, finished or arriving.
    fn held_bytes(&self, hash: &str) -> u64;
    /// Bytes of every upload begun and not yet finished (for `/metrics`).
    fn pending_bytes(&self) -> u64;
    /// Whether a new photo could be stored now (for `/readyz`).
    fn check_writable(&self) -> std::io::Result<()>;
}

/// Photos as files under one folder: `<name>` when complete, `<name>.part` while arriving.
pub struct FsBlobs {
    dir: PathBuf,
    max_bytes: u64,
    // Appends to one partial file must not interleave; uploads are few, one lock is enough.
    // It holds when stale uploads were last looked for.
    lock: Mutex<Instant>,
}

fn io_error(_: std::io::Error) -> ApiError {
    ApiError::internal()
}

pub fn too_large(max: u64) -> ApiError {
    ApiError::new(
        413,
        "photo_too_large",
        &format!("照片过大（上限 {} MB），请压缩后重新拍摄", max >> 20),
        &format!(
            "photo too large (limit {} MB); retake it smaller",
            max >> 20
        ),
    )
}

impl FsBlobs {
    pub fn open(dir: PathBuf, max_bytes: u64) -> std::io::Result<FsBlobs> {
        std::fs::create_dir_all(&dir)?;
        let blobs = FsBlobs {
            dir,
            max_bytes,
            lock: Mutex::new(Instant::now()),
        };
        blobs.remove_stale(STALE_UPLOAD);
        Ok(blobs)
    }

    /// Deletes unfinished uploads last written more than `age` ago; returns how many.
    /// Another instance sharing the folder may delete the same file first: that is no failure.
    pub fn remove_stale(&self, age: Duration) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let now = SystemTime::now();
        let mut removed = 0;
        for e in entries.flatten() {
            if !e.file_name().to_string_lossy().ends_with(".part") {
                continue;
            }
            let stale = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| now.duration_since(at).ok())
                .is_some_and(|idle| idle > age);
            if stale && std::fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "stale photo uploads removed");
        }
        removed
    }

    fn paths(&self, name: &str) -> (PathBuf, PathBuf) {
        (self.dir.join(name), self.dir.join(format!("{name}.part")))
    }

    fn held(&self, name: &str) -> Result<PhotoReceived, ApiError> {
        let (done, part) = self.paths(name);
        if let Ok(m) = std::fs::metadata(&done) {
            return Ok(PhotoReceived {
                received: m.len(),
                complete: true,
            });
        }
        let received = std::fs::metadata(&part).map_or(0, |m| m.len());
        Ok(PhotoReceived {
            received,
            complete: false,
        })
    }
}

fn file_hash(path: &PathBuf) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut digest = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        digest.update(&buf[..n]);
    }
    Ok(hex::encode(digest.finalize()))
}

impl BlobStore for FsBlobs {
    fn received(&self, name: &str) -> Result<PhotoReceived, ApiError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.held(name)
    }

    fn held_bytes(&self, hash: &str) -> u64 {
        VARIANTS
            .iter()
            .flat_map(|v| {
                let (done, part) = self.paths(&blob_name(hash, v));
                [done, part]
            })
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    fn pending_bytes(&self) -> u64 {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    }

    fn check_writable(&self) -> std::io::Result<()> {
        // A file of its own name (instances share the folder), neither a photo nor an upload,
        // gone again when closed.
        let mut probe = tempfile::Builder::new()
            .prefix(".ready-")
            .tempfile_in(&self.dir)?;
        probe.write_all(b"ok")?;
        probe.as_file().sync_all()?;
        probe.close()
    }

    fn append(
        &self,
        name: &str,
        expect: &str,
        offset: u64,
        total: u64,
        chunk: &[u8],
    ) -> Result<PhotoReceived, ApiError> {
        if total > self.max_bytes {
            return Err(too_large(self.max_bytes));
        }
        // Checked: a hostile offset near u64::MAX must not wrap past the bound.
        if offset
            .checked_add(chunk.len() as u64)
            .is_none_or(|end| end > total)
        {
            return Err(ApiError::bad_request("offset + chunk > total"));
        }
        let mut swept = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if swept.elapsed() > SWEEP_EVERY {
            *swept = Instant::now();
            self.remove_stale(STALE_UPLOAD);
        }
        let held = self.held(name)?;
        if held.complete {
            return Ok(held);
        }
        if held.received != offset {
            return Err(ApiError::new(
                409,
                "offset_mismatch",
                &format!("续传位置不符（服务器已收到 {} 字节）", held.received),
                &format!("wrong offset (the server holds {} bytes)", held.received),
            ));
        }
        let (done, part) = self.paths(name);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&part)
            .map_err(io_error)?;
        f.write_all(chunk).map_err(io_error)?;
        f.sync_all().map_err(io_error)?;
        let received = offset + chunk.len() as u64;
        if received < total {
            return Ok(PhotoReceived {
                received,
                complete: false,
            });
        }
        if file_hash(&part).map_err(io_error)? != expect {
            let _ = std::fs::remove_file(&part);
            return Err(ApiError::new(
                422,
                "hash_mismatch",
                "照片数据与编号不符（传输中损坏），将重新上传",
                "the photo's bytes do not match its hash (damaged in transit); it will be sent again",
            ));
        }
        std::fs::rename(&part, &done).map_err(io_error)?;
        Ok(PhotoReceived {
            received,
            complete: true,
        })
    }

    fn read(&self, name: &str) -> Result<Vec<u8>, ApiError> {
        let (done, _) = self.paths(name);
        std::fs::read(done).map_err(|_| {
            ApiError::new(
                404,
                "photo_not_uploaded",
                "照片尚未上传",
                "the photo has not been uploaded yet",
            )
        })
    }
}
