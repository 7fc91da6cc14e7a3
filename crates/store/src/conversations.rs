//! End users, chats, their participants and messages.

use std::collections::HashMap;

use botyard_domain::conversation::{BotUser, Channel, Chat, ChatMessage, UserProfile};
use botyard_domain::{Error, Result, Timestamp};
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

use crate::Store;
use crate::bots::SqlBuilder;
use crate::error::{db, json, to_json, unique_or_db};
use crate::rows::{StoredRow, get};

/// A user to find or create ([`ConversationStore::upsert_users`]).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub bot: i64,
    pub channel: Channel,
    pub external_id: String,
    pub profile: UserProfile,
}

/// A chat to find or create ([`ConversationStore::upsert_chats`]).
#[derive(Debug, Clone)]
pub struct NewChat {
    pub bot: i64,
    pub channel: Channel,
    pub external_id: String,
    pub chat_type: String,
    pub title: Option<String>,
    pub owner: Option<i64>,
}

/// Where a user or chat is known: its bot, channel and external id.
pub type ExternalKey = (i64, Channel, String);

/// The first ask of each key, for one statement's rows (a key twice in one INSERT would be
/// refused by PostgreSQL).
fn first_asks<T>(asks: &[T], key: impl Fn(&T) -> ExternalKey) -> Vec<(ExternalKey, &T)> {
    let mut seen = std::collections::HashSet::new();
    asks.iter().filter(|&ask| seen.insert(key(ask))).map(|ask| (key(ask), ask)).collect()
}

/// One answer per ask from what was found, `true` only for the first ask of a created key.
fn answers<T: Clone, A>(
    asks: &[A],
    key: impl Fn(&A) -> ExternalKey,
    found: &HashMap<ExternalKey, T>,
    created: &std::collections::HashSet<ExternalKey>,
    what: &str,
) -> Result<Vec<(T, bool)>> {
    let mut told = std::collections::HashSet::new();
    asks.iter()
        .map(|ask| {
            let key = key(ask);
            let item = found
                .get(&key)
                .cloned()
                .ok_or_else(|| Error::internal(format!("an upserted {what} vanished")))?;
            let first = created.contains(&key) && told.insert(key);
            Ok((item, first))
        })
        .collect()
}

