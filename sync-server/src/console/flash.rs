//! What a refused form leaves for the page it redirects to. A refused POST is answered with a
//! redirect (post/redirect/get), so Back and Reload show the page again instead of the
//! browser's "confirm form resubmission" or ERR_CACHE_MISS; the reason and what was typed wait
//! here under a random key, for the same sign-in only, for a few minutes. Kept in memory: a
//! key that reaches another instance, or outlives a restart, shows the page without the note,
//! and nothing recorded depends on it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a note waits for its page.
const KEEP: Duration = Duration::from_secs(10 * 60);

struct Note<T> {
    owner: String,
    at: Instant,
    value: T,
}

/// Notes of one kind, keyed by a random id, at most `most` at once (the oldest go first).
pub(crate) struct Flash<T> {
    notes: OnceLock<Mutex<HashMap<String, Note<T>>>>,
    most: usize,
}

impl<T: Clone> Flash<T> {
    pub(crate) const fn new(most: usize) -> Self {
        Flash {
            notes: OnceLock::new(),
            most,
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Note<T>>> {
        self.notes
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Leaves `value` for `owner` (a sign-in's CSRF key, or what else only the rightful
    /// reader can name); returns the key to fetch it by.
    pub(crate) fn put(&self, owner: &str, value: T) -> String {
        let key = uuid::Uuid::new_v4().simple().to_string();
        let mut map = self.map();
        map.retain(|_, n| n.at.elapsed() < KEEP);
        if map.len() >= self.most {
            if let Some(oldest) = map.iter().min_by_key(|(_, n)| n.at).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(
            key.clone(),
            Note {
                owner: owner.to_string(),
                at: Instant::now(),
                value,
            },
        );
        key
    }

    /// The note under `key`, if it is `owner`'s and still fresh (kept for a Reload).
    pub(crate) fn get(&self, owner: &str, key: &str) -> Option<T> {
        self.map()
            .get(key)
            .filter(|n| n.owner == owner && n.at.elapsed() < KEEP)
            .map(|n| n.value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_its_owners_only() {
        static F: Flash<String> = Flash::new(10);
        let k = F.put("a", "typed".into());
        assert_eq!(F.get("a", &k).as_deref(), Some("typed"));
        assert_eq!(
            F.get("a", &k).as_deref(),
            Some("typed"),
            "kept for a Reload"
        );
        assert_eq!(F.get("b", &k), None);
        assert_eq!(F.get("a", "nope"), None);
    }

    #[test]
    fn the_oldest_note_goes_when_full() {
        static F: Flash<u8> = Flash::new(2);
        let first = F.put("a", 1);
        let second = F.put("a", 2);
        let third = F.put("a", 3);
        assert_eq!(F.get("a", &first), None);
        assert_eq!(F.get("a", &second), Some(2));
        assert_eq!(F.get("a", &third), Some(3));
    }
}
