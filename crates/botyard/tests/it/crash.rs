//! A server killed with SIGKILL in the middle of traffic loses nothing it accepted and runs
//! nothing twice: after a restart, every user message stored before the crash has exactly one
//! answer. The server is the real binary, in a child process, on both databases.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use botyard_store::Backend;
use botyard_store::testing::{TestDatabase, backends};
use reqwest::Client;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_botyard");
const CHATS: usize = 8;
const PER_CHAT: usize = 40;

fn spawn(port: u16, data: &std::path::Path, db: &TestDatabase) -> Child {
    Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", data.to_str().unwrap()])
        .args(if db.backend == Backend::Postgres { vec!["--database-url", db.url.as_str()] } else { vec![] })
        .env_remove("BOTYARD_DATABASE_URL")
        .env("BOTYARD_RUNTIME__NODE_LEASE_SECS", "2")
        .env("BOTYARD_HTTP__RATE_LIMIT_PER_SECOND", "10000")
        .env("BOTYARD_HTTP__RATE_LIMIT_BURST", "10000")
        .env("BOTYARD_SANDBOX__EXECUTORS", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("botyard starts")
}

async fn ready(http: &Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "botyard did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every message of a conversation, as `(author is the user, text)`.
async fn messages_of(http: &Client, base: &str, key: &str, id: &str) -> Vec<(bool, String)> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page: Value = http
            .get(format!("{base}/conversations/{id}/messages?nextToken={token}"))
            .header("x-user-key", key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for m in page["messages"].as_array().unwrap() {
            // Users' ids are `user_…`; the bot's is its UUID.
            let from_user = m["userId"].as_str().is_some_and(|u| u.starts_with("user_"));
            all.push((from_user, m["payload"]["text"].as_str().unwrap_or("").to_owned()));
        }
        match page["meta"]["nextToken"].as_str() {
            Some(t) => token = t.to_owned(),
            None => return all,
        }
    }
}

#[tokio::test]
async fn nothing_accepted_before_a_crash_is_lost_or_run_twice() {
    for backend in backends() {
        let db = TestDatabase::create(backend).await;
        let data = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let root = format!("http://127.0.0.1:{port}");
        crate::harness::install_tls();
        let http = Client::new();
        let mut child = spawn(port, data.path(), &db);
        ready(&http, &root).await;

        // A bot whose every answer takes a while, so that messages queue up.
        let signed: Value = http
            .post(format!("{root}/v2/auth"))
            .json(&json!({"email": "ann@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let key = signed["api_key"].as_str().unwrap().to_owned();
        let bot: Value = http
            .post(format!("{root}/v2/bots?api_key={key}"))
            .json(&json!({"name": "Echo"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = bot["id"].as_i64().unwrap();
        let code = "var t = Date.now(); while (Date.now() - t < 15) {} Bot.sendMessage('echo ' + message);";
        http.post(format!("{root}/v2/bots/{id}/commands?api_key={key}"))
            .json(&json!({"command": "*", "bjs_code": code}))
            .send()
            .await
            .unwrap();
        http.post(format!("{root}/v2/bots/{id}/status?api_key={key}"))
            .json(&json!({"status": "start_launch"}))
            .send()
            .await
            .unwrap();
        let base = format!("{root}/chat/{}", bot["web_channel_id"].as_str().unwrap());

        let mut chats = Vec::new();
        for _ in 0..CHATS {
            let user: Value = http
                .post(format!("{base}/users"))
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let user_key = user["key"].as_str().unwrap().to_owned();
            let conv: Value = http
                .post(format!("{base}/conversations"))
                .header("x-user-key", &user_key)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            chats.push((user_key, conv["conversation"]["id"].as_str().unwrap().to_owned()));
        }

        // Eight chats send as fast as they are accepted; the server is killed in the middle.
        let senders: Vec<_> = chats
            .iter()
            .enumerate()
            .map(|(c, (user_key, conversation))| {
                let (http, base, user_key, conversation) = (http.clone(), base.clone(), user_key.clone(), conversation.clone());
                tokio::spawn(async move {
                    for i in 0..PER_CHAT {
                        let sent = http
                            .post(format!("{base}/messages"))
                            .header("x-user-key", &user_key)
                            .json(&json!({"conversationId": conversation, "payload": {"type": "text", "text": format!("m{c}-{i}")}}))
                            .send()
                            .await;
                        if sent.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(25)).await;
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(600)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        for sender in senders {
            let _ = sender.await;
        }

        // Restarted on the same database, it answers what it had accepted, once each.
        let mut child = spawn(port, data.path(), &db);
        ready(&http, &root).await;
        let deadline = Instant::now() + Duration::from_secs(90);
        let (asked, answers, unanswered, others) = loop {
            let mut asked = 0;
            let mut answers = HashMap::new();
            let mut sent = Vec::new();
            let mut others = Vec::new();
            for (user_key, conversation) in &chats {
                for (from_user, text) in messages_of(&http, &base, user_key, conversation).await {
                    if from_user {
                        asked += 1;
                        sent.push(text);
                    } else if let Some(of) = text.strip_prefix("echo ") {
                        *answers.entry(of.to_owned()).or_insert(0) += 1;
                    } else {
                        others.push(text);
                    }
                }
            }
            if answers.len() >= asked || Instant::now() > deadline {
                let unanswered: Vec<String> = sent.into_iter().filter(|t| !answers.contains_key(t)).collect();
                break (asked, answers, unanswered, others);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let twice: Vec<_> = answers.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{backend:?}: answered more than once: {twice:?}");
        assert_eq!(
            answers.len(),
            asked,
            "{backend:?}: every accepted message is answered ({} of {asked}); unanswered {unanswered:?}, other bot messages {others:?}",
            answers.len()
        );
        assert!(
            asked > 0 && asked < CHATS * PER_CHAT,
            "{backend:?}: the crash came mid-traffic ({asked} sent)"
        );
        println!("{backend:?}: {asked} messages accepted before the crash, each answered once after it");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

#[tokio::test]
async fn a_run_whose_commit_fails_once_runs_again_and_answers_once() {
    for backend in backends() {
        // The first commit of a run fails as a busy or unreachable database would make it.
        let s = crate::harness::TestServer::start_with(backend, |c| {
            c.jobs.failpoints = vec!["run_commit".into()]
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s.bot(&ann, "Retry", &[crate::webchat::cmd("/hi", "", "Bot.sendMessage('hello')")]).await;
        let mut chat = s.chat(&bot).await;
        assert_eq!(chat.ask("/hi", 1).await, ["hello"], "answered after the failed commit, once");
        chat.silence().await;
        let logs =
            s.bb(&ann, reqwest::Method::GET, &format!("/v2/bots/{}/error_logs", bot.id), Value::Null).await;
        assert_eq!(logs.body, json!([]), "a transient failure is not the script's error");
        s.stop().await;
    }
}
