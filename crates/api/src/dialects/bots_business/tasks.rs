//! Background tasks of a bot in the Bots.Business dialect: CSV import (`csv_import_tasks`, the
//! seed's shape), git import and export, copying a bot, and any task's status.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Response};
use botyard_core::transfers::Transfer;
use botyard_domain::job::{Job, JobKind, JobStatus};
use botyard_domain::{Error, WorkspaceId};
use botyard_jobs::TransferRequest;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BbCaller;
use super::bots::bot_access;
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::JsonBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_csv_import))
        .routes(routes!(csv_import_task))
        .routes(routes!(git_import))
        .routes(routes!(git_export))
        .routes(routes!(copy_bot, copy_bot_get))
        .routes(routes!(task))
}

/// Bots.Business's word for a task's state.
fn status(job: &Job) -> &'static str {
    match job.status {
        JobStatus::Enqueued => "pending",
        JobStatus::Processing => "in_progress",
        JobStatus::Succeeded => "ok",
        JobStatus::Failed => "error",
        JobStatus::Canceled => "canceled",
    }
}

/// A CSV import task, as `GET /bots/{id}/csv_import_tasks/{task_id}` shows it.
#[derive(Serialize, ToSchema)]
pub struct CsvTaskView {
    status: &'static str,
    task_id: i64,
    bot_id: i64,
    new_count: i64,
    updated_count: i64,
    destroyed_count: i64,
    created_at: String,
    /// botyard: why the import failed (with the line of the sheet at fault).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl CsvTaskView {
    fn new(job: &Job) -> Self {
        let count = |key: &str| job.details.get(key).and_then(Value::as_i64).unwrap_or(0);
        Self {
            status: status(job),
            task_id: job.id,
            bot_id: job.bot.unwrap_or_default(),
            new_count: count("new_count"),
            updated_count: count("updated_count"),
            destroyed_count: count("destroyed_count"),
            created_at: job.enqueued_at.to_rfc3339(),
            error: job.error.as_ref().map(|e| e.message.clone()),
        }
    }
}

/// Any task of a bot.
#[derive(Serialize, ToSchema)]
pub struct TaskView {
    task_id: i64,
    bot_id: Option<i64>,
    kind: &'static str,
    status: &'static str,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    #[schema(value_type = Object)]
    details: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl TaskView {
    pub fn new(job: &Job) -> Self {
        let mut details = Map::new();
        if let Value::Object(d) = &job.details {
            for (k, v) in d {
                let key = match k.as_str() {
                    "botNumber" => "new_bot_id".to_owned(),
                    "botId" => "new_bot_uid".to_owned(),
                    other => other.to_owned(),
                };
                details.insert(key, v.clone());
            }
        }
        Self {
            task_id: job.id,
            bot_id: job.bot,
            kind: job.kind.as_str(),
            status: status(job),
            created_at: job.enqueued_at.to_rfc3339(),
            started_at: job.started_at.map(|t| t.to_rfc3339()),
            finished_at: job.finished_at.map(|t| t.to_rfc3339()),
            details: Value::Object(details),
            error: job.error.as_ref().map(|e| e.message.clone()),
        }
    }
}

/// Start a CSV import: upload the sheet (multipart `file`, or a `text/csv` body), or give
/// `{"csv_url": …}`; without either, the bot's `csv_url` is fetched.
#[utoipa::path(post, path = "/bots/{id}/csv_import_tasks", tag = "Bots.Business: import and export",
    params(("id" = String, Path)), responses((status = 201, description = "The CSV import task, started", body = CsvTaskView)))]
async fn start_csv_import(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<Response> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let max = state.services.config.jobs.upload_max_bytes;
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let source = if content_type.starts_with("multipart/form-data") {
        let mut form = <Multipart as axum::extract::FromRequest<()>>::from_request(request, &())
            .await
            .map_err(|e| Error::invalid(format!("Cannot read the form: {e}")))?;
        let mut file = None;
        while let Some(field) =
            form.next_field().await.map_err(|e| Error::invalid(format!("Cannot read the form: {e}")))?
        {
            if field.name() == Some("file") {
                file = Some(
                    field.bytes().await.map_err(|e| Error::invalid(format!("Cannot read the file: {e}")))?,
                );
            }
        }
        TransferRequest::UploadedCsv(file.ok_or_else(|| Error::invalid("The form has no file"))?.to_vec())
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), max)
            .await
            .map_err(|_| Error::new(botyard_domain::ErrorCode::PayloadTooLarge, "The CSV is too large"))?;
        if content_type.starts_with("text/csv") || content_type.starts_with("text/plain") {
            TransferRequest::UploadedCsv(bytes.to_vec())
        } else {
            let body: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
                Value::Object(Map::new())
            } else {
                crate::common::extract::parse_json(&bytes)?
            };
            TransferRequest::Transfer(Transfer::CsvUrl(
                body.get("csv_url").and_then(Value::as_str).map(str::to_owned),
            ))
        }
    };
    let job = state.jobs.start_transfer(&access, &caller, source).await?;
    Ok((StatusCode::CREATED, Json(CsvTaskView::new(&job))).into_response())
}

