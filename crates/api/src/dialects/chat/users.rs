//! `/users`: creating the user a client talks as, and reading or changing it.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use botyard_domain::conversation::UserProfile;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{WebBot, WebUser};
use super::views::{Empty, UserView};
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::JsonBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hello))
        .routes(routes!(hello_slash))
        .routes(routes!(create_user))
        .routes(routes!(get_or_create_user))
        .routes(routes!(get_user, update_user, delete_user))
}

#[derive(Serialize, ToSchema)]
struct Hello {
    status: &'static str,
}

/// Connection check (`@botpress/chat` calls `GET /hello/` before anything else).
#[utoipa::path(get, path = "/hello", tag = "Chat API", params(("webhook" = String, Path)), responses((status = 200, description = "The server is reachable and the bot exists", body = Hello)))]
async fn hello(WebBot(_bot): WebBot) -> Json<Hello> {
    Json(Hello { status: "ok" })
}

/// Connection check, with the trailing slash the client sends.
#[utoipa::path(get, path = "/hello/", tag = "Chat API", params(("webhook" = String, Path)), responses((status = 200, description = "The server is reachable and the bot exists", body = Hello)))]
async fn hello_slash(WebBot(_bot): WebBot) -> Json<Hello> {
    Json(Hello { status: "ok" })
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserBody {
    id: Option<String>,
    name: Option<String>,
    picture_url: Option<String>,
    profile: Option<String>,
}

impl UserBody {
    fn profile(&self) -> botyard_domain::Result<UserProfile> {
        let profile = UserProfile {
            first_name: self.name.clone(),
            picture_url: self.picture_url.clone(),
            profile: self.profile.clone(),
            ..UserProfile::default()
        };
        profile.check()?;
        Ok(profile)
    }
}

#[derive(Serialize, ToSchema)]
struct CreatedUser {
    user: UserView,
    /// The key to send as `x-user-key` from now on; shown only here.
    key: String,
}

#[derive(Serialize, ToSchema)]
struct UserEnvelope {
    user: UserView,
}

/// Create a user (`createUser`): answers with its key.
#[utoipa::path(post, path = "/users", tag = "Chat API", params(("webhook" = String, Path)), request_body = UserBody,
    responses((status = 201, description = "The created user, with its key", body = CreatedUser)))]
async fn create_user(
    WebBot(bot): WebBot,
    State(state): State<AppState>,
    JsonBody(body, _): Body<UserBody>,
) -> Result<Response> {
    let (user, key) = state.runtime.web_create_user(&bot, body.id.as_deref(), &body.profile()?).await?;
    Ok((StatusCode::CREATED, Json(CreatedUser { user: user.into(), key })).into_response())
}

/// The user of the key (`getOrCreateUser`): botyard's keys are issued by `createUser`, so the
/// user exists whenever the key is valid.
#[utoipa::path(post, path = "/users/get-or-create", tag = "Chat API", params(("webhook" = String, Path)),
    request_body = UserBody, responses((status = 201, description = "The user of the key", body = UserEnvelope)))]
async fn get_or_create_user(
    me: WebUser,
    State(state): State<AppState>,
    JsonBody(body, _): Body<UserBody>,
) -> Result<Response> {
    let user = if body.name.is_some() || body.picture_url.is_some() || body.profile.is_some() {
        state.runtime.web_update_user(&me.user, &body.profile()?).await?
    } else {
        me.user
    };
    Ok((StatusCode::CREATED, Json(UserEnvelope { user: user.into() })).into_response())
}

/// The user of the key (`getUser`).
#[utoipa::path(get, path = "/users/me", tag = "Chat API", params(("webhook" = String, Path)), responses((status = 200, description = "The user of the key", body = UserEnvelope)))]
async fn get_user(me: WebUser) -> Json<UserEnvelope> {
    Json(UserEnvelope { user: me.user.into() })
}

/// Change the user's name, picture or profile (`updateUser`).
#[utoipa::path(put, path = "/users/me", tag = "Chat API", params(("webhook" = String, Path)), request_body = UserBody,
    responses((status = 200, description = "The updated user", body = UserEnvelope)))]
async fn update_user(
    me: WebUser,
    State(state): State<AppState>,
    JsonBody(body, _): Body<UserBody>,
) -> Result<Json<UserEnvelope>> {
    let mut profile = body.profile()?;
    profile.first_name = profile.first_name.or(me.user.first_name.clone());
    profile.picture_url = profile.picture_url.or(me.user.picture_url.clone());
    profile.profile = profile.profile.or(me.user.profile.clone());
    let user = state.runtime.web_update_user(&me.user, &profile).await?;
    Ok(Json(UserEnvelope { user: user.into() }))
}

/// Delete the user (`deleteUser`).
#[utoipa::path(delete, path = "/users/me", tag = "Chat API", params(("webhook" = String, Path)), responses((status = 200, description = "The user is deleted (an empty object)", body = Empty)))]
async fn delete_user(me: WebUser, State(state): State<AppState>) -> Result<Json<Empty>> {
    state.runtime.web_delete_user(&me.user).await?;
    Ok(Json(Empty {}))
}
