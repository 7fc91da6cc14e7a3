//! Bots: one row per bot with its definition as a JSON document, and its tags in a side table
//! so listings can filter on them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use botyard_domain::bot::Bot;
use botyard_domain::bot::listing::{BotListQuery, BotSortField};
use botyard_domain::page::{Page, SortDirection};
use botyard_domain::{BotId, BotRef, Error, ErrorCode, Result};
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments};

use crate::error::{db, to_json};
use crate::rows::{self, bot_columns, get};
use crate::{Backend, Store};

/// A bot to insert; its `number` is assigned by the database.
pub type NewBotRecord = Bot;

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait BotStore {
    /// Inserts the bot and its tags; returns it with its assigned number.
    async fn insert_bot(&self, bot: &NewBotRecord) -> Result<Bot>;
    async fn bot(&self, bot: &BotRef) -> Result<Option<Bot>>;
    async fn bot_by_web_channel(&self, web_channel_id: &str) -> Result<Option<Bot>>;
    /// Reads the bot with a write lock, applies `change` and writes it back, in one transaction:
    /// concurrent changes of one bot queue instead of overwriting each other. When `change` fails
    /// nothing is written. `NotFound` when the bot does not exist.
    async fn modify_bot<F>(&self, bot: &BotId, change: F) -> Result<Bot>
    where
        F: FnOnce(&mut Bot) -> Result<()> + Send;
    async fn delete_bot(&self, bot: &Bot) -> Result<bool>;
    async fn list_bots(&self, query: &BotListQuery) -> Result<Page<Bot>>;
}

