//! The job queue's contract ([`JobStore`]), run against every configured backend: a job is claimed
//! by one worker at a time, in `run_at` then id order, only by workers of its kind; a claim holds
//! a lease, and a job whose lease lapsed is claimed again while the attempt that lost it can no
//! longer write the job; finished and canceled jobs are never claimed.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use botyard_domain::job::{JobError, JobKind, JobStatus};
use botyard_domain::{Timestamp, WorkspaceId};
use botyard_store::testing::backends;
use botyard_store::*;
use common::{T0, claimed_job, lease_of, new_job, open};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_take_each_job_exactly_once() {
    const JOBS: usize = 60;
    const CLAIMERS: usize = 8;
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let mut enqueued = BTreeSet::new();
        for i in 0..JOBS {
            // Some share a due time, so that ties are broken under contention too.
            let job = store.enqueue(&new_job(JobKind::ScheduledRun, T0.plus_millis((i % 7) as i64))).await;
            enqueued.insert(job.unwrap().id);
        }
        let now = T0.plus_secs(1);
        let start = Arc::new(tokio::sync::Barrier::new(CLAIMERS));
        let mut tasks = Vec::new();
        for w in 0..CLAIMERS {
            let store = store.clone();
            let start = start.clone();
            tasks.push(tokio::spawn(async move {
                let worker = format!("worker-{w}");
                start.wait().await;
                let mut mine = Vec::new();
                while let Some(job) =
                    store.claim_job(&worker, now, now.plus_secs(60), &JobKind::RUNS).await.unwrap()
                {
                    assert_eq!(job.status, JobStatus::Processing);
                    assert_eq!(job.attempts, 1, "a job is claimed once: {job:?}");
                    mine.push(job.id);
                }
                mine
            }));
        }
        let mut claimed = Vec::new();
        for task in tasks {
            claimed.extend(task.await.unwrap());
        }
        let distinct: BTreeSet<i64> = claimed.iter().copied().collect();
        assert_eq!(distinct.len(), claimed.len(), "{backend:?}: a job was claimed twice: {claimed:?}");
        assert_eq!(distinct, enqueued, "{backend:?}: every job is claimed");
        let again = store.claim_job("late", now, now.plus_secs(60), &JobKind::RUNS).await.unwrap();
        assert_eq!(again, None, "{backend:?}: nothing is left while the leases hold");
        for id in enqueued {
            let job = store.job(id).await.unwrap().unwrap();
            assert_eq!((job.status, job.attempts), (JobStatus::Processing, 1), "{backend:?}");
        }
        store.close().await;
    }
}

