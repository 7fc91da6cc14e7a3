//! Changing a bot: the patch a client sends, merged with Botpress's semantics (absent keys are
//! kept, map entries set to `null` are deleted) and checked against the limits.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::definition::*;
use super::limits::*;
use crate::error::{Error, ErrorCode, Result};

/// A change of a map: `Some(v)` sets the key, `None` deletes it, absent keys are untouched.
pub type MapPatch<T> = BTreeMap<String, Option<T>>;

/// Every change a client can make to a bot, from any dialect. `None` leaves the field alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BotChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `Some(None)` clears the URL.
    pub url: Option<Option<String>>,
    pub authentication: Option<Authentication>,
    pub configuration: Option<ConfigurationChanges>,
    pub tags: Option<MapPatch<String>>,
    pub user_tags: Option<MapPatch<TagDefinition>>,
    pub conversation_tags: Option<MapPatch<TagDefinition>>,
    pub message_tags: Option<MapPatch<TagDefinition>>,
    pub events: Option<MapPatch<EventDefinition>>,
    pub actions: Option<MapPatch<ActionDefinition>>,
    pub states: Option<MapPatch<StateDefinition>>,
    pub recurring_events: Option<MapPatch<RecurringEventSpec>>,
    pub integrations: Option<MapPatch<IntegrationInstance>>,
    pub plugins: Option<MapPatch<PluginInstance>>,
    /// `Some(None)`: subscribe to every event; `Some(Some(patch))`: change the list.
    pub subscriptions: Option<Option<MapPatch<Map<String, Value>>>>,
    pub secrets: Option<MapPatch<String>>,
    pub code: Option<String>,
    pub medias: Option<Vec<Media>>,
    pub layers: Option<Vec<String>>,
    pub max_execution_time: Option<u32>,
    pub always_alive: Option<bool>,
    pub blocked: Option<bool>,
    /// Bots.Business fields; `Some(None)` clears.
    pub telegram_token: Option<Option<String>>,
    pub csv_url: Option<Option<String>>,
    pub git_remote: Option<Option<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigurationChanges {
    pub data: Option<Map<String, Value>>,
    pub schema: Option<Map<String, Value>>,
}

fn merge<T>(target: &mut BTreeMap<String, T>, patch: MapPatch<T>) {
    for (key, value) in patch {
        match value {
            Some(value) => {
                target.insert(key, value);
            }
            None => {
                target.remove(&key);
            }
        }
    }
}

impl BotDefinition {
    /// Applies the definition part of `changes` and checks the result. On error `self` may be
    /// partly changed: callers apply to a copy and keep it only on success.
    pub fn apply(&mut self, c: BotChanges) -> Result<()> {
        if let Some(v) = c.description {
            self.description = Some(v);
        }
        if let Some(v) = c.url {
            self.url = v;
        }
        if let Some(v) = c.authentication {
            self.authentication = Some(v);
        }
        if let Some(conf) = c.configuration {
            if let Some(data) = conf.data {
                self.configuration.data = data;
            }
            if let Some(schema) = conf.schema {
                self.configuration.schema = schema;
            }
        }
        if let Some(p) = c.tags {
            merge(&mut self.tags, p);
        }
        if let Some(p) = c.user_tags {
            merge(&mut self.user.tags, p);
        }
        if let Some(p) = c.conversation_tags {
            merge(&mut self.conversation.tags, p);
        }
        if let Some(p) = c.message_tags {
            merge(&mut self.message.tags, p);
        }
        if let Some(p) = c.events {
            merge(&mut self.events, p);
        }
        if let Some(p) = c.actions {
            merge(&mut self.actions, p);
        }
        if let Some(p) = c.states {
            merge(&mut self.states, p);
        }
        if let Some(p) = c.recurring_events {
            for (key, spec) in p {
                match spec {
                    Some(spec) => {
                        self.recurring_events.insert(key, RecurringEvent::from_spec(spec));
                    }
                    None => {
                        self.recurring_events.remove(&key);
                    }
                }
            }
        }
        if let Some(p) = c.integrations {
            merge(&mut self.integrations, p);
        }
        if let Some(p) = c.plugins {
            merge(&mut self.plugins, p);
        }
        match c.subscriptions {
            None => {}
            Some(None) => self.subscriptions.events = None,
            Some(Some(p)) => merge(self.subscriptions.events.get_or_insert_with(BTreeMap::new), p),
        }
        if let Some(p) = c.secrets {
            merge(&mut self.secrets, p);
        }
        if let Some(v) = c.code {
            self.code = v;
        }
        if let Some(v) = c.medias {
            self.medias = v;
        }
        if let Some(v) = c.layers {
            self.layers = v;
        }
        if let Some(v) = c.max_execution_time {
            self.max_execution_time = Some(v);
        }
        if let Some(v) = c.always_alive {
            self.always_alive = v;
        }
        if let Some(v) = c.blocked {
            self.blocked = v;
        }
        self.validate()
    }

