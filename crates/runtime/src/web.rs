//! The web channel: what the Botpress-style Chat API (`/chat/{webhookId}`) and botyard's web chat
//! page do — users with keys, conversations with participants, messages in and out.

use std::sync::Arc;

use botyard_core::credentials;
use botyard_domain::bot::Bot;
use botyard_domain::conversation::{self, BotUser, Channel, Chat, ChatMessage, UserProfile};
use botyard_domain::{Error, ErrorCode, Result, Timestamp};
use botyard_store::{ChatKey, ConversationStore, NewMessage, Store};
use serde_json::{Map, Value};

use crate::batched::Batched;
use crate::hub::ChatEvent;
use crate::{Accept, Accepted, Arriving, Runtime, new_message_uid};

/// Prefix of the keys web chat users authenticate with (`x-user-key`).
const USER_KEY_PREFIX: &str = "byu_";
const ID_MAX_CHARS: usize = 100;
pub const PAGE: u32 = 50;

/// Checks an id a client chose for a user or a conversation.
fn check_id(what: &str, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.chars().count() <= ID_MAX_CHARS
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "Invalid {what} id \"{id}\": use 1 to {ID_MAX_CHARS} letters, digits, - and _"
        )))
    }
}

fn generated(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// The users (by key digest) and conversations (with whether the user takes part) that concurrent
/// Chat API requests ask for, each kind read with one query ([`Batched`]): every request reads
/// both, so under load they are the web chat's most frequent reads.
pub(crate) struct WebReads {
    users: Batched<String, Option<BotUser>>,
    conversations: Batched<ConversationAsk, Option<(Chat, bool)>>,
}

/// A conversation asked for by its bot, channel and id, and the user who must take part in it.
type ConversationAsk = (i64, Channel, String, i64);

impl WebReads {
    pub(crate) fn start(store: Store) -> Self {
        let users = {
            let store = store.clone();
            Batched::start_reads(store.reads_locally(), move |digests: Vec<String>| {
                let store = store.clone();
                async move { store.users_by_keys(&digests).await }
            })
        };
        let conversations = Batched::start_reads(store.reads_locally(), move |asks: Vec<ConversationAsk>| {
            let store = store.clone();
            async move { store.chats_with_participants(&asks).await }
        });
        Self { users, conversations }
    }
}

impl Runtime {
    /// The bot whose web channel has this webhook id.
    pub async fn web_bot(&self, webhook: &str) -> Result<Bot> {
        self.services().bot_by_web_channel(webhook).await?.ok_or_else(|| Error::not_found("Webhook"))
    }

    /// Creates a user and the key they authenticate with (shown once).
    pub async fn web_create_user(
        &self,
        bot: &Bot,
        id: Option<&str>,
        profile: &UserProfile,
    ) -> Result<(BotUser, String)> {
        let id = match id {
            Some(id) => {
                check_id("user", id)?;
                id.to_owned()
            }
            None => generated("user"),
        };
        let key = credentials::random_token(USER_KEY_PREFIX);
        let user = self
            .store()
            .create_key_user(bot.number, &id, profile, &credentials::digest(&key), Timestamp::now())
            .await?;
        Ok((user, key))
    }

    /// The user presenting `key`; `Unauthorized` when it is missing or unknown.
    pub async fn web_authenticate(&self, bot: &Bot, key: Option<&str>) -> Result<BotUser> {
        let key = key.ok_or_else(|| Error::unauthorized("The x-user-key header is required"))?;
        if !credentials::well_formed(key, USER_KEY_PREFIX) {
            return Err(Error::unauthorized("The user key is invalid"));
        }
        self.inner
            .web_reads
            .users
            .get(credentials::digest(key))
            .await?
            .filter(|user| user.bot_number == bot.number)
            .ok_or_else(|| Error::unauthorized("The user key is invalid"))
    }

    /// The id a user of the bot is known by in the Chat API.
    pub async fn web_user_external_id(&self, bot: &Bot, user: i64) -> Result<Option<String>> {
        Ok(self.store().bot_user(bot.number, user).await?.map(|u| u.external_id))
    }

    /// The web chat user presenting `key`, whichever bot they belong to (rate limits, which hand
    /// it on to the request's [`web_authenticate`](Self::web_authenticate)).
    pub async fn web_user_of_key(&self, key: &str) -> Result<Option<BotUser>> {
        if !credentials::well_formed(key, USER_KEY_PREFIX) {
            return Ok(None);
        }
        self.inner.web_reads.users.get(credentials::digest(key)).await
    }

    pub async fn web_update_user(&self, user: &BotUser, profile: &UserProfile) -> Result<BotUser> {
        let store = &self.store();
        store.update_bot_user(user.id, profile, Timestamp::now()).await?;
        store.bot_user(user.bot_number, user.id).await?.ok_or_else(|| Error::not_found("User"))
    }

    pub async fn web_delete_user(&self, user: &BotUser) -> Result<()> {
        self.store().delete_bot_user(user.bot_number, user.id).await?;
        Ok(())
    }

    /// Creates a conversation with the user as its first participant.
    pub async fn web_create_conversation(&self, bot: &Bot, user: &BotUser, id: Option<&str>) -> Result<Chat> {
        let id = match id {
            Some(id) => {
                check_id("conversation", id)?;
                id.to_owned()
            }
            None => generated("conv"),
        };
        let store = &self.store();
        let now = Timestamp::now();
        let key = ChatKey { bot: bot.number, channel: Channel::Web, external_id: &id };
        let chat = store.create_chat(&key, "private", Some(user.id), now).await?;
        store.add_participant(chat.id, user.id, now).await?;
        Ok(chat)
    }

    /// The conversation with this id if the user takes part in it, or a new one.
    pub async fn web_get_or_create_conversation(&self, bot: &Bot, user: &BotUser, id: &str) -> Result<Chat> {
        check_id("conversation", id)?;
        let key = ChatKey { bot: bot.number, channel: Channel::Web, external_id: id };
        match self.store().chat_by_external(&key).await? {
            Some(_) => self.web_conversation(bot, user, id).await,
            None => match self.web_create_conversation(bot, user, Some(id)).await {
                Err(e) if e.code == ErrorCode::AlreadyExists => self.web_conversation(bot, user, id).await,
                other => other,
            },
        }
    }

    /// A conversation the user takes part in.
    pub async fn web_conversation(&self, bot: &Bot, user: &BotUser, id: &str) -> Result<Chat> {
        let ask = (bot.number, Channel::Web, id.to_owned(), user.id);
        match self.inner.web_reads.conversations.get(ask).await? {
            None => Err(Error::not_found("Conversation")),
            Some((_, false)) => Err(Error::forbidden("You are not a participant of this conversation")),
            Some((chat, true)) => Ok(chat),
        }
    }

    pub async fn web_conversations(&self, user: &BotUser, after: i64) -> Result<Vec<Chat>> {
        self.store().chats_of_user(user.id, after, PAGE).await
    }

    pub async fn web_delete_conversation(&self, bot: &Bot, user: &BotUser, id: &str) -> Result<()> {
        let chat = self.web_conversation(bot, user, id).await?;
        self.store().delete_chat(bot.number, chat.id).await?;
        Ok(())
    }

    /// Adds another user of the bot to the conversation.
    pub async fn web_add_participant(
        &self,
        bot: &Bot,
        user: &BotUser,
        conversation: &str,
        participant: &str,
    ) -> Result<BotUser> {
        let chat = self.web_conversation(bot, user, conversation).await?;
        let store = &self.store();
        let other = store
            .bot_user_by_external(bot.number, Channel::Web, participant)
            .await?
            .ok_or_else(|| Error::not_found("User"))?;
        store.add_participant(chat.id, other.id, Timestamp::now()).await?;
        Ok(other)
    }

    pub async fn web_remove_participant(
        &self,
        bot: &Bot,
        user: &BotUser,
        conversation: &str,
        participant: &str,
    ) -> Result<()> {
        let chat = self.web_conversation(bot, user, conversation).await?;
        let store = &self.store();
        let other = store
            .bot_user_by_external(bot.number, Channel::Web, participant)
            .await?
            .ok_or_else(|| Error::not_found("Participant"))?;
        if chat.owner_user == Some(other.id) {
            return Err(Error::invalid("The conversation's owner cannot be removed"));
        }
        if !store.remove_participant(chat.id, other.id).await? {
            return Err(Error::not_found("Participant"));
        }
        Ok(())
    }

    pub async fn web_participant(
        &self,
        bot: &Bot,
        user: &BotUser,
        conversation: &str,
        participant: &str,
    ) -> Result<BotUser> {
        let chat = self.web_conversation(bot, user, conversation).await?;
        let found = self.store().participants(chat.id).await?;
        found
            .into_iter()
            .find(|u| u.external_id == participant)
            .ok_or_else(|| Error::not_found("Participant"))
    }

    pub async fn web_participants(
        &self,
        bot: &Bot,
        user: &BotUser,
        conversation: &str,
    ) -> Result<Vec<BotUser>> {
        let chat = self.web_conversation(bot, user, conversation).await?;
        self.store().participants(chat.id).await
    }

    /// Stores a user's message, shows it to the conversation's listeners and hands it to the bot.
    pub async fn web_create_message(
        &self,
        bot: &Bot,
        user: &BotUser,
        conversation: &str,
        payload: Value,
        metadata: Option<Map<String, Value>>,
    ) -> Result<ChatMessage> {
        conversation::check_user_payload(&payload)?;
        let chat = self.web_conversation(bot, user, conversation).await?;
        let processes = bot.accepts_messages() && !chat.blocked;
        let (chat_id, chat_blocked) = (chat.id, chat.blocked);
        if processes {
            self.allowance(bot, chat.id, Some(user.id)).await?;
        }
        let new = NewMessage {
            uid: new_message_uid(),
            bot: bot.number,
            chat_id: chat.id,
            user_id: Some(user.id),
            payload,
            metadata,
            at: Timestamp::now(),
            external_id: None,
        };
        let message = if processes {
            let accepted = self
                .accept(Accept {
                    bot: bot.number,
                    chat,
                    user: Some(user.clone()),
                    chat_created: false,
                    user_created: false,
                    what: Arriving::Message(new),
                    telegram_update: None,
                    bounded: true,
                })
                .await?;
            match accepted {
                Accepted::Queued(Some(message)) => *message,
                _ => return Err(Error::internal("a web message was not stored")),
            }
        } else {
            self.store().insert_message(&new).await?
        };
        self.publish(ChatEvent::Created(Arc::new(message.clone()))).await;
        if !bot.accepts_messages() && !chat_blocked {
            self.tell_not_running(bot, chat_id, Some(user.id)).await?;
        }
        Ok(message)
    }

    /// Hands an event to the bot: a press of an inline button (`{type: "callback", data,
    /// messageId}`) runs its command; any other type runs the bot's `on(type)` handlers.
    pub async fn web_create_event(
        &self,
        bot: &Bot,
        user: &BotUser,
        conversation: &str,
        payload: Value,
    ) -> Result<()> {
        let chat = self.web_conversation(bot, user, conversation).await?;
        let name = payload.get("type").and_then(Value::as_str).unwrap_or("event").to_owned();
        if name.is_empty() || name.len() > 200 {
            return Err(Error::invalid("payload.type must be 1 to 200 characters"));
        }
        if serde_json::to_string(&payload).map(|s| s.len()).unwrap_or(usize::MAX)
            > conversation::PAYLOAD_MAX_BYTES
        {
            return Err(Error::limit("The event payload is larger than 128 KB"));
        }
        if chat.blocked {
            return Ok(());
        }
        if !bot.accepts_messages() {
            return self.tell_not_running(bot, chat.id, Some(user.id)).await;
        }
        self.allowance(bot, chat.id, Some(user.id)).await?;
        let what = if name == "callback" {
            let data = payload
                .get("data")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::invalid("A callback needs data"))?;
            let message = match payload.get("messageId").and_then(Value::as_str) {
                Some(uid) => self.store().message(bot.number, uid).await?.filter(|m| m.chat_id == chat.id),
                None => None,
            };
            Arriving::Button { data: data.to_owned(), message, callback: None }
        } else {
            Arriving::Event { name, payload }
        };
        self.accept(Accept {
            bot: bot.number,
            chat,
            user: Some(user.clone()),
            chat_created: false,
            user_created: false,
            what,
            telegram_update: None,
            bounded: true,
        })
        .await?;
        Ok(())
    }

    /// A message of a conversation the user takes part in.
    pub async fn web_message(&self, bot: &Bot, user: &BotUser, uid: &str) -> Result<ChatMessage> {
        let store = &self.store();
        let message = store.message(bot.number, uid).await?.ok_or_else(|| Error::not_found("Message"))?;
        if !store.is_participant(message.chat_id, user.id).await? {
            return Err(Error::forbidden("You are not a participant of this conversation"));
        }
        Ok(message)
    }

    pub async fn web_messages(
        &self,
        bot: &Bot,
        user: &BotUser,
        conversation: &str,
        after: i64,
    ) -> Result<Vec<ChatMessage>> {
        let chat = self.web_conversation(bot, user, conversation).await?;
        self.store().messages(chat.id, after, PAGE).await
    }

    pub async fn web_delete_message(&self, bot: &Bot, user: &BotUser, uid: &str) -> Result<()> {
        let message = self.web_message(bot, user, uid).await?;
        if message.user_id != Some(user.id) {
            return Err(Error::forbidden("You can only delete your own messages"));
        }
        self.store().delete_message(bot.number, uid).await?;
        self.publish(ChatEvent::Deleted {
            uid: uid.to_owned(),
            chat_id: message.chat_id,
            user_id: message.user_id,
        })
        .await;
        Ok(())
    }

    /// The id of the conversation a message belongs to, for the Chat API.
    pub async fn web_conversation_of(&self, bot: &Bot, message: &ChatMessage) -> Result<String> {
        let chat = self.store().chat(bot.number, message.chat_id).await?;
        Ok(chat.map(|c| c.external_id).unwrap_or_default())
    }

    /// The external id of a message's author, for the Chat API (`userId`): the bot's id for bot
    /// messages.
    pub async fn web_author(&self, bot: &Bot, message: &ChatMessage) -> Result<String> {
        match message.user_id {
            None => Ok(bot.id.to_string()),
            Some(id) => {
                Ok(self.store().bot_user(bot.number, id).await?.map(|u| u.external_id).unwrap_or_default())
            }
        }
    }
}

