//! Publishing, as Kore.ai's "Publish Bot" and "Bot Publish Status" APIs
//! (<https://developer.kore.ai/docs/bots/api-guide/publish-bot-api/>,
//! <https://developer.kore.ai/docs/bots/api-guide/bot-publish-status-api/>): `POST
//! /bot/{botId}/publish` (scope `Publish`) and `GET /bot/{botId}/publish/status` (scope
//! `Publish Status`; the category `Bot Publish` grants both).
//!
//! A bot has one lifecycle in botyard: publishing starts it, exactly as Bots.Business's
//! `start_launch` does (a bot with a Telegram token has it checked with Telegram first), and
//! the status reads whether it runs. Where Kore.ai is silent, botyard decides:
//! - publishing is synchronous (there is no review or approval step), so the answer's resources
//!   are `state: published` at once and the status is never `inprogress`; publishing a bot that
//!   runs already succeeds and keeps it running;
//! - `versionComment` is required, as Kore.ai documents, but botyard keeps one version of a bot,
//!   so it is only echoed; `initiateTraining` is accepted and has no effect (a Kore.ai bot's
//!   definition is compiled when it first answers);
//! - Kore.ai's public API has no unpublish: a bot stops through Bots.Business
//!   (`start_stopping`), and then its publish status is `unpublished` (a word beyond Kore.ai's
//!   `successful`, `failed`, `inprogress`: no publish is in effect) with an empty summary;
//! - botyard keeps no publish requests: the status's `_id` is `ds-<the bot's uuid>`, its times
//!   are the bot's last change and `createdBy` is the bot's creator.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::{Extension, Json};
use botyard_core::BotAccess;
use botyard_domain::Error;
use botyard_domain::app::{SCOPE_PUBLISH, SCOPE_PUBLISH_STATUS};
use botyard_domain::bot::{Bot, RunState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::KoreApp;
use super::{Body, KoreLimits, Result};
use crate::AppState;
use crate::common::extract::JsonBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(publish_bot)).routes(routes!(publish_status))
}

/// A publish request.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct PublishBody {
    /// Comments for the publish request (required; botyard keeps one version, so it is only
    /// echoed in the answer).
    version_comment: Option<String>,
    /// Kore.ai: whether to train the bot while publishing. Accepted; botyard compiles a Kore.ai
    /// bot's definition when it first answers.
    #[allow(dead_code)]
    initiate_training: Option<bool>,
}

/// What a publish did to one resource (botyard publishes the bot as a whole: one entry).
#[derive(Serialize, ToSchema)]
struct PublishedResource {
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    #[serde(rename = "resourceId")]
    resource_id: String,
    status: &'static str,
    result: PublishResult,
}

#[derive(Serialize, ToSchema)]
struct PublishResult {
    /// `published`: botyard has no approval step.
    state: &'static str,
    #[serde(rename = "versionComment")]
    version_comment: String,
    #[serde(rename = "publishedOn")]
    published_on: String,
    name: String,
}

/// One line of a publish status's summary.
#[derive(Serialize, ToSchema)]
struct StatusSummary {
    #[serde(rename = "resourceId")]
    resource_id: String,
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    name: String,
    status: &'static str,
}

/// A bot's publish status, in the shape of Kore.ai's publish job.
#[derive(Serialize, ToSchema)]
struct PublishStatus {
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "jobType")]
    job_type: &'static str,
    #[serde(rename = "streamId")]
    stream_id: String,
    #[serde(rename = "__v")]
    version: u32,
    action: &'static str,
    #[serde(rename = "createdBy")]
    created_by: String,
    #[serde(rename = "percentageComplete")]
    percentage_complete: u32,
    #[serde(rename = "requestedTime")]
    requested_time: String,
    /// `successful` while the bot is published (runs), `unpublished` when it does not.
    status: &'static str,
    #[serde(rename = "lastModifiedOn")]
    last_modified_on: String,
    #[serde(rename = "initiatedOn")]
    initiated_on: String,
    #[serde(rename = "statusSummary")]
    status_summary: Vec<StatusSummary>,
}

