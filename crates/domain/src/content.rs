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
        // Names and aliases may repeat, as on Bots.Business (whose exports carry such bots):
        // routing decides which command runs (see `matching`).
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
    let sheet: std::collections::HashSet<&str> =
        rows.iter().map(|r| r.content.draft.command.as_str()).collect();
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
        if sheet.contains(command.command.as_str()) {
            continue;
        }
        if command.created_via_csv_import {
            plan.destroy.push(command.id);
        } else {
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

/// Types of admin panel fields.
pub const PANEL_FIELD_TYPES: [&str; 7] =
    ["string", "text", "password", "integer", "float", "checkbox", "datetime"];
pub const PANELS_MAX: usize = 50;
pub const PANEL_FIELDS_MAX: usize = 100;
pub const PANEL_NAME_MAX_CHARS: usize = 100;

impl AdminPanel {
    /// A panel from what `AdminPanel.setPanel({panel_name, data})` gives: fields checked, their
    /// values converted to their types.
    pub fn new(name: &str, data: &Value) -> Result<Self> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > PANEL_NAME_MAX_CHARS {
            return Err(Error::invalid(format!(
                "panel_name must have 1 to {PANEL_NAME_MAX_CHARS} characters"
            )));
        }
        let Value::Object(data) = data else {
            return Err(Error::invalid("The panel's data must be an object"));
        };
        let mut document = serde_json::Map::new();
        for key in ["title", "description", "icon", "button_title"] {
            match data.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if s.chars().count() <= 1000 => {
                    document.insert(key.into(), Value::String(s.clone()));
                }
                Some(_) => {
                    return Err(Error::invalid(format!(
                        "The panel's {key} must be a text of at most 1000 characters"
                    )));
                }
            }
        }
        let on_saving = match data.get("on_saving").or_else(|| data.get("on_success")) {
            None | Some(Value::Null) => None,
            Some(Value::String(c)) => Some(c.clone()),
            Some(Value::Object(o)) => o.get("command").and_then(Value::as_str).map(str::to_owned),
            Some(_) => return Err(Error::invalid("on_saving must be a command")),
        };
        if let Some(command) = on_saving.filter(|c| !c.trim().is_empty()) {
            document.insert("on_saving".into(), Value::String(command));
        }
        let fields = data
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::invalid("The panel needs a list of fields"))?;
        if fields.len() > PANEL_FIELDS_MAX {
            return Err(Error::limit(format!("A panel can have at most {PANEL_FIELDS_MAX} fields")));
        }
        let mut checked = Vec::new();
        let mut names = std::collections::HashSet::new();
        for field in fields {
            let Value::Object(field) = field else {
                return Err(Error::invalid("Each field must be an object"));
            };
            let field_name = field.get("name").and_then(Value::as_str).map(str::trim).unwrap_or("");
            if field_name.is_empty()
                || field_name.chars().count() > PANEL_NAME_MAX_CHARS
                || !names.insert(field_name.to_owned())
            {
                return Err(Error::invalid(format!(
                    "Field names must be unique texts of 1 to {PANEL_NAME_MAX_CHARS} characters"
                )));
            }
            let kind = field.get("type").and_then(Value::as_str).unwrap_or("string");
            if !PANEL_FIELD_TYPES.contains(&kind) {
                return Err(Error::invalid(format!(
                    "Field {field_name}: type must be one of {}",
                    PANEL_FIELD_TYPES.join(", ")
                )));
            }
            let mut out = serde_json::Map::new();
            out.insert("name".into(), Value::String(field_name.to_owned()));
            out.insert("type".into(), Value::String(kind.to_owned()));
            for key in ["title", "description", "placeholder", "icon"] {
                if let Some(Value::String(s)) = field.get(key) {
                    out.insert(key.into(), Value::String(s.chars().take(1000).collect()));
                }
            }
            let value = field_value(field_name, kind, field.get("value").cloned().unwrap_or(Value::Null))?;
            out.insert("value".into(), value);
            checked.push(Value::Object(out));
        }
        document.insert("fields".into(), Value::Array(checked));
        Ok(Self { name: name.to_owned(), document: Value::Object(document) })
    }

    pub fn fields(&self) -> impl Iterator<Item = &serde_json::Map<String, Value>> {
        self.document
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
    }

    /// The value of a field; `None` when there is no such field.
    pub fn value(&self, field: &str) -> Option<Value> {
        self.fields()
            .find(|f| f.get("name").and_then(Value::as_str) == Some(field))
            .map(|f| f.get("value").cloned().unwrap_or(Value::Null))
    }

    /// `{field: value}` of every field.
    pub fn values(&self) -> serde_json::Map<String, Value> {
        self.fields()
            .filter_map(|f| {
                Some((f.get("name")?.as_str()?.to_owned(), f.get("value").cloned().unwrap_or(Value::Null)))
            })
            .collect()
    }

    /// Sets field values, each converted to its field's type; unknown fields are refused.
    pub fn set_values(&mut self, values: &serde_json::Map<String, Value>) -> Result<()> {
        for name in values.keys() {
            if self.value(name).is_none() {
                return Err(Error::invalid(format!("Panel {} has no field {name}", self.name)));
            }
        }
        if let Some(Value::Array(fields)) = self.document.get_mut("fields") {
            for field in fields.iter_mut().filter_map(Value::as_object_mut) {
                let name = field.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
                if let Some(value) = values.get(&name) {
                    let kind = field.get("type").and_then(Value::as_str).unwrap_or("string").to_owned();
                    field.insert("value".into(), field_value(&name, &kind, value.clone())?);
                }
            }
        }
        Ok(())
    }

    /// The command to run after the panel's values are saved.
    pub fn on_saving(&self) -> Option<&str> {
        self.document.get("on_saving").and_then(Value::as_str)
    }

    /// Keeps the values `previous` had for fields that still exist (`setPanel` without `force`).
    pub fn keep_values_of(&mut self, previous: &AdminPanel) {
        let kept: serde_json::Map<String, Value> =
            previous.values().into_iter().filter(|(k, v)| !v.is_null() && self.value(k).is_some()).collect();
        // The values were valid for the same field names; a changed type may refuse them.
        let _ = self.set_values(&kept);
    }
}

