//! What a job's handler works with: the services, its lease, and a progress reporter.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use botyard_core::Services;
use botyard_domain::job::{Job, JobLease};
use botyard_domain::{Error, Result};
use botyard_store::{FileStore, JobStore};
use serde_json::Value;

use crate::Jobs;

/// How often progress is written at most (the last state is always written).
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

pub struct JobContext {
    pub jobs: Jobs,
    pub job: Job,
    pub lease: JobLease,
    details: Mutex<(Value, Option<Instant>)>,
}

impl JobContext {
    pub(crate) fn new(jobs: Jobs, job: Job, lease: JobLease) -> Self {
        let details = job.details.clone();
        Self { jobs, job, lease, details: Mutex::new((details, None)) }
    }

    pub fn store(&self) -> &botyard_store::Store {
        self.jobs.store()
    }

    pub fn services(&self) -> &Services {
        self.jobs.services()
    }

    /// The details as last reported.
    pub fn details(&self) -> Value {
        self.details.lock().unwrap_or_else(|e| e.into_inner()).0.clone()
    }

    /// Reports progress; written to the job at most every 200 ms unless `force`.
    pub async fn progress(&self, details: Value, force: bool) -> Result<()> {
        let due = {
            let mut slot = self.details.lock().unwrap_or_else(|e| e.into_inner());
            let due = force || slot.1.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY);
            slot.0 = details.clone();
            if due {
                slot.1 = Some(Instant::now());
            }
            due
        };
        if due && !self.store().set_job_details(&self.lease, &details).await? {
            return Err(Error::conflict(botyard_store::LEASE_LOST));
        }
        Ok(())
    }

    /// Fails as if the process died here, when the fail point is armed (tests).
    pub fn failpoint(&self, name: &str) -> Result<()> {
        self.lease.failpoints.check(name)
    }

    /// An uploaded file of the job's workspace; `what` names it in the error.
    pub async fn file(&self, id: &str, what: &str) -> Result<Vec<u8>> {
        let found = self.store().file(id, botyard_domain::Timestamp::now()).await?;
        match found {
            Some(file) if Some(&file.workspace_id) == self.job.workspace_id.as_ref() => Ok(file.content),
            _ => Err(Error::invalid(format!("{what}: the file {id} does not exist or has expired"))),
        }
    }

    /// A string parameter of the job.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.job.params.get(key).and_then(Value::as_str)
    }
}
