//! Partial exports: what `exportOptions`, `subTasks` and `IncludeDependentTasks` choose of a
//! bot's components, and the definition they make.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::*;
use crate::{Error, ErrorCode, Result};

/// The tasks a partial export names (`subTasks`), each by name or id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubTasks {
    #[serde(default)]
    pub dialogs: Vec<String>,
    #[serde(default)]
    pub forms: Vec<String>,
    #[serde(default)]
    pub alerts: Vec<String>,
    #[serde(default)]
    pub actions: Vec<String>,
}

impl SubTasks {
    pub(super) fn names_any(&self) -> bool {
        [&self.dialogs, &self.forms, &self.alerts, &self.actions].into_iter().any(|l| !l.is_empty())
    }
}

/// What an export holds (`POST /bot/{botId}/export`).
///
/// Kore.ai documents `exportOptions` (the lists of a [`Choice`]), `subTasks` ("for partial export
/// mention the tasks to be exported", by name), `allTasks` ("ignored if subTasks is present") and
/// `IncludeDependentTasks`; where it is silent, botyard decides:
///
/// - `subTasks` names dialogs, forms, alert and action tasks by name (a dialog's `lname` or its
///   name in any language, without regard to case) or by id (`_id` or `refId`, as real exports
///   list them). An export naming any holds only the tasks named: a kind it names none of is left
///   out. Empty lists name nothing (Kore.ai's sample sends `"dialogs": []` beside `"allTasks":
///   true` for a full export). A name the bot does not have is refused, and so is naming a kind of
///   task the `tasks` list leaves out.
/// - `allTasks: false` without names exports no dialogs, forms, alert or action tasks.
/// - `IncludeDependentTasks` (off unless given) adds, transitively, the dialogs the chosen
///   dialogs' nodes lead to (sub-intents, linked dialogs) and the forms their form nodes fill
///   (if forms are chosen).
/// - A dialog's components come with it; the utterances and patterns of dialogs and forms left
///   out are left out too.
/// - `customDashboards: false` leaves out the custom dashboards.
/// - The bot's identity ([`setting_part`]), `config.json` (its `envVariables` only with
///   `botVariables`) and the icon are always exported.
/// - The lists of components not chosen are left out of `botDefinition.json` (as older Kore.ai
///   exports do), and its `exportOptions` says what the export holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSelection {
    #[serde(default)]
    pub choice: Choice,
    #[serde(default)]
    pub sub_tasks: SubTasks,
    #[serde(default)]
    pub all_tasks: Option<bool>,
    #[serde(default)]
    pub include_dependent_tasks: bool,
    #[serde(default)]
    pub custom_dashboards: Option<bool>,
}

impl ExportSelection {
    /// Reads and checks a request's fields. `subTasks` and `IncludeDependentTasks` may also sit
    /// inside `exportOptions`, where a real export's `botDefinition.json` keeps them; the request's
    /// own win.
    pub fn from_request(
        export_options: Option<&Value>,
        sub_tasks: Option<&Value>,
        all_tasks: Option<bool>,
        include_dependent_tasks: Option<bool>,
        custom_dashboards: Option<bool>,
    ) -> Result<Self> {
        let options = match export_options {
            None | Some(Value::Null) => None,
            Some(Value::Object(options)) => Some(options),
            Some(_) => return Err(Error::invalid("exportOptions must be an object")),
        };
        let choice: Choice = match options {
            Some(o) => serde_json::from_value(Value::Object(o.clone()))
                .map_err(|e| Error::invalid(format!("exportOptions: {e}")))?,
            None => Choice::default(),
        };
        let present = |v: &&Value| !v.is_null();
        let sub_tasks = match sub_tasks.filter(present).or_else(|| options?.get("subTasks").filter(present)) {
            Some(raw) => {
                serde_json::from_value(raw.clone()).map_err(|e| Error::invalid(format!("subTasks: {e}")))?
            }
            None => SubTasks::default(),
        };
        let nested = options.and_then(|o| o.get("IncludeDependentTasks")).and_then(Value::as_bool);
        let selection = Self {
            choice,
            sub_tasks,
            all_tasks,
            include_dependent_tasks: include_dependent_tasks.or(nested).unwrap_or(false),
            custom_dashboards,
        };
        if selection.choice.nothing() {
            return Err(Error::new(ErrorCode::InvalidIdentifier, "Please select at least one component"));
        }
        selection.choice.check("exportOptions")?;
        Ok(selection)
    }

