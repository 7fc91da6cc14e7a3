//! `GET|POST /v1/bots/{bot}/new-webhook`: the webhook URLs Bots.Business's Webhooks library
//! builds from `BB_API_URL`. The runtime checks the URL's signature and runs the named command;
//! the answer is what the run rendered (`WebApp.render`) or `{"answer": <its last message>}`, 503
//! when the bot's code failed, or a redirect to `redirect_to` (an http(s) page) when given. And
//! `/v2/bots/{bot}/web-app/{command}`, the pages of `WebApp.getUrl`.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use botyard_domain::{BotRef, Error};
use botyard_runtime::incoming::Rendered;
use botyard_runtime::webhooks::{CONTENT_MAX_BYTES, WebhookCall, webhook_options};
use http::HeaderValue;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::common::dialect::render;
use crate::common::rate_limit::client_address;
use crate::dialects::bots_business::BotsBusiness;

pub async fn new_webhook(
    State(state): State<AppState>,
    Path(bot): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let result = async {
        let bot = BotRef::parse(&bot).map_err(|_| Error::not_found("Bot"))?;
        let bot = state.services.find_bot(&bot).await?.ok_or_else(|| Error::not_found("Bot"))?;
        let command = params.get("command").filter(|c| !c.trim().is_empty()).cloned();
        let command = command.ok_or_else(|| Error::invalid("command is required"))?;
        let bytes = axum::body::to_bytes(body, CONTENT_MAX_BYTES + 1).await.map_err(|_| {
            Error::limit(format!("A webhook's content may be at most {} KiB", CONTENT_MAX_BYTES / 1024))
        })?;
        let posted = String::from_utf8(bytes.to_vec())
            .map_err(|_| Error::invalid("The content must be UTF-8 text"))?;
        botyard_domain::text::refuse_nul("content", &posted)?;
        let content =
            if posted.is_empty() { params.get("content").cloned().unwrap_or_default() } else { posted };
        let headers: Map<String, Value> = parts
            .headers
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "authorization" | "cookie"))
            .filter_map(|(name, value)| Some((name.to_string(), json!(value.to_str().ok()?))))
            .collect();
        // `options.params` are the request's parameters, a posted JSON object's fields included
        // (as Rails merges them on Bots.Business).
        let mut shown: Map<String, Value> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "api_key")
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&content) {
            shown.extend(fields);
        }
        let ip = client_address(&state, &parts).map(|a| a.to_string()).unwrap_or_default();
        let url = format!("{}{}", crate::common::extract::base_url(&state, &parts.headers), parts.uri.path());
        let call = WebhookCall {
            command,
            user_id: params.get("user_id").cloned().unwrap_or_default(),
            public_user_token: params.get("public_user_token").cloned(),
            api_key: params.get("api_key").cloned(),
            content,
            options: webhook_options(
                &url,
                parts.method.as_str(),
                Value::Object(shown),
                Value::Object(headers),
                &ip,
            ),
        };
        state.runtime.webhook(&bot, call).await
    }
    .await;
    match result {
        Ok(rendered) => {
            match params
                .get("redirect_to")
                .filter(|to| to.starts_with("https://") || to.starts_with("http://"))
            {
                Some(to) => Redirect::to(to).into_response(),
                None => page(rendered),
            }
        }
        Err(e) => render::<BotsBusiness>(&e),
    }
}

/// What a run rendered, as a page.
pub(crate) fn page(rendered: Rendered) -> Response {
    let mime = HeaderValue::from_str(&rendered.mime_type).unwrap_or(HeaderValue::from_static("text/plain"));
    ([(http::header::CONTENT_TYPE, mime)], rendered.content).into_response()
}

/// `GET|POST /v2/bots/{bot}/web-app/{command}?secret=…`: the page a `WebApp.getUrl` URL shows.
/// The query's other parameters, and the fields of a posted JSON object, are the run's `options`.
pub async fn web_app(
    State(state): State<AppState>,
    Path((bot, command)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
    request: Request,
) -> Response {
    let result = async {
        let bot = BotRef::parse(&bot).map_err(|_| Error::not_found("Bot"))?;
        let bot = state.services.find_bot(&bot).await?.ok_or_else(|| Error::not_found("Bot"))?;
        let body = axum::body::to_bytes(request.into_body(), CONTENT_MAX_BYTES + 1).await.map_err(|_| {
            Error::limit(format!("A web app request may be at most {} KiB", CONTENT_MAX_BYTES / 1024))
        })?;
        let secret = params.get("secret").cloned().unwrap_or_default();
        let mut options: Map<String, Value> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "secret")
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        if !body.is_empty() {
            botyard_domain::text::refuse_nul("body", &String::from_utf8_lossy(&body))?;
            if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) {
                options.extend(fields);
            }
        }
        state.runtime.web_app(&bot, &command, &secret, options).await
    }
    .await;
    match result {
        Ok(rendered) => page(rendered),
        Err(e) => render::<BotsBusiness>(&e),
    }
}
