//! Automerge's side of the wire: an HTTP server on loopback holding one document and one
//! `sync::State` per peer, written the way a user of Automerge would write it. `POST
//! /sync/{peer}` takes an encoded sync message (or an empty body when the peer has nothing to
//! say), applies it, and answers with the server's next message for that peer, or 204 when it has
//! none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use automerge::sync::{Message, State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State as Extract};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

#[derive(Default)]
struct Hub {
    doc: AutoCommit,
    peers: HashMap<String, State>,
}

type Shared = Arc<Mutex<Hub>>;

/// A running server; dropping it stops it.
pub(crate) struct Server {
    url: String,
    hub: Shared,
    // Held for its worker threads; dropped (in the background) with the server.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// Starts on a fresh loopback port with an empty document.
    pub(crate) fn start() -> Self {
        let hub = Shared::default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("build the server's runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind a loopback port");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the listener's address")
        );
        let app = Router::new()
            .route("/sync/{peer}", post(sync))
            // A first sync carries the whole document in one message: no cap on its size.
            .layer(DefaultBodyLimit::disable())
            .with_state(hub.clone());
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            hub,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:port`
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn heads(&self) -> Vec<ChangeHash> {
        self.hub.lock().expect("the hub's lock").doc.get_heads()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Not `drop`: that waits for the accept loop, which never ends on its own.
            runtime.shutdown_background();
        }
    }
}

async fn sync(Extract(hub): Extract<Shared>, Path(peer): Path<String>, body: Bytes) -> Response {
    // The whole exchange is CPU work on one document; a plain lock held without awaiting.
    let mut hub = hub.lock().expect("the hub's lock");
    let Hub { doc, peers } = &mut *hub;
    let state = peers.entry(peer).or_insert_with(State::new);
    if !body.is_empty() {
        let message = match Message::decode(&body) {
            Ok(m) => m,
            Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        };
        if let Err(e) = doc.sync().receive_sync_message(state, message) {
            return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response();
        }
    }
    let reply = doc.sync().generate_sync_message(state);
    match reply {
        Some(reply) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            reply.encode(),
        )
            .into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}
