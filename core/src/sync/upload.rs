//! Photo files over the network. Sending this device's photos, after its data (thumbnails,
//! then display copies, then originals): for each queued photo, ask the server how
//! much it holds and send the rest in chunks, recording the held offset after every chunk so a
//! cut link or a killed app resumes where it stopped. A photo the server refuses for what it
//! is (too large, damaged, not cited) is marked with the reason and never holds back the
//! others; when the network itself fails, sending stops and everything waits for next time.
//! Fetching another device's photo on demand: a thumbnail for a list, the display copy to look
//! at, the original (checked against its hash) as evidence.

use reqwest::blocking::{Client, Response};
use rusqlite::params;

use super::engine::{client, json, send};
use super::protocol::{routes, PhotoReceived};
use crate::error::{Error, Result};
use crate::org::Actor;
use crate::photo::Variant;
use crate::store::Store;

/// Bytes per request: small enough to get through on one bar of 2G before a timeout.
const CHUNK: usize = 256 * 1024;

/// What a round of photo uploads did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Uploaded {
    pub sent: usize,
    pub failed: usize,
}

impl Store {
    fn photo_progress(
        &self,
        hash: &str,
        variant: Variant,
        sent: u64,
        size: u64,
        done: bool,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE photo_uploads SET sent = ?3, size = ?4, done = ?5
                 WHERE hash = ?1 AND variant = ?2",
                params![hash, variant.code(), sent as i64, size as i64, done],
            )?;
            Ok(())
        })
    }

    fn photo_failed(&self, hash: &str, variant: Variant, why: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE photo_uploads SET attempts = attempts + 1, last_error = ?3
                 WHERE hash = ?1 AND variant = ?2",
                params![hash, variant.code(), why],
            )?;
            Ok(())
        })
    }

    /// Sends one variant of a photo; `Ok(false)` when it cannot go this time.
    fn upload_one(
        &self,
        http: &Client,
        server: &str,
        auth: &str,
        hash: &str,
        variant: Variant,
    ) -> Result<bool> {
        let url = format!("{server}{}", routes::photo(hash));
        let status = |res: Result<Response>| -> Result<PhotoReceived> { json(res?) };
        // How much of the file with this SHA-256 the server holds.
        let held_of = |sha256: &str| {
            status(send(|| {
                http.get(format!("{url}/{}", routes::PHOTO_UPLOAD))
                    .header("Authorization", auth)
                    .query(&[("variant", variant.code()), ("sha256", sha256)])
            }))
        };
        let Ok(bytes) = std::fs::read(self.photo_variant_path(hash, variant)?) else {
            // An original sent once and cleared from this phone since (`evict_photos`) is
            // queued again when the server was restored, which may hold it still: the name
            // of an original is its hash, so the server can say so without the bytes.
            if variant == Variant::Original {
                let held = held_of(hash)?;
                if held.complete {
                    self.photo_progress(hash, variant, held.received, held.received, true)?;
                    return Ok(true);
                }
            }
            self.photo_failed(
                hash,
                variant,
                "本机找不到这张照片的文件 / the photo's file is missing on this device",
            )?;
            return Ok(false);
        };
        let total = bytes.len() as u64;
        // The server checks what arrives against this: the name for an original, the copy's
        // own hash for a display copy or a thumbnail.
        let expect = crate::photo::hash_hex(&bytes);
        let which = [("variant", variant.code()), ("sha256", expect.as_str())];
        let mut held = held_of(&expect)?;
        while !held.complete {
            let from = usize::try_from(held.received)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let chunk = bytes[from..(from + CHUNK).min(bytes.len())].to_vec();
            held = status(send(|| {
                http.put(&url)
                    .header("Authorization", auth)
                    .query(&which)
                    .query(&[("offset", held.received), ("total", total)])
                    .body(chunk.clone())
            }))?;
            self.photo_progress(hash, variant, held.received, total, held.complete)?;
        }
        self.photo_progress(hash, variant, total, total, true)?;
        Ok(true)
    }

    /// Sends every queued photo file it can: thumbnails, then display copies, then (when
    /// `originals`) the originals, oldest first within each.
    pub(crate) fn upload_photos(
        &self,
        http: &Client,
        server: &str,
        auth: &str,
        originals: bool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Uploaded> {
        let queue: Vec<_> = self
            .photo_queue()?
            .into_iter()
            .filter(|p| originals || p.variant != Variant::Original)
            .collect();
        let mut out = Uploaded::default();
        for (i, p) in queue.iter().enumerate() {
            match self.upload_one(http, server, auth, &p.hash, p.variant) {
                Ok(true) => out.sent += 1,
                Ok(false) => out.failed += 1,
                // The server explained a refusal of this photo: note it, go on with the rest.
                Err(e @ Error::Remote { .. }) => {
                    self.photo_failed(&p.hash, p.variant, &e.to_string())?;
                    out.failed += 1;
                }
                Err(e) => {
                    self.photo_failed(&p.hash, p.variant, &e.to_string())?;
                    return Err(e);
                }
            }
            progress(i + 1, queue.len());
        }
        Ok(out)
    }
}

