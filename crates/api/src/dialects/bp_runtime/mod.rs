//! Botpress's runtime API (`/v1/chat/...`), what a bot calls with its own credentials — as
//! `@botpress/client` sends them from inside a bot: `Authorization: Bearer <token>` and
//! `x-bot-id`. The token is the bot's runtime token (given to the Node.js process of a bundled
//! bot as `BP_TOKEN`) or the API key of an account that may change the bot (a developer running
//! `bp dev`, a self-hosted bot). Errors in Botpress's envelope. The operations live in
//! `botyard_runtime::bp_runtime`, over the Chat API's conversations, users and messages.

mod states;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::{Json, routing};
use botyard_domain::access::Permission;
use botyard_domain::bot::Bot;
use botyard_domain::{BotRef, Error};
use botyard_runtime::bp_runtime::{RuntimeMessage, Tagged, tag_pairs};
use botyard_runtime::remote::{conversation_json, message_json, runtime_token, user_json};
use http::request::Parts;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

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
        let raw =
            header(parts, "x-bot-id").ok_or_else(|| Error::invalid("The x-bot-id header is required"))?;
        let unknown = || Error::not_found("Bot");
        let bot_ref = BotRef::parse(raw).map_err(|_| unknown())?;
        let bot = state.services.find_bot(&bot_ref).await?.ok_or_else(unknown)?;
        if bool::from(runtime_token(&bot).as_bytes().ct_eq(token.as_bytes())) {
            return Ok(Self(bot));
        }
        let caller = state
            .services
            .authenticate_bearer(token)
            .await?
            .ok_or_else(|| Error::unauthorized("The provided token is invalid or has been revoked"))?;
        let access = state.services.bot_access(&caller, &BotRef::Id(bot.id.clone())).await?;
        access.role.require(Permission::ChangeBots)?;
        Ok(Self(access.bot))
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
    tag_pairs(&body.tags)?;
    let chat = state.runtime.bp_create_conversation(&bot).await?;
    state.runtime.bp_set_tags(&bot, Tagged::Conversation, &chat.external_id, &body.tags).await?;
    Ok(Json(json!({"conversation": conversation_view(&state, &bot, &chat).await?})))
}

async fn get_or_create_conversation(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewConversation>,
) -> Result<Json<Value>> {
    let wanted = discriminating(&body.tags, body.discriminate_by_tags.as_deref())?;
    if let Some(id) = state.runtime.bp_find_tagged(&bot, Tagged::Conversation, &wanted).await? {
        let chat = state.runtime.bp_conversation(&bot, &id).await?;
        return Ok(Json(
            json!({"conversation": conversation_view(&state, &bot, &chat).await?, "meta": {"created": false}}),
        ));
    }
    let chat = state.runtime.bp_create_conversation(&bot).await?;
    state.runtime.bp_set_tags(&bot, Tagged::Conversation, &chat.external_id, &body.tags).await?;
    Ok(Json(
        json!({"conversation": conversation_view(&state, &bot, &chat).await?, "meta": {"created": true}}),
    ))
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

async fn create_user(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewUser>,
) -> Result<Json<Value>> {
    tag_pairs(&body.tags)?;
    let user = state.runtime.bp_create_user(&bot, body.name, body.picture_url).await?;
    state.runtime.bp_set_tags(&bot, Tagged::User, &user.external_id, &body.tags).await?;
    Ok(Json(json!({"user": user_view(&state, &bot, &user).await?})))
}

async fn get_or_create_user(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewUser>,
) -> Result<Json<Value>> {
    let wanted = discriminating(&body.tags, body.discriminate_by_tags.as_deref())?;
    if let Some(id) = state.runtime.bp_find_tagged(&bot, Tagged::User, &wanted).await? {
        let user = state.runtime.bp_user(&bot, &id).await?;
        return Ok(Json(json!({"user": user_view(&state, &bot, &user).await?, "meta": {"created": false}})));
    }
    let user = state.runtime.bp_create_user(&bot, body.name, body.picture_url).await?;
    state.runtime.bp_set_tags(&bot, Tagged::User, &user.external_id, &body.tags).await?;
    Ok(Json(json!({"user": user_view(&state, &bot, &user).await?, "meta": {"created": true}})))
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

async fn create_message(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewMessage>,
) -> Result<Json<Value>> {
    let created = new_message(&state, &bot, body).await?;
    Ok(Json(json!({"message": message_view(&state, &bot, &created).await?})))
}

async fn get_or_create_message(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewMessage>,
) -> Result<Json<Value>> {
    let wanted = discriminating(&body.tags, body.discriminate_by_tags.as_deref())?;
    if let Some(id) = state.runtime.bp_find_tagged(&bot, Tagged::Message, &wanted).await? {
        let message = state.runtime.bp_message(&bot, &id).await?;
        return Ok(Json(
            json!({"message": message_view(&state, &bot, &message).await?, "meta": {"created": false}}),
        ));
    }
    let created = new_message(&state, &bot, body).await?;
    Ok(Json(json!({"message": message_view(&state, &bot, &created).await?, "meta": {"created": true}})))
}

/// Creates a message (stored as the Chat API stores it: the type beside the payload's fields)
/// with its tags.
async fn new_message(
    state: &AppState,
    bot: &Bot,
    body: NewMessage,
) -> std::result::Result<RuntimeMessage, Error> {
    tag_pairs(&body.tags)?;
    let mut payload = body.payload;
    payload.insert("type".into(), Value::String(body.kind));
    let created = state
        .runtime
        .bp_create_message(bot, &body.user_id, &body.conversation_id, Value::Object(payload))
        .await?;
    state.runtime.bp_set_tags(bot, Tagged::Message, &created.message.uid, &body.tags).await?;
    Ok(created)
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

/// The tags that identify an entity for `getOrCreate…`: those `discriminateByTags` names (all
/// given tags when absent); at least one is needed.
fn discriminating(
    tags: &Map<String, Value>,
    names: Option<&[String]>,
) -> std::result::Result<Vec<(String, String)>, Error> {
    let pairs = tag_pairs(tags)?;
    let wanted: Vec<(String, String)> = match names {
        Some(names) => pairs.into_iter().filter(|(k, _)| names.contains(k)).collect(),
        None => pairs,
    };
    if wanted.iter().all(|(_, v)| v.is_empty()) {
        return Err(Error::invalid("getOrCreate needs tags with values to find the existing one by"));
    }
    Ok(wanted)
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
