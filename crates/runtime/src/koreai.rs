//! Kore.ai bots in the runtime. A bot whose definition came from a Kore.ai export (it has
//! Kore.ai dialogs, FAQs or small talk) converses through the dialog engine ([`botyard_koreai_engine`]) instead of
//! BJS commands, on every channel: the web chat and Chat API, Telegram, and Kore.ai's own
//! Webhook channel.
//!
//! - The definition is assembled from the stored components and compiled once per version of
//!   the bot (its `updated_at`, which every content change moves); a definition that does not
//!   compile answers every message with the task-failure message and says why in the error log.
//! - A chat's [`Session`] (task stack, current node, collected entities, context, session
//!   variables) is read before the turn and written with the turn's messages in one commit, so a
//!   restart resumes mid-dialog.
//! - Script nodes run in the sandbox (same executors, fair queue, time and memory limits as BJS);
//!   service nodes go through the outbound deny-list. The engine is synchronous: a turn runs on a
//!   blocking thread that waits for those calls.

use std::sync::Arc;
use std::time::Duration;

use botyard_core::Services;
use botyard_domain::bot::Bot;
use botyard_domain::conversation::{self, BotUser, Channel};
use botyard_domain::effects::{ErrorEntry, OutgoingMessage};
use botyard_domain::keyboard::{InlineButton, Keyboard};
use botyard_domain::koreai::{self, Component, ComponentKind};
use botyard_domain::{Error, Result, Timestamp};
use botyard_koreai_engine::{
    DialogHost, Input, KoreBot, Limits, Message, ScriptOutcome, ServiceRequest, ServiceResponse, Session,
    Turn, parse_script_result, respond, script_program,
};
use botyard_sandbox::{Sandbox, Tenant};
use botyard_store::{ContentStore, ConversationStore};
use serde_json::{Map, Value, json};

use crate::incoming::{Incoming, IncomingKind, RunReply, RunReport};
use crate::{Runtime, new_message_uid};

/// A stored session larger than this is dropped (the conversation starts over) and logged.
const MAX_SESSION_BYTES: usize = 1024 * 1024;

/// Event names of the Chat API (and the Webhook channel's new session) that open a conversation:
/// Kore.ai's ON_CONNECT event, or its welcome message.
const START_EVENTS: [&str; 3] = ["conversation_started", "ON_CONNECT", "ON_CONNECT_EVENT"];

/// What the runtime knows of a bot's Kore.ai definition, for one version of the bot.
#[derive(Clone)]
pub(crate) struct Loaded {
    updated_at: Timestamp,
    definition: Definition,
}

#[derive(Clone)]
enum Definition {
    /// Not a Kore.ai bot: BJS commands and Botpress code run.
    None,
    Compiled(Arc<KoreBot>),
    /// A Kore.ai bot whose definition the engine refuses, and why.
    Broken(String),
}

/// Compiled Kore.ai bots by bot number.
pub(crate) type KoreBots = moka::sync::Cache<i64, Loaded>;

pub(crate) fn cache() -> KoreBots {
    moka::sync::Cache::builder().max_capacity(256).time_to_idle(Duration::from_secs(3600)).build()
}

/// Whether the bot converses as a Kore.ai bot: it has something of a Kore.ai bot to say — dialog
/// tasks, FAQs or small talk. (Kore.ai settings, forms or events alone, imported into a bot of
/// another kind, leave it as it was.)
fn is_definition(components: &[Component]) -> bool {
    components.iter().any(|c| {
        matches!(c.kind, ComponentKind::Dialog | ComponentKind::KnowledgeTask | ComponentKind::SmallTalk)
    })
}

impl Runtime {
    /// The bot's compiled Kore.ai definition; `None` when the bot is not a Kore.ai bot.
    pub(crate) async fn kore_bot(
        &self,
        bot: &Bot,
    ) -> Result<Option<std::result::Result<Arc<KoreBot>, String>>> {
        let cached = self.inner.kore_bots.get(&bot.number).filter(|l| l.updated_at == bot.updated_at);
        let loaded = match cached {
            Some(loaded) => loaded,
            None => {
                let components = self.store().components(bot.number).await?;
                let definition = if is_definition(&components) {
                    let (uid, name) = (bot.id.to_string(), bot.name.clone());
                    tokio::task::spawn_blocking(move || compile(&components, &uid, &name)).await.map_err(
                        |e| Error::internal(format!("compiling the Kore.ai definition failed: {e}")),
                    )?
                } else {
                    Definition::None
                };
                let loaded = Loaded { updated_at: bot.updated_at, definition };
                self.inner.kore_bots.insert(bot.number, loaded.clone());
                loaded
            }
        };
        Ok(match loaded.definition {
            Definition::None => None,
            Definition::Compiled(bot) => Some(Ok(bot)),
            Definition::Broken(why) => Some(Err(why)),
        })
    }
}

