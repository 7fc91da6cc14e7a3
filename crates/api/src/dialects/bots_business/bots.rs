//! `/v2/bots`: create, list, get, edit, delete, start and stop bots.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use botyard_core::{BotAccess, Caller, NewBot, Services};
use botyard_domain::bot::listing::BotListQuery;
use botyard_domain::bot::{BotChanges, Origin, RunState};
use botyard_domain::{BotRef, Error, WorkspaceId};
use http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BbCaller;
use super::views::BotView;
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::JsonBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_bot, list_bots))
        .routes(routes!(get_bot, edit_bot, delete_bot))
        .routes(routes!(set_status))
}

/// The bot named in the path, if the caller may see it.
pub(super) async fn bot_access(
    services: &Services,
    caller: &Caller,
    raw: &str,
) -> botyard_domain::Result<BotAccess> {
    let bot = BotRef::parse(raw).map_err(|_| Error::not_found("Bot"))?;
    services.bot_access(caller, &bot).await
}

#[derive(Deserialize, ToSchema)]
struct CreateBot {
    name: String,
    /// The Telegram bot token from @BotFather; optional for bots used on web chat only.
    token: Option<String>,
    /// botyard: the workspace to create the bot in (default: the personal workspace).
    workspace_id: Option<String>,
}

/// Create a bot.
#[utoipa::path(post, path = "/bots", tag = "Bots.Business: bots", request_body = CreateBot,
    responses((status = 201, description = "The created bot", body = BotView)))]
async fn create_bot(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<CreateBot>,
) -> Result<Response> {
    let workspace = match &body.workspace_id {
        Some(ws) => WorkspaceId::parse(ws)?,
        None => state.services.default_workspace(&caller).await?,
    };
    let access = state.services.workspace_access(caller, workspace).await?;
    let changes = BotChanges { telegram_token: body.token.map(Some), ..BotChanges::default() };
    let new =
        NewBot { name: Some(body.name), dev: false, changes, runs: false, origin: Origin::BotsBusiness };
    let bot = state.services.create_bot(&access, new).await?;
    Ok((StatusCode::CREATED, Json(BotView::from(bot))).into_response())
}

/// The caller's bots, in every workspace they belong to.
#[utoipa::path(get, path = "/bots", tag = "Bots.Business: bots", responses((status = 200, description = "The caller's bots", body = Vec<BotView>)))]
async fn list_bots(BbCaller(caller): BbCaller, State(state): State<AppState>) -> Result<Json<Vec<BotView>>> {
    let mut query = BotListQuery { limit: 500, ..BotListQuery::default() };
    let mut bots = Vec::new();
    loop {
        let page = state.services.list_all_bots(&caller, query.clone()).await?;
        bots.extend(page.items.into_iter().map(BotView::from));
        match page.next_token {
            Some(token) => query.page_token = Some(token),
            None => break,
        }
    }
    Ok(Json(bots))
}

/// Get one bot.
#[utoipa::path(get, path = "/bots/{id}", tag = "Bots.Business: bots", params(("id" = String, Path)),
    responses((status = 200, description = "The bot", body = BotView)))]
async fn get_bot(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BotView>> {
    Ok(Json(bot_access(&state.services, &caller, &id).await?.bot.into()))
}

#[derive(Deserialize, ToSchema)]
struct EditBot {
    name: Option<String>,
    /// The Telegram token; an empty string removes it.
    token: Option<String>,
    csv_url: Option<String>,
    git_remote: Option<String>,
}

fn clearable(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| Some(v).filter(|v| !v.trim().is_empty()))
}

/// Edit a bot's name, token, CSV URL or git remote.
#[utoipa::path(put, path = "/bots/{id}", tag = "Bots.Business: bots", params(("id" = String, Path)),
    request_body = EditBot, responses((status = 200, description = "The edited bot", body = BotView)))]
async fn edit_bot(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<EditBot>,
) -> Result<Json<BotView>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let changes = BotChanges {
        name: body.name,
        telegram_token: clearable(body.token),
        csv_url: clearable(body.csv_url),
        git_remote: clearable(body.git_remote),
        ..BotChanges::default()
    };
    Ok(Json(state.services.update_bot(access, changes).await?.into()))
}

/// Delete a bot.
#[utoipa::path(delete, path = "/bots/{id}", tag = "Bots.Business: bots", params(("id" = String, Path)),
    responses((status = 200, description = "`true`: the bot is deleted", body = bool)))]
async fn delete_bot(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<bool>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    state.services.delete_bot(access).await?;
    Ok(Json(true))
}

#[derive(Deserialize, ToSchema)]
struct StatusChange {
    /// `start_launch` or `start_stopping`.
    status: String,
}

/// Start (`start_launch`) or stop (`start_stopping`) a bot; a running bot has status `works`.
#[utoipa::path(post, path = "/bots/{id}/status", tag = "Bots.Business: bots", params(("id" = String, Path)),
    request_body = StatusChange, responses((status = 200, description = "The bot, with its new status", body = BotView)))]
async fn set_status(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<StatusChange>,
) -> Result<Json<BotView>> {
    let target = match body.status.as_str() {
        "start_launch" => RunState::Works,
        "start_stopping" => RunState::Stopped,
        other => {
            return Err(Error::invalid(format!(
                "status must be start_launch or start_stopping, not \"{other}\""
            ))
            .into());
        }
    };
    let access = bot_access(&state.services, &caller, &id).await?;
    Ok(Json(state.telegram.set_run_state(access, target).await?.into()))
}
