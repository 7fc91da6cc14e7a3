//! States: `GET` (getState), `POST` (setState; a `null` payload deletes), `PATCH` (patchState)
//! `/chat/states/{type}/{id}/{name}`, and `POST …/get-or-set` (getOrSetState). `expiry` is in
//! milliseconds from now; an expired state reads as absent.

use axum::extract::{Path, State};
use axum::{Json, routing};
use botyard_domain::Error;
use botyard_runtime::bp_runtime::StateRecord;
use botyard_runtime::bp_runtime::{StateType, StateWrite};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::BotCaller;
use crate::AppState;
use crate::common::extract::JsonBody;
use crate::dialects::botpress::{Body, Result};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/chat/states/{kind}/{id}/{name}", routing::get(get_state).post(set_state).patch(patch_state))
        .route("/chat/states/{kind}/{id}/{name}/get-or-set", routing::post(get_or_set_state))
}

fn view(state: &StateRecord, bot: &str) -> Value {
    let mut view = json!({
        "id": format!("{}:{}:{}", state.state_type, state.owner, state.name),
        "createdAt": state.created_at.to_rfc3339(),
        "updatedAt": state.updated_at.to_rfc3339(),
        "botId": bot,
        "name": state.name,
        "type": state.state_type,
        "payload": state.payload,
    });
    match state.state_type.as_str() {
        "conversation" => view["conversationId"] = json!(state.owner),
        "user" => view["userId"] = json!(state.owner),
        _ => {}
    }
    view
}

async fn get_state(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    Path((kind, id, name)): Path<(String, String, String)>,
) -> Result<Json<Value>> {
    let kind = StateType::parse(&kind)?;
    let found =
        state.runtime.bp_state(&bot, kind, &id, &name).await?.ok_or_else(|| Error::not_found("State"))?;
    Ok(Json(json!({"state": view(&found, &bot.id.to_string())})))
}

#[derive(Deserialize)]
struct SetState {
    payload: Option<Value>,
    expiry: Option<i64>,
}

async fn set_state(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    Path((kind, id, name)): Path<(String, String, String)>,
    JsonBody(body, _): Body<SetState>,
) -> Result<Json<Value>> {
    let kind = StateType::parse(&kind)?;
    let payload = body.payload.filter(|p| !p.is_null());
    let write = StateWrite { payload, expiry_ms: body.expiry, only_if_absent: false };
    let stored = state.runtime.bp_set_state(&bot, kind, &id, &name, write).await?;
    Ok(Json(json!({"state": stored.map(|s| view(&s, &bot.id.to_string()))})))
}

async fn get_or_set_state(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    Path((kind, id, name)): Path<(String, String, String)>,
    JsonBody(body, _): Body<SetState>,
) -> Result<Json<Value>> {
    let kind = StateType::parse(&kind)?;
    let payload =
        body.payload.filter(|p| !p.is_null()).ok_or_else(|| Error::invalid("payload is required"))?;
    let stored = state
        .runtime
        .bp_set_state(
            &bot,
            kind,
            &id,
            &name,
            StateWrite { payload: Some(payload), expiry_ms: body.expiry, only_if_absent: true },
        )
        .await?
        .ok_or_else(|| Error::internal("a state was not kept"))?;
    Ok(Json(json!({"state": view(&stored, &bot.id.to_string()), "meta": {"cached": false}})))
}

#[derive(Deserialize)]
struct PatchState {
    payload: Map<String, Value>,
}

async fn patch_state(
    BotCaller(bot): BotCaller,
    State(state): State<AppState>,
    Path((kind, id, name)): Path<(String, String, String)>,
    JsonBody(body, _): Body<PatchState>,
) -> Result<Json<Value>> {
    let kind = StateType::parse(&kind)?;
    let stored = state.runtime.bp_patch_state(&bot, kind, &id, &name, body.payload).await?;
    Ok(Json(json!({"state": view(&stored, &bot.id.to_string())})))
}
