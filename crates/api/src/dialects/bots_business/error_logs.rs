//! `/v2/bots/{id}/error_logs`: failures of the bot's code.

use axum::Json;
use axum::extract::{Path, State};
use botyard_domain::effects::ErrorLogQuery;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Result;
use super::auth::BbCaller;
use super::bots::bot_access;
use super::views::ErrorLogView;
use crate::AppState;
use crate::common::extract::{QueryPairs, query_page};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_error_logs, clear_error_logs))
}

/// The error log, newest first, `?page=N` (50 per page, from 1).
#[utoipa::path(get, path = "/bots/{id}/error_logs", tag = "Bots.Business: error logs",
    params(("id" = String, Path), ("page" = Option<u32>, Query)), responses((status = 200, description = "A page of the bot's error log, newest first", body = Vec<ErrorLogView>)))]
async fn list_error_logs(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Vec<ErrorLogView>>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let query = ErrorLogQuery {
        page: query_page(&query)?,
        per_page: botyard_core::conversations::PER_PAGE,
        ..ErrorLogQuery::default()
    };
    let logs = state.services.error_logs(&access, &query).await?;
    Ok(Json(logs.into_iter().map(ErrorLogView::from).collect()))
}

/// Clear the error log.
#[utoipa::path(delete, path = "/bots/{id}/error_logs", tag = "Bots.Business: error logs",
    params(("id" = String, Path)), responses((status = 200, description = "`true`: the error log is cleared", body = bool)))]
async fn clear_error_logs(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<bool>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    state.services.clear_error_logs(&access).await?;
    Ok(Json(true))
}
