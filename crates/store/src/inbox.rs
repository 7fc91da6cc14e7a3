//! The inbox: what arrived for bots and has not finished its run, and the nodes that own it.
//! An arrival is written in the transaction that stores the user's message (and records the
//! Telegram update it came in), and deleted in the transaction that commits its run
//! ([`crate::runs`]), fenced by its owner: a node that lost its arrivals to another cannot commit
//! them. Nodes hold a lease; the arrivals of a node whose lease lapsed are taken over, in order.

use botyard_domain::arrival::{Arrival, InboxEntry, NewArrival};
use botyard_domain::conversation::ChatMessage;
use botyard_domain::{Error, Result, Timestamp};
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
    /// [`accept`](Self::accept) for several arrivals in one transaction (group commit), in order;
    /// each answer as `accept` gives it. If any of them fails, none is stored.
    async fn accept_many(
        &self,
        node: &str,
        arrivals: &[Accepting<'_>],
        now: Timestamp,
    ) -> Result<Vec<Option<(InboxEntry, Option<ChatMessage>)>>>;
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

/// One arrival of [`InboxStore::accept_many`].
#[derive(Debug, Clone, Copy)]
pub struct Accepting<'a> {
    pub arrival: &'a NewArrival,
    pub message: Option<&'a NewMessage>,
    pub telegram_update: Option<i64>,
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
        let accepted = accept_in(&mut tx, node, arrival, message, telegram_update, now).await?;
        if accepted.is_some() {
            tx.commit().await.map_err(db)?;
        }
        Ok(accepted)
    }

    async fn accept_many(
        &self,
        node: &str,
        arrivals: &[Accepting<'_>],
        now: Timestamp,
    ) -> Result<Vec<Option<(InboxEntry, Option<ChatMessage>)>>> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let accepted = if arrivals.len() > 1 && arrivals.iter().all(|a| a.message.is_some()) {
            accept_messages(&mut tx, node, arrivals, now).await?
        } else {
            let mut accepted = Vec::with_capacity(arrivals.len());
            for a in arrivals {
                accepted.push(accept_in(&mut tx, node, a.arrival, a.message, a.telegram_update, now).await?);
            }
            accepted
        };
        tx.commit().await.map_err(db)?;
        Ok(accepted)
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

/// Stores an arrival (with its message, recording its Telegram update) inside the caller's
/// transaction; `None` when the update was recorded before (nothing else is written then).
async fn accept_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    node: &str,
    arrival: &NewArrival,
    message: Option<&NewMessage>,
    telegram_update: Option<i64>,
    now: Timestamp,
) -> Result<Option<(InboxEntry, Option<ChatMessage>)>> {
    if let Some(update) = telegram_update {
        let recorded = sqlx::query(
            "INSERT INTO telegram_updates (bot_id, update_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (bot_id, update_id) DO NOTHING",
        )
        .bind(arrival.bot)
        .bind(update)
        .bind(now.millis())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        if recorded.rows_affected() == 0 {
            return Ok(None);
        }
    }
    let stored = match message {
        Some(m) => Some(insert_message(&mut **tx, m).await?),
        None => None,
    };
    let mut arrival = arrival.clone();
    if let Some(m) = &stored {
        arrival.arrival = Arrival::Message { message: m.id };
    }
    let entry = insert_in(tx, node, &arrival, now).await?;
    Ok(Some((entry, stored)))
}

