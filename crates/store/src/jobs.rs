//! The job queue: one table, claimed in one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL;
//! on SQLite the single writer connection makes the `UPDATE … RETURNING` atomic). A claim takes
//! a lease that the worker renews; a job whose lease ran out (its worker died) is claimed again.
//! A job's outcome is written only by the attempt that holds it, and importers write their
//! changes and the job's success in one transaction ([`finish_in`]), so a job is never applied
//! twice.

pub use botyard_domain::job::JobEnd;
use botyard_domain::job::{Job, JobError, JobKind, JobLease, JobStatus, NewJob};
use botyard_domain::{Error, Result, Timestamp, UserId, WorkspaceId};
use serde_json::Value;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::error::{db, json, to_json};
use crate::rows::get;
use crate::{Backend, Store};

macro_rules! job_columns {
    () => {
        "id, uid, kind, workspace_id, bot_id, created_by, status, params, details, error, attempts, \
         max_attempts, run_at, enqueued_at, started_at, finished_at, control"
    };
}

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait JobStore {
    async fn enqueue(&self, job: &NewJob) -> Result<Job>;
    /// Claims the next job that is due (or whose worker's lease ran out) for `worker` until
    /// `lease_until`.
    async fn claim_job(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        kinds: &[JobKind],
    ) -> Result<Option<Job>>;
    /// Extends the lease; `false` when the attempt no longer holds the job.
    async fn renew_lease(&self, lease: &JobLease, until: Timestamp) -> Result<bool>;
    /// Replaces the progress details; `false` when the attempt no longer holds the job.
    async fn set_job_details(&self, lease: &JobLease, details: &Value) -> Result<bool>;
    /// Ends the job; `false` when the attempt no longer holds it.
    async fn finish_job(&self, lease: &JobLease, end: &JobEnd) -> Result<bool>;
    /// Puts the job back in the queue to run at `run_at` (a transient failure).
    async fn retry_job(&self, lease: &JobLease, run_at: Timestamp, error: &JobError) -> Result<bool>;
    async fn job(&self, id: i64) -> Result<Option<Job>>;
    async fn job_by_uid(&self, uid: &str) -> Result<Option<Job>>;
    /// The newest job of a kind on a bot.
    async fn latest_job(&self, bot: i64, kind: JobKind) -> Result<Option<Job>>;
    /// The workspace's newest imports, exports and copies (not the runtime's own jobs).
    async fn workspace_jobs(&self, workspace: &WorkspaceId, limit: u32) -> Result<Vec<Job>>;
    /// Cancels a job that has not started; `false` when it has.
    async fn cancel_job(&self, id: i64, now: Timestamp) -> Result<bool>;
    /// How many jobs of this kind wait to run for the bot.
    async fn pending_jobs(&self, bot: i64, kind: JobKind) -> Result<u64>;
    /// How many jobs wait to run, by kind (kinds with none are left out).
    async fn queued_jobs(&self) -> Result<Vec<(String, u64)>>;
}

