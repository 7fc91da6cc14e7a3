//! botyard's archives and jobs in the Botpress dialect: `POST /admin/bots/{id}/export` and
//! `POST /admin/bots/import` start jobs; `GET /admin/jobs/{id}` shows one (Meilisearch's task
//! contract: status `enqueued`, `processing`, `succeeded`, `failed` or `canceled`, timestamps,
//! `error`, `details`); `GET /admin/jobs/{id}/download` serves an export's archive.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use botyard_domain::job::Job;
use botyard_domain::{BotRef, Error, ErrorCode};
use http::{HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BpWorkspace;
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::{JsonBody, QueryPairs};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_bot))
        .routes(routes!(import_bot))
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(cancel_job))
        .routes(routes!(download))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    id: String,
    kind: &'static str,
    status: &'static str,
    bot_id: Option<String>,
    enqueued_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    #[schema(value_type = Option<Object>)]
    error: Option<Value>,
    #[schema(value_type = Object)]
    details: Value,
}

#[derive(Serialize, ToSchema)]
pub struct JobEnvelope {
    job: JobView,
}

async fn view(state: &AppState, job: &Job) -> botyard_domain::Result<JobEnvelope> {
    let bot_id = match job.bot {
        Some(n) => state.services.find_bot(&BotRef::Number(n)).await?.map(|b| b.id.to_string()),
        None => None,
    };
    Ok(JobEnvelope {
        job: JobView {
            id: job.uid.clone(),
            kind: job.kind.as_str(),
            status: job.status.as_str(),
            bot_id,
            enqueued_at: job.enqueued_at.to_rfc3339(),
            started_at: job.started_at.map(|t| t.to_rfc3339()),
            finished_at: job.finished_at.map(|t| t.to_rfc3339()),
            error: job.error.as_ref().map(|e| serde_json::json!({"code": e.code, "message": e.message})),
            details: job.details.clone(),
        },
    })
}

#[derive(Deserialize, ToSchema, Default)]
struct ExportBody {
    /// Carry the bot's properties too.
    #[serde(default)]
    properties: bool,
}

/// Export the bot as a botyard archive (a job; download it when it has succeeded).
#[utoipa::path(post, path = "/admin/bots/{id}/export", tag = "botyard: archives", params(("id" = String, Path),
    ("x-workspace-id" = String, Header)), request_body = ExportBody, responses((status = 202, description = "The export job, queued: poll GET /v1/admin/jobs/{id}, then download the archive", body = JobEnvelope)))]
async fn export_bot(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<ExportBody>,
) -> Result<Response> {
    let bot = BotRef::parse(&id).map_err(|_| Error::not_found("Bot"))?;
    let access = state.services.workspace_bot(&ws, &bot).await?;
    let job = state.jobs.export_archive(&access, &ws.caller, body.properties).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&state, &job).await?)).into_response())
}

/// Import a bot (the request body) as a new bot of the workspace: a botyard archive, or a Kore.ai
/// export (its ZIP, or its `botDefinition.json`), which runs as a Kore.ai import; `?name=` names it.
#[utoipa::path(post, path = "/admin/bots/import", tag = "botyard: archives", params(("x-workspace-id" = String, Header),
    ("name" = Option<String>, Query)), request_body(content = Vec<u8>, content_type = "application/zip"),
    responses((status = 202, description = "The import job, queued: poll GET /v1/admin/jobs/{id}", body = JobEnvelope)))]
async fn import_bot(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    query: QueryPairs,
    body: axum::body::Body,
) -> Result<Response> {
    let max = state.services.config.jobs.upload_max_bytes;
    let bytes = axum::body::to_bytes(body, max).await.map_err(|_| {
        Error::new(ErrorCode::PayloadTooLarge, format!("Archives may be at most {} MiB", max / (1024 * 1024)))
    })?;
    let name = query.get("name").map(str::to_owned).filter(|n| !n.trim().is_empty());
    let job = state.jobs.import_upload(&ws, bytes.to_vec(), name).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&state, &job).await?)).into_response())
}

/// A job of the workspace.
async fn workspace_job(
    state: &AppState,
    ws: &botyard_core::WorkspaceAccess,
    id: &str,
) -> botyard_domain::Result<Job> {
    let job = state.jobs.job_by_uid(id).await?;
    job.filter(|j| j.workspace_id.as_ref() == Some(&ws.workspace)).ok_or_else(|| Error::not_found("Job"))
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    jobs: Vec<JobView>,
}

/// The workspace's newest 50 imports, exports and copies, newest first.
#[utoipa::path(get, path = "/admin/jobs", tag = "botyard: archives", params(("x-workspace-id" = String, Header)),
    responses((status = 200, description = "The workspace's newest imports, exports and copies", body = JobList)))]
async fn list_jobs(BpWorkspace(ws): BpWorkspace, State(state): State<AppState>) -> Result<Json<JobList>> {
    let mut jobs = Vec::new();
    for job in state.jobs.workspace_jobs(&ws, 50).await? {
        jobs.push(view(&state, &job).await?.job);
    }
    Ok(Json(JobList { jobs }))
}

/// A job's status.
#[utoipa::path(get, path = "/admin/jobs/{id}", tag = "botyard: archives", params(("id" = String, Path),
    ("x-workspace-id" = String, Header)), responses((status = 200, description = "The job and its status", body = JobEnvelope)))]
async fn get_job(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobEnvelope>> {
    let job = workspace_job(&state, &ws, &id).await?;
    Ok(Json(view(&state, &job).await?))
}

/// Cancel a job that has not started yet (one in progress finishes: imports are all or nothing).
#[utoipa::path(post, path = "/admin/jobs/{id}/cancel", tag = "botyard: archives", params(("id" = String, Path),
    ("x-workspace-id" = String, Header)), responses((status = 200, description = "The canceled job", body = JobEnvelope)))]
async fn cancel_job(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobEnvelope>> {
    ws.role.require(botyard_domain::access::Permission::ChangeBots)?;
    let job = workspace_job(&state, &ws, &id).await?;
    if !state.jobs.cancel(job.id).await? {
        return Err(Error::conflict(format!(
            "The job is {} and can no longer be canceled",
            job.status.as_str()
        ))
        .into());
    }
    let job = workspace_job(&state, &ws, &id).await?;
    Ok(Json(view(&state, &job).await?))
}

/// The archive of a succeeded export.
#[utoipa::path(get, path = "/admin/jobs/{id}/download", tag = "botyard: archives", params(("id" = String, Path),
    ("x-workspace-id" = String, Header)), responses((status = 200, description = "The botyard archive of the export (a zip file)", content_type = "application/zip")))]
async fn download(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    ws.role.require(botyard_domain::access::Permission::ExportBots)?;
    let job = workspace_job(&state, &ws, &id).await?;
    let file = state.jobs.archive_of_export(&job).await?;
    let mut response = file.content.into_response();
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.name.replace(['"', '\\'], "_")))
    {
        headers.insert(http::header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
