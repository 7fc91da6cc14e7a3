//! The Kore.ai XO dialect: `/api/public/...` for programs holding an app's credentials, which
//! sign a JWT sent in the `auth` header. Errors as `{"errors": [{"msg": "…", "code": N}]}`:
//! credential and scope failures are HTTP 401 with code 4002, as Kore.ai answers; over the rate
//! limit (60 per minute and 1,800 per hour per bot, or per request id on status routes) a 429.

mod auth;
mod export;
mod files;
mod import;
mod limits;
mod publish;
mod views;
mod webhook;

use axum::Json;
use axum::response::{IntoResponse, Response};
use botyard_domain::{Error, ErrorCode};
use http::StatusCode;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::common::dialect::{Dialect, render};

pub use limits::KoreLimits;

pub struct KoreAi;

pub type Result<T> = crate::common::dialect::ApiResult<T, KoreAi>;
pub type Body<T> = crate::common::extract::JsonBody<T, KoreAi>;

/// Kore.ai's message when a rate limit is reached.
pub const RATE_LIMITED: &str = "Rate limit for this API has been reached. Please try again after some time.";

impl Dialect for KoreAi {
    fn error_response(error: &Error) -> Response {
        let (status, code) = match error.code {
            // Kore.ai answers bad credentials and missing scopes alike: 401 with its code 4002.
            ErrorCode::Unauthorized | ErrorCode::Forbidden => (StatusCode::UNAUTHORIZED, 4002),
            // Missing or malformed arguments: "Validation errors/ Invalid arguments".
            ErrorCode::MalformedJson | ErrorCode::InvalidPayload | ErrorCode::InvalidQuery => {
                (StatusCode::PRECONDITION_FAILED, 412)
            }
            // Unknown bot, request or file ids are 400s ("Invalid StreamId", …).
            ErrorCode::InvalidIdentifier => (StatusCode::BAD_REQUEST, 400),
            other => {
                let status =
                    StatusCode::from_u16(other.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, i64::from(status.as_u16()))
            }
        };
        let message =
            if error.code == ErrorCode::RateLimited { RATE_LIMITED } else { error.message.as_str() };
        (status, Json(json!({"errors": [{"msg": message, "code": code}]}))).into_response()
    }
}

/// The routes of the dialect, relative to `/api/public`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(files::router())
        .merge(import::router())
        .merge(export::router())
        .merge(publish::router())
}

/// Kore.ai's Webhook channel, served at the server's root (`/chatbot/v2/webhook/{streamId}`).
pub fn webhook_router() -> axum::Router<AppState> {
    webhook::router()
}

pub async fn not_found() -> Response {
    render::<KoreAi>(&Error::new(ErrorCode::NotFound, "Not Found"))
}

pub async fn method_not_allowed() -> Response {
    render::<KoreAi>(&Error::new(ErrorCode::MethodNotAllowed, "Method Not Allowed"))
}
