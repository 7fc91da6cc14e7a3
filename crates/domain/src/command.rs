//! Bots.Business-style commands and their folders: what a command is, and the rules for its name,
//! aliases and sizes.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::time::Timestamp;

pub const COMMAND_MAX_CHARS: usize = 200;
pub const HELP_MAX_CHARS: usize = 2_000;
pub const ANSWER_MAX_CHARS: usize = 10_000;
pub const KEYBOARD_MAX_CHARS: usize = 10_000;
pub const GROUP_MAX_CHARS: usize = 200;
pub const CODE_MAX_BYTES: usize = 256 * 1024;
pub const ALIASES_MAX: usize = 50;
pub const FOLDER_TITLE_MAX_CHARS: usize = 200;
pub const AUTO_RETRY_MAX_SECS: i64 = 365 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Folder {
    pub id: i64,
    pub bot_number: i64,
    pub title: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alias {
    pub id: i64,
    pub alias: String,
    pub command_id: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub id: i64,
    pub bot_number: i64,
    pub command: String,
    pub help: String,
    pub answer: String,
    pub keyboard: String,
    pub need_reply: bool,
    /// Seconds between automatic runs, if the command retries itself.
    pub auto_retry_time: Option<i64>,
    pub last_auto_retry_at: Option<Timestamp>,
    pub folder_id: Option<i64>,
    /// The folder's title (what scripts see as `command.folder`).
    #[serde(default)]
    pub folder: Option<String>,
    /// Only users in this group may run the command (empty: everyone).
    pub group: String,
    pub code: String,
    pub created_via_csv_import: bool,
    pub last_csv_import_at: Option<Timestamp>,
    pub aliases: Vec<Alias>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Command {
    /// Whether the command is one of the special ones: `*` master, `@` before all, `@@` after all,
    /// `!` on error.
    pub fn is_special(&self) -> bool {
        matches!(self.command.as_str(), "*" | "@" | "@@" | "!")
    }
}

/// The fields of a command a client sets; `None` leaves a field as it is on update.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommandFields {
    pub command: Option<String>,
    pub help: Option<String>,
    pub answer: Option<String>,
    pub keyboard: Option<String>,
    pub need_reply: Option<bool>,
    /// `Some(None)` clears.
    pub auto_retry_time: Option<Option<i64>>,
    /// `Some(None)` moves the command to the root.
    pub folder_id: Option<Option<i64>>,
    pub group: Option<String>,
    pub code: Option<String>,
    /// Replaces the aliases when given.
    pub aliases: Option<Vec<String>>,
}

/// A command ready to be stored: checked and normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandDraft {
    pub command: String,
    pub help: String,
    pub answer: String,
    pub keyboard: String,
    pub need_reply: bool,
    pub auto_retry_time: Option<i64>,
    pub folder_id: Option<i64>,
    pub group: String,
    pub code: String,
    pub aliases: Vec<String>,
}

impl CommandDraft {
    /// The draft of an existing command, to apply changes to.
    pub fn of(command: &Command) -> Self {
        Self {
            command: command.command.clone(),
            help: command.help.clone(),
            answer: command.answer.clone(),
            keyboard: command.keyboard.clone(),
            need_reply: command.need_reply,
            auto_retry_time: command.auto_retry_time,
            folder_id: command.folder_id,
            group: command.group.clone(),
            code: command.code.clone(),
            aliases: command.aliases.iter().map(|a| a.alias.clone()).collect(),
        }
    }

