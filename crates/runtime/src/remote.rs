//! Botpress bots that run outside botyard's sandbox: a bot served at its `url` (a "dev" bot or a
//! self-hosted `@botpress/sdk` bot) and a bot whose `code` is an SDK bundle, run by botyard in a
//! Node.js process of its own ([`crate::node_bots`]). Both are spoken to with Botpress Cloud's bot
//! contract: for each event botyard POSTs `{event}` with the `x-bot-id`, `x-bot-user-id`,
//! `x-bp-operation`, `x-bp-type` and `x-bp-configuration` headers, and the bot answers once its
//! handlers — and the runtime API calls they make back to botyard ([`crate::bp_runtime`]) — are
//! done. The delivery keeps the chat's order (the chat waits for the bot's answer), has the bot's
//! time limit, is retried on connection failures and 502/503/504, and goes through the outbound
//! deny-list when the bot is at a `url`. A failure is written to the bot's error log (what
//! `getBotLogs` shows) and the user is sent the default error message.

use std::time::Duration;

use base64::Engine as _;
use botyard_domain::bot::Bot;
use botyard_domain::conversation::{self, Channel};
use botyard_domain::effects::{ErrorEntry, OutgoingMessage, RunEffects};
use botyard_domain::{ErrorCode, Result, Timestamp};
use hmac::{KeyInit, Mac};
use serde_json::{Map, Value, json};

use crate::bp_runtime::Tagged;
use crate::incoming::{Incoming, IncomingKind, RunReport};
use crate::run::DEFAULT_ERROR_MESSAGE;
use crate::{Runtime, new_message_uid};

/// Where a bot's events go.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// An HTTP server at this URL.
    Url(String),
    /// The bundle in the bot's `code`, run by botyard in Node.js.
    Bundle,
}

/// The bot's remote target, if it has one: a `url`, else a bundle as `code`.
pub(crate) fn target(bot: &Bot) -> Option<Target> {
    let url = bot.definition.url.as_deref().map(str::trim).filter(|u| !u.is_empty());
    if let Some(url) = url {
        return Some(Target::Url(url.to_owned()));
    }
    crate::node_bots::is_bundle(&bot.definition.code).then_some(Target::Bundle)
}

/// The token a bot process uses to call the runtime API (`BP_TOKEN`): derived from the bot's
/// signing secret, so rotating the secret revokes it.
pub fn runtime_token(bot: &Bot) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(bot.signing_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"botyard botpress runtime token");
    format!("bprt_{}", hex::encode(mac.finalize().into_bytes()))
}

/// How many times a delivery is tried.
const ATTEMPTS: u32 = 3;
/// The most of a failed answer kept in the error log.
const ANSWER_EXCERPT: usize = 2_000;

/// The `kind` label of remote Botpress bots' runs in the metrics.
pub(crate) const KIND: &str = "botpress_remote";

