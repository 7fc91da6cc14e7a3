//! Botpress states: a JSON document per bot, state type, owner and name, with an optional expiry.
//! An expired state reads as absent (and is replaced by the next write).

use botyard_domain::{Result, Timestamp};
use serde_json::Value;

use crate::Store;
use crate::error::{db, json, to_json};
use crate::rows::get;

/// One stored state.
#[derive(Debug, Clone, PartialEq)]
pub struct StateRecord {
    pub state_type: String,
    pub owner: String,
    pub name: String,
    pub payload: Value,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Which state: the bot's number, the state's type, its owner's id and its name.
#[derive(Debug, Clone, Copy)]
pub struct StateKey<'a> {
    pub bot: i64,
    pub state_type: &'a str,
    pub owner: &'a str,
    pub name: &'a str,
}

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait StateStore {
    /// The state, unless it is absent or expired at `now`.
    async fn state(&self, key: StateKey<'_>, now: Timestamp) -> Result<Option<StateRecord>>;
    /// Writes the state (replacing it); returns it as stored.
    async fn set_state(
        &self,
        key: StateKey<'_>,
        payload: &Value,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<StateRecord>;
    /// Writes the state only when there is none (or it expired); returns the state that holds.
    async fn get_or_set_state(
        &self,
        key: StateKey<'_>,
        payload: &Value,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<StateRecord>;
    async fn delete_state(&self, key: StateKey<'_>) -> Result<bool>;
}

impl StateStore for Store {
    async fn state(&self, key: StateKey<'_>, now: Timestamp) -> Result<Option<StateRecord>> {
        let row = sqlx::query(
            "SELECT state_type, owner, name, payload, expires_at, created_at, updated_at FROM bot_states \
             WHERE bot_id = $1 AND state_type = $2 AND owner = $3 AND name = $4 \
             AND (expires_at IS NULL OR expires_at > $5)",
        )
        .bind(key.bot)
        .bind(key.state_type)
        .bind(key.owner)
        .bind(key.name)
        .bind(now.millis())
        .fetch_optional(&self.read)
        .await
        .map_err(db)?;
        row.map(|r| {
            let expires: Option<i64> = get(&r, "expires_at")?;
            Ok(StateRecord {
                state_type: get(&r, "state_type")?,
                owner: get(&r, "owner")?,
                name: get(&r, "name")?,
                payload: json(&get::<String>(&r, "payload")?, "state payload")?,
                expires_at: expires.map(Timestamp),
                created_at: Timestamp(get(&r, "created_at")?),
                updated_at: Timestamp(get(&r, "updated_at")?),
            })
        })
        .transpose()
    }

    async fn set_state(
        &self,
        key: StateKey<'_>,
        payload: &Value,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<StateRecord> {
        write_and_read(self, key, payload, expires_at, now, true).await
    }

    async fn get_or_set_state(
        &self,
        key: StateKey<'_>,
        payload: &Value,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<StateRecord> {
        write_and_read(self, key, payload, expires_at, now, false).await
    }

    async fn delete_state(&self, key: StateKey<'_>) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM bot_states WHERE bot_id = $1 AND state_type = $2 AND owner = $3 AND name = $4",
        )
        .bind(key.bot)
        .bind(key.state_type)
        .bind(key.owner)
        .bind(key.name)
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }
}

/// Writes the state as [`write`] does and reads back the one that holds.
async fn write_and_read(
    store: &Store,
    key: StateKey<'_>,
    payload: &Value,
    expires_at: Option<Timestamp>,
    now: Timestamp,
    replace: bool,
) -> Result<StateRecord> {
    write(store, key, payload, expires_at, now, replace).await?;
    store
        .state(key, Timestamp(0))
        .await?
        .ok_or_else(|| botyard_domain::Error::internal("a state just written is missing"))
}

/// Inserts the state; an existing one is replaced when `replace` (or when it expired).
async fn write(
    store: &Store,
    key: StateKey<'_>,
    payload: &Value,
    expires_at: Option<Timestamp>,
    now: Timestamp,
    replace: bool,
) -> Result<()> {
    let statement = if replace {
        "INSERT INTO bot_states (bot_id, state_type, owner, name, payload, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (bot_id, state_type, owner, name) DO UPDATE SET \
         payload = excluded.payload, expires_at = excluded.expires_at, updated_at = excluded.updated_at"
    } else {
        "INSERT INTO bot_states (bot_id, state_type, owner, name, payload, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (bot_id, state_type, owner, name) DO UPDATE SET \
         payload = excluded.payload, expires_at = excluded.expires_at, created_at = excluded.created_at, \
         updated_at = excluded.updated_at \
         WHERE bot_states.expires_at IS NOT NULL AND bot_states.expires_at <= excluded.updated_at"
    };
    sqlx::query(statement)
        .bind(key.bot)
        .bind(key.state_type)
        .bind(key.owner)
        .bind(key.name)
        .bind(to_json(payload)?)
        .bind(expires_at.map(|t| t.millis()))
        .bind(now.millis())
        .execute(&store.write)
        .await
        .map_err(db)?;
    Ok(())
}

/// Tags of the runtime API's users, conversations and messages, by the entity's Chat API id.
#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait TagStore {
    /// Sets tags (an empty value deletes the tag).
    async fn set_tags(&self, bot: i64, entity: &str, id: &str, tags: &[(String, String)]) -> Result<()>;
    async fn tags(&self, bot: i64, entity: &str, id: &str) -> Result<Vec<(String, String)>>;
    /// Ids of entities that have `tag` = `value` (at most `limit`, oldest ids first).
    async fn tagged(&self, bot: i64, entity: &str, tag: &str, value: &str, limit: u32)
    -> Result<Vec<String>>;
}

impl TagStore for Store {
    async fn set_tags(&self, bot: i64, entity: &str, id: &str, tags: &[(String, String)]) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        for (tag, value) in tags {
            let query = if value.is_empty() {
                sqlx::query(
                    "DELETE FROM runtime_tags WHERE bot_id = $1 AND entity = $2 AND entity_id = $3 AND tag = $4 \
                     AND $5 = ''",
                )
            } else {
                sqlx::query(
                    "INSERT INTO runtime_tags (bot_id, entity, entity_id, tag, value) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (bot_id, entity, entity_id, tag) DO UPDATE SET value = excluded.value",
                )
            };
            query
                .bind(bot)
                .bind(entity)
                .bind(id)
                .bind(tag.as_str())
                .bind(value.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn tags(&self, bot: i64, entity: &str, id: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT tag, value FROM runtime_tags WHERE bot_id = $1 AND entity = $2 AND entity_id = $3 ORDER BY tag",
        )
        .bind(bot)
        .bind(entity)
        .bind(id)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter().map(|r| Ok((get(r, "tag")?, get(r, "value")?))).collect()
    }

    async fn tagged(
        &self,
        bot: i64,
        entity: &str,
        tag: &str,
        value: &str,
        limit: u32,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT entity_id FROM runtime_tags WHERE bot_id = $1 AND entity = $2 AND tag = $3 AND value = $4 \
             ORDER BY entity_id LIMIT $5",
        )
        .bind(bot)
        .bind(entity)
        .bind(tag)
        .bind(value)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter().map(|r| get(r, "entity_id")).collect()
    }
}