#[tokio::test]
async fn a_lapsed_lease_is_claimed_again_and_fences_the_old_attempt() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let job = store.enqueue(&new_job(JobKind::CsvImport, T0)).await.unwrap();
        assert_eq!((job.status, job.attempts), (JobStatus::Enqueued, 0));
        let kinds = [JobKind::CsvImport];

        let first = store.claim_job("w1", T0, T0.plus_secs(10), &kinds).await.unwrap().unwrap();
        assert_eq!((first.id, first.attempts, first.started_at), (job.id, 1, Some(T0)), "{backend:?}");
        let old = lease_of(&first);

        // While the lease holds (up to and including `lease_until`) nobody else gets the job.
        assert_eq!(store.claim_job("w2", T0.plus_secs(5), T0.plus_secs(60), &kinds).await.unwrap(), None);
        assert_eq!(store.claim_job("w2", T0.plus_secs(10), T0.plus_secs(60), &kinds).await.unwrap(), None);
        // A renewed lease holds longer.
        assert!(store.renew_lease(&old, T0.plus_secs(20)).await.unwrap());
        assert!(store.set_job_details(&old, &json!({"step": 1})).await.unwrap());
        assert_eq!(store.claim_job("w2", T0.plus_secs(15), T0.plus_secs(60), &kinds).await.unwrap(), None);

        // The worker died: once the lease lapsed another one takes the job over.
        let second =
            store.claim_job("w2", T0.plus_millis(20_001), T0.plus_secs(80), &kinds).await.unwrap().unwrap();
        assert_eq!((second.id, second.attempts), (job.id, 2), "{backend:?}");
        assert_eq!(second.started_at, Some(T0), "{backend:?}: the first start is kept");
        assert_eq!(second.details, json!({"step": 1}), "{backend:?}: progress survives the take-over");
        let new = lease_of(&second);

        // The old attempt can no longer write the job in any way.
        assert!(!store.renew_lease(&old, T0.plus_secs(1000)).await.unwrap(), "{backend:?}");
        assert!(!store.set_job_details(&old, &json!({"step": "stale"})).await.unwrap(), "{backend:?}");
        let error = JobError { code: "Internal".into(), message: "stale".into() };
        assert!(!store.retry_job(&old, T0, &error).await.unwrap(), "{backend:?}");
        let end = JobEnd::Succeeded { details: json!({"by": "old"}), bot: None };
        assert!(!store.finish_job(&old, &end).await.unwrap(), "{backend:?}");
        let failed_end = JobEnd::Failed { details: None, error: error.clone() };
        assert!(!store.finish_job(&old, &failed_end).await.unwrap(), "{backend:?}");
        let now = store.job(job.id).await.unwrap().unwrap();
        assert_eq!((now.status, now.attempts, now.error.clone()), (JobStatus::Processing, 2, None));
        assert_eq!(now.details, json!({"step": 1}), "{backend:?}");
        // Nor did its renewal extend the job's lease: the second attempt's lapses when it said.
        assert_eq!(store.claim_job("w3", T0.plus_secs(80), T0.plus_secs(200), &kinds).await.unwrap(), None);
        let third =
            store.claim_job("w3", T0.plus_millis(80_001), T0.plus_secs(200), &kinds).await.unwrap().unwrap();
        assert_eq!(third.attempts, 3, "{backend:?}");
        assert!(!store.renew_lease(&new, T0.plus_secs(1000)).await.unwrap(), "{backend:?}");

        // The current attempt ends the job, once.
        let end = JobEnd::Succeeded { details: json!({"by": "new"}), bot: Some(42) };
        assert!(store.finish_job(&lease_of(&third), &end).await.unwrap(), "{backend:?}");
        assert!(!store.finish_job(&lease_of(&third), &end).await.unwrap(), "{backend:?}: finished once");
        assert!(!store.finish_job(&new, &end).await.unwrap(), "{backend:?}");
        let done = store.job(job.id).await.unwrap().unwrap();
        assert_eq!(done.status, JobStatus::Succeeded, "{backend:?}");
        assert_eq!((done.details, done.bot), (json!({"by": "new"}), Some(42)), "{backend:?}");
        assert!(done.finished_at.is_some(), "{backend:?}");

        // A finished job is never claimed again, however late.
        let far = T0.plus_secs(10_000_000);
        assert_eq!(store.claim_job("w4", far, far.plus_secs(1), &JobKind::ALL).await.unwrap(), None);
        store.close().await;
    }
}

