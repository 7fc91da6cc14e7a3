//! A bot's versions and its web chat in Botpress's shapes.
//!
//! botyard keeps one version of a bot, the bot as it is now, with the id `current`:
//! `listBotVersions` lists it, `getBotVersion` answers the URL of its definition
//! (`GET /v1/admin/bots/{id}`, with the same headers), `deployBotVersion` deploys it again (the bot
//! runs, as after `updateBot`), and `createBotVersion` is refused with 413 `LimitExceeded`: no
//! other version can be kept (an archive of the bot is `POST /v1/admin/bots/{id}/export`).
//!
//! `getBotWebchat` answers the bot's web chat page, `/chat/{webChannelId}` under the server's
//! public URL, in the form `type` asks for: `sharableUrl` the URL itself; `fullscreen` an iframe
//! filling the window; `preconfigured` an iframe floating in the bottom right corner;
//! `configurable` a script creating that iframe from settings at its top.

use axum::Json;
use axum::extract::{Path, State};
use botyard_domain::bot::{Bot, BotChanges};
use botyard_domain::{Error, ErrorCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BpWorkspace;
use super::views::Empty;
use super::{Body, Result, bot_ref};
use crate::AppState;
use crate::common::extract::{JsonBody, QueryPairs};

/// The id of the one version botyard keeps.
const CURRENT: &str = "current";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_bot_versions, create_bot_version))
        .routes(routes!(get_bot_version))
        .routes(routes!(deploy_bot_version))
        .routes(routes!(get_bot_webchat))
}

fn check_version(id: &str) -> botyard_domain::Result<()> {
    if id == CURRENT {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::NotFound,
            format!("Version \"{id}\" not found: botyard keeps one version of a bot, \"{CURRENT}\""),
        ))
    }
}

#[derive(Serialize, ToSchema)]
struct BotVersion {
    id: &'static str,
    name: &'static str,
    description: &'static str,
}

const VERSION: BotVersion = BotVersion {
    id: CURRENT,
    name: CURRENT,
    description: "The bot as it is now; botyard keeps no other versions",
};

#[derive(Serialize, ToSchema)]
struct BotVersionList {
    versions: Vec<BotVersion>,
}

#[derive(Serialize, ToSchema)]
struct BotVersionEnvelope {
    version: BotVersion,
}

#[derive(Serialize, ToSchema)]
struct BotVersionUrl {
    /// Where the version's definition is read: `GET /v1/admin/bots/{id}` (same headers).
    url: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateBotVersionBody {
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeployBotVersionBody {
    version_id: String,
}

/// The bot's versions: the one botyard keeps (`listBotVersions`).
#[utoipa::path(get, path = "/admin/bots/{id}/versions", tag = "Botpress: bots",
    params(("id" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "The version \"current\"", body = BotVersionList)))]
async fn list_bot_versions(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<BotVersionList>> {
    state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    Ok(Json(BotVersionList { versions: vec![VERSION] }))
}

/// Keep a new version (`createBotVersion`): refused, botyard keeps one version of a bot.
#[utoipa::path(post, path = "/admin/bots/{id}/versions", tag = "Botpress: bots", request_body = CreateBotVersionBody,
    params(("id" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 413, description = "LimitExceeded: botyard keeps one version of a bot")))]
async fn create_bot_version(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(_body, _): Body<CreateBotVersionBody>,
) -> Result<Json<BotVersionEnvelope>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    access.role.require(botyard_domain::access::Permission::ChangeBots)?;
    Err(Error::limit(
        "botyard keeps one version of a bot, \"current\", and cannot keep another; \
         POST /v1/admin/bots/{id}/export makes an archive of the bot as it is",
    )
    .into())
}

/// Where the version's definition is (`getBotVersion`).
#[utoipa::path(get, path = "/admin/bots/{id}/versions/{versionId}", tag = "Botpress: bots",
    params(("id" = String, Path), ("versionId" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "The URL of the bot's definition", body = BotVersionUrl)))]
async fn get_bot_version(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<BotVersionUrl>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    check_version(&version)?;
    let base = state.services.config.link_base();
    Ok(Json(BotVersionUrl { url: format!("{base}/v1/admin/bots/{}", access.bot.id) }))
}

/// Deploy a version (`deployBotVersion`): deploys the bot as it is; afterwards it runs.
#[utoipa::path(post, path = "/admin/bots/{id}/versions/deploy", tag = "Botpress: bots", request_body = DeployBotVersionBody,
    params(("id" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "Deployed (an empty object)", body = Empty)))]
async fn deploy_bot_version(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<DeployBotVersionBody>,
) -> Result<Json<Empty>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    check_version(&body.version_id)?;
    state.services.deploy_bot(access, BotChanges::default()).await?;
    Ok(Json(Empty {}))
}

#[derive(Serialize, ToSchema)]
struct Webchat {
    /// The URL (`sharableUrl`) or the HTML to paste into a page.
    code: String,
}

/// What `getBotWebchat` answers for each `type`.
fn webchat_code(bot: &Bot, base: &str, kind: &str) -> botyard_domain::Result<String> {
    let url = format!("{base}/chat/{}", bot.web_channel_id);
    let src = crate::common::html::escape(&url);
    let title = crate::common::html::escape(&bot.name);
    let frame = |style: &str| format!("<iframe src=\"{src}\" title=\"{title}\" style=\"{style}\"></iframe>");
    Ok(match kind {
        "sharableUrl" => url,
        "fullscreen" => frame("position:fixed;inset:0;width:100%;height:100%;border:0"),
        "preconfigured" => frame(
            "position:fixed;right:16px;bottom:16px;width:400px;height:600px;max-width:calc(100% - 32px);\
             max-height:calc(100% - 32px);border:0;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.2);\
             z-index:2147483000",
        ),
        "configurable" => {
            let js_url = serde_json::to_string(&url).unwrap_or_default().replace('<', "\\u003c");
            let js_title = serde_json::to_string(&bot.name).unwrap_or_default().replace('<', "\\u003c");
            format!(
                "<script>\n(function () {{\n  var config = {{ url: {js_url}, title: {js_title}, width: '400px', \
                 height: '600px', right: '16px', bottom: '16px' }};\n  var frame = document.createElement('iframe');\n  \
                 frame.src = config.url;\n  frame.title = config.title;\n  frame.style.cssText = 'position:fixed;border:0;\
                 z-index:2147483000;width:' + config.width + ';height:' + config.height + ';right:' + config.right + \
                 ';bottom:' + config.bottom;\n  document.body.appendChild(frame);\n}})();\n</script>"
            )
        }
        other => {
            return Err(Error::new(
                ErrorCode::InvalidQuery,
                format!(
                    "type must be preconfigured, configurable, fullscreen or sharableUrl, not \"{other}\""
                ),
            ));
        }
    })
}

/// The bot's web chat page, as a URL or HTML to embed (`getBotWebchat`).
#[utoipa::path(get, path = "/admin/bots/{id}/webchat", tag = "Botpress: bots",
    params(("id" = String, Path), ("x-workspace-id" = String, Header),
        ("type" = String, Query, description = "preconfigured, configurable, fullscreen or sharableUrl")),
    responses((status = 200, description = "The web chat's URL or embedding code", body = Webchat)))]
async fn get_bot_webchat(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Webchat>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    let kind = query.get("type").unwrap_or("");
    let code = webchat_code(&access.bot, state.services.config.link_base(), kind)?;
    Ok(Json(Webchat { code }))
}
