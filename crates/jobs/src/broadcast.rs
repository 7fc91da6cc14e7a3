//! Broadcasts (`Bot.runAll`): the command runs in every chat the broadcast reaches, one chat after
//! another in id order, at `telegram.broadcast_per_second`. Chats are read a page at a time, never
//! all at once. Each run marks its chat done in the transaction of its effects, so a broadcast
//! taken up again after a crash skips the chats it reached and runs in the others exactly once.
//! Its owner can pause, resume or cancel it; the broadcast looks at that four times a second.

use std::time::{Duration, Instant};

use botyard_domain::job::{Job, JobEnd, JobUpdate};
use botyard_domain::{Error, Result};
use botyard_runtime::{IncomingKind, JobHook, RunReport};
use botyard_store::{BroadcastStore, ChatFilter, JobStore};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use crate::JobContext;

const PAGE: u32 = 500;
const CONTROL_EVERY: Duration = Duration::from_millis(250);
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// Runs in flight at once (their own chats; the rate still paces their start).
const IN_FLIGHT: usize = 64;

pub async fn run(ctx: &JobContext, job: &Job) -> Result<()> {
    let services = ctx.services();
    let store = ctx.store();
    let bot = job.bot.ok_or_else(|| Error::internal("a broadcast without its bot"))?;
    let command =
        ctx.param("command").ok_or_else(|| Error::internal("a broadcast without its command"))?.to_owned();
    let options = job.params.get("options").cloned().unwrap_or(Value::Null);
    let filter = ChatFilter::parse(ctx.param("for_chats").unwrap_or("all")).unwrap_or(ChatFilter::All);
    let total = store.count_broadcast_chats(bot, filter).await?;
    if job.attempts == 1
        && let Some(on_create) = ctx.param("on_create")
    {
        let task = json!({"run_all_task": {"id": job.id, "total": total, "status": "running"}});
        let chat = job.params.get("chat_id").and_then(Value::as_i64);
        let user = job.params.get("user_id").and_then(Value::as_i64);
        ctx.jobs.runtime().run_command(bot, chat, user, on_create, task).await?;
    }
    let rate = f64::from(services.config.telegram.broadcast_rate());
    let interval = Duration::from_secs_f64(1.0 / rate);
    let permits = std::sync::Arc::new(Semaphore::new(IN_FLIGHT));
    let mut reports = Vec::new();
    let mut after = 0;
    let mut next = Instant::now();
    let mut checked = Instant::now();
    let mut reported = Instant::now();
    let mut paused = false;
    progress(ctx, total, "running", true).await?;
    loop {
        match store.job_control(job.id).await?.as_deref() {
            Some("cancel") => {
                drain(&mut reports).await;
                progress(ctx, total, "canceled", true).await?;
                store.finish_job(&ctx.lease, &JobEnd::Canceled).await?;
                return Ok(());
            }
            Some("pause") => {
                if !paused {
                    // The runs under way end first: once "paused" is written, nothing moves.
                    drain(&mut reports).await;
                    progress(ctx, total, "paused", true).await?;
                    paused = true;
                }
                tokio::time::sleep(CONTROL_EVERY).await;
                next = Instant::now();
                continue;
            }
            _ => {}
        }
        if std::mem::take(&mut paused) {
            progress(ctx, total, "running", true).await?;
        }
        let page = store.broadcast_chats(bot, job.id, filter, after, PAGE).await?;
        if page.is_empty() {
            drain(&mut reports).await;
            if store.broadcast_chats(bot, job.id, filter, 0, 1).await?.is_empty() {
                let details = details(ctx, total, "finished").await?;
                store.finish_job(&ctx.lease, &JobEnd::Succeeded { details, bot: Some(bot) }).await?;
                return Ok(());
            }
            // Runs that did not happen left their chats unmarked: go round again.
            after = 0;
            continue;
        }
        for (chat, user) in page {
            after = chat;
            let now = Instant::now();
            if next > now {
                tokio::time::sleep(next - now).await;
            } else if now - next > Duration::from_secs(1) {
                next = now;
            }
            next += interval;
            let Ok(permit) = permits.clone().acquire_owned().await else { break };
            let (hook, report) = JobHook::new(
                ctx.lease.clone(),
                JobUpdate::Mark { mark: chat, ok: true },
                Some(JobUpdate::Mark { mark: chat, ok: false }),
            );
            let kind = IncomingKind::Command {
                text: command.clone(),
                options: options.clone(),
                globals: Map::new(),
            };
            ctx.jobs.runtime().run_for_job(bot, Some(chat), user, kind, hook).await?;
            let lease = ctx.lease.clone();
            let marks = store.clone();
            reports.push(tokio::spawn(async move {
                // A run that did not happen (the chat was blocked meanwhile) is marked failed.
                if let Ok(RunReport::Skipped(_)) = report.await {
                    let _ = marks.mark_job(&lease, chat, false).await;
                }
                drop(permit);
            }));
            reports.retain(|r| !r.is_finished());
            if reported.elapsed() >= PROGRESS_EVERY {
                reported = Instant::now();
                progress(ctx, total, "running", true).await?;
            }
            if checked.elapsed() >= CONTROL_EVERY {
                checked = Instant::now();
                if store.job_control(job.id).await?.is_some() {
                    break;
                }
            }
        }
    }
}

async fn drain(reports: &mut Vec<tokio::task::JoinHandle<()>>) {
    for report in reports.drain(..) {
        let _ = report.await;
    }
}

/// `{total, cur_position, progress, errors_count, status}` from the marks.
async fn details(ctx: &JobContext, total: i64, status: &str) -> Result<Value> {
    let (done, failed) = ctx.store().job_marks(ctx.job.id).await?;
    let progress = if total > 0 { (done * 100 / total).min(100) } else { 100 };
    Ok(
        json!({"total": total, "cur_position": done, "progress": progress, "errors_count": failed, "status": status}),
    )
}

async fn progress(ctx: &JobContext, total: i64, status: &str, force: bool) -> Result<()> {
    let details = details(ctx, total, status).await?;
    ctx.progress(details, force).await
}
