//! Sending: claim the oldest outbox row of each chat, deliver it within the rate limits, and
//! record the outcome — the Telegram message id, a retry after `retry_after` (429) or with backoff
//! (network), a chat whose user blocked the bot (403), a group that became a supergroup.
//!
//! A row is deleted once Telegram confirmed it. Telegram offers no idempotency key: if the process
//! dies between Telegram's answer and that delete (a millisecond), the row is sent again after the
//! restart — the only way a user can see a message twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use botyard_domain::bot::Bot;
use botyard_domain::conversation::{Chat, ChatMessage};
use botyard_domain::effects::ErrorEntry;
use botyard_domain::keyboard::Keyboard;
use botyard_domain::{BotRef, Timestamp};
use botyard_runtime::batched::Batched;
use botyard_runtime::{Accept, Arriving};
use botyard_store::{ConversationStore, ErrorLogStore, OutboxRow, TelegramStore};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, Semaphore};

use super::Telegram;
use super::api::ApiError;

const BATCH: u32 = 64;
const IN_FLIGHT: usize = 32;
const LEASE: Duration = Duration::from_secs(60);
const IDLE_POLL: Duration = Duration::from_millis(250);

/// The chats and messages of a claimed batch, read at once.
#[derive(Default)]
struct Context {
    chats: HashMap<i64, Chat>,
    messages: HashMap<i64, ChatMessage>,
}

/// Claims due rows as long as fewer than `IN_FLIGHT` sends are under way (a slow send does not
/// hold up the others), and delivers each on its own task.
pub(crate) async fn run(telegram: Telegram) {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let commits = telegram.runtime().commits();
    // Told when sends were recorded as done: their chats' next rows are due.
    let finished = Arc::new(Notify::new());
    let completer = Completer::start(telegram.clone());
    loop {
        if telegram.inner.stopping.is_cancelled() {
            break;
        }
        // Wait for room, then take as many rows as there is room for.
        let first = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => break },
            _ = telegram.inner.stopping.cancelled() => break,
        };
        let room = 1 + permits.available_permits();
        // Listening starts before the claim, so a commit made meanwhile is not missed.
        let committed = commits.notified();
        let done = finished.notified();
        tokio::pin!(committed, done);
        committed.as_mut().enable();
        done.as_mut().enable();
        let now = Timestamp::now();
        let until = now.plus_millis(LEASE.as_millis() as i64);
        let limit = BATCH.min(room as u32);
        let claimed = telegram.store().claim_outbox(&telegram.inner.node, now, until, limit).await;
        let rows = match claimed {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the outbox");
                Vec::new()
            }
        };
        if rows.is_empty() {
            drop(first);
            tokio::select! {
                _ = committed => {}
                _ = done => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = telegram.inner.stopping.cancelled() => break,
            }
            continue;
        }
        let context = match telegram.store().outbox_context(&rows).await {
            Ok((chats, messages)) => Context {
                chats: chats.into_iter().map(|c| (c.id, c)).collect(),
                messages: messages.into_iter().map(|m| (m.id, m)).collect(),
            },
            // Each row reads its own then.
            Err(_) => Context::default(),
        };
        let context = Arc::new(context);
        let mut first = Some(first);
        for row in rows {
            let permit = match first.take() {
                Some(permit) => permit,
                None => match permits.clone().acquire_owned().await {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
            };
            let (telegram, context, completer) = (telegram.clone(), context.clone(), completer.clone());
            let finished = finished.clone();
            tokio::spawn(async move {
                deliver(&telegram, row, &context, &completer).await;
                drop(permit);
                // The chat's next row (or a retry) may be due now.
                finished.notify_waiters();
            });
        }
    }
    // Let the sends under way finish (the server is stopping).
    let _ = tokio::time::timeout(Duration::from_secs(4), permits.acquire_many(IN_FLIGHT as u32)).await;
}

