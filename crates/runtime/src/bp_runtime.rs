//! Botpress's runtime API, as a bot calls it with its own credentials: its conversations, users,
//! messages, events and states, over the same chats, users and messages as the Chat API and the
//! web chat — so a conversation a user started in the web chat is the one the bot reads and
//! writes. Ids are the Chat API's: a conversation's id, a user's id, a message's id; the bot's
//! own messages carry the bot's id as `userId`.
//!
//! A message the bot creates is committed at once, like a run's message (it reaches the chat's
//! listeners and, on Telegram, the outbox); a message created for a user is accepted like one
//! the user sent. States are kept per bot, type (`conversation`, `user`, `bot`), owner and name.

use botyard_domain::access::Permission;
use botyard_domain::bot::Bot;
use botyard_domain::conversation::{self, BotUser, Channel, Chat, ChatMessage, UserProfile};
use botyard_domain::effects::{OutgoingMessage, RunEffects};
use botyard_domain::{BotRef, Error, Result, Timestamp};
pub use botyard_store::StateRecord;
use botyard_store::{ChatKey, ConversationStore, StateKey, StateStore, TagStore};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::{Arriving, Runtime, new_message_uid};

/// The largest state payload, serialised.
pub const STATE_MAX_BYTES: usize = 128 * 1024;
/// The longest state name.
const STATE_NAME_MAX: usize = 200;
/// The page size of listings.
const PAGE: u32 = 100;
/// Tags per user, conversation or message, and their lengths (Botpress's limits).
const TAGS_MAX: usize = 50;
const TAG_KEY_MAX: usize = 100;
const TAG_VALUE_MAX: usize = 500;

/// What carries tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagged {
    User,
    Conversation,
    Message,
}

impl Tagged {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Conversation => "conversation",
            Self::Message => "message",
        }
    }
}

/// Checks tags as Botpress takes them: string values (`null` or `""` delete on an update).
pub fn tag_pairs(tags: &Map<String, Value>) -> Result<Vec<(String, String)>> {
    if tags.len() > TAGS_MAX {
        return Err(Error::limit(format!("At most {TAGS_MAX} tags")));
    }
    tags.iter()
        .map(|(key, value)| {
            if key.is_empty() || key.chars().count() > TAG_KEY_MAX {
                return Err(Error::invalid(format!("A tag's name must be 1 to {TAG_KEY_MAX} characters")));
            }
            let value = match value {
                Value::String(v) => v.clone(),
                Value::Null => String::new(),
                _ => return Err(Error::invalid(format!("Tag \"{key}\" must be a string"))),
            };
            if value.chars().count() > TAG_VALUE_MAX {
                return Err(Error::invalid(format!(
                    "Tag \"{key}\" may be at most {TAG_VALUE_MAX} characters"
                )));
            }
            botyard_domain::text::refuse_nul("a tag", &value)?;
            Ok((key.clone(), value))
        })
        .collect()
}

/// Who a state belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateType {
    Conversation,
    User,
    Bot,
}

impl StateType {
    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "conversation" => Ok(Self::Conversation),
            "user" => Ok(Self::User),
            "bot" => Ok(Self::Bot),
            other => {
                Err(Error::invalid(format!("State type must be conversation, user or bot, not \"{other}\"")))
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conversation => "conversation",
            Self::User => "user",
            Self::Bot => "bot",
        }
    }
}

/// A message for `createMessage` / `getOrCreateMessage`.
#[derive(Debug, Clone)]
pub struct NewRuntimeMessage {
    /// The author's id: the bot's own id, or a user's.
    pub author: String,
    pub conversation: String,
    /// The message type (`text`, `choice`, …) and its payload.
    pub kind: String,
    pub payload: Map<String, Value>,
    pub tags: Map<String, Value>,
}

/// How a state is written.
#[derive(Debug, Clone, Default)]
pub struct StateWrite {
    /// The new payload; `None` deletes the state.
    pub payload: Option<Value>,
    /// Milliseconds from now until the state expires.
    pub expiry_ms: Option<i64>,
    /// Write only when there is no (unexpired) state: `getOrSetState`.
    pub only_if_absent: bool,
}