/// A chat to create or find.
#[derive(Debug, Clone)]
pub struct ChatKey<'a> {
    pub bot: i64,
    pub channel: Channel,
    pub external_id: &'a str,
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub uid: String,
    pub bot: i64,
    pub chat_id: i64,
    /// The author; `None` for the bot.
    pub user_id: Option<i64>,
    pub payload: Value,
    pub metadata: Option<Map<String, Value>>,
    pub at: Timestamp,
    /// The channel's own id of the message (Telegram's `message_id`), when it has one.
    pub external_id: Option<String>,
}

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait ConversationStore {
    /// Finds the user or creates them; `true` when created.
    async fn upsert_user(
        &self,
        bot: i64,
        channel: Channel,
        external_id: &str,
        profile: &UserProfile,
        now: Timestamp,
    ) -> Result<(BotUser, bool)>;
    /// Creates a web chat user with the digest of their key; `AlreadyExists` when the id is taken.
    async fn create_key_user(
        &self,
        bot: i64,
        external_id: &str,
        profile: &UserProfile,
        key_digest: &str,
        now: Timestamp,
    ) -> Result<BotUser>;
    /// The users with these key digests (of whichever bots: keys are random and unique), several
    /// at once, one answer per digest in their order.
    async fn users_by_keys(&self, key_digests: &[String]) -> Result<Vec<Option<BotUser>>>;
    async fn bot_user(&self, bot: i64, id: i64) -> Result<Option<BotUser>>;
    async fn bot_user_by_external(
        &self,
        bot: i64,
        channel: Channel,
        external_id: &str,
    ) -> Result<Option<BotUser>>;
    /// The bot's users of `channel` among these external ids (those that exist), with groups.
    async fn users_by_external_ids(&self, bot: i64, channel: Channel, ids: &[String])
    -> Result<Vec<BotUser>>;
    /// The bot's chats of `channel` among these external ids (those that exist).
    async fn chats_by_external_ids(&self, bot: i64, channel: Channel, ids: &[String]) -> Result<Vec<Chat>>;
    /// The users among these keys, of any bots and channels (those that exist), with groups.
    async fn users_by_external_keys(&self, keys: &[ExternalKey]) -> Result<HashMap<ExternalKey, BotUser>>;
    /// The chats among these keys, of any bots and channels (those that exist).
    async fn chats_by_external_keys(&self, keys: &[ExternalKey]) -> Result<HashMap<ExternalKey, Chat>>;
    async fn update_bot_user(&self, id: i64, profile: &UserProfile, now: Timestamp) -> Result<()>;
    async fn delete_bot_user(&self, bot: i64, id: i64) -> Result<bool>;
    /// [`upsert_user`](Self::upsert_user) of several users (of any bots) at once: one answer per
    /// ask, in order; `true` for the first ask of a user this call created.
    async fn upsert_users(&self, asks: &[NewUser], now: Timestamp) -> Result<Vec<(BotUser, bool)>>;
    /// [`upsert_chat`](Self::upsert_chat) of several chats (of any bots) at once: one answer per
    /// ask, in order; `true` for the first ask of a chat this call created.
    async fn upsert_chats(&self, asks: &[NewChat], now: Timestamp) -> Result<Vec<(Chat, bool)>>;
    /// Finds the chat or creates it; `true` when created.
    async fn upsert_chat(
        &self,
        key: &ChatKey<'_>,
        chat_type: &str,
        title: Option<&str>,
        owner: Option<i64>,
        now: Timestamp,
    ) -> Result<(Chat, bool)>;
    /// Creates a chat; `AlreadyExists` when the id is taken.
    async fn create_chat(
        &self,
        key: &ChatKey<'_>,
        chat_type: &str,
        owner: Option<i64>,
        now: Timestamp,
    ) -> Result<Chat>;
    async fn chat(&self, bot: i64, id: i64) -> Result<Option<Chat>>;
    async fn chat_by_external(&self, key: &ChatKey<'_>) -> Result<Option<Chat>>;
    /// Chats by `(bot, channel, external id)`, each with whether `user` takes part in it (every
    /// Chat API request about a conversation asks both), several at once (at most 128), one
    /// answer per ask in their order.
    async fn chats_with_participants(
        &self,
        asks: &[(i64, Channel, String, i64)],
    ) -> Result<Vec<Option<(Chat, bool)>>>;
    /// Chats of the bot, newest activity last, one page (from 1).
    async fn chats_page(&self, bot: i64, page: u32, per_page: u32) -> Result<Vec<Chat>>;
    /// Chats the user takes part in, after the chat id `after`.
    async fn chats_of_user(&self, user: i64, after: i64, limit: u32) -> Result<Vec<Chat>>;
    async fn set_chat_blocked(&self, bot: i64, id: i64, blocked: bool, now: Timestamp) -> Result<bool>;
    async fn delete_chat(&self, bot: i64, id: i64) -> Result<bool>;
    async fn add_participant(&self, chat: i64, user: i64, now: Timestamp) -> Result<()>;
    async fn remove_participant(&self, chat: i64, user: i64) -> Result<bool>;
    async fn is_participant(&self, chat: i64, user: i64) -> Result<bool>;
    async fn participants(&self, chat: i64) -> Result<Vec<BotUser>>;
    async fn insert_message(&self, message: &NewMessage) -> Result<ChatMessage>;
    async fn message(&self, bot: i64, uid: &str) -> Result<Option<ChatMessage>>;
    async fn message_by_id(&self, id: i64) -> Result<Option<ChatMessage>>;
    /// Messages of a chat in the order they were written, after the message id `after`.
    async fn messages(&self, chat: i64, after: i64, limit: u32) -> Result<Vec<ChatMessage>>;
    async fn delete_message(&self, bot: i64, uid: &str) -> Result<bool>;
    /// The command waiting for this user's reply in this chat, with its options.
    async fn pending_reply(&self, bot: i64, chat: i64, user: i64) -> Result<Option<(i64, Option<Value>)>>;
    /// [`pending_reply`](Self::pending_reply) of several `(bot, chat, user)` at once, one answer
    /// per ask in their order.
    async fn pending_replies(&self, asks: &[(i64, i64, i64)]) -> Result<Vec<Option<(i64, Option<Value>)>>>;
    /// The chat's dialog state as the last committed run left it (JSON).
    async fn dialog_state(&self, bot: i64, chat: i64) -> Result<Option<String>>;
    /// What happened in the bot's conversations from `since` to `until` (both included), by UTC
    /// day (days since the Unix epoch), only days with something: `[new users, returning users,
    /// sessions, user messages, bot messages]`. New users: users first seen that day. Returning
    /// users: users seen before the day (or before `since`) who wrote that day. Sessions: chats a
    /// user wrote in that day. Messages: written by users (with an author) and by the bot.
    async fn activity_by_day(
        &self,
        bot: i64,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(i64, [i64; 5])>>;
}

macro_rules! user_columns {
    () => {
        "u.id, u.bot_id, u.channel, u.external_id, u.first_name, u.last_name, u.username, u.picture_url, u.profile, \
         u.created_at, u.updated_at"
    };
}
macro_rules! chat_columns {
    () => {
        "c.id, c.bot_id, c.channel, c.external_id, c.chat_type, c.title, c.owner_user_id, c.blocked, c.bot_blocked, \
         c.created_at, c.updated_at"
    };
}
macro_rules! message_columns {
    () => {
        "m.id, m.uid, m.bot_id, m.chat_id, m.user_id, m.payload, m.metadata, m.created_at, m.updated_at"
    };
}

impl ConversationStore for Store {
    async fn upsert_user(
        &self,
        bot: i64,
        channel: Channel,
        external_id: &str,
        profile: &UserProfile,
        now: Timestamp,
    ) -> Result<(BotUser, bool)> {
        let ask = NewUser { bot, channel, external_id: external_id.to_owned(), profile: profile.clone() };
        let mut answers = self.upsert_users(&[ask], now).await?;
        answers.pop().ok_or_else(|| Error::internal("an upserted user vanished"))
    }

    async fn upsert_users(&self, asks: &[NewUser], now: Timestamp) -> Result<Vec<(BotUser, bool)>> {
        let insert = |missing: &[&NewUser]| {
            let mut sql = SqlBuilder::new(
                "INSERT INTO bot_users (bot_id, channel, external_id, first_name, last_name, username, picture_url, profile, \
                 created_at, updated_at) VALUES ",
            );
            for (n, u) in missing.iter().enumerate() {
                let mut row = sql.open_row(n == 0);
                row.bind(u.bot)
                    .bind(u.channel.as_str().to_owned())
                    .bind(u.external_id.clone())
                    .bind(u.profile.first_name.clone())
                    .bind(u.profile.last_name.clone())
                    .bind(u.profile.username.clone())
                    .bind(u.profile.picture_url.clone())
                    .bind(u.profile.profile.clone())
                    .bind(now.millis())
                    .bind(now.millis());
            }
            sql
        };
        let key = |u: &NewUser| (u.bot, u.channel, u.external_id.clone());
        let find = move |keys: Vec<ExternalKey>| async move { self.users_by_external_keys(&keys).await };
        self.upsert_many(asks, key, find, insert, "user").await
    }

    async fn create_key_user(
        &self,
        bot: i64,
        external_id: &str,
        profile: &UserProfile,
        key_digest: &str,
        now: Timestamp,
    ) -> Result<BotUser> {
        let row = sqlx::query(
            "INSERT INTO bot_users (bot_id, channel, external_id, first_name, last_name, username, picture_url, profile, \
             key_digest, created_at, updated_at) VALUES ($1, 'web', $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(bot)
        .bind(external_id)
        .bind(&profile.first_name)
        .bind(&profile.last_name)
        .bind(&profile.username)
        .bind(&profile.picture_url)
        .bind(&profile.profile)
        .bind(key_digest)
        .bind(now.millis())
        .fetch_one(&self.write)
        .await
        .map_err(|e| unique_or_db(e, "A user with this id already exists"))?;
        self.bot_user(bot, get(&row, "id")?).await?.ok_or_else(|| Error::internal("a created user vanished"))
    }

    async fn users_by_external_ids(
        &self,
        bot: i64,
        channel: Channel,
        ids: &[String],
    ) -> Result<Vec<BotUser>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::read(concat!(
            "SELECT ",
            user_columns!(),
            ", g.name AS group_name FROM bot_users u LEFT JOIN bot_user_groups g ON g.user_id = u.id WHERE u.bot_id = "
        ));
        sql.bind(bot);
        sql.push(" AND u.channel = ");
        sql.bind(channel.as_str().to_owned());
        sql.push(" AND u.external_id");
        sql.push_in_list(ids.iter().cloned());
        sql.push(" ORDER BY u.id, g.name");
        let rows = self.read_rows(sql).await?;
        Ok(users_with_groups(&rows)?.into_iter().map(|(user, _)| user).collect())
    }

    async fn chats_by_external_ids(&self, bot: i64, channel: Channel, ids: &[String]) -> Result<Vec<Chat>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql =
            SqlBuilder::read(concat!("SELECT ", chat_columns!(), " FROM chats c WHERE c.bot_id = "));
        sql.bind(bot);
        sql.push(" AND c.channel = ");
        sql.bind(channel.as_str().to_owned());
        sql.push(" AND c.external_id");
        sql.push_in_list(ids.iter().cloned());
        self.read_rows(sql).await?.iter().map(chat).collect()
    }

    async fn users_by_external_keys(&self, keys: &[ExternalKey]) -> Result<HashMap<ExternalKey, BotUser>> {
        by_external_keys(
            keys,
            |bot, channel, ids| async move { self.users_by_external_ids(bot, channel, &ids).await },
            |user| &user.external_id,
        )
        .await
    }

    async fn chats_by_external_keys(&self, keys: &[ExternalKey]) -> Result<HashMap<ExternalKey, Chat>> {
        by_external_keys(
            keys,
            |bot, channel, ids| async move { self.chats_by_external_ids(bot, channel, &ids).await },
            |chat| &chat.external_id,
        )
        .await
    }

    async fn users_by_keys(&self, key_digests: &[String]) -> Result<Vec<Option<BotUser>>> {
        if key_digests.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::read(concat!(
            "SELECT ",
            user_columns!(),
            ", u.key_digest, g.name AS group_name FROM bot_users u LEFT JOIN bot_user_groups g ON g.user_id = u.id \
             WHERE u.key_digest"
        ));
        sql.push_in_list(key_digests.iter().cloned());
        sql.push(" ORDER BY u.id, g.name");
        let rows = self.read_rows(sql).await?;
        let mut found = HashMap::new();
        for (user, row) in users_with_groups(&rows)? {
            found.insert(get::<String>(row, "key_digest")?, user);
        }
        Ok(key_digests.iter().map(|digest| found.get(digest).cloned()).collect())
    }

    async fn bot_user(&self, bot: i64, id: i64) -> Result<Option<BotUser>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            ", g.name AS group_name FROM bot_users u LEFT JOIN bot_user_groups g ON g.user_id = u.id \
             WHERE u.bot_id = $1 AND u.id = $2 ORDER BY g.name"
        );
        let rows = sqlx::query(sql).bind(bot).bind(id).fetch_all(&self.read).await.map_err(db)?;
        user_and_groups(&rows)
    }

    async fn bot_user_by_external(
        &self,
        bot: i64,
        channel: Channel,
        external_id: &str,
    ) -> Result<Option<BotUser>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            ", g.name AS group_name FROM bot_users u LEFT JOIN bot_user_groups g ON g.user_id = u.id \
             WHERE u.bot_id = $1 AND u.channel = $2 AND u.external_id = $3 ORDER BY g.name"
        );
        let rows = sqlx::query(sql)
            .bind(bot)
            .bind(channel.as_str())
            .bind(external_id)
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        user_and_groups(&rows)
    }

    async fn update_bot_user(&self, id: i64, profile: &UserProfile, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE bot_users SET first_name = $1, last_name = $2, username = $3, picture_url = $4, profile = $5, \
             updated_at = $6 WHERE id = $7",
        )
            .bind(&profile.first_name)
            .bind(&profile.last_name)
            .bind(&profile.username)
            .bind(&profile.picture_url)
            .bind(&profile.profile)
            .bind(now.millis())
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn delete_bot_user(&self, bot: i64, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM bot_users WHERE bot_id = $1 AND id = $2")
            .bind(bot)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn upsert_chat(
        &self,
        key: &ChatKey<'_>,
        chat_type: &str,
        title: Option<&str>,
        owner: Option<i64>,
        now: Timestamp,
    ) -> Result<(Chat, bool)> {
        let ask = NewChat {
            bot: key.bot,
            channel: key.channel,
            external_id: key.external_id.to_owned(),
            chat_type: chat_type.to_owned(),
            title: title.map(str::to_owned),
            owner,
        };
        let mut answers = self.upsert_chats(&[ask], now).await?;
        answers.pop().ok_or_else(|| Error::internal("an upserted chat vanished"))
    }

    async fn upsert_chats(&self, asks: &[NewChat], now: Timestamp) -> Result<Vec<(Chat, bool)>> {
        let insert = |missing: &[&NewChat]| {
            let mut sql = SqlBuilder::new(
                "INSERT INTO chats (bot_id, channel, external_id, chat_type, title, owner_user_id, blocked, bot_blocked, \
                 created_at, updated_at) VALUES ",
            );
            for (n, c) in missing.iter().enumerate() {
                let mut row = sql.open_row(n == 0);
                row.bind(c.bot)
                    .bind(c.channel.as_str().to_owned())
                    .bind(c.external_id.clone())
                    .bind(c.chat_type.clone())
                    .bind(c.title.clone())
                    .bind(c.owner)
                    .bind(0_i64)
                    .bind(0_i64)
                    .bind(now.millis())
                    .bind(now.millis());
            }
            sql
        };
        let key = |c: &NewChat| (c.bot, c.channel, c.external_id.clone());
        let find = move |keys: Vec<ExternalKey>| async move { self.chats_by_external_keys(&keys).await };
        self.upsert_many(asks, key, find, insert, "chat").await
    }

    async fn create_chat(
        &self,
        key: &ChatKey<'_>,
        chat_type: &str,
        owner: Option<i64>,
        now: Timestamp,
    ) -> Result<Chat> {
        let row = sqlx::query(
            "INSERT INTO chats (bot_id, channel, external_id, chat_type, title, owner_user_id, blocked, bot_blocked, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, NULL, $5, 0, 0, $6, $6) RETURNING id",
        )
        .bind(key.bot)
        .bind(key.channel.as_str())
        .bind(key.external_id)
        .bind(chat_type)
        .bind(owner)
        .bind(now.millis())
        .fetch_one(&self.write)
        .await
        .map_err(|e| unique_or_db(e, "A conversation with this id already exists"))?;
        self.chat(key.bot, get(&row, "id")?).await?.ok_or_else(|| Error::internal("a created chat vanished"))
    }

    async fn chat(&self, bot: i64, id: i64) -> Result<Option<Chat>> {
        let sql = concat!("SELECT ", chat_columns!(), " FROM chats c WHERE c.bot_id = $1 AND c.id = $2");
        let row = sqlx::query(sql).bind(bot).bind(id).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| chat(&r)).transpose()
    }

    async fn chat_by_external(&self, key: &ChatKey<'_>) -> Result<Option<Chat>> {
        let sql = concat!(
            "SELECT ",
            chat_columns!(),
            " FROM chats c WHERE c.bot_id = $1 AND c.channel = $2 AND c.external_id = $3"
        );
        let row = sqlx::query(sql)
            .bind(key.bot)
            .bind(key.channel.as_str())
            .bind(key.external_id)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        row.map(|r| chat(&r)).transpose()
    }

    async fn chats_page(&self, bot: i64, page: u32, per_page: u32) -> Result<Vec<Chat>> {
        let sql = concat!(
            "SELECT ",
            chat_columns!(),
            " FROM chats c WHERE c.bot_id = $1 AND c.channel <> 'system' ORDER BY c.id LIMIT $2 OFFSET $3"
        );
        let offset = botyard_domain::page::offset(page, per_page);
        let found = sqlx::query(sql)
            .bind(bot)
            .bind(i64::from(per_page))
            .bind(offset)
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        found.iter().map(chat).collect()
    }

    async fn chats_of_user(&self, user: i64, after: i64, limit: u32) -> Result<Vec<Chat>> {
        let sql = concat!(
            "SELECT ",
            chat_columns!(),
            " FROM chats c JOIN chat_participants p ON p.chat_id = c.id WHERE p.user_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3"
        );
        let found = sqlx::query(sql)
            .bind(user)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        found.iter().map(chat).collect()
    }

    async fn set_chat_blocked(&self, bot: i64, id: i64, blocked: bool, now: Timestamp) -> Result<bool> {
        let done =
            sqlx::query("UPDATE chats SET blocked = $1, updated_at = $2 WHERE bot_id = $3 AND id = $4")
                .bind(i64::from(blocked))
                .bind(now.millis())
                .bind(bot)
                .bind(id)
                .execute(&self.write)
                .await
                .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_chat(&self, bot: i64, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM chats WHERE bot_id = $1 AND id = $2")
            .bind(bot)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_participant(&self, chat: i64, user: i64, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO chat_participants (chat_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (chat_id, user_id) DO NOTHING",
        )
        .bind(chat)
        .bind(user)
        .bind(now.millis())
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn remove_participant(&self, chat: i64, user: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM chat_participants WHERE chat_id = $1 AND user_id = $2")
            .bind(chat)
            .bind(user)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn chats_with_participants(
        &self,
        asks: &[(i64, Channel, String, i64)],
    ) -> Result<Vec<Option<(Chat, bool)>>> {
        if asks.is_empty() {
            return Ok(Vec::new());
        }
        // One SELECT per ask, numbered, in one statement.
        let mut sql = SqlBuilder::read("");
        for (i, (bot, channel, external_id, user)) in asks.iter().enumerate() {
            sql.push(if i == 0 { "SELECT CAST(" } else { " UNION ALL SELECT CAST(" });
            sql.bind(i as i64);
            sql.push(concat!(
                " AS BIGINT) AS ask, ",
                chat_columns!(),
                ", (SELECT COUNT(*) FROM chat_participants p WHERE p.chat_id = c.id AND p.user_id = "
            ));
            sql.bind(*user);
            sql.push(") AS takes_part FROM chats c WHERE c.bot_id = ");
            sql.bind(*bot);
            sql.push(" AND c.channel = ");
            sql.bind(channel.as_str().to_owned());
            sql.push(" AND c.external_id = ");
            sql.bind(external_id.clone());
        }
        let mut found: Vec<Option<(Chat, bool)>> = vec![None; asks.len()];
        for row in self.read_rows(sql).await? {
            let ask = usize::try_from(get::<i64>(&row, "ask")?).unwrap_or(usize::MAX);
            if let Some(slot) = found.get_mut(ask) {
                *slot = Some((chat(&row)?, get::<i64>(&row, "takes_part")? > 0));
            }
        }
        Ok(found)
    }

    async fn is_participant(&self, chat: i64, user: i64) -> Result<bool> {
        let row = sqlx::query("SELECT 1 AS x FROM chat_participants WHERE chat_id = $1 AND user_id = $2")
            .bind(chat)
            .bind(user)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        Ok(row.is_some())
    }

    async fn participants(&self, chat: i64) -> Result<Vec<BotUser>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM bot_users u JOIN chat_participants p ON p.user_id = u.id WHERE p.chat_id = $1 ORDER BY p.created_at, u.id"
        );
        let found = sqlx::query(sql).bind(chat).fetch_all(&self.read).await.map_err(db)?;
        let mut users = Vec::new();
        for row in found {
            users.extend(self.user_with_groups(Some(row)).await?);
        }
        Ok(users)
    }

    async fn insert_message(&self, m: &NewMessage) -> Result<ChatMessage> {
        insert_message(&self.write, m).await
    }

    async fn message(&self, bot: i64, uid: &str) -> Result<Option<ChatMessage>> {
        let sql =
            concat!("SELECT ", message_columns!(), " FROM messages m WHERE m.bot_id = $1 AND m.uid = $2");
        let row = sqlx::query(sql).bind(bot).bind(uid).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| message(&r)).transpose()
    }

    async fn message_by_id(&self, id: i64) -> Result<Option<ChatMessage>> {
        let sql = concat!("SELECT ", message_columns!(), " FROM messages m WHERE m.id = $1");
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| message(&r)).transpose()
    }

    async fn messages(&self, chat: i64, after: i64, limit: u32) -> Result<Vec<ChatMessage>> {
        let sql = concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages m WHERE m.chat_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3"
        );
        let found = sqlx::query(sql)
            .bind(chat)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        found.iter().map(message).collect()
    }

    async fn delete_message(&self, bot: i64, uid: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM messages WHERE bot_id = $1 AND uid = $2")
            .bind(bot)
            .bind(uid)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn pending_reply(&self, bot: i64, chat: i64, user: i64) -> Result<Option<(i64, Option<Value>)>> {
        Ok(self.pending_replies(&[(bot, chat, user)]).await?.pop().flatten())
    }

    async fn pending_replies(&self, asks: &[(i64, i64, i64)]) -> Result<Vec<Option<(i64, Option<Value>)>>> {
        if asks.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::read(
            "SELECT bot_id, chat_id, user_id, command_id, options FROM pending_replies WHERE ",
        );
        for (i, (bot, chat, user)) in asks.iter().enumerate() {
            sql.push(if i == 0 { "(bot_id = " } else { " OR (bot_id = " });
            sql.bind(*bot);
            sql.push(" AND chat_id = ");
            sql.bind(*chat);
            sql.push(" AND user_id = ");
            sql.bind(*user);
            sql.push(")");
        }
        let mut found = std::collections::HashMap::new();
        for r in self.read_rows(sql).await? {
            let options: Option<String> = get(&r, "options")?;
            let options = options.map(|o| json(&o, "pending reply options")).transpose()?;
            let ask: (i64, i64, i64) = (get(&r, "bot_id")?, get(&r, "chat_id")?, get(&r, "user_id")?);
            found.insert(ask, (get(&r, "command_id")?, options));
        }
        Ok(asks.iter().map(|ask| found.get(ask).cloned()).collect())
    }

    async fn dialog_state(&self, bot: i64, chat: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT state FROM chat_dialog_states WHERE bot_id = $1 AND chat_id = $2")
            .bind(bot)
            .bind(chat)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        row.map(|r| get(&r, "state")).transpose()
    }

    async fn activity_by_day(
        &self,
        bot: i64,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<(i64, [i64; 5])>> {
        // Messages are reached through the bot's chats (`chats_by_bot`, `messages_by_chat`).
        let messages = sqlx::query(
            "SELECT m.created_at / 86400000 AS day, \
             SUM(CASE WHEN m.user_id IS NULL THEN 0 ELSE 1 END) AS user_messages, \
             SUM(CASE WHEN m.user_id IS NULL THEN 1 ELSE 0 END) AS bot_messages, \
             COUNT(DISTINCT CASE WHEN m.user_id IS NULL THEN NULL ELSE m.chat_id END) AS sessions \
             FROM chats c JOIN messages m ON m.chat_id = c.id \
             WHERE c.bot_id = $1 AND m.created_at >= $2 AND m.created_at <= $3 \
             GROUP BY m.created_at / 86400000",
        );
        let new_users = sqlx::query(
            "SELECT created_at / 86400000 AS day, COUNT(*) AS n FROM bot_users \
             WHERE bot_id = $1 AND created_at >= $2 AND created_at <= $3 GROUP BY created_at / 86400000",
        );
        // Seen before the day began, or before `since` on its first day.
        let returning = sqlx::query(
            "SELECT m.created_at / 86400000 AS day, COUNT(DISTINCT m.user_id) AS n \
             FROM chats c JOIN messages m ON m.chat_id = c.id JOIN bot_users u ON u.id = m.user_id \
             WHERE c.bot_id = $1 AND m.created_at >= $2 AND m.created_at <= $3 \
             AND u.created_at < CASE WHEN (m.created_at / 86400000) * 86400000 < $2 THEN $2 \
             ELSE (m.created_at / 86400000) * 86400000 END \
             GROUP BY m.created_at / 86400000",
        );
        let mut days: std::collections::BTreeMap<i64, [i64; 5]> = std::collections::BTreeMap::new();
        let run = |query: sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>| {
            query.bind(bot).bind(since.millis()).bind(until.millis()).fetch_all(&self.read)
        };
        for r in run(messages).await.map_err(db)? {
            let day = days.entry(get(&r, "day")?).or_default();
            day[2] = get(&r, "sessions")?;
            day[3] = get(&r, "user_messages")?;
            day[4] = get(&r, "bot_messages")?;
        }
        for (query, slot) in [(new_users, 0), (returning, 1)] {
            for r in run(query).await.map_err(db)? {
                days.entry(get(&r, "day")?).or_default()[slot] = get(&r, "n")?;
            }
        }
        Ok(days.into_iter().collect())
    }
}

impl Store {
    async fn user_with_groups(&self, row: Option<AnyRow>) -> Result<Option<BotUser>> {
        let Some(row) = row else { return Ok(None) };
        let mut user = bot_user(&row)?;
        let groups = sqlx::query("SELECT name FROM bot_user_groups WHERE user_id = $1 ORDER BY name")
            .bind(user.id)
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        user.groups = groups.iter().map(|r| get(r, "name")).collect::<Result<_>>()?;
        Ok(Some(user))
    }
}

/// A user read with its groups in one query (a `LEFT JOIN` of `bot_user_groups` as `group_name`,
/// ordered by it): one row per group, or one row with no group.
/// Users read with their groups, ordered by user (one row per group, or one without): each user
/// and its first row.
fn users_with_groups<R: StoredRow>(rows: &[R]) -> Result<Vec<(BotUser, &R)>> {
    let mut users = Vec::new();
    for run in rows.chunk_by(|a, b| get::<i64>(a, "id").ok() == get::<i64>(b, "id").ok()) {
        if let Some(user) = user_and_groups(run)? {
            users.push((user, &run[0]));
        }
    }
    Ok(users)
}

fn user_and_groups(rows: &[impl StoredRow]) -> Result<Option<BotUser>> {
    let Some(first) = rows.first() else { return Ok(None) };
    let mut user = bot_user(first)?;
    for row in rows {
        if let Some(name) = get::<Option<String>>(row, "group_name")? {
            user.groups.push(name);
        }
    }
    Ok(Some(user))
}

/// Inserts a message on any executor (a pool or a transaction).
pub(crate) async fn insert_message<'e, E>(executor: E, m: &NewMessage) -> Result<ChatMessage>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let payload = to_json(&m.payload)?;
    let metadata = m.metadata.as_ref().map(to_json).transpose()?;
    let row = sqlx::query(
        "INSERT INTO messages (uid, bot_id, chat_id, user_id, payload, metadata, created_at, updated_at, external_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id",
    )
    .bind(&m.uid)
    .bind(m.bot)
    .bind(m.chat_id)
    .bind(m.user_id)
    .bind(payload)
    .bind(metadata)
    .bind(m.at.millis())
    .bind(&m.external_id)
    .fetch_one(executor)
    .await
    .map_err(|e| unique_or_db(e, "A message with this id already exists"))?;
    Ok(ChatMessage {
        id: get(&row, "id")?,
        uid: m.uid.clone(),
        bot_number: m.bot,
        chat_id: m.chat_id,
        user_id: m.user_id,
        payload: m.payload.clone(),
        metadata: m.metadata.clone(),
        created_at: m.at,
        updated_at: m.at,
    })
}