#[tokio::test]
async fn finished_and_canceled_jobs_are_never_claimed() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let kinds = [JobKind::GitImport];
        let failed = store.enqueue(&new_job(JobKind::GitImport, T0)).await.unwrap();
        let canceled = store.enqueue(&new_job(JobKind::GitImport, T0.plus_millis(1))).await.unwrap();
        let ended = store.enqueue(&new_job(JobKind::GitImport, T0.plus_millis(2))).await.unwrap();

        let claimed = store.claim_job("w", T0, T0.plus_secs(10), &kinds).await.unwrap().unwrap();
        assert_eq!(claimed.id, failed.id, "{backend:?}");
        let error = JobError { code: "InvalidPayload".into(), message: "bad sheet".into() };
        let end = JobEnd::Failed { details: Some(json!({"line": 3})), error: error.clone() };
        assert!(store.finish_job(&lease_of(&claimed), &end).await.unwrap());

        // A job that has not started is canceled; canceling it again, or a finished one, is not.
        assert!(store.cancel_job(canceled.id, T0.plus_millis(5)).await.unwrap(), "{backend:?}");
        assert!(!store.cancel_job(canceled.id, T0.plus_millis(6)).await.unwrap(), "{backend:?}");
        assert!(!store.cancel_job(failed.id, T0.plus_millis(6)).await.unwrap(), "{backend:?}");

        // A job that started cannot be canceled from outside; its worker ends it as canceled.
        let claimed = store.claim_job("w", T0.plus_secs(1), T0.plus_secs(10), &kinds).await.unwrap().unwrap();
        assert_eq!(claimed.id, ended.id, "{backend:?}: the canceled job was skipped");
        assert!(!store.cancel_job(ended.id, T0.plus_secs(2)).await.unwrap(), "{backend:?}");
        assert!(store.finish_job(&lease_of(&claimed), &JobEnd::Canceled).await.unwrap());

        let far = T0.plus_secs(10_000_000);
        assert_eq!(store.claim_job("w", far, far.plus_secs(1), &JobKind::ALL).await.unwrap(), None);

        let failed = store.job(failed.id).await.unwrap().unwrap();
        assert_eq!(failed.status, JobStatus::Failed, "{backend:?}");
        assert_eq!((failed.error, failed.details), (Some(error), json!({"line": 3})), "{backend:?}");
        let canceled = store.job(canceled.id).await.unwrap().unwrap();
        assert_eq!((canceled.status, canceled.attempts), (JobStatus::Canceled, 0), "{backend:?}");
        assert_eq!(canceled.finished_at, Some(T0.plus_millis(5)), "{backend:?}");
        let ended = store.job(ended.id).await.unwrap().unwrap();
        assert_eq!((ended.status, ended.attempts), (JobStatus::Canceled, 1), "{backend:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn claims_follow_run_at_then_id_and_only_the_asked_kinds() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let mut ids = Vec::new();
        for (kind, at) in [
            (JobKind::ScheduledRun, 300),
            (JobKind::ScheduledRun, 100),
            (JobKind::AutoRetry, 100),
            (JobKind::CsvImport, 50),
            (JobKind::HttpRequest, 200),
            (JobKind::ScheduledRun, 10_000),
            (JobKind::Broadcast, 0),
        ] {
            ids.push(store.enqueue(&new_job(kind, T0.plus_millis(at))).await.unwrap().id);
        }
        let now = T0.plus_secs(1);
        let mut order = Vec::new();
        while let Some(job) = store.claim_job("runs", now, now.plus_secs(60), &JobKind::RUNS).await.unwrap() {
            order.push(job.id);
        }
        // Due first, ties by id; the job due later and the other kinds wait.
        assert_eq!(order, vec![ids[1], ids[2], ids[4], ids[0]], "{backend:?}");
        let transfer = store.claim_job("t", now, now.plus_secs(60), &JobKind::TRANSFERS).await.unwrap();
        assert_eq!(transfer.map(|j| j.id), Some(ids[3]), "{backend:?}");
        let broadcast = store.claim_job("b", now, now.plus_secs(60), &JobKind::BROADCASTS).await.unwrap();
        assert_eq!(broadcast.map(|j| j.id), Some(ids[6]), "{backend:?}");
        // `run_at` is due when it is reached.
        let before = T0.plus_millis(9_999);
        assert_eq!(store.claim_job("runs", before, T0.plus_secs(90), &JobKind::RUNS).await.unwrap(), None);
        let due = T0.plus_millis(10_000);
        let last = store.claim_job("runs", due, T0.plus_secs(90), &JobKind::RUNS).await.unwrap();
        assert_eq!(last.map(|j| j.id), Some(ids[5]), "{backend:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_retried_job_waits_for_its_time_and_the_old_attempt_is_fenced() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let kinds = [JobKind::HttpRequest];
        let (job, lease) = claimed_job(&store, JobKind::HttpRequest, None, T0).await;
        let error = JobError { code: "Unavailable".into(), message: "upstream down".into() };
        assert!(store.retry_job(&lease, T0.plus_secs(5), &error).await.unwrap(), "{backend:?}");
        assert!(!store.retry_job(&lease, T0.plus_secs(5), &error).await.unwrap(), "{backend:?}");
        let waiting = store.job(job.id).await.unwrap().unwrap();
        assert_eq!((waiting.status, waiting.error), (JobStatus::Enqueued, Some(error)), "{backend:?}");

        let early = T0.plus_millis(4_999);
        assert_eq!(store.claim_job("w", early, early.plus_secs(60), &kinds).await.unwrap(), None);
        let at = T0.plus_secs(5);
        let again = store.claim_job("w", at, at.plus_secs(60), &kinds).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (job.id, 2), "{backend:?}");
        let end = JobEnd::Succeeded { details: json!({}), bot: None };
        assert!(!store.finish_job(&lease, &end).await.unwrap(), "{backend:?}: the first attempt is over");
        assert!(store.finish_job(&lease_of(&again), &end).await.unwrap(), "{backend:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn equal_jobs_are_enqueued_and_charged_once() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "queue").await;
        let month_before = Timestamp::now().month_key();
        let mut job = new_job(JobKind::RecurringEvent, T0);
        job.workspace_id = Some(ws.clone());
        job.bot = Some(bot);
        job.cost = 7;
        job.dedupe_key = Some(format!("recurring:{bot}:{}", T0.millis()));
        let first = store.enqueue(&job).await.unwrap();
        let second = store.enqueue(&job).await.unwrap();
        assert_eq!(first.id, second.id, "{backend:?}: the second is the first");
        assert!(!store.enqueue_unique(&job).await.unwrap(), "{backend:?}");
        assert_eq!(store.pending_jobs(bot, JobKind::RecurringEvent).await.unwrap(), 1, "{backend:?}");
        assert_eq!(
            usage(&store, &ws, &month_before).await,
            7,
            "{backend:?}: starting the job is charged once"
        );

        // Another key is another job, charged again.
        job.dedupe_key = Some(format!("recurring:{bot}:{}", T0.millis() + 1));
        assert!(store.enqueue_unique(&job).await.unwrap(), "{backend:?}");
        assert_eq!(store.pending_jobs(bot, JobKind::RecurringEvent).await.unwrap(), 2, "{backend:?}");
        let latest = store.latest_job(bot, JobKind::RecurringEvent).await.unwrap().unwrap();
        assert_ne!(latest.id, first.id, "{backend:?}");
        assert_eq!(usage(&store, &ws, &month_before).await, 14, "{backend:?}");
        store.close().await;
    }
}

