//! The stores: libraries (`GET /store/libs`) and demo bots (`GET /store/bots`,
//! `POST /store/bots/{id}/install`), plus a bot's installed libraries (`/bots/{id}/libs`).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use botyard_domain::{Error, WorkspaceId};
use botyard_jobs::catalog;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BbCaller;
use super::bots::bot_access;
use super::tasks::TaskView;
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::JsonBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(store_libs))
        .routes(routes!(store_bots))
        .routes(routes!(install_demo))
        .routes(routes!(bot_libs, install_lib))
        .routes(routes!(uninstall_lib))
}

#[derive(Serialize, ToSchema)]
struct StoreLibView {
    id: &'static str,
    name: &'static str,
    description: &'static str,
}

/// Libraries a bot can install.
#[utoipa::path(get, path = "/store/libs", tag = "Bots.Business: stores", responses((status = 200, description = "The libraries of the store", body = Vec<StoreLibView>)))]
async fn store_libs(_caller: BbCaller) -> Json<Vec<StoreLibView>> {
    Json(
        catalog::LIBS
            .iter()
            .map(|l| StoreLibView { id: l.id, name: l.name, description: l.description })
            .collect(),
    )
}

#[derive(Serialize, ToSchema)]
struct DemoView {
    id: &'static str,
    name: &'static str,
    description: &'static str,
    libs: Vec<&'static str>,
}

#[derive(Serialize, ToSchema)]
struct CollectionView {
    title: &'static str,
    bots: Vec<DemoView>,
}

/// Demo bots, by collection.
#[utoipa::path(get, path = "/store/bots", tag = "Bots.Business: stores", responses((status = 200, description = "The demo bots, by collection", body = Vec<CollectionView>)))]
async fn store_bots(_caller: BbCaller) -> Json<Vec<CollectionView>> {
    let mut collections: Vec<CollectionView> = Vec::new();
    for demo in catalog::DEMOS {
        let view = DemoView {
            id: demo.id,
            name: demo.name,
            description: demo.description,
            libs: demo.libs.to_vec(),
        };
        match collections.iter_mut().find(|c| c.title == demo.collection) {
            Some(c) => c.bots.push(view),
            None => collections.push(CollectionView { title: demo.collection, bots: vec![view] }),
        }
    }
    Json(collections)
}

#[derive(Deserialize, ToSchema, Default)]
struct InstallDemo {
    /// The new bot's name (default: the demo's).
    name: Option<String>,
    /// botyard: the workspace to install into (default: the personal one).
    workspace_id: Option<String>,
}

/// Install a demo bot: a copy of it in your workspace (a task; `details.new_bot_id` when done).
#[utoipa::path(post, path = "/store/bots/{demo_id}/install", tag = "Bots.Business: stores",
    params(("demo_id" = String, Path)), request_body = InstallDemo, responses((status = 201, description = "The install task, started: `details.new_bot_id` is the new bot once it is done", body = TaskView)))]
async fn install_demo(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(demo): Path<String>,
    JsonBody(body, _): Body<InstallDemo>,
) -> Result<Response> {
    let workspace = match &body.workspace_id {
        Some(ws) => WorkspaceId::parse(ws)?,
        None => state.services.default_workspace(&caller).await?,
    };
    let target = state.services.workspace_access(caller, workspace).await?;
    let job = state.jobs.install_demo(&target, &demo, body.name).await?;
    Ok((StatusCode::CREATED, Json(TaskView::new(&job))).into_response())
}

#[derive(Serialize, ToSchema)]
struct BotLibView {
    /// The store id, or the name of a library that came from git.
    id: String,
    name: String,
    description: Option<&'static str>,
}

/// The bot's libraries.
#[utoipa::path(get, path = "/bots/{id}/libs", tag = "Bots.Business: stores", params(("id" = String, Path)),
    responses((status = 200, description = "The bot's installed libraries", body = Vec<BotLibView>)))]
async fn bot_libs(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<BotLibView>>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let libs = state.services.bot_libs(access.bot.number).await?;
    Ok(Json(
        libs.iter()
            .map(|l| BotLibView {
                id: l.store_id.clone().unwrap_or_else(|| l.name.clone()),
                name: l.name.clone(),
                description: l.store_id.as_deref().and_then(catalog::lib).map(|s| s.description),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
struct InstallLib {
    lib_id: String,
}

/// Install a library of the store; the bot's code reaches it as `Libs.<name>`.
#[utoipa::path(post, path = "/bots/{id}/libs", tag = "Bots.Business: stores", params(("id" = String, Path)),
    request_body = InstallLib, responses((status = 201, description = "The installed library", body = BotLibView)))]
async fn install_lib(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<InstallLib>,
) -> Result<Response> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let lib = catalog::lib(&body.lib_id).ok_or_else(|| Error::not_found("Library"))?;
    let installed = state.services.install_lib(&access, lib.to_lib()).await?;
    let view = BotLibView { id: lib.id.to_owned(), name: installed.name, description: Some(lib.description) };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Uninstall a library (by store id or name).
#[utoipa::path(delete, path = "/bots/{id}/libs/{lib_id}", tag = "Bots.Business: stores",
    params(("id" = String, Path), ("lib_id" = String, Path)), responses((status = 200, description = "`true`: the library is uninstalled", body = bool)))]
async fn uninstall_lib(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, lib)): Path<(String, String)>,
) -> Result<Json<bool>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    state.services.uninstall_lib(&access, &lib).await?;
    Ok(Json(true))
}
