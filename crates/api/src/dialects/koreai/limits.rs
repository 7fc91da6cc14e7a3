//! Kore.ai's rate limits on these APIs: 60 requests a minute and 1,800 an hour, per bot on the
//! import and export routes and per request id on the status routes.

use std::time::Duration;

use botyard_domain::Error;

use crate::common::rate_limit::RateLimiter;

pub struct KoreLimits {
    minute: RateLimiter,
    hour: RateLimiter,
}

impl Default for KoreLimits {
    fn default() -> Self {
        Self {
            minute: RateLimiter::per_window(60, Duration::from_secs(60)),
            hour: RateLimiter::per_window(1800, Duration::from_secs(3600)),
        }
    }
}

impl KoreLimits {
    /// Counts one request against `key` (a bot or request id); `RateLimited` when over.
    pub fn check(&self, key: &str) -> Result<(), Error> {
        for limiter in [&self.minute, &self.hour] {
            let decision = limiter.check(key);
            if !decision.allowed {
                return Err(Error::rate_limited(decision.reset_secs));
            }
        }
        Ok(())
    }
}