    /// Checks field lengths, limits, the configuration schema and data, and cron expressions.
    pub fn validate(&self) -> Result<()> {
        self.check_fields()?;
        self.check_limits()?;
        check_configuration(&self.configuration)?;
        for (key, event) in &self.recurring_events {
            check_cron(key, &event.schedule.cron)?;
        }
        Ok(())
    }

    fn check_fields(&self) -> Result<()> {
        if let Some(d) = &self.description {
            max_chars("description", d, DESCRIPTION_MAX_CHARS)?;
        }
        if let Some(url) = &self.url {
            max_chars("url", url, URL_MAX_CHARS)?;
        }
        for (key, value) in &self.tags {
            check_key("tags", key, TAG_KEY_MAX_CHARS)?;
            max_chars(&format!("tags.{key}"), value, TAG_VALUE_MAX_CHARS)?;
        }
        for (scope, defs) in [
            ("user", &self.user.tags),
            ("conversation", &self.conversation.tags),
            ("message", &self.message.tags),
        ] {
            for (key, def) in defs {
                check_key(&format!("{scope}.tags"), key, TAG_KEY_MAX_CHARS)?;
                if let Some(t) = &def.title {
                    max_chars(&format!("{scope}.tags.{key}.title"), t, TAG_TITLE_MAX_CHARS)?;
                }
                if let Some(d) = &def.description {
                    max_chars(&format!("{scope}.tags.{key}.description"), d, TAG_DESCRIPTION_MAX_CHARS)?;
                }
            }
        }
        for (key, event) in &self.events {
            check_key("events", key, KEY_MAX_CHARS)?;
            check_attributes(&format!("events.{key}"), &event.attributes)?;
            check_schema_size(&format!("events.{key}.schema"), &event.schema)?;
        }
        for (key, action) in &self.actions {
            check_key("actions", key, KEY_MAX_CHARS)?;
            check_attributes(&format!("actions.{key}"), &action.attributes)?;
            check_schema_size(&format!("actions.{key}.input.schema"), &action.input.schema)?;
            check_schema_size(&format!("actions.{key}.output.schema"), &action.output.schema)?;
        }
        for (key, state) in &self.states {
            check_key("states", key, KEY_MAX_CHARS)?;
            check_schema_size(&format!("states.{key}.schema"), &state.schema)?;
            if state.expiry == Some(0) {
                return Err(Error::invalid(format!("states.{key}.expiry must be at least 1")));
            }
        }
        for (key, event) in &self.recurring_events {
            check_key("recurringEvents", key, KEY_MAX_CHARS)?;
            max_chars(&format!("recurringEvents.{key}.schedule.cron"), &event.schedule.cron, CRON_MAX_CHARS)?;
            max_chars(&format!("recurringEvents.{key}.type"), &event.event_type, EVENT_TYPE_MAX_CHARS)?;
            if event.event_type.trim().is_empty() {
                return Err(Error::invalid(format!("recurringEvents.{key}.type must not be empty")));
            }
            if json_size(&event.payload) > RECURRING_PAYLOAD_MAX_BYTES {
                return Err(Error::limit(format!(
                    "recurringEvents.{key}.payload is larger than {} KB",
                    RECURRING_PAYLOAD_MAX_BYTES / 1024
                )));
            }
        }
        for key in self.integrations.keys() {
            check_key("integrations", key, KEY_MAX_CHARS)?;
        }
        for key in self.plugins.keys() {
            check_key("plugins", key, KEY_MAX_CHARS)?;
        }
        for (name, value) in &self.secrets {
            if !is_screaming_snake(name) {
                return Err(Error::invalid(format!(
                    "Secret name \"{name}\" must be in SCREAMING_SNAKE_CASE"
                )));
            }
            max_chars(&format!("secrets.{name}"), value, SECRET_VALUE_MAX_CHARS)?;
        }
        for media in &self.medias {
            max_chars("medias.url", &media.url, URL_MAX_CHARS)?;
            max_chars("medias.name", &media.name, KEY_MAX_CHARS)?;
        }
        for layer in &self.layers {
            max_chars("layers", layer, KEY_MAX_CHARS)?;
        }
        if self.code.len() > CODE_MAX_BYTES {
            return Err(Error::limit(format!("code is larger than {} KB", CODE_MAX_BYTES / 1024)));
        }
        if let Some(secs) = self.max_execution_time
            && (secs == 0 || secs > MAX_EXECUTION_TIME_MAX_SECS)
        {
            return Err(Error::invalid(format!(
                "maxExecutionTime must be between 1 and {MAX_EXECUTION_TIME_MAX_SECS} seconds"
            )));
        }
        Ok(())
    }