fn compile(components: &[Component], uid: &str, name: &str) -> Definition {
    let files = koreai::assemble(components, uid, name);
    match KoreBot::compile(&files.definition, &Limits::default()) {
        Ok(mut bot) => {
            if let Some(config) = &files.config {
                bot.set_environment(config);
            }
            let functions: Vec<&str> = files.functions.iter().map(|(_, code)| code.as_str()).collect();
            bot.set_bot_functions(&functions);
            Definition::Compiled(Arc::new(bot))
        }
        Err(e) => Definition::Broken(e.to_string()),
    }
}

/// What one turn needs besides the bot and the incoming thing.
pub(crate) struct TurnLimits {
    /// Wall time of each script node.
    pub script_time: Duration,
}

/// The `kind` label of Kore.ai bots' runs in the metrics.
pub(crate) const KIND: &str = "koreai";

/// Answers one incoming thing of a Kore.ai bot's chat and commits the turn.
pub(crate) async fn converse(
    rt: &Runtime,
    bot: &Bot,
    kore: std::result::Result<Arc<KoreBot>, String>,
    incoming: &Incoming,
    limits: TurnLimits,
) -> Result<()> {
    let Some(input) = input_of(&incoming.kind) else {
        return crate::run::skipped(rt, incoming, KIND, "Kore.ai bots do not handle this kind of event")
            .await;
    };
    let started = std::time::Instant::now();
    let mut effects = crate::run::turn_effects(bot, incoming);
    let mut log = Vec::new();
    let mut failed = false;
    let turn = match kore {
        Ok(kore) => {
            // A new conversation starts over; anything else continues where the last turn left.
            let mut session = match input {
                Input::ConversationStart => Session::new(Some(channel_name(incoming.chat.channel)), None),
                Input::Text(_) => load_session(rt, bot, incoming, &mut log).await?,
            };
            prepare(&mut session, incoming, &input);
            let mut host = RuntimeHost {
                handle: tokio::runtime::Handle::current(),
                sandbox: rt.sandbox().clone(),
                services: rt.services().clone(),
                tenant: Tenant { workspace: bot.workspace_id.to_string(), bot: bot.number },
                script_time: limits.script_time,
            };
            let worked = tokio::task::spawn_blocking(move || {
                let turn = respond(&kore, &mut session, input, &mut host);
                (turn, session)
            })
            .await;
            match worked {
                Ok((turn, session)) => {
                    let state =
                        serde_json::to_string(&session).map_err(|e| Error::internal(e.to_string()))?;
                    if state.len() <= MAX_SESSION_BYTES {
                        effects.dialog_state = Some((incoming.chat.id, state));
                    } else {
                        log.push(format!(
                            "The conversation's state grew to {} bytes, more than {MAX_SESSION_BYTES}; it starts over",
                            state.len()
                        ));
                        effects.dialog_state = Some((incoming.chat.id, "{}".into()));
                    }
                    turn
                }
                Err(e) => {
                    failed = true;
                    failure_turn(format!("The dialog engine failed: {e}"))
                }
            }
        }
        Err(why) => {
            failed = true;
            failure_turn(format!("The bot's Kore.ai definition cannot run: {why}"))
        }
    };
    rt.services().metrics.run(KIND, if failed { "failed" } else { "completed" }, Some(started.elapsed()));
    log.extend(turn.log.iter().cloned());
    let now = Timestamp::now();
    for message in &turn.messages {
        if let Some(payload) = payload_of(message) {
            effects.messages.push(OutgoingMessage {
                uid: new_message_uid(),
                chat_id: incoming.chat.id,
                payload,
                metadata: None,
                at: now,
            });
        }
    }
    if !log.is_empty() {
        tracing::info!(
            bot_id = bot.number,
            workspace_id = %bot.workspace_id,
            chat_id = incoming.chat.id,
            job_id = incoming.job.as_ref().map(|hook| hook.lease.job),
            "a Kore.ai turn logged: {}",
            log.join("; ")
        );
        effects.error = Some(ErrorEntry {
            command: turn.started_dialogs.last().cloned().or_else(|| Some("Kore.ai dialog".into())),
            title: log[0].clone(),
            stack_trace: log[1..].join("\n"),
            chat_id: Some(incoming.chat.id),
            user_id: incoming.user.as_ref().map(|u| u.id),
            at: now,
        });
    }
    let payloads: Vec<Value> = effects.messages.iter().map(|m| m.payload.clone()).collect();
    let last_message = payloads.last().and_then(|p| conversation::payload_text(p)).map(str::to_owned);
    crate::run::commit(rt, bot, effects).await?;
    if let Some(hook) = &incoming.job {
        hook.tell(RunReport::Completed);
    }
    if let Some(reply) = &incoming.reply {
        reply.tell(Ok(RunReply {
            rendered: None,
            last_message,
            messages: payloads,
            ended: turn.conversation_ended,
        }));
    }
    Ok(())
}

