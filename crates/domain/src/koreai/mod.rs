//! Kore.ai bot definitions. An export is `botDefinition.json` (settings and every component),
//! `config.json`, `icon.png` and bot function scripts. botyard keeps each component as one
//! [`Component`] (its JSON exactly as imported), so exporting gives back an equivalent
//! definition; the rest of the top-level document is the `Settings` component, with the places of
//! the component lists kept so the keys come back in their order.
//!
//! [`check_definition`] tells a bot definition from other JSON; [`split`] checks an import
//! component by component and writes the status log Kore.ai clients poll, in Kore.ai's order;
//! [`ImportOptions`] and [`merge`] apply an import into an existing bot (full, or incremental by
//! `refId`, touching only the parts chosen); [`assemble`] writes the files back, and [`export`]
//! the part of them an [`ExportSelection`] chooses.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Result;

mod export;
mod options;
pub use export::*;
pub use options::*;

/// Bot functions files may not be larger than this (Kore.ai's limit).
pub const BOT_FUNCTIONS_MAX_BYTES: usize = 500 * 1024;
/// Icons may not be larger than this (Kore.ai's limit).
pub const ICON_MAX_BYTES: usize = 80 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    /// The top-level document without the component lists.
    Settings,
    /// `config.json`.
    Config,
    /// `icon.png`, as `{"png": "<base64>"}`.
    Icon,
    /// A bot functions script, as `{"fileName", "content"}`.
    BotFunction,
    IdpConfiguration,
    CustomTemplate,
    Widget,
    Panel,
    Dialog,
    DialogComponent,
    Form,
    /// One entry of `botEvents`; its name is the event's key.
    Event,
    KnowledgeTask,
    /// An ML utterance (`sentences[]`).
    Sentence,
    Pattern,
    /// A bot variable (`contentVariables[]`).
    ContentVariable,
    SmallTalk,
}

impl ComponentKind {
    pub const ALL: [ComponentKind; 17] = [
        Self::Settings,
        Self::Config,
        Self::Icon,
        Self::BotFunction,
        Self::IdpConfiguration,
        Self::CustomTemplate,
        Self::Widget,
        Self::Panel,
        Self::Dialog,
        Self::DialogComponent,
        Self::Form,
        Self::Event,
        Self::KnowledgeTask,
        Self::Sentence,
        Self::Pattern,
        Self::ContentVariable,
        Self::SmallTalk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Settings => "settings",
            Self::Config => "config",
            Self::Icon => "icon",
            Self::BotFunction => "bot_function",
            Self::IdpConfiguration => "idp_configuration",
            Self::CustomTemplate => "custom_template",
            Self::Widget => "widget",
            Self::Panel => "panel",
            Self::Dialog => "dialog",
            Self::DialogComponent => "dialog_component",
            Self::Form => "form",
            Self::Event => "event",
            Self::KnowledgeTask => "knowledge_task",
            Self::Sentence => "sentence",
            Self::Pattern => "pattern",
            Self::ContentVariable => "content_variable",
            Self::SmallTalk => "small_talk",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// The key of the list (or map, for events) in `botDefinition.json`.
    fn definition_key(self) -> Option<&'static str> {
        Some(match self {
            Self::IdpConfiguration => "idpConfigurations",
            Self::CustomTemplate => "customTemplates",
            Self::Widget => "widgets",
            Self::Panel => "panels",
            Self::Dialog => "dialogs",
            Self::DialogComponent => "dialogComponents",
            Self::Form => "forms",
            Self::Event => "botEvents",
            Self::KnowledgeTask => "knowledgeTasks",
            Self::Sentence => "sentences",
            Self::Pattern => "patterns",
            Self::ContentVariable => "contentVariables",
            Self::SmallTalk => "smallTalk",
            Self::Settings | Self::Config | Self::Icon | Self::BotFunction => return None,
        })
    }
}

/// One piece of a Kore.ai definition, stored as imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub kind: ComponentKind,
    /// What matches it across imports: `refId` (dialogs, forms, widgets, …), the event name, the
    /// variable key, the small-talk language or the functions file name.
    pub ref_id: Option<String>,
    pub name: String,
    pub document: Value,
}