    fn check_limits(&self) -> Result<()> {
        let counts = [
            ("integrations", self.integrations.len(), INTEGRATIONS_MAX),
            ("plugins", self.plugins.len(), PLUGINS_MAX),
            ("recurring events", self.recurring_events.len(), RECURRING_EVENTS_MAX),
            ("event definitions", self.events.len(), EVENT_DEFINITIONS_MAX),
            ("action definitions", self.actions.len(), ACTION_DEFINITIONS_MAX),
            ("state definitions", self.states.len(), STATE_DEFINITIONS_MAX),
            ("user tag definitions", self.user.tags.len(), TAG_DEFINITIONS_MAX),
            ("conversation tag definitions", self.conversation.tags.len(), TAG_DEFINITIONS_MAX),
            ("message tag definitions", self.message.tags.len(), TAG_DEFINITIONS_MAX),
            ("tags", self.tags.len(), BOT_TAGS_MAX),
            ("secrets", self.secrets.len(), SECRETS_MAX),
            ("medias", self.medias.len(), MEDIAS_MAX),
            ("layers", self.layers.len(), LAYERS_MAX),
        ];
        for (what, count, max) in counts {
            if count > max {
                return Err(Error::limit(format!(
                    "A bot can have at most {max} {what} (this one would have {count})"
                )));
            }
        }
        if json_size(&self.configuration.data) > CONFIGURATION_DATA_MAX_BYTES {
            return Err(Error::limit(format!(
                "configuration.data is larger than {} KB",
                CONFIGURATION_DATA_MAX_BYTES / 1024
            )));
        }
        check_schema_size("configuration.schema", &self.configuration.schema)
    }
}

/// Checks that the schema is valid JSON Schema (draft-07) and that the data follows it.
pub fn check_configuration(conf: &Configuration) -> Result<()> {
    if conf.schema.is_empty() {
        return Ok(());
    }
    let schema = Value::Object(conf.schema.clone());
    let invalid_schema = |why: String| {
        Error::new(ErrorCode::InvalidJsonSchema, format!("The provided JSON schema is invalid: {why}"))
    };
    jsonschema::draft7::meta::validate(&schema).map_err(|e| invalid_schema(e.to_string()))?;
    let validator = jsonschema::draft7::new(&schema).map_err(|e| invalid_schema(e.to_string()))?;
    let data = Value::Object(conf.data.clone());
    if let Some(err) = validator.iter_errors(&data).next() {
        let path = err.instance_path().to_string();
        let at = if path.is_empty() { String::new() } else { format!(" at {path}") };
        return Err(Error::new(
            ErrorCode::InvalidDataFormat,
            format!("data doesn't respect the provided JSON schema{at}: {err}"),
        ));
    }
    Ok(())
}

/// Checks a cron expression (five fields, or six with seconds).
/// When a cron expression fires next, strictly after `after` (UTC).
pub fn next_cron_time(expression: &str, after: crate::Timestamp) -> Option<crate::Timestamp> {
    let cron: croner::Cron = expression.parse().ok()?;
    let start = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(after.millis())?;
    cron.find_next_occurrence(&start, false).ok().map(|t| crate::Timestamp(t.timestamp_millis()))
}

