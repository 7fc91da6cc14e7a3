//! Jobs that run bot code: delayed runs, auto-retries, recurring events, HTTP requests with their
//! callbacks. Each hands a run to the runtime with a hook, so the job ends in the same transaction
//! as the run's effects — a run that fires is never fired again.

use std::time::Duration;

use botyard_domain::bot::Bot;
use botyard_domain::job::{Job, JobEnd, JobError, JobUpdate};
use botyard_domain::{BotRef, Error, ErrorCode, Result};
use botyard_runtime::{IncomingKind, JobHook, RunReport};
use botyard_store::JobStore;
use serde_json::{Map, Value, json};

use crate::JobContext;

fn param_i64(job: &Job, key: &str) -> Option<i64> {
    job.params.get(key).and_then(Value::as_i64)
}

fn succeeded(job: &Job, details: Value) -> JobUpdate {
    JobUpdate::End(JobEnd::Succeeded { details, bot: job.bot })
}

/// Hands a run to the runtime and waits for its report; a run that did not happen ends the job
/// here with the reason.
async fn run(
    ctx: &JobContext,
    job: &Job,
    chat: Option<i64>,
    user: Option<i64>,
    kind: IncomingKind,
    hook: (JobHook, tokio::sync::oneshot::Receiver<RunReport>),
) -> Result<RunReport> {
    let bot = job.bot.ok_or_else(|| Error::internal("a run job without its bot"))?;
    let (hook, report) = hook;
    ctx.jobs.runtime().run_for_job(bot, chat, user, kind, hook).await?;
    let report = report
        .await
        .map_err(|_| Error::new(ErrorCode::Unavailable, "the runtime stopped before the run ended"))?;
    if let RunReport::Skipped(why) = &report {
        let error = JobError { code: "Skipped".into(), message: format!("Not run: {why}") };
        ctx.store().finish_job(&ctx.lease, &JobEnd::Failed { details: None, error }).await?;
    }
    Ok(report)
}

fn command(text: &str, options: Value, globals: Map<String, Value>) -> IncomingKind {
    IncomingKind::Command { text: text.to_owned(), options, globals }
}

pub async fn run_scheduled(ctx: &JobContext, job: &Job) -> Result<()> {
    let text = ctx.param("command").ok_or_else(|| Error::internal("a delayed run without its command"))?;
    let options = job.params.get("options").cloned().unwrap_or(Value::Null);
    let hook = JobHook::new(ctx.lease.clone(), succeeded(job, json!({"command": text})), None);
    let kind = command(text, options, Map::new());
    run(ctx, job, param_i64(job, "chat_id"), param_i64(job, "user_id"), kind, hook).await?;
    Ok(())
}

pub async fn run_auto_retry(ctx: &JobContext, job: &Job) -> Result<()> {
    let text = ctx.param("command").ok_or_else(|| Error::internal("an auto-retry without its command"))?;
    let hook = JobHook::new(ctx.lease.clone(), succeeded(job, json!({"command": text})), None);
    run(ctx, job, None, None, command(text, Value::Null, Map::new()), hook).await?;
    Ok(())
}

/// Fires a recurring event's `on(type)` handlers and keeps the event's failure count.
pub async fn run_recurring_event(ctx: &JobContext, job: &Job) -> Result<()> {
    let key =
        ctx.param("key").ok_or_else(|| Error::internal("a recurring event without its key"))?.to_owned();
    let name = ctx.param("type").unwrap_or(&key).to_owned();
    let payload = job.params.get("payload").cloned().unwrap_or(json!({}));
    let hook = JobHook::new(ctx.lease.clone(), succeeded(job, json!({"event": key})), None);
    let report = run(ctx, job, None, None, IncomingKind::Event { name, payload }, hook).await?;
    let failure = match &report {
        RunReport::Completed => None,
        RunReport::Failed(message) | RunReport::Skipped(message) => Some(message.clone()),
    };
    record_failure(ctx, job, &key, failure).await
}

/// `failedAttempts` counts failures in a row; `lastFailureReason` keeps the last one.
async fn record_failure(ctx: &JobContext, job: &Job, key: &str, failure: Option<String>) -> Result<()> {
    let services = ctx.services();
    let Some(bot) = services.find_bot(&BotRef::Number(job.bot.unwrap_or_default())).await? else {
        return Ok(());
    };
    let unchanged = |bot: &Bot| {
        bot.definition.recurring_events.get(key).is_none_or(|e| failure.is_none() && e.failed_attempts == 0)
    };
    if unchanged(&bot) {
        return Ok(());
    }
    services
        .change_bot_quietly(&bot.id, |bot| {
            if let Some(event) = bot.definition.recurring_events.get_mut(key) {
                match &failure {
                    Some(reason) => {
                        event.failed_attempts += 1;
                        event.last_failure_reason = Some(reason.chars().take(1000).collect());
                    }
                    None => event.failed_attempts = 0,
                }
            }
        })
        .await
}

/// Sends a script's HTTP request, then runs its `success` or `error` command with `content`,
/// `http_status` and `http_headers`.
pub async fn run_http_request(ctx: &JobContext, job: &Job) -> Result<()> {
    let settings = &ctx.services().config.outbound;
    let method = ctx.param("method").unwrap_or("GET").to_owned();
    let url = ctx.param("url").ok_or_else(|| Error::internal("an HTTP job without its URL"))?.to_owned();
    let headers = job.params.get("headers").and_then(Value::as_object).cloned().unwrap_or_default();
    let body = match job.params.get("body") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone().into_bytes()),
        Some(other) => Some(other.to_string().into_bytes()),
    };
    let mut headers = headers;
    if job.params.get("body").is_some_and(|b| b.is_object() || b.is_array())
        && !headers.keys().any(|k| k.eq_ignore_ascii_case("content-type"))
    {
        headers.insert("content-type".into(), json!("application/json"));
    }
    let request = botyard_core::outbound::Request {
        method: &method,
        url: &url,
        headers: &headers,
        body,
        timeout: Duration::from_secs(settings.timeout_secs),
        max_bytes: settings.max_response_bytes,
    };
    let (ok, globals) = match ctx.services().send_outbound(request).await {
        Ok(answer) => {
            let mut globals = Map::new();
            globals.insert("content".into(), json!(String::from_utf8_lossy(&answer.body)));
            globals.insert("http_status".into(), json!(answer.status));
            globals.insert("http_headers".into(), Value::Object(answer.headers));
            ((200..300).contains(&answer.status), globals)
        }
        Err(e) => {
            let mut globals = Map::new();
            globals.insert("content".into(), json!(e.message));
            globals.insert("http_status".into(), json!(0));
            globals.insert("http_headers".into(), json!({}));
            (false, globals)
        }
    };
    let status = globals["http_status"].clone();
    let callback = if ok { ctx.param("success") } else { ctx.param("error") };
    let Some(callback) = callback else {
        let details = json!({"http_status": status, "callback": null});
        ctx.store().finish_job(&ctx.lease, &JobEnd::Succeeded { details, bot: job.bot }).await?;
        return Ok(());
    };
    let options = job.params.get("options").cloned().unwrap_or(Value::Null);
    let hook = JobHook::new(
        ctx.lease.clone(),
        succeeded(job, json!({"http_status": status, "callback": callback})),
        None,
    );
    run(
        ctx,
        job,
        param_i64(job, "chat_id"),
        param_i64(job, "user_id"),
        command(callback, options, globals),
        hook,
    )
    .await?;
    Ok(())
}
