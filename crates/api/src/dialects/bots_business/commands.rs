//! `/v2/bots/{id}/commands` and `/v2/bots/{id}/commands_folders`.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use botyard_domain::Error;
use botyard_domain::command::{CommandFields, parse_aliases};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BbCaller;
use super::bots::bot_access;
use super::views::{CommandView, FolderView};
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::{JsonBody, QueryPairs, nullable, query_page};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_folder, list_folders))
        .routes(routes!(delete_folder))
        .routes(routes!(create_command, list_commands))
        .routes(routes!(get_command, edit_command, delete_command))
        .routes(routes!(check_code))
}

#[derive(Deserialize, ToSchema)]
struct CodeToCheck {
    bjs_code: String,
}

/// A syntax error of the code, with its line and column in the code.
#[derive(Serialize, ToSchema)]
struct CodeProblem {
    message: String,
    line: Option<u32>,
    column: Option<u32>,
}

#[derive(Serialize, ToSchema)]
struct CodeCheck {
    /// `true` when the code compiles.
    valid: bool,
    /// The syntax error, when there is one.
    error: Option<CodeProblem>,
}

/// botyard's addition: check a command's code for syntax errors without running it (compiled as
/// a run compiles it). The dashboard's editor marks the line named here.
#[utoipa::path(post, path = "/bots/{id}/commands/check", tag = "Bots.Business: commands", params(("id" = String, Path)),
    request_body = CodeToCheck, responses((status = 200, description = "Whether the code compiles, and its syntax error", body = CodeCheck)))]
async fn check_code(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<CodeToCheck>,
) -> Result<Json<CodeCheck>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let problem = state.runtime.check_command_code(&access, &body.bjs_code).await?;
    let error = problem.map(|p| CodeProblem { message: p.message, line: p.line, column: p.column });
    Ok(Json(CodeCheck { valid: error.is_none(), error }))
}

#[derive(Deserialize, ToSchema)]
struct NewFolder {
    title: String,
}

/// Create a commands folder.
#[utoipa::path(post, path = "/bots/{id}/commands_folders", tag = "Bots.Business: commands", params(("id" = String, Path)),
    request_body = NewFolder, responses((status = 201, description = "The created folder", body = FolderView)))]
async fn create_folder(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<NewFolder>,
) -> Result<Response> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let folder = state.services.create_folder(&access, &body.title).await?;
    Ok((StatusCode::CREATED, Json(FolderView::from(folder))).into_response())
}

/// The bot's commands folders.
#[utoipa::path(get, path = "/bots/{id}/commands_folders", tag = "Bots.Business: commands", params(("id" = String, Path)),
    responses((status = 200, description = "The bot's commands folders", body = Vec<FolderView>)))]
async fn list_folders(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<FolderView>>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    Ok(Json(state.services.folders(&access).await?.into_iter().map(FolderView::from).collect()))
}

/// Delete a commands folder; its commands move to the root.
#[utoipa::path(delete, path = "/bots/{id}/commands_folders/{folder_id}", tag = "Bots.Business: commands",
    params(("id" = String, Path), ("folder_id" = i64, Path)), responses((status = 200, description = "`true`: the folder is deleted", body = bool)))]
async fn delete_folder(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, folder)): Path<(String, String)>,
) -> Result<Json<bool>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let folder = folder.parse().map_err(|_| Error::not_found("Commands folder"))?;
    state.services.delete_folder(&access, folder).await?;
    Ok(Json(true))
}

/// A command as Bots.Business clients send it. Types are lenient where clients differ: `aliases`
/// as a comma list or an array, numbers or numeric strings, `""` for none.
#[derive(Deserialize, ToSchema)]
struct CommandBody {
    command: Option<String>,
    /// Comma-separated (`"madat, help"`) or an array.
    #[schema(value_type = Option<String>)]
    aliases: Option<Value>,
    answer: Option<String>,
    group: Option<String>,
    help: Option<String>,
    keyboard_body: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    commands_folder_id: Option<Option<Value>>,
    /// Seconds between automatic runs; `""` or null for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    auto_retry_time: Option<Option<Value>>,
    bjs_code: Option<String>,
    #[schema(value_type = Option<bool>)]
    need_reply: Option<Value>,
}

