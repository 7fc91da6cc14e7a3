//! What the scheduler reads: running bots' auto-retry commands and recurring events; and the
//! housekeeping of finished jobs.

use botyard_domain::bot::Bot;
use botyard_domain::job::NewJob;
use botyard_domain::{Result, Timestamp, WorkspaceId};

use crate::Store;
use crate::error::db;
use crate::rows::{self, bot_columns, get};

/// A command that runs itself every `period_secs`.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoRetry {
    pub bot: i64,
    pub workspace: WorkspaceId,
    pub command_id: i64,
    pub command: String,
    pub period_secs: i64,
}

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait TimerStore {
    /// Commands with `auto_retry_time` of running bots.
    async fn auto_retries(&self) -> Result<Vec<AutoRetry>>;
    /// Running bots that have recurring events.
    async fn bots_with_recurring_events(&self) -> Result<Vec<Bot>>;
    /// Enqueues a job unless one with its dedupe key exists; `true` when it was added.
    async fn enqueue_unique(&self, job: &NewJob) -> Result<bool>;
    /// Deletes jobs that finished before `before`; returns how many.
    async fn delete_finished_jobs(&self, before: Timestamp) -> Result<u64>;
}

impl TimerStore for Store {
    async fn auto_retries(&self) -> Result<Vec<AutoRetry>> {
        let rows = sqlx::query(
            "SELECT c.bot_id, b.workspace_id, c.id, c.command, c.auto_retry_time FROM commands c \
             JOIN bots b ON b.id = c.bot_id WHERE c.auto_retry_time IS NOT NULL AND b.run_state = 'works' ORDER BY c.id",
        )
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(AutoRetry {
                    bot: get(r, "bot_id")?,
                    workspace: WorkspaceId::from_stored(get(r, "workspace_id")?),
                    command_id: get(r, "id")?,
                    command: get(r, "command")?,
                    period_secs: get(r, "auto_retry_time")?,
                })
            })
            .collect()
    }

    async fn bots_with_recurring_events(&self) -> Result<Vec<Bot>> {
        // The definition is JSON text: an empty map is written `"recurringEvents":{}`.
        let sql = concat!(
            "SELECT ",
            bot_columns!(),
            " FROM bots b WHERE b.run_state = 'works' AND b.definition NOT LIKE '%\"recurringEvents\":{}%' ORDER BY b.id"
        );
        let rows = sqlx::query(sql).fetch_all(&self.read).await.map_err(db)?;
        rows.iter().map(rows::bot).collect()
    }

    async fn enqueue_unique(&self, job: &NewJob) -> Result<bool> {
        let mut conn = self.write.acquire().await.map_err(db)?;
        Ok(crate::jobs::enqueue_in(&mut conn, job).await?.is_some())
    }

    async fn delete_finished_jobs(&self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'canceled') AND finished_at < $1",
        )
        .bind(before.millis())
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }
}
