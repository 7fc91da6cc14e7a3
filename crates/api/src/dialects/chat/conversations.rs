//! `/conversations`: a user's conversations with the bot, their participants and messages.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use botyard_domain::{Error, ErrorCode};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::WebUser;
use super::views::{ConversationView, Empty, MessageView, Meta, UserView};
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::{JsonBody, QueryPairs};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_conversation, list_conversations))
        .routes(routes!(get_or_create_conversation))
        .routes(routes!(get_conversation, delete_conversation))
        .routes(routes!(list_messages))
        .routes(routes!(add_participant, list_participants))
        .routes(routes!(get_participant, remove_participant))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct ConversationBody {
    id: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct ConversationEnvelope {
    conversation: ConversationView,
}

#[derive(Serialize, ToSchema)]
struct ConversationList {
    conversations: Vec<ConversationView>,
    meta: Meta,
}

/// `nextToken` of the Chat API: the id after which the next page starts.
fn after(query: &QueryPairs) -> botyard_domain::Result<i64> {
    match query.get("nextToken") {
        None | Some("") => Ok(0),
        Some(raw) => raw.parse().map_err(|_| Error::new(ErrorCode::InvalidQuery, "nextToken is invalid")),
    }
}

fn next_token(count: usize, last: Option<i64>) -> Meta {
    Meta {
        next_token: (count as u32 >= botyard_runtime::web::PAGE)
            .then(|| last.map(|l| l.to_string()))
            .flatten(),
    }
}

/// Create a conversation (`createConversation`); the user is its first participant.
#[utoipa::path(post, path = "/conversations", tag = "Chat API", params(("webhook" = String, Path)),
    request_body = ConversationBody, responses((status = 201, description = "The created conversation", body = ConversationEnvelope)))]
async fn create_conversation(
    me: WebUser,
    State(state): State<AppState>,
    JsonBody(body, _): Body<ConversationBody>,
) -> Result<Response> {
    let chat = state.runtime.web_create_conversation(&me.bot, &me.user, body.id.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(ConversationEnvelope { conversation: chat.into() })).into_response())
}

/// The conversation with this id, created if needed (`getOrCreateConversation`).
#[utoipa::path(post, path = "/conversations/get-or-create", tag = "Chat API", params(("webhook" = String, Path)),
    request_body = ConversationBody, responses((status = 201, description = "The conversation, created if it did not exist", body = ConversationEnvelope)))]
async fn get_or_create_conversation(
    me: WebUser,
    State(state): State<AppState>,
    JsonBody(body, _): Body<ConversationBody>,
) -> Result<Response> {
    let id = body.id.ok_or_else(|| Error::invalid("id is required"))?;
    let chat = state.runtime.web_get_or_create_conversation(&me.bot, &me.user, &id).await?;
    Ok((StatusCode::CREATED, Json(ConversationEnvelope { conversation: chat.into() })).into_response())
}

/// The user's conversations (`listConversations`).
#[utoipa::path(get, path = "/conversations", tag = "Chat API", params(("webhook" = String, Path), ("nextToken" = Option<String>, Query)),
    responses((status = 200, description = "A page of the user's conversations", body = ConversationList)))]
async fn list_conversations(
    me: WebUser,
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<ConversationList>> {
    let chats = state.runtime.web_conversations(&me.user, after(&query)?).await?;
    let meta = next_token(chats.len(), chats.last().map(|c| c.id));
    Ok(Json(ConversationList { conversations: chats.into_iter().map(Into::into).collect(), meta }))
}

/// A conversation of the user (`getConversation`).
#[utoipa::path(get, path = "/conversations/{id}", tag = "Chat API", params(("webhook" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "The conversation", body = ConversationEnvelope)))]
async fn get_conversation(
    me: WebUser,
    State(state): State<AppState>,
    Path((_webhook, id)): Path<(String, String)>,
) -> Result<Json<ConversationEnvelope>> {
    let chat = state.runtime.web_conversation(&me.bot, &me.user, &id).await?;
    Ok(Json(ConversationEnvelope { conversation: chat.into() }))
}

/// Delete a conversation and its messages (`deleteConversation`).
#[utoipa::path(delete, path = "/conversations/{id}", tag = "Chat API", params(("webhook" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "The conversation is deleted (an empty object)", body = Empty)))]
async fn delete_conversation(
    me: WebUser,
    State(state): State<AppState>,
    Path((_webhook, id)): Path<(String, String)>,
) -> Result<Json<Empty>> {
    state.runtime.web_delete_conversation(&me.bot, &me.user, &id).await?;
    Ok(Json(Empty {}))
}

#[derive(Serialize, ToSchema)]
struct MessageList {
    messages: Vec<MessageView>,
    meta: Meta,
}

/// The conversation's messages, oldest first (`listMessages`).
#[utoipa::path(get, path = "/conversations/{id}/messages", tag = "Chat API",
    params(("webhook" = String, Path), ("id" = String, Path), ("nextToken" = Option<String>, Query)),
    responses((status = 200, description = "A page of the conversation's messages, oldest first", body = MessageList)))]