/// Records confirmed sends several at a time: Telegram's message ids and the rows' deletion, in
/// one transaction per batch (group commit through [`Batched`]: a batch is whatever arrived while
/// the previous one was written, so nothing waits for a timer).
#[derive(Clone)]
struct Completer {
    confirmed: Batched<Confirmed, ()>,
}

/// A confirmed send: its outbox row, and Telegram's id of the message it sent.
type Confirmed = (i64, Option<(i64, String)>);

impl Completer {
    fn start(telegram: Telegram) -> Self {
        Self {
            confirmed: Batched::start(move |sent: Vec<Confirmed>| {
                let telegram = telegram.clone();
                async move {
                    let store = telegram.store();
                    if let Err(e) = store.outbox_sent(&sent).await {
                        tracing::warn!(error = %e, "could not record a batch of sends; recording each alone");
                        for (row, external) in &sent {
                            if let Some((message, id)) = external {
                                let _ = store.set_message_external_id(*message, id).await;
                            }
                            let _ = store.delete_outbox(*row).await;
                        }
                    }
                    Ok(vec![(); sent.len()])
                }
            }),
        }
    }

    /// Records a confirmed send (and Telegram's id of the message it sent); returns once written.
    async fn sent(&self, row: i64, external: Option<(i64, String)>) {
        let _ = self.confirmed.get((row, external)).await;
    }
}

/// What to call for a row.
struct Call {
    method: String,
    params: Value,
}

async fn deliver(telegram: &Telegram, row: OutboxRow, context: &Context, completer: &Completer) {
    let store = &telegram.store();
    let outcome = prepare(telegram, &row, context).await;
    let Some((bot, chat, token, call)) = outcome else {
        let _ = store.delete_outbox(row.id).await;
        return;
    };
    telegram.inner.limits.wait(bot.number, chat.id, chat.chat_type != "private").await;
    let mut answer = telegram.api().call(&token, &call.method, &call.params, Duration::ZERO).await;
    if let Err(ApiError::Refused { code: 400, description, .. }) = &answer
        && description.contains("can't parse entities")
        && call.params.get("parse_mode").is_some()
    {
        // Text that is not valid Markdown goes as plain text.
        let mut plain = call.params.clone();
        plain.as_object_mut().map(|p| p.remove("parse_mode"));
        answer = telegram.api().call(&token, &call.method, &plain, Duration::ZERO).await;
    }
    let settings = &telegram.services().config.telegram;
    let metrics = &telegram.services().metrics;
    match &answer {
        Ok(_) => {
            let lag = Timestamp::now().millis().saturating_sub(row.created_at.millis()).max(0);
            metrics.telegram_send("ok", Some(Duration::from_millis(lag as u64)));
        }
        Err(ApiError::Refused { code: 429, .. }) => {
            metrics.telegram_send("rate_limited", None);
            tracing::info!(
                bot_id = bot.number,
                workspace_id = %bot.workspace_id,
                chat_id = chat.id,
                method = %call.method,
                "Telegram answered 429 Too Many Requests; the send waits"
            );
        }
        Err(ApiError::Refused { .. }) => metrics.telegram_send("refused", None),
        Err(_) => metrics.telegram_send("error", None),
    }
    match answer {
        Ok(result) => {
            let external = match (row.method.as_str(), row.message, result.get("message_id")) {
                ("send", Some(message), Some(id)) => Some((message, id.to_string())),
                _ => None,
            };
            completer.sent(row.id, external).await;
            callback(telegram, &row, &chat, json!({"ok": true, "result": result})).await;
        }
        Err(ApiError::Refused { code: 400, description, .. })
            if description.contains("message is not modified") =>
        {
            let _ = store.delete_outbox(row.id).await;
        }
        Err(ApiError::Refused { code: 429, retry_after, .. }) => {
            let wait = retry_after.unwrap_or(1).max(1);
            let _ = store.retry_outbox(row.id, Timestamp::now().plus_secs(wait as i64), row.attempts).await;
        }
        Err(ApiError::Refused { migrate_to_chat_id: Some(to), .. }) => {
            let _ = store.move_chat(chat.id, &to.to_string(), "supergroup", Timestamp::now()).await;
            let _ = store.retry_outbox(row.id, Timestamp::now(), row.attempts).await;
        }
        Err(ApiError::Refused { code: 403, description, .. }) => {
            // The user blocked the bot (or it was removed from the group): stop sending there.
            let _ = store.set_chat_bot_blocked(chat.id, true, Timestamp::now()).await;
            let _ = store.drop_chat_outbox(chat.id).await;
            callback(
                telegram,
                &row,
                &chat,
                json!({"ok": false, "error_code": 403, "description": description}),
            )
            .await;
        }
        Err(ApiError::Refused { code, description, .. }) if code < 500 => {
            let _ = store.delete_outbox(row.id).await;
            log(telegram, &bot, chat.id, format!("Telegram refused {}: {code} {description}", call.method))
                .await;
            callback(
                telegram,
                &row,
                &chat,
                json!({"ok": false, "error_code": code, "description": description}),
            )
            .await;
        }
        Err(e) => {
            let attempts = row.attempts + 1;
            if attempts >= settings.max_attempts {
                let _ = store.delete_outbox(row.id).await;
                log(
                    telegram,
                    &bot,
                    chat.id,
                    format!("Giving up {} after {attempts} attempts: {}", call.method, e.describe()),
                )
                .await;
                callback(telegram, &row, &chat, json!({"ok": false, "description": e.describe()})).await;
            } else {
                let wait = 500 * 2_i64.pow(attempts.min(9));
                let _ = store.retry_outbox(row.id, Timestamp::now().plus_millis(wait), attempts).await;
            }
        }
    }
}

