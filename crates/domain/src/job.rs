//! Jobs: long operations (imports, exports, copies) that run in the background from one durable
//! queue, with a status a client polls. The contract follows Meilisearch's tasks: a job is
//! `enqueued`, then `processing`, then `succeeded`, `failed` or `canceled`, with timestamps,
//! progress `details` and a structured `error`. Each dialect renders a job in its own shape.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorCode};
use crate::ids::{UserId, WorkspaceId};
use crate::time::Timestamp;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A Kore.ai bot definition imported as a new bot or into an existing one.
    KoreImport,
    /// A bot exported as a Kore.ai bot definition archive.
    KoreExport,
    /// Bots.Business commands synchronised from a CSV sheet.
    CsvImport,
    /// Commands and libraries replaced from a Bots.Business git repository.
    GitImport,
    /// Commands and libraries pushed to a new branch of a git repository.
    GitExport,
    /// A bot written to a botyard archive.
    ArchiveExport,
    /// A botyard archive imported as a new bot.
    ArchiveImport,
    /// A bot copied into a workspace (also how a demo bot is installed).
    BotCopy,
    /// A command run later (`Bot.run` with `run_after`).
    ScheduledRun,
    /// One run of a command with `auto_retry_time`.
    AutoRetry,
    /// One firing of a Botpress recurring event.
    RecurringEvent,
    /// An HTTP request of a script (`HTTP.get`, …) and its callback command.
    HttpRequest,
    /// A command run in every chat of a bot (`Bot.runAll`).
    Broadcast,
}

impl JobKind {
    pub const ALL: [JobKind; 13] = [
        Self::KoreImport,
        Self::KoreExport,
        Self::CsvImport,
        Self::GitImport,
        Self::GitExport,
        Self::ArchiveExport,
        Self::ArchiveImport,
        Self::BotCopy,
        Self::ScheduledRun,
        Self::AutoRetry,
        Self::RecurringEvent,
        Self::HttpRequest,
        Self::Broadcast,
    ];

    /// Imports, exports and copies: a bounded pool of workers.
    pub const TRANSFERS: [JobKind; 8] = [
        Self::KoreImport,
        Self::KoreExport,
        Self::CsvImport,
        Self::GitImport,
        Self::GitExport,
        Self::ArchiveExport,
        Self::ArchiveImport,
        Self::BotCopy,
    ];
    /// Runs of bot code (scheduled, periodic, HTTP callbacks): short, many at once.
    pub const RUNS: [JobKind; 4] =
        [Self::ScheduledRun, Self::AutoRetry, Self::RecurringEvent, Self::HttpRequest];
    /// Broadcasts: long, paced, their own workers.
    pub const BROADCASTS: [JobKind; 1] = [Self::Broadcast];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::KoreImport => "kore_import",
            Self::KoreExport => "kore_export",
            Self::CsvImport => "csv_import",
            Self::GitImport => "git_import",
            Self::GitExport => "git_export",
            Self::ArchiveExport => "archive_export",
            Self::ArchiveImport => "archive_import",
            Self::BotCopy => "bot_copy",
            Self::ScheduledRun => "scheduled_run",
            Self::AutoRetry => "auto_retry",
            Self::RecurringEvent => "recurring_event",
            Self::HttpRequest => "http_request",
            Self::Broadcast => "broadcast",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Enqueued,
    Processing,
    Succeeded,
    Failed,
    Canceled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enqueued => "enqueued",
            Self::Processing => "processing",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(raw: &str) -> Self {
        match raw {
            "processing" => Self::Processing,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "canceled" => Self::Canceled,
            _ => Self::Enqueued,
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled)
    }
}

/// Why a job failed: the same code and message an HTTP answer would carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobError {
    pub code: String,
    pub message: String,
}