/// A message as the runtime API shows it: the stored message, its conversation's id and its
/// author's id (the bot's id for the bot's messages).
#[derive(Debug, Clone)]
pub struct RuntimeMessage {
    pub message: ChatMessage,
    pub conversation: String,
    pub author: String,
}

impl Runtime {
    /// The bot a runtime API call acts for (`x-bot-id`), when `token` is the bot's runtime token
    /// or the API key or session of an account that may change the bot.
    pub async fn bp_authenticate(&self, token: &str, bot_id: &str) -> Result<Bot> {
        let unknown = || Error::not_found("Bot");
        let bot_ref = BotRef::parse(bot_id).map_err(|_| unknown())?;
        let services = self.services();
        let bot = services.find_bot(&bot_ref).await?.ok_or_else(unknown)?;
        if bool::from(crate::remote::runtime_token(&bot).as_bytes().ct_eq(token.as_bytes())) {
            return Ok(bot);
        }
        let caller = services
            .authenticate_bearer(token)
            .await?
            .ok_or_else(|| Error::unauthorized("The provided token is invalid or has been revoked"))?;
        let access = services.bot_access(&caller, &BotRef::Id(bot.id.clone())).await?;
        access.role.require(Permission::ChangeBots)?;
        Ok(access.bot)
    }

    /// A web chat conversation of the bot by its Chat API id.
    pub async fn bp_conversation(&self, bot: &Bot, id: &str) -> Result<Chat> {
        let key = ChatKey { bot: bot.number, channel: Channel::Web, external_id: id };
        self.store().chat_by_external(&key).await?.ok_or_else(|| Error::not_found("Conversation"))
    }

    /// A user of the bot by their Chat API id.
    pub async fn bp_user(&self, bot: &Bot, id: &str) -> Result<BotUser> {
        self.store()
            .bot_user_by_external(bot.number, Channel::Web, id)
            .await?
            .ok_or_else(|| Error::not_found("User"))
    }

    /// Creates a user of the bot (a new Chat API id) with its tags.
    pub async fn bp_create_user(
        &self,
        bot: &Bot,
        profile: UserProfile,
        tags: &Map<String, Value>,
    ) -> Result<BotUser> {
        tag_pairs(tags)?;
        let id = uuid::Uuid::now_v7().to_string();
        let (user, _) =
            self.store().upsert_user(bot.number, Channel::Web, &id, &profile, Timestamp::now()).await?;
        self.bp_set_tags(bot, Tagged::User, &user.external_id, tags).await?;
        Ok(user)
    }

    /// The user whose tags match (`getOrCreateUser`), or a new one; whether it was created.
    pub async fn bp_get_or_create_user(
        &self,
        bot: &Bot,
        profile: UserProfile,
        tags: &Map<String, Value>,
        discriminate_by: Option<&[String]>,
    ) -> Result<(BotUser, bool)> {
        let wanted = discriminating(tags, discriminate_by)?;
        if let Some(id) = self.bp_find_tagged(bot, Tagged::User, &wanted).await? {
            return Ok((self.bp_user(bot, &id).await?, false));
        }
        Ok((self.bp_create_user(bot, profile, tags).await?, true))
    }

    /// Creates a conversation of the bot (a new Chat API id), without participants, with its tags.
    pub async fn bp_create_conversation(&self, bot: &Bot, tags: &Map<String, Value>) -> Result<Chat> {
        tag_pairs(tags)?;
        let id = format!("conv_{}", uuid::Uuid::now_v7().simple());
        let key = ChatKey { bot: bot.number, channel: Channel::Web, external_id: &id };
        let chat = self.store().create_chat(&key, "private", None, Timestamp::now()).await?;
        self.bp_set_tags(bot, Tagged::Conversation, &chat.external_id, tags).await?;
        Ok(chat)
    }

