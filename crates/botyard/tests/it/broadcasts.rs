//! Broadcasts (`Bot.runAll`): paced, paused and resumed within a second, deleted; and a botyard
//! killed with SIGKILL in the middle of a Telegram broadcast that, restarted, finishes it with every
//! chat reached exactly once, as counted by the fake Bot API.

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_telegram::FakeTelegram;
use crate::harness::{TestServer, backends};
use crate::snap;
use crate::webchat::cmd;

const BIN: &str = env!("CARGO_BIN_EXE_botyard");

#[tokio::test]
async fn broadcasts_pause_resume_and_delete() {
    for backend in backends() {
        let s = TestServer::start_with(backend, |c| {
            c.jobs.poll_interval_ms = 50;
            c.telegram.broadcast_per_second = 20;
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(&ann, "News", &[
                cmd("/news", "", "Bot.sendMessage('news for ' + user.first_name)"),
                cmd("/bc", "", "Bot.runAll({command: '/news', for_chats: 'all', on_create: '/created'}); Bot.sendMessage('started')"),
                cmd("/created", "", "Bot.sendMessage('task ' + options.run_all_task.total)"),
            ])
            .await;
        let mut chats = Vec::new();
        for _ in 0..30 {
            chats.push(s.chat(&bot).await);
        }
        assert_eq!(chats[0].ask("/bc", 2).await, ["started", "task 30"]);
        let tasks = format!("/v2/bots/{}/broadcast_tasks", bot.id);
        let running = s
            .poll(
                async || s.bb(&ann, Method::GET, &tasks, Value::Null).await,
                |b| b[0]["cur_position"].as_i64().unwrap_or(0) >= 5,
            )
            .await;
        let task = running.body[0]["id"].as_i64().unwrap();
        let paused = s.bb(&ann, Method::POST, &format!("{tasks}/{task}/pause"), Value::Null).await;
        assert_eq!(paused.body["status"], "paused");
        // The broadcast writes "paused" once its runs under way have ended; from then on no chat
        // gets the news, whatever the chats' own traffic.
        let stopped =
            format!("SELECT COUNT(*) FROM jobs WHERE id = {task} AND details LIKE '%\"status\":\"paused\"%'");
        s.wait_for_count(&stopped, 1).await;
        let at_pause =
            s.bb(&ann, Method::GET, &tasks, Value::Null).await.body[0]["cur_position"].as_i64().unwrap();
        let mut delivered = 0;
        for chat in &chats {
            delivered += news_in(&chat.messages().await);
        }
        s.settled(bot.id).await;
        let still = s.bb(&ann, Method::GET, &tasks, Value::Null).await;
        assert_eq!(still.body[0]["cur_position"].as_i64().unwrap(), at_pause, "paused");
        let mut after = 0;
        for chat in &chats {
            after += news_in(&chat.messages().await);
        }
        assert_eq!(after, delivered, "no news while paused");
        assert!(at_pause < 30, "{at_pause}");
        assert_eq!(still.body[0]["status"], "paused");
        s.bb(&ann, Method::POST, &format!("{tasks}/{task}/resume"), Value::Null).await;
        let done = s
            .poll(
                async || s.bb(&ann, Method::GET, &tasks, Value::Null).await,
                |b| b[0]["status"] == "finished",
            )
            .await;
        snap!("broadcast_finished", done);
        for chat in &mut chats {
            let messages = chat.messages().await;
            let news = messages
                .iter()
                .filter(|m| m["payload"]["text"].as_str().is_some_and(|t| t.starts_with("news")))
                .count();
            assert_eq!(news, 1, "each chat once: {messages:?}");
        }

        // A second broadcast, deleted while it runs.
        chats[0].ask("/bc", 2).await;
        let second = s
            .poll(
                async || s.bb(&ann, Method::GET, &tasks, Value::Null).await,
                |b| b[0]["id"].as_i64() != Some(task) && b[0]["cur_position"].as_i64().unwrap_or(0) >= 2,
            )
            .await;
        let second_id = second.body[0]["id"].as_i64().unwrap();
        let deleted = s.bb(&ann, Method::DELETE, &format!("{tasks}/{second_id}"), Value::Null).await;
        assert_eq!(deleted.status, StatusCode::OK);
        let canceled = s
            .poll(
                async || s.bb(&ann, Method::GET, &tasks, Value::Null).await,
                |b| b[0]["status"] == "canceled",
            )
            .await;
        let reached = canceled.body[0]["cur_position"].as_i64().unwrap();
        assert!(reached < 30, "{reached}");
        snap!(
            "broadcast_ended",
            s.bb(&ann, Method::POST, &format!("{tasks}/{second_id}/resume"), Value::Null).await
        );
        snap!(
            "broadcast_unknown",
            s.bb(&ann, Method::POST, &format!("{tasks}/999/pause"), Value::Null).await
        );
        s.stop().await;
    }
}

/// botyard as a child process on its own data.
struct Child {
    process: tokio::process::Child,
    url: String,
}

async fn spawn(dir: &std::path::Path, database: Option<&str>, fake: &FakeTelegram, port: u16) -> Child {
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", dir.to_str().unwrap()])
        .env("BOTYARD_TELEGRAM__API_BASE", &fake.url)
        .env("BOTYARD_TELEGRAM__POLL_TIMEOUT_SECS", "1")
        .env("BOTYARD_TELEGRAM__BROADCAST_PER_SECOND", "40")
        .env("BOTYARD_TELEGRAM__PER_BOT_PER_SECOND", "40")
        .env("BOTYARD_TELEGRAM__PER_CHAT_PER_SECOND", "100")
        .env("BOTYARD_JOBS__POLL_INTERVAL_MS", "50")
        .env("BOTYARD_JOBS__LEASE_SECS", "2")
        .env("BOTYARD_LOG__LEVEL", "warn")
        .env_remove("BOTYARD_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(url) = database {
        command.args(["--database-url", url]);
    }
    let process = command.spawn().expect("botyard starts");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http.get(format!("{url}/readyz")).send().await.map(|r| r.status().is_success()).unwrap_or(false) {
        assert!(Instant::now() < deadline, "botyard did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Child { process, url }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn a_broadcast_killed_mid_way_finishes_each_chat_exactly_once() {
    const TOKEN: &str = "777:broadcast";
    const CHATS: i64 = 150;
    for backend in backends() {
        let fake = FakeTelegram::start(&[TOKEN]).await;
        let dir = tempfile::tempdir().unwrap();
        let db = botyard_store::testing::TestDatabase::create(backend).await;
        let database = (backend == botyard_store::Backend::Postgres).then(|| db.url.clone());
        let port = free_port();
        let mut botyard = spawn(dir.path(), database.as_deref(), &fake, port).await;
        let http = reqwest::Client::new();
        let signup: Value = http
            .post(format!("{}/v2/auth", botyard.url))
            .json(&json!({"email": "ann@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let key = signup["api_key"].as_str().unwrap().to_owned();
        let v2 = |path: &str| format!("{}/v2{path}?api_key={key}", botyard.url);
        let bot: Value = http
            .post(v2("/bots"))
            .json(&json!({"name": "Crash", "token": TOKEN}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = bot["id"].as_i64().unwrap();
        for command in [
            json!({"command": "/start", "answer": "hi"}),
            json!({"command": "/news", "bjs_code": "Bot.sendMessage('news')"}),
            json!({"command": "/bc", "bjs_code": "Bot.runAll({command: '/news', for_chats: 'private-chats'})"}),
        ] {
            let r = http.post(v2(&format!("/bots/{id}/commands"))).json(&command).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
        }
        let started = http
            .post(v2(&format!("/bots/{id}/status")))
            .json(&json!({"status": "start_launch"}))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), StatusCode::OK);
        for chat in 1..=CHATS {
            fake.message(TOKEN, chat, chat, "/start");
        }
        fake.wait_calls("sendMessage", CHATS as usize).await;
        let news = |fake: &FakeTelegram| {
            fake.calls("sendMessage").into_iter().filter(|c| c.params["text"] == "news").collect::<Vec<_>>()
        };
        fake.message(TOKEN, 1, 1, "/bc");

        // Kill it mid-way, just after a send was answered (so that send was recorded).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let seen = news(&fake).len();
            if seen >= (CHATS / 3) as usize {
                while news(&fake).len() == seen {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                tokio::time::sleep(Duration::from_millis(8)).await;
                break;
            }
            assert!(Instant::now() < deadline, "the broadcast did not start");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        botyard.process.start_kill().unwrap();
        let _ = botyard.process.wait().await;
        let at_kill = news(&fake).len();
        assert!(at_kill < CHATS as usize, "killed mid-way ({at_kill})");

        let botyard = spawn(dir.path(), database.as_deref(), &fake, port).await;
        let tasks = format!("{}/v2/bots/{id}/broadcast_tasks?api_key={key}", botyard.url);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let list: Value = http.get(&tasks).send().await.unwrap().json().await.unwrap();
            if list[0]["status"] == "finished" && news(&fake).len() >= CHATS as usize {
                break;
            }
            assert!(Instant::now() < deadline, "not finished: {list} with {} sends", news(&fake).len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut per_chat = std::collections::BTreeMap::new();
        for call in news(&fake) {
            *per_chat.entry(call.params["chat_id"].as_i64().unwrap()).or_insert(0) += 1;
        }
        assert_eq!(per_chat.len(), CHATS as usize, "every chat reached");
        let twice: Vec<_> = per_chat.iter().filter(|(_, n)| **n != 1).collect();
        assert!(twice.is_empty(), "chats reached more than once: {twice:?}");
        drop(botyard);
    }
}

/// How many of these messages are the broadcast's news.
fn news_in(messages: &[Value]) -> usize {
    messages.iter().filter(|m| m["payload"]["text"].as_str().is_some_and(|t| t.starts_with("news"))).count()
}