impl JobError {
    pub fn from_error(error: &Error) -> Self {
        Self { code: format!("{:?}", error.code), message: error.message.clone() }
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    /// A UUID; dialects show it with their own prefix (`bir-`, `ber-`).
    pub uid: String,
    pub kind: JobKind,
    pub workspace_id: Option<WorkspaceId>,
    /// The bot the job works on (for an import of a new bot: the bot it created, once it has).
    pub bot: Option<i64>,
    pub created_by: Option<UserId>,
    pub status: JobStatus,
    /// What to do, as the job's handler reads it.
    pub params: Value,
    /// Progress and results, as each dialect renders them.
    pub details: Value,
    pub error: Option<JobError>,
    /// Times the job was claimed by a worker.
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: Timestamp,
    pub enqueued_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// What its owner asked of a running job: `pause` or `cancel`.
    pub control: Option<String>,
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: JobKind,
    pub workspace_id: Option<WorkspaceId>,
    pub bot: Option<i64>,
    pub created_by: Option<UserId>,
    pub params: Value,
    pub details: Value,
    pub max_attempts: u32,
    pub run_at: Timestamp,
    /// Jobs with the same key are one job (a periodic run's due time); the second is not added.
    pub dedupe_key: Option<String>,
    /// A name scripts cancel scheduled runs by (`Bot.clearRunAfter({label})`).
    pub label: Option<String>,
    /// Iterations starting the job costs its workspace, charged when it is enqueued.
    pub cost: u64,
}

impl NewJob {
    pub fn new(kind: JobKind, params: Value) -> Self {
        Self {
            kind,
            workspace_id: None,
            bot: None,
            created_by: None,
            params,
            details: Value::Object(Default::default()),
            max_attempts: 3,
            run_at: Timestamp::now(),
            dedupe_key: None,
            label: None,
            cost: 0,
        }
    }
}

/// How a finished attempt ends the job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEnd {
    Succeeded { details: Value, bot: Option<i64> },
    Failed { details: Option<Value>, error: JobError },
    Canceled,
}

/// What a run does to the job it runs for, in the same transaction as its effects.
#[derive(Debug, Clone, PartialEq)]
pub enum JobUpdate {
    /// New progress details.
    Details(Value),
    /// Marks `mark` (a broadcast's chat) done, successfully or not.
    Mark {
        mark: i64,
        ok: bool,
    },
    End(JobEnd),
}

/// A worker's hold on a claimed job: it may write the job's outcome only while the attempt it
/// claimed is the job's current one (a job whose lease ran out may have been claimed again).
#[derive(Debug, Clone, PartialEq)]
pub struct JobLease {
    pub job: i64,
    pub attempt: u32,
    pub failpoints: FailPoints,
}

/// Named places where tests make a worker "crash" (Meilisearch's failure injection): when a point
/// is armed, the first time work passes it fails as if the process died there — the transaction
/// in progress is dropped and the job is left to its lease.
#[derive(Debug, Clone, Default)]
pub struct FailPoints {
    armed: Arc<Mutex<HashSet<String>>>,
    hit: Arc<Mutex<Vec<String>>>,
}

/// The message of the error a fail point raises.
pub const FAILPOINT_MESSAGE: &str = "failure injected at a fail point";

impl PartialEq for FailPoints {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.armed, &other.armed)
    }
}

impl FailPoints {
    pub fn new(points: impl IntoIterator<Item = String>) -> Self {
        Self { armed: Arc::new(Mutex::new(points.into_iter().collect())), hit: Arc::default() }
    }

    /// Fails once at `name` when it is armed.
    pub fn check(&self, name: &str) -> Result<(), Error> {
        let fired = self.armed.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
        if fired {
            self.hit.lock().unwrap_or_else(|e| e.into_inner()).push(name.to_owned());
            return Err(Error::new(ErrorCode::Unavailable, FAILPOINT_MESSAGE).with_detail(name.to_owned()));
        }
        Ok(())
    }

    /// Whether an error came from a fail point.
    pub fn is_crash(error: &Error) -> bool {
        error.code == ErrorCode::Unavailable && error.message == FAILPOINT_MESSAGE
    }
}