async fn list_messages(
    me: WebUser,
    State(state): State<AppState>,
    Path((_webhook, id)): Path<(String, String)>,
    query: QueryPairs,
) -> Result<Json<MessageList>> {
    let messages = state.runtime.web_messages(&me.bot, &me.user, &id, after(&query)?).await?;
    let meta = next_token(messages.len(), messages.last().map(|m| m.id));
    let mut authors: HashMap<Option<i64>, String> = HashMap::new();
    let mut views = Vec::with_capacity(messages.len());
    for message in messages {
        let author = match authors.get(&message.user_id) {
            Some(a) => a.clone(),
            None => {
                let a = state.runtime.web_author(&me.bot, &message).await?;
                authors.insert(message.user_id, a.clone());
                a
            }
        };
        views.push(MessageView::new(message, &id, author));
    }
    Ok(Json(MessageList { messages: views, meta }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ParticipantBody {
    user_id: String,
}

#[derive(Serialize, ToSchema)]
struct ParticipantEnvelope {
    participant: UserView,
}

#[derive(Serialize, ToSchema)]
struct ParticipantList {
    participants: Vec<UserView>,
    meta: Meta,
}

/// Add another user of the bot to the conversation (`addParticipant`).
#[utoipa::path(post, path = "/conversations/{id}/participants", tag = "Chat API", params(("webhook" = String, Path), ("id" = String, Path)),
    request_body = ParticipantBody, responses((status = 200, description = "The added participant", body = ParticipantEnvelope)))]
async fn add_participant(
    me: WebUser,
    State(state): State<AppState>,
    Path((_webhook, id)): Path<(String, String)>,
    JsonBody(body, _): Body<ParticipantBody>,
) -> Result<Json<ParticipantEnvelope>> {
    let user = state.runtime.web_add_participant(&me.bot, &me.user, &id, &body.user_id).await?;
    Ok(Json(ParticipantEnvelope { participant: user.into() }))
}

/// The conversation's participants (`listParticipants`).
#[utoipa::path(get, path = "/conversations/{id}/participants", tag = "Chat API", params(("webhook" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "The conversation's participants", body = ParticipantList)))]
async fn list_participants(
    me: WebUser,
    State(state): State<AppState>,
    Path((_webhook, id)): Path<(String, String)>,
) -> Result<Json<ParticipantList>> {
    let users = state.runtime.web_participants(&me.bot, &me.user, &id).await?;
    Ok(Json(ParticipantList {
        participants: users.into_iter().map(Into::into).collect(),
        meta: Meta { next_token: None },
    }))
}

/// One participant (`getParticipant`).
#[utoipa::path(get, path = "/conversations/{id}/participants/{user_id}", tag = "Chat API",
    params(("webhook" = String, Path), ("id" = String, Path), ("user_id" = String, Path)), responses((status = 200, description = "The participant", body = ParticipantEnvelope)))]
async fn get_participant(
    me: WebUser,
    State(state): State<AppState>,
    Path((_webhook, id, user)): Path<(String, String, String)>,
) -> Result<Json<ParticipantEnvelope>> {
    let user = state.runtime.web_participant(&me.bot, &me.user, &id, &user).await?;
    Ok(Json(ParticipantEnvelope { participant: user.into() }))
}

/// Remove a participant (`removeParticipant`); the owner cannot be removed.
#[utoipa::path(delete, path = "/conversations/{id}/participants/{user_id}", tag = "Chat API",
    params(("webhook" = String, Path), ("id" = String, Path), ("user_id" = String, Path)), responses((status = 200, description = "The participant is removed (an empty object)", body = Empty)))]
async fn remove_participant(
    me: WebUser,
    State(state): State<AppState>,
    Path((_webhook, id, user)): Path<(String, String, String)>,
) -> Result<Json<Empty>> {
    state.runtime.web_remove_participant(&me.bot, &me.user, &id, &user).await?;
    Ok(Json(Empty {}))
}