    /// The conversation whose tags match (`getOrCreateConversation`), or a new one; whether it
    /// was created.
    pub async fn bp_get_or_create_conversation(
        &self,
        bot: &Bot,
        tags: &Map<String, Value>,
        discriminate_by: Option<&[String]>,
    ) -> Result<(Chat, bool)> {
        let wanted = discriminating(tags, discriminate_by)?;
        if let Some(id) = self.bp_find_tagged(bot, Tagged::Conversation, &wanted).await? {
            return Ok((self.bp_conversation(bot, &id).await?, false));
        }
        Ok((self.bp_create_conversation(bot, tags).await?, true))
    }

    pub async fn bp_participants(&self, bot: &Bot, conversation: &str) -> Result<Vec<BotUser>> {
        let chat = self.bp_conversation(bot, conversation).await?;
        self.store().participants(chat.id).await
    }

    pub async fn bp_add_participant(&self, bot: &Bot, conversation: &str, user: &str) -> Result<BotUser> {
        let chat = self.bp_conversation(bot, conversation).await?;
        let user = self.bp_user(bot, user).await?;
        self.store().add_participant(chat.id, user.id, Timestamp::now()).await?;
        Ok(user)
    }

    /// Creates a message with its tags (`createMessage`); stored as the Chat API stores it, the
    /// type beside the payload's fields.
    pub async fn bp_create_message(&self, bot: &Bot, new: NewRuntimeMessage) -> Result<RuntimeMessage> {
        tag_pairs(&new.tags)?;
        let mut payload = new.payload;
        payload.insert("type".into(), Value::String(new.kind));
        let created =
            self.bp_post_message(bot, &new.author, &new.conversation, Value::Object(payload)).await?;
        self.bp_set_tags(bot, Tagged::Message, &created.message.uid, &new.tags).await?;
        Ok(created)
    }

    /// The message whose tags match (`getOrCreateMessage`), or a new one; whether it was created.
    pub async fn bp_get_or_create_message(
        &self,
        bot: &Bot,
        new: NewRuntimeMessage,
        discriminate_by: Option<&[String]>,
    ) -> Result<(RuntimeMessage, bool)> {
        let wanted = discriminating(&new.tags, discriminate_by)?;
        if let Some(id) = self.bp_find_tagged(bot, Tagged::Message, &wanted).await? {
            return Ok((self.bp_message(bot, &id).await?, false));
        }
        Ok((self.bp_create_message(bot, new).await?, true))
    }

    /// Posts a message in a conversation: the bot's own when `author` is the bot's id (sent to
    /// the chat's listeners and channels at once), otherwise a participant's, handed to the bot
    /// like a message the user sent.
    async fn bp_post_message(
        &self,
        bot: &Bot,
        author: &str,
        conversation: &str,
        payload: Value,
    ) -> Result<RuntimeMessage> {
        let chat = self.bp_conversation(bot, conversation).await?;
        if author == bot.id.to_string() {
            conversation::check_user_payload(&payload)?;
            let effects = RunEffects {
                bot: bot.number,
                workspace: Some(bot.workspace_id.clone()),
                messages: vec![OutgoingMessage {
                    uid: new_message_uid(),
                    chat_id: chat.id,
                    payload,
                    metadata: None,
                    at: Timestamp::now(),
                }],
                ..RunEffects::default()
            };
            let done = crate::run::commit(self, bot, effects)
                .await?
                .ok_or_else(|| Error::internal("a bot message was not committed"))?;
            let message = done
                .messages
                .into_iter()
                .next()
                .ok_or_else(|| Error::internal("a bot message was not stored"))?;
            return Ok(RuntimeMessage { message, conversation: chat.external_id, author: author.to_owned() });
        }
        let user = self.bp_user(bot, author).await?;
        if !self.store().is_participant(chat.id, user.id).await? {
            self.store().add_participant(chat.id, user.id, Timestamp::now()).await?;
        }
        let message = self.web_create_message(bot, &user, conversation, payload, None).await?;
        Ok(RuntimeMessage { message, conversation: chat.external_id, author: user.external_id })
    }

