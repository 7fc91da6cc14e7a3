//! What arrives for a bot to process.

use botyard_domain::conversation::{BotUser, Chat, ChatMessage};
use serde_json::Value;

/// One thing to process, in a chat, in arrival order.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub bot: i64,
    pub chat: Chat,
    /// The end user it comes from, when there is one.
    pub user: Option<BotUser>,
    /// Whether the chat and the user were created for this arrival.
    pub chat_created: bool,
    pub user_created: bool,
    pub kind: IncomingKind,
}

#[derive(Debug, Clone)]
pub enum IncomingKind {
    /// A message a user wrote (already stored).
    Message { text: String, message: ChatMessage },
    /// A press of an inline button: its command, and the bot message it is under.
    Button { data: String, message: Option<ChatMessage> },
    /// A custom event with a type and payload; only `on(type)` handlers run.
    Event { name: String, payload: Value },
    /// A command started by `Bot.run` (without delay) in an earlier run.
    Command { text: String, options: Value },
}

impl IncomingKind {
    /// The text commands are matched against.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Message { text, .. } | Self::Button { data: text, .. } | Self::Command { text, .. } => {
                Some(text)
            }
            Self::Event { .. } => None,
        }
    }
}
