//! Bots written with `@botpress/sdk` (from npm) run on botyard: served at their `url` (the SDK's
//! own HTTP server, calling botyard's runtime API with the developer's key), and bundled into one
//! CommonJS file deployed as the bot's `code` (botyard runs it in a Node.js process of its own).
//! A user of the web chat, driven by `@botpress/chat`, gets the bot's replies; the bot keeps a
//! conversation state across messages; a handler that throws or outlasts the time limit shows up
//! in `getBotLogs` and the user gets an error message.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Account, TestServer, backends};
use crate::jobs_support::quick_jobs;
use crate::node_clients::{node, node_dir};
use crate::webchat::TestBot;

/// A server whose bots may be on loopback and whose runs take at most 2 s.
async fn server(backend: botyard_store::Backend) -> TestServer {
    TestServer::start_with(backend, |c| {
        quick_jobs(c);
        c.sandbox.default_time_limit_secs = 2;
    })
    .await
}

/// A free loopback port (bound and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `sdk-echo-bot.cjs` on `port`, calling the server with `token`; waits for `/health`.
async fn start_sdk_bot(s: &TestServer, port: u16, token: &str) -> tokio::process::Child {
    let child = tokio::process::Command::new("node")
        .arg("sdk-echo-bot.cjs")
        .arg(port.to_string())
        .current_dir(node_dir())
        .env("BP_API_URL", s.server.url())
        .env("BP_TOKEN", token)
        .kill_on_drop(true)
        .spawn()
        .expect("node runs the SDK bot");
    let health = format!("http://127.0.0.1:{port}/health");
    for _ in 0..200 {
        if s.http.get(&health).send().await.is_ok_and(|r| r.status() == StatusCode::OK) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the SDK bot did not start on port {port}");
}

/// The bot as Bots.Business lists it (its number and web channel).
async fn listed(s: &TestServer, owner: &Account, name: &str) -> TestBot {
    let bots = s.bb(owner, Method::GET, "/v2/bots", Value::Null).await;
    let bot = bots.body.as_array().unwrap().iter().find(|b| b["name"] == name).expect("the bot").clone();
    assert_eq!(bot["status"], "works", "a Botpress bot runs once deployed");
    TestBot { id: bot["id"].as_i64().unwrap(), webhook: bot["web_channel_id"].as_str().unwrap().to_owned() }
}

/// Checks the echo conversation, then a throwing and a sleeping handler: error messages to the
/// user, entries in `getBotLogs`.
async fn converse_and_fail(s: &TestServer, owner: &Account, bp_id: &str, bot: &TestBot, bundled: bool) {
    let seen = node("sdk-bot-chat.mjs", &[&s.server.url(), &bot.webhook]).await;
    assert_eq!(seen["texts"], json!(["echo 1: hello", "echo 2: again"]));
    // The bot was registered (its `register` handler ran) before its first event, once.
    let registered = format!(
        "SELECT COUNT(*) FROM bot_states WHERE bot_id = {} AND state_type = 'bot' AND name = 'registered'",
        bot.id
    );
    assert_eq!(s.count(&registered).await, 1);

    let mut chat = s.chat(bot).await;
    assert_eq!(chat.ask("throw", 1).await, [botyard_runtime::run::DEFAULT_ERROR_MESSAGE]);
    assert_eq!(chat.ask("sleep", 1).await, [botyard_runtime::run::DEFAULT_ERROR_MESSAGE]);
    // The state of this conversation is its own: it starts from 1.
    assert_eq!(chat.ask("ok", 1).await, ["echo 1: ok"]);

    let since = "2020-01-01T00:00:00.000Z";
    let logs = s
        .bp(owner, Method::GET, &format!("/v1/admin/bots/{bp_id}/logs?timeStart={since}"), Value::Null)
        .await;
    assert_eq!(logs.status, StatusCode::OK, "{:?}", logs.body);
    let messages: Vec<String> = logs.body["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("answered event_received") && m.contains("unexpected error")),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m.contains("did not answer")), "{messages:?}");
    if bundled {
        // What the bot's process wrote: the SDK logs the error its handler threw.
        assert!(messages.iter().any(|m| m.contains("the echo bot was asked to throw")), "{messages:?}");
    }
}

#[tokio::test]
async fn an_sdk_bot_at_its_url_answers_the_web_chat() {
    for backend in backends() {
        let s = server(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let port = free_port();
        let created = s
            .bp(
                &ann,
                Method::POST,
                "/v1/admin/bots",
                json!({"name": "echo", "url": format!("http://127.0.0.1:{port}")}),
            )
            .await;
        assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
        let bp_id = created.body["bot"]["id"].as_str().unwrap().to_owned();
        // As under `bp dev`: the bot's client calls botyard with the developer's key.
        let _process = start_sdk_bot(&s, port, &ann.api_key).await;
        let bot = listed(&s, &ann, "echo").await;
        converse_and_fail(&s, &ann, &bp_id, &bot, false).await;
        // callAction runs the bot's action through its own server.
        let called = s
            .call(
                Method::POST,
                "/v1/chat/actions",
                &[("authorization", &format!("Bearer {}", ann.api_key)), ("x-bot-id", &bp_id)],
                json!({"type": "double", "input": {"n": 21}}),
            )
            .await;
        assert_eq!(called.body["output"], json!({"n": 42}), "{:?}", called.body);
        s.stop().await;
    }
}

#[tokio::test]
async fn an_sdk_bot_bundled_as_code_runs_in_node() {
    for backend in backends() {
        let s = server(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bot.cjs");
        let built = tokio::process::Command::new("node")
            .arg("bundle-bot.mjs")
            .arg(&bundle)
            .current_dir(node_dir())
            .status()
            .await
            .unwrap();
        assert!(built.success(), "esbuild bundles the SDK bot");
        let code = std::fs::read_to_string(&bundle).unwrap();
        let created = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "bundled"})).await;
        let bp_id = created.body["bot"]["id"].as_str().unwrap().to_owned();
        let deployed =
            s.bp(&ann, Method::PUT, &format!("/v1/admin/bots/{bp_id}"), json!({"code": code})).await;
        assert_eq!(deployed.status, StatusCode::OK, "{:?}", deployed.body);
        let bot = listed(&s, &ann, "bundled").await;
        converse_and_fail(&s, &ann, &bp_id, &bot, true).await;
        s.stop().await;
    }
}

#[tokio::test]
async fn the_runtime_api_answers_the_official_client() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let created = s.bp(&ann, Method::POST, "/v1/admin/bots", json!({"name": "runtime"})).await;
        let bp_id = created.body["bot"]["id"].as_str().unwrap().to_owned();
        let seen = node("bp-runtime.mjs", &[&s.server.url(), &ann.api_key, &bp_id]).await;
        assert_eq!(
            seen,
            json!({
                "sameUser": true,
                "userTags": {"email": "ann@example.com"},
                "conversationTags": {"topic": "orders"},
                "participants": [true],
                "messageTags": {"kind": "greeting"},
                "direction": "outgoing",
                "sameMessage": true,
                "listed": ["hello from the bot"],
                "state": [{"items": 1}, {"items": 1, "total": 5}, {"items": 1, "total": 5}],
                "expired": "ResourceNotFound",
                "missingConversation": "ResourceNotFound",
                "badTag": "InvalidPayload",
            })
        );
        // Another account's key opens nothing of this bot.
        let bob = s.sign_up("bob@example.com").await;
        let refused = node("bp-runtime.mjs", &[&s.server.url(), &bob.api_key, &bp_id]).await;
        assert_eq!(refused, json!({"error": "ResourceNotFound"}));
        s.stop().await;
    }
}
