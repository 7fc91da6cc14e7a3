//! The Botpress-shaped definition of a bot: configuration, tags, schemas of events, actions and
//! states, recurring events, integrations, plugins, secrets and the bot's top-level code. Every
//! dialect reads it; the Botpress dialect edits it field by field.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BotDefinition {
    pub description: Option<String>,
    pub configuration: Configuration,
    pub tags: BTreeMap<String, String>,
    pub user: TagDefinitions,
    pub conversation: TagDefinitions,
    pub message: TagDefinitions,
    pub events: BTreeMap<String, EventDefinition>,
    pub actions: BTreeMap<String, ActionDefinition>,
    pub states: BTreeMap<String, StateDefinition>,
    pub recurring_events: BTreeMap<String, RecurringEvent>,
    pub integrations: BTreeMap<String, IntegrationInstance>,
    pub plugins: BTreeMap<String, PluginInstance>,
    pub subscriptions: Subscriptions,
    /// JavaScript run in the sandbox when the bot starts; it may register `on(...)` handlers.
    pub code: String,
    pub secrets: BTreeMap<String, String>,
    pub medias: Vec<Media>,
    pub layers: Vec<String>,
    pub url: Option<String>,
    pub authentication: Option<Authentication>,
    /// Seconds a run of the bot's code may take; capped by the server's configuration.
    pub max_execution_time: Option<u32>,
    pub always_alive: bool,
    pub blocked: bool,
}

/// The bot's configuration `data`, which must validate against `schema` (JSON Schema draft-07).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Configuration {
    pub data: Map<String, Value>,
    pub schema: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TagDefinitions {
    pub tags: BTreeMap<String, TagDefinition>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagDefinition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventDefinition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub schema: Map<String, Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaHolder {
    pub schema: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActionDefinition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cacheable: Option<bool>,
    pub input: SchemaHolder,
    pub output: SchemaHolder,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateType {
    Conversation,
    User,
    Bot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateDefinition {
    #[serde(rename = "type")]
    pub state_type: StateType,
    pub schema: Map<String, Value>,
    /// Milliseconds after which a state value expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub cron: String,
}

/// A recurring event as a client defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurringEventSpec {
    pub schedule: Schedule,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default)]
    pub payload: Map<String, Value>,
}

/// A recurring event with the bookkeeping of its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurringEvent {
    pub schedule: Schedule,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default)]
    pub payload: Map<String, Value>,
    #[serde(default)]
    pub failed_attempts: u32,
    #[serde(default)]
    pub last_failure_reason: Option<String>,
}

impl RecurringEvent {
    pub fn from_spec(spec: RecurringEventSpec) -> Self {
        Self {
            schedule: spec.schedule,
            event_type: spec.event_type,
            payload: spec.payload,
            failed_attempts: 0,
            last_failure_reason: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntegrationInstance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_channels: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginInstance {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interfaces: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrations: Option<Map<String, Value>>,
}

/// Which events the bot receives; `events: None` means all of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Subscriptions {
    pub events: Option<BTreeMap<String, Map<String, Value>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    pub url: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Authentication {
    #[serde(rename = "iam")]
    Iam,
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
}