/// The files of an import or export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KoreFiles {
    pub definition: Value,
    pub config: Option<Value>,
    pub icon: Option<Vec<u8>>,
    /// `(file name, script)`.
    pub functions: Vec<(String, String)>,
}

/// One line of an import's `statusLogs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusLog {
    pub task_type: String,
    pub task_name: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl StatusLog {
    pub fn success(task_type: &str, task_name: &str) -> Self {
        Self {
            task_type: task_type.into(),
            task_name: task_name.into(),
            status: "success".into(),
            reason: None,
        }
    }

    pub fn failed(task_type: &str, task_name: &str, reason: impl Into<String>) -> Self {
        Self {
            task_type: task_type.into(),
            task_name: task_name.into(),
            status: "failed".into(),
            reason: Some(reason.into()),
        }
    }

    pub fn is_failed(&self) -> bool {
        self.status == "failed"
    }
}

/// A checked import: its components and one status log line per component.
#[derive(Debug, Clone, Default)]
pub struct Split {
    pub components: Vec<Component>,
    pub logs: Vec<StatusLog>,
}

impl Split {
    pub fn failures(&self) -> usize {
        self.logs.iter().filter(|l| l.is_failed()).count()
    }
}

/// Splits an import into components, checking each; `bot_name` names the bot in the log.
pub fn split(files: &KoreFiles, bot_name: &str) -> Split {
    let mut out = Split::default();
    let checked = check_definition(&files.definition);
    let (Ok(()), Some(definition)) = (&checked, files.definition.as_object()) else {
        let reason = checked.err().unwrap_or_else(|| "botDefinition is not a JSON object".to_owned());
        out.logs.push(StatusLog::failed("Bot Definition", bot_name, reason));
        return out;
    };
    let language = definition.get("defaultLanguage").and_then(Value::as_str).unwrap_or("en").to_owned();

    // Bot Definition: the settings document, config.json and the icon.
    let mut settings = Map::new();
    for (key, value) in definition {
        let placeholder = ComponentKind::ALL.iter().any(|k| k.definition_key() == Some(key.as_str()));
        let value = if !placeholder {
            value.clone()
        } else if key == "botEvents" {
            json!({})
        } else {
            json!([])
        };
        settings.insert(key.clone(), value);
    }
    let mut problem = None;
    if let Some(icon) = &files.icon {
        if icon.len() > ICON_MAX_BYTES {
            problem = Some(format!("the icon is larger than {} KB", ICON_MAX_BYTES / 1024));
        } else if !icon.starts_with(b"\x89PNG\r\n\x1a\n") {
            problem = Some("the icon is not a PNG image".to_owned());
        }
    }
    if let Some(config) = &files.config
        && !config.is_object()
    {
        problem = Some("config.json is not a JSON object".to_owned());
    }
    match problem {
        Some(reason) => out.logs.push(StatusLog::failed("Bot Definition", bot_name, reason)),
        None => {
            out.logs.push(StatusLog::success("Bot Definition", bot_name));
            out.components.push(component(ComponentKind::Settings, None, bot_name, Value::Object(settings)));
            if let Some(config) = &files.config {
                out.components.push(component(ComponentKind::Config, None, "config", config.clone()));
            }
            if let Some(icon) = &files.icon {
                out.components.push(component(
                    ComponentKind::Icon,
                    None,
                    "icon",
                    json!({"png": base64(icon)}),
                ));
            }
        }
    }

    group(&mut out, definition, ComponentKind::IdpConfiguration, "IdpConfigurations", |_| None);
    group(&mut out, definition, ComponentKind::CustomTemplate, "CustomTemplates", |_| None);
    bot_functions(&mut out, &files.functions);

    let dialog_components = list(definition, "dialogComponents");
    let known: std::collections::HashSet<&str> = dialog_components
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("_id").and_then(Value::as_str))
        .collect();
    each(&mut out, definition, ComponentKind::Widget, "Widget", |w| Ok(text(w, "name")));
    for (i, panel) in list(definition, "panels").into_iter().flatten().enumerate() {
        let name = text(panel, "name").unwrap_or_else(|| format!("panel {}", i + 1));
        out.components.push(component(ComponentKind::Panel, ref_id(panel), &name, panel.clone()));
    }
    each(&mut out, definition, ComponentKind::Dialog, "Dialog", |d| {
        let name = d
            .get("localeData")
            .and_then(|l| l.get(&language))
            .and_then(|l| text(l, "name"))
            .or_else(|| text(d, "lname"));
        let nodes = d.get("nodes").and_then(Value::as_array).ok_or("the dialog has no nodes list")?;
        for node in nodes {
            if let Some(id) = node.get("componentId").and_then(Value::as_str)
                && !known.contains(id)
            {
                let node_id = node.get("nodeId").and_then(Value::as_str).unwrap_or("?");
                return Err(format!("node {node_id} refers to the missing component {id}"));
            }
        }
        Ok(name)
    });
    match dialog_components {
        Some(items) => {
            for item in items {
                let name = text(item, "name").unwrap_or_default();
                out.components.push(component(
                    ComponentKind::DialogComponent,
                    ref_id(item),
                    &name,
                    item.clone(),
                ));
            }
        }
        None if definition.contains_key("dialogComponents") => {
            out.logs.push(StatusLog::failed("Dialog", "dialogComponents", "dialogComponents is not a list"))
        }
        None => {}
    }
    each(&mut out, definition, ComponentKind::Form, "Form", |f| Ok(text(f, "name")));
    events(&mut out, definition);
    group(&mut out, definition, ComponentKind::KnowledgeTask, "KnowledgeTasks", ref_id);
    group(&mut out, definition, ComponentKind::Sentence, "Utterences", |_| None);
    group(&mut out, definition, ComponentKind::Pattern, "Patterns", |_| None);
    group(&mut out, definition, ComponentKind::ContentVariable, "BotVariables", |v| text(v, "key"));
    group(&mut out, definition, ComponentKind::SmallTalk, "SmallTalk", |s| text(s, "language"));
    out
}

