//! Webhook URLs of Bots.Business's Webhooks library: `<BB_API_URL>/v1/bots/{bot}/new-webhook?
//! command=…&user_id=…&public_user_token=…&content=…&redirect_to=…`. A call runs the named command
//! with `content` (the posted body, or the `content` parameter) and `options = {url, method,
//! params, headers, ip}` — for the user the URL was made for, in that user's latest chat, or for
//! the bot outside any chat.
//!
//! The URL is authorised as the library signs it: `public_user_token` is the MD5 of
//! `"<bot.token>-<user_id>-<command> Salt is very salty!"` (so the user and command cannot be
//! changed), or a global URL carries the API key of an account allowed to change the bot.

use botyard_domain::bot::Bot;
use botyard_domain::matching::CommandSet;
use botyard_domain::{Error, Result};
use botyard_store::ConversationStore;
use md5::{Digest, Md5};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

use crate::Runtime;
use crate::inbox::{Accept, Arriving};

/// The most of a webhook's content a run is given.
pub const CONTENT_MAX_BYTES: usize = 64 * 1024;

/// One call of a webhook URL, as received.
#[derive(Debug, Clone)]
pub struct WebhookCall {
    pub command: String,
    /// `user_id` as it appears in the URL (the user's botyard number, or empty).
    pub user_id: String,
    pub public_user_token: Option<String>,
    /// The API key a global URL carries (it must belong to an account that may change the bot).
    pub api_key: Option<String>,
    pub content: String,
    /// `{url, method, params, headers, ip}` for the run's `options`.
    pub options: Value,
}

/// The token the Webhooks library puts in a user's URL.
pub fn public_user_token(bot: &Bot, user_id: &str, command: &str) -> String {
    // As the library computes it in JavaScript: a bot without a token reads as "null".
    let token = bot.telegram_token.as_deref().unwrap_or("null");
    hex::encode(Md5::digest(format!("{token}-{user_id}-{command} Salt is very salty!").as_bytes()))
}

impl Runtime {
    /// Runs the command a webhook URL names, after checking the URL's authorisation.
    /// Answers with what the run rendered, or `{"answer": <its last message>}`.
    pub async fn webhook(&self, bot: &Bot, call: WebhookCall) -> Result<crate::incoming::Rendered> {
        let signed = call.public_user_token.as_deref().is_some_and(|given| {
            let expected = public_user_token(bot, &call.user_id, &call.command);
            bool::from(expected.as_bytes().ct_eq(given.to_ascii_lowercase().as_bytes()))
        });
        if !signed && !self.api_key_may_change(bot, call.api_key.as_deref()).await? {
            return Err(Error::unauthorized("The webhook URL's public_user_token or api_key is not valid"));
        }
        if call.content.len() > CONTENT_MAX_BYTES {
            return Err(Error::limit(format!(
                "A webhook's content may be at most {} KiB",
                CONTENT_MAX_BYTES / 1024
            )));
        }
        let commands = self.services().bot_commands(bot.number).await?;
        if CommandSet::new(&commands).lookup(&call.command).is_none() {
            return Err(Error::new(
                botyard_domain::ErrorCode::NotFound,
                format!("Command not found: {}", call.command),
            ));
        }
        let store = self.store();
        let user = match call.user_id.trim().parse::<i64>() {
            Ok(id) => store.bot_user(bot.number, id).await?,
            Err(_) => None,
        };
        let chat = match &user {
            Some(user) => {
                store.chats_of_user(user.id, 0, 100).await?.into_iter().max_by_key(|c| c.updated_at)
            }
            None => None,
        };
        let (chat, chat_created) = match chat {
            Some(chat) => (chat, false),
            None => self.system_chat(bot.number).await?,
        };
        let mut globals = Map::new();
        globals.insert("content".into(), Value::String(call.content));
        let (reply, replied) = crate::incoming::ReplyHook::new();
        let accept = Accept {
            bot: bot.number,
            chat,
            user,
            chat_created,
            user_created: false,
            what: Arriving::Command { text: call.command, options: call.options, globals },
            telegram_update: None,
            bounded: true,
        };
        self.accept_waiting(accept, Some(reply)).await?;
        crate::web_app::answer_of(self, replied).await
    }
}

impl Runtime {
    /// Whether `key` is the API key of an account that may change the bot.
    async fn api_key_may_change(&self, bot: &Bot, key: Option<&str>) -> Result<bool> {
        let Some(key) = key else { return Ok(false) };
        let Some(caller) = self.services().authenticate_api_key(key).await? else { return Ok(false) };
        let access = self.services().bot_access(&caller, &botyard_domain::BotRef::Number(bot.number)).await;
        Ok(access.is_ok_and(|a| a.role.require(botyard_domain::access::Permission::ChangeBots).is_ok()))
    }
}

/// `options` of a webhook run.
pub fn webhook_options(url: &str, method: &str, params: Value, headers: Value, ip: &str) -> Value {
    json!({"url": url, "method": method, "params": params, "headers": headers, "ip": ip})
}
