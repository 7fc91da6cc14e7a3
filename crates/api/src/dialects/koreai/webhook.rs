//! Kore.ai's Webhook channel: `POST /chatbot/v2/webhook/{streamId}`. An integration posts what a
//! user said, signed with a JWT of one of the workspace's apps (`Authorization: bearer <jwt>`, or
//! the `auth` header the public API uses), and reads the bot's answer in the response
//! (synchronous mode): `{"data": [{"type": "text", "val": …, "createdOn": …}], "endOfTask": …,
//! "_v": "v2"}`. Errors use Kore.ai's envelope.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use botyard_core::app_tokens::TokenUse;
use botyard_domain::Error;
use botyard_runtime::koreai::WebhookMessage;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Body, Result};
use crate::AppState;

/// The route, relative to the server's root.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/chatbot/v2/webhook/{stream}", post(webhook_message))
}

#[derive(Deserialize)]
struct Request {
    message: Option<IncomingMessage>,
    from: From,
    #[serde(default)]
    session: Option<SessionFlag>,
}

#[derive(Deserialize)]
struct IncomingMessage {
    /// `text` (the only type botyard's bots read).
    #[serde(rename = "type")]
    kind: Option<String>,
    val: Option<Value>,
}

#[derive(Deserialize)]
struct From {
    id: Value,
    #[serde(rename = "userInfo")]
    user_info: Option<UserInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserInfo {
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct SessionFlag {
    #[serde(default)]
    new: bool,
}

async fn webhook_message(
    State(state): State<AppState>,
    Path(stream): Path<String>,
    headers: HeaderMap,
    body: Body<Request>,
) -> Result<Json<Value>> {
    let token = bearer(&headers).ok_or_else(|| Error::unauthorized("Invalid SDK credentials"))?;
    let app = state.services.authenticate_app(token, TokenUse::Api).await?;
    let bot = super::auth::KoreApp(app).bot(&state, &stream).await?;
    let request = body.0;
    let text = match request.message {
        Some(IncomingMessage { kind, val }) => {
            if kind.as_deref().is_some_and(|k| k != "text") {
                return Err(Error::invalid("message.type must be text").into());
            }
            match val {
                Some(Value::String(text)) => Some(text),
                None | Some(Value::Null) => None,
                Some(_) => return Err(Error::invalid("message.val must be a string").into()),
            }
        }
        None => None,
    };
    let from = match request.from.id {
        Value::String(id) => id,
        Value::Number(n) => n.to_string(),
        _ => return Err(Error::invalid("from.id must be a string").into()),
    };
    let info = request.from.user_info;
    let message = WebhookMessage {
        from,
        first_name: info.as_ref().and_then(|i| i.first_name.clone()),
        last_name: info.and_then(|i| i.last_name),
        text,
        new_session: request.session.is_some_and(|s| s.new),
    };
    let replies = state.runtime.kore_webhook(&bot, message).await?;
    let created_on = botyard_domain::Timestamp::now().to_rfc3339();
    let data: Vec<Value> = replies
        .iter()
        .flat_map(|r| r.messages.iter())
        .map(|payload| {
            let val = match payload.get("koreai") {
                Some(template) => json!({"type": "template", "payload": template}),
                None => payload.get("text").cloned().unwrap_or(Value::Null),
            };
            json!({"type": "text", "val": val, "createdOn": created_on})
        })
        .collect();
    let end_of_task = replies.last().is_some_and(|r| r.ended);
    let mut answer = json!({"data": data, "endOfTask": end_of_task, "_v": "v2"});
    if end_of_task {
        answer["endReason"] = json!("Fulfilled");
    }
    Ok(Json(answer))
}

/// The JWT of `Authorization: bearer <jwt>`, or of the `auth` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let authorization = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(value) = authorization {
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then_some(token.trim());
    }
    headers.get("auth").and_then(|v| v.to_str().ok())
}