/// What the engine hears: text (a message, a button's value, a command), or the opening of the
/// conversation (Telegram's `/start`, a start event).
fn input_of(kind: &IncomingKind) -> Option<Input> {
    match kind {
        IncomingKind::Message { text, message } => {
            let is_start = text.trim() == "/start"
                && message.metadata.as_ref().is_some_and(|m| m.contains_key("telegram"));
            Some(if is_start { Input::ConversationStart } else { Input::Text(text.clone()) })
        }
        IncomingKind::Button { data, .. } => Some(Input::Text(data.clone())),
        IncomingKind::Command { text, .. } => Some(Input::Text(text.clone())),
        IncomingKind::Event { name, .. } if START_EVENTS.contains(&name.as_str()) => {
            Some(Input::ConversationStart)
        }
        IncomingKind::Event { .. } => None,
    }
}

/// The chat's session as the last turn left it, or a new one.
async fn load_session(
    rt: &Runtime,
    bot: &Bot,
    incoming: &Incoming,
    log: &mut Vec<String>,
) -> Result<Session> {
    let stored = rt.store().dialog_state(bot.number, incoming.chat.id).await?;
    let session = match stored.as_deref() {
        None | Some("{}") => None,
        Some(state) => match serde_json::from_str::<Session>(state) {
            Ok(session) => Some(session),
            Err(e) => {
                log.push(format!("The conversation's stored state could not be read ({e}); it starts over"));
                None
            }
        },
    };
    Ok(session.unwrap_or_else(|| Session::new(Some(channel_name(incoming.chat.channel)), None)))
}

/// Kore.ai's name of the channel, which chooses among a node's message variants.
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        // Kore.ai's web SDK talks over its RTM channel.
        Channel::Web => "rtm",
        Channel::Telegram => "telegram",
        Channel::Webhook => "webhook",
        Channel::System => "default",
    }
}

/// Fills what Kore.ai's channels fill before a turn: `BotUserSession.lastMessage` and the
/// user's profile in `UserContext`.
fn prepare(session: &mut Session, incoming: &Incoming, input: &Input) {
    session.channel = Some(channel_name(incoming.chat.channel).to_owned());
    let text = match input {
        Input::Text(text) => Value::String(text.clone()),
        Input::ConversationStart => Value::Null,
    };
    let user = incoming.user.as_ref();
    // What the client sent with the message (the Chat API's `metadata`) rides along, as the
    // custom data of Kore.ai's SDKs does: in `message` and as `botInfo.customData`.
    let custom = match &incoming.kind {
        IncomingKind::Message { message, .. } => message.metadata.clone().unwrap_or_default(),
        _ => Map::new(),
    };
    let mut body = custom.clone();
    body.remove("telegram");
    body.insert("body".into(), text);
    session.bot_user_session.insert(
        "lastMessage".into(),
        json!({"messagePayload": {
            "message": body,
            "from": {"id": user.map(|u| u.external_id.clone())},
            "botInfo": {"customData": custom.get("customData").cloned().unwrap_or(Value::Null)},
            "channel": channel_name(incoming.chat.channel),
        }}),
    );
    if let Some(user) = user {
        session.user_context = user_context(user);
    }
}

fn user_context(user: &BotUser) -> Map<String, Value> {
    let mut context = Map::new();
    context.insert("_id".into(), json!(user.external_id));
    context.insert("firstName".into(), json!(user.first_name));
    context.insert("lastName".into(), json!(user.last_name));
    context.insert("identities".into(), json!([{"val": user.external_id, "type": user.channel.as_str()}]));
    context
}

