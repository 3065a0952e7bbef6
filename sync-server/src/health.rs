//! What a load balancer and a monitoring system ask of a running instance: `/healthz` (the
//! process is up and serving), `/readyz` (it can do its work now: the database answers, the
//! data folder has room, the photo store takes a new file), and `/metrics` (`metrics`). None
//! needs a sign-in: they tell no personal data, and deploy.md's proxy keeps `/readyz` and
//! `/metrics` to the server's own network. Readiness is asked of the storage directly
//! (`Health`), not through `Backend`, so a failed check never passes for a user's error.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;

use crate::backend::Backend;
use crate::metrics::{self, Metrics};
use crate::service::Service;
use crate::storage::{AccountStore, OpLog, StorageError};

/// The least free space in the data folder by default: room for a day of photos and for
/// SQLite to grow and checkpoint.
pub const MIN_FREE_DISK_MB: u64 = 1024;

/// How long `/readyz` waits for the database: longer, and it is as good as gone.
const DATABASE_WAIT: Duration = Duration::from_secs(3);

/// The storage, as readiness asks of it.
pub trait Health: Send + Sync + 'static {
    /// Whether the database answers now (`OpLog::ping`).
    fn database(&self) -> Result<(), StorageError>;
}

impl<A: AccountStore, L: OpLog> Health for Service<A, L> {
    fn database(&self) -> Result<(), StorageError> {
        self.log().ping()
    }
}

/// What the monitoring endpoints need, handed to the router once (and to each request behind
/// an `Arc`).
pub struct Monitoring {
    pub metrics: Arc<Metrics>,
    pub health: Arc<dyn Health>,
    /// The folder whose free space is checked (`--data-dir`).
    pub data_dir: PathBuf,
    pub min_free_bytes: u64,
}

/// One check of `/readyz`, with why it failed in zh-CN and English.
#[derive(Debug, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Check {
    fn passed(check: &'static str) -> Check {
        Check {
            check,
            ok: true,
            zh: None,
            en: None,
        }
    }

    fn failed(check: &'static str, zh: String, en: String) -> Check {
        tracing::warn!(check, "not ready");
        Check {
            check,
            ok: false,
            zh: Some(zh),
            en: Some(en),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub checks: Vec<Check>,
}

/// Bytes free to an unprivileged writer on the filesystem holding `dir`; `None` where the
/// platform cannot tell (the check then passes).
#[cfg(unix)]
fn free_bytes(dir: &std::path::Path) -> std::io::Result<Option<u64>> {
    let s = rustix::fs::statvfs(dir)?;
    Ok(Some(s.f_bavail.saturating_mul(s.f_frsize)))
}

#[cfg(not(unix))]
fn free_bytes(_: &std::path::Path) -> std::io::Result<Option<u64>> {
    Ok(None)
}

fn check_disk(dir: &std::path::Path, min_free_bytes: u64) -> Check {
    let mb = |b: u64| b >> 20;
    match free_bytes(dir) {
        Ok(Some(free)) if free < min_free_bytes => Check::failed(
            "disk",
            format!(
                "数据目录所在磁盘剩余空间不足：剩余 {} MB，下限 {} MB",
                mb(free),
                mb(min_free_bytes)
            ),
            format!(
                "too little free space for the data folder: {} MiB free, at least {} MiB needed",
                mb(free),
                mb(min_free_bytes)
            ),
        ),
        Ok(_) => Check::passed("disk"),
        Err(_) => Check::failed(
            "disk",
            "无法读取数据目录所在磁盘的剩余空间".into(),
            "cannot read the free space of the data folder's disk".into(),
        ),
    }
}

fn database_failed() -> Check {
    Check::failed(
        "database",
        "数据库无法访问".into(),
        "the database cannot be reached".into(),
    )
}

async fn check_database(health: Arc<dyn Health>) -> Check {
    let asked = tokio::task::spawn_blocking(move || health.database());
    match tokio::time::timeout(DATABASE_WAIT, asked).await {
        Ok(Ok(Ok(()))) => Check::passed("database"),
        Ok(Ok(Err(e))) => {
            // The error's kind and code only (`StorageError` never keeps a database's text).
            tracing::warn!(cause = %e, "readiness: database");
            database_failed()
        }
        _ => database_failed(),
    }
}

async fn check_photos(backend: Arc<dyn Backend>) -> Check {
    let probed = tokio::task::spawn_blocking(move || backend.blobs().check_writable()).await;
    match probed {
        Ok(Ok(())) => Check::passed("photos"),
        _ => Check::failed(
            "photos",
            "照片目录无法写入".into(),
            "the photo folder cannot be written to".into(),
        ),
    }
}

/// Every check, in a fixed order.
pub async fn readiness(backend: Arc<dyn Backend>, m: &Monitoring) -> Readiness {
    let (dir, floor) = (m.data_dir.clone(), m.min_free_bytes);
    let disk = tokio::task::spawn_blocking(move || check_disk(&dir, floor));
    let (database, photos, disk) = tokio::join!(
        check_database(m.health.clone()),
        check_photos(backend),
        disk
    );
    let disk = disk.unwrap_or_else(|_| {
        Check::failed(
            "disk",
            "无法读取数据目录所在磁盘的剩余空间".into(),
            "cannot read the free space of the data folder's disk".into(),
        )
    });
    let checks = vec![database, disk, photos];
    Readiness {
        ready: checks.iter().all(|c| c.ok),
        checks,
    }
}

/// `GET /readyz`: 200 when every check passes, else 503; the body says which.
pub async fn readyz(
    State(backend): State<Arc<dyn Backend>>,
    Extension(m): Extension<Arc<Monitoring>>,
) -> Response {
    let r = readiness(backend, &m).await;
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(r)).into_response()
}

/// `GET /metrics`: every metric, the photo uploads under way counted now.
pub async fn metrics(
    State(backend): State<Arc<dyn Backend>>,
    Extension(m): Extension<Arc<Monitoring>>,
) -> Response {
    let pending = tokio::task::spawn_blocking(move || backend.blobs().pending_bytes())
        .await
        .unwrap_or(0);
    match m.metrics.render(pending) {
        Ok(text) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_disk_below_the_floor_fails_and_says_by_how_much() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_disk(dir.path(), 0).ok);
        let c = check_disk(dir.path(), u64::MAX);
        assert!(!c.ok);
        assert!(c.zh.unwrap().contains("下限"));
        assert!(c.en.unwrap().contains("MiB free"));
    }
}
