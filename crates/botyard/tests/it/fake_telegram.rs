//! A fake Telegram Bot API on loopback for tests: it knows some tokens, queues updates the test
//! pushes (long polling with a timeout), records every call, and answers with injected errors
//! (429 with `retry_after`, 403, migrations, 400s) when told to.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// One recorded call.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub params: Value,
    pub at: Instant,
}

/// An injected answer for the next `times` calls of `method` (to `chat`, if given).
struct Rule {
    method: String,
    chat: Option<i64>,
    status: u16,
    body: Value,
    times: u32,
    /// Answer only after this long (a timeout, when longer than the client waits).
    delay: Duration,
}

#[derive(Default)]
struct Inner {
    tokens: Vec<String>,
    updates: HashMap<String, VecDeque<Value>>,
    next_update: i64,
    next_message: i64,
    calls: Vec<Call>,
    rules: Vec<Rule>,
    /// The message id the last `sendMessage` was answered with.
    last_sent: i64,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    state: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
}

impl FakeTelegram {
    pub async fn start(tokens: &[&str]) -> Self {
        let state = Arc::new(Mutex::new(Inner {
            tokens: tokens.iter().map(|t| (*t).to_owned()).collect(),
            next_update: 1,
            next_message: 100,
            ..Inner::default()
        }));
        let fake = Self { url: String::new(), state, changed: Arc::new(Notify::new()) };
        let app =
            Router::new().route("/{bot}/{method}", axum::routing::post(handle)).with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, ..fake }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an update (an `update_id` is added) for the bot with `token`; returns its id.
    pub fn push(&self, token: &str, mut update: Value) -> i64 {
        let id = {
            let mut s = self.lock();
            let id = s.next_update;
            s.next_update += 1;
            update["update_id"] = json!(id);
            s.updates.entry(token.to_owned()).or_default().push_back(update);
            id
        };
        self.changed.notify_waiters();
        id
    }

    pub fn message(&self, token: &str, chat: i64, user: i64, text: &str) -> Value {
        let update = json!({"message": {
            "message_id": self.message_id(), "date": 1_700_000_000,
            "from": {"id": user, "is_bot": false, "first_name": format!("User{user}")},
            "chat": {"id": chat, "type": if chat > 0 { "private" } else { "group" }, "title": if chat > 0 { Value::Null } else { json!("Team") }},
            "text": text,
        }});
        let id = self.push(token, update.clone());
        let mut update = update;
        update["update_id"] = json!(id);
        update
    }

    pub fn press(&self, token: &str, chat: i64, user: i64, message_id: i64, data: &str) {
        self.push(token, json!({"callback_query": {
            "id": format!("cb{message_id}"), "from": {"id": user, "is_bot": false, "first_name": format!("User{user}")},
            "message": {"message_id": message_id, "chat": {"id": chat, "type": "private"}, "date": 1_700_000_000},
            "chat_instance": "ci", "data": data,
        }}));
    }

    fn message_id(&self) -> i64 {
        let mut s = self.lock();
        s.next_message += 1;
        s.next_message
    }

    /// Answers the next `times` calls of `method` (to `chat`, if given) with `status` and `body`.
    pub fn inject(&self, method: &str, chat: Option<i64>, status: u16, body: Value, times: u32) {
        self.lock().rules.push(Rule {
            method: method.to_owned(),
            chat,
            status,
            body,
            times,
            delay: Duration::ZERO,
        });
    }

    /// Answers the next call of `method` to `chat` only after `delay`.
    pub fn stall(&self, method: &str, chat: i64, delay: Duration) {
        let body = json!({"ok": true, "result": {"message_id": 1}});
        self.lock().rules.push(Rule {
            method: method.to_owned(),
            chat: Some(chat),
            status: 200,
            body,
            times: 1,
            delay,
        });
    }

    pub fn last_sent_id(&self) -> i64 {
        self.lock().last_sent
    }

    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.lock().calls.iter().filter(|c| c.method == method).cloned().collect()
    }

    /// Waits until `count` calls of `method` were made (10 s at most).
    pub async fn wait_calls(&self, method: &str, count: usize) -> Vec<Call> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let calls = self.calls(method);
            if calls.len() >= count {
                return calls;
            }
            assert!(Instant::now() < deadline, "expected {count} {method} calls, got {calls:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The texts of `sendMessage` calls to `chat`.
    pub fn texts(&self, chat: i64) -> Vec<String> {
        self.calls("sendMessage")
            .iter()
            .filter(|c| c.params["chat_id"] == json!(chat))
            .map(|c| c.params["text"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

async fn handle(
    State(fake): State<FakeTelegram>,
    Path((bot, method)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let token = bot.strip_prefix("bot").unwrap_or(&bot).to_owned();
    let params: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    if !fake.lock().tokens.contains(&token) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
        )
            .into_response();
    }
    if method == "getUpdates" {
        return get_updates(&fake, &token, &params).await;
    }
    let chat = params["chat_id"].as_i64();
    let injected = {
        let mut s = fake.lock();
        s.calls.push(Call { method: method.clone(), params: params.clone(), at: Instant::now() });
        let rule = s
            .rules
            .iter_mut()
            .find(|r| r.method == method && r.times > 0 && (r.chat.is_none() || r.chat == chat));
        rule.map(|r| {
            r.times -= 1;
            (r.status, r.body.clone(), r.delay)
        })
    };
    if let Some((status, body, delay)) = injected {
        tokio::time::sleep(delay).await;
        return (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
    }
    let result = match method.as_str() {
        "getMe" => json!({"id": 42, "is_bot": true, "first_name": "Test", "username": "test_bot"}),
        "sendMessage" | "sendPhoto" | "copyMessage" => {
            let id = fake.message_id();
            fake.lock().last_sent = id;
            json!({"message_id": id, "chat": {"id": params["chat_id"]}, "date": 1_700_000_000, "text": params["text"]})
        }
        "editMessageText" | "editMessageReplyMarkup" => {
            json!({"message_id": params["message_id"], "chat": {"id": params["chat_id"]}})
        }
        _ => json!(true),
    };
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

async fn get_updates(fake: &FakeTelegram, token: &str, params: &Value) -> Response {
    let offset = params["offset"].as_i64().unwrap_or(0);
    let timeout = Duration::from_secs(params["timeout"].as_u64().unwrap_or(0).min(2));
    let deadline = Instant::now() + timeout;
    loop {
        let notified = fake.changed.notified();
        let ready: Vec<Value> = {
            let mut s = fake.lock();
            let queue = s.updates.entry(token.to_owned()).or_default();
            // Confirmed updates (below the offset) are forgotten, as Telegram does.
            queue.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            queue.iter().cloned().collect()
        };
        if !ready.is_empty() || Instant::now() >= deadline {
            return axum::Json(json!({"ok": true, "result": ready})).into_response();
        }
        let _ = tokio::time::timeout(deadline - Instant::now(), notified).await;
    }
}
