//! All conversation state, serialisable so the runtime can store it between turns.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::nlu::Candidate;

/// What a task waits for from the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Waiting {
    /// An entity node's value.
    Entity { node: String, retries: u32 },
    /// A yes or no for a confirmation node.
    Confirmation { node: String, retries: u32 },
    /// The form node's field at `field`.
    FormField { node: String, field: usize, retries: u32 },
}

impl Waiting {
    pub fn node(&self) -> &str {
        match self {
            Waiting::Entity { node, .. }
            | Waiting::Confirmation { node, .. }
            | Waiting::FormField { node, .. } => node,
        }
    }
}

/// One running dialog task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The dialog's `refId`.
    pub dialog: String,
    /// The node being executed or waited on.
    pub node: String,
    /// The task's own context (entities, service responses, what scripts stored).
    pub context: Map<String, Value>,
    pub waiting: Option<Waiting>,
    /// The task runs inside its parent's dialog node: when it ends, the parent continues.
    pub is_subtask: bool,
    /// Started by a bot event (no CONVERSATION_END when it ends).
    pub from_event: bool,
    /// The words that started the task, still to be used for entity values.
    pub utterance: Option<String>,
}

/// The conversation's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The conversation's language (None: the bot's default).
    pub language: Option<String>,
    /// The channel messages are chosen for (None: `default`).
    pub channel: Option<String>,
    /// Running tasks; the last one is current, those below are on hold or parents of sub-tasks.
    pub stack: Vec<Task>,
    #[serde(rename = "BotUserSession")]
    pub bot_user_session: Map<String, Value>,
    #[serde(rename = "UserSession")]
    pub user_session: Map<String, Value>,
    #[serde(rename = "BotContext")]
    pub bot_context: Map<String, Value>,
    /// Read-only user data given by the runtime.
    #[serde(rename = "UserContext")]
    pub user_context: Map<String, Value>,
    /// Candidates offered after an ambiguous input, and that input.
    pub pending_choice: Vec<Candidate>,
    pub pending_utterance: Option<String>,
    /// The welcome event has run.
    pub started: bool,
    pub turns: u64,
}

impl Session {
    /// A session for `channel` in `language` (None: the bot's default).
    pub fn new(channel: Option<&str>, language: Option<&str>) -> Self {
        Self { channel: channel.map(str::to_owned), language: language.map(str::to_owned), ..Self::default() }
    }
}
