//! Telegram webhook benchmark, botyard next to grammY (issue 14): the same `/count` bot — a
//! per-user counter, the reply sent with `sendMessage` — fed the same webhook updates by the same
//! load generator, both replying to the same fake Bot API on loopback, in one run.
//!
//! - grammY: `tests/node/grammy-count-bot.mjs` (grammY from npm, Node.js), its counter in memory,
//!   its webhook answered once the handler (and its `sendMessage`) is done — grammY's default.
//! - botyard: in-process, `telegram.mode = "webhook"`, the command in BJS in the sandbox, the
//!   counter a persisted user property, the reply through the durable outbox; the webhook is
//!   answered once the update is stored.
//!
//! Per update the latency runs from the webhook POST leaving the load generator to the reply for
//! that update reaching the fake; throughput is updates / (first POST → last reply). Every reply
//! is checked: each user's replies must read `n=1`, `n=2`, … once each, in order.
//!
//! With `--crash <botyard binary>` it also kills a botyard server (the real binary, in a child
//! process) with SIGKILL in the middle of the updates, starts it again, posts again what was not
//! answered with 200 (as Telegram does), and checks that every update was answered exactly once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{Path, State};
use botyard_store::Backend;
use serde_json::{Value, json};

use crate::server::{BenchServer, start_server};

const CODE: &str = "var n = (User.getProperty('n') || 0) + 1; User.setProperty('n', n, 'integer'); Bot.sendMessage('n=' + n);";
const TOKEN: &str = "4242:bench";
const SECRET: &str = "bench-secret";
/// Chat (and user) ids are `FIRST_CHAT + user`.
const FIRST_CHAT: i64 = 100_000;

#[derive(clap::Args)]
pub struct Args {
    /// Webhook updates posted.
    #[arg(long, default_value_t = 5_000)]
    updates: usize,
    /// Distinct users (each its own private chat); update `i` comes from user `i % users`.
    #[arg(long, default_value_t = 1_000)]
    users: usize,
    /// Webhook POSTs in flight at once.
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// Only botyard (no Node.js needed).
    #[arg(long)]
    no_grammy: bool,
    /// The `tests/node` directory (with `npm ci` done).
    #[arg(long, default_value = "tests/node")]
    node_dir: PathBuf,
    /// Sandbox executors of the in-process server (0: the default, twice the cores).
    #[arg(long, default_value_t = 0)]
    executors: usize,
    /// Also kill a botyard server mid-run: the path of the `botyard` binary.
    #[arg(long)]
    crash: Option<PathBuf>,
}

/// What the fake Bot API saw.
#[derive(Default)]
struct Seen {
    /// `(chat id, text, when)` of every `sendMessage`.
    sends: Vec<(i64, String, Instant)>,
    /// The `url` and `secret_token` of the last `setWebhook`.
    webhook: Option<(String, String)>,
}

#[derive(Clone, Default)]
struct Fake {
    seen: Arc<Mutex<Seen>>,
    message_ids: Arc<AtomicUsize>,
}

impl Fake {
    fn sends(&self) -> usize {
        self.seen.lock().unwrap().sends.len()
    }

    fn reset(&self) {
        *self.seen.lock().unwrap() = Seen::default();
    }
}