/// The status of a CSV import.
#[utoipa::path(get, path = "/bots/{id}/csv_import_tasks/{task_id}", tag = "Bots.Business: import and export",
    params(("id" = String, Path), ("task_id" = i64, Path)), responses((status = 200, description = "The CSV import task and its status", body = CsvTaskView)))]
async fn csv_import_task(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
) -> Result<Json<CsvTaskView>> {
    let job = bot_task(&state, &caller, &id, &task).await?;
    if job.kind != JobKind::CsvImport {
        return Err(Error::not_found("Task").into());
    }
    Ok(Json(CsvTaskView::new(&job)))
}

/// A task of the bot in the path.
async fn bot_task(
    state: &AppState,
    caller: &botyard_core::Caller,
    bot: &str,
    task: &str,
) -> botyard_domain::Result<Job> {
    let access = bot_access(&state.services, caller, bot).await?;
    let id: i64 = task.parse().map_err(|_| Error::not_found("Task"))?;
    let job = state.jobs.job(id).await?.filter(|j| {
        j.bot == Some(access.bot.number)
            || j.details.get("sourceBot").and_then(Value::as_i64) == Some(access.bot.number)
    });
    job.ok_or_else(|| Error::not_found("Task"))
}

/// Any task of the bot: CSV and git imports and exports, copies.
#[utoipa::path(get, path = "/bots/{id}/tasks/{task_id}", tag = "Bots.Business: import and export",
    params(("id" = String, Path), ("task_id" = i64, Path)), responses((status = 200, description = "The task and its status", body = TaskView)))]
async fn task(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
) -> Result<Json<TaskView>> {
    Ok(Json(TaskView::new(&bot_task(&state, &caller, &id, &task).await?)))
}

#[derive(Deserialize, ToSchema, Default)]
struct GitBody {
    /// The repository (default: the bot's `git_remote`).
    git_remote: Option<String>,
    /// Import: the branch to read (default: the repository's default). Export: the branch to
    /// create (default `BB_Export_<time>`).
    branch: Option<String>,
    /// Export: overwrite the branch if it exists (botyard's addition; by default an existing
    /// branch is refused).
    #[serde(default)]
    force: bool,
}

/// Replace the bot's commands and libraries with a git repository's.
#[utoipa::path(post, path = "/bots/{id}/git_import", tag = "Bots.Business: import and export",
    params(("id" = String, Path)), request_body = GitBody, responses((status = 201, description = "The git import task, started", body = TaskView)))]
async fn git_import(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<GitBody>,
) -> Result<Response> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let transfer = Transfer::GitImport { remote: body.git_remote, branch: body.branch };
    let job = state.jobs.start_transfer(&access, &caller, TransferRequest::Transfer(transfer)).await?;
    Ok((StatusCode::CREATED, Json(TaskView::new(&job))).into_response())
}

/// Push the bot's commands and libraries to a new branch of a git repository.
#[utoipa::path(post, path = "/bots/{id}/git_export", tag = "Bots.Business: import and export",
    params(("id" = String, Path)), request_body = GitBody, responses((status = 201, description = "The git export task, started", body = TaskView)))]
async fn git_export(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<GitBody>,
) -> Result<Response> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let transfer = Transfer::GitExport { remote: body.git_remote, branch: body.branch, force: body.force };
    let job = state.jobs.start_transfer(&access, &caller, TransferRequest::Transfer(transfer)).await?;
    Ok((StatusCode::CREATED, Json(TaskView::new(&job))).into_response())
}

#[derive(Deserialize, ToSchema, Default)]
struct CopyBody {
    /// The new bot's name (default: "<name> (copy)").
    name: Option<String>,
    /// botyard: the workspace to copy into (default: the bot's).
    workspace_id: Option<String>,
    /// Copy the bot's properties too.
    #[serde(default)]
    with_properties: bool,
}

/// Copy a bot; the task's `details.new_bot_id` is the copy once it is done.
#[utoipa::path(post, path = "/bots/{id}/copy", tag = "Bots.Business: import and export",
    params(("id" = String, Path)), request_body = CopyBody, responses((status = 201, description = "The copy task, started: `details.new_bot_id` is the copy once it is done", body = TaskView)))]
async fn copy_bot(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<CopyBody>,
) -> Result<Response> {
    copy(state, caller, id, body).await
}

/// Copy a bot (Bots.Business documents this route as a GET).
#[utoipa::path(get, path = "/bots/{id}/copy", tag = "Bots.Business: import and export",
    params(("id" = String, Path)), responses((status = 201, description = "The copy task, started: `details.new_bot_id` is the copy once it is done", body = TaskView)))]
async fn copy_bot_get(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    copy(state, caller, id, CopyBody::default()).await
}

async fn copy(state: AppState, caller: botyard_core::Caller, id: String, body: CopyBody) -> Result<Response> {
    let source = bot_access(&state.services, &caller, &id).await?;
    let workspace = match &body.workspace_id {
        Some(ws) => WorkspaceId::parse(ws)?,
        None => source.bot.workspace_id.clone(),
    };
    let target = state.services.workspace_access(caller, workspace).await?;
    let job = state.jobs.copy_bot(&source, &target, body.name, body.with_properties).await?;
    Ok((StatusCode::CREATED, Json(TaskView::new(&job))).into_response())
}
