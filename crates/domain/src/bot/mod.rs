//! The bot: one model that every dialect reads and writes.

pub mod changes;
pub mod definition;
pub mod limits;
pub mod listing;

use serde::{Deserialize, Serialize};

pub use changes::{BotChanges, ConfigurationChanges, MapPatch};
pub use definition::*;

use crate::error::{Error, Result};
use crate::ids::{BotId, UserId, WorkspaceId};
use crate::time::Timestamp;

/// Botpress's deployment status of a bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeployStatus {
    Active,
    Deploying,
    Deleting,
}

impl DeployStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deploying => "deploying",
            Self::Deleting => "deleting",
        }
    }

    pub fn parse(raw: &str) -> Self {
        match raw {
            "deploying" => Self::Deploying,
            "deleting" => Self::Deleting,
            _ => Self::Active,
        }
    }
}

/// Whether the bot processes incoming messages (Bots.Business: `works` or `stopped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Works,
    Stopped,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Works => "works",
            Self::Stopped => "stopped",
        }
    }

    pub fn parse(raw: &str) -> Self {
        if raw == "works" { Self::Works } else { Self::Stopped }
    }
}

/// The dialect that made a bot; its status is shown in that dialect's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    #[default]
    BotsBusiness,
    Botpress,
    KoreAi,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BotsBusiness => "bots_business",
            Self::Botpress => "botpress",
            Self::KoreAi => "koreai",
        }
    }

    pub fn parse(raw: &str) -> Self {
        match raw {
            "botpress" => Self::Botpress,
            "koreai" => Self::KoreAi,
            _ => Self::BotsBusiness,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bot {
    pub id: BotId,
    /// The serial number the Bots.Business dialect shows as `id`.
    pub number: i64,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub dev: bool,
    pub status: DeployStatus,
    pub run_state: RunState,
    /// The dialect that created the bot.
    pub origin: Origin,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deployed_at: Option<Timestamp>,
    pub created_by: Option<UserId>,
    /// Signs what botyard sends on the bot's behalf; shown only on creation and rotation.
    pub signing_secret: String,
    /// Id of the bot's web chat channel, the `{webhookId}` of `/chat/{webhookId}`.
    pub web_channel_id: String,
    pub telegram_token: Option<String>,
    /// The bot's Telegram username from `getMe`, kept when it last started with its token.
    pub telegram_username: Option<String>,
    pub csv_url: Option<String>,
    pub git_remote: Option<String>,
    pub definition: BotDefinition,
}

impl Bot {
    /// Applies a change: the name and Bots.Business fields here, the rest to the definition.
    pub fn apply(&mut self, mut changes: BotChanges) -> Result<()> {
        if let Some(name) = changes.name.take() {
            self.name = changes::check_name(&name)?;
        }
        if let Some(token) = changes.telegram_token.take() {
            let token = token.map(|t| check_telegram_token(&t)).transpose()?;
            if token != self.telegram_token {
                self.telegram_username = None;
            }
            self.telegram_token = token;
        }
        if let Some(url) = changes.csv_url.take() {
            self.csv_url = url.map(|u| check_url("csv_url", &u)).transpose()?;
        }
        if let Some(remote) = changes.git_remote.take() {
            self.git_remote = remote.map(|r| check_url("git_remote", &r)).transpose()?;
        }
        self.definition.apply(changes)
    }

    /// The wall-time limit of one run of this bot's code, capped by the server's limit.
    pub fn execution_time_limit_secs(&self, default_secs: u32, cap_secs: u32) -> u32 {
        self.definition.max_execution_time.unwrap_or(default_secs).min(cap_secs).max(1)
    }

    /// The bot's state in the words of the dialect that made it: Bots.Business's `works` or
    /// `stopped`, Kore.ai's publish status (`published` or `unpublished`), Botpress's deployment
    /// status (`active`, `deploying`, `deleting`), or `stopped` for a stopped Botpress bot (a
    /// state Botpress has no word for).
    pub fn status_word(&self) -> &'static str {
        match (self.origin, self.run_state) {
            (Origin::BotsBusiness, state) => state.as_str(),
            (Origin::KoreAi, RunState::Works) => "published",
            (Origin::KoreAi, RunState::Stopped) => "unpublished",
            (Origin::Botpress, RunState::Works) => self.status.as_str(),
            (Origin::Botpress, RunState::Stopped) => "stopped",
        }
    }

    /// Whether incoming messages are processed.
    pub fn accepts_messages(&self) -> bool {
        self.run_state == RunState::Works && !self.definition.blocked
    }
}

/// Checks a Telegram bot token for plausibility; whether Telegram accepts it is checked with
/// `getMe` when the bot starts.
pub fn check_telegram_token(raw: &str) -> Result<String> {
    let token = raw.trim();
    let valid = !token.is_empty() && token.len() <= 200 && token.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(token.to_owned())
    } else {
        Err(Error::invalid("Token is invalid: expected a Telegram bot token like 123456:ABC-DEF..."))
    }
}

fn check_url(field: &str, raw: &str) -> Result<String> {
    let url = raw.trim();
    changes::max_chars(field, url, limits::URL_MAX_CHARS)?;
    Ok(url.to_owned())
}

const ADJECTIVES: [&str; 16] = [
    "brave", "calm", "clever", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively", "merry",
    "nimble", "proud", "quick", "swift", "witty",
];
const ANIMALS: [&str; 16] = [
    "badger", "beaver", "falcon", "ferret", "gecko", "heron", "koala", "lynx", "marten", "otter", "panda",
    "puffin", "raven", "seal", "tapir", "wombat",
];

/// A readable name for a bot created without one, derived from a random number.
pub fn generated_name(seed: u32) -> String {
    let adjective = ADJECTIVES[(seed % 16) as usize];
    let animal = ANIMALS[((seed >> 4) % 16) as usize];
    format!("{adjective}-{animal}-{:04}", (seed >> 8) % 10_000)
}