    /// Whether the export holds the whole bot, as one without options does.
    pub fn is_full(&self) -> bool {
        self.choice.everything()
            && !self.sub_tasks.names_any()
            && self.all_tasks != Some(false)
            && self.custom_dashboards != Some(false)
    }

    /// Whether tasks are picked one by one (by `subTasks`, or none by `allTasks: false`).
    pub(super) fn picks_tasks(&self) -> bool {
        self.sub_tasks.names_any() || self.all_tasks == Some(false)
    }

    /// Fails unless every task the selection names is one of the bot's.
    pub fn check_against(&self, components: &[Component]) -> Result<()> {
        resolve(components, self).map(|_| ())
    }
}

/// The tasks a selection keeps, by index (into the components, or into the settings document's
/// `alerts` and `actions`); `None` keeps every one.
#[derive(Debug, Default)]
struct Kept {
    dialogs: Option<HashSet<usize>>,
    forms: Option<HashSet<usize>>,
    alerts: Option<HashSet<usize>>,
    actions: Option<HashSet<usize>>,
}

/// Whether `wanted` names a task: its `_id` or `refId`, or its `name`, `lname`, `displayName` or
/// name in any language, without regard to case.
fn is_named(task: &Value, wanted: &str) -> bool {
    let wanted = wanted.trim();
    let same = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(wanted));
    ["_id", "refId", "name", "lname", "displayName"].into_iter().any(|k| same(task.get(k)))
        || task
            .get("localeData")
            .and_then(Value::as_object)
            .is_some_and(|locales| locales.values().any(|l| same(l.get("name"))))
}

/// The tasks among `items` that `names` name; refuses a name none has.
fn pick(items: &[(usize, &Value)], names: &[String], field: &str, what: &str) -> Result<HashSet<usize>> {
    let mut picked = HashSet::new();
    for name in names {
        let found: Vec<usize> = items.iter().filter(|(_, t)| is_named(t, name)).map(|(i, _)| *i).collect();
        if found.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidIdentifier,
                format!("subTasks.{field}: the bot has no {what} {name:?}"),
            ));
        }
        picked.extend(found);
    }
    Ok(picked)
}

fn resolve(components: &[Component], selection: &ExportSelection) -> Result<Kept> {
    let sub = &selection.sub_tasks;
    for (names, part, field) in [
        (&sub.dialogs, BOT_TASKS, "dialogs"),
        (&sub.alerts, BOT_TASKS, "alerts"),
        (&sub.actions, BOT_TASKS, "actions"),
        (&sub.forms, FORMS, "forms"),
    ] {
        if !names.is_empty() && !selection.choice.selects(part) {
            return Err(Error::invalid(format!(
                "subTasks.{field} names tasks that exportOptions.tasks leaves out (it needs {:?})",
                part.items[0]
            )));
        }
    }
    if !selection.picks_tasks() {
        return Ok(Kept::default());
    }
    let of = |kind: ComponentKind| -> Vec<(usize, &Value)> {
        components.iter().enumerate().filter(|(_, c)| c.kind == kind).map(|(i, c)| (i, &c.document)).collect()
    };
    let settings = components.iter().find(|c| c.kind == ComponentKind::Settings).map(|c| &c.document);
    let listed = |key: &str| -> Vec<(usize, &Value)> {
        settings
            .and_then(|s| s.get(key))
            .and_then(Value::as_array)
            .map(|items| items.iter().enumerate().collect())
            .unwrap_or_default()
    };
    let mut dialogs = pick(&of(ComponentKind::Dialog), &sub.dialogs, "dialogs", "dialog")?;
    let mut forms = pick(&of(ComponentKind::Form), &sub.forms, "forms", "form")?;
    let alerts = pick(&listed("alerts"), &sub.alerts, "alerts", "alert task")?;
    let actions = pick(&listed("actions"), &sub.actions, "actions", "action task")?;
    if selection.include_dependent_tasks {
        dependents(components, &mut dialogs, &mut forms);
    }
    Ok(Kept { dialogs: Some(dialogs), forms: Some(forms), alerts: Some(alerts), actions: Some(actions) })
}

