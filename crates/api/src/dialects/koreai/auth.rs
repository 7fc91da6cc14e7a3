//! Who calls the Kore.ai dialect: an app, by a JWT in the `auth` header signed with the app's
//! client secret; the checks are `botyard_core::app_tokens`'s.

use axum::extract::FromRequestParts;
use botyard_core::app_tokens::TokenUse;
use botyard_domain::app::ApiApp;
use botyard_domain::{BotRef, Error, ErrorCode};
use http::request::Parts;

use super::KoreAi;
use crate::AppState;
use crate::common::dialect::ApiError;
use crate::common::extract::header;

const INVALID_CREDENTIALS: &str = "Invalid SDK credentials";

/// The app a request acts for.
pub struct KoreApp(pub ApiApp);

impl FromRequestParts<AppState> for KoreApp {
    type Rejection = ApiError<KoreAi>;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = header(parts, "auth").ok_or_else(|| Error::unauthorized(INVALID_CREDENTIALS))?;
        Ok(Self(state.services.authenticate_app(token, TokenUse::Api).await?))
    }
}

impl KoreApp {
    /// Fails unless the app's scopes cover `scope`.
    pub fn require(&self, scope: &str) -> Result<(), Error> {
        if self.0.allows(scope) {
            Ok(())
        } else {
            Err(Error::forbidden("Permission denied. Scope is incorrect!"))
        }
    }

    /// A bot of the app's workspace; "Invalid StreamId" otherwise.
    pub async fn bot(&self, state: &AppState, raw: &str) -> Result<botyard_domain::bot::Bot, Error> {
        let invalid = || Error::new(ErrorCode::InvalidIdentifier, "Invalid StreamId");
        let bot = BotRef::parse(raw).map_err(|_| invalid())?;
        let bot = state.services.find_bot(&bot).await?.ok_or_else(invalid)?;
        if bot.workspace_id != self.0.workspace_id {
            return Err(invalid());
        }
        Ok(bot)
    }
}

/// The app of a download: from the `auth` header, or a download token in `?token=` that must
/// name this file.
pub async fn download_app(
    state: &AppState,
    parts_auth: Option<&str>,
    token: Option<&str>,
    file: &str,
) -> Result<ApiApp, Error> {
    if let Some(auth) = parts_auth {
        return state.services.authenticate_app(auth, TokenUse::Api).await;
    }
    let token = token.ok_or_else(|| Error::unauthorized(INVALID_CREDENTIALS))?;
    state.services.authenticate_app(token, TokenUse::Download { file }).await
}
