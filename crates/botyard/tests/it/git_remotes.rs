//! Git remotes are outbound connections like any other: every address a remote (or a redirect)
//! leads to is checked against the deny-list, plain http is refused unless allowed, transfers have
//! a deadline and a byte budget enforced while they run, and an export never overwrites a branch
//! unless asked. The remotes here are real git servers (`git http-backend`) on loopback; exported
//! branches are read back with the `git` command, not with botyard's own reader.

use std::path::Path;
use std::time::{Duration, Instant};

use botyard_core::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::git_http::{self, Behaviour};
use crate::harness::{Account, TestServer, backends};
use crate::jobs_support::{bare_repo, quick_jobs};
use crate::snap;

const BOT_JSON: &[u8] = b"{\n  \"bb_sync_version\":\"1.0\",\n  \"name\":\"Remote\",\n  \"csv_url\":null,\n  \"git_remote\":null\n}";
const START: &[u8] =
    b"/*CMD\n  command: /start\n  answer: Hi\nCMD*/\n\nBot.sendMessage('from the remote');\n";

/// Loopback 127.0.0.1 is allowed; 127.0.0.2 stands for an internal address.
fn lab(c: &mut Config) {
    quick_jobs(c);
    c.outbound.deny = vec!["127.0.0.2/32".into()];
    c.jobs.git_allow_http = true;
    c.jobs.git_timeout_secs = 3;
    c.jobs.git_transfer_max_bytes = 512 * 1024;
}

async fn new_bot(s: &TestServer, owner: &Account) -> i64 {
    s.bb(owner, Method::POST, "/v2/bots", json!({"name": "Git"})).await.body["id"].as_i64().unwrap()
}

/// Starts a transfer and waits for its end; returns the finished task.
async fn transfer(s: &TestServer, owner: &Account, bot: i64, route: &str, body: Value) -> Value {
    let started = s.bb(owner, Method::POST, &format!("/v2/bots/{bot}/{route}"), body).await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    s.bb_task(owner, bot, started.body["task_id"].as_i64().unwrap()).await.body
}

fn error_of(task: &Value) -> String {
    task["error"].as_str().unwrap_or_default().to_owned()
}

/// Incompressible bytes, so a pack cannot shrink them.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git").arg("-C").arg(dir).args(args).output().expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn git_remotes_reach_only_allowed_addresses() {
    let repos = tempfile::tempdir().unwrap();
    bare_repo(&repos.path().join("bot.git"), &[("bot.json", BOT_JSON), ("commands/_start.js", START)]);
    let server = git_http::start("127.0.0.1", Behaviour::Serve(repos.path().to_owned())).await;
    let internal = git_http::start("127.0.0.2", Behaviour::Serve(repos.path().to_owned())).await;
    let redirect = git_http::start("127.0.0.1", Behaviour::Redirect(internal.clone())).await;
    for backend in backends() {
        // The defaults: loopback is denied, and plain http refused when the task is started.
        let s = TestServer::start_with(backend, |c| c.jobs.poll_interval_ms = 50).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = new_bot(&s, &ann).await;
        snap!(
            "git_plain_http_refused",
            s.bb(
                &ann,
                Method::POST,
                &format!("/v2/bots/{bot}/git_import"),
                json!({"git_remote": format!("{server}/bot.git")})
            )
            .await
        );
        let https = format!("{}/bot.git", server.replace("http://", "https://"));
        let denied = transfer(&s, &ann, bot, "git_import", json!({"git_remote": https})).await;
        assert_eq!(denied["status"], "error", "{denied}");
        let message = error_of(&denied);
        assert!(message.contains("denied"), "{message}");
        assert!(!message.contains("refused") && !message.contains("SSL"), "says only denied: {message}");
        s.stop().await;

        // Allowed addresses work end to end through the proxy; a redirect to a denied one does not.
        let s = TestServer::start_with(backend, lab).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = new_bot(&s, &ann).await;
        let done =
            transfer(&s, &ann, bot, "git_import", json!({"git_remote": format!("{server}/bot.git")})).await;
        assert_eq!(done["status"], "ok", "{done}");
        let direct =
            transfer(&s, &ann, bot, "git_import", json!({"git_remote": format!("{internal}/bot.git")})).await;
        assert!(error_of(&direct).contains("denied"), "{direct}");
        let redirected =
            transfer(&s, &ann, bot, "git_import", json!({"git_remote": format!("{redirect}/bot.git")})).await;
        assert_eq!(redirected["status"], "error", "{redirected}");
        // Over plain http no redirect is followed at all; over https each goes through the
        // proxy's check (the proxy's own tests show a CONNECT to a denied host refused).
        assert!(error_of(&redirected).contains("cannot redirect"), "{redirected}");
        s.stop().await;
    }
}

