//! `/workspaces/{id}/apps` (a botyard addition): the client ids and secrets programs use to call
//! the Kore.ai dialect (`/api/public`) with JWTs.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use botyard_domain::app::ApiApp;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BbCaller;
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::JsonBody;
use crate::common::extract::workspace_id;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_app, list_apps)).routes(routes!(delete_app))
}

#[derive(Deserialize, ToSchema)]
struct NewApp {
    name: String,
    /// "Bot Definition" (import and export), "Bot Import", "Bot Export", "Bot Publish" (publish and
    /// its status), "Publish", "Publish Status".
    #[serde(default)]
    scopes: Vec<String>,
    /// Whether tokens must carry a `jti` claim (each accepted once).
    #[serde(default)]
    require_jti: bool,
    /// The longest a token may live, in seconds (60 to 86400; default 3600).
    token_lifetime_secs: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct AppView {
    client_id: String,
    /// Shown only when the app is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    name: String,
    scopes: Vec<String>,
    require_jti: bool,
    token_lifetime_secs: i64,
    workspace_id: String,
    created_at: String,
}

fn view(app: ApiApp, with_secret: bool) -> AppView {
    AppView {
        client_id: app.client_id,
        client_secret: with_secret.then_some(app.client_secret),
        name: app.name,
        scopes: app.scopes,
        require_jti: app.require_jti,
        token_lifetime_secs: app.token_lifetime_secs,
        workspace_id: app.workspace_id.to_string(),
        created_at: app.created_at.to_rfc3339(),
    }
}

/// Create an app; its client secret is shown only in this answer.
#[utoipa::path(post, path = "/workspaces/{id}/apps", tag = "Bots.Business: workspaces", params(("id" = String, Path)),
    request_body = NewApp, responses((status = 201, description = "The created app, with its client secret", body = AppView)))]
async fn create_app(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<NewApp>,
) -> Result<Response> {
    let access = state.services.workspace_access(caller, workspace_id(&id)?).await?;
    let new = botyard_core::apps::NewApp {
        name: body.name,
        scopes: body.scopes,
        require_jti: body.require_jti,
        token_lifetime_secs: body.token_lifetime_secs,
    };
    let app = state.services.create_app(&access, new).await?;
    Ok((StatusCode::CREATED, Json(view(app, true))).into_response())
}

/// The workspace's apps (without their secrets).
#[utoipa::path(get, path = "/workspaces/{id}/apps", tag = "Bots.Business: workspaces", params(("id" = String, Path)),
    responses((status = 200, description = "The workspace's apps, without their secrets", body = Vec<AppView>)))]
async fn list_apps(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<AppView>>> {
    let access = state.services.workspace_access(caller, workspace_id(&id)?).await?;
    Ok(Json(state.services.apps(&access).await?.into_iter().map(|a| view(a, false)).collect()))
}

/// Delete an app: its tokens stop working at once.
#[utoipa::path(delete, path = "/workspaces/{id}/apps/{client_id}", tag = "Bots.Business: workspaces",
    params(("id" = String, Path), ("client_id" = String, Path)), responses((status = 200, description = "`true`: the app is deleted", body = bool)))]
async fn delete_app(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, client)): Path<(String, String)>,
) -> Result<Json<bool>> {
    let access = state.services.workspace_access(caller, workspace_id(&id)?).await?;
    state.services.delete_app(&access, &client).await?;
    Ok(Json(true))
}