/// Delivers one incoming thing to the bot and commits what the delivery did to the chat.
pub(crate) async fn deliver(
    rt: &Runtime,
    bot: &Bot,
    target: Target,
    incoming: &Incoming,
    time_limit: Duration,
) -> Result<()> {
    let Some((event_type, event)) = event_of(rt, bot, incoming).await? else {
        return crate::run::skipped(
            rt,
            incoming,
            KIND,
            "Botpress bots receive messages and events of the web chat only",
        )
        .await;
    };
    let started = std::time::Instant::now();
    let mut effects = crate::run::turn_effects(bot, incoming);
    // A version of the bot not yet registered here is registered first, as Botpress Cloud does
    // when a bot is deployed (the SDK runs the bot's `register` handler).
    let version = (bot.number, bot.updated_at);
    let mut failure = None;
    if !rt.inner.registered.lock().unwrap_or_else(|e| e.into_inner()).contains(&version) {
        match post(rt, bot, &target, "register", "register", &json!({}), time_limit).await {
            Ok(_) => {
                rt.inner.registered.lock().unwrap_or_else(|e| e.into_inner()).insert(version);
            }
            Err(why) => failure = Some(format!("Registering the bot failed: {why}")),
        }
    }
    if failure.is_none() {
        let outcome =
            post(rt, bot, &target, "event_received", &event_type, &json!({"event": event}), time_limit).await;
        failure = outcome.err();
    }
    rt.services().metrics.run(
        KIND,
        if failure.is_some() { "failed" } else { "completed" },
        Some(started.elapsed()),
    );
    let logged = match target {
        Target::Bundle => bot_log(rt, bot, &event_type).await,
        Target::Url(_) => Vec::new(),
    };
    let now = Timestamp::now();
    if let Some(why) = &failure {
        tracing::info!(
            bot_id = bot.number,
            workspace_id = %bot.workspace_id,
            chat_id = incoming.chat.id,
            job_id = incoming.job.as_ref().map(|hook| hook.lease.job),
            "a Botpress bot's handler failed: {why}"
        );
        effects.error = Some(ErrorEntry {
            command: Some(event_type.clone()),
            title: why.clone(),
            stack_trace: String::new(),
            chat_id: Some(incoming.chat.id),
            user_id: incoming.user.as_ref().map(|u| u.id),
            at: now,
        });
        effects.messages.push(OutgoingMessage {
            uid: new_message_uid(),
            chat_id: incoming.chat.id,
            payload: conversation::bot_payload(DEFAULT_ERROR_MESSAGE, None)?,
            metadata: Some(Map::from_iter([("error".to_owned(), json!(true))])),
            at: now,
        });
    }
    crate::run::commit(rt, bot, effects).await?;
    for entry in logged {
        let effects = RunEffects { bot: bot.number, error: Some(entry), ..RunEffects::default() };
        crate::run::commit(rt, bot, effects).await?;
    }
    if let Some(hook) = &incoming.job {
        hook.tell(match failure {
            Some(why) => RunReport::Failed(why),
            None => RunReport::Completed,
        });
    }
    Ok(())
}

/// The most entries one delivery adds to the bot's log from what its process printed.
const LOG_ENTRIES_PER_EVENT: usize = 20;

/// What a bundled bot's process printed during the delivery: its errors (`logger.error`, stderr)
/// and issues (`logger.issue`) become entries of the bot's log, attributed to the conversation
/// and user the SDK's JSON log lines name; everything else goes to the server's log.
async fn bot_log(rt: &Runtime, bot: &Bot, event_type: &str) -> Vec<ErrorEntry> {
    let mut entries = Vec::new();
    for line in rt.node_bots().take_output(&bot.id.to_string()) {
        let parsed: Option<Value> = serde_json::from_str(&line.text).ok();
        let issue = parsed.as_ref().filter(|v| v["type"] == "issue");
        let is_error = matches!(line.stream, crate::node_bots::OutputStream::Stderr);
        tracing::info!(bot = bot.number, stream = ?line.stream, "bot output: {}", line.text);
        if !(is_error || issue.is_some()) || entries.len() >= LOG_ENTRIES_PER_EVENT {
            continue;
        }
        let (title, options) = match (issue, &parsed) {
            (Some(issue), _) => (
                format!(
                    "Issue {}: {}",
                    issue["code"].as_str().unwrap_or("unknown"),
                    issue["title"].as_str().unwrap_or_default()
                ),
                issue.get("data").cloned().unwrap_or(Value::Null),
            ),
            (None, Some(v)) if v.get("msg").is_some() => {
                (v["msg"].as_str().unwrap_or_default().to_owned(), v["options"].clone())
            }
            _ => (line.text.clone(), Value::Null),
        };
        let (chat_id, user_id) = attribution(rt, bot, &options).await;
        entries.push(ErrorEntry {
            command: Some(event_type.to_owned()),
            title: title.chars().take(ANSWER_EXCERPT).collect(),
            stack_trace: String::new(),
            chat_id,
            user_id,
            at: line.at,
        });
    }
    entries
}

/// The chat and user a log line's options name with the Chat API's ids.
async fn attribution(rt: &Runtime, bot: &Bot, options: &Value) -> (Option<i64>, Option<i64>) {
    let chat = match options["conversationId"].as_str() {
        Some(id) => rt.bp_conversation(bot, id).await.ok().map(|c| c.id),
        None => None,
    };
    let user = match options["userId"].as_str() {
        Some(id) => rt.bp_user(bot, id).await.ok().map(|u| u.id),
        None => None,
    };
    (chat, user)
}

