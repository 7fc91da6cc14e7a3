//! `/v2/bots/{id}/chats`: the bot's chats; blocking and unblocking them.

use axum::Json;
use axum::extract::{Path, State};
use botyard_domain::Error;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Result;
use super::auth::BbCaller;
use super::bots::bot_access;
use super::views::ChatView;
use crate::AppState;
use crate::common::extract::{QueryPairs, query_page};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_chats)).routes(routes!(block_chat)).routes(routes!(unblock_chat))
}

/// The bot's chats, `?page=N` (50 per page, from 1).
#[utoipa::path(get, path = "/bots/{id}/chats", tag = "Bots.Business: chats",
    params(("id" = String, Path), ("page" = Option<u32>, Query)), responses((status = 200, description = "A page of the bot's chats", body = Vec<ChatView>)))]
async fn list_chats(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Vec<ChatView>>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let chats = state.services.chats(&access, query_page(&query)?).await?;
    Ok(Json(chats.into_iter().map(ChatView::from).collect()))
}

async fn set_blocked(
    state: &AppState,
    caller: &botyard_core::Caller,
    id: &str,
    chat: &str,
    blocked: bool,
) -> Result<Json<ChatView>> {
    let access = bot_access(&state.services, caller, id).await?;
    let chat = chat.parse().map_err(|_| Error::not_found("Chat"))?;
    Ok(Json(state.services.set_chat_blocked(&access, chat, blocked).await?.into()))
}

/// Block a chat: the bot no longer processes its messages.
#[utoipa::path(post, path = "/bots/{id}/chats/{chat_id}/block", tag = "Bots.Business: chats",
    params(("id" = String, Path), ("chat_id" = i64, Path)), responses((status = 200, description = "The blocked chat", body = ChatView)))]
async fn block_chat(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, chat)): Path<(String, String)>,
) -> Result<Json<ChatView>> {
    set_blocked(&state, &caller, &id, &chat, true).await
}

/// Unblock a chat.
#[utoipa::path(post, path = "/bots/{id}/chats/{chat_id}/unblock", tag = "Bots.Business: chats",
    params(("id" = String, Path), ("chat_id" = i64, Path)), responses((status = 200, description = "The unblocked chat", body = ChatView)))]
async fn unblock_chat(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, chat)): Path<(String, String)>,
) -> Result<Json<ChatView>> {
    set_blocked(&state, &caller, &id, &chat, false).await
}
