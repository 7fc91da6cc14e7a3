//! Test helpers for bots and their web chat: create a bot with commands through `/v2`, talk to it
//! through the Chat API, wait for its answers.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Account, Reply, TestServer};

/// A running bot made for a test.
pub struct TestBot {
    pub id: i64,
    pub webhook: String,
}

/// A command: name, answer, code, and extra fields of the `/v2` body.
pub fn cmd(name: &str, answer: &str, code: &str) -> Value {
    json!({"command": name, "answer": answer, "bjs_code": code})
}

impl TestServer {
    /// Creates and starts a bot with these commands (bodies as `POST /v2/bots/{id}/commands` takes).
    pub async fn bot(&self, owner: &Account, name: &str, commands: &[Value]) -> TestBot {
        let created = self.bb(owner, Method::POST, "/v2/bots", json!({"name": name})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        for command in commands {
            let reply =
                self.bb(owner, Method::POST, &format!("/v2/bots/{id}/commands"), command.clone()).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{command}: {:?}", reply.body);
        }
        let started = self
            .bb(owner, Method::POST, &format!("/v2/bots/{id}/status"), json!({"status": "start_launch"}))
            .await;
        assert_eq!(started.body["status"], "works");
        TestBot { id, webhook: created.body["web_channel_id"].as_str().unwrap().to_owned() }
    }

    /// Waits until the bot has nothing left to do: every arrival has finished its run (its inbox
    /// row goes in the run's commit), no delayed run, retry or HTTP request waits or runs, and the
    /// Telegram outbox holds nothing of the bot.
    pub async fn settled(&self, bot: i64) {
        let pending = format!(
            "SELECT COUNT(*) FROM jobs WHERE bot_id = {bot} AND status IN ('enqueued', 'processing') \
             AND kind IN ('scheduled_run', 'auto_retry', 'http_request')"
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let arrivals = self.count(&format!("SELECT COUNT(*) FROM inbox WHERE bot_id = {bot}")).await;
            let jobs = self.count(&pending).await;
            let unsent = self.count(&format!("SELECT COUNT(*) FROM outbox WHERE bot_id = {bot}")).await;
            if arrivals == 0 && jobs == 0 && unsent == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "bot {bot} still busy: {arrivals} arrivals, {jobs} jobs, {unsent} unsent"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// A new web chat user of the bot, in a new conversation.
    pub async fn chat(&self, bot: &TestBot) -> WebChat<'_> {
        let user = self
            .call(Method::POST, &format!("/chat/{}/users", bot.webhook), &[], json!({"name": "Tester"}))
            .await;
        assert_eq!(user.status, StatusCode::CREATED, "{:?}", user.body);
        let key = user.body["key"].as_str().unwrap().to_owned();
        let base = format!("/chat/{}", bot.webhook);
        let conversation = self
            .call(Method::POST, &format!("{base}/conversations"), &[("x-user-key", &key)], json!({}))
            .await;
        assert_eq!(conversation.status, StatusCode::CREATED, "{:?}", conversation.body);
        WebChat {
            server: self,
            base,
            key,
            user_id: user.body["user"]["id"].as_str().unwrap().to_owned(),
            conversation: conversation.body["conversation"]["id"].as_str().unwrap().to_owned(),
            bot: bot.id,
            seen: 0,
        }
    }
}

/// A conversation with a bot through the Chat API.
pub struct WebChat<'s> {
    pub server: &'s TestServer,
    pub base: String,
    pub key: String,
    pub user_id: String,
    pub conversation: String,
    /// The bot's `/v2` id.
    pub bot: i64,
    /// How many messages earlier calls have returned.
    seen: usize,
}

impl WebChat<'_> {
    pub async fn call(&self, method: Method, path: &str, body: Value) -> Reply {
        self.server.call(method, &format!("{}{path}", self.base), &[("x-user-key", &self.key)], body).await
    }

    /// Sends a text message; returns the answer to the request.
    pub async fn send(&self, text: &str) -> Reply {
        let body = json!({"conversationId": self.conversation, "payload": {"type": "text", "text": text}});
        self.call(Method::POST, "/messages", body).await
    }

    /// Presses an inline button of a bot message.
    pub async fn press(&self, message_id: &str, command: &str) -> Reply {
        let payload = json!({"type": "callback", "data": command, "messageId": message_id});
        self.call(Method::POST, "/events", json!({"conversationId": self.conversation, "payload": payload}))
            .await
    }

    /// Every message of the conversation, oldest first.
    pub async fn messages(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let path = format!("/conversations/{}/messages?nextToken={token}", self.conversation);
            let page = self.call(Method::GET, &path, Value::Null).await;
            assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
            all.extend(page.body["messages"].as_array().unwrap().iter().cloned());
            match page.body["meta"]["nextToken"].as_str() {
                Some(t) => token = t.to_owned(),
                None => return all,
            }
        }
    }

    /// Sends a message and waits until the bot has answered with `answers` messages; returns the
    /// texts of the bot's new messages.
    pub async fn ask(&mut self, text: &str, answers: usize) -> Vec<String> {
        let sent = self.send(text).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
        self.seen += 1;
        self.answers(answers).await
    }

    /// Waits for `count` new bot messages (after those returned before).
    pub async fn answers(&mut self, count: usize) -> Vec<String> {
        let new = self.wait_for(count).await;
        new.iter().map(|m| m["payload"]["text"].as_str().unwrap_or_default().to_owned()).collect()
    }

    /// Waits for `count` new messages and returns them whole.
    pub async fn wait_for(&mut self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let all = self.messages().await;
            let new: Vec<Value> = all.iter().skip(self.seen).cloned().collect();
            if new.len() >= count {
                self.seen += count;
                return new[..count].to_vec();
            }
            assert!(Instant::now() < deadline, "expected {count} new messages, got {:?}", new);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Asserts that the bot sent nothing new once it has nothing left to do (see
    /// [`TestServer::settled`]).
    pub async fn silence(&mut self) {
        self.server.settled(self.bot).await;
        let all = self.messages().await;
        assert_eq!(all.len(), self.seen, "unexpected messages: {:?}", &all[self.seen.min(all.len())..]);
    }

    /// Counts a message this chat sent without waiting for answers.
    pub fn sent_one(&mut self) {
        self.seen += 1;
    }
}