    /// A message of the bot by its id, with its conversation's and author's ids.
    pub async fn bp_message(&self, bot: &Bot, id: &str) -> Result<RuntimeMessage> {
        let message =
            self.store().message(bot.number, id).await?.ok_or_else(|| Error::not_found("Message"))?;
        self.bp_view(bot, message).await
    }

    /// The newest messages of a conversation (up to a page), oldest first.
    pub async fn bp_messages(
        &self,
        bot: &Bot,
        conversation: &str,
        after: i64,
    ) -> Result<Vec<RuntimeMessage>> {
        let chat = self.bp_conversation(bot, conversation).await?;
        let messages = self.store().messages(chat.id, after, PAGE).await?;
        let mut out = Vec::with_capacity(messages.len());
        for message in messages {
            out.push(self.bp_view(bot, message).await?);
        }
        Ok(out)
    }

    pub(crate) async fn bp_view(&self, bot: &Bot, message: ChatMessage) -> Result<RuntimeMessage> {
        let conversation = self.web_conversation_of(bot, &message).await?;
        let author = self.web_author(bot, &message).await?;
        Ok(RuntimeMessage { message, conversation, author })
    }

    /// Hands a custom event to the bot in a conversation (its handlers for the type run).
    pub async fn bp_create_event(
        &self,
        bot: &Bot,
        conversation: &str,
        name: String,
        payload: Value,
    ) -> Result<()> {
        let chat = self.bp_conversation(bot, conversation).await?;
        self.accept(crate::Accept {
            bot: bot.number,
            chat,
            user: None,
            chat_created: false,
            user_created: false,
            what: Arriving::Event { name, payload },
            telegram_update: None,
            bounded: true,
        })
        .await?;
        Ok(())
    }

    /// The state, if it is set and not expired.
    pub async fn bp_state(
        &self,
        bot: &Bot,
        kind: StateType,
        owner: &str,
        name: &str,
    ) -> Result<Option<StateRecord>> {
        self.check_owner(bot, kind, owner).await?;
        check_state_name(name)?;
        let key = StateKey { bot: bot.number, state_type: kind.as_str(), owner, name };
        self.store().state(key, Timestamp::now()).await
    }

    /// Writes the state as `write` says (a `None` payload deletes it).
    pub async fn bp_set_state(
        &self,
        bot: &Bot,
        kind: StateType,
        owner: &str,
        name: &str,
        write: StateWrite,
    ) -> Result<Option<StateRecord>> {
        let StateWrite { payload, expiry_ms, only_if_absent } = write;
        self.check_owner(bot, kind, owner).await?;
        check_state_name(name)?;
        let key = StateKey { bot: bot.number, state_type: kind.as_str(), owner, name };
        let Some(payload) = payload else {
            self.store().delete_state(key).await?;
            return Ok(None);
        };
        check_state_payload(&payload)?;
        let now = Timestamp::now();
        let expires = expiry_ms.filter(|ms| *ms > 0).map(|ms| now.plus_millis(ms));
        let stored = if only_if_absent {
            self.store().get_or_set_state(key, &payload, expires, now).await?
        } else {
            self.store().set_state(key, &payload, expires, now).await?
        };
        Ok(Some(stored))
    }