/// [`accept_in`] for several user messages with one statement per table: the Telegram updates
/// (an update recorded before, or twice in the batch, is accepted once), the messages, the inbox
/// rows — the same rows, in the same order.
async fn accept_messages(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    node: &str,
    arrivals: &[Accepting<'_>],
    now: Timestamp,
) -> Result<Vec<Option<(InboxEntry, Option<ChatMessage>)>>> {
    use crate::bots::SqlBuilder;
    let mut fresh = vec![true; arrivals.len()];
    let updates: Vec<(usize, i64, i64)> = arrivals
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.telegram_update.map(|u| (i, a.arrival.bot, u)))
        .collect();
    if !updates.is_empty() {
        let mut sql =
            SqlBuilder::new_for(tx, "INSERT INTO telegram_updates (bot_id, update_id, received_at) VALUES ");
        for (n, (_, bot, update)) in updates.iter().enumerate() {
            sql.open_row(n == 0).bind(*bot).bind(*update).bind(now.millis());
        }
        sql.push(" ON CONFLICT (bot_id, update_id) DO NOTHING RETURNING bot_id, update_id");
        let mut recorded = std::collections::HashSet::new();
        for row in sql.fetch_all_conn(tx).await? {
            recorded.insert((get::<i64>(&row, "bot_id")?, get::<i64>(&row, "update_id")?));
        }
        for (i, bot, update) in updates {
            fresh[i] = recorded.remove(&(bot, update));
        }
    }
    let keep: Vec<(usize, &NewMessage)> = arrivals
        .iter()
        .enumerate()
        .filter(|(i, _)| fresh[*i])
        .filter_map(|(i, a)| a.message.map(|m| (i, m)))
        .collect();
    let mut accepted: Vec<Option<(InboxEntry, Option<ChatMessage>)>> =
        arrivals.iter().map(|_| None).collect();
    if keep.is_empty() {
        return Ok(accepted);
    }
    let mut sql = SqlBuilder::new_for(
        tx,
        "INSERT INTO messages (uid, bot_id, chat_id, user_id, payload, metadata, created_at, updated_at, external_id) VALUES ",
    );
    for (n, (_, m)) in keep.iter().enumerate() {
        sql.open_row(n == 0)
            .bind(m.uid.clone())
            .bind(m.bot)
            .bind(m.chat_id)
            .bind(m.user_id)
            .bind(to_json(&m.payload)?)
            .bind(m.metadata.as_ref().map(to_json).transpose()?)
            .bind(m.at.millis())
            .bind(m.at.millis())
            .bind(m.external_id.clone());
    }
    sql.push(" RETURNING id, uid");
    let rows = sql.fetch_all_conn(tx).await?;
    let mut ids = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        ids.insert(get::<String>(row, "uid")?, get::<i64>(row, "id")?);
    }
    let mut stored = Vec::with_capacity(keep.len());
    for (i, m) in &keep {
        let id = *ids.get(&m.uid).ok_or_else(|| Error::internal("a stored message has no id"))?;
        stored.push((
            *i,
            ChatMessage {
                id,
                uid: m.uid.clone(),
                bot_number: m.bot,
                chat_id: m.chat_id,
                user_id: m.user_id,
                payload: m.payload.clone(),
                metadata: m.metadata.clone(),
                created_at: m.at,
                updated_at: m.at,
            },
        ));
    }
    let mut sql = SqlBuilder::new_for(
        tx,
        "INSERT INTO inbox (bot_id, chat_id, user_id, arrival, node, created_at) VALUES ",
    );
    for (n, (i, message)) in stored.iter().enumerate() {
        let arrival = arrivals[*i].arrival;
        sql.open_row(n == 0)
            .bind(arrival.bot)
            .bind(arrival.chat)
            .bind(arrival.user)
            .bind(to_json(&Arrival::Message { message: message.id })?)
            .bind(node.to_owned())
            .bind(now.millis());
    }
    sql.push(" RETURNING ");
    sql.push(COLUMNS);
    let mut entries = std::collections::HashMap::with_capacity(stored.len());
    for row in sql.fetch_all_conn(tx).await? {
        let entry = entry(&row)?;
        if let Arrival::Message { message } = entry.arrival {
            entries.insert(message, entry);
        }
    }
    for (i, message) in stored {
        let entry =
            entries.remove(&message.id).ok_or_else(|| Error::internal("a stored arrival has no row"))?;
        accepted[i] = Some((entry, Some(message)));
    }
    Ok(accepted)
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
