//! What arrives for a bot to run: kept in the inbox from the moment it is accepted until the run
//! it starts has committed, so nothing accepted is lost to a crash and nothing runs twice.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::time::Timestamp;

/// One thing to process in a chat, as kept in the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Arrival {
    /// A message a user wrote (stored in `messages`, by its id).
    Message { message: i64 },
    /// A press of an inline button: its command, the bot message it is under, and the channel's
    /// own view of the press (Telegram's `callback_query`).
    Button {
        data: String,
        message: Option<i64>,
        #[serde(default)]
        callback: Option<Value>,
    },
    /// A custom event; only `on(name)` handlers run.
    Event { name: String, payload: Value },
    /// A command to run: `Bot.run` without a delay, an API call's callback, a panel's
    /// `on_saving`; `globals` are set for the run.
    Command {
        text: String,
        options: Value,
        #[serde(default)]
        globals: Map<String, Value>,
    },
}

/// An arrival to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewArrival {
    pub bot: i64,
    pub chat: i64,
    pub user: Option<i64>,
    pub arrival: Arrival,
}

/// A stored arrival.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxEntry {
    pub id: i64,
    pub bot: i64,
    pub chat: i64,
    pub user: Option<i64>,
    pub arrival: Arrival,
    pub node: String,
    pub at: Timestamp,
}

/// The inbox row a run works off: its commit removes it, if this node still owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: i64,
    pub node: String,
}
