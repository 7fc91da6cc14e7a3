//! A worker: claim a job, run its handler while renewing the lease, record how it ended.

use std::time::Duration;

use botyard_domain::job::{FailPoints, Job, JobError, JobKind, JobLease};
use botyard_domain::{Error, ErrorCode, Timestamp};
use botyard_store::{JobEnd, JobStore, LEASE_LOST};
use tracing::Instrument;

use crate::{JobContext, Jobs, archive, bb_csv, bb_git, broadcast, koreai, runs};

pub(crate) async fn run(jobs: Jobs, name: String, kinds: &'static [JobKind]) {
    let settings = jobs.services().config.jobs.clone();
    let poll = Duration::from_millis(settings.poll_interval_ms);
    let lease = Duration::from_secs(settings.lease_secs);
    loop {
        if jobs.inner.stopping.is_cancelled() {
            return;
        }
        let now = Timestamp::now();
        let claimed =
            jobs.store().claim_job(&name, now, now.plus_millis(lease.as_millis() as i64), kinds).await;
        match claimed {
            Ok(Some(job)) => work(&jobs, job, lease).await,
            Ok(None) => {
                let woken = jobs.inner.wake.notified();
                tokio::select! {
                    _ = woken => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = jobs.inner.stopping.cancelled() => return,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not claim a job; retrying");
                tokio::time::sleep(poll).await;
            }
        }
    }
}

async fn work(jobs: &Jobs, job: Job, lease_for: Duration) {
    let lease = JobLease { job: job.id, attempt: job.attempts, failpoints: jobs.inner.failpoints.clone() };
    let span = tracing::info_span!(
        "job",
        job_id = job.id,
        kind = job.kind.as_str(),
        attempt = job.attempts,
        bot_id = job.bot,
        workspace_id = job.workspace_id.as_ref().map(|w| w.to_string()),
    );
    let kind = job.kind.as_str();
    let started = std::time::Instant::now();
    let outcome = attempt(jobs, job, lease, lease_for).instrument(span).await;
    jobs.services().metrics.job(kind, outcome, started.elapsed());
}

/// Works on a job; returns how the attempt ended, for the metrics: `succeeded`, `failed`,
/// `retried` or `abandoned`.
async fn attempt(jobs: &Jobs, job: Job, lease: JobLease, lease_for: Duration) -> &'static str {
    let store = jobs.store();
    if job.attempts > job.max_attempts {
        let error = JobError {
            code: format!("{:?}", ErrorCode::Unavailable),
            message: format!(
                "The job was interrupted {} times (the server stopped or crashed while it ran) and was given up",
                job.attempts - 1
            ),
        };
        tracing::warn!("{}", error.message);
        let _ = store.finish_job(&lease, &JobEnd::Failed { details: None, error }).await;
        return "failed";
    }
    tracing::info!("job started");
    // Renew the lease while the handler works.
    let renewing = {
        let store = store.clone();
        let lease = lease.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease_for / 3).await;
                let until = Timestamp::now().plus_millis(lease_for.as_millis() as i64);
                match store.renew_lease(&lease, until).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => tracing::warn!(error = %e, "could not renew a job's lease"),
                }
            }
        })
    };
    let context = JobContext::new(jobs.clone(), job.clone(), lease.clone());
    let outcome = handle(&context, &job).await;
    renewing.abort();
    match outcome {
        Ok(()) => {
            tracing::info!("job finished");
            "succeeded"
        }
        Err(e) if FailPoints::is_crash(&e) => {
            // As if the process died here: the transaction in progress was dropped and the job is
            // left to its lease.
            tracing::warn!(
                point = e.detail.as_deref().unwrap_or(""),
                "fail point: the worker abandons the job"
            );
            "abandoned"
        }
        Err(e) if e.message == LEASE_LOST => {
            tracing::warn!("the job's lease ran out while it worked; another worker has it");
            "abandoned"
        }
        Err(e) if transient(&e) && job.attempts < job.max_attempts => {
            let delay = 2_i64.pow(job.attempts.min(10)) * 1000;
            tracing::warn!(error = %e, "transient failure; the job will be retried");
            let _ =
                store.retry_job(&lease, Timestamp::now().plus_millis(delay), &JobError::from_error(&e)).await;
            "retried"
        }
        Err(e) => {
            tracing::info!(error = %e, "job failed");
            let details = context.details();
            let end = JobEnd::Failed { details: Some(details), error: JobError::from_error(&e) };
            if let Err(e) = store.finish_job(&lease, &end).await {
                tracing::error!(error = %e, "could not record a job's failure");
            }
            "failed"
        }
    }
}

/// A failure worth another attempt: the database or a remote was unavailable or slow.
fn transient(error: &Error) -> bool {
    match error.code {
        ErrorCode::Unavailable | ErrorCode::Timeout => true,
        ErrorCode::Internal => error.detail.as_deref().is_some_and(|d| d.starts_with("database")),
        _ => false,
    }
}

async fn handle(context: &JobContext, job: &Job) -> botyard_domain::Result<()> {
    match job.kind {
        JobKind::KoreImport => koreai::run_import(context, job).await,
        JobKind::KoreExport => koreai::run_export(context, job).await,
        JobKind::CsvImport => bb_csv::run(context, job).await,
        JobKind::GitImport => bb_git::run_import(context, job).await,
        JobKind::GitExport => bb_git::run_export(context, job).await,
        JobKind::ArchiveExport => archive::run_export(context, job).await,
        JobKind::ArchiveImport => archive::run_import(context, job).await,
        JobKind::BotCopy => archive::run_copy(context, job).await,
        JobKind::ScheduledRun => runs::run_scheduled(context, job).await,
        JobKind::AutoRetry => runs::run_auto_retry(context, job).await,
        JobKind::RecurringEvent => runs::run_recurring_event(context, job).await,
        JobKind::HttpRequest => runs::run_http_request(context, job).await,
        JobKind::Broadcast => broadcast::run(context, job).await,
    }
}
