//! botyard's job system: long operations — Kore.ai imports and exports, Bots.Business CSV and git
//! synchronisation, botyard archives, bot copies — run in the background from one durable queue
//! in the database, and clients poll their status.
//!
//! # How it runs
//!
//! [`Jobs::start`] spawns `jobs.workers` worker tasks on this node. A worker claims the next due
//! job in one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several nodes share the
//! queue), which gives it a lease of `jobs.lease_secs` that it renews while it works. When the
//! lease runs out — the node crashed, was killed or lost the database — any worker claims the job
//! again; after `jobs.max_attempts` claims it fails with the reason. A handler reads what it needs,
//! checks it, and then writes its changes **and** the job's end in one transaction, so an import
//! is applied completely or not at all, and never twice; a fault before that commit leaves the
//! target bot exactly as it was. Idle workers wake when this node enqueues a job and otherwise
//! look for work every `jobs.poll_interval_ms`.
//!
//! Each dialect renders a job in its own shape (Kore.ai `statusLogs`, Bots.Business counts,
//! Meilisearch-like tasks in the Botpress dialect); the job's `details` hold what they need.

pub mod app_requests;
pub mod archive;
pub mod bb_csv;
pub mod bb_git;
mod broadcast;
pub mod catalog;
mod context;
pub mod files;
pub mod koreai;
mod runs;
mod scheduler;
mod start;
mod worker;

use std::sync::{Arc, Mutex};

use botyard_core::Services;
use botyard_domain::job::{FailPoints, Job, JobKind, NewJob};
use botyard_domain::{Result, Timestamp};
use botyard_runtime::Runtime;
use botyard_store::{JobStore, Store};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use context::JobContext;
pub use start::TransferRequest;

/// The job system of this node; cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    services: Services,
    /// The job queue, files and the content jobs write.
    store: Store,
    /// Woken when this node enqueues a job (every worker looks, the first one claims it).
    wake: Notify,
    /// This node's name in the queue's `worker` column.
    node: String,
    stopping: CancellationToken,
    workers: Mutex<Vec<JoinHandle<()>>>,
    failpoints: FailPoints,
    runtime: Runtime,
}

impl Jobs {
    /// Starts the workers. Call inside a Tokio runtime.
    pub fn start(services: Services, runtime: Runtime, store: Store) -> Self {
        let failpoints = FailPoints::new(services.config.jobs.failpoints.iter().cloned());
        let jobs = Self {
            inner: Arc::new(Inner {
                wake: Notify::new(),
                node: format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
                stopping: CancellationToken::new(),
                workers: Mutex::new(Vec::new()),
                failpoints,
                services,
                store,
                runtime,
            }),
        };
        let settings = jobs.inner.services.config.jobs.clone();
        let pools: [(&'static [JobKind], usize, &str); 3] = [
            (&JobKind::TRANSFERS, settings.workers, "transfer"),
            (&JobKind::RUNS, settings.run_workers, "run"),
            (&JobKind::BROADCASTS, settings.broadcast_workers, "broadcast"),
        ];
        let mut handles = Vec::new();
        for (kinds, count, pool) in pools {
            for n in 0..count {
                let name = format!("{}/{pool}-{n}", jobs.inner.node);
                handles.push(tokio::spawn(worker::run(jobs.clone(), name, kinds)));
            }
        }
        handles.push(tokio::spawn(scheduler::run(jobs.clone())));
        jobs.inner.workers.lock().unwrap_or_else(|e| e.into_inner()).extend(handles);
        jobs
    }

    pub fn services(&self) -> &Services {
        &self.inner.services
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// Stores a job and wakes a worker.
    pub async fn enqueue(&self, job: NewJob) -> Result<Job> {
        let job = self.inner.store.enqueue(&job).await?;
        self.inner.wake.notify_waiters();
        Ok(job)
    }

    /// Sets the metric of jobs waiting, by kind, from the queue (called when metrics are read).
    pub async fn observe_queue(&self) -> Result<()> {
        let counts = self.inner.store.queued_jobs().await?;
        self.inner.services.metrics.set_jobs_queued(JobKind::ALL.iter().map(|k| k.as_str()), &counts);
        Ok(())
    }

    /// The job with this number, if it exists.
    pub async fn job(&self, id: i64) -> Result<Option<Job>> {
        self.inner.store.job(id).await
    }

    /// Stops claiming jobs and waits (up to ten seconds) for the ones in progress; those still
    /// running are abandoned to their lease and taken up again later.
    pub async fn stop(&self) {
        self.inner.stopping.cancel();
        let handles: Vec<_> =
            std::mem::take(&mut *self.inner.workers.lock().unwrap_or_else(|e| e.into_inner()));
        let all = futures::future::join_all(handles);
        if tokio::time::timeout(std::time::Duration::from_secs(10), all).await.is_err() {
            tracing::warn!(
                "jobs still running at shutdown are left to their lease and will be taken up again"
            );
        }
    }

    /// A new file id: 24 hexadecimal digits, as Kore.ai's are.
    pub fn new_file_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()[..24].to_owned()
    }

    /// When a file stored now expires.
    pub fn file_expiry(&self) -> Timestamp {
        let hours = self.inner.services.config.jobs.file_ttl_hours.max(1);
        Timestamp::now().plus_secs((hours * 3600) as i64)
    }
}
