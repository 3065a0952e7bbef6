//! What `/metrics` tells a county's Prometheus, in the OpenMetrics text format (the Prometheus
//! project's own client, `prometheus-client`): requests by route and status, push and pull
//! latency, ops stored and refused (by the refusal's code), sign-in lock-outs, and the photo
//! bytes of uploads still arriving. Labels only ever hold values from small fixed sets: a
//! route's pattern (`/v1/photos/{hash}`, never a photo's hash or a record's id), a method, a
//! status, an error code; never a user, device, address or anything a person typed, so that
//! neither a label nor the number of series can grow with the data or leak it.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use gridpatrol_core::sync::protocol::{routes, PushOutcome, PushResult};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

/// The content type of what `render` writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route label of a request no route matched: one label for every unknown path.
pub const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// The server's metrics, shared by every request; one per process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    push_seconds: Histogram,
    pull_seconds: Histogram,
    ops_stored: Counter,
    ops_duplicate: Counter,
    ops_refused: Family<ReasonLabels, Counter>,
    lockouts: Family<RouteLabels, Counter>,
    photo_pending: Gauge,
}

/// From 5 ms to about 20 s: a push or pull over a weak mobile link can take seconds.
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "gridpatrol_http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        let push_seconds = latency_buckets();
        registry.register_with_unit(
            "gridpatrol_push_duration",
            "Time to answer a push (POST /v1/push), body read included",
            Unit::Seconds,
            push_seconds.clone(),
        );
        let pull_seconds = latency_buckets();
        registry.register_with_unit(
            "gridpatrol_pull_duration",
            "Time to answer a pull (GET /v1/pull)",
            Unit::Seconds,
            pull_seconds.clone(),
        );
        let ops_stored = Counter::default();
        registry.register(
            "gridpatrol_ops_stored",
            "Pushed ops stored in the log",
            ops_stored.clone(),
        );
        let ops_duplicate = Counter::default();
        registry.register(
            "gridpatrol_ops_duplicate",
            "Pushed ops the log already held (a device sending again)",
            ops_duplicate.clone(),
        );
        let ops_refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "gridpatrol_ops_refused",
            "Pushed ops refused, by the refusal's code",
            ops_refused.clone(),
        );
        let lockouts = Family::<RouteLabels, Counter>::default();
        registry.register(
            "gridpatrol_signin_lockouts",
            "Sign-ins and password changes held back for too many attempts, by route",
            lockouts.clone(),
        );
        let photo_pending = Gauge::default();
        registry.register_with_unit(
            "gridpatrol_photo_pending",
            "Bytes of photo uploads begun and not yet finished",
            Unit::Bytes,
            photo_pending.clone(),
        );
        Metrics {
            registry,
            requests,
            push_seconds,
            pull_seconds,
            ops_stored,
            ops_duplicate,
            ops_refused,
            lockouts,
            photo_pending,
        }
    }
}

/// A refusal's code as a label: the codes are the core's and the server's own (a fixed set),
/// but a label must stay small whatever a future code looks like.
fn reason_label(code: &str) -> String {
    let plain = code.len() <= 40
        && !code.is_empty()
        && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if plain { code } else { "other" }.to_string()
}

/// A method as a label: the ones the API and console use; anything else is one label.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::HEAD => "HEAD",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    /// Counts the answers to a push's ops.
    pub fn pushed(&self, results: &[PushResult]) {
        for r in results {
            match &r.outcome {
                PushOutcome::Applied => self.ops_stored.inc(),
                PushOutcome::Duplicate => self.ops_duplicate.inc(),
                PushOutcome::Refused { code, .. } => self
                    .ops_refused
                    .get_or_create(&ReasonLabels {
                        reason: reason_label(code),
                    })
                    .inc(),
            };
        }
    }

    /// Every metric as text, with `photo_pending_bytes` as the photo store holds now.
    pub fn render(&self, photo_pending_bytes: u64) -> Result<String, std::fmt::Error> {
        self.photo_pending
            .set(i64::try_from(photo_pending_bytes).unwrap_or(i64::MAX));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    fn answered(&self, method: &Method, route: &str, status: StatusCode, started: Instant) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method_label(method),
                route: route.to_string(),
                status: status.as_u16(),
            })
            .inc();
        let seconds = started.elapsed().as_secs_f64();
        match route {
            routes::PUSH => self.push_seconds.observe(seconds),
            routes::PULL => self.pull_seconds.observe(seconds),
            _ => {}
        }
        // A 429 is only ever sent by sign-in's limits (`signin::within`): a phone's or a
        // browser's sign-in, or a password change, held back.
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.lockouts
                .get_or_create(&RouteLabels {
                    route: route.to_string(),
                })
                .inc();
        }
    }
}

/// Counts each request once it is answered, under its route's pattern.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED.to_string(), |p| p.as_str().to_string());
    let res = next.run(req).await;
    metrics.answered(&method, &route, res.status(), started);
    res
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_within_small_sets() {
        assert_eq!(reason_label("out_of_scope"), "out_of_scope");
        assert_eq!(reason_label("灭火器"), "other");
        assert_eq!(reason_label(&"a".repeat(41)), "other");
        assert_eq!(reason_label(""), "other");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }

    #[test]
    fn the_text_names_every_metric() {
        let m = Metrics::default();
        m.answered(&Method::POST, routes::PUSH, StatusCode::OK, Instant::now());
        m.answered(
            &Method::POST,
            routes::LOGIN,
            StatusCode::TOO_MANY_REQUESTS,
            Instant::now(),
        );
        let text = m.render(1234).unwrap();
        for line in [
            "# TYPE gridpatrol_http_requests counter",
            "gridpatrol_push_duration_seconds_count 1",
            "gridpatrol_pull_duration_seconds_count 0",
            "gridpatrol_ops_stored_total 0",
            "gridpatrol_photo_pending_bytes 1234",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(text.contains(&format!(
            "gridpatrol_signin_lockouts_total{{route=\"{}\"}} 1",
            routes::LOGIN
        )));
    }
}
