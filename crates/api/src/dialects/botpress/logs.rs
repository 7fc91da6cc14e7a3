//! `GET /v1/admin/bots/{id}/logs` (`getBotLogs`): the bot's error log, as Botpress log lines.

use axum::Json;
use axum::extract::{Path, State};
use botyard_domain::effects::ErrorLogQuery;
use botyard_domain::{BotRef, Error, ErrorCode, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Result;
use super::auth::BpWorkspace;
use crate::AppState;
use crate::common::extract::QueryPairs;

const PER_PAGE: u32 = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_bot_logs))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct LogLine {
    timestamp: String,
    level: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Logs {
    logs: Vec<LogLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn time(query: &QueryPairs, key: &str) -> botyard_domain::Result<Option<Timestamp>> {
    query
        .get(key)
        .map(|raw| {
            Timestamp::parse_rfc3339(raw).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidQuery,
                    format!("{key} must be an ISO 8601 date-time, not \"{raw}\""),
                )
            })
        })
        .transpose()
}

/// The bot's logs: botyard keeps its error log (failed runs), newest first. `timeStart` is
/// required; `timeEnd`, `level`, `messageContains`, `conversationId` and `userId` (the Chat API's
/// ids) narrow it down, `nextToken` pages.
#[utoipa::path(get, path = "/admin/bots/{id}/logs", tag = "Botpress: bots",
    params(
        ("id" = String, Path), ("x-workspace-id" = String, Header),
        ("timeStart" = String, Query), ("timeEnd" = Option<String>, Query), ("level" = Option<String>, Query),
        ("messageContains" = Option<String>, Query), ("conversationId" = Option<String>, Query),
        ("userId" = Option<String>, Query), ("nextToken" = Option<String>, Query),
    ),
    responses((status = 200, description = "A page of the bot's logs, newest first", body = Logs)))]
async fn get_bot_logs(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Logs>> {
    let start = time(&query, "timeStart")?
        .ok_or_else(|| Error::new(ErrorCode::InvalidQuery, "timeStart is required"))?;
    let end = time(&query, "timeEnd")?;
    let page: u32 = match query.get("nextToken") {
        None | Some("") => 1,
        Some(raw) => raw.parse().map_err(|_| Error::new(ErrorCode::InvalidQuery, "nextToken is invalid"))?,
    };
    let bot = BotRef::parse(&id).map_err(|_| Error::not_found("Bot"))?;
    let access = state.services.workspace_bot(&ws, &bot).await?;
    // botyard logs errors only: any other level has no lines.
    if query.get("level").is_some_and(|l| !l.is_empty() && l != "error") {
        return Ok(Json(Logs { logs: Vec::new(), next_token: None }));
    }
    let text = |key: &str| query.get(key).filter(|v| !v.is_empty()).map(str::to_owned);
    let filter = ErrorLogQuery {
        since: Some(start),
        until: end,
        contains: text("messageContains"),
        chat: text("conversationId"),
        user: text("userId"),
        page,
        per_page: PER_PAGE,
    };
    let found = state.services.error_logs(&access, &filter).await?;
    let full = found.len() as u32 == PER_PAGE;
    let logs = found
        .into_iter()
        .map(|e| LogLine {
            timestamp: e.entry.at.to_rfc3339(),
            level: "error".into(),
            message: match &e.entry.command {
                Some(command) => format!("{command}: {}", e.entry.title),
                None => e.entry.title.clone(),
            },
            user_id: e.user_external,
            conversation_id: e.chat_external,
        })
        .collect();
    Ok(Json(Logs { logs, next_token: full.then(|| (page + 1).to_string()) }))
}