/// The bot, chat, token and call of a row; `None` drops it (bot or chat gone, no token, the user
/// blocked the bot, an edit of a message Telegram never had).
async fn prepare(
    telegram: &Telegram,
    row: &OutboxRow,
    context: &Context,
) -> Option<(Bot, Chat, String, Call)> {
    let services = telegram.services();
    let bot = services.find_bot(&BotRef::Number(row.bot)).await.ok().flatten()?;
    let token = bot.telegram_token.clone()?;
    let chat = match context.chats.get(&row.chat).filter(|c| c.bot_number == row.bot) {
        Some(chat) => chat.clone(),
        None => telegram.store().chat(row.bot, row.chat).await.ok().flatten()?,
    };
    if chat.bot_blocked {
        return None;
    }
    let chat_id = telegram_id(&chat.external_id);
    let call = match row.method.as_str() {
        "send" => {
            let message = match context.messages.get(&row.message?) {
                Some(message) => message.clone(),
                None => telegram.store().message_by_id(row.message?).await.ok().flatten()?,
            };
            let mut params = message_params(&message.payload);
            params["chat_id"] = chat_id;
            // What the script asked of Telegram (`Bot.sendMessage(text, {parse_mode, …})`).
            let asked =
                message.metadata.as_ref().and_then(|m| m.get("telegram_send")).and_then(Value::as_object);
            for (key, value) in asked.into_iter().flatten() {
                params[key.as_str()] = value.clone();
            }
            if params["parse_mode"] == "" {
                params.as_object_mut().map(|p| p.remove("parse_mode"));
            }
            Call { method: "sendMessage".into(), params }
        }
        "edit" => {
            let message = telegram.store().message_by_id(row.message?).await.ok().flatten()?;
            let external =
                telegram_id(&telegram.store().message_external_id(message.id).await.ok().flatten()?);
            let mut params = message_params(&message.payload);
            params["chat_id"] = chat_id;
            params["message_id"] = external;
            let text = row.params.get("text").and_then(Value::as_bool).unwrap_or(true);
            if params.get("reply_markup").is_none_or(|m| m.get("inline_keyboard").is_none()) {
                params.as_object_mut().map(|p| p.remove("reply_markup"));
            }
            if text {
                Call { method: "editMessageText".into(), params }
            } else {
                let markup = params.get("reply_markup").cloned().unwrap_or(json!({"inline_keyboard": []}));
                let params = json!({"chat_id": params["chat_id"], "message_id": params["message_id"], "reply_markup": markup});
                Call { method: "editMessageReplyMarkup".into(), params }
            }
        }
        method => {
            let mut params = row.params.clone();
            if params.get("chat_id").is_none() {
                params["chat_id"] = chat_id;
            }
            Call { method: method.to_owned(), params }
        }
    };
    Some((bot, chat, token, call))
}

