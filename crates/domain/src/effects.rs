//! What a run of bot code changes. A run collects its effects while it executes and they are
//! written together, in one transaction, only if the run succeeds; a failed run writes only its
//! error log entry.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::WorkspaceId;
use crate::property::{PropertyScope, PropertyType};
use crate::time::Timestamp;

/// Everything one run (or one failed run) writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunEffects {
    pub bot: i64,
    pub workspace: Option<WorkspaceId>,
    pub messages: Vec<OutgoingMessage>,
    pub edits: Vec<MessageEdit>,
    /// Messages of the bot to delete (by id): `Api.deleteMessage` on botyard's own channels.
    pub deleted: Vec<i64>,
    pub properties: Vec<PropertyWrite>,
    pub groups: Vec<GroupChange>,
    pub chat_blocks: Vec<(i64, bool)>,
    pub pending: Vec<PendingChange>,
    /// The chat's new dialog state (a Kore.ai bot's session), as `(chat, JSON)`.
    pub dialog_state: Option<(i64, String)>,
    /// Admin panels created or changed (`AdminPanel.setPanel`, `setFieldValue`).
    pub panels: Vec<crate::content::AdminPanel>,
    /// Jobs the run starts (delayed runs, HTTP requests, broadcasts), enqueued only if it commits.
    pub jobs: Vec<crate::job::NewJob>,
    /// Labels of scheduled runs to cancel (`Bot.clearRunAfter`).
    pub clear_labels: Vec<String>,
    /// Calls to a channel's API (`Api.sendPhoto(…)` on Telegram), sent after the commit.
    pub outbox: Vec<OutboxItem>,
    /// The order in which the script made its messages, edits and API calls: a channel delivers
    /// them in this order (when empty: messages, then edits, then calls).
    pub send_order: Vec<SendRef>,
    /// The answer to the button press that started the run (Telegram's `answerCallbackQuery`),
    /// sent first unless the script answered the press itself; kept when the run fails.
    pub auto_answer: Option<OutboxItem>,
    /// The job this run is for, and what it does to it (kept even when the run fails).
    pub job: Option<(crate::job::JobLease, crate::job::JobUpdate)>,
    /// The inbox row the run works off, removed by its commit (kept even when the run fails).
    pub ticket: Option<crate::arrival::Ticket>,
    /// What the run starts in its chats (`Bot.run` without a delay), stored with its commit.
    pub arrivals: Vec<crate::arrival::NewArrival>,
    /// Iterations the run used (counted even when it fails).
    pub iterations: u64,
    pub error: Option<ErrorEntry>,
}

impl RunEffects {
    /// Only what a failed run keeps: its iterations, its error, its job's and inbox's bookkeeping,
    /// and the end of a wait for a reply.
    pub fn failed(&self, error: ErrorEntry) -> Self {
        Self {
            bot: self.bot,
            workspace: self.workspace.clone(),
            iterations: self.iterations,
            error: Some(error),
            job: self.job.clone(),
            ticket: self.ticket.clone(),
            auto_answer: self.auto_answer.clone(),
            // A failed answer to a `need_reply` still ends the wait.
            pending: self
                .pending
                .iter()
                .filter(|p| matches!(p, PendingChange::Clear { .. }))
                .cloned()
                .collect(),
            ..Self::default()
        }
    }
}

/// The most one run may do of each kind of effect: what a script asks beyond is refused with an
/// error (which ends the run unless the script catches it), so one run cannot write without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunCaps {
    /// Messages sent (`Bot.sendMessage`, keyboards, `Bot.inspect`).
    pub messages: u32,
    /// Edits of messages.
    pub edits: u32,
    /// Property writes and deletions.
    pub property_writes: u32,
    /// Channel API calls (`Api.*`).
    pub api_calls: u32,
    /// Jobs started: delayed runs, HTTP requests, broadcasts, transfers.
    pub jobs: u32,
}

impl Default for RunCaps {
    fn default() -> Self {
        Self { messages: 100, edits: 100, property_writes: 1000, api_calls: 100, jobs: 100 }
    }
}

