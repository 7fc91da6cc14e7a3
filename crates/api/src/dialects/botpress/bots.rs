//! `/v1/admin/bots`: create, list, get, update, delete bots and rotate their signing secret.

use axum::Json;
use axum::extract::{Path, State};
use botyard_core::NewBot;
use botyard_domain::bot::Origin;
use botyard_domain::bot::listing::{BotListQuery, BotSortField};
use botyard_domain::page::SortDirection;
use botyard_domain::{Error, ErrorCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BpWorkspace;
use super::views::{BotBody, BotEnvelope, BotList, BotSummary, BotView, Empty, ListMeta, RotatedSecret};
use super::{Body, Result, bot_ref};
use crate::AppState;
use crate::common::extract::JsonBody;
use crate::common::extract::{QueryPairs, query_bool};

const PAGE_SIZE: u32 = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_bot, list_bots))
        .routes(routes!(get_bot, update_bot, delete_bot))
        .routes(routes!(rotate_signing_secret))
}

/// Create a bot (`createBot`).
#[utoipa::path(post, path = "/admin/bots", tag = "Botpress: bots", request_body = BotBody,
    params(("x-workspace-id" = String, Header, description = "Workspace ID")),
    responses((status = 200, description = "The created bot, with its signing secret", body = BotEnvelope)))]
async fn create_bot(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    JsonBody(body, _): Body<BotBody>,
) -> Result<Json<BotEnvelope>> {
    body.check_type()?;
    let dev = body.dev.unwrap_or(false);
    let mut changes = body.into_changes();
    // Deployed at once, as on Botpress Cloud: the bot runs.
    let new = NewBot { name: changes.name.take(), dev, changes, runs: true, origin: Origin::Botpress };
    let bot = state.services.create_bot(&ws, new).await?;
    Ok(Json(BotEnvelope { bot: BotView::new(bot, true) }))
}

/// List the workspace's bots (`listBots`).
#[utoipa::path(get, path = "/admin/bots", tag = "Botpress: bots",
    params(
        ("x-workspace-id" = String, Header, description = "Workspace ID"),
        ("dev" = Option<bool>, Query, description = "Development bots only (otherwise production bots only)"),
        ("tags" = Option<Object>, Query, description = "Tag filter, as tags.k=v or tags[k]=v"),
        ("nextToken" = Option<String>, Query),
        ("sortField" = Option<String>, Query, description = "createdAt or updatedAt"),
        ("sortDirection" = Option<String>, Query, description = "asc or desc"),
    ),
    responses((status = 200, description = "A page of the workspace's bots; `meta.nextToken` asks for the next one", body = BotList)))]
async fn list_bots(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<BotList>> {
    let sort = match query.get("sortField") {
        None | Some("createdAt") => BotSortField::CreatedAt,
        Some("updatedAt") => BotSortField::UpdatedAt,
        Some(other) => {
            return Err(invalid_query(format!("sortField must be createdAt or updatedAt, not \"{other}\"")));
        }
    };
    let direction = match query.get("sortDirection") {
        None | Some("asc") => SortDirection::Asc,
        Some("desc") => SortDirection::Desc,
        Some(other) => {
            return Err(invalid_query(format!("sortDirection must be asc or desc, not \"{other}\"")));
        }
    };
    let tags = query
        .0
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("tags.").or_else(|| k.strip_prefix("tags[")?.strip_suffix(']'))?;
            Some((key.to_owned(), v.clone()))
        })
        .collect();
    let list = BotListQuery {
        workspaces: Vec::new(),
        dev: Some(query_bool(&query, "dev")?.unwrap_or(false)),
        tags,
        sort,
        direction,
        page_token: query.get("nextToken").filter(|t| !t.is_empty()).map(str::to_owned),
        limit: PAGE_SIZE,
    };
    let page = state.services.list_bots(&ws, list).await?;
    Ok(Json(BotList {
        bots: page.items.into_iter().map(BotSummary::from).collect(),
        meta: ListMeta { next_token: page.next_token },
    }))
}

fn invalid_query(message: String) -> crate::common::dialect::ApiError<super::Botpress> {
    Error::new(ErrorCode::InvalidQuery, message).into()
}

/// Get a bot (`getBot`), with its signing secret unless the caller is a viewer.
#[utoipa::path(get, path = "/admin/bots/{id}", tag = "Botpress: bots",
    params(("id" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "The bot", body = BotEnvelope)))]
async fn get_bot(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BotEnvelope>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    let with_secret = shows_secret(&access);
    Ok(Json(BotEnvelope { bot: BotView::new(access.bot, with_secret) }))
}

/// Whether the caller sees the bot's signing secret: when they may change the bot (as they may
/// rotate the secret), not as a viewer.
fn shows_secret(access: &botyard_core::BotAccess) -> bool {
    access.role.allows(botyard_domain::access::Permission::ChangeBots)
}

/// Update a bot (`updateBot`): a partial update; map entries set to null are deleted.
#[utoipa::path(put, path = "/admin/bots/{id}", tag = "Botpress: bots", request_body = BotBody,
    params(("id" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "The updated bot", body = BotEnvelope)))]
async fn update_bot(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<BotBody>,
) -> Result<Json<BotEnvelope>> {
    if body.dev.is_some() {
        return Err(Error::invalid("dev can only be set when a bot is created").into());
    }
    body.check_type()?;
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    let with_secret = shows_secret(&access);
    // An update deploys the bot, as on Botpress Cloud: a bot stopped elsewhere runs again.
    let bot = state.services.deploy_bot(access, body.into_changes()).await?;
    Ok(Json(BotEnvelope { bot: BotView::new(bot, with_secret) }))
}

/// Delete a bot (`deleteBot`).
#[utoipa::path(delete, path = "/admin/bots/{id}", tag = "Botpress: bots",
    params(("id" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "The bot is deleted (an empty object)", body = Empty)))]
async fn delete_bot(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Empty>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    state.services.delete_bot(access).await?;
    Ok(Json(Empty {}))
}

/// Replace the bot's signing secret (`rotateBotSigningSecrets`).
#[utoipa::path(post, path = "/admin/bots/{id}/signing-secrets/rotate", tag = "Botpress: bots",
    params(("id" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "The bot's new signing secret", body = RotatedSecret)))]
async fn rotate_signing_secret(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RotatedSecret>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    let bot = state.services.rotate_signing_secret(access).await?;
    Ok(Json(RotatedSecret { new_signing_secret: bot.signing_secret }))
}