impl CommandBody {
    fn into_fields(self) -> botyard_domain::Result<CommandFields> {
        let aliases = match self.aliases {
            None => None,
            Some(Value::Null) => Some(Vec::new()),
            Some(Value::String(list)) => Some(parse_aliases(&list)),
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|a| {
                        a.as_str()
                            .map(|s| s.trim().to_owned())
                            .ok_or_else(|| Error::invalid("aliases must be strings"))
                    })
                    .collect::<botyard_domain::Result<Vec<_>>>()?
                    .into_iter()
                    .filter(|a| !a.is_empty())
                    .collect(),
            ),
            Some(_) => return Err(Error::invalid("aliases must be a comma-separated string or an array")),
        };
        let need_reply = match self.need_reply {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(b),
            Some(Value::String(s)) if s == "true" || s == "false" => Some(s == "true"),
            Some(_) => return Err(Error::invalid("need_reply must be true or false")),
        };
        Ok(CommandFields {
            command: self.command,
            help: self.help,
            answer: self.answer,
            keyboard: self.keyboard_body,
            need_reply,
            auto_retry_time: self
                .auto_retry_time
                .map(|v| optional_number("auto_retry_time", v))
                .transpose()?,
            folder_id: self
                .commands_folder_id
                .map(|v| optional_number("commands_folder_id", v))
                .transpose()?,
            group: self.group,
            code: self.bjs_code,
            aliases,
        })
    }
}

/// `null`, `""` → none; a number or numeric string → that number.
fn optional_number(field: &str, value: Option<Value>) -> botyard_domain::Result<Option<i64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| Error::invalid(format!("{field} must be a number")))
        }
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| Error::invalid(format!("{field} must be a whole number")))
        }
        Some(_) => Err(Error::invalid(format!("{field} must be a number"))),
    }
}

/// Create a command.
#[utoipa::path(post, path = "/bots/{id}/commands", tag = "Bots.Business: commands", params(("id" = String, Path)),
    request_body = CommandBody, responses((status = 201, description = "The created command", body = CommandView)))]
async fn create_command(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<CommandBody>,
) -> Result<Response> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let command = state.services.create_command(&access, body.into_fields()?).await?;
    let folders = state.services.folders(&access).await?;
    Ok((StatusCode::CREATED, Json(CommandView::new(command, &folders))).into_response())
}

/// The bot's commands, `?page=N` (50 per page, from 1); past the last page, `[]`.
#[utoipa::path(get, path = "/bots/{id}/commands", tag = "Bots.Business: commands",
    params(("id" = String, Path), ("page" = Option<u32>, Query)), responses((status = 200, description = "A page of the bot's commands (`[]` past the last page)", body = Vec<CommandView>)))]
async fn list_commands(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Vec<CommandView>>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let commands = state.services.commands_page(&access, query_page(&query)?).await?;
    let folders = state.services.folders(&access).await?;
    Ok(Json(commands.into_iter().map(|c| CommandView::new(c, &folders)).collect()))
}

fn command_id(raw: &str) -> botyard_domain::Result<i64> {
    raw.parse().map_err(|_| Error::not_found("Command"))
}

/// One command.
#[utoipa::path(get, path = "/bots/{id}/commands/{command_id}", tag = "Bots.Business: commands",
    params(("id" = String, Path), ("command_id" = i64, Path)), responses((status = 200, description = "The command", body = CommandView)))]
async fn get_command(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, command)): Path<(String, String)>,
) -> Result<Json<CommandView>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let command = state.services.command(&access, command_id(&command)?).await?;
    let folders = state.services.folders(&access).await?;
    Ok(Json(CommandView::new(command, &folders)))
}

/// Edit a command (fields not sent are kept).
#[utoipa::path(put, path = "/bots/{id}/commands/{command_id}", tag = "Bots.Business: commands",
    params(("id" = String, Path), ("command_id" = i64, Path)), request_body = CommandBody, responses((status = 200, description = "The edited command", body = CommandView)))]
async fn edit_command(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, command)): Path<(String, String)>,
    JsonBody(body, _): Body<CommandBody>,
) -> Result<Json<CommandView>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let command = state.services.update_command(&access, command_id(&command)?, body.into_fields()?).await?;
    let folders = state.services.folders(&access).await?;
    Ok(Json(CommandView::new(command, &folders)))
}

/// Delete a command.
#[utoipa::path(delete, path = "/bots/{id}/commands/{command_id}", tag = "Bots.Business: commands",
    params(("id" = String, Path), ("command_id" = i64, Path)), responses((status = 200, description = "`true`: the command is deleted", body = bool)))]
async fn delete_command(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, command)): Path<(String, String)>,
) -> Result<Json<bool>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    state.services.delete_command(&access, command_id(&command)?).await?;
    Ok(Json(true))
}
