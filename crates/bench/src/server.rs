//! The server every benchmark runs: botyard in-process on a fresh database, with rate limits and
//! quotas out of the way and quiet logs, and a signed-up account.

use anyhow::Context;
use botyard::server::{RunningServer, start};
use botyard_core::Config;
use botyard_store::Backend;
use botyard_store::testing::TestDatabase;
use serde_json::{Value, json};

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
