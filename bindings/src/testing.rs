//! What the unit tests of the FFI share: a demo store on the demo's fixed clock (2026-09-01)
//! in a folder of its own, and the code of a refusal.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::GridPatrolError;
use crate::records::DeviceConfig;
use crate::store::PatrolStore;

/// A demo store, its folder removed when dropped.
pub(crate) struct Demo {
    pub store: Arc<PatrolStore>,
    dir: PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.store.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn demo(name: &str) -> Demo {
    let dir = std::env::temp_dir().join(format!(
        "gridpatrol-ffi-{name}-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config = DeviceConfig {
        fixed_clock_ms: Some(gridpatrol_core::demo::START_MS),
    };
    let store = PatrolStore::open(dir.join("phone.db").display().to_string(), config).unwrap();
    store.load_demo().unwrap();
    Demo { store, dir }
}

/// The code of a `NotAllowed`; anything else fails the test.
pub(crate) fn refused(e: GridPatrolError) -> String {
    match e {
        GridPatrolError::NotAllowed { code, .. } => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}
