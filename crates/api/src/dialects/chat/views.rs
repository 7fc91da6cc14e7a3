//! The Chat API's wire types.

use botyard_domain::conversation::{BotUser, Chat, ChatMessage};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<BotUser> for UserView {
    fn from(u: BotUser) -> Self {
        Self {
            id: u.external_id,
            name: u.first_name,
            picture_url: u.picture_url,
            profile: u.profile,
            created_at: u.created_at.to_rfc3339(),
            updated_at: u.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Chat> for ConversationView {
    fn from(c: Chat) -> Self {
        Self {
            id: c.external_id,
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: String,
    pub created_at: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    /// The author: a user's id, or the bot's id for the bot's messages.
    pub user_id: String,
    pub conversation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

impl MessageView {
    pub fn new(m: ChatMessage, conversation: &str, author: String) -> Self {
        Self {
            id: m.uid,
            created_at: m.created_at.to_rfc3339(),
            payload: m.payload,
            user_id: author,
            conversation_id: conversation.to_owned(),
            metadata: m.metadata,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Empty {}