/// What a run has done so far, against its [`RunCaps`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub messages: u32,
    pub edits: u32,
    pub property_writes: u32,
    pub api_calls: u32,
    pub jobs: u32,
}

/// A kind of effect a run is capped in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capped {
    Messages,
    Edits,
    PropertyWrites,
    ApiCalls,
    Jobs,
}

impl RunCounts {
    /// Counts one more effect of `kind`, or refuses it beyond the cap.
    pub fn spend(&mut self, caps: &RunCaps, kind: Capped) -> Result<(), String> {
        let (used, cap, what) = match kind {
            Capped::Messages => (&mut self.messages, caps.messages, "send at most {} messages"),
            Capped::Edits => (&mut self.edits, caps.edits, "edit messages at most {} times"),
            Capped::PropertyWrites => {
                (&mut self.property_writes, caps.property_writes, "write properties at most {} times")
            }
            Capped::ApiCalls => (&mut self.api_calls, caps.api_calls, "make at most {} API calls"),
            Capped::Jobs => (
                &mut self.jobs,
                caps.jobs,
                "start at most {} jobs (delayed runs, HTTP requests, broadcasts, transfers)",
            ),
        };
        if *used >= cap {
            return Err(format!("A run may {}", what.replace("{}", &cap.to_string())));
        }
        *used += 1;
        Ok(())
    }
}

/// A message the bot sends.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    pub uid: String,
    pub chat_id: i64,
    pub payload: Value,
    pub metadata: Option<Map<String, Value>>,
    pub at: Timestamp,
}

/// A change of a message the bot sent earlier (text and/or inline keyboard).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageEdit {
    pub message_id: i64,
    pub payload: Value,
    /// Whether the text changed (else only the keyboard: Telegram's `editMessageReplyMarkup`).
    pub text_changed: bool,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PropertyWrite {
    pub scope: PropertyScope,
    /// User or chat id; 0 for bot properties.
    pub owner: i64,
    pub name: String,
    /// `None` deletes.
    pub value: Option<(PropertyType, Value)>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GroupChange {
    Add { user: i64, group: String },
    Remove { user: i64, group: String },
    Clear { user: i64 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum PendingChange {
    /// The user's next message in this chat goes to `command`.
    Set {
        chat: i64,
        user: i64,
        command: i64,
        options: Option<Value>,
        at: Timestamp,
    },
    Clear {
        chat: i64,
        user: i64,
    },
}

/// An entry of a bot's error log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorEntry {
    pub command: Option<String>,
    pub title: String,
    pub stack_trace: String,
    pub chat_id: Option<i64>,
    pub user_id: Option<i64>,
    pub at: Timestamp,
}

/// A stored error log entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorLog {
    pub id: i64,
    pub bot_number: i64,
    pub entry: ErrorEntry,
    /// The chat's and the user's ids as their channel knows them (the Chat API's conversation and
    /// user ids, Telegram's ids), when the entry names them.
    pub chat_external: Option<String>,
    pub user_external: Option<String>,
}

/// Which error log entries to read: newest first, one page (from 1), narrowed down.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorLogQuery {
    pub since: Option<crate::Timestamp>,
    pub until: Option<crate::Timestamp>,
    /// Text the title contains.
    pub contains: Option<String>,
    /// The chat's id as its channel knows it (the Chat API's conversation id).
    pub chat: Option<String>,
    /// The user's id as their channel knows them.
    pub user: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

/// One of a run's sends, by where it is in [`RunEffects`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRef {
    /// `messages[i]`
    Message(usize),
    /// The edit of this stored message.
    Edit(i64),
    /// `outbox[i]`
    Call(usize),
}

/// A call a channel makes for a run after it commits (Telegram: any Bot API method).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub chat_id: i64,
    pub method: String,
    pub params: Value,
    /// `{on_result, on_error, options}`: commands to run with the answer.
    pub callback: Option<Value>,
}
