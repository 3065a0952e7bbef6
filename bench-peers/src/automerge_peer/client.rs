//! A device's side of the wire: its document, its `sync::State` for the server, and the sync loop
//! over blocking HTTP.

use automerge::sync::{Message, State, SyncDoc};
use automerge::AutoCommit;

/// More round trips than any sync here takes; reaching it means the loop would not end.
const MAX_ROUNDS: usize = 1_000;

pub(crate) struct Device {
    pub(crate) doc: AutoCommit,
    // Kept in memory between syncs, as the server keeps its state for this device.
    state: State,
    url: String,
    http: reqwest::blocking::Client,
}

impl Device {
    /// `server` is where the device talks (the counting proxy); `peer` names it to the server.
    pub(crate) fn new(doc: AutoCommit, server: &str, peer: &str) -> Self {
        let http = reqwest::blocking::Client::builder()
            // A first sync of a large document can take longer than reqwest's default 30 s.
            .timeout(None)
            .build()
            .expect("build the HTTP client");
        Self {
            doc,
            state: State::new(),
            url: format!("{server}/sync/{peer}"),
            http,
        }
    }

    /// Syncs with the server until neither side has anything to send; returns the round trips.
    ///
    /// The first request always goes, even empty: the server may hold changes for this device
    /// when the device itself has nothing new. After that, the loop ends when the server's reply
    /// was empty and the device has nothing to send: the server's state for this device has not
    /// moved since it said nothing, so asking again would only bring another empty reply.
    pub(crate) fn sync(&mut self) -> usize {
        let mut outgoing = self.doc.sync().generate_sync_message(&mut self.state);
        for round in 1..=MAX_ROUNDS {
            let reply = self.post(outgoing);
            let replied = reply.is_some();
            if let Some(message) = reply {
                self.doc
                    .sync()
                    .receive_sync_message(&mut self.state, message)
                    .expect("apply the server's sync message");
            }
            outgoing = self.doc.sync().generate_sync_message(&mut self.state);
            if !replied && outgoing.is_none() {
                return round;
            }
        }
        panic!(
            "sync with {} did not settle in {MAX_ROUNDS} round trips",
            self.url
        );
    }

    fn post(&self, message: Option<Message>) -> Option<Message> {
        let body = message.map(Message::encode).unwrap_or_default();
        let response = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .expect("reach the Automerge server");
        let status = response.status();
        let bytes = response.bytes().expect("read the server's reply");
        assert!(
            status.is_success(),
            "the Automerge server answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
        (!bytes.is_empty()).then(|| Message::decode(&bytes).expect("decode the server's reply"))
    }
}
