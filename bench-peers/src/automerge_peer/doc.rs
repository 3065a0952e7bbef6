//! Our records as one Automerge document, the way a user of Automerge would lay them out: the
//! root map keyed by record id, one map per record, nested JSON as nested maps and lists,
//! strings as plain string scalars (not collaborative Text objects). Owns building device A's
//! document, the W3 edits, and reading back conflicts and content.

use std::collections::HashMap;

use automerge::transaction::Transactable;
use automerge::{
    hydrate, AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value as AmValue, ROOT,
};
use serde_json::{Map, Value};

/// Records per change while device A builds its document offline: the batches of 1,000.
pub(crate) const BATCH: usize = 1_000;

pub(crate) type Record = Map<String, Value>;

pub(crate) fn record_id(record: &Record) -> &str {
    record
        .get("id")
        .and_then(Value::as_str)
        .expect("every record has a string \"id\"")
}

/// Device A's document made offline: every record put under its id, committed every [`BATCH`]
/// records and once more for the tail.
pub(crate) fn build(records: &[Record]) -> AutoCommit {
    let mut doc = AutoCommit::new();
    for (i, record) in records.iter().enumerate() {
        // The whole record in one call: Automerge's batch path for a new object tree, the same
        // ops as a put per field at a fifth of the time (this set-up is not timed, but a
        // 50,000-record run waits for it).
        doc.batch_create_object(ROOT, record_id(record), &hydrated_map(record), false)
            .expect("put a record's map");
        if (i + 1) % BATCH == 0 {
            doc.commit();
        }
    }
    // The tail after the last full batch; commits nothing when there is none.
    doc.commit();
    doc
}

/// Sets the `edit(i, side)` fields of each of the first `edited` records, then commits once, like
/// a phone that saved its edits offline. Returns the names of the fields set on each record.
pub(crate) fn edit(
    doc: &mut AutoCommit,
    records: &[Record],
    edited: usize,
    side: &str,
    edit: &super::Edit,
) -> Vec<Vec<String>> {
    let mut fields = Vec::with_capacity(edited);
    for (i, record) in records.iter().take(edited).enumerate() {
        let obj = record_obj(doc, record_id(record));
        let set = edit(i, side);
        for (key, value) in &set {
            put(doc, &obj, key, value);
        }
        fields.push(set.into_iter().map(|(key, _)| key).collect());
    }
    doc.commit();
    fields
}

/// How many of the named fields hold more than one value (a conflict the reader can see).
pub(crate) fn conflicts(doc: &AutoCommit, records: &[Record], fields: &[Vec<String>]) -> usize {
    let mut n = 0;
    for (record, names) in records.iter().zip(fields) {
        let obj = record_obj(doc, record_id(record));
        for name in names {
            let values = doc.get_all(&obj, name.as_str()).expect("read a field");
            if values.len() > 1 {
                n += 1;
            }
        }
    }
    n
}

/// Number of records in the document (keys of the root map).
pub(crate) fn len(doc: &AutoCommit) -> usize {
    doc.length(ROOT)
}

/// The whole document as a plain value, to compare two replicas' content.
pub(crate) fn content(doc: &AutoCommit) -> automerge::hydrate::Value {
    doc.hydrate(ROOT, None).expect("hydrate the document")
}

fn record_obj(doc: &AutoCommit, id: &str) -> ObjId {
    match doc.get(ROOT, id).expect("read the root map") {
        Some((AmValue::Object(ObjType::Map), obj)) => obj,
        other => panic!("record {id} is not a map in the document: {other:?}"),
    }
}

/// Puts `value` at a map key: a scalar as a scalar, a nested value as a new object tree.
fn put(doc: &mut AutoCommit, obj: &ObjId, key: &str, value: &Value) {
    match value {
        Value::Object(_) | Value::Array(_) => {
            doc.batch_create_object(obj, key, &hydrated(value), false)
                .expect("put a nested value");
        }
        scalar => doc.put(obj, key, scalar_of(scalar)).expect("put a scalar"),
    }
}

fn hydrated(value: &Value) -> hydrate::Value {
    match value {
        Value::Object(fields) => hydrated_map(fields),
        Value::Array(items) => {
            hydrate::Value::List(items.iter().map(hydrated).collect::<Vec<_>>().into())
        }
        scalar => hydrate::Value::Scalar(scalar_of(scalar)),
    }
}

fn hydrated_map(fields: &Map<String, Value>) -> hydrate::Value {
    let map: HashMap<String, hydrate::Value> = fields
        .iter()
        .map(|(key, value)| (key.clone(), hydrated(value)))
        .collect();
    hydrate::Value::Map(map.into())
}

/// Strings become string scalars, not Text objects: our fields are replaced whole, never edited
/// character by character.
fn scalar_of(value: &Value) -> ScalarValue {
    match value {
        Value::Null => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                ScalarValue::Int(i)
            } else if let Some(u) = n.as_u64() {
                ScalarValue::Uint(u)
            } else {
                ScalarValue::F64(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => ScalarValue::Str(s.as_str().into()),
        Value::Array(_) | Value::Object(_) => unreachable!("nested values are put as objects"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_is_a_map_of_plain_scalars_with_nested_values_as_objects() {
        let Value::Object(record) = json!({
            "id": "r1", "n": -3, "big": u64::MAX, "x": 1.5, "ok": true, "none": null,
            "photos": ["p.jpg", {"w": 640}], "place": {"name": "店"},
        }) else {
            unreachable!()
        };
        let doc = build(std::slice::from_ref(&record));
        let obj = record_obj(&doc, "r1");
        let scalar = |key: &str| match doc.get(&obj, key).unwrap() {
            Some((AmValue::Scalar(s), _)) => s.into_owned(),
            other => panic!("{key}: {other:?}"),
        };
        assert_eq!(scalar("id"), ScalarValue::Str("r1".into()));
        assert_eq!(scalar("n"), ScalarValue::Int(-3));
        assert_eq!(scalar("big"), ScalarValue::Uint(u64::MAX));
        assert_eq!(scalar("x"), ScalarValue::F64(1.5));
        assert_eq!(scalar("ok"), ScalarValue::Boolean(true));
        assert_eq!(scalar("none"), ScalarValue::Null);
        let kind = |key: &str| doc.get(&obj, key).unwrap().map(|(v, _)| v.to_owned());
        assert_eq!(kind("photos"), Some(AmValue::Object(ObjType::List)));
        assert_eq!(kind("place"), Some(AmValue::Object(ObjType::Map)));
        assert_eq!(len(&doc), 1);
        assert!(content(&doc) == hydrated_map(&Map::from_iter([("r1".into(), record.into())])));
    }
}
