//! The HTTP API under `/v1/`: JSON in and out, gzip either way, a body limit, and every error a
//! JSON body with a code and zh-CN and English messages. Handlers hand the blocking storage
//! work to tokio's blocking pool.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::FromRequestParts;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use gridpatrol_core::sync::protocol::{
    routes, ChangePasswordRequest, LoginRequest, LoginResponse, PhotoReceived, PullResponse,
    PushRequest, PushResponse, SnapshotPage, PROTOCOL_VERSION,
};
use serde::Deserialize;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::backend::{ApiError, Backend, Session};
use crate::blobs::blob_name;
use crate::client::{ClientAddr, TrustedProxies};
use crate::health::{self, Monitoring};
use crate::log::RequestUser;
use crate::photos::Chunk;
use crate::serve;

type Shared = Arc<dyn Backend>;

fn from_json_rejection(r: JsonRejection) -> ApiError {
    let status = r.status().as_u16();
    if status == 413 {
        return ApiError::too_large();
    }
    // The rejection's text names fields and positions, never the values sent.
    ApiError {
        status: 400,
        ..ApiError::bad_request(&r.body_text().chars().take(200).collect::<String>())
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal())?
}

fn bearer(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or_else(ApiError::unauthorized)
}

/// The signed-in device a request comes from (`Authorization: Bearer <token>`), and its token.
/// Who it is goes into the request's log line.
pub struct Authed {
    pub session: Session,
    pub token: String,
}

impl FromRequestParts<Shared> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, b: &Shared) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers)?;
        let (b, t) = (b.clone(), token.clone());
        let session = blocking(move || b.authenticate(&t)).await?;
        if let Some(who) = parts.extensions.get::<RequestUser>() {
            who.set(&session.user.user_id);
        }
        Ok(Authed { session, token })
    }
}

