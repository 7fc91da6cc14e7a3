//! What a broadcast reads: the chats it reaches (in id order, those it has not run in yet), and
//! its counts; and what its owner does to it.

use botyard_domain::job::{Job, JobKind, JobLease};
use botyard_domain::{Result, Timestamp};

use crate::error::db;
use crate::rows::get;
use crate::{JobStore, Store};

/// Which chats a broadcast reaches (`for_chats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatFilter {
    Private,
    Group,
    Supergroup,
    All,
}

impl ChatFilter {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "private-chats" | "private" => Self::Private,
            "group-chats" | "group" => Self::Group,
            "super-group-chats" | "supergroup" => Self::Supergroup,
            "all" | "" => Self::All,
            _ => return None,
        })
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Private => " AND c.chat_type = 'private'",
            Self::Group => " AND c.chat_type = 'group'",
            Self::Supergroup => " AND c.chat_type = 'supergroup'",
            Self::All => "",
        }
    }
}

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait BroadcastStore {
    /// Chats a broadcast reaches: not blocked, not blocking the bot.
    async fn count_broadcast_chats(&self, bot: i64, filter: ChatFilter) -> Result<i64>;
    /// The next `limit` chats after `after` the job has not run in, with their user (private chats).
    async fn broadcast_chats(
        &self,
        bot: i64,
        job: i64,
        filter: ChatFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Option<i64>)>>;
    /// `(done, failed)` items of a job.
    async fn job_marks(&self, job: i64) -> Result<(i64, i64)>;
    /// Marks an item done outside a run (the run did not happen).
    async fn mark_job(&self, lease: &JobLease, mark: i64, ok: bool) -> Result<()>;
    async fn job_control(&self, job: i64) -> Result<Option<String>>;
    /// Sets `pause` / `cancel` (or clears it) on a job that has not finished; `false` when it has.
    async fn set_job_control(&self, job: i64, control: Option<&str>) -> Result<bool>;
    /// The bot's jobs of a kind, newest first.
    async fn bot_jobs(&self, bot: i64, kind: JobKind, limit: u32) -> Result<Vec<Job>>;
}

impl BroadcastStore for Store {
    async fn count_broadcast_chats(&self, bot: i64, filter: ChatFilter) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM chats c WHERE c.bot_id = $1 AND c.blocked = 0 AND c.bot_blocked = 0 \
             AND c.channel <> 'system'{}",
            filter.sql()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(bot).fetch_one(&self.read).await.map_err(db)?;
        get(&row, "n")
    }

    async fn broadcast_chats(
        &self,
        bot: i64,
        job: i64,
        filter: ChatFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Option<i64>)>> {
        let sql = format!(
            "SELECT c.id, COALESCE(u.id, c.owner_user_id) AS user_id FROM chats c \
             LEFT JOIN bot_users u ON c.chat_type = 'private' AND u.bot_id = c.bot_id AND u.channel = c.channel \
             AND u.external_id = c.external_id \
             WHERE c.bot_id = $1 AND c.id > $2 AND c.blocked = 0 AND c.bot_blocked = 0 AND c.channel <> 'system'{} \
             AND NOT EXISTS (SELECT 1 FROM job_marks m WHERE m.job_id = $3 AND m.mark = c.id) ORDER BY c.id LIMIT $4",
            filter.sql()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(bot)
            .bind(after)
            .bind(job)
            .bind(i64::from(limit))
            .fetch_all(&self.write)
            .await
            .map_err(db)?;
        rows.iter().map(|r| Ok((get(r, "id")?, get(r, "user_id")?))).collect()
    }

    async fn job_marks(&self, job: i64) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(1 - ok), 0) AS BIGINT) AS failed FROM job_marks WHERE job_id = $1",
        )
        .bind(job)
        .fetch_one(&self.write)
        .await
        .map_err(db)?;
        Ok((get(&row, "n")?, get(&row, "failed")?))
    }

    async fn mark_job(&self, lease: &JobLease, mark: i64, ok: bool) -> Result<()> {
        let mut conn = self.write.acquire().await.map_err(db)?;
        crate::jobs::mark_in(&mut conn, lease, mark, ok).await
    }

    async fn job_control(&self, job: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT control FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_optional(&self.write)
            .await
            .map_err(db)?;
        Ok(row.map(|r| get::<Option<String>>(&r, "control")).transpose()?.flatten())
    }

    async fn set_job_control(&self, job: i64, control: Option<&str>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET control = $1 WHERE id = $2 AND status IN ('enqueued', 'processing')",
        )
        .bind(control)
        .bind(job)
        .execute(&self.write)
        .await
        .map_err(db)?;
        if done.rows_affected() > 0 && control == Some("cancel") {
            // One that has not started is canceled at once.
            self.cancel_job(job, Timestamp::now()).await?;
        }
        Ok(done.rows_affected() > 0)
    }

    async fn bot_jobs(&self, bot: i64, kind: JobKind, limit: u32) -> Result<Vec<Job>> {
        let rows =
            sqlx::query("SELECT id FROM jobs WHERE bot_id = $1 AND kind = $2 ORDER BY id DESC LIMIT $3")
                .bind(bot)
                .bind(kind.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.read)
                .await
                .map_err(db)?;
        let mut jobs = Vec::new();
        for r in &rows {
            if let Some(job) = self.job(get(r, "id")?).await? {
                jobs.push(job);
            }
        }
        Ok(jobs)
    }
}