fn component(kind: ComponentKind, ref_id: Option<String>, name: &str, document: Value) -> Component {
    Component { kind, ref_id, name: name.to_owned(), document }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn ref_id(value: &Value) -> Option<String> {
    text(value, "refId").or_else(|| text(value, "_id"))
}

fn list<'a>(definition: &'a Map<String, Value>, key: &str) -> Option<&'a Vec<Value>> {
    definition.get(key).and_then(Value::as_array)
}

/// A list logged as one line (`KnowledgeTasks`, `Patterns`, …): every item must be an object.
fn group(
    out: &mut Split,
    definition: &Map<String, Value>,
    kind: ComponentKind,
    task: &str,
    key: impl Fn(&Value) -> Option<String>,
) {
    let field = kind.definition_key().unwrap_or_default();
    let items = match definition.get(field) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => {
            out.logs.push(StatusLog::failed(task, task, format!("{field} is not a list")));
            return;
        }
    };
    if let Some(i) = items.iter().position(|item| !item.is_object()) {
        out.logs.push(StatusLog::failed(task, task, format!("{field}[{i}] is not an object")));
        return;
    }
    for item in items {
        let ref_key = match kind {
            ComponentKind::KnowledgeTask => ref_id(&item),
            _ => key(&item),
        };
        let name = text(&item, "name").or_else(|| ref_key.clone()).unwrap_or_default();
        out.components.push(component(kind, ref_key, &name, item));
    }
    out.logs.push(StatusLog::success(task, task));
}

