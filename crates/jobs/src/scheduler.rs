//! The scheduler: every `jobs.scheduler_interval_ms`, each node makes sure the next run of every
//! auto-retry command and the next firing of every recurring event of running bots is queued. The
//! job's dedupe key names the due time, so however many nodes and ticks ask, one job exists per
//! due time; firings missed while no node ran are skipped, not fired late. It also deletes finished
//! jobs, Telegram update ids after `jobs.retention_hours`, and expired files.

use std::time::Duration;

use botyard_domain::Timestamp;
use botyard_domain::bot::changes::next_cron_time;
use botyard_domain::job::{JobKind, NewJob};
use botyard_store::{FileStore, TelegramStore, TimerStore};
use serde_json::json;

use crate::Jobs;

/// How often finished jobs and expired files are cleaned up.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);

pub(crate) async fn run(jobs: Jobs) {
    let every = Duration::from_millis(jobs.services().config.jobs.scheduler_interval_ms.max(100));
    let mut last_housekeeping = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = jobs.inner.stopping.cancelled() => return,
        }
        if let Err(e) = tick(&jobs).await {
            tracing::warn!(error = %e, "the scheduler could not queue the next runs");
        }
        if last_housekeeping.elapsed() >= HOUSEKEEPING_EVERY {
            last_housekeeping = std::time::Instant::now();
            housekeeping(&jobs).await;
        }
    }
}

async fn tick(jobs: &Jobs) -> botyard_domain::Result<()> {
    let store = &jobs.store();
    let now = Timestamp::now();
    let mut added = false;
    for retry in store.auto_retries().await? {
        let period = retry.period_secs.max(1) * 1000;
        let due = (now.millis() / period + 1) * period;
        let mut job = NewJob::new(
            JobKind::AutoRetry,
            json!({"command": retry.command, "command_id": retry.command_id}),
        );
        job.workspace_id = Some(retry.workspace);
        job.bot = Some(retry.bot);
        job.run_at = Timestamp(due);
        job.max_attempts = 1;
        job.dedupe_key = Some(format!("auto:{}:{}:{due}", retry.bot, retry.command_id));
        added |= store.enqueue_unique(&job).await?;
    }
    for bot in store.bots_with_recurring_events().await? {
        for (key, event) in &bot.definition.recurring_events {
            let Some(due) = next_cron_time(&event.schedule.cron, now) else { continue };
            let params = json!({"key": key, "type": event.event_type, "payload": event.payload});
            let mut job = NewJob::new(JobKind::RecurringEvent, params);
            job.workspace_id = Some(bot.workspace_id.clone());
            job.bot = Some(bot.number);
            job.run_at = due;
            job.max_attempts = 1;
            job.dedupe_key = Some(format!("recurring:{}:{key}:{}", bot.number, due.millis()));
            added |= store.enqueue_unique(&job).await?;
        }
    }
    if added {
        jobs.inner.wake.notify_waiters();
    }
    Ok(())
}

async fn housekeeping(jobs: &Jobs) {
    let services = jobs.services();
    let hours = services.config.jobs.retention_hours as i64;
    let before = Timestamp::now().plus_secs(-hours * 3600);
    if let Err(e) = jobs.store().delete_finished_jobs(before).await {
        tracing::warn!(error = %e, "could not delete old jobs");
    }
    if let Err(e) = jobs.store().delete_expired_files(Timestamp::now()).await {
        tracing::warn!(error = %e, "could not delete expired files");
    }
    // Telegram resends an update for at most a day; ids older than the retention are not needed.
    if let Err(e) = jobs.store().forget_updates(before).await {
        tracing::warn!(error = %e, "could not forget old Telegram update ids");
    }
}
