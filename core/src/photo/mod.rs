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
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::checklist::{check_photo_ref, AnswerValue};
use crate::error::{Entity, Error, Field, Result};
use crate::hazard::HazardEvent;
use crate::op::{Op, OpBody};
use crate::org::Actor;
use crate::patrol::GpsSample;
use crate::store::Store;
use crate::vocab::vocabulary;

mod display;
pub use display::DisplayCopy;

/// What a photo shows, for the record it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoRole {
    /// The hazard as found.
    Before,
    /// The hazard after rectification.
    After,
    /// A rectification notice handed over.
    Notice,
    /// A referral or enforcement document.
    Document,
}

vocabulary!(PhotoRole, Field::PhotoRole, {
    Before => ("before", "整改前"),
    After => ("after", "整改后"),
    Notice => ("notice", "整改通知书"),
    Document => ("document", "执法文书"),
});

/// The capture of one photo, as the op log records it: which exact file (by hash), when the
/// phone took it, where (GPS with accuracy and the mock-location flag), by whom, at which place
/// and for which hazard. Written once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoCapture {
    pub id: Uuid,
    pub hash: String,
    pub bytes: u64,
    /// The phone's clock when the photo was taken (Unix ms).
    pub taken_at: i64,
    #[serde(default)]
    pub gps: GpsSample,
    pub place_id: Uuid,
    pub grid_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazard_id: Option<Uuid>,
    pub role: PhotoRole,
}

/// What the camera screen hands over with the file.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureInput {
    pub place_id: Uuid,
    pub hazard_id: Option<Uuid>,
    pub role: PhotoRole,
    pub taken_at: i64,
    pub gps: GpsSample,
}

/// A before photo and an after photo of one hazard, with how far apart they were taken (when
/// both have a position), for the verifier to judge that the after photo shows the same spot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoPair {
    pub before: String,
    pub after: String,
    pub distance_m: Option<f64>,
}

/// Great-circle distance in metres (haversine; plenty for tens of metres).
fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_000.0_f64;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

pub(crate) fn put_capture(tx: &Transaction, c: &PhotoCapture, user_id: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO photos (id, hash, place_id, hazard_id, role, taken_at, lat, lon,
             accuracy_m, mock, user_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        c.id.to_string(),
        c.hash,
        c.place_id.to_string(),
        c.hazard_id.map(|h| h.to_string()),
        c.role.code(),
        c.taken_at,
        c.gps.lat,
        c.gps.lon,
        c.gps.accuracy_m,
        c.gps.mock,
        user_id,
    ])?;
    Ok(())
}

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
            OpBody::Photo(c) => out.push(&c.hash),
            OpBody::Activity(a) => out.extend(a.photos.iter().map(String::as_str)),
            OpBody::Fire(f) => out.extend(f.photos.iter().map(String::as_str)),
            OpBody::Letter(l) => out.extend(l.photos.iter().map(String::as_str)),
            OpBody::EquipmentCheck(c) => out.extend(c.photos.iter().map(String::as_str)),
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

/// Which file of a photo: the original (the evidence), its display copy or its thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    Original,
    Display,
    Thumb,
}

vocabulary!(Variant, Field::Photo, {
    Original => ("original", "原图"),
    Display => ("display", "显示图"),
    Thumb => ("thumb", "缩略图"),
});

