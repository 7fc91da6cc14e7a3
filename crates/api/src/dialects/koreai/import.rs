//! Imports: `POST /bot/import` (a new bot), `POST /bot/{botId}/import` (into a bot),
//! `GET /bot/import/status/{bir}`, and the synchronous `POST /bot/{botId}/import/botfunctions`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::{Extension, Json};
use botyard_domain::app::SCOPE_IMPORT;
use botyard_domain::job::JobKind;
use botyard_domain::koreai::ImportOptions;
use botyard_domain::{Error, ErrorCode, Timestamp};
use botyard_jobs::app_requests::FunctionsFile;
use botyard_jobs::koreai::{ImportFiles, ImportTarget};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::KoreApp;
use super::views::ImportStatus;
use super::{Body, KoreLimits, Result};
use crate::AppState;
use crate::common::extract::JsonBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_new_bot))
        .routes(routes!(import_into_bot))
        .routes(routes!(import_status))
        .routes(routes!(import_bot_functions))
}

/// An import request's body; the same fields serve both routes.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ImportBody {
    /// `JSON` (the default) or `ZIP`.
    upload_mode: Option<String>,
    bot_definition: Option<String>,
    config_info: Option<String>,
    icon: Option<String>,
    #[serde(default)]
    bot_functions: Vec<String>,
    zip_info: Option<String>,
    name: Option<String>,
    purpose: Option<String>,
    /// Into an existing bot: which components to import; absent, a full import.
    #[schema(value_type = Option<Object>)]
    import_options: Option<Value>,
    /// Kore.ai's sample bodies also send `options` at the top level.
    #[schema(value_type = Option<Object>)]
    options: Option<Value>,
}

impl ImportBody {
    /// Checks the fields the upload mode needs.
    fn files(&self) -> botyard_domain::Result<ImportFiles> {
        let mode = self.upload_mode.clone().unwrap_or_else(|| "JSON".into()).to_ascii_uppercase();
        let invalid = || Error::invalid("Validation errors/ Invalid arguments");
        match mode.as_str() {
            "ZIP" => {
                self.zip_info.as_ref().ok_or_else(invalid)?;
            }
            "JSON" => {
                self.bot_definition.as_ref().ok_or_else(invalid)?;
            }
            _ => return Err(Error::invalid("uploadMode must be JSON or ZIP")),
        }
        Ok(ImportFiles {
            upload_mode: mode,
            bot_definition: self.bot_definition.clone(),
            config_info: self.config_info.clone(),
            icon: self.icon.clone(),
            bot_functions: self.bot_functions.clone(),
            zip_info: self.zip_info.clone(),
        })
    }

    /// Every file the request names.
    fn file_ids(&self) -> impl Iterator<Item = &String> {
        [&self.bot_definition, &self.config_info, &self.icon, &self.zip_info]
            .into_iter()
            .flatten()
            .chain(self.bot_functions.iter())
    }
}

/// Import a bot definition as a new bot.
#[utoipa::path(post, path = "/bot/import", tag = "Kore.ai: import",
    params(("auth" = String, Header, description = "JWT signed with the app's client secret")),
    request_body = ImportBody, responses((status = 200, description = "The import request and its status: poll the import status", body = ImportStatus)))]
async fn import_new_bot(
    app: KoreApp,
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<KoreLimits>>,
    JsonBody(body, _): Body<ImportBody>,
) -> Result<Json<ImportStatus>> {
    app.require(SCOPE_IMPORT)?;
    limits.check(&format!("app:{}", app.0.client_id))?;
    let files = body.files()?;
    state.jobs.check_app_files(&app.0, body.file_ids()).await?;
    let name = body.name.clone().filter(|n| !n.trim().is_empty());
    let request_name = match (&name, &body.config_info) {
        (Some(name), _) => name.clone(),
        (None, Some(config)) => state.jobs.uploaded_bot_name(&app.0, config).await.unwrap_or_default(),
        (None, None) => String::new(),
    };
    let target = ImportTarget::NewBot { name, purpose: body.purpose.clone() };
    let job =
        state.jobs.import_kore(&app.0.workspace_id, app.0.created_by, target, files, &request_name).await?;
    Ok(Json(ImportStatus::new(&job)))
}

/// Import a bot definition into an existing bot: a full import without `importOptions`, an
/// incremental one (matching components by `refId`) with them, which touches, checks and logs
/// only the parts its lists choose.
#[utoipa::path(post, path = "/bot/{botId}/import", tag = "Kore.ai: import", params(("botId" = String, Path)),
    request_body = ImportBody, responses((status = 200, description = "The import request and its status: poll the import status", body = ImportStatus)))]
