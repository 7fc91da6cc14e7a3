//! Helpers for tests of Bots.Business bots: the real bots of `../shared/fixtures/`, repositories
//! in Bots.Business's git format imported into new bots, and a bot's error log.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_telegram::FakeTelegram;
use crate::harness::{Account, TestServer};
use crate::jobs_support::bare_repo;
use crate::webchat::TestBot;

/// Real Bots.Business bots, in Bots.Business's git format.
pub const BOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/bots-business");

/// Every file of a folder, with paths relative to it.
pub fn files_of(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A command file in Bots.Business's git format.
pub fn command_file(name: &str, code: &str) -> Vec<u8> {
    format!("/*CMD\n  command: {name}\n  help: \n  need_reply: \n  auto_retry_time: \n  answer: \n  keyboard: \n  aliases: \nCMD*/\n\n{code}\n")
        .into_bytes()
}

/// Makes a bot named `name` (with a Telegram token, if given) from a repository of `files`,
/// imported by git, and starts it.
pub async fn import_repo(
    s: &TestServer,
    owner: &Account,
    name: &str,
    files: &[(&str, &[u8])],
    token: Option<&str>,
) -> TestBot {
    let repos = tempfile::tempdir().unwrap();
    let remote = repos.path().join("bot.git");
    bare_repo(&remote, files);
    let mut body = json!({"name": name});
    if let Some(token) = token {
        body["token"] = json!(token);
    }
    let created = s.bb(owner, Method::POST, "/v2/bots", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let import = json!({"git_remote": remote.to_str().unwrap()});
    let started = s.bb(owner, Method::POST, &format!("/v2/bots/{id}/git_import"), import).await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    let done = s.bb_task(owner, id, started.body["task_id"].as_i64().unwrap()).await;
    assert_eq!(done.body["status"], "ok", "{name}: {:?}", done.body);
    let launched =
        s.bb(owner, Method::POST, &format!("/v2/bots/{id}/status"), json!({"status": "start_launch"})).await;
    assert_eq!(launched.body["status"], "works", "{:?}", launched.body);
    TestBot { id, webhook: created.body["web_channel_id"].as_str().unwrap().to_owned() }
}

/// Imports a fixture bot by git into a new bot (with a Telegram token, if given) and starts it.
pub async fn import_fixture(s: &TestServer, owner: &Account, name: &str, token: Option<&str>) -> TestBot {
    let files = files_of(&Path::new(BOTS).join(name));
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
    import_repo(s, owner, name, &borrowed, token).await
}

/// The bot's error log, as its owner reads it.
pub async fn error_log(s: &TestServer, owner: &Account, bot: i64) -> Vec<Value> {
    let logs = s.bb(owner, Method::GET, &format!("/v2/bots/{bot}/error_logs"), Value::Null).await;
    logs.body.as_array().cloned().unwrap_or_default()
}

/// Configuration for a server talking to a fake Telegram, with quick jobs.
pub fn telegram(fake: &FakeTelegram) -> impl FnOnce(&mut botyard_core::Config) + '_ {
    move |c| {
        crate::jobs_support::quick_jobs(c);
        c.telegram.api_base = fake.url.clone();
        c.telegram.poll_timeout_secs = 1;
        c.telegram.per_chat_per_second = 100.0;
    }
}

/// A bot with a Telegram token and these commands (bodies as `POST /v2/bots/{id}/commands` takes),
/// started (which checks the token with Telegram); its number.
pub async fn telegram_bot(
    s: &TestServer,
    owner: &Account,
    name: &str,
    token: &str,
    commands: &[Value],
) -> i64 {
    let created = s.bb(owner, Method::POST, "/v2/bots", json!({"name": name, "token": token})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    for command in commands {
        let reply = s.bb(owner, Method::POST, &format!("/v2/bots/{id}/commands"), command.clone()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    }
    let started =
        s.bb(owner, Method::POST, &format!("/v2/bots/{id}/status"), json!({"status": "start_launch"})).await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    assert_eq!(started.body["status"], "works");
    id
}
