//! A small time-bounded cache for hot lookups (credentials, roles, bots).
//!
//! Entries live at most `ttl`. Whoever changes the underlying data removes the affected entries
//! (on this node directly, on other nodes through change notifications). A reader that loads from
//! the database takes the cache's epoch first and stores its result only if nothing was removed
//! meanwhile, so a slow read cannot put back data that a concurrent change made stale.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (V, Instant)>>,
    epoch: AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity, entries: Mutex::new(HashMap::new()), epoch: AtomicU64::new(0) }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|(_, at)| at.elapsed() < self.ttl).map(|(v, _)| v.clone())
    }

    /// Take this before loading what you will [`insert`](Self::insert).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Stores values loaded since `epoch`, unless something was removed meanwhile.
    pub fn insert(&self, epoch: u64, pairs: impl IntoIterator<Item = (K, V)>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        let now = Instant::now();
        for (key, value) in pairs {
            entries.insert(key, (value, now));
        }
    }

    /// Removes every entry for which `stale` is true.
    pub fn remove_where(&self, stale: impl Fn(&K, &V) -> bool) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.retain(|k, (v, _)| !stale(k, v));
    }

    pub fn clear(&self) {
        self.remove_where(|_, _| true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_invalidates_and_refuses_stale_loads() {
        let cache = TtlCache::new(Duration::from_millis(50), 10);
        cache.insert(cache.epoch(), [("a", 1), ("b", 2)]);
        assert_eq!(cache.get(&"a"), Some(1));
        let before_change = cache.epoch();
        cache.remove_where(|k, _| *k == "a");
        assert_eq!(cache.get(&"a"), None);
        cache.insert(before_change, [("a", 1)]);
        assert_eq!(cache.get(&"a"), None, "a load that raced a change is not kept");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&"b"), None);
    }
}