    /// Merges `patch` into the state's payload (top-level keys), as `patchState` does.
    pub async fn bp_patch_state(
        &self,
        bot: &Bot,
        kind: StateType,
        owner: &str,
        name: &str,
        patch: Map<String, Value>,
    ) -> Result<StateRecord> {
        let current =
            self.bp_state(bot, kind, owner, name).await?.ok_or_else(|| Error::not_found("State"))?;
        let mut payload = match current.payload {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        payload.extend(patch);
        let remaining = current.expires_at.map(|at| (at.millis() - Timestamp::now().millis()).max(1));
        let write =
            StateWrite { payload: Some(Value::Object(payload)), expiry_ms: remaining, only_if_absent: false };
        self.bp_set_state(bot, kind, owner, name, write)
            .await?
            .ok_or_else(|| Error::internal("a patched state is missing"))
    }

    /// The tags of a user, conversation or message.
    pub async fn bp_tags(&self, bot: &Bot, kind: Tagged, id: &str) -> Result<Map<String, Value>> {
        let tags = self.store().tags(bot.number, kind.as_str(), id).await?;
        Ok(tags.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    }

    /// Sets tags (an empty or `null` value deletes the tag).
    pub async fn bp_set_tags(
        &self,
        bot: &Bot,
        kind: Tagged,
        id: &str,
        tags: &Map<String, Value>,
    ) -> Result<()> {
        let pairs = tag_pairs(tags)?;
        if pairs.is_empty() {
            return Ok(());
        }
        self.store().set_tags(bot.number, kind.as_str(), id, &pairs).await
    }

    /// The id of an entity carrying every tag of `wanted` (Botpress's `discriminateByTags`).
    async fn bp_find_tagged(
        &self,
        bot: &Bot,
        kind: Tagged,
        wanted: &[(String, String)],
    ) -> Result<Option<String>> {
        let Some((first_key, first_value)) = wanted.iter().find(|(_, v)| !v.is_empty()) else {
            return Ok(None);
        };
        let candidates = self.store().tagged(bot.number, kind.as_str(), first_key, first_value, PAGE).await?;
        for id in candidates {
            let tags = self.store().tags(bot.number, kind.as_str(), &id).await?;
            if wanted.iter().all(|(k, v)| tags.iter().any(|(tk, tv)| tk == k && tv == v)) {
                let exists = match kind {
                    Tagged::User => self.bp_user(bot, &id).await.is_ok(),
                    Tagged::Conversation => self.bp_conversation(bot, &id).await.is_ok(),
                    Tagged::Message => self.store().message(bot.number, &id).await?.is_some(),
                };
                if exists {
                    return Ok(Some(id));
                }
            }
        }
        Ok(None)
    }

    /// A state's owner must be a conversation or user of the bot, or the bot itself.
    async fn check_owner(&self, bot: &Bot, kind: StateType, owner: &str) -> Result<()> {
        match kind {
            StateType::Conversation => self.bp_conversation(bot, owner).await.map(|_| ()),
            StateType::User => self.bp_user(bot, owner).await.map(|_| ()),
            StateType::Bot if owner == bot.id.to_string() => Ok(()),
            StateType::Bot => Err(Error::not_found("Bot")),
        }
    }
}

/// The tags that identify an entity for `getOrCreate…`: those `discriminateByTags` names (all
/// given tags when absent); at least one with a value is needed.
fn discriminating(tags: &Map<String, Value>, names: Option<&[String]>) -> Result<Vec<(String, String)>> {
    let pairs = tag_pairs(tags)?;
    let wanted: Vec<(String, String)> = match names {
        Some(names) => pairs.into_iter().filter(|(k, _)| names.contains(k)).collect(),
        None => pairs,
    };
    if wanted.iter().all(|(_, v)| v.is_empty()) {
        return Err(Error::invalid("getOrCreate needs tags with values to find the existing one by"));
    }
    Ok(wanted)
}

fn check_state_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > STATE_NAME_MAX {
        return Err(Error::invalid(format!("A state's name must be 1 to {STATE_NAME_MAX} characters")));
    }
    Ok(())
}

fn check_state_payload(payload: &Value) -> Result<()> {
    if !payload.is_object() {
        return Err(Error::invalid("A state's payload must be an object"));
    }
    let size = serde_json::to_string(payload).map(|s| s.len()).unwrap_or(usize::MAX);
    if size > STATE_MAX_BYTES {
        return Err(Error::limit(format!("A state's payload may be at most {} KB", STATE_MAX_BYTES / 1024)));
    }
    if botyard_domain::text::json_has_nul(serde_json::to_string(payload).unwrap_or_default().as_bytes()) {
        return Err(Error::invalid("A state's payload may not contain NUL characters"));
    }
    Ok(())
}