    /// A new command from the fields; the name is required.
    pub fn new(fields: CommandFields) -> Result<Self> {
        let empty = Self {
            command: String::new(),
            help: String::new(),
            answer: String::new(),
            keyboard: String::new(),
            need_reply: false,
            auto_retry_time: None,
            folder_id: None,
            group: String::new(),
            code: String::new(),
            aliases: Vec::new(),
        };
        if fields.command.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Err(Error::invalid("Command can't be blank"));
        }
        empty.change(fields)
    }

    /// Applies changes and checks the result.
    pub fn change(mut self, f: CommandFields) -> Result<Self> {
        if let Some(v) = f.command {
            self.command = v.trim().to_owned();
        }
        if let Some(v) = f.help {
            self.help = v;
        }
        if let Some(v) = f.answer {
            self.answer = v;
        }
        if let Some(v) = f.keyboard {
            self.keyboard = v;
        }
        if let Some(v) = f.need_reply {
            self.need_reply = v;
        }
        if let Some(v) = f.auto_retry_time {
            self.auto_retry_time = v;
        }
        if let Some(v) = f.folder_id {
            self.folder_id = v;
        }
        if let Some(v) = f.group {
            self.group = v.trim().to_owned();
        }
        if let Some(v) = f.code {
            self.code = v;
        }
        if let Some(v) = f.aliases {
            self.aliases = v;
        }
        self.check()?;
        Ok(self)
    }

    fn check(&self) -> Result<()> {
        check_name("Command", &self.command)?;
        limit("Help", &self.help, HELP_MAX_CHARS)?;
        limit("Answer", &self.answer, ANSWER_MAX_CHARS)?;
        limit("Keyboard", &self.keyboard, KEYBOARD_MAX_CHARS)?;
        limit("Group", &self.group, GROUP_MAX_CHARS)?;
        check_code(&self.code)?;
        if let Some(secs) = self.auto_retry_time
            && !(1..=AUTO_RETRY_MAX_SECS).contains(&secs)
        {
            return Err(Error::invalid("Auto retry time must be a number of seconds from 1 to 31536000"));
        }
        if self.aliases.len() > ALIASES_MAX {
            return Err(Error::limit(format!("A command can have at most {ALIASES_MAX} aliases")));
        }
        for (i, alias) in self.aliases.iter().enumerate() {
            check_name("Alias", alias)?;
            if alias == &self.command || self.aliases[..i].contains(alias) {
                return Err(Error::invalid(format!("Alias \"{alias}\" is repeated")));
            }
        }
        Ok(())
    }

    /// Every name the command answers to.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.command.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// Splits Bots.Business's comma-separated alias list (`"madat, help"`).
pub fn parse_aliases(raw: &str) -> Vec<String> {
    raw.split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect()
}

fn check_name(what: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(format!("{what} can't be blank")));
    }
    if name.chars().count() > COMMAND_MAX_CHARS {
        return Err(Error::invalid(format!(
            "{what} is too long (maximum is {COMMAND_MAX_CHARS} characters)"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(format!("{what} must not contain control characters")));
    }
    Ok(())
}

/// A command's code within its size limit.
pub fn check_code(code: &str) -> Result<()> {
    if code.len() > CODE_MAX_BYTES {
        return Err(Error::limit(format!("Code is too long (maximum is {} KB)", CODE_MAX_BYTES / 1024)));
    }
    Ok(())
}

fn limit(what: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::invalid(format!("{what} is too long (maximum is {max} characters)")));
    }
    Ok(())
}

/// Checks a folder title.
pub fn check_folder_title(title: &str) -> Result<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(Error::invalid("Title can't be blank"));
    }
    limit("Title", title, FOLDER_TITLE_MAX_CHARS)?;
    Ok(title.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_checked() {
        let fields = CommandFields {
            command: Some(" /start ".into()),
            aliases: Some(parse_aliases("madat, help,, /begin")),
            ..Default::default()
        };
        let draft = CommandDraft::new(fields).unwrap();
        assert_eq!(draft.command, "/start");
        assert_eq!(draft.names().collect::<Vec<_>>(), ["/start", "madat", "help", "/begin"]);
        assert!(CommandDraft::new(CommandFields::default()).is_err());
        let repeated = CommandFields {
            command: Some("a".into()),
            aliases: Some(vec!["a".into()]),
            ..Default::default()
        };
        assert!(CommandDraft::new(repeated).is_err());
        let bad_retry =
            CommandFields { command: Some("a".into()), auto_retry_time: Some(Some(0)), ..Default::default() };
        assert!(CommandDraft::new(bad_retry).is_err());
    }
}
