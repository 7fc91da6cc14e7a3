//! Rate limiting keyed on who is calling, as far as it is proven: the account of a valid API key
//! or session, the app of a validly signed Kore.ai token, the web chat user of a valid user key —
//! or else the client's address (through the configured trusted proxies), so that a made-up
//! credential gets no bucket of its own and a chat user does not share one with anonymous
//! traffic from the same address. Buckets are `governor`'s. Every answer carries
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; a refused one is a 429 with
//! `Retry-After`, in the dialect's envelope. Requests whose URL holds an encoded NUL (`%00`) are
//! refused here too, before any lookup, and a handler that has not answered within
//! `http.request_timeout_secs` is answered with a timeout error.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use botyard_domain::Error;
use botyard_domain::net::{Network, within};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};
use http::HeaderValue;
use http::request::Parts;

use super::dialect::{ApiError, Dialect};
use super::extract::{bearer, header};
use crate::AppState;

type Buckets = Governor<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Token buckets of `burst` refilled at a steady rate, one per key.
pub struct RateLimiter {
    buckets: Buckets,
    burst: u32,
}

/// What one check decided.
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again (or, when refused, until one token is back).
    pub reset_secs: u64,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        let per_second = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = burst.max(per_second.get());
        let quota =
            Quota::per_second(per_second).allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self::with_quota(quota, burst)
    }

    /// `count` requests per `window`, all of them at once if need be.
    pub fn per_window(count: u32, window: Duration) -> Self {
        let count = count.max(1);
        let period = window / count;
        let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
            .unwrap_or(Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN));
        Self::with_quota(quota, count)
    }

    fn with_quota(quota: Quota, burst: u32) -> Self {
        Self { buckets: Governor::keyed(quota).with_middleware::<StateInformationMiddleware>(), burst }
    }

    pub fn check(&self, key: &str) -> Decision {
        if self.buckets.len() > 100_000 {
            self.buckets.retain_recent();
        }
        let key = key.to_owned();
        match self.buckets.check_key(&key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                let replenish = state.quota().replenish_interval();
                let reset = replenish * (self.burst.saturating_sub(remaining));
                Decision {
                    allowed: true,
                    limit: self.burst,
                    remaining,
                    reset_secs: reset.as_secs_f64().ceil() as u64,
                }
            }
            Err(refused) => {
                let wait = refused.wait_time_from(DefaultClock::default().now());
                Decision {
                    allowed: false,
                    limit: self.burst,
                    remaining: 0,
                    reset_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                }
            }
        }
    }
}

/// Middleware limiting requests of dialect `D`.
pub async fn limit<D: Dialect>(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let raw = format!("{}?{}", parts.uri.path(), parts.uri.query().unwrap_or(""));
    if raw.contains("%00") {
        return ApiError::<D>::new(Error::invalid(botyard_domain::text::NUL_REFUSED)).into_response();
    }
    let key = match identity(&state, &mut parts).await {
        Some(identity) => identity,
        None => format!("ip:{}", client_address(&state, &parts).map(|a| a.to_string()).unwrap_or_default()),
    };
    let decision = state.limiter.check(&key);
    let mut response = if decision.allowed {
        // Bounds the time to the answer's head (event streams and downloads then stream on).
        let limit = Duration::from_secs(state.services.config.http.request_timeout_secs.max(1));
        match tokio::time::timeout(limit, next.run(Request::from_parts(parts, body))).await {
            Ok(response) => response,
            Err(_) => ApiError::<D>::new(Error::new(
                botyard_domain::ErrorCode::Timeout,
                format!("The request took longer than {} seconds", limit.as_secs()),
            ))
            .into_response(),
        }
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

/// The web chat user whose key the rate limit found, for the request's own authentication
/// ([`crate::dialects::chat::auth`]) so the key is looked up once.
#[derive(Clone)]
pub struct KeyUser(pub botyard_domain::conversation::BotUser);

/// Who the request proves to be, if it proves anything: `u:<account>`, `a:<app>` or
/// `c:<chat user>`. A credential that does not check out counts as none.
async fn identity(state: &AppState, parts: &mut Parts) -> Option<String> {
    let services = &state.services;
    let api_key = parts.uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "api_key").map(|(_, v)| v.into_owned())
    });
    let caller = if let Some(key) = api_key.filter(|k| !k.is_empty()) {
        services.authenticate_api_key(&key).await.ok().flatten()
    } else if let Some(token) = bearer(parts) {
        services.authenticate_bearer(token).await.ok().flatten()
    } else if let Some(token) = header(parts, "access-token") {
        services.authenticate_session(token, None, None).await.ok().flatten()
    } else {
        None
    };
    if let Some(caller) = caller {
        return Some(format!("u:{}", caller.user.id));
    }
    if let Some(token) = header(parts, "auth")
        && let Ok(Some(app)) = services.app_of_token(token).await
    {
        return Some(format!("a:{app}"));
    }
    if let Some(key) = header(parts, "x-user-key")
        && let Ok(Some(user)) = state.runtime.web_user_of_key(key).await
    {
        let id = user.id;
        parts.extensions.insert(KeyUser(user));
        return Some(format!("c:{id}"));
    }
    None
}

/// The client's address: the peer's, or — when the peer is a trusted proxy — the nearest address
/// in `X-Forwarded-For` that is not one.
pub(crate) fn client_address(state: &AppState, parts: &Parts) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())?;
    let trusted: Vec<Network> =
        state.services.config.http.trusted_proxies.iter().filter_map(|n| Network::parse(n).ok()).collect();
    if !within(peer, &trusted) {
        return Some(peer);
    }
    let forwarded = header(parts, "x-forwarded-for").unwrap_or("");
    let mut client = peer;
    for hop in forwarded.rsplit(',').map(str::trim) {
        let Ok(ip) = hop.parse::<IpAddr>() else { break };
        client = ip;
        if !within(ip, &trusted) {
            break;
        }
    }
    Some(client)
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
        let window = RateLimiter::per_window(60, Duration::from_secs(60));
        assert_eq!((0..70).filter(|_| window.check("w").allowed).count(), 60);
    }
}