/// A photo waiting to be sent, or one that keeps failing, for the sync screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoUpload {
    pub hash: String,
    pub variant: Variant,
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
        self.photo_variant_path(hash, Variant::Original)
    }

    /// Where a variant of a photo is kept here.
    pub fn photo_variant_path(&self, hash: &str, variant: Variant) -> Result<PathBuf> {
        check_photo_ref(hash)?;
        let dir = self.photo_dir();
        Ok(match variant {
            Variant::Original => dir.join(hash),
            Variant::Display => dir.join("display").join(format!("{hash}.jpg")),
            Variant::Thumb => dir.join("thumb").join(format!("{hash}.jpg")),
        })
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

    /// Keeps a photo just taken and records its capture (hash, time, position, place, hazard,
    /// role) in one op; returns the hash. The file is kept first: a crash between the two
    /// leaves an uncited file, never an op citing a file that is not there.
    pub fn capture_photo(
        &self,
        actor: &Actor,
        bytes: &[u8],
        input: CaptureInput,
    ) -> Result<String> {
        let gps = input.gps.validated()?;
        let hash = self.add_photo(bytes)?;
        self.write(|tx| {
            let place = crate::place::load_place(tx, input.place_id, self.today())?.place;
            crate::place::require_grid_in_scope(tx, actor, &place.grid_id)?;
            if let Some(h) = input.hazard_id {
                let grid = crate::hazard::grid_of_hazard(tx, h)?;
                if grid != place.grid_id {
                    return Err(Error::not_found(Entity::Hazard, h.to_string()));
                }
            }
            let capture = PhotoCapture {
                id: Uuid::now_v7(),
                hash: hash.clone(),
                bytes: bytes.len() as u64,
                // The camera read the device's clock: corrected like every time recorded here,
                // and a time before any phone ran this app is taken as now.
                taken_at: Some(input.taken_at + (self.now_ms() - self.device_wall_ms()))
                    .filter(|t| *t >= crate::rules::EARLIEST_MS)
                    .unwrap_or_else(|| self.now_ms()),
                gps,
                place_id: place.id,
                grid_id: place.grid_id,
                hazard_id: input.hazard_id,
                role: input.role,
            };
            self.commit_local(tx, actor, OpBody::Photo(capture))?;
            Ok(())
        })?;
        Ok(hash)
    }

    /// The before and after photos of a hazard, paired: each after photo with the before
    /// photo taken nearest to it (the report's own photos count as before photos).
    pub fn photo_pairs(&self, hazard_id: Uuid) -> Result<Vec<PhotoPair>> {
        let report_photos = self.hazard(hazard_id)?.hazard.report.photos;
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT hash, role, lat, lon FROM photos WHERE hazard_id = ?1 ORDER BY taken_at, id",
            )?;
            let rows = stmt
                .query_map([hazard_id.to_string()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<f64>>(2)?,
                        r.get::<_, Option<f64>>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let place = |hash: &str| -> Option<(f64, f64)> {
                rows.iter()
                    .find(|(h, _, _, _)| h == hash)
                    .and_then(|(_, _, lat, lon)| lat.zip(*lon))
            };
            let mut befores: Vec<&str> = report_photos.iter().map(String::as_str).collect();
            befores.extend(
                rows.iter()
                    .filter(|(_, role, _, _)| role == "before")
                    .map(|(h, _, _, _)| h.as_str()),
            );
            befores.dedup();
            let mut out = Vec::new();
            for (after, _, _, _) in rows.iter().filter(|(_, role, _, _)| role == "after") {
                let at = place(after);
                let nearest = befores
                    .iter()
                    .map(|b| (*b, at.zip(place(b)).map(|(x, y)| distance_m(x, y))))
                    .min_by(|x, y| {
                        let key = |d: Option<f64>| d.unwrap_or(f64::INFINITY);
                        key(x.1).total_cmp(&key(y.1))
                    });
                if let Some((before, distance_m)) = nearest {
                    out.push(PhotoPair {
                        before: before.to_string(),
                        after: after.clone(),
                        distance_m,
                    });
                }
            }
            Ok(out)
        })
    }

    /// This device's photos not yet fully sent, oldest first, with any failure.
    pub fn photo_queue(&self) -> Result<Vec<PhotoUpload>> {
        self.read(photo_queue)
    }
}

/// How long a phone keeps a photo it took after sending it, whatever its storage budget: longer
/// than a township's nightly backup takes to hold it (docs/deploy.md), with room to spare.
pub const KEEP_SENT_DAYS: u64 = 3;

/// What a storage clean-up removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Evicted {
    pub files: usize,
    pub bytes: u64,
}

impl Store {
    /// Keeps the photo folder within `budget` bytes by deleting originals the server already
    /// holds, oldest first. A photo not yet sent is never deleted, whatever the budget, nor one
    /// taken in the last `KEEP_SENT_DAYS` days: the server's nightly backup may not hold it yet,
    /// and after a restore from that backup this phone is its only copy.
    pub fn evict_photos(&self, budget: u64) -> Result<Evicted> {
        let unsent: std::collections::HashSet<String> =
            self.photo_queue()?.into_iter().map(|p| p.hash).collect();
        let keep_since = std::time::SystemTime::now()
            - std::time::Duration::from_secs(KEEP_SENT_DAYS * 24 * 3600);
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
            // Only whole photos (named by their hash) that have gone, and long enough ago, may go.
            let age = meta.modified().ok();
            let recent = age.is_some_and(|at| at > keep_since);
            if check_photo_ref(&name).is_ok() && !unsent.contains(&name) && !recent {
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
        // Thumbnails first, then display copies, then originals: what people look at arrives
        // soonest; within each, the oldest photo first.
        "SELECT hash, variant, sent, size, attempts, last_error FROM photo_uploads WHERE NOT done
         ORDER BY CASE variant WHEN 'thumb' THEN 0 WHEN 'display' THEN 1 ELSE 2 END, rowid",
    )?;
    let rows = stmt
        .query_map([], |r| {
            let variant: String = r.get(1)?;
            Ok(PhotoUpload {
                hash: r.get(0)?,
                variant: variant.parse().unwrap_or(Variant::Original),
                sent: r.get(2)?,
                size: r.get(3)?,
                attempts: r.get(4)?,
                last_error: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
