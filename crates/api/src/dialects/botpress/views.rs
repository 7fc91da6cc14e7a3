//! Botpress's wire types for bots: the body of `createBot`/`updateBot`, and the bot as
//! Botpress returns it.

use std::collections::BTreeMap;

use botyard_domain::bot::{
    ActionDefinition, Authentication, Bot, BotChanges, Configuration, ConfigurationChanges, EventDefinition,
    IntegrationInstance, MapPatch, Media, PluginInstance, RecurringEvent, RecurringEventSpec,
    StateDefinition, Subscriptions, TagDefinition, TagDefinitions,
};
use serde::{Deserialize, Serialize};

use crate::common::extract::nullable;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The body of `POST /v1/admin/bots` and `PUT /v1/admin/bots/{id}`: every field optional,
/// map entries set to `null` deleted, unknown fields rejected.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BotBody {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub url: Option<Option<String>>,
    #[schema(value_type = Option<String>)]
    pub authentication: Option<Authentication>,
    pub configuration: Option<ConfigurationBody>,
    #[schema(value_type = Option<Object>)]
    pub tags: Option<BTreeMap<String, Option<String>>>,
    pub blocked: Option<bool>,
    /// Maximum execution time of a run, in seconds.
    pub max_execution_time: Option<u32>,
    pub always_alive: Option<bool>,
    pub user: Option<TagsBody>,
    pub message: Option<TagsBody>,
    pub conversation: Option<TagsBody>,
    #[schema(value_type = Option<Object>)]
    pub events: Option<BTreeMap<String, Option<EventDefinition>>>,
    #[schema(value_type = Option<Object>)]
    pub actions: Option<BTreeMap<String, Option<ActionDefinition>>>,
    #[schema(value_type = Option<Object>)]
    pub states: Option<BTreeMap<String, Option<StateDefinition>>>,
    #[schema(value_type = Option<Object>)]
    pub recurring_events: Option<BTreeMap<String, Option<RecurringEventSpec>>>,
    #[schema(value_type = Option<Object>)]
    pub integrations: Option<BTreeMap<String, Option<IntegrationInstance>>>,
    #[schema(value_type = Option<Object>)]
    pub plugins: Option<BTreeMap<String, Option<PluginInstance>>>,
    pub subscriptions: Option<SubscriptionsBody>,
    /// JavaScript of the bot.
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub medias: Option<Vec<Media>>,
    pub layers: Option<Vec<String>>,
    /// Accepted and ignored, as by Botpress.
    #[allow(dead_code)]
    pub should_merge_plugins: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub secrets: Option<BTreeMap<String, Option<String>>>,
    /// Only when creating: a development bot.
    pub dev: Option<bool>,
    /// `adk`, the only kind of bot botyard has (defined by code, not in Studio or Desk).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationBody {
    #[schema(value_type = Option<Object>)]
    pub data: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    pub schema: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsBody {
    #[schema(value_type = Option<Object>)]
    pub tags: Option<BTreeMap<String, Option<TagDefinition>>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsBody {
    /// `null` subscribes to every event.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub events: Option<Option<MapPatch<Map<String, Value>>>>,
}

/// The one `type` of bot botyard has: defined by code (commands, scripts, the bot's code).
pub const BOT_TYPE: &str = "adk";

impl BotBody {
    /// Refuses a `type` other than botyard's one.
    pub fn check_type(&self) -> botyard_domain::Result<()> {
        match self.kind.as_deref() {
            None | Some(BOT_TYPE) => Ok(()),
            Some(other) => Err(botyard_domain::Error::invalid(format!(
                "type \"{other}\" is not supported: botyard bots are defined by code (type \"adk\")"
            ))),
        }
    }

    /// The domain change this body asks for.
    pub fn into_changes(self) -> BotChanges {
        let tags =
            self.tags.map(|tags| tags.into_iter().map(|(k, v)| (k, v.filter(|v| !v.is_empty()))).collect());
        BotChanges {
            name: self.name,
            description: self.description,
            url: self.url,
            authentication: self.authentication,
            configuration: self
                .configuration
                .map(|c| ConfigurationChanges { data: c.data, schema: c.schema }),
            tags,
            user_tags: self.user.and_then(|t| t.tags),
            conversation_tags: self.conversation.and_then(|t| t.tags),
            message_tags: self.message.and_then(|t| t.tags),
            events: self.events,
            actions: self.actions,
            states: self.states,
            recurring_events: self.recurring_events,
            integrations: self.integrations,
            plugins: self.plugins,
            subscriptions: self.subscriptions.and_then(|s| s.events),
            secrets: self.secrets,
            code: self.code,
            medias: self.medias,
            layers: self.layers,
            max_execution_time: self.max_execution_time,
            always_alive: self.always_alive,
            blocked: self.blocked,
            ..BotChanges::default()
        }
    }
}

/// A bot as Botpress returns it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotView {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    /// Shown to those who may change the bot (owners, administrators, developers), not to
    /// viewers: it lets its holder sign as the bot and open its web app pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    #[schema(value_type = Object)]
    pub integrations: BTreeMap<String, IntegrationInstance>,
    #[schema(value_type = Object)]
    pub plugins: BTreeMap<String, PluginInstance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_execution_time: Option<u32>,
    #[schema(value_type = Object)]
    pub user: TagDefinitions,
    #[schema(value_type = Object)]
    pub conversation: TagDefinitions,
    #[schema(value_type = Object)]
    pub message: TagDefinitions,
    #[schema(value_type = Object)]
    pub states: BTreeMap<String, StateDefinition>,
    #[schema(value_type = Object)]
    pub configuration: Configuration,
    #[schema(value_type = Object)]
    pub events: BTreeMap<String, EventDefinition>,
    #[schema(value_type = Object)]
    pub recurring_events: BTreeMap<String, RecurringEvent>,
    #[schema(value_type = Object)]
    pub subscriptions: Subscriptions,
    #[schema(value_type = Object)]
    pub actions: BTreeMap<String, ActionDefinition>,
    pub tags: BTreeMap<String, String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<String>,
    pub dev: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub always_alive: bool,
    pub status: String,
    #[schema(value_type = Vec<Object>)]
    pub medias: Vec<Media>,
    /// Names of the bot's secrets; values are never returned.
    pub secrets: Vec<String>,
    /// botyard: the webhook id of the bot's web chat channel (`/chat/{webhookId}`).
    pub web_channel_id: String,
    /// Always `adk`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl BotView {
    pub fn new(bot: Bot, with_secret: bool) -> Self {
        let d = bot.definition;
        Self {
            id: bot.id.to_string(),
            created_at: bot.created_at.to_rfc3339(),
            updated_at: bot.updated_at.to_rfc3339(),
            signing_secret: with_secret.then_some(bot.signing_secret),
            integrations: d.integrations,
            plugins: d.plugins,
            max_execution_time: d.max_execution_time,
            user: d.user,
            conversation: d.conversation,
            message: d.message,
            states: d.states,
            configuration: d.configuration,
            events: d.events,
            recurring_events: d.recurring_events,
            subscriptions: d.subscriptions,
            actions: d.actions,
            tags: d.tags,
            name: bot.name,
            description: d.description,
            deployed_at: bot.deployed_at.map(|t| t.to_rfc3339()),
            dev: bot.dev,
            created_by: bot.created_by.map(|u| u.to_string()),
            always_alive: d.always_alive,
            status: bot.status.as_str().to_owned(),
            medias: d.medias,
            secrets: d.secrets.into_keys().collect(),
            web_channel_id: bot.web_channel_id,
            kind: BOT_TYPE,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BotEnvelope {
    pub bot: BotView,
}

/// A bot in a listing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BotSummary {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Always `adk`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl From<Bot> for BotSummary {
    fn from(bot: Bot) -> Self {
        Self {
            id: bot.id.to_string(),
            created_at: bot.created_at.to_rfc3339(),
            updated_at: bot.updated_at.to_rfc3339(),
            name: bot.name,
            deployed_at: bot.deployed_at.map(|t| t.to_rfc3339()),
            tags: bot.definition.tags,
            kind: BOT_TYPE,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BotList {
    pub bots: Vec<BotSummary>,
    pub meta: ListMeta,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedSecret {
    pub new_signing_secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Empty {}
