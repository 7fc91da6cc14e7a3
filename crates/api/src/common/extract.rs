//! Request extractors whose failures are rendered in the dialect's envelope.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Request};
use botyard_domain::{Error, ErrorCode};
use bytes::Bytes;
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::dialect::{ApiError, Dialect};

/// A JSON body of type `T`; an empty body reads as `{}`. Malformed JSON, wrong types and unknown
/// fields (where `T` denies them) fail with `InvalidPayload`, a body over the limit with
/// `PayloadTooLarge`, a non-JSON content type with `UnsupportedMediaType` (in strict dialects also
/// a missing one, and forms).
pub struct JsonBody<T, D>(pub T, pub PhantomData<D>);

impl<T, D, S> FromRequest<S> for JsonBody<T, D>
where
    T: DeserializeOwned,
    D: Dialect,
    S: Send + Sync,
{
    type Rejection = ApiError<D>;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(Error::new(ErrorCode::PayloadTooLarge, "The request body is too large"))
            } else {
                ApiError::new(Error::invalid(format!("Cannot read the request body: {rejection}")))
            }
        })?;
        let empty = bytes.iter().all(u8::is_ascii_whitespace);
        let json_like = content_type
            .as_ref()
            .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"));
        // Forms are what curl sends by default; lenient dialects accept them when the body is JSON.
        let lenient = !D::STRICT_JSON
            && content_type.as_ref().is_none_or(|ct| {
                ct.starts_with("application/x-www-form-urlencoded") || ct.starts_with("text/plain")
            });
        if !empty && !json_like && !lenient {
            let got = content_type.as_deref().unwrap_or("no Content-Type");
            return Err(ApiError::new(Error::new(
                ErrorCode::UnsupportedMediaType,
                format!("Expected a JSON body (Content-Type: application/json), got {got}"),
            )));
        }
        if botyard_domain::text::json_has_nul(&bytes) {
            return Err(ApiError::new(Error::invalid(botyard_domain::text::NUL_REFUSED)));
        }
        let body: &[u8] = if empty { b"{}" } else { &bytes };
        parse_json(body).map(|v| JsonBody(v, PhantomData)).map_err(ApiError::new)
    }
}

/// Parses JSON into `T`, telling malformed JSON apart from a wrongly shaped value.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            Error::new(ErrorCode::MalformedJson, format!("The request body is not valid JSON: {e}"))
        } else {
            Error::invalid(format!("Invalid request body: {e}"))
        }
    })
}

/// The raw query string as ordered `(key, value)` pairs, decoded.
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = parts
            .uri
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Ok(Self(pairs))
    }
}

impl QueryPairs {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Reads a boolean query parameter (`true`/`false`, `1`/`0`).
pub fn query_bool(pairs: &QueryPairs, key: &str) -> Result<Option<bool>, Error> {
    match pairs.get(key) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(Error::new(
            ErrorCode::InvalidQuery,
            format!("Query parameter {key} must be true or false, not \"{other}\""),
        )),
    }
}

/// Reads a header as text.
pub fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = header(parts, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Tells an absent field (`None`) from one set to `null` (`Some(None)`), with
/// `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, T: serde::Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// The `page` query parameter (from 1; absent means 1).
pub fn query_page(pairs: &QueryPairs) -> Result<u32, Error> {
    match pairs.get("page") {
        None | Some("") => Ok(1),
        Some(raw) => raw.parse::<u32>().map(|p| p.max(1)).map_err(|_| {
            Error::new(ErrorCode::InvalidQuery, format!("page must be a positive number, not \"{raw}\""))
        }),
    }
}

/// The URL clients reach this server at: `public_url` when configured, else from the request's
/// `Host` (and `X-Forwarded-Proto`).
pub fn base_url(state: &crate::AppState, headers: &http::HeaderMap) -> String {
    let configured = state.services.config.public_url.trim().trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let host = headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let scheme = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).unwrap_or("http");
    format!("{scheme}://{host}")
}

/// A workspace id from a path; a malformed one is a workspace the caller has no access to.
pub fn workspace_id(raw: &str) -> Result<botyard_domain::WorkspaceId, Error> {
    botyard_domain::WorkspaceId::parse(raw)
        .map_err(|_| Error::forbidden("You do not have access to this workspace"))
}