fn bot_user(r: &impl StoredRow) -> Result<BotUser> {
    Ok(BotUser {
        id: get(r, "id")?,
        bot_number: get(r, "bot_id")?,
        channel: Channel::parse(&get::<String>(r, "channel")?),
        external_id: get(r, "external_id")?,
        first_name: get(r, "first_name")?,
        last_name: get(r, "last_name")?,
        username: get(r, "username")?,
        picture_url: get(r, "picture_url")?,
        profile: get(r, "profile")?,
        groups: Vec::new(),
        created_at: Timestamp(get(r, "created_at")?),
        updated_at: Timestamp(get(r, "updated_at")?),
    })
}

pub(crate) fn chat(r: &impl StoredRow) -> Result<Chat> {
    Ok(Chat {
        id: get(r, "id")?,
        bot_number: get(r, "bot_id")?,
        channel: Channel::parse(&get::<String>(r, "channel")?),
        external_id: get(r, "external_id")?,
        chat_type: get(r, "chat_type")?,
        title: get(r, "title")?,
        owner_user: get(r, "owner_user_id")?,
        blocked: get::<i64>(r, "blocked")? != 0,
        bot_blocked: get::<i64>(r, "bot_blocked")? != 0,
        created_at: Timestamp(get(r, "created_at")?),
        updated_at: Timestamp(get(r, "updated_at")?),
    })
}