/// A turn that only says the task failed, for a bot that cannot run.
fn failure_turn(reason: String) -> Turn {
    Turn {
        messages: vec![Message::Text { text: TASK_FAILED.into() }],
        events: vec!["TASK_FAILURE_EVENT".into()],
        log: vec![reason],
        ..Turn::default()
    }
}

/// What a Kore.ai bot says when a task fails and its definition says nothing (Kore.ai's
/// standard response).
const TASK_FAILED: &str = "I am sorry, I am unable to process your request at this time.";

/// A message of the engine as a stored bot message: text, with the buttons or quick replies of a
/// Kore.ai template as an inline keyboard (the template itself is kept under `koreai`).
fn payload_of(message: &Message) -> Option<Value> {
    let text = clip(message.text());
    if text.trim().is_empty() {
        return None;
    }
    match message {
        Message::Text { .. } => conversation::bot_payload(&text, None).ok(),
        Message::Template { payload, .. } => {
            let keyboard = template_keyboard(payload);
            let mut stored = conversation::bot_payload(&text, keyboard.as_ref()).ok()?;
            stored["koreai"] = payload.clone();
            Some(stored)
        }
    }
}

/// Text beyond the message size limit is cut (the engine already bounds it in bytes).
fn clip(text: &str) -> String {
    text.chars().take(conversation::MESSAGE_TEXT_MAX_CHARS).collect()
}

/// The buttons of a `button` or `quick_replies` template, one per row.
fn template_keyboard(template: &Value) -> Option<Keyboard> {
    let payload = template.get("payload").unwrap_or(template);
    let buttons = payload
        .get("buttons")
        .or_else(|| payload.get("quick_replies"))
        .or_else(|| payload.get("elements").filter(|_| payload["template_type"] == "list"))
        .and_then(Value::as_array)?;
    let rows: Vec<Vec<InlineButton>> = buttons
        .iter()
        .take(20)
        .filter_map(|b| {
            let title = b.get("title").and_then(Value::as_str)?.chars().take(64).collect::<String>();
            let url = b.get("url").and_then(Value::as_str).map(str::to_owned);
            let value = b.get("payload").or_else(|| b.get("value")).and_then(Value::as_str);
            let command = if url.is_some() { None } else { Some(value.unwrap_or(&title).to_owned()) };
            Some(vec![InlineButton { title, command, url }])
        })
        .collect();
    (!rows.is_empty()).then_some(Keyboard::Inline(rows))
}

/// The engine's way out: scripts in the sandbox, service calls through the outbound rules.
struct RuntimeHost {
    handle: tokio::runtime::Handle,
    sandbox: Sandbox,
    services: Services,
    tenant: Tenant,
    script_time: Duration,
}

impl DialogHost for RuntimeHost {
    fn run_script(&mut self, code: &str, context: Value) -> std::result::Result<ScriptOutcome, String> {
        let program = script_program(code, &context);
        let evaluated =
            self.handle.block_on(self.sandbox.evaluate(self.tenant.clone(), program, self.script_time));
        match evaluated {
            Ok(json) => parse_script_result(&json),
            Err(error) => Err(error.message),
        }
    }

    fn call_service(&mut self, request: ServiceRequest) -> std::result::Result<ServiceResponse, String> {
        let settings = &self.services.config.outbound;
        let headers: Map<String, Value> =
            request.headers.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let timeout =
            Duration::from_millis(request.timeout_ms).min(Duration::from_secs(settings.timeout_secs));
        let outbound = botyard_core::outbound::Request {
            method: &request.method,
            url: &request.url,
            headers: &headers,
            body: request.body.map(String::into_bytes),
            timeout,
            max_bytes: settings.max_response_bytes,
        };
        let answer =
            self.handle.block_on(self.services.send_outbound(outbound)).map_err(|e| match e.detail {
                Some(detail) => format!("{} ({detail})", e.message),
                None => e.message,
            })?;
        Ok(ServiceResponse {
            status: answer.status,
            headers: answer.headers,
            body: String::from_utf8_lossy(&answer.body).into_owned(),
        })
    }
}