pub fn check_cron(key: &str, expression: &str) -> Result<()> {
    expression.parse::<croner::Cron>().map(|_| ()).map_err(|e| {
        Error::invalid(format!("recurringEvents.{key}.schedule.cron is not a valid cron expression: {e}"))
    })
}

fn json_size<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map(|v| v.len()).unwrap_or(usize::MAX)
}

fn check_schema_size(field: &str, schema: &Map<String, Value>) -> Result<()> {
    if json_size(schema) > SCHEMA_MAX_BYTES {
        return Err(Error::limit(format!("{field} is larger than {} KB", SCHEMA_MAX_BYTES / 1024)));
    }
    Ok(())
}

fn check_attributes(field: &str, attributes: &BTreeMap<String, String>) -> Result<()> {
    for (key, value) in attributes {
        check_key(&format!("{field}.attributes"), key, KEY_MAX_CHARS)?;
        max_chars(&format!("{field}.attributes.{key}"), value, ATTRIBUTE_MAX_CHARS)?;
    }
    Ok(())
}

/// Checks the length of a free-text field.
pub fn max_chars(field: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::invalid(format!("{field} must be at most {max} characters")));
    }
    Ok(())
}

fn check_key(field: &str, key: &str, max: usize) -> Result<()> {
    if key.is_empty() || key.chars().count() > max || key.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "Keys of {field} must be 1 to {max} printable characters (got \"{key}\")"
        )));
    }
    Ok(())
}

fn is_screaming_snake(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= KEY_MAX_CHARS
}

/// Checks a bot name given by a client.
pub fn check_name(name: &str) -> Result<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid("name must not be empty"));
    }
    crate::text::refuse_nul("name", trimmed)?;
    max_chars("name", trimmed, NAME_MAX_CHARS)?;
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn null_deletes_and_absent_keys_are_kept() {
        let mut def = BotDefinition::default();
        let event = EventDefinition {
            title: None,
            description: None,
            schema: Map::new(),
            attributes: BTreeMap::new(),
        };
        let mut events = MapPatch::new();
        events.insert("a".into(), Some(event.clone()));
        events.insert("b".into(), Some(event.clone()));
        def.apply(BotChanges { events: Some(events), ..Default::default() }).unwrap();
        let mut events = MapPatch::new();
        events.insert("a".into(), None);
        def.apply(BotChanges { events: Some(events), ..Default::default() }).unwrap();
        assert_eq!(def.events.keys().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn configuration_is_checked_when_either_half_changes() {
        let mut def = BotDefinition::default();
        let schema = obj(json!({"type": "object", "properties": {"n": {"type": "integer"}}}));
        let set_schema = BotChanges {
            configuration: Some(ConfigurationChanges { schema: Some(schema), data: None }),
            ..Default::default()
        };
        def.apply(set_schema).unwrap();
        let bad_data = BotChanges {
            configuration: Some(ConfigurationChanges { data: Some(obj(json!({"n": "x"}))), schema: None }),
            ..Default::default()
        };
        assert_eq!(def.clone().apply(bad_data).unwrap_err().code, ErrorCode::InvalidDataFormat);
        let bad_schema = BotChanges {
            configuration: Some(ConfigurationChanges { schema: Some(obj(json!({"type": 12}))), data: None }),
            ..Default::default()
        };
        assert_eq!(def.apply(bad_schema).unwrap_err().code, ErrorCode::InvalidJsonSchema);
    }

    #[test]
    fn cron_and_limits_are_enforced() {
        assert!(check_cron("k", "*/5 * * * *").is_ok());
        assert!(check_cron("k", "every minute").is_err());
        let mut def = BotDefinition::default();
        let mut states = MapPatch::new();
        for i in 0..=STATE_DEFINITIONS_MAX {
            states.insert(
                format!("s{i}"),
                Some(StateDefinition { state_type: StateType::User, schema: Map::new(), expiry: None }),
            );
        }
        let err = def.apply(BotChanges { states: Some(states), ..Default::default() }).unwrap_err();
        assert_eq!(err.code, ErrorCode::LimitExceeded);
    }
}
