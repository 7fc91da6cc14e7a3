//! Change notifications between botyard nodes sharing a PostgreSQL database: a node that changes
//! something other nodes may have cached publishes a short payload on a channel, every node
//! listens. On SQLite there is one node, so publishing does nothing and there is no listener.

use botyard_domain::Result;
use sqlx::postgres::PgListener;

use crate::error::db;
use crate::{Backend, Store};

const CHANNEL: &str = "botyard_changes";

/// Receives the payloads other nodes (and this one) publish.
pub struct ChangeListener(PgListener);

impl ChangeListener {
    /// The next payload; `None` when the connection was lost and re-established, so payloads may
    /// have been missed (forget everything cached).
    pub async fn next(&mut self) -> Result<Option<String>> {
        let notification = self.0.try_recv().await.map_err(db)?;
        Ok(notification.map(|n| n.payload().to_owned()))
    }
}

impl Store {
    /// Tells every node about a change (PostgreSQL `NOTIFY`); nothing on SQLite.
    pub async fn publish_change(&self, payload: &str) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&self.write)
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    /// [`publish_change`](Self::publish_change) for several payloads, in order, in one statement.
    pub async fn publish_changes(&self, payloads: &[String]) -> Result<()> {
        if self.backend != Backend::Postgres || payloads.is_empty() {
            return Ok(());
        }
        let mut sql = crate::bots::SqlBuilder::new("SELECT pg_notify('botyard_changes', p) FROM (VALUES ");
        for (i, payload) in payloads.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(payload.clone());
            sql.push(")");
        }
        sql.push(") AS t(p)");
        let mut conn = self.write.acquire().await.map_err(db)?;
        sql.execute(&mut conn).await
    }

    /// Listens to changes published by any node; `None` on SQLite.
    pub async fn change_listener(&self) -> Result<Option<ChangeListener>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = PgListener::connect(&self.url).await.map_err(db)?;
        listener.listen(CHANNEL).await.map_err(db)?;
        Ok(Some(ChangeListener(listener)))
    }
}