impl JobStore for Store {
    async fn enqueue(&self, job: &NewJob) -> Result<Job> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let inserted = insert_job(&mut tx, job, concat!("RETURNING ", job_columns!())).await?;
        let row = match inserted {
            Some(row) => {
                charge_in(&mut tx, job).await?;
                row
            }
            None => {
                // An equal job (same dedupe key) exists: that one is the job.
                let sql = concat!("SELECT ", job_columns!(), " FROM jobs WHERE dedupe_key = $1");
                sqlx::query(sql)
                    .bind(job.dedupe_key.as_deref().unwrap_or(""))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?
            }
        };
        tx.commit().await.map_err(db)?;
        // The job as inserted: a worker may claim it the moment it exists.
        job_row(&row)
    }

    async fn claim_job(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        kinds: &[JobKind],
    ) -> Result<Option<Job>> {
        if kinds.is_empty() {
            // No kind asked, none claimed (and `kind IN ()` is not SQL on PostgreSQL).
            return Ok(None);
        }
        // The kinds are our own constants, not client input.
        let kinds = kinds.iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ");
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let pick = format!(
            "SELECT id FROM jobs WHERE kind IN ({kinds}) AND ((status = 'enqueued' AND run_at <= $3) \
             OR (status = 'processing' AND lease_until < $3)) ORDER BY run_at, id LIMIT 1{lock}"
        );
        let sql = format!(
            "UPDATE jobs SET status = 'processing', worker = $1, lease_until = $2, attempts = attempts + 1, \
             started_at = COALESCE(started_at, $3) WHERE id = ({pick}) RETURNING {}",
            job_columns!()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(lease_until.millis())
            .bind(now.millis())
            .fetch_optional(&self.write)
            .await
            .map_err(db)?;
        row.map(|r| job_row(&r)).transpose()
    }

    async fn renew_lease(&self, lease: &JobLease, until: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND attempts = $3 AND status = 'processing'",
        )
        .bind(until.millis())
        .bind(lease.job)
        .bind(i64::from(lease.attempt))
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_job_details(&self, lease: &JobLease, details: &Value) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET details = $1 WHERE id = $2 AND attempts = $3 AND status = 'processing'",
        )
        .bind(to_json(details)?)
        .bind(lease.job)
        .bind(i64::from(lease.attempt))
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn finish_job(&self, lease: &JobLease, end: &JobEnd) -> Result<bool> {
        let mut conn = self.write.acquire().await.map_err(db)?;
        match finish_in(&mut conn, lease, end).await {
            Ok(()) => Ok(true),
            Err(e) if e.message == LEASE_LOST => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn retry_job(&self, lease: &JobLease, run_at: Timestamp, error: &JobError) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'enqueued', run_at = $1, error = $2, lease_until = NULL, worker = NULL \
             WHERE id = $3 AND attempts = $4 AND status = 'processing'",
        )
        .bind(run_at.millis())
        .bind(to_json(error)?)
        .bind(lease.job)
        .bind(i64::from(lease.attempt))
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn job(&self, id: i64) -> Result<Option<Job>> {
        let sql = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| job_row(&r)).transpose()
    }

    async fn job_by_uid(&self, uid: &str) -> Result<Option<Job>> {
        let sql = concat!("SELECT ", job_columns!(), " FROM jobs WHERE uid = $1");
        let row = sqlx::query(sql).bind(uid).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| job_row(&r)).transpose()
    }

    async fn latest_job(&self, bot: i64, kind: JobKind) -> Result<Option<Job>> {
        let sql = concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE bot_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1"
        );
        let row =
            sqlx::query(sql).bind(bot).bind(kind.as_str()).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| job_row(&r)).transpose()
    }

    async fn workspace_jobs(&self, workspace: &WorkspaceId, limit: u32) -> Result<Vec<Job>> {
        let sql = concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE workspace_id = $1 AND kind IN ('kore_import', 'kore_export', \
             'csv_import', 'git_import', 'git_export', 'archive_export', 'archive_import', 'bot_copy') \
             ORDER BY id DESC LIMIT $2"
        );
        let rows = sqlx::query(sql)
            .bind(workspace.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        rows.iter().map(job_row).collect()
    }

    async fn pending_jobs(&self, bot: i64, kind: JobKind) -> Result<u64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM jobs WHERE bot_id = $1 AND kind = $2 AND status = 'enqueued'",
        )
        .bind(bot)
        .bind(kind.as_str())
        .fetch_one(&self.read)
        .await
        .map_err(db)?;
        Ok(u64::try_from(get::<i64>(&row, "n")?).unwrap_or(0))
    }

    async fn queued_jobs(&self) -> Result<Vec<(String, u64)>> {
        let rows =
            sqlx::query("SELECT kind, COUNT(*) AS n FROM jobs WHERE status = 'enqueued' GROUP BY kind")
                .fetch_all(&self.read)
                .await
                .map_err(db)?;
        rows.iter()
            .map(|row| Ok((get::<String>(row, "kind")?, u64::try_from(get::<i64>(row, "n")?).unwrap_or(0))))
            .collect()
    }

    async fn cancel_job(&self, id: i64, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'canceled', finished_at = $1 WHERE id = $2 AND status = 'enqueued'",
        )
        .bind(now.millis())
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }
}

/// Enqueues a job inside the caller's transaction; `None` when a job with the same dedupe key
/// exists already.
pub async fn enqueue_in(conn: &mut AnyConnection, job: &NewJob) -> Result<Option<i64>> {
    let row = insert_job(conn, job, "RETURNING id").await?;
    if row.is_some() {
        charge_in(conn, job).await?;
    }
    row.map(|r| get(&r, "id")).transpose()
}

/// Charges what starting the job costs to its workspace's usage of this month.
async fn charge_in(conn: &mut AnyConnection, job: &NewJob) -> Result<()> {
    match &job.workspace_id {
        Some(workspace) if job.cost > 0 => {
            crate::commit::add_usage_in(conn, workspace.as_str(), &Timestamp::now().month_key(), job.cost)
                .await
        }
        _ => Ok(()),
    }
}

/// Inserts a job unless one with its dedupe key exists; `returning` is the statement's
/// `RETURNING` clause.
async fn insert_job(
    conn: &mut AnyConnection,
    job: &NewJob,
    returning: &'static str,
) -> Result<Option<AnyRow>> {
    let uid = uuid::Uuid::new_v4().to_string();
    let sql = format!(
        "INSERT INTO jobs (uid, kind, workspace_id, bot_id, created_by, status, params, details, attempts, \
         max_attempts, run_at, enqueued_at, dedupe_key, label) \
         VALUES ($1, $2, $3, $4, $5, 'enqueued', $6, $7, 0, $8, $9, $10, $11, $12) \
         ON CONFLICT (dedupe_key) DO NOTHING {returning}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&uid)
        .bind(job.kind.as_str())
        .bind(job.workspace_id.as_ref().map(|w| w.as_str().to_owned()))
        .bind(job.bot)
        .bind(job.created_by.map(|u| u.0))
        .bind(to_json(&job.params)?)
        .bind(to_json(&job.details)?)
        .bind(i64::from(job.max_attempts))
        .bind(job.run_at.millis())
        .bind(Timestamp::now().millis())
        .bind(&job.dedupe_key)
        .bind(&job.label)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)
}

