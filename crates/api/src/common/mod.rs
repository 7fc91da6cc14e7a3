//! What every dialect shares: the error rendering hook, request extractors that fail in the
//! dialect's own envelope, rate limiting, the health routes and the metrics.

pub mod dialect;
pub mod extract;
pub mod health;
pub mod html;
pub mod metrics;
pub mod rate_limit;
pub mod telegram;
pub mod webhooks;