/// A list logged one line per item (widgets, dialogs, forms); `check` names an item or says what
/// is wrong with it.
fn each(
    out: &mut Split,
    definition: &Map<String, Value>,
    kind: ComponentKind,
    task: &str,
    check: impl Fn(&Value) -> Result<Option<String>, String>,
) {
    let field = kind.definition_key().unwrap_or_default();
    let items = match definition.get(field) {
        None | Some(Value::Null) => return,
        Some(Value::Array(items)) => items,
        Some(_) => {
            out.logs.push(StatusLog::failed(task, field, format!("{field} is not a list")));
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let fallback = format!("{field}[{i}]");
        if !item.is_object() {
            out.logs.push(StatusLog::failed(task, &fallback, "not a JSON object"));
            continue;
        }
        let Some(key) = ref_id(item) else {
            let name = text(item, "name").unwrap_or(fallback);
            out.logs.push(StatusLog::failed(task, &name, "it has no refId"));
            continue;
        };
        match check(item) {
            Ok(name) => {
                let name = name.unwrap_or(fallback);
                out.logs.push(StatusLog::success(task, &name));
                out.components.push(component(kind, Some(key), &name, item.clone()));
            }
            Err(reason) => {
                let name = text(item, "name").or_else(|| text(item, "lname")).unwrap_or(fallback);
                out.logs.push(StatusLog::failed(task, &name, reason));
            }
        }
    }
}

fn events(out: &mut Split, definition: &Map<String, Value>) {
    match definition.get("botEvents") {
        None | Some(Value::Null) => {}
        Some(Value::Object(events)) => {
            for (name, event) in events {
                if event.is_object() {
                    out.logs.push(StatusLog::success("Event", name));
                    out.components.push(component(
                        ComponentKind::Event,
                        Some(name.clone()),
                        name,
                        event.clone(),
                    ));
                } else {
                    out.logs.push(StatusLog::failed("Event", name, "the event is not a JSON object"));
                }
            }
        }
        Some(_) => out.logs.push(StatusLog::failed("Event", "botEvents", "botEvents is not an object")),
    }
}

fn bot_functions(out: &mut Split, functions: &[(String, String)]) {
    for (name, code) in functions {
        if code.len() > BOT_FUNCTIONS_MAX_BYTES {
            let reason = format!("{name} is larger than {} KB", BOT_FUNCTIONS_MAX_BYTES / 1024);
            out.logs.push(StatusLog::failed("BotFunctions", "Bot Functions", reason));
            return;
        }
    }
    for (name, code) in functions {
        let document = json!({"fileName": name, "content": code});
        out.components.push(component(ComponentKind::BotFunction, Some(name.clone()), name, document));
    }
    out.logs.push(StatusLog::success("BotFunctions", "Bot Functions"));
}

/// One of the lists of `exportOptions` and `importOptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Tasks,
    NlpData,
    Settings,
}

impl Group {
    const ALL: [Group; 3] = [Self::Tasks, Self::NlpData, Self::Settings];

    fn key(self) -> &'static str {
        match self {
            Self::Tasks => "tasks",
            Self::NlpData => "nlpData",
            Self::Settings => "settings",
        }
    }

    /// The items the list accepts: the names Kore.ai documents for exports and imports. Those
    /// botyard keeps nothing apart for (`synonyms`, `rules`, `concepts`, `genAIandLLMSettings`,
    /// …) are accepted and choose nothing of their own.
    fn items(self) -> &'static [&'static str] {
        match self {
            Self::Tasks => &["botTask", "knowledgeGraph", "smallTalk", "forms", "panels"],
            Self::NlpData => &[
                "nlpSettings",
                "utterances",
                "patterns",
                "training_data",
                "traits",
                "standardResponses",
                "synonyms",
                "bot_synonyms",
                "rules",
                "concepts",
                "defaultDialog",
            ],
            Self::Settings => &["botSettings", "botVariables", "ivrSettings", "genAIandLLMSettings"],
        }
    }

    /// What an export says it holds when everything is chosen.
    fn everything(self) -> &'static [&'static str] {
        match self {
            Self::Tasks => &["botTask", "knowledgeGraph", "smallTalk", "forms", "panels"],
            Self::NlpData => &["nlpSettings", "utterances", "patterns", "traits", "standardResponses"],
            Self::Settings => &["botSettings", "botVariables", "ivrSettings"],
        }
    }
}

