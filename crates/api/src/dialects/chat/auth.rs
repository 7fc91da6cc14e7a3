//! The bot of the webhook in the path, and the user of the `x-user-key` header.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use botyard_domain::Error;
use botyard_domain::bot::Bot;
use botyard_domain::conversation::BotUser;
use http::request::Parts;

use crate::AppState;
use crate::common::dialect::ApiError;
use crate::common::extract::header;
use crate::common::rate_limit::KeyUser;
use crate::dialects::botpress::Botpress;

/// The bot whose web channel the request addresses.
pub struct WebBot(pub Bot);

impl FromRequestParts<AppState> for WebBot {
    type Rejection = ApiError<Botpress>;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::not_found("Webhook"))?;
        let webhook = params.get("webhook").ok_or_else(|| Error::not_found("Webhook"))?;
        Ok(Self(state.runtime.web_bot(webhook).await?))
    }
}

/// The bot and the user presenting their key.
pub struct WebUser {
    pub bot: Bot,
    pub user: BotUser,
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = ApiError<Botpress>;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let WebBot(bot) = WebBot::from_request_parts(parts, state).await?;
        // The rate limit already found the key's user; it counts here if it is this bot's.
        let user = match parts.extensions.remove::<KeyUser>() {
            Some(KeyUser(user)) if user.bot_number == bot.number => user,
            _ => state.runtime.web_authenticate(&bot, header(parts, "x-user-key")).await?,
        };
        Ok(Self { bot, user })
    }
}
