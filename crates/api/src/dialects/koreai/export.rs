//! Exports: `POST /bot/{botId}/export` starts one, of the whole bot or of the parts its
//! `exportOptions`, `subTasks`, `allTasks` and `IncludeDependentTasks` choose (unknown items and
//! task names are refused at once); `GET /bot/{botId}/export/status` shows the bot's latest, with
//! a `downloadURL` once the archive is ready.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::{Extension, Json};
use botyard_domain::Error;
use botyard_domain::app::SCOPE_EXPORT;
use botyard_domain::koreai::ExportSelection;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::KoreApp;
use super::views::{ExportRequest, ExportStatus};
use super::{Body, KoreLimits, Result};
use crate::AppState;
use crate::common::extract::JsonBody;

/// How long a download link works.
const DOWNLOAD_LINK_SECS: i64 = 3600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_bot)).routes(routes!(export_status))
}

/// An export request; what the options choose is `botyard_domain::koreai::ExportSelection`'s.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ExportBody {
    /// `latest` or `published` (botyard keeps one version: both export it).
    export_type: Option<String>,
    /// The parts to export: `{"tasks": [botTask, knowledgeGraph, smallTalk, forms, panels],
    /// "nlpData": [nlpSettings, utterances, patterns, traits, standardResponses, …], "settings":
    /// [botSettings, botVariables, ivrSettings]}`; absent, everything.
    #[schema(value_type = Option<Object>)]
    export_options: Option<Value>,
    /// A partial export: `{"dialogs": [name or id, …], "forms": […], "alerts": […], "actions":
    /// […]}`; only the tasks named are exported.
    #[schema(value_type = Option<Object>)]
    sub_tasks: Option<Value>,
    /// `false` without `subTasks`: no tasks. Ignored when `subTasks` names tasks.
    all_tasks: Option<bool>,
    /// `false`: leave out the custom dashboards.
    custom_dashboards: Option<bool>,
    /// Also export the dialogs and forms the chosen dialogs lead to.
    #[serde(rename = "IncludeDependentTasks")]
    include_dependent_tasks: Option<bool>,
}

/// Start an export of the bot.
#[utoipa::path(post, path = "/bot/{botId}/export", tag = "Kore.ai: export", params(("botId" = String, Path)),
    request_body = ExportBody, responses((status = 200, description = "The export request, in progress: poll the export status", body = ExportRequest)))]
async fn export_bot(
    app: KoreApp,
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<KoreLimits>>,
    Path(bot_id): Path<String>,
    JsonBody(body, _): Body<ExportBody>,
) -> Result<Json<ExportRequest>> {
    app.require(SCOPE_EXPORT)?;
    let bot = app.bot(&state, &bot_id).await?;
    limits.check(&format!("bot:{}", bot.number))?;
    let export_type = body.export_type.as_deref().unwrap_or("");
    if !matches!(export_type, "latest" | "published") {
        return Err(Error::invalid("exportType must be latest or published").into());
    }
    let selection = ExportSelection::from_request(
        body.export_options.as_ref(),
        body.sub_tasks.as_ref(),
        body.all_tasks,
        body.include_dependent_tasks,
        body.custom_dashboards,
    )?;
    let job = state.jobs.export_kore(&bot, app.0.created_by, export_type, selection).await?;
    Ok(Json(ExportRequest::new(&job, bot.id.as_str())))
}

/// The bot's latest export.
#[utoipa::path(get, path = "/bot/{botId}/export/status", tag = "Kore.ai: export", params(("botId" = String, Path)),
    responses((status = 200, description = "The bot's latest export, with its download URL once it has succeeded", body = ExportStatus)))]
async fn export_status(
    app: KoreApp,
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<KoreLimits>>,
    Path(bot_id): Path<String>,
    headers: http::HeaderMap,
) -> Result<Json<ExportStatus>> {
    app.require(SCOPE_EXPORT)?;
    let bot = app.bot(&state, &bot_id).await?;
    limits.check(&format!("export-status:{}", bot.number))?;
    let (job, file) = state.jobs.latest_kore_export(&bot).await?;
    let url = file.map(|file| {
        let token = state.services.download_token(&app.0, &file, DOWNLOAD_LINK_SECS);
        format!(
            "{}/api/public/files/{file}?token={token}",
            crate::common::extract::base_url(&state, &headers)
        )
    });
    Ok(Json(ExportStatus::new(&job, bot.id.as_str(), url)))
}
