//! What every dialect shares: the error rendering hook, request extractors that fail in the
//! dialect's own envelope, rate limiting, and the health routes.

pub mod dialect;
pub mod extract;
pub mod health;
pub mod rate_limit;
pub mod telegram;
pub mod webhooks;