impl BotStore for Store {
    async fn insert_bot(&self, bot: &NewBotRecord) -> Result<Bot> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let number = insert_bot_in(&mut tx, bot).await?;
        tx.commit().await.map_err(db)?;
        Ok(Bot { number, ..bot.clone() })
    }

    async fn bot(&self, bot: &BotRef) -> Result<Option<Bot>> {
        let row = match bot {
            BotRef::Number(n) => {
                let sql = concat!("SELECT ", bot_columns!(), " FROM bots b WHERE b.id = $1");
                sqlx::query(sql).bind(*n).fetch_optional(&self.read).await
            }
            BotRef::Id(id) => {
                let sql = concat!("SELECT ", bot_columns!(), " FROM bots b WHERE b.uid = $1");
                sqlx::query(sql).bind(id.as_str()).fetch_optional(&self.read).await
            }
        }
        .map_err(db)?;
        row.map(|r| rows::bot(&r)).transpose()
    }

    async fn bot_by_web_channel(&self, web_channel_id: &str) -> Result<Option<Bot>> {
        let sql = concat!("SELECT ", bot_columns!(), " FROM bots b WHERE b.web_channel_id = $1");
        let row = sqlx::query(sql).bind(web_channel_id).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| rows::bot(&r)).transpose()
    }

    async fn modify_bot<F>(&self, id: &BotId, change: F) -> Result<Bot>
    where
        F: FnOnce(&mut Bot) -> Result<()> + Send,
    {
        // SQLite has one writer connection, so reading on it already excludes other writers;
        // PostgreSQL locks the row.
        let select = match self.backend {
            Backend::Sqlite => concat!("SELECT ", bot_columns!(), " FROM bots b WHERE b.uid = $1"),
            Backend::Postgres => {
                concat!("SELECT ", bot_columns!(), " FROM bots b WHERE b.uid = $1 FOR UPDATE")
            }
        };
        let mut tx = self.write.begin().await.map_err(db)?;
        let row = sqlx::query(select).bind(id.as_str()).fetch_optional(&mut *tx).await.map_err(db)?;
        let mut bot = row.map(|r| rows::bot(&r)).transpose()?.ok_or_else(|| Error::not_found("Bot"))?;
        let tags_before = bot.definition.tags.clone();
        change(&mut bot)?;
        let definition = to_json(&bot.definition)?;
        sqlx::query(
            "UPDATE bots SET name = $1, dev = $2, status = $3, run_state = $4, updated_at = $5, \
             deployed_at = $6, signing_secret = $7, telegram_token = $8, csv_url = $9, git_remote = $10, \
             definition = $11, telegram_username = $13, version = version + 1 WHERE id = $12",
        )
        .bind(&bot.name)
        .bind(i64::from(bot.dev))
        .bind(bot.status.as_str())
        .bind(bot.run_state.as_str())
        .bind(bot.updated_at.millis())
        .bind(bot.deployed_at.map(|t| t.millis()))
        .bind(&bot.signing_secret)
        .bind(&bot.telegram_token)
        .bind(&bot.csv_url)
        .bind(&bot.git_remote)
        .bind(definition)
        .bind(bot.number)
        .bind(&bot.telegram_username)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if bot.definition.tags != tags_before {
            sqlx::query("DELETE FROM bot_tags WHERE bot_id = $1")
                .bind(bot.number)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            write_tags(&mut tx, bot.number, &bot).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(bot)
    }

    async fn delete_bot(&self, bot: &Bot) -> Result<bool> {
        let done = sqlx::query("DELETE FROM bots WHERE id = $1")
            .bind(bot.number)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_bots(&self, query: &BotListQuery) -> Result<Page<Bot>> {
        if query.workspaces.is_empty() {
            return Ok(Page { items: Vec::new(), next_token: None });
        }
        let mut sql =
            SqlBuilder::new(concat!("SELECT ", bot_columns!(), " FROM bots b WHERE b.workspace_id IN ("));
        for (i, ws) in query.workspaces.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(ws.as_str().to_owned());
        }
        sql.push(")");
        if let Some(dev) = query.dev {
            sql.push(" AND b.dev = ");
            sql.bind(i64::from(dev));
        }
        for (key, value) in &query.tags {
            sql.push(" AND EXISTS (SELECT 1 FROM bot_tags t WHERE t.bot_id = b.id AND t.key = ");
            sql.bind(key.clone());
            sql.push(" AND t.value = ");
            sql.bind(value.clone());
            sql.push(")");
        }
        let column = match query.sort {
            BotSortField::CreatedAt => "b.created_at",
            BotSortField::UpdatedAt => "b.updated_at",
        };
        let (cmp, order) = match query.direction {
            SortDirection::Asc => (" > ", " ASC"),
            SortDirection::Desc => (" < ", " DESC"),
        };
        if let Some(token) = &query.page_token {
            let (value, number) = decode_token(token)?;
            sql.push(" AND (");
            sql.push(column);
            sql.push(", b.id)");
            sql.push(cmp);
            sql.push("(");
            sql.bind(value);
            sql.push(", ");
            sql.bind(number);
            sql.push(")");
        }
        sql.push(" ORDER BY ");
        sql.push(column);
        sql.push(order);
        sql.push(", b.id");
        sql.push(order);
        sql.push(" LIMIT ");
        let limit = query.limit.max(1);
        sql.bind(i64::from(limit) + 1);
        let found = sql.fetch_all(&self.read).await?;
        let mut items = found.iter().map(rows::bot).collect::<Result<Vec<_>>>()?;
        let next_token = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|last| {
                let value = match query.sort {
                    BotSortField::CreatedAt => last.created_at.millis(),
                    BotSortField::UpdatedAt => last.updated_at.millis(),
                };
                URL_SAFE_NO_PAD.encode(format!("{value}:{}", last.number))
            })
        } else {
            None
        };
        Ok(Page { items, next_token })
    }
}

