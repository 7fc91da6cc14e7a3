//! Botpress's runtime API (`/v1/chat/...`), what a bot calls with its own credentials — as
//! `@botpress/client` sends them from inside a bot: `Authorization: Bearer <token>` and
//! `x-bot-id`. The token is the bot's runtime token (given to the Node.js process of a bundled
//! bot as `BP_TOKEN`) or the API key of an account that may change the bot (a developer running
//! `bp dev`, a self-hosted bot). Errors in Botpress's envelope. The operations live in
//! `botyard_runtime::bp_runtime`, over the Chat API's conversations, users and messages.

mod states;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::{Json, routing};
use botyard_domain::Error;
use botyard_domain::bot::Bot;
use botyard_domain::conversation::UserProfile;
use botyard_runtime::bp_runtime::{NewRuntimeMessage, RuntimeMessage, Tagged};
use botyard_runtime::remote::{conversation_json, message_json, user_json};
use http::request::Parts;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::botpress::{Body, Botpress, Result};
use crate::AppState;
use crate::common::dialect::ApiError;
use crate::common::extract::{JsonBody, bearer, header};

/// The routes, relative to `/v1`.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/chat/conversations", routing::post(create_conversation))
        .route("/chat/conversations/get-or-create", routing::post(get_or_create_conversation))
        .route("/chat/conversations/{id}", routing::get(get_conversation))
        .route("/chat/conversations/{id}/participants", routing::get(list_participants).post(add_participant))
        .route("/chat/users", routing::post(create_user))
        .route("/chat/users/get-or-create", routing::post(get_or_create_user))
        .route("/chat/users/{id}", routing::get(get_user))
        .route("/chat/messages", routing::post(create_message).get(list_messages))
        .route("/chat/messages/get-or-create", routing::post(get_or_create_message))
        .route("/chat/messages/{id}", routing::get(get_message))
        .route("/chat/events", routing::post(create_event))
        .route("/chat/actions", routing::post(call_action))
        .merge(states::router())
}

/// The bot a runtime call acts for.
pub struct BotCaller(pub Bot);

impl FromRequestParts<AppState> for BotCaller {
    type Rejection = ApiError<Botpress>;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> std::result::Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| {
            Error::unauthorized("Authentication is required: send Authorization: Bearer <token>")
        })?;
        let bot_id =
            header(parts, "x-bot-id").ok_or_else(|| Error::invalid("The x-bot-id header is required"))?;
        Ok(Self(state.runtime.bp_authenticate(token, bot_id).await?))
    }
}