pub(crate) fn message(r: &impl StoredRow) -> Result<ChatMessage> {
    let payload: String = get(r, "payload")?;
    let metadata: Option<String> = get(r, "metadata")?;
    Ok(ChatMessage {
        id: get(r, "id")?,
        uid: get(r, "uid")?,
        bot_number: get(r, "bot_id")?,
        chat_id: get(r, "chat_id")?,
        user_id: get(r, "user_id")?,
        payload: json(&payload, "message payload")?,
        metadata: metadata.map(|m| json(&m, "message metadata")).transpose()?,
        created_at: Timestamp(get(r, "created_at")?),
        updated_at: Timestamp(get(r, "updated_at")?),
    })
}

impl Store {
    /// Finds each ask's user or chat and creates the missing ones — the first ask of each key, with
    /// `insert`'s rows and `ON CONFLICT DO NOTHING` — then reads those back; `true` for the first
    /// ask of a key created here.
    async fn upsert_many<A, T: Clone, Found>(
        &self,
        asks: &[A],
        key: impl Fn(&A) -> ExternalKey,
        find: impl Fn(Vec<ExternalKey>) -> Found,
        insert: impl FnOnce(&[&A]) -> SqlBuilder,
        what: &str,
    ) -> Result<Vec<(T, bool)>>
    where
        Found: std::future::Future<Output = Result<HashMap<ExternalKey, T>>>,
    {
        let mut found = find(asks.iter().map(&key).collect()).await?;
        let missing: Vec<_> =
            first_asks(asks, &key).into_iter().filter(|(k, _)| !found.contains_key(k)).collect();
        let mut created = std::collections::HashSet::new();
        if !missing.is_empty() {
            let rows: Vec<&A> = missing.iter().map(|(_, ask)| *ask).collect();
            let mut sql = insert(&rows);
            sql.push(" ON CONFLICT (bot_id, channel, external_id) DO NOTHING RETURNING bot_id, channel, external_id");
            for row in sql.fetch_all(&self.write).await? {
                let channel = Channel::parse(&get::<String>(&row, "channel")?);
                created.insert((get(&row, "bot_id")?, channel, get(&row, "external_id")?));
            }
            found.extend(find(missing.into_iter().map(|(k, _)| k).collect()).await?);
        }
        answers(asks, &key, &found, &created, what)
    }
}

/// External ids grouped by bot and channel, each once.
/// What `read` finds for `keys` (one read per bot and channel), by the key of each found.
async fn by_external_keys<T, R>(
    keys: &[ExternalKey],
    read: impl Fn(i64, Channel, Vec<String>) -> R,
    external_id: impl Fn(&T) -> &String,
) -> Result<HashMap<ExternalKey, T>>
where
    R: std::future::Future<Output = Result<Vec<T>>>,
{
    let mut found = HashMap::new();
    for ((bot, channel), ids) in by_bot_and_channel(keys) {
        for item in read(bot, channel, ids).await? {
            found.insert((bot, channel, external_id(&item).clone()), item);
        }
    }
    Ok(found)
}

fn by_bot_and_channel(keys: &[ExternalKey]) -> HashMap<(i64, Channel), Vec<String>> {
    let mut groups: HashMap<(i64, Channel), Vec<String>> = HashMap::new();
    for (bot, channel, id) in keys {
        let ids = groups.entry((*bot, *channel)).or_default();
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    groups
}
