//! The account routes around Telegram: the Login Widget's URL and its callback (sign in, link, or
//! sign up), the linked Telegram accounts, a session token on demand, and the ads flag.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::account::session_answer;
use super::auth::{BbCaller, MaybeBbCaller};
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::{JsonBody, base_url};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(telegram_login_url))
        .routes(routes!(telegram_login))
        .routes(routes!(telegram_accounts))
        .routes(routes!(telegram_link_url))
        .routes(routes!(session_token))
        .routes(routes!(set_ads))
}

#[derive(Serialize, ToSchema)]
struct UrlAnswer {
    url: String,
}

fn login_url(state: &AppState, headers: &HeaderMap) -> Result<Json<UrlAnswer>> {
    let base = base_url(state, headers);
    let url = state.services.telegram_login_url(&base, &format!("{base}/v2/auth/telegram_login"))?;
    Ok(Json(UrlAnswer { url }))
}

/// Telegram's login page for this server's login bot (`auth.telegram_login_token`).
#[utoipa::path(get, path = "/auth/telegram_login_url", tag = "Bots.Business: account",
    responses((status = 200, description = "The Telegram login page", body = UrlAnswer),
        (status = 503, description = "Telegram login is not configured")))]
async fn telegram_login_url(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<UrlAnswer>> {
    login_url(&state, &headers)
}

/// Sign in with the Login Widget's data (`id`, `first_name`, `username`, `auth_date`, `hash`, …):
/// the linked account's session; with credentials, the Telegram account is linked to the caller's
/// account; unknown and without credentials, an account is made (when sign-up is open).
#[utoipa::path(post, path = "/auth/telegram_login", tag = "Bots.Business: account", request_body = Object,
    responses((status = 200, description = "Signed in: the session's credentials (also sent as headers)"),
        (status = 401, description = "The data is not signed by the login bot, or has expired")))]
async fn telegram_login(
    State(state): State<AppState>,
    MaybeBbCaller(caller): MaybeBbCaller,
    JsonBody(fields, _): Body<Map<String, Value>>,
) -> Result<Response> {
    let done = state.services.telegram_login(&fields, caller.as_ref()).await?;
    session_answer(&state, done.sign_in).await
}

/// The Telegram accounts linked to the caller's account.
#[utoipa::path(get, path = "/user/telegram_accounts", tag = "Bots.Business: account",
    responses((status = 200, description = "The linked Telegram accounts, oldest first")))]
async fn telegram_accounts(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
) -> Result<Json<Vec<botyard_domain::account::TelegramAccount>>> {
    Ok(Json(state.services.telegram_accounts(&caller).await?))
}

/// The page that links a Telegram account to the caller's (the login page; its callback, made
/// with the caller's credentials, links).
#[utoipa::path(get, path = "/user/telegram_link_url", tag = "Bots.Business: account",
    responses((status = 200, description = "The Telegram login page", body = UrlAnswer)))]
async fn telegram_link_url(
    BbCaller(_caller): BbCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<UrlAnswer>> {
    login_url(&state, &headers)
}

/// A new session of the caller's account, as sign-in answers it.
#[utoipa::path(post, path = "/user/session_token", tag = "Bots.Business: account",
    responses((status = 200, description = "A new session's credentials (also sent as headers)")))]
async fn session_token(BbCaller(caller): BbCaller, State(state): State<AppState>) -> Result<Response> {
    let session = state.services.issue_session(&caller).await?;
    session_answer(&state, session).await
}

#[derive(Deserialize, ToSchema)]
struct AdsChange {
    /// `true` to show ads (the default), `false` to turn them off. botyard shows none either way.
    enabled: bool,
}

#[derive(Serialize, ToSchema)]
struct AdsAnswer {
    ads_enabled: bool,
}

/// Turns ads on or off for the account.
#[utoipa::path(put, path = "/user/ads", tag = "Bots.Business: account", request_body = AdsChange,
    responses((status = 200, description = "The account's ads flag", body = AdsAnswer)))]
async fn set_ads(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<AdsChange>,
) -> Result<Json<AdsAnswer>> {
    Ok(Json(AdsAnswer { ads_enabled: state.services.set_ads(&caller, body.enabled).await? }))
}
