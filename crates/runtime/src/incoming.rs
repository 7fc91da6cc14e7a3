//! What arrives for a bot to process.

use std::sync::{Arc, Mutex};

use botyard_domain::arrival::Ticket;
use botyard_domain::conversation::{BotUser, Chat, ChatMessage};
use botyard_domain::job::{JobLease, JobUpdate};
use serde_json::{Map, Value};
use tokio::sync::oneshot;

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
    /// The job this run is for (a delayed run, a broadcast's chat, …): its update commits with the
    /// run's effects, and the job's handler hears how the run went.
    pub job: Option<JobHook>,
    /// The inbox row it was accepted as; the run's commit removes it.
    pub ticket: Option<Ticket>,
    /// Someone waiting for the run's outcome (a web app page, a webhook call).
    pub reply: Option<ReplyHook>,
}

/// What a run answers whoever waits for it: what it rendered (`WebApp.render`) and the text of its
/// last message, or why it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReply {
    pub rendered: Option<Rendered>,
    pub last_message: Option<String>,
    /// The payloads of the messages the run wrote in the chat, in order.
    pub messages: Vec<Value>,
    /// The conversation's task ended with the run (Kore.ai's end of task).
    pub ended: bool,
}

/// Content a run rendered for the web.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub content: String,
    pub mime_type: String,
}

/// How a waited-for run went: its reply, or why it failed.
pub type RunOutcome = Result<RunReply, String>;

/// The waiting end of a run's reply.
#[derive(Debug, Clone)]
pub struct ReplyHook(Arc<Mutex<Option<oneshot::Sender<RunOutcome>>>>);

impl ReplyHook {
    pub fn new() -> (Self, oneshot::Receiver<RunOutcome>) {
        let (sender, receiver) = oneshot::channel();
        (Self(Arc::new(Mutex::new(Some(sender)))), receiver)
    }

    pub(crate) fn tell(&self, reply: RunOutcome) {
        if let Some(sender) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = sender.send(reply);
        }
    }
}

/// A run's tie to its job.
#[derive(Debug, Clone)]
pub struct JobHook {
    pub lease: JobLease,
    /// Written with the effects when the run completes.
    pub on_success: JobUpdate,
    /// Written with the error log entry when the run fails; `None`: the job fails with the
    /// script's error.
    pub on_failure: Option<JobUpdate>,
    /// Told how the run went, once its effects are committed (or it was not run).
    pub report: Arc<Mutex<Option<oneshot::Sender<RunReport>>>>,
}

/// How a run for a job went.
#[derive(Debug, Clone, PartialEq)]
pub enum RunReport {
    Completed,
    /// The script failed; its error is in the bot's error log (and the job, unless `on_failure`).
    Failed(String),
    /// The run did not happen (the bot is stopped, the chat blocked, the quota used up, …); nothing
    /// was written for the job.
    Skipped(String),
}

impl JobHook {
    pub fn new(
        lease: JobLease,
        on_success: JobUpdate,
        on_failure: Option<JobUpdate>,
    ) -> (Self, oneshot::Receiver<RunReport>) {
        let (report, reported) = oneshot::channel();
        (Self { lease, on_success, on_failure, report: Arc::new(Mutex::new(Some(report))) }, reported)
    }

    pub(crate) fn tell(&self, report: RunReport) {
        if let Some(sender) = self.report.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = sender.send(report);
        }
    }
}

#[derive(Debug, Clone)]
pub enum IncomingKind {
    /// A message a user wrote (already stored).
    Message { text: String, message: ChatMessage },
    /// A press of an inline button: its command, the bot message it is under, and the channel's
    /// own view of the press (Telegram's `callback_query`).
    Button { data: String, message: Option<ChatMessage>, callback: Option<Value> },
    /// A custom event with a type and payload; only `on(type)` handlers run.
    Event { name: String, payload: Value },
    /// A command started by `Bot.run` (without delay) in an earlier run, by a job, or by an HTTP
    /// or API callback; `globals` are set for the run (`content`, `http_status`, …).
    Command { text: String, options: Value, globals: Map<String, Value> },
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
