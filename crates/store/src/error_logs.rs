//! Bots' error logs: a failed run's entry (written with its commit, or alone), listed and cleared
//! through the admin APIs. A bot's error may hold any text: NUL is stored as U+FFFD on both
//! backends.

use botyard_domain::effects::{ErrorEntry, ErrorLog, ErrorLogQuery};
use botyard_domain::text::without_nul;
use botyard_domain::{Result, Timestamp};

use crate::Store;
use crate::error::db;
use crate::rows::get;
use sqlx::any::AnyRow;

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait ErrorLogStore {
    /// Error log entries, newest first, as the query says.
    async fn error_logs(&self, bot: i64, query: &ErrorLogQuery) -> Result<Vec<ErrorLog>>;
    async fn clear_error_logs(&self, bot: i64) -> Result<u64>;
    async fn insert_error(&self, bot: i64, entry: &ErrorEntry) -> Result<()>;
    /// The error log grouped by command and title, the group seen last first, one page (from 1):
    /// each group's first entry, how many entries it has and when the last was written.
    async fn error_groups(&self, bot: i64, page: u32, per_page: u32) -> Result<Vec<ErrorGroup>>;
    /// The group whose first entry is `first`, as [`ErrorLogStore::error_groups`] shows it.
    async fn error_group(&self, bot: i64, first: i64) -> Result<Option<ErrorGroup>>;
    /// The entries of the group `first` belongs to, newest first.
    async fn error_group_entries(&self, bot: i64, first: i64, limit: u32) -> Result<Vec<ErrorLog>>;
    /// Deletes the entries of the group `first` belongs to; how many.
    async fn delete_error_group(&self, bot: i64, first: i64) -> Result<u64>;
}

/// A group of error log entries: its first entry, how many it has, when the last was written.
pub type ErrorGroup = (ErrorLog, i64, Timestamp);

/// Entries `e` of the bot `$1` in the group of its entry `$2` (same command and title).
macro_rules! same_group {
    () => {
        "JOIN error_logs f ON f.id = $2 AND f.bot_id = $1 WHERE e.bot_id = $1 AND e.title = f.title \
         AND COALESCE(e.command, '') = COALESCE(f.command, '')"
    };
}

/// An entry `e` with its chat's and user's ids as their channel knows them.
macro_rules! log_columns {
    () => {
        "e.id, e.bot_id, e.command, e.title, e.stack_trace, e.chat_id, e.user_id, e.created_at, \
         c.external_id AS chat_external, u.external_id AS user_external"
    };
}
macro_rules! log_joins {
    () => {
        "LEFT JOIN chats c ON c.id = e.chat_id LEFT JOIN bot_users u ON u.id = e.user_id"
    };
}

fn error_log(r: &AnyRow) -> Result<ErrorLog> {
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
}

fn error_group(r: &AnyRow) -> Result<ErrorGroup> {
    Ok((error_log(r)?, get(r, "n")?, Timestamp(get(r, "last_at")?)))
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
        found.iter().map(error_log).collect()
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

    async fn error_groups(&self, bot: i64, page: u32, per_page: u32) -> Result<Vec<ErrorGroup>> {
        let offset = botyard_domain::page::offset(page, per_page);
        let found = sqlx::query(concat!(
            "SELECT ",
            log_columns!(),
            ", g.n, g.last_at FROM (\
             SELECT MIN(id) AS first_id, COUNT(*) AS n, MAX(created_at) AS last_at FROM error_logs \
             WHERE bot_id = $1 GROUP BY COALESCE(command, ''), title) g \
             JOIN error_logs e ON e.id = g.first_id ",
            log_joins!(),
            " \
             ORDER BY g.last_at DESC, g.first_id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(bot)
        .bind(i64::from(per_page))
        .bind(offset)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        found.iter().map(error_group).collect()
    }

    async fn error_group(&self, bot: i64, first: i64) -> Result<Option<ErrorGroup>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            log_columns!(),
            ", g.n, g.last_at FROM (\
             SELECT MIN(e.id) AS first_id, COUNT(*) AS n, MAX(e.created_at) AS last_at \
             FROM error_logs e ",
            same_group!(),
            ") g \
             JOIN error_logs e ON e.id = g.first_id ",
            log_joins!(),
            " WHERE g.first_id = $2"
        ))
        .bind(bot)
        .bind(first)
        .fetch_optional(&self.read)
        .await
        .map_err(db)?;
        found.as_ref().map(error_group).transpose()
    }

    async fn error_group_entries(&self, bot: i64, first: i64, limit: u32) -> Result<Vec<ErrorLog>> {
        let found = sqlx::query(concat!(
            "SELECT ",
            log_columns!(),
            " FROM error_logs e ",
            log_joins!(),
            " WHERE e.id IN (\
             SELECT e.id FROM error_logs e ",
            same_group!(),
            ") ORDER BY e.id DESC LIMIT $3"
        ))
        .bind(bot)
        .bind(first)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        found.iter().map(error_log).collect()
    }

    async fn delete_error_group(&self, bot: i64, first: i64) -> Result<u64> {
        let done = sqlx::query(concat!(
            "DELETE FROM error_logs WHERE bot_id = $1 AND id IN (SELECT e.id FROM error_logs e ",
            same_group!(),
            ")"
        ))
        .bind(bot)
        .bind(first)
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
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
