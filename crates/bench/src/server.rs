//! The server every benchmark runs: botyard in-process on a fresh database, with rate limits and
//! quotas out of the way and quiet logs, and a signed-up account.

use std::time::Instant;

use anyhow::Context;
use botyard::server::{RunningServer, start};
use botyard_core::Config;
use botyard_store::Backend;
use botyard_store::testing::TestDatabase;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub struct BenchServer {
    pub server: RunningServer,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub http: reqwest::Client,
    pub api_key: String,
    pub workspace: String,
    /// The database's URL (for benchmarks that fill it directly).
    pub database_url: String,
    /// The database and data directory, which last as long as this does: bind it when
    /// destructuring (`keep: _keep`).
    pub keep: (TestDatabase, tempfile::TempDir),
}

/// The backend's name in result tables.
pub fn name(backend: Backend) -> &'static str {
    backend.name()
}

/// Starts botyard on a fresh database of `backend`; `adjust` changes the configuration first.
pub async fn start_server(backend: Backend, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<BenchServer> {
    let db = TestDatabase::create(backend).await;
    let dir = tempfile::tempdir()?;
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url: db.url.clone(),
        ..Config::default()
    };
    config.http.rate_limit_per_second = 10_000_000;
    config.http.rate_limit_burst = 10_000_000;
    config.plans[0].iterations_per_month = u64::MAX / 2;
    config.log.level = "warn".into();
    adjust(&mut config);
    let server = start(config).await?;
    let base = server.url();
    let http = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;
    let signup: Value = http
        .post(format!("{base}/v2/auth"))
        .json(&json!({"email": "bench@example.com", "password": "benchmark password"}))
        .send()
        .await?
        .json()
        .await?;
    let api_key = signup["api_key"].as_str().context("api key")?.to_owned();
    let workspace = signup["workspace"]["id"].as_str().context("workspace")?.to_owned();
    let database_url = db.url.clone();
    Ok(BenchServer { server, base, http, api_key, workspace, database_url, keep: (db, dir) })
}

/// A user and conversation of a bot: `(user key, conversation id)`.
pub async fn conversation(http: &reqwest::Client, chat: &str) -> anyhow::Result<(String, String)> {
    let user: Value = http.post(format!("{chat}/users")).json(&json!({})).send().await?.json().await?;
    let key = user["key"].as_str().context("user key")?.to_owned();
    let conv: Value = http
        .post(format!("{chat}/conversations"))
        .header("x-user-key", &key)
        .json(&json!({}))
        .send()
        .await?
        .json()
        .await?;
    Ok((key, conv["conversation"]["id"].as_str().context("conversation")?.to_owned()))
}

/// Reads a conversation's event stream (the Chat API's SSE); each bot message goes to the channel
/// with when it arrived.
pub async fn bot_messages(
    http: &reqwest::Client,
    chat: &str,
    key: &str,
    conversation: &str,
) -> anyhow::Result<mpsc::UnboundedReceiver<(Instant, String)>> {
    let response = http
        .get(format!("{chat}/conversations/{conversation}/listen"))
        .header("x-user-key", key)
        .send()
        .await?
        .error_for_status()?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = response.bytes_stream();
        let mut pending = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find("\n\n") {
                let block: String = pending.drain(..end + 2).collect();
                for data in block.lines().filter_map(|l| l.strip_prefix("data: ")) {
                    let Ok(signal) = serde_json::from_str::<Value>(data) else { continue };
                    if signal["type"] == "message_created" && signal["data"]["isBot"] == true {
                        let text = signal["data"]["payload"]["text"].as_str().unwrap_or_default().to_owned();
                        if tx.send((Instant::now(), text)).is_err() {
                            return;
                        }
                    }
                }
            }
        }
    });
    Ok(rx)
}
