//! The Bots.Business dialect: `/v2/...` authenticated with `?api_key=`, the session headers of
//! sign-in, or `Authorization: Bearer`; errors as `{"errors": ["…"]}`.

mod account;
mod apps;
mod auth;
mod bots;
mod broadcasts;
mod catalog;
mod chats;
mod commands;
mod error_logs;
mod panels;
mod plans;
mod properties;
mod tasks;
mod telegram_login;
mod views;
mod workspaces;

use axum::Json;
use axum::response::{IntoResponse, Response};
use botyard_domain::{Error, ErrorCode};
use http::StatusCode;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::common::dialect::{Dialect, render};

pub struct BotsBusiness;

pub type Result<T> = crate::common::dialect::ApiResult<T, BotsBusiness>;
pub type Body<T> = crate::common::extract::JsonBody<T, BotsBusiness>;

/// What Bots.Business (a Rails application) answers to a request without valid credentials.
pub const SIGN_IN_REQUIRED: &str = "You need to sign in or sign up before continuing.";

impl Dialect for BotsBusiness {
    fn error_response(error: &Error) -> Response {
        let status = match error.code {
            // Rails answers failed validations with 422 Unprocessable Entity.
            ErrorCode::InvalidPayload
            | ErrorCode::InvalidJsonSchema
            | ErrorCode::InvalidDataFormat
            | ErrorCode::InvalidIdentifier
            | ErrorCode::AlreadyExists => StatusCode::UNPROCESSABLE_ENTITY,
            other => StatusCode::from_u16(other.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        };
        (status, Json(json!({"errors": [error.message]}))).into_response()
    }
}

/// The routes of the dialect, relative to `/v2`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(account::router())
        .merge(telegram_login::router())
        .merge(bots::router())
        .merge(commands::router())
        .merge(chats::router())
        .merge(properties::router())
        .merge(error_logs::router())
        .merge(plans::router())
        .merge(workspaces::router())
        .merge(apps::router())
        .merge(tasks::router())
        .merge(catalog::router())
        .merge(panels::router())
        .merge(broadcasts::router())
}

pub async fn not_found() -> Response {
    render::<BotsBusiness>(&Error::new(ErrorCode::NotFound, "Not found"))
}

pub async fn method_not_allowed() -> Response {
    render::<BotsBusiness>(&Error::new(ErrorCode::MethodNotAllowed, "This route does not accept this method"))
}