async fn login(
    State(b): State<Shared>,
    ClientAddr(client): ClientAddr,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<LoginResponse>, ApiError> {
    let Json(req) = body.map_err(from_json_rejection)?;
    let res = blocking(move || {
        let token = b.login(&req.user_id, &req.password, req.device_id, client)?;
        let session = b.authenticate(&token)?;
        let must_change_password = b.must_change_password(&session.user.user_id)?;
        Ok(LoginResponse {
            token,
            user_id: session.user.user_id,
            role: session.user.role,
            server_time_ms: b.now_ms(),
            must_change_password,
            epoch: b.epoch()?,
        })
    })
    .await?;
    Ok(Json(res))
}

async fn change_password(
    State(b): State<Shared>,
    ClientAddr(client): ClientAddr,
    Authed { session, .. }: Authed,
    body: Result<Json<ChangePasswordRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(req) = body.map_err(from_json_rejection)?;
    blocking(move || {
        b.change_password(
            &session.user.user_id,
            &req.old_password,
            &req.new_password,
            client,
        )
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn logout(State(b): State<Shared>, authed: Authed) -> Result<StatusCode, ApiError> {
    let token = authed.token;
    blocking(move || b.revoke(&token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn push(
    State(b): State<Shared>,
    Extension(m): Extension<Arc<Monitoring>>,
    Authed { session, .. }: Authed,
    body: Result<Json<PushRequest>, JsonRejection>,
) -> Result<Json<PushResponse>, ApiError> {
    let Json(req) = body.map_err(from_json_rejection)?;
    if req.protocol != PROTOCOL_VERSION {
        return Err(ApiError::new(
            400,
            "protocol",
            "协议版本不支持，请升级应用",
            "unsupported protocol version; update the app",
        ));
    }
    if req.device_id != session.device_id {
        return Err(ApiError::new(
            403,
            "wrong_device",
            "只能上传本设备的操作",
            "a device may push only its own ops",
        ));
    }
    let results = blocking(move || {
        // Before anything else: ops acknowledged before a restore, which the device sends again
        // once it knows, must come before anything it made since (the log takes a device's
        // ops in sequence).
        let epoch = b.epoch()?;
        if req.epoch.is_some_and(|known| known != epoch) {
            return Err(ApiError::server_restored(epoch));
        }
        serve::judge_push(&req.ops, req.sent_at_ms, b.now_ms())?;
        let results = b.push(&session, req.ops)?;
        Ok(PushResponse {
            results,
            server_time_ms: b.now_ms(),
        })
    })
    .await?;
    m.metrics.pushed(&results.results);
    Ok(Json(results))
}

#[derive(Deserialize)]
pub struct PullQuery {
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

async fn pull(
    State(b): State<Shared>,
    Authed { session, .. }: Authed,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Query(q) = query.map_err(|_| ApiError::bad_request("query"))?;
    let res =
        blocking(move || b.pull(&session, q.cursor.as_deref(), q.limit.unwrap_or(1000))).await?;
    Ok(Json(res))
}

async fn snapshot(
    State(b): State<Shared>,
    Authed { session, .. }: Authed,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Result<Json<SnapshotPage>, ApiError> {
    let Query(q) = query.map_err(|_| ApiError::bad_request("query"))?;
    let res = blocking(move || b.snapshot(&session, q.cursor.as_deref(), q.limit.unwrap_or(1000)))
        .await?;
    Ok(Json(res))
}

/// Which file of a photo a request is about; a display copy or thumbnail names its own hash.
#[derive(Deserialize)]
pub struct VariantQuery {
    #[serde(default = "original")]
    pub variant: String,
    pub sha256: Option<String>,
    pub offset: Option<u64>,
    pub total: Option<u64>,
}

fn original() -> String {
    "original".into()
}

impl VariantQuery {
    fn name(&self, hash: &str) -> Result<String, ApiError> {
        match self.variant.as_str() {
            "original" | "display" | "thumb" => Ok(blob_name(hash, &self.variant)),
            _ => Err(ApiError::bad_request("variant")),
        }
    }

    /// What the whole file must hash to.
    fn expect(&self, hash: &str) -> Result<String, ApiError> {
        match (self.variant.as_str(), &self.sha256) {
            ("original", _) => Ok(hash.to_string()),
            (_, Some(h)) if gridpatrol_core::checklist::check_photo_ref(h).is_ok() => Ok(h.clone()),
            _ => Err(ApiError::bad_request("sha256")),
        }
    }
}

/// How much of a photo the server holds (the device resumes from there).
async fn photo_status(
    State(b): State<Shared>,
    Authed { session, .. }: Authed,
    Path(hash): Path<String>,
    query: Result<Query<VariantQuery>, QueryRejection>,
) -> Result<Json<PhotoReceived>, ApiError> {
    let Query(q) = query.map_err(|_| ApiError::bad_request("query"))?;
    let res = blocking(move || {
        q.name(&hash)?;
        b.photo_upload_status(&session, &hash, &q.variant)
    })
    .await?;
    Ok(Json(res))
}

/// One chunk of a photo, at the offset the server holds.
async fn photo_chunk(
    State(b): State<Shared>,
    Authed { session, .. }: Authed,
    Path(hash): Path<String>,
    query: Result<Query<VariantQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PhotoReceived>, ApiError> {
    let Query(q) = query.map_err(|_| ApiError::bad_request("offset and total"))?;
    let (Some(offset), Some(total)) = (q.offset, q.total) else {
        return Err(ApiError::bad_request("offset and total"));
    };
    let body = body.map_err(|r| {
        if r.status().as_u16() == 413 {
            ApiError::too_large()
        } else {
            ApiError::bad_request("body")
        }
    })?;
    let res = blocking(move || {
        q.name(&hash)?;
        let chunk = Chunk {
            variant: &q.variant,
            expect: &q.expect(&hash)?,
            offset,
            total,
            bytes: &body,
        };
        b.put_photo(&session, &hash, &chunk)
    })
    .await?;
    Ok(Json(res))
}

async fn photo_download(
    State(b): State<Shared>,
    Authed { session, .. }: Authed,
    Path(hash): Path<String>,
    query: Result<Query<VariantQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|_| ApiError::bad_request("query"))?;
    let bytes = blocking(move || {
        b.photo_access(&session, &hash)?;
        b.blobs().read(&q.name(&hash)?)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response())
}

async fn not_found() -> ApiError {
    ApiError::new(404, "not_found", "没有这个接口", "no such endpoint")
}

pub fn router(
    backend: Shared,
    max_body_bytes: usize,
    console: crate::console::Config,
    proxies: TrustedProxies,
    monitoring: Monitoring,
) -> Router {
    let metrics = monitoring.metrics.clone();
    Router::new()
        // For load balancers and monitoring (`health`): the process is up and serving; it can
        // do its work now; what it has done.
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route(routes::LOGIN, post(login))
        .route(routes::LOGOUT, post(logout))
        .route(routes::PASSWORD, post(change_password))
        .route(routes::PUSH, post(push))
        .route(routes::PULL, get(pull))
        .route(routes::SNAPSHOT, get(snapshot))
        .route(
            &routes::photo("{hash}"),
            get(photo_download).put(photo_chunk),
        )
        .route(
            &format!("{}/{}", routes::photo("{hash}"), routes::PHOTO_UPLOAD),
            get(photo_status),
        )
        .merge(crate::console::routes())
        .fallback(not_found)
        .layer(Extension(console))
        .layer(Extension(proxies))
        .layer(Extension(Arc::new(monitoring)))
        .layer(axum::middleware::from_fn(crate::log::requests))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        // No response is ever to be read as anything but what it says it is: a photo a phone
        // uploaded must not become a page in an officer's browser.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            header::HeaderValue::from_static("nosniff"),
        ))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(RequestDecompressionLayer::new())
        .layer(CompressionLayer::new())
        .with_state(backend)
}
