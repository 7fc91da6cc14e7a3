//! The platforms' own npm clients, driven by Node against botyard: `@botpress/chat` talks to a
//! bot over its web channel, `@botpress/client` manages bots through the Botpress dialect.
//! The packages are installed in `tests/node` by `scripts/test` (`npm ci`).

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::harness::{TestServer, backends};
use crate::webchat::cmd;

pub fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/node")
}

/// Runs a script of `tests/node` and returns the JSON line it prints.
pub async fn node(script: &str, args: &[&str]) -> Value {
    let dir = node_dir();
    assert!(
        dir.join("node_modules/@botpress/chat").exists(),
        "the Node clients are not installed: run scripts/test, or `npm ci` in tests/node"
    );
    let output = tokio::process::Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(&dir)
        .output()
        .await
        .expect("node runs (Node.js must be installed)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{script} printed {stdout}: {e}"))
}

#[tokio::test]
async fn botpress_chat_client_converses_with_a_bot() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(
                &ann,
                "NodeChat",
                &[
                    cmd(
                        "/start",
                        "Welcome from botyard",
                        "Bot.sendInlineKeyboard([{title: 'Press', command: '/pressed'}], 'Choose')",
                    ),
                    cmd("/pressed", "", "Bot.sendMessage('pressed')"),
                ],
            )
            .await;
        let seen = node("botpress-chat.mjs", &[&s.server.url(), &bot.webhook]).await;
        assert_eq!(
            seen,
            json!({
                "user": true,
                "texts": ["Welcome from botyard", "Choose", "pressed", "Welcome from botyard", "Choose"],
                "isBot": true,
                "listed": 7,
                "streamErrors": [],
            })
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn botpress_client_manages_bots() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let seen = node("botpress-client.mjs", &[&s.server.url(), &ann.api_key, &ann.workspace]).await;
        assert_eq!(
            seen,
            json!({
                "created": "from-sdk", "secret": true, "events": ["ping"], "listed": ["from-sdk"],
                "invalid": "InvalidDataFormat", "rotated": true, "missing": "ResourceNotFound"
            })
        );
        s.stop().await;
    }
}

/// `@botpress/client` on the admin routes beyond bots: workspace members, a bot's web chat,
/// analytics, issues, versions and logs, with their typed errors. A web chat user talks to the
/// bot first (`/boom` fails twice).
#[tokio::test]
async fn botpress_client_admin_operations() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bob = s.sign_up("bob@example.com").await;
        let bot = s
            .bot(&ann, "Admin", &[cmd("/start", "Hello", ""), cmd("/boom", "", "throw new Error('boom')")])
            .await;
        let server = s.server.url();
        let seen = node(
            "botpress-admin.mjs",
            &[
                &server,
                &ann.api_key,
                &ann.workspace,
                &bot.id.to_string(),
                &bot.webhook,
                &bob.api_key,
                "bob@example.com",
            ],
        )
        .await;
        let totals = &seen["analytics"]["totals"];
        assert_eq!(
            *totals,
            json!({"newUsers": 1, "returningUsers": 0, "sessions": 1, "messages": 3, "userMessages": 3,
                   "botMessages": 3, "events": 0}),
            "{seen}"
        );
        assert_eq!(seen["logs"]["sameIds"], true, "{seen}");
        assert_eq!(seen["issues"]["eventIds"], true, "{seen}");
        let url = format!("{server}/chat/{}", bot.webhook);
        assert_eq!(seen["webchat"]["sharableUrl"], url.as_str());
        let bot_id = seen["versions"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let conversation = seen["chat"]["conversationId"].as_str().unwrap().to_owned();
        let user = seen["chat"]["userId"].as_str().unwrap().to_owned();
        let seen = replace_text(
            &seen,
            &[
                (&server, "[server]"),
                (&bot.webhook, "[webhook]"),
                (&bot_id, "[bot]"),
                (&conversation, "[conversation]"),
                (&user, "[user]"),
            ],
        );
        insta::assert_json_snapshot!("bp_client_admin", crate::harness::redact(&seen));
        s.stop().await;
    }
}

