//! The sync engine: push this device's pending ops, then pull what is new in its scope, over
//! HTTP (reqwest, rustls). Each step is safe to repeat: the server is idempotent, an
//! acknowledgement and a pulled page each commit in one transaction, so a cut connection or a
//! killed app loses nothing and the next sync carries on. Failures the server may recover from
//! (no network, 429, 5xx) are retried a few times with growing pauses, honouring `Retry-After`;
//! then the sync stops with an error and everything stays on the device.

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::protocol::{
    routes, ChangePasswordRequest, ErrorBody, LoginRequest, LoginResponse, PushRequest,
    PushResponse, CLOCK_SKEW, MAX_PUSH_OPS, PROTOCOL_VERSION, SERVER_RESTORED,
};
use crate::error::{Error, Result};
use crate::store::Store;

const PUSH_BATCH: usize = MAX_PUSH_OPS;
const PULL_PAGE: usize = 1000;
const ATTEMPTS: u32 = 5;

/// Where a sync stands, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Pushed {
        done: usize,
        total: usize,
    },
    /// A page has arrived and is about to be applied.
    Received {
        ops: usize,
    },
    Pulled {
        ops: usize,
    },
    /// The server sent this device back to a snapshot (its scope changed, or it was away too
    /// long); what it received before was dropped, its own unsynced ops kept.
    Restarted,
    /// Photos, after the data: `done` of `total` handled.
    Photos {
        done: usize,
        total: usize,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pushed: usize,
    pub refused: usize,
    pub pulled: usize,
    pub photos_sent: usize,
    /// Photos the server refused this time (each keeps its reason in the queue).
    pub photos_failed: usize,
}

/// Choices for one sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOptions {
    /// Send original photos (not only thumbnails and display copies).
    pub send_originals: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            send_originals: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedIn {
    pub server: String,
    pub user_id: String,
    /// The password was a first one: the person must choose their own (`change_password`).
    pub must_change_password: bool,
}

pub(super) fn client() -> Result<Client> {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| Error::Network {
            detail: e.to_string(),
        })
}

/// A push body as zstd-compressed JSON: ops repeat their field names and ids, and a phone on a
/// weak signal pays for every byte (responses come back compressed the same way, by
/// `Accept-Encoding`). Level 12 against zstd's default 3: 18% fewer bytes for a push of
/// 50,000 hazards (2.06 MB against 2.51 MB), the push taking 6.5 s against 6.0 s in one run
/// each on a noisy machine; on a link of 256 kbit/s the bytes saved are worth 14 s.
fn compressed_json(value: &impl Serialize) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(value)?;
    Ok(zstd::encode_all(json.as_slice(), 12)?)
}

/// Sends a request, retrying what may pass later; returns the successful response.
pub(super) fn send(make: impl Fn() -> RequestBuilder) -> Result<Response> {
    let mut wait = Duration::from_millis(300);
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        match make().send() {
            Ok(res) if res.status().is_success() => return Ok(res),
            Ok(res) => {
                let status = res.status().as_u16();
                let retry_after = res
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let retryable = status == 429 || status >= 500;
                if !retryable || attempt == ATTEMPTS {
                    return Err(match res.json::<ErrorBody>() {
                        Ok(e) => Error::Remote {
                            status,
                            code: e.code,
                            zh: e.zh,
                            en: e.en,
                            server_time_ms: e.server_time_ms,
                            epoch: e.epoch,
                        },
                        Err(_) => Error::Network {
                            detail: format!("HTTP {status}"),
                        },
                    });
                }
                if let Some(secs) = retry_after {
                    wait = Duration::from_secs(secs.min(60));
                }
                last = format!("HTTP {status}");
            }
            Err(e) => last = e.to_string(),
        }
        if attempt < ATTEMPTS {
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    }
    Err(Error::Network { detail: last })
}

/// Whether `server` is reached over TLS, or is this machine (a test, an app beside its server).
fn reaches_safely(server: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(server) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => !host.is_empty(),
        "http" => loopback,
        _ => false,
    }
}

pub(super) fn json<T: serde::de::DeserializeOwned>(res: Response) -> Result<T> {
    res.json().map_err(|e| Error::Network {
        detail: e.to_string(),
    })
}

impl Store {
    /// Signs in to `server` as `user_id` for this device, keeping the device token here. The
    /// server must be reached over HTTPS, or be this machine (see `sign_in_with`).
    pub fn sign_in(&self, server: &str, user_id: &str, password: &str) -> Result<SignedIn> {
        self.sign_in_with(server, user_id, password, false)
    }

