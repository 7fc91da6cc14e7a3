//! What an import into an existing bot touches (`importOptions`, the [`Choice`] of parts it
//! shares with exports) and how its components merge with the bot's.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::*;
use crate::{Error, Result};

/// The lists of `exportOptions` and `importOptions` — `tasks`, `nlpData`, `settings` — saying
/// which parts of a bot an export holds or an import touches.
///
/// Kore.ai documents that everything is exported (imported) by default and that the lists name
/// what to include. So when none of the three is given everything is chosen, and once one is, a
/// list left out chooses nothing (`{"tasks": ["botTask"]}` is the dialogs, without NLP data or
/// settings). Items compare without regard to case; an item Kore.ai does not document is refused
/// rather than silently choosing nothing. What each item holds in botyard:
///
/// - `tasks`: `botTask` (dialogs with their components, alert and action tasks, scenes, widgets
///   and panels), `panels` (widgets and panels alone), `forms`, `knowledgeGraph`, `smallTalk`;
/// - `nlpData`: `utterances` (ML utterances), `patterns`, `training_data` (both), `nlpSettings`
///   (`advancedNLSettings`, `mlParams`, thresholds, multi-intent detection, …), `traits`,
///   `standardResponses` (`koraResponses`);
/// - `settings`: `botSettings` (every other setting, `config.json`, the icon, bot events, IdP
///   configurations, custom templates, bot functions), `botVariables` (content variables,
///   `variables`, the `envVariables` of `config.json`), `ivrSettings` (`ivrSettings` and the
///   voice channels' settings).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nlp_data: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Vec<String>>,
}

impl Choice {
    /// Whether everything is chosen: none of the lists is given.
    pub fn everything(&self) -> bool {
        self.tasks.is_none() && self.nlp_data.is_none() && self.settings.is_none()
    }

    /// Whether nothing is chosen: lists are given, all of them empty.
    pub fn nothing(&self) -> bool {
        !self.everything() && Group::ALL.into_iter().all(|g| self.list(g).is_none_or(Vec::is_empty))
    }

    pub(super) fn list(&self, group: Group) -> Option<&Vec<String>> {
        match group {
            Group::Tasks => self.tasks.as_ref(),
            Group::NlpData => self.nlp_data.as_ref(),
            Group::Settings => self.settings.as_ref(),
        }
    }

    pub(super) fn selects(&self, part: Part) -> bool {
        self.everything()
            || self.list(part.group).is_some_and(|list| {
                list.iter().any(|item| part.items.iter().any(|p| p.eq_ignore_ascii_case(item)))
            })
    }