/// Adds, transitively, the dialogs the kept dialogs' nodes lead to (a component's `dialogId`)
/// and the forms their form nodes fill (a component's `resourceId`).
fn dependents(components: &[Component], dialogs: &mut HashSet<usize>, forms: &mut HashSet<usize>) {
    let index = |kind: ComponentKind, keys: &'static [&'static str]| -> HashMap<&str, usize> {
        components
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == kind)
            .flat_map(|(i, c)| {
                keys.iter().filter_map(move |k| c.document.get(*k)?.as_str().map(|id| (id, i)))
            })
            .collect()
    };
    let dialog_ids = index(ComponentKind::Dialog, &["_id", "refId"]);
    let form_ids = index(ComponentKind::Form, &["_id", "refId"]);
    let node_components = index(ComponentKind::DialogComponent, &["_id"]);
    let mut queue: Vec<usize> = dialogs.iter().copied().collect();
    while let Some(dialog) = queue.pop() {
        for node in components[dialog].document.get("nodes").and_then(Value::as_array).into_iter().flatten() {
            let Some(&at) =
                node.get("componentId").and_then(Value::as_str).and_then(|id| node_components.get(id))
            else {
                continue;
            };
            let target = |key: &str| components[at].document.get(key).and_then(Value::as_str);
            if let Some(&next) = target("dialogId").and_then(|id| dialog_ids.get(id))
                && dialogs.insert(next)
            {
                queue.push(next);
            }
            if let Some(&form) = target("resourceId").and_then(|id| form_ids.get(id)) {
                forms.insert(form);
            }
        }
    }
}

