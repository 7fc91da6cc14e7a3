//! A bot's content: what imports bring in and exports and copies carry out, besides the bot's own
//! fields — command folders, commands, libraries, admin panels, Kore.ai components and (when asked
//! for) bot properties. One model for every format: Bots.Business CSV and git, Kore.ai bot
//! definitions and botyard's own archive each read or write a part of it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::command::CommandDraft;
use crate::error::{Error, Result};
use crate::koreai::Component;
use crate::property::PropertyType;

pub const LIB_NAME_MAX_CHARS: usize = 100;
pub const LIB_CODE_MAX_BYTES: usize = 512 * 1024;
pub const LIBS_MAX: usize = 100;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BotContent {
    /// Folder titles, in order.
    pub folders: Vec<String>,
    pub commands: Vec<CommandContent>,
    pub libs: Vec<Lib>,
    pub panels: Vec<AdminPanel>,
    pub components: Vec<Component>,
    /// Bot-scope properties; `None` when not carried.
    pub properties: Option<Vec<BotProperty>>,
}

/// A command with its folder named by title (folder ids do not travel).
#[derive(Debug, Clone, PartialEq)]
pub struct CommandContent {
    pub draft: CommandDraft,
    pub folder: Option<String>,
    pub created_via_csv_import: bool,
}

/// A library: JavaScript evaluated before the bot's code, exposing `Libs.<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lib {
    pub name: String,
    pub code: String,
    /// The library store entry it was installed from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
}

/// An admin panel: a form of fields whose values the bot reads (`AdminPanel.getFieldValue`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminPanel {
    pub name: String,
    /// `{title, description, icon, button_title, on_saving, fields: [{name, title, description,
    /// type, placeholder, icon, value}]}`.
    pub document: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotProperty {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: PropertyType,
    pub value: Value,
}

/// Checks a library's name (a JavaScript identifier, as in `Libs.<name>`) and size.
pub fn check_lib(name: &str, code: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.chars().count() <= LIB_NAME_MAX_CHARS
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if !valid {
        return Err(Error::invalid(format!(
            "Library name \"{name}\" must be a JavaScript identifier of at most {LIB_NAME_MAX_CHARS} characters"
        )));
    }
    if code.len() > LIB_CODE_MAX_BYTES {
        return Err(Error::limit(format!("Library {name} is larger than {} KiB", LIB_CODE_MAX_BYTES / 1024)));
    }
    Ok(())
}

impl BotContent {
    /// Checks limits that hold across the whole content.
    pub fn check(&self) -> Result<()> {
        if self.libs.len() > LIBS_MAX {
            return Err(Error::limit(format!("A bot can have at most {LIBS_MAX} libraries")));
        }
        for lib in &self.libs {
            check_lib(&lib.name, &lib.code)?;
        }
        let mut names = std::collections::HashSet::new();
        for command in &self.commands {
            for name in std::iter::once(&command.draft.command).chain(&command.draft.aliases) {
                if !names.insert(name.as_str()) {
                    return Err(Error::invalid(format!("Command or alias \"{name}\" appears twice")));
                }
            }
        }
        Ok(())
    }
}

/// What a CSV synchronisation changes: commands to create, commands to update (by id), and
/// commands created by an earlier CSV import that the sheet no longer has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsvPlan {
    pub create: Vec<CommandContent>,
    pub update: Vec<(i64, CommandContent)>,
    pub destroy: Vec<i64>,
}

/// A command read from a CSV sheet, with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvCommand {
    pub line: usize,
    pub content: CommandContent,
}

/// Plans a CSV synchronisation (Bots.Business's rules): commands match by name; new ones are
/// created, changed ones updated (every field from the row), commands earlier created by a CSV
/// import and now absent destroyed, hand-made commands left alone. A sheet that names a command
/// twice, or whose names and aliases clash with each other or with the commands that stay, is
/// refused with the line at fault.
pub fn csv_sync_plan(
    existing: &[crate::command::Command],
    rows: Vec<CsvCommand>,
    folders: &[crate::command::Folder],
) -> Result<CsvPlan> {
    use std::collections::HashMap;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        let d = &row.content.draft;
        for name in std::iter::once(&d.command).chain(&d.aliases) {
            if let Some(first) = seen.insert(name.clone(), row.line) {
                return Err(Error::invalid(format!(
                    "Line {}: \"{name}\" is already a command or alias on line {first}",
                    row.line
                )));
            }
        }
    }
    let titles: HashMap<i64, &str> = folders.iter().map(|f| (f.id, f.title.as_str())).collect();
    let by_name: HashMap<&str, &crate::command::Command> =
        existing.iter().map(|c| (c.command.as_str(), c)).collect();
    let mut plan = CsvPlan::default();
    for row in &rows {
        match by_name.get(row.content.draft.command.as_str()) {
            Some(current) => {
                let mut before = crate::command::CommandDraft::of(current);
                before.folder_id = None;
                let folder_before = current.folder_id.and_then(|id| titles.get(&id).map(|t| (*t).to_owned()));
                let folder_changed = row.content.folder.is_some() && row.content.folder != folder_before;
                if before != row.content.draft || folder_changed {
                    let mut content = row.content.clone();
                    if content.folder.is_none() {
                        content.folder = folder_before;
                    }
                    plan.update.push((current.id, content));
                }
            }
            None => plan.create.push(row.content.clone()),
        }
    }
    for command in existing {
        if command.created_via_csv_import && !seen.contains_key(&command.command) {
            plan.destroy.push(command.id);
        } else if !seen.contains_key(&command.command) {
            // A command that stays: the sheet may not reuse its name or aliases.
            for name in std::iter::once(&command.command).chain(command.aliases.iter().map(|a| &a.alias)) {
                if let Some(line) = seen.get(name) {
                    return Err(Error::invalid(format!(
                        "Line {line}: \"{name}\" is already a command or alias of this bot that the sheet does not replace"
                    )));
                }
            }
        }
    }
    Ok(plan)
}
