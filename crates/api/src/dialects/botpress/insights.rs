//! How a bot is doing, in Botpress's shapes: `GET /admin/bots/{id}/analytics` (`getBotAnalytics`:
//! activity by UTC day) and `/admin/bots/{id}/issues…` (`listBotIssues`, `getBotIssue`,
//! `deleteBotIssue`, `listBotIssueEvents`: the bot's error log grouped by command and title).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use botyard_core::insights::{Activity, Issue};
use botyard_domain::effects::ErrorLog;
use botyard_domain::{Error, ErrorCode, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Result;
use super::auth::BpWorkspace;
use super::bot_ref;
use super::views::{Empty, ListMeta};
use crate::AppState;
use crate::common::extract::QueryPairs;

const DEFAULT_PAGE_SIZE: u32 = 20;
const MAX_PAGE_SIZE: u32 = 100;
/// `listBotIssueEvents` has no paging: the newest this many entries.
const MAX_ISSUE_EVENTS: u32 = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_bot_analytics))
        .routes(routes!(list_bot_issues))
        .routes(routes!(get_bot_issue, delete_bot_issue))
        .routes(routes!(list_bot_issue_events))
}

fn invalid_query(message: String) -> Error {
    Error::new(ErrorCode::InvalidQuery, message)
}

/// An ISO 8601 date-time, or a date (`2025-01-31`): its first millisecond, or its last with
/// `end_of_day`.
fn date(query: &QueryPairs, key: &str, end_of_day: bool) -> botyard_domain::Result<Timestamp> {
    let raw = query
        .get(key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid_query(format!("{key} is required")))?;
    let is_date = raw.len() == 10 && !raw.contains('T');
    let parsed = if is_date {
        Timestamp::parse_rfc3339(&format!("{raw}T00:00:00Z"))
            .map(|t| if end_of_day { t.plus_millis(86_400_000 - 1) } else { t })
    } else {
        Timestamp::parse_rfc3339(raw)
    };
    parsed.ok_or_else(|| invalid_query(format!("{key} must be an ISO 8601 date or date-time, not \"{raw}\"")))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Spread {
    mean: f64,
    sd: f64,
    min: f64,
    max: f64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Cost {
    sum: f64,
    mean: f64,
    sd: f64,
    min: f64,
    max: f64,
}

/// botyard's bots make no LLM calls of Botpress's: all zero.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct LlmFigures {
    calls: i64,
    errors: i64,
    input_tokens: i64,
    output_tokens: i64,
    latency: Spread,
    tokens_per_second: Spread,
    cost: Cost,
}

/// One UTC day of the period (the first and last cut to it).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AnalyticsRecord {
    start_date_time_utc: String,
    /// The period's last millisecond (included).
    end_date_time_utc: String,
    /// Users seen before the period who wrote in it.
    returning_users: i64,
    /// Users first seen in the period.
    new_users: i64,
    /// Chats a user wrote in during the period.
    sessions: i64,
    /// The same as `userMessages` (Botpress's deprecated field).
    messages: i64,
    user_messages: i64,
    bot_messages: i64,
    /// botyard has no Botpress events: 0.
    events: i64,
    #[schema(value_type = Object)]
    event_types: BTreeMap<String, i64>,
    #[schema(value_type = Object)]
    custom_events: BTreeMap<String, i64>,
    llm: LlmFigures,
}

impl From<Activity> for AnalyticsRecord {
    fn from(a: Activity) -> Self {
        let zero = || Spread { mean: 0.0, sd: 0.0, min: 0.0, max: 0.0 };
        Self {
            start_date_time_utc: a.start.to_rfc3339(),
            end_date_time_utc: a.end.to_rfc3339(),
            returning_users: a.returning_users,
            new_users: a.new_users,
            sessions: a.sessions,
            messages: a.user_messages,
            user_messages: a.user_messages,
            bot_messages: a.bot_messages,
            events: 0,
            event_types: BTreeMap::new(),
            custom_events: BTreeMap::new(),
            llm: LlmFigures {
                calls: 0,
                errors: 0,
                input_tokens: 0,
                output_tokens: 0,
                latency: zero(),
                tokens_per_second: zero(),
                cost: Cost { sum: 0.0, mean: 0.0, sd: 0.0, min: 0.0, max: 0.0 },
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
struct Analytics {
    records: Vec<AnalyticsRecord>,
}

/// The bot's activity by UTC day (`getBotAnalytics`): `startDate` and `endDate` (ISO 8601 dates
/// or date-times, both included, at most 366 days apart).
#[utoipa::path(get, path = "/admin/bots/{id}/analytics", tag = "Botpress: bots",
    params(("id" = String, Path), ("x-workspace-id" = String, Header),
        ("startDate" = String, Query), ("endDate" = String, Query)),
    responses((status = 200, description = "One record per UTC day of the period", body = Analytics)))]
async fn get_bot_analytics(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Analytics>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    let since = date(&query, "startDate", false)?;
    let until = date(&query, "endDate", true)?;
    let activity = state.services.bot_activity(&access, since, until).await?;
    Ok(Json(Analytics { records: activity.into_iter().map(Into::into).collect() }))
}

#[derive(Serialize, ToSchema)]
struct DataValue {
    raw: String,
}

fn data(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, DataValue> {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty()).map(|v| ((*k).to_owned(), DataValue { raw: v.to_owned() }))
        })
        .collect()
}

