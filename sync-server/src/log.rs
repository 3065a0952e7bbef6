//! The server's log, through `tracing` on standard error: one line per request (method, route
//! pattern, status, milliseconds, and the user once signed in), warnings for refused ops and
//! sign-in lock-outs, errors for storage failures with their kind. Never a password, token,
//! phone number, place, coordinate or text a person typed: a route is logged by its pattern
//! (`/v1/photos/{hash}`), and an op by its kind and the code of its refusal, never its body.
//! `--log-format json` writes one JSON object per line for a county's log collector.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The least severe lines written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
}

/// Starts logging to standard error.
pub fn init(format: LogFormat, level: LogLevel) {
    let level = match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false);
    // A second init (tests starting servers in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Who made a request, filled in by the handler once the token is known.
#[derive(Clone, Default)]
pub struct RequestUser(Arc<Mutex<Option<String>>>);

impl RequestUser {
    pub fn set(&self, user_id: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(user_id.to_string());
    }
}

/// Logs one line per request once it is answered.
pub async fn requests(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)".to_string(), |p| p.as_str().to_string());
    let user = RequestUser::default();
    req.extensions_mut().insert(user.clone());
    let res = next.run(req).await;
    // Tenths of a millisecond are as fine as a request's time means anything here.
    let ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
    let user = user.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    let status = res.status().as_u16();
    let user = user.as_deref().unwrap_or("-");
    if status >= 500 {
        tracing::error!(%method, route, status, ms, user, "request");
    } else {
        tracing::info!(%method, route, status, ms, user, "request");
    }
    res
}
