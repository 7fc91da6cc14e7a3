//! Throttling of repeated failures (sign-in attempts). Each attempt is counted before its password
//! is checked, in one step with the check of the count, so parallel guesses cannot slip through
//! together: after `max` attempts of one key within `window` that did not succeed, further attempts
//! are refused until the window ends. A success clears the key.

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

    /// Counts an attempt for the key; refuses with `RateLimited` when the key has used its
    /// attempts in the window.
    pub fn attempt(&self, key: &str) -> Result<()> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 100_000 {
            let window = self.window;
            entries.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = entries.entry(key.to_owned()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.window {
            *entry = (0, Instant::now());
        }
        if entry.0 >= self.max {
            let wait = self.window.saturating_sub(entry.1.elapsed()).as_secs().max(1);
            return Err(Error {
                message: format!("Too many failed attempts, try again in {wait} seconds"),
                ..Error::rate_limited(wait)
            });
        }
        entry.0 += 1;
        Ok(())
    }

    pub fn success(&self, key: &str) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_attempts_before_they_are_checked() {
        let t = FailureThrottle::new(2, Duration::from_secs(60));
        assert!(t.attempt("a").is_ok());
        assert!(t.attempt("a").is_ok());
        assert!(t.attempt("a").unwrap_err().retry_after.is_some(), "the third unresolved attempt waits");
        assert!(t.attempt("b").is_ok());
        t.success("a");
        assert!(t.attempt("a").is_ok());
    }
}