/// Replaces a job's details inside the caller's transaction, if the attempt still holds it.
pub async fn set_details_in(conn: &mut AnyConnection, lease: &JobLease, details: &Value) -> Result<()> {
    let done =
        sqlx::query("UPDATE jobs SET details = $1 WHERE id = $2 AND attempts = $3 AND status = 'processing'")
            .bind(to_json(details)?)
            .bind(lease.job)
            .bind(i64::from(lease.attempt))
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::conflict(LEASE_LOST));
    }
    Ok(())
}

/// Marks a job's item done inside the caller's transaction, if the attempt still holds the job.
pub async fn mark_in(conn: &mut AnyConnection, lease: &JobLease, mark: i64, ok: bool) -> Result<()> {
    let held = sqlx::query("SELECT id FROM jobs WHERE id = $1 AND attempts = $2 AND status = 'processing'")
        .bind(lease.job)
        .bind(i64::from(lease.attempt))
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    if held.is_none() {
        return Err(Error::conflict(LEASE_LOST));
    }
    sqlx::query("INSERT INTO job_marks (job_id, mark, ok) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(lease.job)
        .bind(mark)
        .bind(i64::from(ok))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Cancels the bot's scheduled runs with this label that have not started.
pub async fn cancel_label_in(conn: &mut AnyConnection, bot: i64, label: &str) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = 'canceled', finished_at = $1 WHERE bot_id = $2 AND label = $3 \
         AND kind = 'scheduled_run' AND status = 'enqueued'",
    )
    .bind(Timestamp::now().millis())
    .bind(bot)
    .bind(label)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// The message of the error [`finish_in`] returns when the attempt lost the job.
pub const LEASE_LOST: &str = "The job was claimed again by another worker";

/// Ends the job inside the caller's transaction, so that what the job wrote and its outcome commit
/// together. Fails (and the caller's transaction must roll back) when the attempt no longer holds
/// the job.
pub async fn finish_in(conn: &mut AnyConnection, lease: &JobLease, end: &JobEnd) -> Result<()> {
    let now = Timestamp::now().millis();
    let (status, details, error, bot) = match end {
        JobEnd::Succeeded { details, bot } => (JobStatus::Succeeded, Some(to_json(details)?), None, *bot),
        JobEnd::Failed { details, error } => {
            (JobStatus::Failed, details.as_ref().map(to_json).transpose()?, Some(to_json(error)?), None)
        }
        JobEnd::Canceled => (JobStatus::Canceled, None, None, None),
    };
    let done = sqlx::query(
        "UPDATE jobs SET status = $1, details = COALESCE($2, details), error = $3, bot_id = COALESCE($4, bot_id), \
         finished_at = $5, lease_until = NULL WHERE id = $6 AND attempts = $7 AND status = 'processing'",
    )
    .bind(status.as_str())
    .bind(details)
    .bind(error)
    .bind(bot)
    .bind(now)
    .bind(lease.job)
    .bind(i64::from(lease.attempt))
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::conflict(LEASE_LOST));
    }
    Ok(())
}

fn job_row(row: &AnyRow) -> Result<Job> {
    let kind: String = get(row, "kind")?;
    let error: Option<String> = get(row, "error")?;
    Ok(Job {
        id: get(row, "id")?,
        uid: get(row, "uid")?,
        kind: JobKind::parse(&kind).ok_or_else(|| Error::internal(format!("unknown job kind {kind}")))?,
        workspace_id: get::<Option<String>>(row, "workspace_id")?.map(WorkspaceId::from_stored),
        bot: get(row, "bot_id")?,
        created_by: get::<Option<i64>>(row, "created_by")?.map(UserId),
        status: JobStatus::parse(&get::<String>(row, "status")?),
        params: json(&get::<String>(row, "params")?, "job params")?,
        details: json(&get::<String>(row, "details")?, "job details")?,
        error: error.map(|e| json(&e, "job error")).transpose()?,
        attempts: get::<i64>(row, "attempts")? as u32,
        max_attempts: get::<i64>(row, "max_attempts")? as u32,
        run_at: Timestamp(get(row, "run_at")?),
        enqueued_at: Timestamp(get(row, "enqueued_at")?),
        started_at: get::<Option<i64>>(row, "started_at")?.map(Timestamp),
        finished_at: get::<Option<i64>>(row, "finished_at")?.map(Timestamp),
        control: get(row, "control")?,
    })
}
