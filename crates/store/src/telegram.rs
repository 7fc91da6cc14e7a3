//! The Telegram channel's state: which node receives a bot's updates (a lease), the next
//! `getUpdates` offset, update ids seen (no update is processed twice), Telegram's ids of messages,
//! and the outbox — sends and API calls written with a run's effects and delivered afterwards, one
//! at a time per chat, in order.

use botyard_domain::conversation::{Chat, ChatMessage};
use botyard_domain::effects::OutboxItem;
use botyard_domain::{Result, Timestamp};
use serde_json::Value;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::error::{db, json, to_json};
use crate::rows::get;
use crate::{Backend, Store};

/// A send or call waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub bot: i64,
    pub chat: i64,
    /// The message to send or edit (`send`, `edit`).
    pub message: Option<i64>,
    /// `send`, `edit`, or a Bot API method.
    pub method: String,
    pub params: Value,
    pub callback: Option<Value>,
    pub attempts: u32,
    /// When the row was enqueued.
    pub created_at: Timestamp,
}

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait TelegramStore {
    /// Records an update id; `false` when it was seen before.
    async fn record_update(&self, bot: i64, update_id: i64, now: Timestamp) -> Result<bool>;
    /// Forgets update ids older than `before`.
    async fn forget_updates(&self, before: Timestamp) -> Result<u64>;
    /// Takes (or keeps) the receiving of running Telegram bots for `node` until `until`; returns
    /// the bots this node receives for.
    async fn claim_receivers(&self, node: &str, now: Timestamp, until: Timestamp) -> Result<Vec<i64>>;
    async fn release_receiver(&self, bot: i64, node: &str) -> Result<()>;
    /// The next `getUpdates` offset and the webhook secret of a bot.
    async fn receiver(&self, bot: i64) -> Result<(i64, Option<String>)>;
    async fn set_offset(&self, bot: i64, offset: i64) -> Result<()>;
    async fn set_webhook_secret(&self, bot: i64, secret: &str) -> Result<()>;
    /// Claims up to `limit` due outbox rows, at most the oldest one of each chat.
    async fn claim_outbox(
        &self,
        node: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>>;
    async fn delete_outbox(&self, id: i64) -> Result<()>;
    /// Rows Telegram confirmed, in one transaction: each deleted, and Telegram's id of the message
    /// it sent (`(message, external id)`) kept.
    async fn outbox_sent(&self, sent: &[(i64, Option<(i64, String)>)]) -> Result<()>;
    /// The chats and messages of a batch of outbox rows, read at once.
    async fn outbox_context(&self, rows: &[OutboxRow]) -> Result<(Vec<Chat>, Vec<ChatMessage>)>;
    async fn retry_outbox(&self, id: i64, next_at: Timestamp, attempts: u32) -> Result<()>;
    /// Drops what waits for a chat (the user blocked the bot).
    async fn drop_chat_outbox(&self, chat: i64) -> Result<u64>;
    async fn set_message_external_id(&self, message: i64, external: &str) -> Result<()>;
    async fn message_by_external_id(&self, chat: i64, external: &str) -> Result<Option<ChatMessage>>;
    /// Telegram's id of a message botyard sent, once Telegram confirmed it.
    async fn message_external_id(&self, message: i64) -> Result<Option<String>>;
    async fn set_chat_bot_blocked(&self, chat: i64, blocked: bool, now: Timestamp) -> Result<()>;
    /// A group became a supergroup: its chat moves to the new id.
    async fn move_chat(&self, chat: i64, external: &str, chat_type: &str, now: Timestamp) -> Result<()>;
}

impl TelegramStore for Store {
    async fn record_update(&self, bot: i64, update_id: i64, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO telegram_updates (bot_id, update_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(bot)
        .bind(update_id)
        .bind(now.millis())
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn forget_updates(&self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM telegram_updates WHERE received_at < $1")
            .bind(before.millis())
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn claim_receivers(&self, node: &str, now: Timestamp, until: Timestamp) -> Result<Vec<i64>> {
        sqlx::query(
            "INSERT INTO telegram_receivers (bot_id, next_offset) SELECT id, 0 FROM bots \
             WHERE telegram_token IS NOT NULL AND run_state = 'works' ON CONFLICT DO NOTHING",
        )
        .execute(&self.write)
        .await
        .map_err(db)?;
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE OF r SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE telegram_receivers SET node = $1, lease_until = $2 WHERE bot_id IN (\
             SELECT r.bot_id FROM telegram_receivers r JOIN bots b ON b.id = r.bot_id \
             WHERE b.telegram_token IS NOT NULL AND b.run_state = 'works' \
             AND (r.node = $1 OR r.lease_until IS NULL OR r.lease_until < $3){lock}) RETURNING bot_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(node)
            .bind(until.millis())
            .bind(now.millis())
            .fetch_all(&self.write)
            .await
            .map_err(db)?;
        rows.iter().map(|r| get(r, "bot_id")).collect()
    }

    async fn release_receiver(&self, bot: i64, node: &str) -> Result<()> {
        sqlx::query(
            "UPDATE telegram_receivers SET node = NULL, lease_until = NULL WHERE bot_id = $1 AND node = $2",
        )
        .bind(bot)
        .bind(node)
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn receiver(&self, bot: i64) -> Result<(i64, Option<String>)> {
        let row = sqlx::query("SELECT next_offset, webhook_secret FROM telegram_receivers WHERE bot_id = $1")
            .bind(bot)
            .fetch_optional(&self.write)
            .await
            .map_err(db)?;
        match row {
            Some(r) => Ok((get(&r, "next_offset")?, get(&r, "webhook_secret")?)),
            None => Ok((0, None)),
        }
    }

    async fn set_offset(&self, bot: i64, offset: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO telegram_receivers (bot_id, next_offset) VALUES ($1, $2) \
             ON CONFLICT (bot_id) DO UPDATE SET next_offset = $2",
        )
        .bind(bot)
        .bind(offset)
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn set_webhook_secret(&self, bot: i64, secret: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO telegram_receivers (bot_id, next_offset, webhook_secret) VALUES ($1, 0, $2) \
             ON CONFLICT (bot_id) DO UPDATE SET webhook_secret = $2",
        )
        .bind(bot)
        .bind(secret)
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn claim_outbox(
        &self,
        node: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // Only the oldest row of a chat is due: a chat's sends go out in order, one at a time.
        let sql = format!(
            "UPDATE outbox SET node = $1, lease_until = $2 WHERE id IN (\
             SELECT o.id FROM outbox o WHERE o.next_at <= $3 AND (o.lease_until IS NULL OR o.lease_until < $3) \
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.chat_id = o.chat_id AND p.id < o.id) \
             ORDER BY o.id LIMIT $4{lock}) \
             RETURNING id, bot_id, chat_id, message_id, method, params, callback, attempts, created_at"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(node)
            .bind(until.millis())
            .bind(now.millis())
            .bind(i64::from(limit))
            .fetch_all(&self.write)
            .await
            .map_err(db)?;
        let mut found = rows.iter().map(outbox_row).collect::<Result<Vec<_>>>()?;
        found.sort_by_key(|r| r.id);
        Ok(found)
    }

    async fn delete_outbox(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM outbox WHERE id = $1").bind(id).execute(&self.write).await.map_err(db)?;
        Ok(())
    }

    async fn outbox_sent(&self, sent: &[(i64, Option<(i64, String)>)]) -> Result<()> {
        if sent.is_empty() {
            return Ok(());
        }
        let mut tx = self.write.begin().await.map_err(db)?;
        let external: Vec<&(i64, String)> = sent.iter().filter_map(|(_, m)| m.as_ref()).collect();
        if !external.is_empty() {
            let mut sql = crate::bots::SqlBuilder::new("UPDATE messages SET external_id = CASE id");
            for (message, id) in &external {
                sql.push(" WHEN ");
                sql.bind(*message);
                sql.push(" THEN ");
                sql.bind(id.clone());
            }
            sql.push(" END WHERE id IN (");
            for (i, (message, _)) in external.iter().enumerate() {
                sql.push(if i == 0 { "" } else { ", " });
                sql.bind(*message);
            }
            sql.push(")");
            sql.execute(&mut tx).await?;
        }
        let mut sql = crate::bots::SqlBuilder::new("DELETE FROM outbox WHERE id IN (");
        for (i, (row, _)) in sent.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " });
            sql.bind(*row);
        }
        sql.push(")");
        sql.execute(&mut tx).await?;
        tx.commit().await.map_err(db)
    }

    async fn outbox_context(&self, rows: &[OutboxRow]) -> Result<(Vec<Chat>, Vec<ChatMessage>)> {
        let mut chats: Vec<i64> = rows.iter().map(|r| r.chat).collect();
        chats.sort_unstable();
        chats.dedup();
        let mut messages: Vec<i64> = rows.iter().filter_map(|r| r.message).collect();
        messages.sort_unstable();
        messages.dedup();
        let mut found_chats = Vec::new();
        if !chats.is_empty() {
            let mut sql = crate::bots::SqlBuilder::read(
                "SELECT id, bot_id, channel, external_id, chat_type, title, owner_user_id, blocked, bot_blocked, \
                 created_at, updated_at FROM chats WHERE id IN (",
            );
            for (i, id) in chats.iter().enumerate() {
                sql.push(if i == 0 { "" } else { ", " });
                sql.bind(*id);
            }
            sql.push(")");
            for row in self.read_rows(sql).await? {
                found_chats.push(crate::conversations::chat(&row)?);
            }
        }
        let mut found_messages = Vec::new();
        if !messages.is_empty() {
            let mut sql = crate::bots::SqlBuilder::read(
                "SELECT id, uid, bot_id, chat_id, user_id, payload, metadata, created_at, updated_at \
                 FROM messages WHERE id IN (",
            );
            for (i, id) in messages.iter().enumerate() {
                sql.push(if i == 0 { "" } else { ", " });
                sql.bind(*id);
            }
            sql.push(")");
            for row in self.read_rows(sql).await? {
                found_messages.push(crate::conversations::message(&row)?);
            }
        }
        Ok((found_chats, found_messages))
    }

    async fn retry_outbox(&self, id: i64, next_at: Timestamp, attempts: u32) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET next_at = $1, attempts = $2, node = NULL, lease_until = NULL WHERE id = $3",
        )
        .bind(next_at.millis())
        .bind(i64::from(attempts))
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn drop_chat_outbox(&self, chat: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM outbox WHERE chat_id = $1")
            .bind(chat)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn set_message_external_id(&self, message: i64, external: &str) -> Result<()> {
        sqlx::query("UPDATE messages SET external_id = $1 WHERE id = $2")
            .bind(external)
            .bind(message)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn message_by_external_id(&self, chat: i64, external: &str) -> Result<Option<ChatMessage>> {
        let row = sqlx::query(
            "SELECT id FROM messages WHERE chat_id = $1 AND external_id = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(chat)
        .bind(external)
        .fetch_optional(&self.write)
        .await
        .map_err(db)?;
        match row {
            Some(r) => {
                use crate::ConversationStore;
                self.message_by_id(get(&r, "id")?).await
            }
            None => Ok(None),
        }
    }

    async fn message_external_id(&self, message: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT external_id FROM messages WHERE id = $1")
            .bind(message)
            .fetch_optional(&self.write)
            .await
            .map_err(db)?;
        Ok(row.map(|r| get::<Option<String>>(&r, "external_id")).transpose()?.flatten())
    }

    async fn set_chat_bot_blocked(&self, chat: i64, blocked: bool, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE chats SET bot_blocked = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(blocked))
            .bind(now.millis())
            .bind(chat)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn move_chat(&self, chat: i64, external: &str, chat_type: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE chats SET external_id = $1, chat_type = $2, updated_at = $3 WHERE id = $4")
            .bind(external)
            .bind(chat_type)
            .bind(now.millis())
            .bind(chat)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }
}

fn outbox_row(r: &AnyRow) -> Result<OutboxRow> {
    let callback: Option<String> = get(r, "callback")?;
    Ok(OutboxRow {
        id: get(r, "id")?,
        bot: get(r, "bot_id")?,
        chat: get(r, "chat_id")?,
        message: get(r, "message_id")?,
        method: get(r, "method")?,
        params: json(&get::<String>(r, "params")?, "outbox params")?,
        callback: callback.map(|c| json(&c, "outbox callback")).transpose()?,
        attempts: get::<i64>(r, "attempts")? as u32,
        created_at: Timestamp(get(r, "created_at")?),
    })
}

/// Adds a row to the outbox inside the caller's transaction.
pub(crate) async fn outbox_in(
    conn: &mut AnyConnection,
    bot: i64,
    chat: i64,
    message: Option<i64>,
    item: &OutboxItem,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (bot_id, chat_id, message_id, method, params, callback, attempts, next_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)",
    )
    .bind(bot)
    .bind(chat)
    .bind(message)
    .bind(&item.method)
    .bind(to_json(&item.params)?)
    .bind(item.callback.as_ref().map(to_json).transpose()?)
    .bind(now.millis())
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// The ids of the chats among `chats` that are Telegram chats, read in a transaction.
pub(crate) async fn telegram_chats(conn: &mut AnyConnection, chats: &[i64]) -> Result<Vec<i64>> {
    if chats.is_empty() {
        return Ok(Vec::new());
    }
    let rows = telegram_chats_query(chats).fetch_all_conn(conn).await?;
    rows.iter().map(|r| get(r, "id")).collect()
}

impl Store {
    /// The ids of the chats among `chats` that are Telegram chats (a chat's channel never
    /// changes, so this may be read before the transaction that uses it).
    pub(crate) async fn telegram_chats(&self, chats: &[i64]) -> Result<Vec<i64>> {
        if chats.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.read_rows(telegram_chats_query(chats)).await?;
        rows.iter().map(|r| get(r, "id")).collect()
    }
}

fn telegram_chats_query(chats: &[i64]) -> crate::bots::SqlBuilder {
    let mut sql = crate::bots::SqlBuilder::read("SELECT id FROM chats WHERE channel = 'telegram' AND id");
    sql.push_in_list(chats.iter().copied());
    sql
}
