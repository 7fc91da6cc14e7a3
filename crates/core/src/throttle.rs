//! Throttling of repeated failures (sign-in attempts): after `max` failures of one key within
//! `window`, further attempts are refused until the window ends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use botyard_domain::{Error, Result};

pub struct FailureThrottle {
    max: u32,
    window: Duration,
    entries: Mutex<HashMap<String, (u32, Instant)>>,
}

impl FailureThrottle {
    pub fn new(max: u32, window: Duration) -> Self {
        Self { max: max.max(1), window, entries: Mutex::new(HashMap::new()) }
    }

    /// Refuses with `RateLimited` while the key is locked.
    pub fn check(&self, key: &str) -> Result<()> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((count, since)) = entries.get(key) {
            let elapsed = since.elapsed();
            if *count >= self.max && elapsed < self.window {
                let wait = (self.window - elapsed).as_secs().max(1);
                return Err(Error {
                    message: format!("Too many failed attempts, try again in {wait} seconds"),
                    ..Error::rate_limited(wait)
                });
            }
        }
        Ok(())
    }

    pub fn failure(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 100_000 {
            let window = self.window;
            entries.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = entries.entry(key.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn success(&self, key: &str) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures() {
        let t = FailureThrottle::new(2, Duration::from_secs(60));
        t.failure("a");
        assert!(t.check("a").is_ok());
        t.failure("a");
        assert!(t.check("a").unwrap_err().retry_after.is_some());
        assert!(t.check("b").is_ok());
        t.success("a");
        assert!(t.check("a").is_ok());
    }
}
