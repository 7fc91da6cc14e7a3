//! `/bots/{id}/broadcast_tasks`: the bot's broadcasts (`Bot.runAll`) with their progress; pause,
//! resume and delete (cancel) them.

use axum::Json;
use axum::extract::{Path, State};
use botyard_domain::Error;
use botyard_domain::job::{Job, JobStatus};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Result;
use super::auth::BbCaller;
use super::bots::bot_access;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_broadcasts))
        .routes(routes!(delete_broadcast))
        .routes(routes!(pause_broadcast))
        .routes(routes!(resume_broadcast))
}

#[derive(Serialize, ToSchema)]
pub struct BroadcastView {
    id: i64,
    /// `waiting`, `running`, `paused`, `finished`, `canceled` or `failed`.
    status: &'static str,
    command: String,
    for_chats: String,
    /// Percent of the chats reached.
    progress: i64,
    total: i64,
    cur_position: i64,
    errors_count: i64,
    created_at: String,
    finished_at: Option<String>,
}

impl BroadcastView {
    fn new(job: &Job) -> Self {
        let number = |k: &str| job.details.get(k).and_then(Value::as_i64).unwrap_or(0);
        let text = |k: &str| job.params.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let paused = job.control.as_deref() == Some("pause");
        let status = match job.status {
            JobStatus::Enqueued if paused => "paused",
            JobStatus::Enqueued => "waiting",
            JobStatus::Processing if paused => "paused",
            JobStatus::Processing => "running",
            JobStatus::Succeeded => "finished",
            JobStatus::Canceled => "canceled",
            JobStatus::Failed => "failed",
        };
        Self {
            id: job.id,
            status,
            command: text("command"),
            for_chats: text("for_chats"),
            progress: number("progress"),
            total: number("total"),
            cur_position: number("cur_position"),
            errors_count: number("errors_count"),
            created_at: job.enqueued_at.to_rfc3339(),
            finished_at: job.finished_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// The bot's broadcast tasks, newest first.
#[utoipa::path(get, path = "/bots/{id}/broadcast_tasks", tag = "Bots.Business: broadcasts", params(("id" = String, Path)),
    responses((status = 200, description = "The bot's broadcast tasks, newest first", body = Vec<BroadcastView>)))]
async fn list_broadcasts(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<BroadcastView>>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    Ok(Json(state.jobs.broadcasts(&access).await?.iter().map(BroadcastView::new).collect()))
}

async fn control(
    state: AppState,
    caller: botyard_core::Caller,
    id: String,
    task: String,
    control: Option<&str>,
) -> Result<Json<BroadcastView>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let task: i64 = task.parse().map_err(|_| Error::not_found("Broadcast task"))?;
    let job = state.jobs.control_broadcast(&access, task, control).await?;
    Ok(Json(BroadcastView::new(&job)))
}

/// Delete (cancel) a broadcast: it stops within a second.
#[utoipa::path(delete, path = "/bots/{id}/broadcast_tasks/{task_id}", tag = "Bots.Business: broadcasts",
    params(("id" = String, Path), ("task_id" = i64, Path)), responses((status = 200, description = "The canceled broadcast", body = BroadcastView)))]
async fn delete_broadcast(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
) -> Result<Json<BroadcastView>> {
    control(state, caller, id, task, Some("cancel")).await
}

/// Pause a broadcast: it stops within a second and keeps its place.
#[utoipa::path(post, path = "/bots/{id}/broadcast_tasks/{task_id}/pause", tag = "Bots.Business: broadcasts",
    params(("id" = String, Path), ("task_id" = i64, Path)), responses((status = 200, description = "The paused broadcast", body = BroadcastView)))]
async fn pause_broadcast(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
) -> Result<Json<BroadcastView>> {
    control(state, caller, id, task, Some("pause")).await
}

/// Resume a paused broadcast where it was.
#[utoipa::path(post, path = "/bots/{id}/broadcast_tasks/{task_id}/resume", tag = "Bots.Business: broadcasts",
    params(("id" = String, Path), ("task_id" = i64, Path)), responses((status = 200, description = "The resumed broadcast", body = BroadcastView)))]
async fn resume_broadcast(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
) -> Result<Json<BroadcastView>> {
    control(state, caller, id, task, None).await
}
