//! The Botpress Chat API under `/chat/{webhookId}`: what end users' clients (the `@botpress/chat`
//! package, botyard's web chat page, `botyard chat`) use to talk to a bot. Users authenticate with
//! the key they get when created (`x-user-key`); errors use Botpress's envelope.

mod auth;
mod conversations;
mod listen;
mod messages;
mod page;
mod users;
mod views;

use axum::response::Response;
use botyard_domain::{Error, ErrorCode};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::common::dialect::render;
use crate::dialects::botpress::Botpress;

pub type Result<T> = crate::common::dialect::ApiResult<T, Botpress>;
pub type Body<T> = crate::common::extract::JsonBody<T, Botpress>;

/// The routes, relative to `/chat/{webhook}`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(users::router())
        .merge(conversations::router())
        .merge(messages::router())
        .merge(listen::router())
        .merge(page::router())
}

pub async fn not_found() -> Response {
    render::<Botpress>(&Error::new(ErrorCode::NotFound, "The requested route does not exist"))
}
