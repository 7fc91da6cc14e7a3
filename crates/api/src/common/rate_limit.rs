//! Per-credential rate limiting: a token bucket per presented credential (or per client
//! address for anonymous requests). Every answer carries `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset`; a refused one is a 429 with `Retry-After`, in
//! the dialect's envelope.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use botyard_domain::Error;
use http::HeaderValue;
use sha2::{Digest, Sha256};

use super::dialect::{ApiError, Dialect};
use super::token::presented;

/// Buckets of `burst` tokens refilled at `per_second`, one per key.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    shards: Vec<Mutex<HashMap<[u8; 16], Bucket>>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What one check decided.
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again (or, when refused, until one token is back).
    pub reset_secs: u64,
}

const SHARDS: usize = 16;

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(per_second).max(1)),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// `count` requests per `window`, all of them at once if need be.
    pub fn per_window(count: u32, window: std::time::Duration) -> Self {
        Self {
            per_second: f64::from(count.max(1)) / window.as_secs_f64().max(0.001),
            burst: f64::from(count.max(1)),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    pub fn check(&self, key: &str) -> Decision {
        let digest = Sha256::digest(key.as_bytes());
        let mut short = [0u8; 16];
        short.copy_from_slice(&digest[..16]);
        let shard = &self.shards[usize::from(short[0]) % SHARDS];
        let mut buckets = shard.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 50_000 {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.tokens + b.at.elapsed().as_secs_f64() * rate < burst);
        }
        let now = Instant::now();
        let bucket = buckets.entry(short).or_insert(Bucket { tokens: self.burst, at: now });
        let refilled = bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = refilled.min(self.burst);
        bucket.at = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let reset_secs = if allowed {
            ((self.burst - bucket.tokens) / self.per_second).ceil() as u64
        } else {
            ((1.0 - bucket.tokens) / self.per_second).ceil().max(1.0) as u64
        };
        Decision { allowed, limit: self.burst as u32, remaining: bucket.tokens.floor() as u32, reset_secs }
    }
}

/// Middleware limiting requests of dialect `D`.
pub async fn limit<D: Dialect>(
    State(limiter): State<std::sync::Arc<RateLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let key = match presented(&parts) {
        Some(token) => format!("t:{token}"),
        None => {
            let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
            format!("a:{}", addr.unwrap_or_default())
        }
    };
    let decision = limiter.check(&key);
    let mut response = if decision.allowed {
        next.run(Request::from_parts(parts, body)).await
    } else {
        ApiError::<D>::new(Error::rate_limited(decision.reset_secs)).into_response()
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("ratelimit-limit", u64::from(decision.limit)),
        ("ratelimit-remaining", u64::from(decision.remaining)),
        ("ratelimit-reset", decision.reset_secs),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
            headers.insert(name, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_beyond_the_burst() {
        let limiter = RateLimiter::new(1, 3);
        let allowed = (0..5).filter(|_| limiter.check("k").allowed).count();
        assert_eq!(allowed, 3);
        let refused = limiter.check("k");
        assert!(!refused.allowed && refused.reset_secs >= 1);
        assert!(limiter.check("other").allowed);
    }
}
