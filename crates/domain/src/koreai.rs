//! Kore.ai bot definitions. An export is `botDefinition.json` (settings and every component),
//! `config.json`, `icon.png` and bot function scripts. botyard keeps each component as one
//! [`Component`] (its JSON exactly as imported), so exporting gives back an equivalent
//! definition; the rest of the top-level document is the `Settings` component, with the places of
//! the component lists kept so the keys come back in their order.
//!
//! [`split`] checks an import component by component and writes the status log Kore.ai clients
//! poll, in Kore.ai's order; [`merge`] applies an import into an existing bot (full, or
//! incremental by `refId`); [`assemble`] writes the files back.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

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
    let Some(definition) = files.definition.as_object() else {
        out.logs.push(StatusLog::failed(
            "Bot Definition",
            bot_name,
            "botDefinition.json is not a JSON object",
        ));
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

/// Which parts of a bot an import into an existing bot touches (`importOptions`); absent, the
/// import is a full one and replaces every component.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportOptions {
    pub tasks: Option<Vec<String>>,
    pub nlp_data: Option<Vec<String>>,
    pub settings: Option<Vec<String>>,
    #[serde(default)]
    pub options: MergeOptions,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeOptions {
    #[serde(default)]
    pub utterances: AppendOrReplace,
    #[serde(default)]
    pub patterns: AppendOrReplace,
    #[serde(default)]
    pub bot_variables: IgnoreList,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AppendOrReplace {
    #[serde(default)]
    pub append: Option<bool>,
    #[serde(default)]
    pub replace: Option<bool>,
}

impl AppendOrReplace {
    /// Append is the default; `replace: true` wins.
    pub fn replaces(&self) -> bool {
        self.replace == Some(true)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct IgnoreList {
    #[serde(default)]
    pub ignore: Vec<String>,
}

impl ImportOptions {
    /// Whether the import touches components of `kind`.
    pub fn includes(&self, kind: ComponentKind) -> bool {
        let has = |list: &Option<Vec<String>>, item: &str| {
            list.as_ref().is_none_or(|l| l.iter().any(|i| i.eq_ignore_ascii_case(item)))
        };
        match kind {
            ComponentKind::Dialog
            | ComponentKind::DialogComponent
            | ComponentKind::Widget
            | ComponentKind::Panel => has(&self.tasks, "botTask"),
            ComponentKind::KnowledgeTask => has(&self.tasks, "knowledgeGraph"),
            ComponentKind::SmallTalk => has(&self.tasks, "smallTalk"),
            ComponentKind::Form => has(&self.tasks, "forms"),
            ComponentKind::Sentence => has(&self.nlp_data, "utterances"),
            ComponentKind::Pattern => has(&self.nlp_data, "patterns"),
            ComponentKind::ContentVariable => has(&self.settings, "botVariables"),
            ComponentKind::Settings
            | ComponentKind::Config
            | ComponentKind::Icon
            | ComponentKind::Event
            | ComponentKind::IdpConfiguration
            | ComponentKind::CustomTemplate => has(&self.settings, "botSettings"),
            ComponentKind::BotFunction => true,
        }
    }
}

/// The components of a bot after an import into it: a full import (`options` absent) replaces
/// them all; an incremental one replaces components with the same `refId` (event name, variable
/// key, …) and adds new ones, keeps the rest, and appends or replaces utterances and patterns.
pub fn merge(
    existing: Vec<Component>,
    incoming: Vec<Component>,
    options: Option<&ImportOptions>,
) -> Vec<Component> {
    let Some(options) = options else { return incoming };
    let mut result = Vec::new();
    for kind in ComponentKind::ALL {
        let old: Vec<Component> = existing.iter().filter(|c| c.kind == kind).cloned().collect();
        let new: Vec<Component> = incoming.iter().filter(|c| c.kind == kind).cloned().collect();
        if !options.includes(kind) || (new.is_empty() && kind == ComponentKind::BotFunction) {
            result.extend(old);
            continue;
        }
        match kind {
            ComponentKind::Settings | ComponentKind::Config | ComponentKind::Icon => {
                result.extend(if new.is_empty() { old } else { new });
            }
            ComponentKind::Sentence | ComponentKind::Pattern => {
                let replace = if kind == ComponentKind::Sentence {
                    options.options.utterances.replaces()
                } else {
                    options.options.patterns.replaces()
                };
                if replace {
                    result.extend(new);
                } else {
                    let mut merged = old;
                    for item in new {
                        if !merged.iter().any(|m| m.document == item.document) {
                            merged.push(item);
                        }
                    }
                    result.extend(merged);
                }
            }
            _ => {
                let ignored = &options.options.bot_variables.ignore;
                let mut merged = old;
                for item in new {
                    if kind == ComponentKind::ContentVariable
                        && item.ref_id.as_ref().is_some_and(|k| ignored.contains(k))
                    {
                        continue;
                    }
                    match merged.iter_mut().find(|m| m.ref_id.is_some() && m.ref_id == item.ref_id) {
                        Some(slot) => *slot = item,
                        None => merged.push(item),
                    }
                }
                result.extend(merged);
            }
        }
    }
    result
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
mod tests {
    use super::*;

    fn definition() -> Value {
        json!({
            "_id": "st-1", "defaultLanguage": "en", "localeData": {"en": {"name": "Demo"}},
            "botEvents": {"WELCOME_MESSAGE_EVENT": {"enabled": true}},
            "dialogComponents": [{"_id": "dc-1", "refId": "r-dc-1", "name": "Intent", "type": "intent"}],
            "dialogs": [{"_id": "dg-1", "refId": "r-dg-1", "lname": "greet", "localeData": {"en": {"name": "Greet"}},
                         "nodes": [{"nodeId": "intent0", "componentId": "dc-1"}]}],
            "forms": [{"refId": "r-f-1", "name": "Survey"}],
            "patterns": [{"refId": "r-dg-1", "value": "hi"}],
            "color": "#009dab"
        })
    }

    #[test]
    fn split_logs_in_kore_order_and_assembles_back() {
        let files = KoreFiles {
            definition: definition(),
            config: Some(json!({"name": "Demo"})),
            ..KoreFiles::default()
        };
        let split = split(&files, "Demo");
        let types: Vec<_> = split.logs.iter().map(|l| format!("{}:{}", l.task_type, l.task_name)).collect();
        assert_eq!(
            types,
            [
                "Bot Definition:Demo",
                "IdpConfigurations:IdpConfigurations",
                "CustomTemplates:CustomTemplates",
                "BotFunctions:Bot Functions",
                "Dialog:Greet",
                "Form:Survey",
                "Event:WELCOME_MESSAGE_EVENT",
                "KnowledgeTasks:KnowledgeTasks",
                "Utterences:Utterences",
                "Patterns:Patterns",
                "BotVariables:BotVariables",
                "SmallTalk:SmallTalk"
            ]
        );
        let files_back = assemble(&split.components, "x", "Demo");
        let mut expected = definition();
        for key in [
            "idpConfigurations",
            "customTemplates",
            "widgets",
            "panels",
            "knowledgeTasks",
            "sentences",
            "contentVariables",
            "smallTalk",
        ] {
            expected[key] = json!([]);
        }
        assert_eq!(files_back.definition, expected);
        assert_eq!(files_back.config, Some(json!({"name": "Demo"})));
    }

    #[test]
    fn broken_components_are_logged_failed() {
        let mut bad = definition();
        bad["dialogs"][0]["nodes"][0]["componentId"] = json!("dc-missing");
        bad["forms"] = json!([{"name": "NoRef"}]);
        let split = split(&KoreFiles { definition: bad, ..KoreFiles::default() }, "Demo");
        let failed: Vec<_> =
            split.logs.iter().filter(|l| l.is_failed()).map(|l| l.reason.clone().unwrap()).collect();
        assert_eq!(failed, ["node intent0 refers to the missing component dc-missing", "it has no refId"]);
    }

    #[test]
    fn incremental_imports_match_by_ref_id() {
        let old = split(&KoreFiles { definition: definition(), ..KoreFiles::default() }, "Demo").components;
        let mut changed = definition();
        changed["dialogs"][0]["lname"] = json!("greet2");
        changed["forms"] = json!([{"refId": "r-f-2", "name": "Other"}]);
        changed["patterns"] = json!([{"refId": "r-dg-1", "value": "hello"}]);
        let new = split(&KoreFiles { definition: changed, ..KoreFiles::default() }, "Demo").components;
        let options = ImportOptions::default();
        let merged = merge(old.clone(), new.clone(), Some(&options));
        let forms: Vec<_> =
            merged.iter().filter(|c| c.kind == ComponentKind::Form).map(|c| c.name.clone()).collect();
        assert_eq!(forms, ["Survey", "Other"]);
        let dialog = merged.iter().find(|c| c.kind == ComponentKind::Dialog).unwrap();
        assert_eq!(dialog.document["lname"], "greet2");
        assert_eq!(merged.iter().filter(|c| c.kind == ComponentKind::Pattern).count(), 2);
        let replace: ImportOptions =
            serde_json::from_value(json!({"options": {"patterns": {"replace": true}}})).unwrap();
        let merged = merge(old.clone(), new.clone(), Some(&replace));
        assert_eq!(merged.iter().filter(|c| c.kind == ComponentKind::Pattern).count(), 1);
        let only_forms: ImportOptions =
            serde_json::from_value(json!({"tasks": ["forms"], "nlpData": [], "settings": []})).unwrap();
        let merged = merge(old.clone(), new, Some(&only_forms));
        assert_eq!(
            merged.iter().find(|c| c.kind == ComponentKind::Dialog).unwrap().document["lname"],
            "greet"
        );
        assert_eq!(merge(old.clone(), Vec::new(), None), Vec::<Component>::new());
    }

    #[test]
    fn base64_round_trips() {
        for bytes in [&b""[..], b"a", b"ab", b"abc", b"\x89PNG\r\n\x1a\n\x00\xff"] {
            assert_eq!(unbase64(&base64(bytes)).unwrap(), bytes);
        }
        assert_eq!(base64(b"ab"), "YWI=");
    }
}