/// Converts a field's value to its type; `null` or `""` clears it.
fn field_value(name: &str, kind: &str, value: Value) -> Result<Value> {
    let wrong = || Error::invalid(format!("Field {name} must be of type {kind}"));
    if value.is_null() || value == Value::String(String::new()) {
        return Ok(Value::Null);
    }
    Ok(match kind {
        "integer" => match &value {
            Value::Number(n) if n.is_i64() => value,
            Value::String(s) => Value::from(s.trim().parse::<i64>().map_err(|_| wrong())?),
            _ => return Err(wrong()),
        },
        "float" => match &value {
            Value::Number(_) => value,
            Value::String(s) => serde_json::Number::from_f64(s.trim().parse::<f64>().map_err(|_| wrong())?)
                .map(Value::Number)
                .ok_or_else(wrong)?,
            _ => return Err(wrong()),
        },
        "checkbox" => match &value {
            Value::Bool(_) => value,
            Value::String(s) if s == "true" || s == "false" => Value::Bool(s == "true"),
            _ => return Err(wrong()),
        },
        "datetime" => match &value {
            Value::String(s) if crate::time::Timestamp::parse_rfc3339(s).is_some() => value,
            _ => return Err(wrong()),
        },
        _ => match &value {
            Value::String(s) if s.chars().count() <= 10_000 => value,
            Value::Number(n) => Value::String(n.to_string()),
            _ => return Err(wrong()),
        },
    })
}

/// The branch a Bots.Business git export creates: `BB_Export_<UTC time>`
/// (`BB_Export_20261122_193000`).
pub fn git_export_branch(now: crate::Timestamp) -> String {
    let digits: String = now.to_rfc3339().chars().filter(char::is_ascii_digit).collect();
    format!("BB_Export_{}_{}", &digits[..8], &digits[8..14])
}