/// Inserts the bot's tags in one statement.
/// Inserts a bot and its tags inside the caller's transaction; returns its number.
pub(crate) async fn insert_bot_in(conn: &mut sqlx::AnyConnection, bot: &NewBotRecord) -> Result<i64> {
    let definition = to_json(&bot.definition)?;
    let row = sqlx::query(
        "INSERT INTO bots (uid, workspace_id, name, dev, status, run_state, created_at, updated_at, \
         deployed_at, created_by, signing_secret, web_channel_id, telegram_token, csv_url, git_remote, \
         definition, version, telegram_username, origin) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17, $18) RETURNING id",
    )
    .bind(bot.id.as_str())
    .bind(bot.workspace_id.as_str())
    .bind(&bot.name)
    .bind(i64::from(bot.dev))
    .bind(bot.status.as_str())
    .bind(bot.run_state.as_str())
    .bind(bot.created_at.millis())
    .bind(bot.updated_at.millis())
    .bind(bot.deployed_at.map(|t| t.millis()))
    .bind(bot.created_by.map(|u| u.0))
    .bind(&bot.signing_secret)
    .bind(&bot.web_channel_id)
    .bind(&bot.telegram_token)
    .bind(&bot.csv_url)
    .bind(&bot.git_remote)
    .bind(definition)
    .bind(&bot.telegram_username)
    .bind(bot.origin.as_str())
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    let number: i64 = get(&row, "id")?;
    write_tags(conn, number, bot).await?;
    Ok(number)
}

async fn write_tags(conn: &mut sqlx::AnyConnection, number: i64, bot: &Bot) -> Result<()> {
    if bot.definition.tags.is_empty() {
        return Ok(());
    }
    let mut sql = SqlBuilder::new("INSERT INTO bot_tags (bot_id, key, value) VALUES ");
    for (i, (key, value)) in bot.definition.tags.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.bind(number);
        sql.push(", ");
        sql.bind(key.clone());
        sql.push(", ");
        sql.bind(value.clone());
        sql.push(")");
    }
    sql.execute(conn).await
}

fn decode_token(token: &str) -> Result<(i64, i64)> {
    let invalid = || Error::new(ErrorCode::InvalidQuery, "nextToken is invalid");
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    let (value, number) = text.split_once(':').ok_or_else(invalid)?;
    Ok((value.parse().map_err(|_| invalid())?, number.parse().map_err(|_| invalid())?))
}

/// A value as SQLite's local reads bind it (our own integers, strings and options of them always
/// convert).
fn local_value(value: &impl rusqlite::ToSql) -> rusqlite::types::Value {
    use rusqlite::types::{ToSqlOutput, Value, ValueRef};
    match value.to_sql() {
        Ok(ToSqlOutput::Owned(value)) => value,
        Ok(ToSqlOutput::Borrowed(value)) => match value {
            ValueRef::Integer(n) => Value::Integer(n),
            ValueRef::Real(x) => Value::Real(x),
            ValueRef::Text(text) => Value::Text(String::from_utf8_lossy(text).into_owned()),
            ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
            ValueRef::Null => Value::Null,
        },
        _ => Value::Null,
    }
}

/// A query whose structure is assembled from fixed fragments and whose values are all bound as
/// `$n` parameters.
pub(crate) struct SqlBuilder {
    sql: String,
    args: AnyArguments,
    count: usize,
    /// `?` placeholders instead of `$n`: SQLite looks numbered parameters up by name, which
    /// costs time in proportion to their number, so statements with thousands of them crawl.
    positional: bool,
    /// The bound values again, as SQLite's local reads bind them ([`SqlBuilder::read`]).
    local_args: Option<Vec<rusqlite::types::Value>>,
}

impl SqlBuilder {
    pub(crate) fn new(start: &'static str) -> Self {
        Self {
            sql: start.to_owned(),
            args: AnyArguments::default(),
            count: 0,
            positional: false,
            local_args: None,
        }
    }

    /// A small read, for [`crate::Store::read_rows`] (which may run it on SQLite's local reads).
    pub(crate) fn read(start: &'static str) -> Self {
        Self { local_args: Some(Vec::new()), ..Self::new(start) }
    }

    /// A statement for this connection's backend, with `?` placeholders on SQLite.
    pub(crate) fn new_for(conn: &sqlx::AnyConnection, start: &'static str) -> Self {
        Self { positional: conn.backend_name() == "SQLite", ..Self::new(start) }
    }