/// The event type and the event as Botpress's bot contract shapes it.
async fn event_of(rt: &Runtime, bot: &Bot, incoming: &Incoming) -> Result<Option<(String, Value)>> {
    if incoming.chat.channel != Channel::Web {
        return Ok(None);
    }
    let now = Timestamp::now().to_rfc3339();
    let chat_tags = rt.bp_tags(bot, Tagged::Conversation, &incoming.chat.external_id).await?;
    let conversation = conversation_json(&incoming.chat, chat_tags);
    let user = match &incoming.user {
        Some(u) => Some(user_json(u, rt.bp_tags(bot, Tagged::User, &u.external_id).await?)),
        None => None,
    };
    let user_id = incoming.user.as_ref().map(|u| u.external_id.clone());
    let id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    Ok(match &incoming.kind {
        IncomingKind::Message { message, .. } => {
            let view = rt.bp_view(bot, message.clone()).await?;
            let message = message_json(&view, rt.bp_tags(bot, Tagged::Message, &view.message.uid).await?);
            Some((
                "message_created".into(),
                json!({
                    "id": id, "createdAt": now, "type": "message_created",
                    "payload": {"message": message, "user": user, "conversation": conversation},
                    "conversationId": incoming.chat.external_id, "userId": user_id,
                    "messageId": view.message.uid, "status": "pending", "failureReason": null,
                }),
            ))
        }
        IncomingKind::Event { name, payload } => Some((
            name.clone(),
            json!({
                "id": id, "createdAt": now, "type": name, "payload": payload,
                "conversationId": incoming.chat.external_id, "userId": user_id,
                "messageId": null, "status": "pending", "failureReason": null,
            }),
        )),
        IncomingKind::Button { .. } | IncomingKind::Command { .. } => None,
    })
}

/// A message as the runtime API shows it.
pub fn message_json(view: &crate::bp_runtime::RuntimeMessage, tags: Map<String, Value>) -> Value {
    let m = &view.message;
    let mut payload = m.payload.clone();
    let kind = payload.as_object_mut().and_then(|p| p.remove("type")).unwrap_or_else(|| json!("text"));
    json!({
        "id": m.uid,
        "createdAt": m.created_at.to_rfc3339(),
        "updatedAt": m.updated_at.to_rfc3339(),
        "type": kind,
        "payload": payload,
        "direction": if m.from_bot() { "outgoing" } else { "incoming" },
        "userId": view.author,
        "conversationId": view.conversation,
        "tags": tags,
    })
}

/// A conversation as the runtime API shows it.
pub fn conversation_json(chat: &botyard_domain::conversation::Chat, tags: Map<String, Value>) -> Value {
    json!({
        "id": chat.external_id,
        "createdAt": chat.created_at.to_rfc3339(),
        "updatedAt": chat.updated_at.to_rfc3339(),
        "channel": "channel",
        "integration": "webchat",
        "tags": tags,
    })
}

/// A user as the runtime API shows them.
pub fn user_json(user: &botyard_domain::conversation::BotUser, tags: Map<String, Value>) -> Value {
    let mut view = json!({
        "id": user.external_id,
        "createdAt": user.created_at.to_rfc3339(),
        "updatedAt": user.updated_at.to_rfc3339(),
        "tags": tags,
    });
    if let Some(name) = &user.first_name {
        view["name"] = json!(name);
    }
    if let Some(picture) = &user.picture_url {
        view["pictureUrl"] = json!(picture);
    }
    view
}

