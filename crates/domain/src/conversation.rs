//! Conversations with a bot's end users: the channels they arrive on, users, chats and messages.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::keyboard::{InlineButton, Keyboard};
use crate::time::Timestamp;

pub const MESSAGE_TEXT_MAX_CHARS: usize = 4096;
pub const PAYLOAD_MAX_BYTES: usize = 128 * 1024;

/// Where end users talk to a bot from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// botyard's web chat and the Botpress Chat API (`/chat/{webhookId}`).
    Web,
    Telegram,
    /// Kore.ai's Webhook channel (`/chatbot/v2/webhook/{streamId}`): integrations that post a
    /// user's text and read the bot's answer in the response.
    Webhook,
    /// The bot's own chat for runs that come from no conversation (an admin panel's `on_saving`,
    /// scheduled runs); never listed.
    System,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Telegram => "telegram",
            Self::Webhook => "webhook",
            Self::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Self {
        match raw {
            "telegram" => Self::Telegram,
            "webhook" => Self::Webhook,
            "system" => Self::System,
            _ => Self::Web,
        }
    }
}

/// A person talking to a bot (not a botyard account).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BotUser {
    pub id: i64,
    pub bot_number: i64,
    pub channel: Channel,
    /// The id on the channel (Telegram user id, web chat user id).
    pub external_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub picture_url: Option<String>,
    /// Free text about the user (the Chat API's `profile`).
    pub profile: Option<String>,
    pub groups: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Who a user says they are when they arrive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserProfile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub picture_url: Option<String>,
    pub profile: Option<String>,
}

impl UserProfile {
    /// Checks the lengths of what a client sent.
    pub fn check(&self) -> Result<()> {
        for (what, value, max) in [
            ("name", &self.first_name, 200),
            ("last name", &self.last_name, 200),
            ("username", &self.username, 200),
            ("pictureUrl", &self.picture_url, 2048),
            ("profile", &self.profile, 1000),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                return Err(Error::invalid(format!("{what} must be at most {max} characters")));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chat {
    pub id: i64,
    pub bot_number: i64,
    pub channel: Channel,
    pub external_id: String,
    /// `private`, `group` or `supergroup`.
    pub chat_type: String,
    pub title: Option<String>,
    /// The user who opened a web conversation.
    pub owner_user: Option<i64>,
    /// Blocked by the bot's owner: its messages are not processed.
    pub blocked: bool,
    /// The user blocked the bot (Telegram): nothing can be sent.
    pub bot_blocked: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A message in a chat, from a user or from the bot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatMessage {
    pub id: i64,
    /// The id clients see (`msg_…`).
    pub uid: String,
    pub bot_number: i64,
    pub chat_id: i64,
    /// The author, or `None` for the bot.
    pub user_id: Option<i64>,
    /// The content as a Botpress Chat API payload (`{type: "text", text}`, …); a bot message may
    /// carry its keyboard under `botyard`.
    pub payload: Value,
    pub metadata: Option<Map<String, Value>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ChatMessage {
    pub fn from_bot(&self) -> bool {
        self.user_id.is_none()
    }

    /// The text of a text-like payload.
    pub fn text(&self) -> Option<&str> {
        payload_text(&self.payload)
    }
}

/// The text a payload carries (`text`, `markdown`, or a choice's `text`).
pub fn payload_text(payload: &Value) -> Option<&str> {
    payload.get("text").or_else(|| payload.get("markdown")).and_then(Value::as_str)
}

/// Checks a payload a user sends: an object with a known `type`, a non-empty text where one is
/// required, within the size limit.
pub fn check_user_payload(payload: &Value) -> Result<()> {
    let Some(kind) = payload.get("type").and_then(Value::as_str) else {
        return Err(Error::invalid("payload.type is required"));
    };
    let known = [
        "text", "markdown", "image", "audio", "video", "file", "location", "card", "carousel", "choice",
        "dropdown", "bloc",
    ];
    if !known.contains(&kind) {
        return Err(Error::invalid(format!("payload.type \"{kind}\" is not supported")));
    }
    if kind == "text" || kind == "markdown" {
        let text = payload_text(payload).unwrap_or("");
        if text.trim().is_empty() {
            return Err(Error::invalid("payload.text must not be empty"));
        }
        if text.chars().count() > MESSAGE_TEXT_MAX_CHARS {
            return Err(Error::invalid(format!(
                "payload.text must be at most {MESSAGE_TEXT_MAX_CHARS} characters"
            )));
        }
    }
    let size = serde_json::to_string(payload).map(|s| s.len()).unwrap_or(usize::MAX);
    if size > PAYLOAD_MAX_BYTES {
        return Err(Error::limit(format!(
            "The message payload is larger than {} KB",
            PAYLOAD_MAX_BYTES / 1024
        )));
    }
    Ok(())
}

/// The payload of a bot message: text, and its keyboard as a `choice` other clients can show,
/// with the exact rows under `botyard.keyboard`.
pub fn bot_payload(text: &str, keyboard: Option<&Keyboard>) -> Result<Value> {
    if text.trim().is_empty() {
        return Err(Error::invalid("Message text can't be blank"));
    }
    if text.chars().count() > MESSAGE_TEXT_MAX_CHARS {
        return Err(Error::invalid(format!(
            "Message text is too long (maximum is {MESSAGE_TEXT_MAX_CHARS} characters)"
        )));
    }
    let Some(keyboard) = keyboard else { return Ok(json!({"type": "text", "text": text})) };
    let options: Vec<Value> = match keyboard {
        Keyboard::Reply(rows) => rows.iter().flatten().map(|b| json!({"label": b, "value": b})).collect(),
        Keyboard::Inline(rows) => rows
            .iter()
            .flatten()
            .map(|b: &InlineButton| json!({"label": b.title, "value": b.command.as_deref().or(b.url.as_deref()).unwrap_or(&b.title)}))
            .collect(),
        Keyboard::Remove => Vec::new(),
    };
    let kind = if options.is_empty() { "text" } else { "choice" };
    let mut payload = json!({"type": kind, "text": text, "botyard": {"keyboard": keyboard}});
    if !options.is_empty() {
        payload["options"] = Value::Array(options);
    }
    Ok(payload)
}

/// The keyboard stored in a bot message's payload.
pub fn payload_keyboard(payload: &Value) -> Option<Keyboard> {
    serde_json::from_value(payload.get("botyard")?.get("keyboard")?.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_payloads_carry_their_keyboard() {
        assert_eq!(bot_payload("hi", None).unwrap(), json!({"type": "text", "text": "hi"}));
        let kb = Keyboard::Reply(vec![vec!["A".into(), "B".into()]]);
        let p = bot_payload("pick", Some(&kb)).unwrap();
        assert_eq!(p["type"], "choice");
        assert_eq!(p["options"][1], json!({"label": "B", "value": "B"}));
        assert_eq!(payload_keyboard(&p), Some(kb));
        assert!(bot_payload(" ", None).is_err());
    }

    #[test]
    fn user_payloads_are_checked() {
        assert!(check_user_payload(&json!({"type": "text", "text": "hi"})).is_ok());
        assert!(check_user_payload(&json!({"type": "text", "text": ""})).is_err());
        assert!(check_user_payload(&json!({"type": "nope"})).is_err());
        assert!(check_user_payload(&json!({"text": "hi"})).is_err());
    }
}