impl PublishStatus {
    fn new(bot: &Bot) -> Self {
        let published = bot.run_state == RunState::Works;
        let at = bot.updated_at.to_rfc3339();
        let summary = StatusSummary {
            resource_id: "BOT".into(),
            resource_type: "BOT",
            name: bot.name.clone(),
            status: "SUCCESS",
        };
        Self {
            id: format!("ds-{}", bot.id.as_str()),
            job_type: "PUBLISH_BOT",
            stream_id: format!("st-{}", bot.id.as_str()),
            version: 0,
            action: "RUN",
            created_by: bot.created_by.map(|u| format!("u-{}", u.0)).unwrap_or_default(),
            percentage_complete: if published { 100 } else { 0 },
            requested_time: at.clone(),
            status: if published { "successful" } else { "unpublished" },
            last_modified_on: at.clone(),
            initiated_on: at,
            status_summary: if published { vec![summary] } else { Vec::new() },
        }
    }
}

/// The bot with the role of the app's author (who acts through the app) in its workspace.
async fn app_bot_access(app: &KoreApp, state: &AppState, bot: Bot) -> Result<BotAccess> {
    let author =
        app.0.created_by.ok_or_else(|| Error::forbidden("Permission denied. Scope is incorrect!"))?;
    let role = state
        .services
        .memberships_of(author)
        .await?
        .into_iter()
        .find(|m| m.workspace.id == app.0.workspace_id)
        .map(|m| m.role)
        .ok_or_else(|| Error::forbidden("Permission denied. Scope is incorrect!"))?;
    Ok(BotAccess { bot, role })
}

/// Publish the bot: it starts running on every channel.
#[utoipa::path(post, path = "/bot/{botId}/publish", tag = "Kore.ai: publish", params(("botId" = String, Path)),
    request_body = PublishBody, responses((status = 200, description = "The bot is published (runs)", body = Vec<PublishedResource>)))]
async fn publish_bot(
    app: KoreApp,
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<KoreLimits>>,
    Path(bot_id): Path<String>,
    JsonBody(body, _): Body<PublishBody>,
) -> Result<Json<Vec<PublishedResource>>> {
    app.require(SCOPE_PUBLISH)?;
    let bot = app.bot(&state, &bot_id).await?;
    limits.check(&format!("bot:{}", bot.number))?;
    let comment = body
        .version_comment
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| Error::invalid("versionComment is required"))?;
    let access = app_bot_access(&app, &state, bot).await?;
    let bot = state.telegram.set_run_state(access, RunState::Works).await?;
    Ok(Json(vec![PublishedResource {
        resource_type: "bot",
        resource_id: format!("st-{}", bot.id.as_str()),
        status: "SUCCESS",
        result: PublishResult {
            state: "published",
            version_comment: comment,
            published_on: bot.updated_at.to_rfc3339(),
            name: bot.name,
        },
    }]))
}

/// Whether the bot is published.
#[utoipa::path(get, path = "/bot/{botId}/publish/status", tag = "Kore.ai: publish", params(("botId" = String, Path)),
    responses((status = 200, description = "The bot's publish status: `successful` while it runs, `unpublished` otherwise", body = PublishStatus)))]
async fn publish_status(
    app: KoreApp,
    State(state): State<AppState>,
    Extension(limits): Extension<Arc<KoreLimits>>,
    Path(bot_id): Path<String>,
) -> Result<Json<PublishStatus>> {
    app.require(SCOPE_PUBLISH_STATUS)?;
    let bot = app.bot(&state, &bot_id).await?;
    limits.check(&format!("publish-status:{}", bot.number))?;
    Ok(Json(PublishStatus::new(&bot)))
}