/// The component ids a dialog's nodes use.
fn node_components(dialog: &Value) -> impl Iterator<Item = &str> {
    dialog
        .get("nodes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|n| n.get("componentId").and_then(Value::as_str))
}

fn ids(document: &Value) -> impl Iterator<Item = &str> {
    ["_id", "refId"].into_iter().filter_map(|k| document.get(k).and_then(Value::as_str))
}

/// Writes what `selection` chooses of a bot as the files of an export (all of it, as
/// [`assemble`] does, for a full one); see [`ExportSelection`].
pub fn export(
    components: &[Component],
    bot_uuid: &str,
    bot_name: &str,
    selection: &ExportSelection,
) -> Result<KoreFiles> {
    if selection.is_full() {
        return Ok(assemble(components, bot_uuid, bot_name));
    }
    let kept = resolve(components, selection)?;
    let choice = &selection.choice;
    let used: Option<HashSet<&str>> = kept
        .dialogs
        .as_ref()
        .map(|d| d.iter().flat_map(|&i| node_components(&components[i].document)).collect());
    let keeps = |i: usize, c: &Component| match c.kind {
        ComponentKind::Dialog => kept.dialogs.as_ref().is_none_or(|d| d.contains(&i)),
        ComponentKind::Form => kept.forms.as_ref().is_none_or(|f| f.contains(&i)),
        ComponentKind::DialogComponent => used
            .as_ref()
            .is_none_or(|u| c.document.get("_id").and_then(Value::as_str).is_some_and(|id| u.contains(id))),
        _ => true,
    };
    // The NLP data of dialogs, components and forms left out is left out with them.
    let left_out: HashSet<&str> = components
        .iter()
        .enumerate()
        .filter(|(i, c)| !keeps(*i, c))
        .flat_map(|(_, c)| ids(&c.document))
        .collect();
    let mut chosen = Vec::new();
    for (i, c) in components.iter().enumerate() {
        let keep = match c.kind {
            ComponentKind::Settings => {
                let document = prune_settings(&c.document, selection, &kept);
                chosen.push(Component { document, ..c.clone() });
                continue;
            }
            ComponentKind::Config | ComponentKind::Icon => true,
            ComponentKind::Pattern | ComponentKind::Sentence => {
                c.kind.part().is_some_and(|p| choice.selects(p))
                    && !["refId", "taskId"]
                        .into_iter()
                        .filter_map(|k| c.document.get(k).and_then(Value::as_str))
                        .any(|id| left_out.contains(id))
            }
            kind => kind.part().is_some_and(|p| choice.selects(p)) && keeps(i, c),
        };
        if keep {
            chosen.push(c.clone());
        }
    }
    let mut files = assemble(&chosen, bot_uuid, bot_name);
    if let Value::Object(definition) = &mut files.definition {
        for kind in ComponentKind::ALL {
            if let (Some(key), Some(part)) = (kind.definition_key(), kind.part())
                && !choice.selects(part)
            {
                definition.remove(key);
            }
        }
        if selection.custom_dashboards == Some(false) {
            definition.remove("customDashboards");
        }
        definition.insert("exportOptions".to_owned(), describe(selection, &chosen));
    }
    if !choice.selects(BOT_VARIABLES)
        && let Some(Value::Object(config)) = &mut files.config
        && config.contains_key("envVariables")
    {
        config.insert("envVariables".to_owned(), json!([]));
    }
    Ok(files)
}

/// The settings document without the keys of parts not chosen, and with only the alert and
/// action tasks kept.
fn prune_settings(document: &Value, selection: &ExportSelection, kept: &Kept) -> Value {
    let Value::Object(settings) = document else { return document.clone() };
    let mut out = Map::new();
    for (key, value) in settings {
        if !is_list_key(key) && setting_part(key).is_some_and(|p| !selection.choice.selects(p)) {
            continue;
        }
        let tasks = match key.as_str() {
            "alerts" => kept.alerts.as_ref(),
            "actions" => kept.actions.as_ref(),
            _ => None,
        };
        let value = match (tasks, value) {
            (Some(tasks), Value::Array(items)) => Value::Array(
                items.iter().enumerate().filter(|(i, _)| tasks.contains(i)).map(|(_, v)| v.clone()).collect(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// The `exportOptions` an export writes into its `botDefinition.json`: its lists, the tasks it
/// holds when they were picked (by id, as Kore.ai lists them), and `IncludeDependentTasks`.
fn describe(selection: &ExportSelection, chosen: &[Component]) -> Value {
    let mut out = selection.choice.describe();
    if selection.picks_tasks() {
        let of = |kind: ComponentKind| -> Vec<&str> {
            chosen.iter().filter(|c| c.kind == kind).filter_map(|c| ids(&c.document).next()).collect()
        };
        let settings = chosen.iter().find(|c| c.kind == ComponentKind::Settings).map(|c| &c.document);
        let listed = |key: &str| -> Vec<&str> {
            let items = settings.and_then(|s| s.get(key)).and_then(Value::as_array);
            items
                .into_iter()
                .flatten()
                .filter_map(|t| ids(t).next().or_else(|| t.get("name")?.as_str()))
                .collect()
        };
        out.insert(
            "subTasks".to_owned(),
            json!({
                "dialogs": of(ComponentKind::Dialog),
                "forms": of(ComponentKind::Form),
                "alerts": listed("alerts"),
                "actions": listed("actions"),
            }),
        );
    }
    out.insert("IncludeDependentTasks".to_owned(), json!(selection.include_dependent_tasks));
    Value::Object(out)
}