/// What the workspace used since `month` began (the store charges jobs in the month of the wall
/// clock; a test run across a month's end sees both months).
async fn usage(store: &Store, ws: &WorkspaceId, month: &str) -> i64 {
    let mut used = store.usage(ws, month).await.unwrap();
    let now = Timestamp::now().month_key();
    if now != month {
        used += store.usage(ws, &now).await.unwrap();
    }
    used
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn equal_jobs_enqueued_at_once_are_one_job_charged_once() {
    const ENQUEUERS: usize = 8;
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let ws = common::workspace(&store).await;
        let bot = common::bot(&store, &ws, "race").await;
        let month = Timestamp::now().month_key();
        let mut job = new_job(JobKind::RecurringEvent, T0);
        job.workspace_id = Some(ws.clone());
        job.bot = Some(bot);
        job.cost = 3;
        job.dedupe_key = Some(format!("recurring:{bot}:race"));
        let start = Arc::new(tokio::sync::Barrier::new(ENQUEUERS));
        let mut tasks = Vec::new();
        for _ in 0..ENQUEUERS {
            let (store, start, job) = (store.clone(), start.clone(), job.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                store.enqueue(&job).await.unwrap().id
            }));
        }
        let mut ids = BTreeSet::new();
        for task in tasks {
            ids.insert(task.await.unwrap());
        }
        assert_eq!(ids.len(), 1, "{backend:?}: one job for one key");
        assert_eq!(store.pending_jobs(bot, JobKind::RecurringEvent).await.unwrap(), 1, "{backend:?}");
        assert_eq!(usage(&store, &ws, &month).await, 3, "{backend:?}: charged once");
        store.close().await;
    }
}

#[tokio::test]
async fn claiming_for_no_kinds_claims_nothing() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        store.enqueue(&new_job(JobKind::ScheduledRun, T0)).await.unwrap();
        let claimed = store.claim_job("idle", T0.plus_secs(1), T0.plus_secs(60), &[]).await;
        assert_eq!(claimed.map_err(|e| e.message), Ok(None), "{backend:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn only_jobs_finished_before_the_cutoff_are_deleted() {
    for backend in backends() {
        let (_db, store) = open(backend).await;
        let kinds = [JobKind::BotCopy];
        let old = store.enqueue(&new_job(JobKind::BotCopy, T0.plus_secs(100))).await.unwrap();
        let recent = store.enqueue(&new_job(JobKind::BotCopy, T0.plus_secs(100))).await.unwrap();
        let running = store.enqueue(&new_job(JobKind::BotCopy, T0)).await.unwrap();
        let waiting = store.enqueue(&new_job(JobKind::BotCopy, T0.plus_secs(100))).await.unwrap();
        assert!(store.cancel_job(old.id, T0.plus_secs(10)).await.unwrap());
        assert!(store.cancel_job(recent.id, T0.plus_secs(30)).await.unwrap());
        let claimed = store.claim_job("w", T0, T0.plus_secs(60), &kinds).await.unwrap().unwrap();
        assert_eq!(claimed.id, running.id, "{backend:?}");

        assert_eq!(store.delete_finished_jobs(T0.plus_secs(20)).await.unwrap(), 1, "{backend:?}");
        assert!(store.job(old.id).await.unwrap().is_none(), "{backend:?}");
        for kept in [&recent, &running, &waiting] {
            assert!(store.job(kept.id).await.unwrap().is_some(), "{backend:?}: job {} is kept", kept.id);
        }
        // However late the cutoff, unfinished jobs stay.
        let far = T0.plus_secs(10_000_000_000);
        assert_eq!(store.delete_finished_jobs(far).await.unwrap(), 1, "{backend:?}");
        assert!(
            store.job(running.id).await.unwrap().is_some() && store.job(waiting.id).await.unwrap().is_some()
        );
        store.close().await;
    }
}
