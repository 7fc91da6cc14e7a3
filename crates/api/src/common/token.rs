//! Reading the credential a request presents, without checking it, so rate limiting can key on
//! it before any database work.

use http::request::Parts;

use super::extract::{bearer, header};

/// The credential a request presents, as sent.
pub fn presented(parts: &Parts) -> Option<String> {
    if let Some(token) = bearer(parts) {
        return Some(token.to_owned());
    }
    if let Some(token) = header(parts, "access-token") {
        return Some(token.to_owned());
    }
    if let Some(token) = header(parts, "auth") {
        return Some(token.to_owned());
    }
    parts.uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "api_key")
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    })
}