/// POSTs one operation to the bot; `Err` says why it failed, for the bot's log.
async fn post(
    rt: &Runtime,
    bot: &Bot,
    target: &Target,
    operation: &str,
    kind: &str,
    body: &Value,
    time_limit: Duration,
) -> std::result::Result<Value, String> {
    let base = match target {
        Target::Url(url) => url.clone(),
        Target::Bundle => rt.bundle_endpoint(bot).await.map_err(|e| e.message)?,
    };
    let configuration =
        json!({"payload": Value::Object(bot.definition.configuration.data.clone()).to_string()});
    let mut headers = Map::new();
    let bot_id = bot.id.to_string();
    for (name, value) in [
        ("x-bot-id", bot_id.clone()),
        ("x-bot-user-id", bot_id.clone()),
        ("x-bp-operation", operation.to_owned()),
        ("x-bp-type", kind.to_owned()),
        ("x-bp-configuration", base64::engine::general_purpose::STANDARD.encode(configuration.to_string())),
        ("content-type", "application/json".to_owned()),
    ] {
        headers.insert(name.to_owned(), json!(value));
    }
    let settings = &rt.services().config.outbound;
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
        }
        let request = botyard_core::outbound::Request {
            method: "POST",
            url: &base,
            headers: &headers,
            body: Some(body.to_string().into_bytes()),
            timeout: time_limit,
            max_bytes: settings.max_response_bytes,
        };
        let answered = match target {
            Target::Url(_) => rt.services().send_outbound(request).await,
            // botyard's own process on loopback.
            Target::Bundle => botyard_core::outbound::send(&[], request).await,
        };
        match answered {
            Ok(answer) if (200..300).contains(&answer.status) => {
                return Ok(serde_json::from_slice(&answer.body).unwrap_or(Value::Null));
            }
            Ok(answer) => {
                let text = String::from_utf8_lossy(&answer.body);
                let excerpt: String = text.chars().take(ANSWER_EXCERPT).collect();
                last =
                    format!("The bot answered {operation} ({kind}) with HTTP {}: {excerpt}", answer.status);
                if !matches!(answer.status, 502..=504) {
                    return Err(last);
                }
            }
            Err(e) if e.code == ErrorCode::Timeout => {
                return Err(format!(
                    "The bot did not answer {operation} ({kind}) within {} s",
                    time_limit.as_secs()
                ));
            }
            Err(e) if e.code == ErrorCode::Forbidden => return Err(e.message),
            Err(e) => {
                last = match &e.detail {
                    Some(detail) => format!("Cannot reach the bot at {base}: {} ({detail})", e.message),
                    None => format!("Cannot reach the bot at {base}: {}", e.message),
                };
            }
        }
    }
    Err(last)
}

impl Runtime {
    /// The loopback URL of the bot's Node.js process for the current version of its bundle.
    async fn bundle_endpoint(&self, bot: &Bot) -> Result<String> {
        // The process runs beside the server: it calls the address the server bound.
        let config = &self.services().config;
        let base = if config.bound_url.is_empty() { config.link_base() } else { config.bound_url.as_str() };
        let env = vec![
            ("BP_API_URL".to_owned(), base.trim_end_matches('/').to_owned()),
            ("BP_TOKEN".to_owned(), runtime_token(bot)),
            ("BP_BOT_ID".to_owned(), bot.id.to_string()),
            // The SDK's logger then writes JSON lines naming the conversation and user.
            ("BP_LOG_FORMAT".to_owned(), "json".to_owned()),
        ];
        let version = bot.updated_at.millis().to_string();
        self.node_bots().endpoint(&bot.id.to_string(), &version, &bot.definition.code, env).await
    }
}

impl Runtime {
    /// Calls one of the bot's actions (`callAction` from the runtime API): `action_triggered` with
    /// `{type, input}`, answered with `{output}`. Only bots at a `url` or bundled have actions
    /// botyard can call.
    pub async fn bp_call_action(&self, bot: &Bot, kind: &str, input: Value) -> Result<Value> {
        let target = target(bot).ok_or_else(|| {
            botyard_domain::Error::invalid(
                "This bot has no actions botyard can call: actions run for bots at a url or deployed as a bundle",
            )
        })?;
        let limits = &self.services().config.sandbox;
        let time_limit = Duration::from_secs(u64::from(
            bot.execution_time_limit_secs(limits.default_time_limit_secs, limits.max_time_limit_secs),
        ));
        let body = json!({"type": kind, "input": input});
        match post(self, bot, &target, "action_triggered", kind, &body, time_limit).await {
            Ok(answer) => Ok(answer.get("output").cloned().unwrap_or(Value::Null)),
            Err(why) => Err(botyard_domain::Error::new(
                ErrorCode::Unavailable,
                format!("The action {kind} failed: {why}"),
            )),
        }
    }
}