impl Store {
    /// `fetch_photo` for a person: refused when every record citing the photo (a case, a visit,
    /// an activity) is outside their grids, unless they made one of those records. A photo no
    /// record cites yet is one just taken on this device, and theirs to see.
    pub fn fetch_photo_as(
        &self,
        actor: &Actor,
        hash: &str,
        variant: Variant,
    ) -> Result<std::path::PathBuf> {
        let (cited, seen) = self.read(|c| {
            let cited: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM photo_refs WHERE hash = ?1)",
                [hash],
                |r| r.get(0),
            )?;
            let mut grids = c.prepare_cached(
                "SELECT h.grid_id FROM photo_refs r JOIN ops o ON o.id = r.op_id
                   JOIN hazards h ON o.entity = 'hazard:' || h.id WHERE r.hash = ?1
                 UNION SELECT p.grid_id FROM photo_refs r JOIN ops o ON o.id = r.op_id
                   JOIN patrols p ON o.entity = 'patrol:' || p.id WHERE r.hash = ?1
                 UNION SELECT a.org_id FROM photo_refs r JOIN ops o ON o.id = r.op_id
                   JOIN activities a ON o.entity = 'activity:' || a.id WHERE r.hash = ?1",
            )?;
            let grids = grids
                .query_map([hash], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let own: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM photo_refs r JOIN ops o ON o.id = r.op_id
                 WHERE r.hash = ?1 AND o.actor_id = ?2)",
                params![hash, actor.user_id],
                |r| r.get(0),
            )?;
            Ok((cited, own || grids.iter().any(|g| actor.covers(g))))
        })?;
        if cited && !seen {
            return Err(crate::hazard::lifecycle::Rejection::OutOfScope.into());
        }
        self.fetch_photo(hash, variant)
    }

    /// A photo file, from this device if held, else fetched from the server into this device's
    /// photo folder. An original must match its hash or it is not kept.
    pub fn fetch_photo(&self, hash: &str, variant: Variant) -> Result<std::path::PathBuf> {
        let path = self.photo_variant_path(hash, variant)?;
        if path.exists() {
            return Ok(path);
        }
        let (server, _, token) = self.session()?;
        let http = client()?;
        let res = send(|| {
            http.get(format!("{server}{}", routes::photo(hash)))
                .bearer_auth(&token)
                .query(&[("variant", variant.code())])
        })?;
        let bytes = res.bytes().map_err(|e| Error::Network {
            detail: e.to_string(),
        })?;
        if variant == Variant::Original && crate::photo::hash_hex(&bytes) != hash {
            return Err(Error::Network {
                detail: "the photo arrived damaged".into(),
            });
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }
}
