//! `botyard chat`: a conversation with a bot in the terminal, over its web channel (the Chat API).
//!
//! Lines you type are sent as messages. The bot's messages are printed with their keyboards:
//! reply buttons in `[brackets]` (type the text to press one), inline buttons numbered
//! `(1) Title` (type `:1` to press one). `/quit` or end of input leaves.

use std::io::Write;

use anyhow::{Context, anyhow, bail};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use tokio::sync::Mutex;

/// Where the bot's web channel is.
pub struct Target {
    /// `http://host:port/chat/<webhookId>`.
    pub base: String,
}

/// Works out the chat base URL from what the user typed: a chat page URL, a web channel id, or a
/// bot id or number (looked up with an API key).
pub async fn resolve(
    http: &reqwest::Client,
    bot: &str,
    server: &str,
    api_key: Option<&str>,
) -> anyhow::Result<Target> {
    let server = server.trim_end_matches('/');
    if bot.starts_with("http://") || bot.starts_with("https://") {
        return Ok(Target { base: bot.trim_end_matches('/').to_owned() });
    }
    if let Some(key) = api_key {
        let url = format!("{server}/v2/bots/{bot}?api_key={key}");
        let found: Value =
            http.get(&url).send().await?.error_for_status().context("looking up the bot")?.json().await?;
        let channel =
            found["web_channel_id"].as_str().ok_or_else(|| anyhow!("the bot has no web channel"))?;
        return Ok(Target { base: format!("{server}/chat/{channel}") });
    }
    Ok(Target { base: format!("{server}/chat/{bot}") })
}

/// Inline buttons of the latest message that had some: `(message id, commands)`.
type Buttons = Mutex<Option<(String, Vec<String>)>>;

pub async fn run(target: Target) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let base = target.base;
    let hello = http.get(format!("{base}/hello/")).send().await.context("connecting to botyard")?;
    if !hello.status().is_success() {
        bail!("{base} is not a bot's web channel (HTTP {})", hello.status());
    }
    let user: Value = http
        .post(format!("{base}/users"))
        .json(&json!({"name": "Terminal"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let key = user["key"].as_str().ok_or_else(|| anyhow!("no user key in {user}"))?.to_owned();
    let me = user["user"]["id"].as_str().unwrap_or_default().to_owned();
    let conversation: Value = http
        .post(format!("{base}/conversations"))
        .header("x-user-key", &key)
        .json(&json!({}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let conversation = conversation["conversation"]["id"].as_str().unwrap_or_default().to_owned();
    println!("Connected. Type a message; :N presses inline button N; /quit leaves.");
    let buttons: std::sync::Arc<Buttons> = std::sync::Arc::default();

    let listen = http
        .get(format!("{base}/conversations/{conversation}/listen"))
        .header("x-user-key", &key)
        .send()
        .await?
        .error_for_status()
        .context("listening to the conversation")?;
    let shown = buttons.clone();
    let printer = tokio::spawn(async move {
        let mut stream = listen.bytes_stream();
        let mut pending = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find("\n\n") {
                let block: String = pending.drain(..end + 2).collect();
                for data in block.lines().filter_map(|l| l.strip_prefix("data:")) {
                    if let Ok(signal) = serde_json::from_str::<Value>(data.trim()) {
                        print_signal(&signal, &me, &shown).await;
                    }
                }
            }
        }
    });

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/quit" {
            break;
        }
        if let Some(n) = line.strip_prefix(':').and_then(|n| n.parse::<usize>().ok()) {
            let latest = buttons.lock().await.clone();
            match latest
                .and_then(|(message, commands)| commands.get(n.wrapping_sub(1)).map(|c| (message, c.clone())))
            {
                Some((message, command)) => {
                    let payload = json!({"type": "callback", "data": command, "messageId": message});
                    http.post(format!("{base}/events"))
                        .header("x-user-key", &key)
                        .json(&json!({"conversationId": conversation, "payload": payload}))
                        .send()
                        .await?
                        .error_for_status()?;
                }
                None => println!("(there is no inline button {n})"),
            }
            continue;
        }
        let sent = http
            .post(format!("{base}/messages"))
            .header("x-user-key", &key)
            .json(&json!({"conversationId": conversation, "payload": {"type": "text", "text": line}}))
            .send()
            .await?;
        if !sent.status().is_success() {
            let body: Value = sent.json().await.unwrap_or_default();
            println!("(not sent: {})", body["message"].as_str().unwrap_or("error"));
        }
    }
    // Give answers to the last message a moment to arrive.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    printer.abort();
    Ok(())
}

async fn print_signal(signal: &Value, me: &str, buttons: &Buttons) {
    let kind = signal["type"].as_str().unwrap_or_default();
    if kind != "message_created" && kind != "message_updated" {
        return;
    }
    let message = &signal["data"];
    if message["userId"].as_str() == Some(me) {
        return;
    }
    let payload = &message["payload"];
    let text = payload["text"].as_str().or(payload["markdown"].as_str()).unwrap_or("[message]");
    let label = if kind == "message_updated" { "bot (edited)>" } else { "bot>" };
    let mut out = format!("{label} {text}\n");
    let keyboard = &payload["botyard"]["keyboard"];
    match keyboard["kind"].as_str() {
        Some("reply") => {
            for row in keyboard["rows"].as_array().into_iter().flatten() {
                let row: Vec<String> = row
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|b| format!("[{}]", b.as_str().unwrap_or("")))
                    .collect();
                out.push_str(&format!("     {}\n", row.join(" ")));
            }
        }
        Some("inline") => {
            let mut commands = Vec::new();
            for row in keyboard["rows"].as_array().into_iter().flatten() {
                let mut cells = Vec::new();
                for button in row.as_array().into_iter().flatten() {
                    let title = button["title"].as_str().unwrap_or("");
                    match (button["command"].as_str(), button["url"].as_str()) {
                        (Some(command), _) => {
                            commands.push(command.to_owned());
                            cells.push(format!("({}) {title}", commands.len()));
                        }
                        (None, Some(url)) => cells.push(format!("{title} <{url}>")),
                        _ => {}
                    }
                }
                out.push_str(&format!("     {}\n", cells.join("   ")));
            }
            *buttons.lock().await = Some((message["id"].as_str().unwrap_or_default().to_owned(), commands));
        }
        _ => {}
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}