/// An issue: the error log entries of one command with one title.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct IssueView {
    /// The id of the issue's first entry.
    id: String,
    /// `script_error` (a command or dialog failed) or `platform_error` (botyard logged it).
    code: &'static str,
    created_at: String,
    last_seen_at: String,
    title: String,
    /// `command: title`, as the log lines show it.
    description: String,
    /// What every entry of the issue shares: `command`, `title`.
    #[schema(value_type = Object)]
    grouped_data: BTreeMap<String, DataValue>,
    events_count: i64,
    /// `user_code` when a command or dialog failed, else `other`.
    category: &'static str,
    resolution_link: Option<String>,
}

impl From<Issue> for IssueView {
    fn from(issue: Issue) -> Self {
        let entry = issue.first.entry;
        let command = entry.command.as_deref();
        Self {
            id: issue.first.id.to_string(),
            code: if command.is_some() { "script_error" } else { "platform_error" },
            created_at: entry.at.to_rfc3339(),
            last_seen_at: issue.last_seen.to_rfc3339(),
            description: match command {
                Some(command) => format!("{command}: {}", entry.title),
                None => entry.title.clone(),
            },
            grouped_data: data(&[("command", command), ("title", Some(&entry.title))]),
            title: entry.title,
            events_count: issue.events,
            category: if command.is_some() { "user_code" } else { "other" },
            resolution_link: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct IssueList {
    issues: Vec<IssueView>,
    meta: ListMeta,
}

#[derive(Serialize, ToSchema)]
struct IssueEnvelope {
    issue: IssueView,
}

/// One entry of an issue.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct IssueEvent {
    id: String,
    created_at: String,
    /// `title`, `stackTrace`, and the Chat API's `conversationId` and `userId` when the entry
    /// names them.
    #[schema(value_type = Object)]
    data: BTreeMap<String, DataValue>,
}

impl From<ErrorLog> for IssueEvent {
    fn from(log: ErrorLog) -> Self {
        let e = &log.entry;
        Self {
            id: log.id.to_string(),
            created_at: e.at.to_rfc3339(),
            data: data(&[
                ("title", Some(&e.title)),
                ("stackTrace", Some(&e.stack_trace)),
                ("conversationId", log.chat_external.as_deref()),
                ("userId", log.user_external.as_deref()),
            ]),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct IssueEvents {
    issue_events: Vec<IssueEvent>,
}

fn issue_id(raw: &str) -> botyard_domain::Result<i64> {
    raw.parse().map_err(|_| Error::not_found("Issue"))
}

fn number(query: &QueryPairs, key: &str) -> botyard_domain::Result<Option<u32>> {
    query
        .get(key)
        .filter(|v| !v.is_empty())
        .map(|raw| {
            raw.parse().map_err(|_| invalid_query(format!("{key} must be a whole number, not \"{raw}\"")))
        })
        .transpose()
}

/// The bot's issues, the one seen last first (`listBotIssues`).
#[utoipa::path(get, path = "/admin/bots/{id}/issues", tag = "Botpress: bots",
    params(("id" = String, Path), ("x-workspace-id" = String, Header),
        ("nextToken" = Option<String>, Query), ("pageSize" = Option<u32>, Query, description = "1-100, 20 by default")),
    responses((status = 200, description = "A page of the bot's issues", body = IssueList)))]
async fn list_bot_issues(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<IssueList>> {
    let size = number(&query, "pageSize")?.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let page = number(&query, "nextToken")?.unwrap_or(1).max(1);
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    let issues = state.services.bot_issues(&access, page, size).await?;
    let next_token = (issues.len() as u32 == size).then(|| (page + 1).to_string());
    Ok(Json(IssueList {
        issues: issues.into_iter().map(Into::into).collect(),
        meta: ListMeta { next_token },
    }))
}

/// One issue (`getBotIssue`).
#[utoipa::path(get, path = "/admin/bots/{id}/issues/{issueId}", tag = "Botpress: bots",
    params(("id" = String, Path), ("issueId" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "The issue", body = IssueEnvelope)))]
async fn get_bot_issue(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path((id, issue)): Path<(String, String)>,
) -> Result<Json<IssueEnvelope>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    let issue = state.services.bot_issue(&access, issue_id(&issue)?).await?;
    Ok(Json(IssueEnvelope { issue: issue.into() }))
}

/// Delete an issue: its error log entries (`deleteBotIssue`).
#[utoipa::path(delete, path = "/admin/bots/{id}/issues/{issueId}", tag = "Botpress: bots",
    params(("id" = String, Path), ("issueId" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "Deleted (an empty object)", body = Empty)))]
async fn delete_bot_issue(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path((id, issue)): Path<(String, String)>,
) -> Result<Json<Empty>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    state.services.delete_bot_issue(&access, issue_id(&issue)?).await?;
    Ok(Json(Empty {}))
}

/// The entries of an issue, newest first, at most 100 (`listBotIssueEvents`).
#[utoipa::path(get, path = "/admin/bots/{id}/issues/{issueId}/events", tag = "Botpress: bots",
    params(("id" = String, Path), ("issueId" = String, Path), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "The issue's entries", body = IssueEvents)))]
async fn list_bot_issue_events(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path((id, issue)): Path<(String, String)>,
) -> Result<Json<IssueEvents>> {
    let access = state.services.workspace_bot(&ws, &bot_ref(&id)?).await?;
    let events = state.services.bot_issue_events(&access, issue_id(&issue)?, MAX_ISSUE_EVENTS).await?;
    Ok(Json(IssueEvents { issue_events: events.into_iter().map(Into::into).collect() }))
}
