//! The web chat page: `GET /chat/{webhookId}` serves a self-contained page that talks to the bot
//! through the Chat API below it (text, reply keyboards, inline buttons; phone-sized screens).

use axum::response::{Html, IntoResponse, Response};
use http::header;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Result;
use super::auth::WebBot;
use crate::AppState;

const PAGE: &str = include_str!("chat.html");

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(page))
}

/// The web chat page of the bot.
#[utoipa::path(get, path = "/", tag = "Chat API", params(("webhook" = String, Path)), responses((status = 200, description = "The web chat page (HTML)", content_type = "text/html")))]
async fn page(WebBot(bot): WebBot) -> Result<Response> {
    let title = crate::common::html::escape(&bot.name);
    let html = PAGE.replace("{{BOT_NAME}}", &title);
    Ok(([(header::CACHE_CONTROL, "no-cache")], Html(html)).into_response())
}
