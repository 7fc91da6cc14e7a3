//! Bots' error logs: a failed run's entry (written with its commit, or alone), listed and cleared
//! through the admin APIs. A bot's error may hold any text: NUL is stored as U+FFFD on both
//! backends.

use botyard_domain::effects::{ErrorEntry, ErrorLog};
use botyard_domain::text::without_nul;
use botyard_domain::{Result, Timestamp};

use crate::Store;
use crate::error::db;
use crate::rows::get;

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait ErrorLogStore {
    /// Error log entries, newest first, one page (from 1), optionally since a time.
    async fn error_logs(
        &self,
        bot: i64,
        since: Option<Timestamp>,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<ErrorLog>>;
    async fn clear_error_logs(&self, bot: i64) -> Result<u64>;
    async fn insert_error(&self, bot: i64, entry: &ErrorEntry) -> Result<()>;
}

impl ErrorLogStore for Store {
    async fn error_logs(
        &self,
        bot: i64,
        since: Option<Timestamp>,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<ErrorLog>> {
        let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
        let found = sqlx::query(
            "SELECT id, bot_id, command, title, stack_trace, chat_id, user_id, created_at FROM error_logs \
             WHERE bot_id = $1 AND created_at >= $2 ORDER BY id DESC LIMIT $3 OFFSET $4",
        )
        .bind(bot)
        .bind(since.map_or(i64::MIN, Timestamp::millis))
        .bind(i64::from(per_page))
        .bind(offset)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|r| {
                Ok(ErrorLog {
                    id: get(r, "id")?,
                    bot_number: get(r, "bot_id")?,
                    entry: ErrorEntry {
                        command: get(r, "command")?,
                        title: get(r, "title")?,
                        stack_trace: get(r, "stack_trace")?,
                        chat_id: get(r, "chat_id")?,
                        user_id: get(r, "user_id")?,
                        at: Timestamp(get(r, "created_at")?),
                    },
                })
            })
            .collect()
    }

    async fn clear_error_logs(&self, bot: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM error_logs WHERE bot_id = $1")
            .bind(bot)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn insert_error(&self, bot: i64, entry: &ErrorEntry) -> Result<()> {
        let mut conn = self.write.acquire().await.map_err(db)?;
        insert_error(&mut conn, bot, entry).await
    }
}

pub(crate) async fn insert_error(conn: &mut sqlx::AnyConnection, bot: i64, entry: &ErrorEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO error_logs (bot_id, command, title, stack_trace, chat_id, user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(bot)
    // A bot's error may hold any text; NUL is stored as U+FFFD on both backends.
    .bind(entry.command.as_deref().map(|c| without_nul(c).into_owned()))
    .bind(without_nul(&entry.title).into_owned())
    .bind(without_nul(&entry.stack_trace).into_owned())
    .bind(entry.chat_id)
    .bind(entry.user_id)
    .bind(entry.at.millis())
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}
