//! `/messages` and `/events`: what a user sends the bot.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use botyard_domain::{Error, ErrorCode, Timestamp};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::WebUser;
use super::views::{Empty, MessageView};
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::JsonBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_message))
        .routes(routes!(get_message, delete_message))
        .routes(routes!(create_event))
        .routes(routes!(get_event))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MessageBody {
    #[schema(value_type = Object)]
    payload: Value,
    conversation_id: String,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
}

#[derive(Serialize, ToSchema)]
struct MessageEnvelope {
    message: MessageView,
}

/// Send a message to the bot (`createMessage`): it is stored, shown to the conversation's
/// listeners, and processed by the bot (unless the bot is stopped or the chat blocked).
#[utoipa::path(post, path = "/messages", tag = "Chat API", params(("webhook" = String, Path)), request_body = MessageBody,
    responses((status = 201, description = "The stored message", body = MessageEnvelope)))]
async fn create_message(
    me: WebUser,
    State(state): State<AppState>,
    JsonBody(body, _): Body<MessageBody>,
) -> Result<Response> {
    let message = state
        .runtime
        .web_create_message(&me.bot, &me.user, &body.conversation_id, body.payload, body.metadata)
        .await?;
    let view = MessageView::new(message, &body.conversation_id, me.user.external_id.clone());
    Ok((StatusCode::CREATED, Json(MessageEnvelope { message: view })).into_response())
}

/// A message of one of the user's conversations (`getMessage`).
#[utoipa::path(get, path = "/messages/{id}", tag = "Chat API", params(("webhook" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "The message", body = MessageEnvelope)))]
async fn get_message(
    me: WebUser,
    State(state): State<AppState>,
    Path((_webhook, id)): Path<(String, String)>,
) -> Result<Json<MessageEnvelope>> {
    let message = state.runtime.web_message(&me.bot, &me.user, &id).await?;
    let author = state.runtime.web_author(&me.bot, &message).await?;
    let conversation = state.runtime.web_conversation_of(&me.bot, &message).await?;
    Ok(Json(MessageEnvelope { message: MessageView::new(message, &conversation, author) }))
}

/// Delete one of the user's own messages (`deleteMessage`).
#[utoipa::path(delete, path = "/messages/{id}", tag = "Chat API", params(("webhook" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "The message is deleted (an empty object)", body = Empty)))]
async fn delete_message(
    me: WebUser,
    State(state): State<AppState>,
    Path((_webhook, id)): Path<(String, String)>,
) -> Result<Json<Empty>> {
    state.runtime.web_delete_message(&me.bot, &me.user, &id).await?;
    Ok(Json(Empty {}))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventBody {
    /// `{type: "callback", data, messageId}` presses an inline button; other types run the bot's
    /// `on(type)` handlers.
    #[schema(value_type = Object)]
    payload: Value,
    conversation_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct EventView {
    id: String,
    created_at: String,
    #[schema(value_type = Object)]
    payload: Value,
    conversation_id: String,
    user_id: String,
}

#[derive(Serialize, ToSchema)]
struct EventEnvelope {
    event: EventView,
}

/// Send an event to the bot (`createEvent`).
#[utoipa::path(post, path = "/events", tag = "Chat API", params(("webhook" = String, Path)), request_body = EventBody,
    responses((status = 201, description = "The event, handed to the bot", body = EventEnvelope)))]
async fn create_event(
    me: WebUser,
    State(state): State<AppState>,
    JsonBody(body, _): Body<EventBody>,
) -> Result<Response> {
    if !body.payload.is_object() {
        return Err(Error::invalid("payload must be an object").into());
    }
    state.runtime.web_create_event(&me.bot, &me.user, &body.conversation_id, body.payload.clone()).await?;
    let event = EventView {
        id: format!("evt_{}", uuid::Uuid::now_v7().simple()),
        created_at: Timestamp::now().to_rfc3339(),
        payload: body.payload,
        conversation_id: body.conversation_id,
        user_id: me.user.external_id,
    };
    Ok((StatusCode::CREATED, Json(EventEnvelope { event })).into_response())
}

/// Events are processed when they arrive and not kept, so `getEvent` finds none.
#[utoipa::path(get, path = "/events/{id}", tag = "Chat API", params(("webhook" = String, Path), ("id" = String, Path)),
    responses((status = 404, description = "No such event: events are not kept")))]
async fn get_event(
    _me: WebUser,
    Path((_webhook, _id)): Path<(String, String)>,
) -> Result<Json<EventEnvelope>> {
    Err(Error::new(
        ErrorCode::NotFound,
        "Event not found: botyard processes events when they arrive and does not keep them",
    )
    .into())
}