    /// `sign_in`; with `insecure_http`, a plain `http://` server elsewhere than this machine is
    /// accepted too (a township's test network), which sends the password and every record
    /// readable to anyone on the way.
    pub fn sign_in_with(
        &self,
        server: &str,
        user_id: &str,
        password: &str,
        insecure_http: bool,
    ) -> Result<SignedIn> {
        let server = server.trim_end_matches('/').to_string();
        if !insecure_http && !reaches_safely(&server) {
            return Err(Error::InsecureServer);
        }
        let http = client()?;
        let body = LoginRequest {
            user_id: user_id.to_string(),
            password: password.to_string(),
            device_id: self.device_id(),
        };
        let login = format!("{server}{}", routes::LOGIN);
        let reply: LoginResponse = send(|| http.post(&login).json(&body))?
            .json()
            .map_err(|e| Error::Network {
                detail: e.to_string(),
            })?;
        // A phone whose clock is wrong dates nothing by it from its first sign-in on.
        self.learn_server_time(reply.server_time_ms)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sync_session (id, server, user_id, token) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET server = excluded.server,
                     user_id = excluded.user_id, token = excluded.token",
                params![server, reply.user_id, reply.token],
            )?;
            // Only a device that has sent and received nothing takes the server's epoch as it
            // signs in. Any other keeps the one its work was acknowledged in, whatever address
            // it signs in at and however often: after a restore that lost its token (or a new
            // server put where the old one was), its first push then finds the server
            // restored and sends everything again.
            tx.execute(
                "UPDATE device SET server_epoch = ?1 WHERE id = 1 AND acked_seq = 0
                     AND pull_cursor IS NULL AND snapshot_cursor IS NULL",
                [reply.epoch],
            )?;
            Ok(())
        })?;
        Ok(SignedIn {
            server,
            user_id: reply.user_id,
            must_change_password: reply.must_change_password,
        })
    }

    /// Changes the signed-in user's password on the server (a first password must be changed
    /// before the console can be used; a phone should ask for it at sign-in).
    pub fn change_password(&self, old: &str, new: &str) -> Result<()> {
        let (server, _, token) = self.session()?;
        let body = ChangePasswordRequest {
            old_password: old.to_string(),
            new_password: new.to_string(),
        };
        let http = client()?;
        send(|| {
            http.post(format!("{server}{}", routes::PASSWORD))
                .bearer_auth(&token)
                .json(&body)
        })?;
        Ok(())
    }

    /// Signs this device out: asks the server to revoke its token (when it can be reached) and
    /// forgets the session here. Ops not yet sent stay on the device; while there are any,
    /// signing out is refused unless `force`, so nobody loses work by signing out offline.
    /// Returns whether the server revoked the token.
    pub fn sign_out(&self, force: bool) -> Result<bool> {
        let (server, _, token) = self.session()?;
        let pending = self.pending_ops()?;
        if pending > 0 && !force {
            return Err(Error::PendingOps { count: pending });
        }
        let revoked = client()?
            .post(format!("{server}{}", routes::LOGOUT))
            .bearer_auth(&token)
            .send()
            .is_ok_and(|r| r.status().is_success());
        self.write(|tx| {
            tx.execute("DELETE FROM sync_session WHERE id = 1", [])?;
            Ok(())
        })?;
        Ok(revoked)
    }

    pub(super) fn session(&self) -> Result<(String, String, String)> {
        self.read(|c| {
            c.query_row(
                "SELECT server, user_id, token FROM sync_session WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or(Error::NotSignedIn)
        })
    }

    /// Who is signed in here, and when this device last finished a sync.
    pub fn signed_in(&self) -> Result<Option<(SignedIn, Option<i64>)>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT server, user_id, last_sync_ms FROM sync_session WHERE id = 1",
                [],
                |r| {
                    Ok((
                        SignedIn {
                            server: r.get(0)?,
                            user_id: r.get(1)?,
                            must_change_password: false,
                        },
                        r.get(2)?,
                    ))
                },
            )
            .optional()?)
        })
    }

    /// Pushes every pending op, pulls everything new, then sends photos (originals too),
    /// reporting progress as it goes.
    pub fn sync(&self, progress: &mut dyn FnMut(Progress)) -> Result<SyncReport> {
        self.sync_with(SyncOptions::default(), progress)
    }

    /// `sync`, choosing what photo files to send: on a metered link an app sends thumbnails
    /// and display copies and keeps originals for later (they stay queued).
    pub fn sync_with(
        &self,
        options: SyncOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<SyncReport> {
        let (server, _, token) = self.session()?;
        let http = client()?;
        let auth = format!("Bearer {token}");
        let mut report = SyncReport::default();

        let get = |path: &str, cursor: &str| {
            send(|| {
                http.get(format!("{server}{path}"))
                    .header("Authorization", &auth)
                    .query(&[("cursor", cursor), ("limit", &PULL_PAGE.to_string())])
            })
        };
        let mut restored = self.push_pending(&http, &server, &auth, &mut report, progress)?;
        restored |= self.receive(&get, &mut report, progress)?;
        if restored {
            // Found restored on the way in: what this device had sent is queued again, and
            // the numbers its cases get again come back with a pull.
            self.push_pending(&http, &server, &auth, &mut report, progress)?;
            self.receive(&get, &mut report, progress)?;
        }
        // The data is in: that is the last successful sync. Photos follow; a network failure
        // among them is still reported (so the caller tries again later), with the data synced
        // and the photos left queued.
        let now = self.device_wall_ms();
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_session SET last_sync_ms = ?1 WHERE id = 1",
                [now],
            )?;
            Ok(())
        })?;
        let photos = self.upload_photos(
            &http,
            &server,
            &auth,
            options.send_originals,
            &mut |done, total| progress(Progress::Photos { done, total }),
        )?;
        report.photos_sent = photos.sent;
        report.photos_failed = photos.failed;
        Ok(report)
    }

    /// Pushes every pending op, batch by batch. Returns whether the server turned out to be
    /// restored from a backup (`SERVER_RESTORED`): this device's own ops were then all queued
    /// again and sent.
    fn push_pending(
        &self,
        http: &Client,
        server: &str,
        auth: &str,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<bool> {
        let mut total = usize::try_from(self.pending_ops()?).unwrap_or(0);
        // The server refuses a push whose clock is ahead of its own, with its time: the device
        // re-dates what it has not sent and pushes again, once per sync.
        let mut redated = false;
        let mut restored = false;
        loop {
            let batch = self.outbox_batch(PUSH_BATCH)?;
            if batch.is_empty() {
                return Ok(restored);
            }
            let body = compressed_json(&PushRequest {
                protocol: PROTOCOL_VERSION,
                device_id: self.device_id(),
                ops: batch,
                sent_at_ms: Some(self.now_ms()),
                epoch: Some(self.server_epoch()?),
            })?;
            let sent = send(|| {
                http.post(format!("{server}{}", routes::PUSH))
                    .header("Authorization", auth)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(reqwest::header::CONTENT_ENCODING, "zstd")
                    .body(body.clone())
            });
            let reply: PushResponse = match sent {
                Err(Error::Remote {
                    status: 409,
                    code,
                    server_time_ms: Some(server_time),
                    ..
                }) if code == CLOCK_SKEW && !redated => {
                    redated = true;
                    self.redate_unsent(server_time)?;
                    continue;
                }
                Err(Error::Remote {
                    status: 409,
                    code,
                    epoch: Some(epoch),
                    ..
                }) if code == SERVER_RESTORED && !restored => {
                    restored = true;
                    total = self.forget_restored_server(epoch)?;
                    progress(Progress::Restarted);
                    continue;
                }
                other => json(other?)?,
            };
            let ack = self.acknowledge(&reply.results)?;
            if ack.done == 0 {
                // The server answered none of what was sent: stop rather than loop.
                return Err(Error::Network {
                    detail: "push not acknowledged".into(),
                });
            }
            report.pushed += ack.done;
            report.refused += ack.refused;
            progress(Progress::Pushed {
                done: report.pushed,
                total,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_tls_or_this_machine_is_reached_without_being_told() {
        for safe in [
            "https://sync.example.cn",
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:80",
        ] {
            assert!(super::reaches_safely(safe), "{safe}");
        }
        for unsafe_ in [
            "http://192.168.1.10:8080",
            "http://sync.example.cn",
            "ftp://127.0.0.1",
            "sync.example.cn",
        ] {
            assert!(!super::reaches_safely(unsafe_), "{unsafe_}");
        }
    }
}