async fn get_conversation(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let chat = state.runtime.bp_conversation(&bot, &id).await?;
    Ok(Json(json!({"conversation": conversation_view(&state, &bot, &chat).await?})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewConversation {
    #[serde(default)]
    tags: Map<String, Value>,
    /// `getOrCreateConversation`: the tags that identify the conversation (all given tags when
    /// absent).
    discriminate_by_tags: Option<Vec<String>>,
}

async fn create_conversation(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewConversation>,
) -> Result<Json<Value>> {
    let chat = state.runtime.bp_create_conversation(&bot, &body.tags).await?;
    Ok(Json(json!({"conversation": conversation_view(&state, &bot, &chat).await?})))
}

async fn get_or_create_conversation(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewConversation>,
) -> Result<Json<Value>> {
    let discriminate = body.discriminate_by_tags.as_deref();
    let (chat, created) = state.runtime.bp_get_or_create_conversation(&bot, &body.tags, discriminate).await?;
    let view = conversation_view(&state, &bot, &chat).await?;
    Ok(Json(json!({"conversation": view, "meta": {"created": created}})))
}

async fn list_participants(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let users = state.runtime.bp_participants(&bot, &id).await?;
    let mut participants = Vec::with_capacity(users.len());
    for user in &users {
        participants.push(user_view(&state, &bot, user).await?);
    }
    Ok(Json(json!({"participants": participants, "meta": {}})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewParticipant {
    user_id: String,
}

async fn add_participant(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<NewParticipant>,
) -> Result<Json<Value>> {
    let user = state.runtime.bp_add_participant(&bot, &id, &body.user_id).await?;
    Ok(Json(json!({"participant": user_view(&state, &bot, &user).await?})))
}

async fn get_user(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let user = state.runtime.bp_user(&bot, &id).await?;
    Ok(Json(json!({"user": user_view(&state, &bot, &user).await?})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewUser {
    name: Option<String>,
    picture_url: Option<String>,
    #[serde(default)]
    tags: Map<String, Value>,
    discriminate_by_tags: Option<Vec<String>>,
}

impl NewUser {
    fn profile(&self) -> UserProfile {
        UserProfile {
            first_name: self.name.clone(),
            picture_url: self.picture_url.clone(),
            ..UserProfile::default()
        }
    }
}

async fn create_user(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewUser>,
) -> Result<Json<Value>> {
    let user = state.runtime.bp_create_user(&bot, body.profile(), &body.tags).await?;
    Ok(Json(json!({"user": user_view(&state, &bot, &user).await?})))
}

async fn get_or_create_user(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewUser>,
) -> Result<Json<Value>> {
    let discriminate = body.discriminate_by_tags.as_deref();
    let (user, created) =
        state.runtime.bp_get_or_create_user(&bot, body.profile(), &body.tags, discriminate).await?;
    Ok(Json(json!({"user": user_view(&state, &bot, &user).await?, "meta": {"created": created}})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewMessage {
    user_id: String,
    conversation_id: String,
    #[serde(rename = "type")]
    kind: String,
    payload: Map<String, Value>,
    #[serde(default)]
    tags: Map<String, Value>,
    discriminate_by_tags: Option<Vec<String>>,
}

impl NewMessage {
    fn into_parts(self) -> (NewRuntimeMessage, Option<Vec<String>>) {
        let new = NewRuntimeMessage {
            author: self.user_id,
            conversation: self.conversation_id,
            kind: self.kind,
            payload: self.payload,
            tags: self.tags,
        };
        (new, self.discriminate_by_tags)
    }
}

async fn create_message(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewMessage>,
) -> Result<Json<Value>> {
    let (new, _) = body.into_parts();
    let created = state.runtime.bp_create_message(&bot, new).await?;
    Ok(Json(json!({"message": message_view(&state, &bot, &created).await?})))
}

async fn get_or_create_message(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewMessage>,
) -> Result<Json<Value>> {
    let (new, discriminate) = body.into_parts();
    let (message, created) =
        state.runtime.bp_get_or_create_message(&bot, new, discriminate.as_deref()).await?;
    Ok(Json(json!({"message": message_view(&state, &bot, &message).await?, "meta": {"created": created}})))
}

async fn get_message(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let message = state.runtime.bp_message(&bot, &id).await?;
    Ok(Json(json!({"message": message_view(&state, &bot, &message).await?})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageQuery {
    conversation_id: Option<String>,
    next_token: Option<String>,
}

async fn list_messages(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    Query(query): Query<MessageQuery>,
) -> Result<Json<Value>> {
    let conversation = query.conversation_id.ok_or_else(|| {
        Error::invalid("conversationId is required: botyard lists one conversation's messages")
    })?;
    let after = match query.next_token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => token.parse().map_err(|_| Error::invalid("nextToken is not valid"))?,
        None => 0,
    };
    let messages = state.runtime.bp_messages(&bot, &conversation, after).await?;
    let next = (messages.len() >= 100).then(|| messages.last().map(|m| m.message.id.to_string())).flatten();
    let mut views = Vec::with_capacity(messages.len());
    for message in &messages {
        views.push(message_view(&state, &bot, message).await?);
    }
    Ok(Json(json!({"messages": views, "meta": {"nextToken": next}})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: Value,
    conversation_id: Option<String>,
}

async fn create_event(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewEvent>,
) -> Result<Json<Value>> {
    let conversation = body.conversation_id.ok_or_else(|| {
        Error::invalid("conversationId is required: botyard delivers events in a conversation")
    })?;
    if body.kind.is_empty() || body.kind.chars().count() > 200 {
        return Err(Error::invalid("type must be 1 to 200 characters").into());
    }
    state.runtime.bp_create_event(&bot, &conversation, body.kind.clone(), body.payload.clone()).await?;
    let now = botyard_domain::Timestamp::now().to_rfc3339();
    Ok(Json(json!({"event": {
        "id": format!("evt_{}", uuid::Uuid::now_v7().simple()), "createdAt": now, "type": body.kind,
        "payload": body.payload, "conversationId": conversation, "status": "pending", "failureReason": null,
    }})))
}

#[derive(Deserialize)]
struct ActionCall {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    input: Value,
}

/// `callAction`: the bot's own action, run by the bot (its `url` or its bundle).
async fn call_action(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<ActionCall>,
) -> Result<Json<Value>> {
    if body.kind.is_empty() || body.kind.chars().count() > 200 {
        return Err(Error::invalid("type must be 1 to 200 characters").into());
    }
    let output = state.runtime.bp_call_action(&bot, &body.kind, body.input).await?;
    Ok(Json(json!({"output": output, "meta": {"cached": false}})))
}

async fn conversation_view(
    state: &AppState,
    bot: &Bot,
    chat: &botyard_domain::conversation::Chat,
) -> std::result::Result<Value, Error> {
    let tags = state.runtime.bp_tags(bot, Tagged::Conversation, &chat.external_id).await?;
    Ok(conversation_json(chat, tags))
}

async fn user_view(
    state: &AppState,
    bot: &Bot,
    user: &botyard_domain::conversation::BotUser,
) -> std::result::Result<Value, Error> {
    let tags = state.runtime.bp_tags(bot, Tagged::User, &user.external_id).await?;
    Ok(user_json(user, tags))
}

async fn message_view(
    state: &AppState,
    bot: &Bot,
    message: &RuntimeMessage,
) -> std::result::Result<Value, Error> {
    let tags = state.runtime.bp_tags(bot, Tagged::Message, &message.message.uid).await?;
    Ok(message_json(message, tags))
}