async fn fake_api(
    State(fake): State<Fake>,
    Path((_, method)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    let params: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let result = match method.as_str() {
        "getMe" => json!({"id": 1, "is_bot": true, "first_name": "Bench", "username": "bench_bot"}),
        "sendMessage" => {
            let chat = params["chat_id"].as_i64().unwrap_or_default();
            let text = params["text"].as_str().unwrap_or_default().to_owned();
            fake.seen.lock().unwrap().sends.push((chat, text, Instant::now()));
            let id = fake.message_ids.fetch_add(1, Ordering::Relaxed) + 1;
            json!({"message_id": id, "chat": {"id": chat, "type": "private"}, "date": 0, "text": params["text"]})
        }
        "setWebhook" => {
            let url = params["url"].as_str().unwrap_or_default().to_owned();
            let secret = params["secret_token"].as_str().unwrap_or_default().to_owned();
            fake.seen.lock().unwrap().webhook = Some((url, secret));
            json!(true)
        }
        _ => json!(true),
    };
    axum::Json(json!({"ok": true, "result": result}))
}

fn update(i: usize, users: usize) -> Value {
    let user = FIRST_CHAT + (i % users) as i64;
    json!({"update_id": i + 1, "message": {"message_id": i + 1, "date": 0,
        "from": {"id": user, "is_bot": false, "first_name": "U"},
        "chat": {"id": user, "type": "private", "first_name": "U"}, "text": "/count",
        "entities": [{"offset": 0, "length": 6, "type": "bot_command"}]}})
}

/// One load: when each update was posted, and whether its POST was answered with 200.
struct Load {
    posted: Vec<Option<Instant>>,
    accepted: Vec<bool>,
    started: Instant,
    all_posted: Instant,
}

/// Posts `which` updates to `url`, `in_flight` at a time, in order of index.
async fn post_all(http: &reqwest::Client, url: &str, secret: &str, which: Vec<usize>, args: &Args) -> Load {
    let n = args.updates;
    let posted = Arc::new(Mutex::new(vec![None; n]));
    let accepted = Arc::new(Mutex::new(vec![false; n]));
    let which = Arc::new(which);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.in_flight {
        let (http, url, which, next) = (http.clone(), url.to_owned(), which.clone(), next.clone());
        let secret = secret.to_owned();
        let (posted, accepted, users) = (posted.clone(), accepted.clone(), args.users);
        tasks.push(tokio::spawn(async move {
            loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = which.get(at) else { return };
                let body = serde_json::to_vec(&update(i, users)).unwrap_or_default();
                posted.lock().unwrap()[i] = Some(Instant::now());
                let ok = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-telegram-bot-api-secret-token", &secret)
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                accepted.lock().unwrap()[i] = ok;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let all_posted = Instant::now();
    let posted = std::mem::take(&mut *posted.lock().unwrap());
    let accepted = std::mem::take(&mut *accepted.lock().unwrap());
    Load { posted, accepted, started, all_posted }
}

/// The figures of one side.
struct Figures {
    per_second: f64,
    accept_seconds: f64,
    p50: f64,
    p99: f64,
    max: f64,
    unanswered: usize,
    wrong: usize,
}

/// Waits until every update has its reply (or `within` passed), then checks and measures them.
async fn collect(fake: &Fake, load: &Load, args: &Args, within: Duration) -> Figures {
    let deadline = Instant::now() + within;
    while fake.sends() < args.updates && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let seen = fake.seen.lock().unwrap();
    let mut replied: Vec<Option<Instant>> = vec![None; args.updates];
    let mut wrong = 0;
    let mut last_n: HashMap<i64, usize> = HashMap::new();
    for (chat, text, at) in &seen.sends {
        let n = text.strip_prefix("n=").and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
        let expected = last_n.get(chat).copied().unwrap_or(0) + 1;
        last_n.insert(*chat, n);
        let index = usize::try_from(chat - FIRST_CHAT)
            .ok()
            .filter(|user| *user < args.users && n >= 1)
            .map(|user| (n - 1) * args.users + user)
            .filter(|i| *i < args.updates && replied[*i].is_none());
        match index {
            Some(i) if n == expected => replied[i] = Some(*at),
            _ => wrong += 1,
        }
    }
    let mut latencies: Vec<f64> = Vec::new();
    let mut unanswered = 0;
    let mut last = load.started;
    for (i, reply) in replied.iter().enumerate() {
        match (reply, load.posted[i]) {
            (Some(reply), Some(posted)) => {
                latencies.push(reply.saturating_duration_since(posted).as_secs_f64() * 1000.0);
                last = last.max(*reply);
            }
            _ => unanswered += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1))).copied()
    };
    Figures {
        per_second: latencies.len() as f64 / last.duration_since(load.started).as_secs_f64(),
        accept_seconds: load.all_posted.duration_since(load.started).as_secs_f64(),
        p50: pct(0.5).unwrap_or(0.0),
        p99: pct(0.99).unwrap_or(0.0),
        max: latencies.last().copied().unwrap_or(0.0),
        unanswered,
        wrong,
    }
}

fn row(backend: &str, side: &str, f: &Figures) {
    println!(
        "| {backend} | {side} | {:.0} | {:.2} | {:.1} | {:.1} | {:.1} | {} / {} |",
        f.per_second, f.accept_seconds, f.p50, f.p99, f.max, f.unanswered, f.wrong
    );
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let fake = Fake::default();
    let app = Router::new().route("/{bot}/{method}", axum::routing::post(fake_api)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;
    println!(
        "{} webhook updates from {} users, {} in flight, {} cores",
        args.updates,
        args.users,
        args.in_flight,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!();
    println!(
        "| backend | bot | replies/s | webhook accepted all in s | p50 ms | p99 ms | max ms | unanswered / wrong |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for backend in botyard_store::testing::backends() {
        let name = crate::server::name(backend);
        let grammy = if args.no_grammy {
            None
        } else {
            fake.reset();
            let figures = grammy(&http, &api, &fake, &args).await?;
            row(name, "grammY 1.46.0 (Node.js, counter in memory)", &figures);
            Some(figures)
        };
        fake.reset();
        let ours = botyard(backend, &http, &api, &fake, &args).await?;
        row(name, "botyard (BJS in the sandbox, persisted property, durable outbox)", &ours);
        if let Some(g) = grammy {
            println!(
                "| {name} | ratio botyard / grammY | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | |",
                ours.per_second / g.per_second,
                ours.accept_seconds / g.accept_seconds,
                ours.p50 / g.p50,
                ours.p99 / g.p99,
                ours.max / g.max,
            );
        }
    }
    if let Some(bin) = args.crash.as_deref() {
        println!();
        fake.reset();
        crash(bin, &http, &api, &fake, &args).await?;
    }
    Ok(())
}

async fn grammy(http: &reqwest::Client, api: &str, fake: &Fake, args: &Args) -> anyhow::Result<Figures> {
    let port = free_port()?;
    let mut child = Command::new("node")
        .arg("grammy-count-bot.mjs")
        .arg(port.to_string())
        .arg(api)
        .arg(TOKEN)
        .arg(SECRET)
        .current_dir(&args.node_dir)
        .stdout(Stdio::null())
        .spawn()
        .context("node grammy-count-bot.mjs (run `npm ci` in tests/node)")?;
    let url = format!("http://127.0.0.1:{port}/");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("the grammY bot did not listen");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let load = post_all(http, &url, SECRET, (0..args.updates).collect(), args).await;
    let figures = collect(fake, &load, args, Duration::from_secs(60)).await;
    let _ = child.kill();
    let _ = child.wait();
    Ok(figures)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Creates the `/count` bot and starts it; returns the webhook's URL and secret once botyard
/// registered them.
async fn count_bot(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    fake: &Fake,
) -> anyhow::Result<(String, String)> {
    let v2 = |path: &str| format!("{base}/v2{path}?api_key={key}");
    let bot: Value =
        http.post(v2("/bots")).json(&json!({"name": "bench", "token": TOKEN})).send().await?.json().await?;
    let bot = bot["id"].as_i64().context("bot id")?;
    http.post(v2(&format!("/bots/{bot}/commands")))
        .json(&json!({"command": "/count", "bjs_code": CODE}))
        .send()
        .await?
        .error_for_status()?;
    http.post(v2(&format!("/bots/{bot}/status")))
        .json(&json!({"status": "start_launch"}))
        .send()
        .await?
        .error_for_status()?;
    webhook_url(base, fake).await
}

/// The webhook botyard registered with the fake (on the server at `base`) and its secret.
async fn webhook_url(base: &str, fake: &Fake) -> anyhow::Result<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let registered = fake.seen.lock().unwrap().webhook.take();
        if let Some((url, secret)) = registered {
            let path = url.strip_prefix("https://botyard.example").context("webhook url")?.to_owned();
            return Ok((format!("{base}{path}"), secret));
        }
        if Instant::now() > deadline {
            bail!("botyard registered no webhook");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn botyard(
    backend: Backend,
    http: &reqwest::Client,
    api: &str,
    fake: &Fake,
    args: &Args,
) -> anyhow::Result<Figures> {
    let BenchServer { server, base, api_key: key, keep: _keep, .. } = start_server(backend, |config| {
        config.telegram.api_base = api.to_owned();
        config.telegram.mode = "webhook".into();
        config.public_url = "https://botyard.example".into();
        // The fake enforces no limits, and grammY applies none (no throttler plugin).
        config.telegram.per_chat_per_second = 1000.0;
        config.telegram.per_bot_per_second = 1_000_000;
        config.sandbox.executors = args.executors;
    })
    .await?;
    let (url, secret) = count_bot(http, &base, &key, fake).await?;
    let load = post_all(http, &url, &secret, (0..args.updates).collect(), args).await;
    let figures = collect(fake, &load, args, Duration::from_secs(120)).await;
    server.stop().await?;
    Ok(figures)
}

/// Starts the `botyard` binary on the data directory (SQLite) and the port, pointed at the fake.
fn spawn(bin: &std::path::Path, port: u16, data: &std::path::Path, api: &str) -> anyhow::Result<Child> {
    Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data)
        .env_remove("BOTYARD_DATABASE_URL")
        .env("BOTYARD_PUBLIC_URL", "https://botyard.example")
        .env("BOTYARD_TELEGRAM__MODE", "webhook")
        .env("BOTYARD_TELEGRAM__API_BASE", api)
        .env("BOTYARD_TELEGRAM__PER_CHAT_PER_SECOND", "1000")
        .env("BOTYARD_TELEGRAM__PER_BOT_PER_SECOND", "1000000")
        .env("BOTYARD_HTTP__RATE_LIMIT_PER_SECOND", "10000000")
        .env("BOTYARD_HTTP__RATE_LIMIT_BURST", "10000000")
        .env("BOTYARD_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))
}

async fn ready(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
        if Instant::now() > deadline {
            bail!("botyard did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// SIGKILL mid-run: every update is answered exactly once after the restart.
async fn crash(
    bin: &std::path::Path,
    http: &reqwest::Client,
    api: &str,
    fake: &Fake,
    args: &Args,
) -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn(bin, port, data.path(), api)?;
    ready(http, &base).await?;
    let signup: Value = http
        .post(format!("{base}/v2/auth"))
        .json(&json!({"email": "bench@example.com", "password": "benchmark password"}))
        .send()
        .await?
        .json()
        .await?;
    let key = signup["api_key"].as_str().context("api key")?.to_owned();
    let (url, secret) = count_bot(http, &base, &key, fake).await?;
    // Kill once a third of the replies went out, while updates are still being posted.
    let killer = {
        let fake = fake.clone();
        let third = args.updates / 3;
        tokio::spawn(async move {
            while fake.sends() < third {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
            Instant::now()
        })
    };
    let first = post_all(http, &url, &secret, (0..args.updates).collect(), args).await;
    let killed_at = killer.await?;
    let accepted_before = first.accepted.iter().filter(|a| **a).count();
    let replies_before = fake.sends();
    // Restart; Telegram posts again whatever was not answered with 200.
    let restarted = spawn(bin, port, data.path(), api)?;
    let _guard = KillOnDrop(restarted);
    ready(http, &base).await?;
    // Telegram goes on posting to the same URL with the same secret.
    let again: Vec<usize> = (0..args.updates).filter(|i| !first.accepted[*i]).collect();
    let reposted = again.len();
    let second = post_all(http, &url, &secret, again.clone(), args).await;
    let not_accepted = again.iter().filter(|i| !second.accepted[**i]).count();
    let deadline = Instant::now() + Duration::from_secs(120);
    while fake.sends() < args.updates && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Settle: anything sent twice would arrive now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = fake.seen.lock().unwrap();
    let mut per_user: HashMap<i64, Vec<usize>> = HashMap::new();
    for (chat, text, _) in &seen.sends {
        let n = text.strip_prefix("n=").and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
        per_user.entry(*chat).or_default().push(n);
    }
    let (mut lost, mut twice, mut out_of_order) = (0, 0, 0);
    for user in 0..args.users {
        let expected = (0..args.updates).filter(|i| i % args.users == user).count();
        let got = per_user.remove(&(FIRST_CHAT + user as i64)).unwrap_or_default();
        let mut distinct = got.clone();
        distinct.sort_unstable();
        distinct.dedup();
        twice += got.len() - distinct.len();
        lost += expected.saturating_sub(distinct.len());
        if got.windows(2).any(|w| w[1] < w[0]) || distinct.last().copied().unwrap_or(0) > expected {
            out_of_order += 1;
        }
    }
    println!("| SIGKILL mid-run (SQLite, the botyard binary) | |");
    println!("|---|---:|");
    println!("| updates posted | {} |", args.updates);
    println!(
        "| accepted (200) before the kill | {accepted_before} (killed {:.2} s after the first POST) |",
        killed_at.duration_since(first.started).as_secs_f64()
    );
    println!("| replies before the restart | {replies_before} |");
    println!("| posted again after the restart (no 200 before) | {reposted} |");
    println!("| refused after the restart | {not_accepted} |");
    println!("| updates without a reply | {lost} |");
    println!("| replies sent twice | {twice} |");
    println!("| users whose replies are out of order or count past their updates | {out_of_order} |");
    Ok(())
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
