//! The inbox: what arrived for bots and has not finished its run, and the nodes that own it.
//! An arrival is written in the transaction that stores the user's message (and records the
//! Telegram update it came in), and deleted in the transaction that commits its run
//! ([`crate::runs`]), fenced by its owner: a node that lost its arrivals to another cannot commit
//! them. Nodes hold a lease; the arrivals of a node whose lease lapsed are taken over, in order.

use botyard_domain::arrival::{Arrival, InboxEntry, NewArrival};
use botyard_domain::conversation::ChatMessage;
use botyard_domain::{Result, Timestamp};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::Store;
use crate::conversations::{NewMessage, insert_message};
use crate::error::{db, json, to_json};
use crate::rows::get;

const COLUMNS: &str = "id, bot_id, chat_id, user_id, arrival, node, created_at";

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait InboxStore {
    /// Stores an arrival for `node` in one transaction with the user's message it carries (the
    /// arrival then names the stored message) and the Telegram update it came in. `None` when
    /// that update was recorded before: it was accepted already.
    async fn accept(
        &self,
        node: &str,
        arrival: &NewArrival,
        message: Option<&NewMessage>,
        telegram_update: Option<i64>,
        now: Timestamp,
    ) -> Result<Option<(InboxEntry, Option<ChatMessage>)>>;
    /// Says that `node` is alive until `until`.
    async fn keep_node(&self, node: &str, now: Timestamp, until: Timestamp) -> Result<()>;
    /// Says that `node` stopped (its arrivals are taken over at once).
    async fn remove_node(&self, node: &str) -> Result<()>;
    /// Removes an arrival that cannot run (its chat or message is gone).
    async fn forget_arrival(&self, id: i64) -> Result<()>;
    /// Gives `node` the arrivals of nodes whose lease lapsed (with `all`, of every other node:
    /// there is no other node), oldest first.
    async fn adopt_arrivals(&self, node: &str, now: Timestamp, all: bool) -> Result<Vec<InboxEntry>>;
}

impl InboxStore for Store {
    async fn accept(
        &self,
        node: &str,
        arrival: &NewArrival,
        message: Option<&NewMessage>,
        telegram_update: Option<i64>,
        now: Timestamp,
    ) -> Result<Option<(InboxEntry, Option<ChatMessage>)>> {
        let mut tx = self.write.begin().await.map_err(db)?;
        if let Some(update) = telegram_update {
            let recorded = sqlx::query(
                "INSERT INTO telegram_updates (bot_id, update_id, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (bot_id, update_id) DO NOTHING",
            )
            .bind(arrival.bot)
            .bind(update)
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            if recorded.rows_affected() == 0 {
                return Ok(None);
            }
        }
        let stored = match message {
            Some(m) => Some(insert_message(&mut *tx, m).await?),
            None => None,
        };
        let mut arrival = arrival.clone();
        if let Some(m) = &stored {
            arrival.arrival = Arrival::Message { message: m.id };
        }
        let entry = insert_in(&mut tx, node, &arrival, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(Some((entry, stored)))
    }

    async fn keep_node(&self, node: &str, now: Timestamp, until: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO nodes (id, started_at, lease_until) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until",
        )
        .bind(node)
        .bind(now.millis())
        .bind(until.millis())
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn remove_node(&self, node: &str) -> Result<()> {
        sqlx::query("DELETE FROM nodes WHERE id = $1").bind(node).execute(&self.write).await.map_err(db)?;
        Ok(())
    }

    async fn forget_arrival(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM inbox WHERE id = $1").bind(id).execute(&self.write).await.map_err(db)?;
        Ok(())
    }

    async fn adopt_arrivals(&self, node: &str, now: Timestamp, all: bool) -> Result<Vec<InboxEntry>> {
        let rows = if all {
            let sql = format!("UPDATE inbox SET node = $1 WHERE node <> $1 RETURNING {COLUMNS}");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(node).fetch_all(&self.write).await
        } else {
            let sql = format!(
                "UPDATE inbox SET node = $1 WHERE node <> $1 AND node NOT IN \
                 (SELECT id FROM nodes WHERE lease_until > $2) RETURNING {COLUMNS}"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(node).bind(now.millis()).fetch_all(&self.write).await
        }
        .map_err(db)?;
        let mut entries = rows.iter().map(entry).collect::<Result<Vec<_>>>()?;
        entries.sort_by_key(|e| e.id);
        Ok(entries)
    }
}

/// Stores an arrival inside the caller's transaction.
pub(crate) async fn insert_in(
    conn: &mut AnyConnection,
    node: &str,
    arrival: &NewArrival,
    now: Timestamp,
) -> Result<InboxEntry> {
    let sql = format!(
        "INSERT INTO inbox (bot_id, chat_id, user_id, arrival, node, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(arrival.bot)
        .bind(arrival.chat)
        .bind(arrival.user)
        .bind(to_json(&arrival.arrival)?)
        .bind(node)
        .bind(now.millis())
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    entry(&row)
}

/// Removes an arrival whose run is committing, if `node` still owns it; `false` when not.
pub(crate) async fn take_in(conn: &mut AnyConnection, id: i64, node: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM inbox WHERE id = $1 AND node = $2")
        .bind(id)
        .bind(node)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

fn entry(row: &AnyRow) -> Result<InboxEntry> {
    Ok(InboxEntry {
        id: get(row, "id")?,
        bot: get(row, "bot_id")?,
        chat: get(row, "chat_id")?,
        user: get(row, "user_id")?,
        arrival: json(&get::<String>(row, "arrival")?, "arrival")?,
        node: get(row, "node")?,
        at: Timestamp(get(row, "created_at")?),
    })
}