    /// Fails on an item Kore.ai does not document; `field` names the options in the message.
    pub fn check(&self, field: &str) -> Result<()> {
        for group in Group::ALL {
            for item in self.list(group).into_iter().flatten() {
                if !group.items().iter().any(|known| known.eq_ignore_ascii_case(item)) {
                    return Err(Error::invalid(format!(
                        "{field}.{}: unknown item {item:?} (one of {})",
                        group.key(),
                        group.items().join(", ")
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether settings of the bot beyond its tasks are chosen (what an import logs as "Bot
    /// Definition").
    pub(super) fn touches_settings(&self) -> bool {
        [NLP_SETTINGS, TRAITS, STANDARD_RESPONSES, BOT_SETTINGS, BOT_VARIABLES, IVR_SETTINGS]
            .into_iter()
            .any(|p| self.selects(p))
    }

    /// The lists as an export writes them into its `exportOptions`.
    pub(super) fn describe(&self) -> Map<String, Value> {
        Group::ALL
            .into_iter()
            .map(|group| {
                let items = if self.everything() {
                    group.everything().iter().map(|i| (*i).to_owned()).collect()
                } else {
                    self.list(group).cloned().unwrap_or_default()
                };
                (group.key().to_owned(), json!(items))
            })
            .collect()
    }
}

/// Which parts of a bot an import into an existing bot touches (`importOptions`); absent, the
/// import is a full one and replaces every component. The lists choose as [`Choice`] says.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ImportOptions {
    #[serde(flatten)]
    pub choice: Choice,
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
    /// Whether the import touches components of `kind`. The settings document is merged key by
    /// key ([`merge`]); here it stands for the settings beyond the tasks. Bot functions are
    /// imported whenever the request gives some.
    pub fn includes(&self, kind: ComponentKind) -> bool {
        match kind {
            ComponentKind::Settings => self.choice.touches_settings(),
            ComponentKind::BotFunction => true,
            kind => kind.part().is_some_and(|p| self.choice.selects(p)),
        }
    }

    /// Leaves out the files of parts the import does not take (`config.json` and the icon are
    /// bot settings), so that their problems do not stop it.
    pub fn restrict_files(&self, files: &mut KoreFiles) {
        if !self.includes(ComponentKind::Config) {
            files.config = None;
        }
        if !self.includes(ComponentKind::Icon) {
            files.icon = None;
        }
    }

    /// What an incremental import takes from a checked file: the components and the status log
    /// lines of the parts it chooses. Problems in parts it leaves alone neither stop it nor show
    /// in its log (an import of dialogs does not fail on the file's icon). The settings document
    /// stays: [`merge`] takes from it only the keys chosen.
    pub fn restrict(&self, split: Split) -> Split {
        let functions = split.components.iter().any(|c| c.kind == ComponentKind::BotFunction);
        let logs = split
            .logs
            .into_iter()
            .filter(|log| match log_kind(&log.task_type) {
                Some(ComponentKind::BotFunction) => functions || log.is_failed(),
                Some(kind) => self.includes(kind),
                None => true,
            })
            .collect();
        let components = split
            .components
            .into_iter()
            .filter(|c| c.kind == ComponentKind::Settings || self.includes(c.kind))
            .collect();
        Split { components, logs }
    }
}

/// The kind of component a status log line of [`split`] reports on.
pub(super) fn log_kind(task_type: &str) -> Option<ComponentKind> {
    Some(match task_type {
        "Bot Definition" => ComponentKind::Settings,
        "IdpConfigurations" => ComponentKind::IdpConfiguration,
        "CustomTemplates" => ComponentKind::CustomTemplate,
        "BotFunctions" => ComponentKind::BotFunction,
        "Widget" => ComponentKind::Widget,
        "Dialog" => ComponentKind::Dialog,
        "Form" => ComponentKind::Form,
        "Event" => ComponentKind::Event,
        "KnowledgeTasks" => ComponentKind::KnowledgeTask,
        "Utterences" => ComponentKind::Sentence,
        "Patterns" => ComponentKind::Pattern,
        "BotVariables" => ComponentKind::ContentVariable,
        "SmallTalk" => ComponentKind::SmallTalk,
        _ => return None,
    })
}

/// The components of a bot after an import into it: a full import (`options` absent) replaces
/// them all; an incremental one replaces components with the same `refId` (event name, variable
/// key, …) and adds new ones, keeps the rest, and appends or replaces utterances and patterns.
/// Of the settings document it replaces only the keys of the chosen parts ([`setting_part`]),
/// keeping the bot's identity and every other setting as they were.
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
        if kind == ComponentKind::Settings {
            result.extend(merge_settings(old.into_iter().next(), new.into_iter().next(), &options.choice));
            continue;
        }
        if !options.includes(kind) || (new.is_empty() && kind == ComponentKind::BotFunction) {
            result.extend(old);
            continue;
        }
        match kind {
            ComponentKind::Config | ComponentKind::Icon => {
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

/// The settings document after an incremental import: the old one with the chosen keys taken
/// from the new one. A bot without one gets the imported document's identity and chosen keys,
/// if any key is chosen.
pub(super) fn merge_settings(
    old: Option<Component>,
    new: Option<Component>,
    choice: &Choice,
) -> Option<Component> {
    let Some(new) = new else { return old };
    let Value::Object(incoming) = &new.document else { return old };
    let chosen = |key: &str| setting_part(key).is_some_and(|p| choice.selects(p));
    let Some(mut old) = old else {
        if !incoming.keys().any(|k| !is_list_key(k) && chosen(k)) {
            return None;
        }
        let document = incoming
            .iter()
            .filter(|(k, _)| is_list_key(k) || setting_part(k).is_none_or(|p| choice.selects(p)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        return Some(Component { document: Value::Object(document), ..new });
    };
    if let Value::Object(document) = &mut old.document {
        for (key, value) in incoming {
            if chosen(key) || (is_list_key(key) && !document.contains_key(key)) {
                document.insert(key.clone(), value.clone());
            }
        }
    }
    Some(old)
}
