//! A dialect renders botyard's one [`Error`] in its platform's envelope and status codes.

use std::marker::PhantomData;

use axum::response::{IntoResponse, Response};
use botyard_domain::{Error, ErrorCode};
use http::HeaderValue;

/// One API dialect's way of writing errors.
pub trait Dialect: Send + Sync + 'static {
    /// Whether a request body must say it is JSON (`Content-Type: application/json`); otherwise
    /// form and text content types are read as JSON too, as Rails apps do.
    const STRICT_JSON: bool = false;

    /// The response for an error, in the dialect's envelope.
    fn error_response(error: &Error) -> Response;
}

/// An error on its way out through dialect `D`.
pub struct ApiError<D>(pub Error, PhantomData<D>);

impl<D> ApiError<D> {
    pub fn new(error: Error) -> Self {
        Self(error, PhantomData)
    }
}

impl<D> From<Error> for ApiError<D> {
    fn from(error: Error) -> Self {
        Self::new(error)
    }
}

impl<D> std::fmt::Debug for ApiError<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<D: Dialect> IntoResponse for ApiError<D> {
    fn into_response(self) -> Response {
        render::<D>(&self.0)
    }
}

/// Renders an error with `D`, logging faults and adding `Retry-After` when there is one.
pub fn render<D: Dialect>(error: &Error) -> Response {
    match error.code {
        ErrorCode::Internal | ErrorCode::Unavailable => {
            tracing::error!(code = ?error.code, detail = error.detail.as_deref().unwrap_or(""), "{}", error.message);
        }
        _ => {
            tracing::debug!(code = ?error.code, detail = error.detail.as_deref().unwrap_or(""), "{}", error.message)
        }
    }
    let mut response = D::error_response(error);
    if let Some(secs) = error.retry_after
        && let Ok(value) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(http::header::RETRY_AFTER, value);
    }
    response
}

/// Handlers return this: a value or an error in dialect `D`.
pub type ApiResult<T, D> = Result<T, ApiError<D>>;
