//! A time-bounded cache for hot lookups (credentials, roles, bots, a bot's commands), on `moka`:
//! bounded in size (moka keeps the entries used most), each entry living at most `ttl` — or
//! less, until a time of its own (a session's expiry).
//!
//! Whoever changes the underlying data removes the affected entries (on this node directly, on
//! other nodes through change notifications). A reader that loads from the database takes the
//! cache's epoch first and stores its result only if nothing was removed meanwhile, so a slow read
//! cannot put back data that a concurrent change made stale.

use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache;

/// A cached value and when it stops being valid.
#[derive(Clone)]
struct Entry<V> {
    value: V,
    until: Instant,
}

struct Until;

impl<K, V> Expiry<K, Entry<V>> for Until {
    fn expire_after_create(&self, _key: &K, entry: &Entry<V>, created_at: Instant) -> Option<Duration> {
        Some(entry.until.saturating_duration_since(created_at))
    }
}

pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Cache<K, Entry<V>>,
    epoch: AtomicU64,
    /// Held while inserting or removing, so an insert cannot slip between a removal and its epoch.
    writing: Mutex<()>,
}

impl<K, V> TtlCache<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        let entries = Cache::builder()
            .max_capacity(capacity as u64)
            .expire_after(Until)
            .support_invalidation_closures()
            .build();
        Self { ttl, entries, epoch: AtomicU64::new(0), writing: Mutex::new(()) }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        self.entries.get(key).filter(|e| e.until > Instant::now()).map(|e| e.value)
    }

    /// Take this before loading what you will [`insert`](Self::insert).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Stores values loaded since `epoch`, unless something was removed meanwhile.
    pub fn insert(&self, epoch: u64, pairs: impl IntoIterator<Item = (K, V)>) {
        let until = Instant::now() + self.ttl;
        self.insert_until(epoch, pairs.into_iter().map(|(k, v)| (k, v, until)));
    }

    /// Like [`insert`](Self::insert), each value valid until its own time (at most the ttl).
    pub fn insert_until(&self, epoch: u64, entries: impl IntoIterator<Item = (K, V, Instant)>) {
        if self.ttl.is_zero() {
            return;
        }
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        let latest = Instant::now() + self.ttl;
        for (key, value, until) in entries {
            self.entries.insert(key, Entry { value, until: until.min(latest) });
        }
    }

    /// Removes every entry for which `stale` is true.
    pub fn remove_where(&self, stale: impl Fn(&K, &V) -> bool + Send + Sync + 'static) {
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        // Entries matching are no longer returned from here on (moka drops them lazily).
        let _ = self.entries.invalidate_entries_if(move |k, e| stale(k, &e.value));
    }

    pub fn clear(&self) {
        let _writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_invalidates_and_refuses_stale_loads() {
        let cache = TtlCache::new(Duration::from_millis(200), 10);
        cache.insert(cache.epoch(), [("a", 1), ("b", 2)]);
        assert_eq!(cache.get(&"a"), Some(1));
        let before_change = cache.epoch();
        cache.remove_where(|k, _| *k == "a");
        assert_eq!(cache.get(&"a"), None);
        cache.insert(before_change, [("a", 1)]);
        assert_eq!(cache.get(&"a"), None, "a load that raced a change is not kept");
        cache.insert_until(cache.epoch(), [("c", 3, Instant::now() + Duration::from_millis(20))]);
        assert_eq!(cache.get(&"c"), Some(3));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&"c"), None, "an entry ends at its own time");
        assert_eq!(cache.get(&"b"), Some(2));
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(cache.get(&"b"), None);
    }

    #[test]
    fn stays_within_its_capacity() {
        let cache = TtlCache::new(Duration::from_secs(60), 100);
        for i in 0..1000 {
            cache.insert(cache.epoch(), [(i, i)]);
        }
        cache.entries.run_pending_tasks();
        assert!(cache.entries.entry_count() <= 100, "{}", cache.entries.entry_count());
    }
}
