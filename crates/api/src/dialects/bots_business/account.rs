//! Signing up and in, and the caller's own account: `/v2/auth…` and `/v2/user…`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use botyard_domain::Error;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{BbCaller, MaybeBbCaller};
use super::views::{UserView, WorkspaceView};
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::JsonBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_up))
        .routes(routes!(sign_in))
        .routes(routes!(get_user))
        .routes(routes!(update_password))
        .routes(routes!(update_email))
        .routes(routes!(reset_api_key))
        .routes(routes!(sign_out_all))
        .routes(routes!(reset_password))
}

#[derive(Deserialize, ToSchema)]
struct Credentials {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
struct SignUpAnswer {
    status: &'static str,
    data: UserView,
    /// The full API key, shown this once.
    api_key: String,
    workspace: WorkspaceView,
}

/// Sign up with email and password; creates a personal workspace.
#[utoipa::path(post, path = "/auth", tag = "Bots.Business: account", request_body = Credentials,
    responses((status = 201, description = "The new account, with its API key and personal workspace", body = SignUpAnswer)))]
async fn sign_up(State(state): State<AppState>, JsonBody(body, _): Body<Credentials>) -> Result<Response> {
    let services = &state.services;
    let done = services.sign_up(&body.email, &body.password).await?;
    let memberships = services.memberships_of(done.user.id).await?;
    let personal = memberships
        .iter()
        .find(|m| m.workspace.id == done.workspace.id)
        .ok_or_else(|| Error::internal("the personal workspace was not created"))?;
    let answer = SignUpAnswer {
        status: "success",
        workspace: WorkspaceView::new(personal, &done.user),
        data: UserView::new(&done.user, &memberships),
        api_key: done.api_key,
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

#[derive(Serialize, ToSchema)]
pub(super) struct SignInAnswer {
    data: UserView,
    /// The session token, also sent as the `access-token` header.
    access_token: String,
    client: String,
    uid: String,
    token_type: &'static str,
    /// Unix time (seconds) when the session ends.
    expiry: i64,
}

/// Sign in; answers with session headers (`access-token`, `client`, `uid`, `token-type`,
/// `expiry`) that authenticate later requests, and the same values in the body.
#[utoipa::path(post, path = "/auth/sign_in", tag = "Bots.Business: account", request_body = Credentials,
    responses((status = 200, description = "Signed in: the session's credentials (also sent as headers)", body = SignInAnswer)))]
async fn sign_in(State(state): State<AppState>, JsonBody(body, _): Body<Credentials>) -> Result<Response> {
    let session = state.services.sign_in(&body.email, &body.password).await?;
    session_answer(&state, session).await
}

/// A new session as sign-in answers it: headers and body.
pub(super) async fn session_answer(
    state: &AppState,
    session: botyard_core::accounts::SignIn,
) -> Result<Response> {
    let memberships = state.services.memberships_of(session.user.id).await?;
    let expiry = session.expires_at.millis() / 1000;
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("access-token", session.token.clone()),
        ("token-type", "Bearer".to_owned()),
        ("client", session.client.clone()),
        ("expiry", expiry.to_string()),
        ("uid", session.user.email.clone()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    let answer = SignInAnswer {
        data: UserView::new(&session.user, &memberships),
        access_token: session.token,
        client: session.client,
        uid: session.user.email,
        token_type: "Bearer",
        expiry,
    };
    Ok((headers, Json(answer)).into_response())
}

/// The signed-in user, with their workspaces and roles.
#[utoipa::path(get, path = "/user", tag = "Bots.Business: account", responses((status = 200, description = "The signed-in user, with their workspaces and roles", body = UserView)))]
async fn get_user(BbCaller(caller): BbCaller, State(state): State<AppState>) -> Result<Json<UserView>> {
    let memberships = state.services.memberships(&caller).await?;
    Ok(Json(UserView::new(&caller.user, &memberships)))
}

#[derive(Deserialize, ToSchema)]
struct PasswordChange {
    password: String,
    /// Required unless `reset_password_token` is given.
    current_password: Option<String>,
    /// The token of a password reset, instead of being signed in.
    reset_password_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Message {
    message: String,
}

/// Change the password (signed in, with the current one), or complete a password reset with its
/// token (not signed in). Completing a reset signs out every device.
#[utoipa::path(put, path = "/user/password", tag = "Bots.Business: account", request_body = PasswordChange,
    responses((status = 200, description = "The password is changed", body = Message)))]