/// A Telegram chat or message id: a number when it is one.
fn telegram_id(external: &str) -> Value {
    external.parse::<i64>().map_or_else(|_| Value::String(external.to_owned()), Value::from)
}

/// `sendMessage` parameters for a stored bot message: its text (Markdown, as Bots.Business sends
/// it) and keyboard.
pub(crate) fn message_params(payload: &Value) -> Value {
    let text = payload.get("text").and_then(Value::as_str).unwrap_or("");
    let mut params = json!({"text": text, "parse_mode": "Markdown"});
    let keyboard = payload.get("botyard").and_then(|b| b.get("keyboard")).cloned();
    if let Some(keyboard) = keyboard.and_then(|k| serde_json::from_value::<Keyboard>(k).ok()) {
        params["reply_markup"] = reply_markup(&keyboard);
    }
    params
}

fn reply_markup(keyboard: &Keyboard) -> Value {
    match keyboard {
        Keyboard::Reply(rows) => json!({
            "keyboard": rows.iter().map(|r| r.iter().map(|b| json!({"text": b})).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "resize_keyboard": true,
        }),
        Keyboard::Inline(rows) => json!({
            "inline_keyboard": rows.iter().enumerate().map(|(i, r)| r.iter().enumerate().map(|(j, b)| {
                match (&b.url, &b.command) {
                    (Some(url), _) => json!({"text": b.title, "url": url}),
                    (None, Some(command)) if command.len() <= 64 => json!({"text": b.title, "callback_data": command}),
                    (None, _) => json!({"text": b.title, "callback_data": format!("#{i}:{j}")}),
                }
            }).collect::<Vec<_>>()).collect::<Vec<_>>(),
        }),
        Keyboard::Remove => json!({"remove_keyboard": true}),
    }
}

/// Runs the `on_result` / `on_error` command of an API call with `options.result` / `options.ok`.
async fn callback(telegram: &Telegram, row: &OutboxRow, chat: &Chat, answer: Value) {
    let Some(spec) = &row.callback else { return };
    let ok = answer["ok"] == json!(true);
    let command = if ok { spec.get("on_result") } else { spec.get("on_error") };
    let Some(command) = command.and_then(Value::as_str).filter(|c| !c.is_empty()) else { return };
    let mut options = match spec.get("options") {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    for (k, v) in answer.as_object().cloned().unwrap_or_default() {
        options.insert(k, v);
    }
    let user = match spec.get("user_id").and_then(Value::as_i64) {
        Some(id) => telegram.store().bot_user(row.bot, id).await.ok().flatten(),
        None => None,
    };
    let accepted = telegram
        .runtime()
        .accept(Accept {
            bot: row.bot,
            chat: chat.clone(),
            user,
            chat_created: false,
            user_created: false,
            what: Arriving::Command {
                text: command.to_owned(),
                options: Value::Object(options),
                globals: Map::new(),
            },
            telegram_update: None,
            bounded: false,
        })
        .await;
    if let Err(e) = accepted {
        tracing::warn!(bot_id = row.bot, chat_id = chat.id, error = %e, "could not queue an Api call's callback");
    }
}

async fn log(telegram: &Telegram, bot: &Bot, chat: i64, title: String) {
    tracing::info!(bot_id = bot.number, workspace_id = %bot.workspace_id, chat_id = chat, "{title}");
    let entry = ErrorEntry {
        command: None,
        title,
        stack_trace: String::new(),
        chat_id: Some(chat),
        user_id: None,
        at: Timestamp::now(),
    };
    let _ = telegram.store().insert_error(bot.number, &entry).await;
}
