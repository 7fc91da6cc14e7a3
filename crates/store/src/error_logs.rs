//! Bots' error logs: a failed run's entry (written with its commit, or alone), listed and cleared
//! through the admin APIs. A bot's error may hold any text: NUL is stored as U+FFFD on both
//! backends.

use botyard_domain::effects::{ErrorEntry, ErrorLog, ErrorLogQuery};
use botyard_domain::text::without_nul;
use botyard_domain::{Result, Timestamp};

use crate::Store;
use crate::error::db;
use crate::rows::get;

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait ErrorLogStore {
    /// Error log entries, newest first, as the query says.
    async fn error_logs(&self, bot: i64, query: &ErrorLogQuery) -> Result<Vec<ErrorLog>>;
    async fn clear_error_logs(&self, bot: i64) -> Result<u64>;
    async fn insert_error(&self, bot: i64, entry: &ErrorEntry) -> Result<()>;
}

impl ErrorLogStore for Store {
    async fn error_logs(&self, bot: i64, query: &ErrorLogQuery) -> Result<Vec<ErrorLog>> {
        let offset = botyard_domain::page::offset(query.page, query.per_page);
        // Empty filters match everything; `LIKE` needs its wildcards escaped in the searched text.
        let contains = query
            .contains
            .as_deref()
            .unwrap_or("")
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let found = sqlx::query(
            "SELECT e.id, e.bot_id, e.command, e.title, e.stack_trace, e.chat_id, e.user_id, e.created_at, \
             c.external_id AS chat_external, u.external_id AS user_external FROM error_logs e \
             LEFT JOIN chats c ON c.id = e.chat_id LEFT JOIN bot_users u ON u.id = e.user_id \
             WHERE e.bot_id = $1 AND e.created_at >= $2 AND e.created_at <= $3 \
             AND e.title LIKE '%' || $4 || '%' ESCAPE '\\' \
             AND ($5 = '' OR c.external_id = $5) AND ($6 = '' OR u.external_id = $6) \
             ORDER BY e.id DESC LIMIT $7 OFFSET $8",
        )
        .bind(bot)
        .bind(query.since.map_or(i64::MIN, Timestamp::millis))
        .bind(query.until.map_or(i64::MAX, Timestamp::millis))
        .bind(contains)
        .bind(query.chat.as_deref().unwrap_or(""))
        .bind(query.user.as_deref().unwrap_or(""))
        .bind(i64::from(query.per_page))
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
                    chat_external: get(r, "chat_external")?,
                    user_external: get(r, "user_external")?,
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
