//! Automerge 0.12 as a peer in the sync benchmark, in the words: one document, one map
//! per record, committed in batches of 1,000, its sync protocol over HTTP on loopback. Owns the
//! three timed phases (W1 push, W2 bootstrap, W3 concurrent edits) and their figures; the
//! document layout is in [`doc`], the server in [`server`], the device's sync loop in [`client`].

mod client;
mod doc;
mod server;

use automerge::AutoCommit;
use serde_json::{Map, Value};

use crate::proxy::{counting_proxy, measure};
use client::Device;
use server::Server;

/// What one Automerge run measured. Bytes are everything on the wire through the counting
/// proxy, HTTP headers included.
#[derive(Clone, Debug)]
pub struct AutomergeFigures {
    /// Device A's offline records pushed to an empty server.
    pub w1_secs: f64,
    pub w1_bytes: u64,
    /// A fresh device B syncs everything from the server.
    pub w2_secs: f64,
    pub w2_bytes: u64,
    /// The edited records edited on A and on B concurrently offline, then sync A, B, A.
    pub w3_secs: f64,
    pub w3_bytes: u64,
    /// Size of device A's saved document (`save()`) after W1: what a phone keeps on disk.
    pub device_bytes_after_w1: u64,
    /// Fields holding more than one value (`get_all`) on A after W3.
    pub conflicts_after_w3: usize,
    /// HTTP round trips of W1, W2 and W3 (W3's three syncs added up).
    pub round_trips: [usize; 3],
}

/// The W3 edits: `edit(i, side)` gives the `(field, value)` pairs set on record `i` on device
/// `side` (`"A"` or `"B"`).
pub type Edit = dyn Fn(usize, &str) -> Vec<(String, Value)>;

/// Runs Automerge through W1, W2 and W3 over `records` (JSON objects, each with a string `"id"`)
/// against its own server behind its own counting proxy. For W3, `edit(i, "A")` and
/// `edit(i, "B")` give the fields set on record `i` (for `i` in `0..edited`) on each device.
///
/// Panics if a phase fails or if, after W3, A, B and the server do not hold the same heads and A
/// and B the same content.
pub fn run_automerge(
    records: &[Map<String, Value>],
    edited: usize,
    edit: &Edit,
) -> AutomergeFigures {
    assert!(
        edited <= records.len(),
        "cannot edit more records than there are"
    );
    let server = Server::start();
    let (proxy, counter) = counting_proxy(server.url());

    let mut a = Device::new(doc::build(records), &proxy, "a");
    let mut rounds_w1 = 0;
    let w1 = measure(&counter, || rounds_w1 = a.sync());
    assert_eq!(
        server.heads(),
        a.doc.get_heads(),
        "W1 brought A's document to the server"
    );
    let device_bytes_after_w1 = a.doc.save().len() as u64;

    let mut b = Device::new(AutoCommit::new(), &proxy, "b");
    let mut rounds_w2 = 0;
    let w2 = measure(&counter, || rounds_w2 = b.sync());
    assert_eq!(
        b.doc.get_heads(),
        a.doc.get_heads(),
        "W2 brought the document to B"
    );
    assert_eq!(doc::len(&b.doc), doc::len(&a.doc), "B holds every record");

    let on_a = doc::edit(&mut a.doc, records, edited, "A", edit);
    let on_b = doc::edit(&mut b.doc, records, edited, "B", edit);
    let mut rounds_w3 = 0;
    let w3 = measure(&counter, || rounds_w3 = a.sync() + b.sync() + a.sync());

    let heads = a.doc.get_heads();
    assert_eq!(b.doc.get_heads(), heads, "A and B converged");
    assert_eq!(server.heads(), heads, "the server converged with them");
    assert!(
        doc::content(&a.doc) == doc::content(&b.doc),
        "A and B hold the same content"
    );
    let fields: Vec<Vec<String>> = on_a
        .into_iter()
        .zip(on_b)
        .map(|(mut names, more)| {
            for name in more {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            names
        })
        .collect();
    let conflicts_after_w3 = doc::conflicts(&a.doc, records, &fields);

    AutomergeFigures {
        w1_secs: w1.secs,
        w1_bytes: w1.bytes,
        w2_secs: w2.secs,
        w2_bytes: w2.bytes,
        w3_secs: w3.secs,
        w3_bytes: w3.bytes,
        device_bytes_after_w1,
        conflicts_after_w3,
        round_trips: [rounds_w1, rounds_w2, rounds_w3],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records(n: usize) -> Vec<Map<String, Value>> {
        (0..n)
            .map(|i| {
                let Value::Object(map) = json!({"id": format!("r{i}"), "n": i, "tags": ["a"]})
                else {
                    unreachable!()
                };
                map
            })
            .collect()
    }

    #[test]
    fn a_device_with_nothing_new_still_receives_what_the_server_got_since() {
        let server = Server::start();
        let recs = records(3);
        let mut a = Device::new(doc::build(&recs), server.url(), "a");
        a.sync();
        // Up to date: one request, one empty reply.
        assert_eq!(a.sync(), 1);

        let mut b = Device::new(AutoCommit::new(), server.url(), "b");
        b.sync();
        let edit = |_: usize, _: &str| vec![("n".to_string(), json!("changed on B"))];
        doc::edit(&mut b.doc, &recs, 1, "B", &edit);
        b.sync();

        // A has made nothing since its last sync, yet its first (empty) request brings B's edit.
        a.sync();
        assert_eq!(a.doc.get_heads(), server.heads());
        assert_eq!(a.doc.get_heads(), b.doc.get_heads());
        assert!(doc::content(&a.doc) == doc::content(&b.doc));
        assert_eq!(doc::conflicts(&a.doc, &recs, &[vec!["n".to_string()]]), 0);
    }
}