/// A part of a bot: chosen by any of `items` in the list of `group`.
#[derive(Debug, Clone, Copy)]
struct Part {
    group: Group,
    items: &'static [&'static str],
}

const BOT_TASKS: Part = Part { group: Group::Tasks, items: &["botTask"] };
const VIEWS: Part = Part { group: Group::Tasks, items: &["botTask", "panels"] };
const FORMS: Part = Part { group: Group::Tasks, items: &["forms"] };
const KNOWLEDGE_GRAPH: Part = Part { group: Group::Tasks, items: &["knowledgeGraph"] };
const SMALL_TALK: Part = Part { group: Group::Tasks, items: &["smallTalk"] };
const UTTERANCES: Part = Part { group: Group::NlpData, items: &["utterances", "training_data"] };
const PATTERNS: Part = Part { group: Group::NlpData, items: &["patterns", "training_data"] };
const NLP_SETTINGS: Part = Part { group: Group::NlpData, items: &["nlpSettings"] };
const TRAITS: Part = Part { group: Group::NlpData, items: &["traits"] };
const STANDARD_RESPONSES: Part = Part { group: Group::NlpData, items: &["standardResponses"] };
const BOT_SETTINGS: Part = Part { group: Group::Settings, items: &["botSettings"] };
const BOT_VARIABLES: Part = Part { group: Group::Settings, items: &["botVariables"] };
const IVR_SETTINGS: Part = Part { group: Group::Settings, items: &["ivrSettings"] };

impl ComponentKind {
    /// The part of a bot components of this kind belong to; `None` for the settings document,
    /// whose keys are chosen one by one ([`setting_part`]).
    fn part(self) -> Option<Part> {
        Some(match self {
            Self::Settings => return None,
            Self::Dialog | Self::DialogComponent => BOT_TASKS,
            Self::Widget | Self::Panel => VIEWS,
            Self::Form => FORMS,
            Self::KnowledgeTask => KNOWLEDGE_GRAPH,
            Self::SmallTalk => SMALL_TALK,
            Self::Sentence => UTTERANCES,
            Self::Pattern => PATTERNS,
            Self::ContentVariable => BOT_VARIABLES,
            Self::Config
            | Self::Icon
            | Self::BotFunction
            | Self::Event
            | Self::IdpConfiguration
            | Self::CustomTemplate => BOT_SETTINGS,
        })
    }
}

/// The part of a bot a top-level key of `botDefinition.json` (other than the component lists)
/// belongs to. Kore.ai does not document this split; botyard's reading follows the names of the
/// export dialog's items. `None` is the bot's identity and the export's description of itself
/// (`_id`, `refId`, `type`, `purpose`, `defaultLanguage`, `supportedLanguages`, `localeData` —
/// names, descriptions and bot synonyms —, `exportOptions`, `unexportedTasks`, `encryptedHash`,
/// `environmentVersionInfo`): every export holds it and an incremental import never changes it.
/// Keys not named here are bot settings.
fn setting_part(key: &str) -> Option<Part> {
    Some(match key {
        "_id"
        | "refId"
        | "type"
        | "purpose"
        | "defaultLanguage"
        | "supportedLanguages"
        | "localeData"
        | "exportOptions"
        | "unexportedTasks"
        | "encryptedHash"
        | "environmentVersionInfo" => return None,
        "alerts" | "actions" | "scenes" | "sceneComponents" | "defaultDialogId" | "taskDgParamMaps"
        | "paramMaps" => BOT_TASKS,
        "widgetThemes" => VIEWS,
        "advancedNLSettings"
        | "mlParams"
        | "isNLEnabled"
        | "detectMultiIntent"
        | "enableNegativePatterns"
        | "isCsMatchEnabled"
        | "confidenceConfigs"
        | "multiLingualConfigurations" => NLP_SETTINGS,
        "traits" => TRAITS,
        "koraResponses" => STANDARD_RESPONSES,
        "variables" => BOT_VARIABLES,
        "ivrSettings" | "twilioVoiceSettings" | "audioCodesSettings" => IVR_SETTINGS,
        _ => BOT_SETTINGS,
    })
}