#[tokio::test]
async fn git_transfers_have_a_size_and_time_limit() {
    let repos = tempfile::tempdir().unwrap();
    let big = noise(3 * 1024 * 1024);
    bare_repo(&repos.path().join("big.git"), &[("bot.json", BOT_JSON), ("libs/Big.js", &big)]);
    let server = git_http::start("127.0.0.1", Behaviour::Serve(repos.path().to_owned())).await;
    let stalled = git_http::start("127.0.0.1", Behaviour::Stall).await;
    for backend in backends() {
        let s = TestServer::start_with(backend, lab).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = new_bot(&s, &ann).await;
        let large =
            transfer(&s, &ann, bot, "git_import", json!({"git_remote": format!("{server}/big.git")})).await;
        assert_eq!(large["status"], "error", "{large}");
        assert!(error_of(&large).contains("more than"), "stopped while fetching: {large}");
        let started = Instant::now();
        let slow =
            transfer(&s, &ann, bot, "git_import", json!({"git_remote": format!("{stalled}/bot.git")})).await;
        assert_eq!(slow["status"], "error", "{slow}");
        assert!(error_of(&slow).contains("longer than 3 seconds"), "{slow}");
        // Each attempt ends at its deadline (quick_jobs retries quickly).
        assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
        s.stop().await;
    }
}

#[tokio::test]
async fn exports_do_not_overwrite_branches_unless_asked() {
    for backend in backends() {
        let repos = tempfile::tempdir().unwrap();
        let target = repos.path().join("target.git");
        git2::Repository::init_bare(&target).unwrap();
        let server = git_http::start("127.0.0.1", Behaviour::Serve(repos.path().to_owned())).await;
        let remote = format!("{server}/target.git");
        let s = TestServer::start_with(backend, lab).await;
        let ann = s.sign_up("ann@example.com").await;
        let bot = new_bot(&s, &ann).await;
        s.bb(
            &ann,
            Method::POST,
            &format!("/v2/bots/{bot}/commands"),
            json!({"command": "/one", "answer": "1"}),
        )
        .await;
        let first =
            transfer(&s, &ann, bot, "git_export", json!({"git_remote": remote, "branch": "release"})).await;
        assert_eq!(first["status"], "ok", "{first}");
        // The same export again (a retry) is the same branch: done, nothing rewritten.
        let again =
            transfer(&s, &ann, bot, "git_export", json!({"git_remote": remote, "branch": "release"})).await;
        assert_eq!(again["status"], "ok", "{again}");
        assert_eq!(again["details"]["commit"], first["details"]["commit"]);
        // Different content to an existing branch is refused...
        s.bb(
            &ann,
            Method::POST,
            &format!("/v2/bots/{bot}/commands"),
            json!({"command": "/two", "answer": "2"}),
        )
        .await;
        let refused =
            transfer(&s, &ann, bot, "git_export", json!({"git_remote": remote, "branch": "release"})).await;
        assert_eq!(refused["status"], "error", "{refused}");
        assert!(error_of(&refused).contains("already exists"), "{refused}");
        let files = git(&target, &["ls-tree", "-r", "--name-only", "release"]);
        assert!(!files.contains("_two.js"), "the branch is untouched: {files}");
        // ...unless forced.
        let forced = transfer(
            &s,
            &ann,
            bot,
            "git_export",
            json!({"git_remote": remote, "branch": "release", "force": true}),
        )
        .await;
        assert_eq!(forced["status"], "ok", "{forced}");
        // Read back with git itself: the branch holds the bot in the Bots.Business format.
        let files = git(&target, &["ls-tree", "-r", "--name-only", "release"]);
        assert!(files.lines().any(|f| f == "bot.json"), "{files}");
        assert!(files.lines().any(|f| f.ends_with("_two.js")), "{files}");
        let bot_json: Value = serde_json::from_str(&git(&target, &["show", "release:bot.json"])).unwrap();
        assert_eq!(bot_json["name"], "Git");
        assert_eq!(
            git(&target, &["log", "--format=%s", "-1", "release"]).trim(),
            "Export of Git from botyard"
        );
        s.stop().await;
    }
}
