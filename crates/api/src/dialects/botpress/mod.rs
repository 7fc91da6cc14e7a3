//! The Botpress Cloud dialect: `/v1/admin/...` with `Authorization: Bearer` and
//! `x-workspace-id`, errors as `{id, code, type, message}`.

mod auth;
mod bots;
mod insights;
mod jobs;
mod logs;
mod members;
mod versions;
mod views;
mod workspaces;

use axum::Json;
use axum::response::{IntoResponse, Response};
use botyard_domain::{Error, ErrorCode};
use http::StatusCode;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::common::dialect::{ApiError, Dialect, render};

pub struct Botpress;

pub type Result<T> = crate::common::dialect::ApiResult<T, Botpress>;
pub type Body<T> = crate::common::extract::JsonBody<T, Botpress>;

impl Dialect for Botpress {
    const STRICT_JSON: bool = true;

    fn error_response(error: &Error) -> Response {
        let (status, kind) = status_and_type(error.code);
        let id = format!("err_{}x{:08X}", botyard_domain::Timestamp::now().millis(), rand::random::<u32>());
        let body = json!({"id": id, "code": status.as_u16(), "type": kind, "message": error.message});
        (status, Json(body)).into_response()
    }
}

/// Botpress's status code and error type for each of botyard's error codes.
fn status_and_type(code: ErrorCode) -> (StatusCode, &'static str) {
    let (status, kind) = match code {
        ErrorCode::MalformedJson | ErrorCode::InvalidPayload => (400, "InvalidPayload"),
        ErrorCode::InvalidJsonSchema => (400, "InvalidJsonSchema"),
        ErrorCode::InvalidDataFormat => (400, "InvalidDataFormat"),
        ErrorCode::InvalidIdentifier => (400, "InvalidIdentifier"),
        ErrorCode::InvalidQuery => (400, "InvalidQuery"),
        ErrorCode::Unauthorized => (401, "Unauthorized"),
        ErrorCode::Forbidden => (403, "Forbidden"),
        ErrorCode::QuotaExceeded => (403, "QuotaExceeded"),
        ErrorCode::NotFound => (404, "ResourceNotFound"),
        ErrorCode::MethodNotAllowed => (405, "MethodNotFound"),
        ErrorCode::AlreadyExists => (409, "AlreadyExists"),
        ErrorCode::Conflict => (409, "ResourceLockedConflict"),
        ErrorCode::PayloadTooLarge => (413, "PayloadTooLarge"),
        ErrorCode::LimitExceeded => (413, "LimitExceeded"),
        ErrorCode::UnsupportedMediaType => (415, "UnsupportedMediaType"),
        ErrorCode::RateLimited => (429, "RateLimited"),
        ErrorCode::Internal => (500, "Internal"),
        ErrorCode::Unavailable => (503, "Internal"),
        ErrorCode::Timeout => (504, "OperationTimeout"),
    };
    (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), kind)
}

/// The routes of the dialect, relative to `/v1`.
/// A bot id of a path: an unparseable id is a bot that does not exist.
fn bot_ref(raw: &str) -> botyard_domain::Result<botyard_domain::BotRef> {
    botyard_domain::BotRef::parse(raw).map_err(|_| Error::not_found("Bot"))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(bots::router())
        .merge(insights::router())
        .merge(jobs::router())
        .merge(logs::router())
        .merge(members::router())
        .merge(versions::router())
        .merge(workspaces::router())
}

/// Answers unknown routes under `/v1`.
pub async fn not_found() -> Response {
    render::<Botpress>(&Error::new(ErrorCode::NotFound, "The requested route does not exist"))
}

/// Answers a known route called with the wrong method.
pub async fn method_not_allowed() -> Response {
    ApiError::<Botpress>::new(Error::new(
        ErrorCode::MethodNotAllowed,
        "This route does not accept this method",
    ))
    .into_response()
}
