//! `POST /telegram/{bot}`: where Telegram posts a bot's updates in webhook mode, with the secret
//! botyard gave it in `X-Telegram-Bot-Api-Secret-Token`.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use botyard_domain::{BotRef, Error};
use serde_json::{Value, json};

use crate::AppState;
use crate::common::dialect::render;
use crate::dialects::botpress::Botpress;

pub async fn webhook(
    State(state): State<AppState>,
    Path(bot): Path<String>,
    headers: http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let bot = BotRef::parse(&bot).map_err(|_| Error::not_found("Bot"))?;
        let bot = state.services.find_bot(&bot).await?.ok_or_else(|| Error::not_found("Bot"))?;
        let secret = headers.get("x-telegram-bot-api-secret-token").and_then(|v| v.to_str().ok());
        let update: Value = crate::common::extract::parse_json(&body)?;
        state.telegram.webhook(&bot, secret, update).await
    }
    .await;
    match result {
        Ok(()) => Json(json!({"ok": true})).into_response(),
        Err(e) => render::<Botpress>(&e),
    }
}