    pub(crate) fn push(&mut self, fragment: &'static str) {
        self.sql.push_str(fragment);
    }

    pub(crate) fn bind<T>(&mut self, value: T)
    where
        T: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + rusqlite::ToSql + Send + 'static,
    {
        if let Some(local) = &mut self.local_args {
            local.push(local_value(&value));
        }
        self.count += 1;
        if self.positional {
            self.sql.push('?');
        } else {
            self.sql.push('$');
            self.sql.push_str(&self.count.to_string());
        }
        // Encoding our own integers and strings cannot fail.
        let _ = self.args.add(value);
    }

    /// ` IN (…)` with one parameter per value (there must be at least one).
    pub(crate) fn push_in_list<T>(&mut self, values: impl IntoIterator<Item = T>)
    where
        T: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + rusqlite::ToSql + Send + 'static,
    {
        self.sql.push_str(" IN (");
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.bind(value);
        }
        self.sql.push(')');
    }

    /// Starts the next row of a multi-row `VALUES` list: `(` or `, (`; end it with `push(")")`.
    pub(crate) fn open_row(&mut self, first: bool) -> RowBinder<'_> {
        self.sql.push_str(if first { "(" } else { ", (" });
        RowBinder { sql: self, first: true }
    }

    /// The statement's text and its bound values.
    pub(crate) fn parts(&self) -> (&str, &[rusqlite::types::Value]) {
        (&self.sql, self.local_args.as_deref().unwrap_or_default())
    }

    pub(crate) async fn fetch_all(self, pool: &sqlx::AnyPool) -> Result<Vec<sqlx::any::AnyRow>> {
        sqlx::query_with(sqlx::AssertSqlSafe(self.sql), self.args).fetch_all(pool).await.map_err(db)
    }

    pub(crate) async fn fetch_all_conn(
        self,
        conn: &mut sqlx::AnyConnection,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        sqlx::query_with(sqlx::AssertSqlSafe(self.sql), self.args).fetch_all(conn).await.map_err(db)
    }

    pub(crate) async fn execute(self, conn: &mut sqlx::AnyConnection) -> Result<()> {
        sqlx::query_with(sqlx::AssertSqlSafe(self.sql), self.args).execute(conn).await.map_err(db)?;
        Ok(())
    }
}

/// Binds the values of one row of a multi-row insert, separated by commas; closes the row when
/// dropped.
pub(crate) struct RowBinder<'a> {
    sql: &'a mut SqlBuilder,
    first: bool,
}

impl RowBinder<'_> {
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + rusqlite::ToSql + Send + 'static,
    {
        if !self.first {
            self.sql.sql.push_str(", ");
        }
        self.first = false;
        self.sql.bind(value);
        self
    }
}

impl Drop for RowBinder<'_> {
    fn drop(&mut self) {
        self.sql.sql.push(')');
    }
}

/// Inserts `items` with as many rows per statement as the backends' parameter limits allow.
pub(crate) async fn insert_rows<T>(
    conn: &mut sqlx::AnyConnection,
    head: &'static str,
    columns: usize,
    items: &[T],
    bind: impl Fn(&mut RowBinder<'_>, &T),
) -> Result<()> {
    // SQLite accepts 32,766 parameters per statement, PostgreSQL 65,535.
    let per_statement = (30_000 / columns.max(1)).max(1);
    for chunk in items.chunks(per_statement) {
        let mut sql = SqlBuilder::new_for(conn, head);
        for (i, item) in chunk.iter().enumerate() {
            let mut row = sql.open_row(i == 0);
            bind(&mut row, item);
        }
        sqlx::query_with(sqlx::AssertSqlSafe(sql.sql), sql.args)
            .execute(&mut *conn)
            .await
            .map_err(|e| crate::error::unique_or_db(e, "Two items have the same name"))?;
    }
    Ok(())
}