/// Whether `key` is where a list of components sits in `botDefinition.json`.
fn is_list_key(key: &str) -> bool {
    ComponentKind::ALL.iter().any(|k| k.definition_key() == Some(key))
}

/// Whether a document is a Kore.ai bot definition: a JSON object with a `defaultLanguage` and
/// that language's entry in `localeData`. Every real export has them (Kore.ai names the bot and
/// every localized component by them), full or partial; the component lists are not required,
/// since a partial export leaves out the lists it does not hold. Says why not, otherwise.
pub fn check_definition(definition: &Value) -> std::result::Result<(), String> {
    let Some(map) = definition.as_object() else {
        return Err("botDefinition is not a JSON object".to_owned());
    };
    let language = map.get("defaultLanguage").and_then(Value::as_str).filter(|l| !l.trim().is_empty());
    let entry = language.and_then(|l| map.get("localeData")?.get(l)).filter(|e| e.is_object());
    if entry.is_some() {
        return Ok(());
    }
    let mut reason = "botDefinition is not a Kore.ai bot definition: it has no defaultLanguage with its \
                      localeData entry"
        .to_owned();
    if map.contains_key("envVariables") {
        reason.push_str(" (this is a config.json: give it as configInfo)");
    }
    Err(reason)
}

/// The settings of a bot that was never imported from Kore.ai.
pub fn default_settings(bot_uuid: &str, bot_name: &str) -> Value {
    let mut settings = json!({
        "_id": format!("st-{bot_uuid}"),
        "refId": bot_uuid,
        "purpose": "customer",
        "defaultLanguage": "en",
        "supportedLanguages": ["en"],
        "localeData": {"en": {"name": bot_name, "description": ""}},
        "botEvents": {},
    });
    for kind in ComponentKind::ALL {
        if let Some(key) = kind.definition_key()
            && key != "botEvents"
        {
            settings[key] = json!([]);
        }
    }
    settings
}

/// Writes components back as the files of an export.
pub fn assemble(components: &[Component], bot_uuid: &str, bot_name: &str) -> KoreFiles {
    let settings = components
        .iter()
        .find(|c| c.kind == ComponentKind::Settings)
        .map(|c| c.document.clone())
        .unwrap_or_else(|| default_settings(bot_uuid, bot_name));
    let mut definition = match settings {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for kind in ComponentKind::ALL {
        let Some(key) = kind.definition_key() else { continue };
        let items = components.iter().filter(|c| c.kind == kind);
        let value = if kind == ComponentKind::Event {
            Value::Object(items.map(|c| (c.name.clone(), c.document.clone())).collect())
        } else {
            Value::Array(items.map(|c| c.document.clone()).collect())
        };
        definition.insert(key.to_owned(), value);
    }
    let config = components
        .iter()
        .find(|c| c.kind == ComponentKind::Config)
        .map(|c| c.document.clone())
        .unwrap_or_else(|| json!({"name": bot_name, "envVariables": []}));
    let icon = components
        .iter()
        .find(|c| c.kind == ComponentKind::Icon)
        .and_then(|c| c.document.get("png").and_then(Value::as_str).and_then(unbase64));
    let functions = components
        .iter()
        .filter(|c| c.kind == ComponentKind::BotFunction)
        .map(|c| (c.name.clone(), c.document.get("content").and_then(Value::as_str).unwrap_or("").to_owned()))
        .collect();
    KoreFiles { definition: Value::Object(definition), config: Some(config), icon, functions }
}

/// The name a Kore.ai definition gives its bot: `config.json`'s, else the default language's.
pub fn bot_name(files: &KoreFiles) -> Option<String> {
    let from_config = files.config.as_ref().and_then(|c| text(c, "name"));
    from_config.or_else(|| {
        let language = files.definition.get("defaultLanguage").and_then(Value::as_str).unwrap_or("en");
        files.definition.get("localeData").and_then(|l| l.get(language)).and_then(|l| text(l, "name"))
    })
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unbase64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests;