/// One request of Kore.ai's Webhook channel: who writes, what, and whether a new session starts.
#[derive(Debug, Clone, Default)]
pub struct WebhookMessage {
    /// `from.id`: the user on the integration's side.
    pub from: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `message.val`; `None` when the request only opens a session.
    pub text: Option<String>,
    /// `session.new`: the conversation starts over (ON_CONNECT, the welcome message).
    pub new_session: bool,
}

/// The longest `from.id` the Webhook channel accepts.
const WEBHOOK_USER_MAX_CHARS: usize = 200;

impl Runtime {
    /// Handles one request of Kore.ai's Webhook channel synchronously: the user's message is
    /// accepted durably like any other, and the answer holds the messages of its turn(s).
    pub async fn kore_webhook(&self, bot: &Bot, message: WebhookMessage) -> Result<Vec<RunReply>> {
        if self.kore_bot(bot).await?.is_none() {
            return Err(Error::invalid(
                "This bot has no Kore.ai dialogs: import a Kore.ai bot definition first",
            ));
        }
        if !bot.accepts_messages() {
            return Err(Error::new(
                botyard_domain::ErrorCode::Unavailable,
                "The bot is not running: start (publish) it before its channels can talk to it",
            ));
        }
        let from = message.from.trim();
        if from.is_empty() || from.chars().count() > WEBHOOK_USER_MAX_CHARS {
            return Err(Error::invalid(format!("from.id must be 1 to {WEBHOOK_USER_MAX_CHARS} characters")));
        }
        let text = message.text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        if text.is_none() && !message.new_session {
            return Err(Error::invalid("message.val is required"));
        }
        if text.as_ref().is_some_and(|t| t.chars().count() > conversation::MESSAGE_TEXT_MAX_CHARS) {
            return Err(Error::invalid(format!(
                "message.val may be at most {} characters",
                conversation::MESSAGE_TEXT_MAX_CHARS
            )));
        }
        let store = self.store();
        let now = Timestamp::now();
        let profile = conversation::UserProfile {
            first_name: message.first_name,
            last_name: message.last_name,
            ..Default::default()
        };
        let (user, user_created) =
            store.upsert_user(bot.number, Channel::Webhook, from, &profile, now).await?;
        let key = botyard_store::ChatKey { bot: bot.number, channel: Channel::Webhook, external_id: from };
        let (chat, chat_created) = store.upsert_chat(&key, "private", None, Some(user.id), now).await?;
        if chat.blocked {
            return Err(Error::forbidden("This user is blocked from talking to the bot"));
        }
        self.allowance(bot, chat.id, Some(user.id)).await?;
        let mut waiting = Vec::new();
        let mut arrivals = Vec::new();
        if message.new_session {
            arrivals.push(crate::Arriving::Event { name: START_EVENTS[0].into(), payload: Value::Null });
        }
        if let Some(text) = text {
            arrivals.push(crate::Arriving::Message(botyard_store::NewMessage {
                uid: new_message_uid(),
                bot: bot.number,
                chat_id: chat.id,
                user_id: Some(user.id),
                payload: json!({"type": "text", "text": text}),
                metadata: None,
                at: now,
                external_id: None,
            }));
        }
        for (n, what) in arrivals.into_iter().enumerate() {
            let (reply, replied) = crate::incoming::ReplyHook::new();
            let accept = crate::Accept {
                bot: bot.number,
                chat: chat.clone(),
                user: Some(user.clone()),
                chat_created: chat_created && n == 0,
                user_created: user_created && n == 0,
                what,
                telegram_update: None,
                bounded: true,
            };
            if let crate::Accepted::Queued(Some(stored)) = self.accept_waiting(accept, Some(reply)).await? {
                self.publish(crate::hub::ChatEvent::Created(Arc::new(*stored))).await;
            }
            waiting.push(replied);
        }
        let limit =
            Duration::from_secs(u64::from(self.services().config.sandbox.max_time_limit_secs) * 4 + 10);
        let mut replies = Vec::new();
        for replied in waiting {
            match tokio::time::timeout(limit, replied).await {
                Ok(Ok(Ok(reply))) => replies.push(reply),
                Ok(Ok(Err(why))) => {
                    return Err(Error::new(
                        botyard_domain::ErrorCode::Unavailable,
                        format!("The bot could not answer: {why}"),
                    ));
                }
                Ok(Err(_)) | Err(_) => {
                    return Err(Error::new(
                        botyard_domain::ErrorCode::Timeout,
                        "The bot did not answer in time",
                    ));
                }
            }
        }
        Ok(replies)
    }
}