/// The value with each text's occurrences of `from` replaced, and the times of keys the
/// harness does not know hidden.
fn replace_text(value: &Value, pairs: &[(&str, &str)]) -> Value {
    match value {
        Value::String(text) => {
            Value::String(pairs.iter().fold(text.clone(), |text, (from, to)| text.replace(from, to)))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| replace_text(v, pairs)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match k.as_str() {
                    "lastSeenAt" | "startDateTimeUtc" | "endDateTimeUtc" if v.is_string() => {
                        (k.clone(), Value::String(format!("[{k}]")))
                    }
                    _ => (k.clone(), replace_text(v, pairs)),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[tokio::test]
async fn the_web_chat_page_works_in_a_browser() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bot(&ann, "Page", &[
                serde_json::json!({"command": "/start", "answer": "Welcome *there*", "keyboard_body": "Help, About", "bjs_code": "Bot.sendInlineKeyboard([{title: 'Delete', command: 'touchButton delete'}], 'Manage')"}),
                cmd("touchButton", "", "Bot.editInlineKeyboard([{title: 'Deleted ' + params, command: '/start'}]); Bot.sendMessage('pressed ' + params)"),
            ])
            .await;
        let url = s.url(&format!("/chat/{}", bot.webhook));
        let seen = node("webchat-page.mjs", &[&url]).await;
        assert_eq!(seen["keyboard"], json!(["Help", "About"]));
        assert_eq!(seen["fits"], true, "the page fits a phone's width");
        let bubbles: Vec<&str> =
            seen["bubbles"].as_array().unwrap().iter().map(|b| b.as_str().unwrap()).collect();
        assert_eq!(bubbles, ["/start", "Welcome there", "ManageDeleted delete", "pressed delete"], "{seen}");
        s.stop().await;
    }
}

/// The public npm fake Telegram server `telegram-test-api` (no long-poll timeout, dates in
/// milliseconds, `getUpdates` ignoring the offset): a user sends `/start` and presses the inline
/// button botyard answered with.
#[tokio::test]
async fn telegram_test_api_conversation() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    const TOKEN: &str = "555:telegram-test-api";
    for backend in backends() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = tokio::process::Command::new("node")
            .args(["telegram-test-api.mjs", TOKEN, &port.to_string()])
            .current_dir(node_dir())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let ready: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
        let api = ready["ready"].as_str().unwrap().to_owned();
        let s = TestServer::start_with(backend, |c| {
            c.telegram.api_base = api.clone();
            c.telegram.poll_timeout_secs = 1;
        })
        .await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = s
            .bb(&ann, reqwest::Method::POST, "/v2/bots", json!({"name": "T", "token": TOKEN}))
            .await
            .body["id"]
            .as_i64()
            .unwrap();
        for command in [
            cmd(
                "/start",
                "",
                "Bot.sendInlineKeyboard([{title: 'Ping', command: 'ping'}], 'Hello from botyard')",
            ),
            cmd("ping", "", "Bot.sendMessage('pong')"),
        ] {
            s.bb(&ann, reqwest::Method::POST, &format!("/v2/bots/{bot}/commands"), command).await;
        }
        let started = s
            .bb(
                &ann,
                reqwest::Method::POST,
                &format!("/v2/bots/{bot}/status"),
                json!({"status": "start_launch"}),
            )
            .await;
        assert_eq!(started.body["status"], "works", "{:?}", started.body);
        child.stdin.as_mut().unwrap().write_all(b"go\n").await.unwrap();
        let result: Value =
            serde_json::from_str(&lines.next_line().await.unwrap().expect("the script's result")).unwrap();
        assert_eq!(result, json!({"greeting": "Hello from botyard", "button": "Ping", "answer": ["pong"]}));
        let _ = child.wait().await;
        s.stop().await;
    }
}
