//! Sending this device's photos, after its data: for each queued photo, ask the server how
//! much it holds and send the rest in chunks, recording the held offset after every chunk so a
//! cut link or a killed app resumes where it stopped. A photo the server refuses for what it
//! is (too large, damaged, not cited) is marked with the reason and never holds back the
//! others; when the network itself fails, sending stops and everything waits for next time.

use reqwest::blocking::{Client, Response};
use rusqlite::params;
use serde::Deserialize;

use super::engine::{json, send};
use crate::error::{Error, Result};
use crate::store::Store;

/// Bytes per request: small enough to get through on one bar of 2G before a timeout.
const CHUNK: usize = 256 * 1024;

#[derive(Deserialize)]
struct Received {
    received: u64,
    complete: bool,
}

/// What a round of photo uploads did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Uploaded {
    pub sent: usize,
    pub failed: usize,
}

impl Store {
    fn photo_progress(&self, hash: &str, sent: u64, size: u64, done: bool) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE photo_uploads SET sent = ?2, size = ?3, done = ?4 WHERE hash = ?1",
                params![hash, sent as i64, size as i64, done],
            )?;
            Ok(())
        })
    }

    fn photo_failed(&self, hash: &str, why: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE photo_uploads SET attempts = attempts + 1, last_error = ?2 WHERE hash = ?1",
                params![hash, why],
            )?;
            Ok(())
        })
    }

    /// Sends one photo; `Ok(false)` when the server refused it for good this time.
    fn upload_one(&self, http: &Client, server: &str, auth: &str, hash: &str) -> Result<bool> {
        let bytes = match std::fs::read(self.photo_path(hash)?) {
            Ok(b) => b,
            Err(_) => {
                self.photo_failed(
                    hash,
                    "本机找不到这张照片的文件 / the photo's file is missing on this device",
                )?;
                return Ok(false);
            }
        };
        let total = bytes.len() as u64;
        let url = format!("{server}/v1/photos/{hash}");
        let status = |res: Result<Response>| -> Result<Received> { json(res?) };
        let mut held = status(send(|| {
            http.get(format!("{url}/upload"))
                .header("Authorization", auth)
        }))?;
        while !held.complete {
            let from = usize::try_from(held.received)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let chunk = bytes[from..(from + CHUNK).min(bytes.len())].to_vec();
            held = status(send(|| {
                http.put(&url)
                    .header("Authorization", auth)
                    .query(&[("offset", held.received), ("total", total)])
                    .body(chunk.clone())
            }))?;
            self.photo_progress(hash, held.received, total, held.complete)?;
        }
        self.photo_progress(hash, total, total, true)?;
        Ok(true)
    }

    /// Sends every queued photo it can, oldest first.
    pub(crate) fn upload_photos(
        &self,
        http: &Client,
        server: &str,
        auth: &str,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Uploaded> {
        let queue = self.photo_queue()?;
        let mut out = Uploaded::default();
        for (i, p) in queue.iter().enumerate() {
            match self.upload_one(http, server, auth, &p.hash) {
                Ok(true) => out.sent += 1,
                Ok(false) => out.failed += 1,
                // The server explained a refusal of this photo: note it, go on with the rest.
                Err(e @ Error::Remote { .. }) => {
                    self.photo_failed(&p.hash, &e.to_string())?;
                    out.failed += 1;
                }
                Err(e) => {
                    self.photo_failed(&p.hash, &e.to_string())?;
                    return Err(e);
                }
            }
            progress(i + 1, queue.len());
        }
        Ok(out)
    }
}