async fn update_password(
    MaybeBbCaller(caller): MaybeBbCaller,
    State(state): State<AppState>,
    JsonBody(change, _): Body<PasswordChange>,
) -> Result<Json<Message>> {
    if let Some(token) = &change.reset_password_token {
        state.services.complete_password_reset(token, &change.password).await?;
        return Ok(Json(Message { message: "Your password has been reset".into() }));
    }
    let caller = caller.ok_or_else(|| Error::unauthorized(super::SIGN_IN_REQUIRED))?;
    let current = change.current_password.ok_or_else(|| Error::invalid("current_password is required"))?;
    state.services.change_password(&caller, &current, &change.password).await?;
    Ok(Json(Message { message: "Your password has been changed".into() }))
}

#[derive(Deserialize, ToSchema)]
struct EmailChange {
    email: String,
    current_password: String,
}

/// Change the email (needs the current password).
#[utoipa::path(put, path = "/user/email", tag = "Bots.Business: account", request_body = EmailChange,
    responses((status = 200, description = "The user, with the new email", body = UserView)))]
async fn update_email(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    JsonBody(change, _): Body<EmailChange>,
) -> Result<Json<UserView>> {
    let user = state.services.change_email(&caller, &change.current_password, &change.email).await?;
    let memberships = state.services.memberships(&caller).await?;
    Ok(Json(UserView::new(&user, &memberships)))
}

#[derive(Serialize, ToSchema)]
struct NewApiKey {
    /// The new key, shown this once; the old one no longer works.
    api_key: String,
}

/// Replace the API key.
#[utoipa::path(post, path = "/user/reset_api_key", tag = "Bots.Business: account", responses((status = 200, description = "The new API key (the old one no longer works)", body = NewApiKey)))]
async fn reset_api_key(BbCaller(caller): BbCaller, State(state): State<AppState>) -> Result<Json<NewApiKey>> {
    Ok(Json(NewApiKey { api_key: state.services.reset_api_key(&caller).await? }))
}

#[derive(Serialize, ToSchema)]
struct SignedOut {
    signed_out_sessions: u64,
}

/// Log out all devices: ends every session of the user (the API key stays valid).
#[utoipa::path(post, path = "/user/sign_out_all", tag = "Bots.Business: account", responses((status = 200, description = "Every session of the user has ended", body = SignedOut)))]
async fn sign_out_all(BbCaller(caller): BbCaller, State(state): State<AppState>) -> Result<Json<SignedOut>> {
    Ok(Json(SignedOut { signed_out_sessions: state.services.sign_out_everywhere(&caller).await? }))
}

#[derive(Deserialize, ToSchema)]
struct ResetRequest {
    email: String,
}

/// Ask for a password reset. botyard sends no email: the reset token is written to the server
/// log for the operator. The answer never says whether the email has an account.
#[utoipa::path(post, path = "/user/reset_password", tag = "Bots.Business: account", request_body = ResetRequest,
    responses((status = 200, description = "The request is taken (the same answer whether or not the email has an account)", body = Message)))]
async fn reset_password(
    State(state): State<AppState>,
    JsonBody(body, _): Body<ResetRequest>,
) -> Result<Json<Message>> {
    state.services.request_password_reset(&body.email).await?;
    Ok(Json(Message {
        message: "If this email has an account, password reset instructions have been issued".into(),
    }))
}