async fn import_into_bot(
    app: KoreApp,
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<KoreLimits>>,
    Path(bot_id): Path<String>,
    JsonBody(body, _): Body<ImportBody>,
) -> Result<Json<ImportStatus>> {
    app.require(SCOPE_IMPORT)?;
    let bot = app.bot(&state, &bot_id).await?;
    limits.check(&format!("bot:{}", bot.number))?;
    let files = body.files()?;
    let mut options = body.import_options.clone();
    if let (Some(Value::Object(o)), Some(top)) = (&mut options, &body.options)
        && !o.contains_key("options")
    {
        o.insert("options".into(), top.clone());
    }
    if let Some(raw) = &options {
        let parsed = serde_json::from_value::<ImportOptions>(raw.clone())
            .map_err(|e| Error::invalid(format!("importOptions: {e}")))?;
        parsed.choice.check("importOptions")?;
    }
    state.jobs.check_app_files(&app.0, body.file_ids()).await?;
    let target = ImportTarget::Existing { bot: bot.number, options };
    let job = state.jobs.import_kore(&app.0.workspace_id, app.0.created_by, target, files, &bot.name).await?;
    Ok(Json(ImportStatus::new(&job)))
}

/// The status of an import, component by component.
#[utoipa::path(get, path = "/bot/import/status/{bir}", tag = "Kore.ai: import", params(("bir" = String, Path)),
    responses((status = 200, description = "The import's status, component by component", body = ImportStatus)))]
async fn import_status(
    app: KoreApp,
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<KoreLimits>>,
    Path(bir): Path<String>,
) -> Result<Json<ImportStatus>> {
    app.require(SCOPE_IMPORT)?;
    let invalid = || Error::new(ErrorCode::InvalidIdentifier, "Invalid request ID");
    let uid = bir.strip_prefix("bir-").ok_or_else(invalid)?;
    limits.check(&format!("request:{uid}"))?;
    let job = state.jobs.job_by_uid(uid).await?.ok_or_else(invalid)?;
    if job.kind != JobKind::KoreImport || job.workspace_id.as_ref() != Some(&app.0.workspace_id) {
        return Err(invalid().into());
    }
    Ok(Json(ImportStatus::new(&job)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct FunctionsFileBody {
    file_name: String,
    file_id: String,
}

#[derive(Serialize, ToSchema)]
struct FunctionsImported {
    #[serde(rename = "requestType")]
    request_type: &'static str,
    status: &'static str,
    #[serde(rename = "createdOn")]
    created_on: String,
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "createdBy")]
    created_by: String,
    #[serde(rename = "__v")]
    version: u32,
    #[serde(rename = "fileId")]
    file_id: String,
    #[serde(rename = "fileName")]
    file_name: String,
}

/// Replace the bot's functions scripts (synchronous).
#[utoipa::path(post, path = "/bot/{botId}/import/botfunctions", tag = "Kore.ai: import", params(("botId" = String, Path)),
    request_body = Vec<FunctionsFileBody>, responses((status = 200, description = "The bot's functions scripts are replaced", body = FunctionsImported)))]
async fn import_bot_functions(
    app: KoreApp,
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<KoreLimits>>,
    Path(bot_id): Path<String>,
    JsonBody(files, _): Body<Vec<FunctionsFileBody>>,
) -> Result<Json<FunctionsImported>> {
    app.require(SCOPE_IMPORT)?;
    let bot = app.bot(&state, &bot_id).await?;
    limits.check(&format!("bot:{}", bot.number))?;
    let functions: Vec<FunctionsFile> = files
        .iter()
        .map(|f| FunctionsFile { name: f.file_name.clone(), file_id: f.file_id.clone() })
        .collect();
    state.jobs.import_bot_functions(&app.0, &bot, &functions).await?;
    let first = &files[0];
    Ok(Json(FunctionsImported {
        request_type: "BotImport",
        status: "Success",
        created_on: Timestamp::now().to_rfc3339(),
        id: botyard_jobs::Jobs::new_file_id(),
        created_by: app.0.created_by.map(|u| format!("u-{}", u.0)).unwrap_or_default(),
        version: 0,
        file_id: first.file_id.clone(),
        file_name: first.file_name.clone(),
    }))
}