/// What the sender of a message to a bot that does not run is told.
pub const NOT_RUNNING: &str = "This bot is not running: its owner has stopped it, so it cannot answer now.";

impl Runtime {
    /// Tells the sender that the bot does not run (a message in the chat) and the owner why
    /// nothing answered (an error log entry): a message is never dropped in silence.
    pub(crate) async fn tell_not_running(&self, bot: &Bot, chat: i64, user: Option<i64>) -> Result<()> {
        let why = if bot.definition.blocked { "blocked" } else { "stopped" };
        let now = Timestamp::now();
        let effects = botyard_domain::effects::RunEffects {
            bot: bot.number,
            messages: vec![botyard_domain::effects::OutgoingMessage {
                uid: new_message_uid(),
                chat_id: chat,
                payload: conversation::bot_payload(NOT_RUNNING, None)?,
                metadata: None,
                at: now,
            }],
            error: Some(botyard_domain::effects::ErrorEntry {
                command: None,
                title: format!(
                    "A message arrived while the bot was {why}; the sender was told it is not running"
                ),
                stack_trace: String::new(),
                chat_id: Some(chat),
                user_id: user,
                at: now,
            }),
            ..Default::default()
        };
        crate::run::commit(self, bot, effects).await.map(|_| ())
    }
}
