//! Botpress SDK bots: the same echo-and-count behaviour served at a `url` by a real
//! `@botpress/sdk` bot (`tests/node/sdk-echo-bot.cjs`, which calls botyard's runtime API back) and
//! as botyard's sandboxed `code`, driven through the web chat in a closed loop.
//!
//! Each case gets a fresh server and database of the same build, so neither inherits the other's
//! rows or processes. Every conversation sends a message, waits for the bot's reply on its event
//! stream, checks it (`echo <n>: m<n>`: the n-th message of the conversation), and sends the next.
//! Next to throughput and latency, the CPU time each process spent per message is read from
//! `/proc` (the bench process holds the server and the load generator; the Node.js bot is apart).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use botyard_store::Backend;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::server::{BenchServer, start_server};

/// The sandboxed twin of `sdk-echo-bot.cjs`: count the conversation's messages, echo with the count.
const CODE: &str = "on('message', function (text) { \
    var n = (Bot.getProperty('count_' + chat.id) || 0) + 1; \
    Bot.setProperty('count_' + chat.id, n, 'integer'); \
    Bot.sendMessage('echo ' + n + ': ' + text); \
    return false; })";

#[derive(clap::Args)]
pub struct Args {
    /// Concurrent web chat conversations (each with its own event stream).
    #[arg(long, default_value_t = 16)]
    conversations: usize,
    /// Seconds measured per case.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of closed loop before measuring (warms Node.js's JIT, pools and caches).
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// The Node.js command that serves the SDK bot.
    #[arg(long, default_value = "node")]
    node: String,
}

/// How one case went.
struct Figures {
    per_second: f64,
    p50: f64,
    p99: f64,
    max: f64,
    unanswered: usize,
    wrong: usize,
    /// CPU ms per answered message: the bench process (server and load generator), the bot's Node.js.
    cpu_bench: f64,
    cpu_node: Option<f64>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let dir = node_dir();
    if !dir.join("node_modules/@botpress/sdk").exists() {
        bail!("{} has no node_modules: run `npm ci` there first", dir.display());
    }
    println!(
        "{} conversations, {} s warm-up + {} s measured per case, {} cores",
        args.conversations,
        args.warmup,
        args.seconds,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!();
    let mut rows = Vec::new();
    // SQLite always; PostgreSQL when BOTYARD_TEST_POSTGRES_URL names a server (as for the tests).
    for backend in botyard_store::testing::backends() {
        let url = case(backend, &args, true).await?;
        let code = case(backend, &args, false).await?;
        rows.push((backend, url, code));
    }
    println!(
        "| backend | bot | messages/s | p50 ms | p99 ms | max ms | unanswered / wrong | CPU ms per message: bench process (server + load) | CPU ms per message: the bot's Node.js |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (backend, url, code) in rows {
        let name = crate::server::name(backend);
        for (label, f) in [("(a) SDK bot at its `url`", &url), ("(b) sandboxed `code`", &code)] {
            println!(
                "| {name} | {label} | {:.0} | {:.1} | {:.1} | {:.1} | {} / {} | {:.2} | {} |",
                f.per_second,
                f.p50,
                f.p99,
                f.max,
                f.unanswered,
                f.wrong,
                f.cpu_bench,
                f.cpu_node.map_or("–".to_owned(), |c| format!("{c:.2}")),
            );
        }
        let cpu_total = |f: &Figures| f.cpu_bench + f.cpu_node.unwrap_or(0.0);
        println!(
            "| {name} | ratio (b) / (a) | {:.2} | {:.2} | {:.2} | {:.2} | | {:.2} (both processes: {:.2}) | |",
            code.per_second / url.per_second,
            code.p50 / url.p50,
            code.p99 / url.p99,
            code.max / url.max,
            code.cpu_bench / url.cpu_bench,
            cpu_total(&code) / cpu_total(&url),
        );
    }
    Ok(())
}

/// `tests/node`, where `sdk-echo-bot.cjs` and its `node_modules` are.
fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/node")
}

/// A free loopback port (bound and released).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One case on a fresh server: the SDK bot at its url (`at_url`) or the sandboxed code.
async fn case(backend: Backend, args: &Args, at_url: bool) -> anyhow::Result<Figures> {
    let BenchServer { server, base, http, api_key, workspace, keep: _keep, .. } =
        start_server(backend, |c| {
            // The SDK bot listens on loopback.
            c.outbound.deny.retain(|n| n != "127.0.0.0/8");
        })
        .await?;
    let auth = format!("Bearer {api_key}");
    let name = if at_url { "echo-url" } else { "echo-code" };
    let mut process = None;
    let mut definition = json!({"name": name});
    let mut port = 0;
    if at_url {
        port = free_port()?;
        definition["url"] = json!(format!("http://127.0.0.1:{port}"));
    }
    let created: Value = http
        .post(format!("{base}/v1/admin/bots"))
        .header("authorization", &auth)
        .header("x-workspace-id", &workspace)
        .json(&definition)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let bp_id = created["bot"]["id"].as_str().context("bot id")?.to_owned();
    if at_url {
        // As under `bp dev`: the bot's client calls botyard with the developer's key.
        let child = tokio::process::Command::new(&args.node)
            .arg("sdk-echo-bot.cjs")
            .arg(port.to_string())
            .current_dir(node_dir())
            .env("BP_API_URL", &base)
            .env("BP_TOKEN", &api_key)
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("node runs the SDK bot")?;
        wait_healthy(&http, port).await?;
        process = Some(child);
    } else {
        http.put(format!("{base}/v1/admin/bots/{bp_id}"))
            .header("authorization", &auth)
            .header("x-workspace-id", &workspace)
            .json(&json!({"code": CODE}))
            .send()
            .await?
            .error_for_status()?;
    }
    let bots: Value = http.get(format!("{base}/v2/bots?api_key={api_key}")).send().await?.json().await?;
    let bot = bots
        .as_array()
        .and_then(|all| all.iter().find(|b| b["name"] == name))
        .context("the bot is listed")?;
    if bot["status"] != "works" {
        bail!("the bot {name} does not run: {bot}");
    }
    let webhook = bot["web_channel_id"].as_str().context("web channel")?;
    let chat = format!("{base}/chat/{webhook}");

    let mut conversations = Vec::new();
    for _ in 0..args.conversations {
        let (key, id) = crate::server::conversation(&http, &chat).await?;
        let replies = crate::server::bot_messages(&http, &chat, &key, &id).await?;
        conversations.push((key, id, replies));
    }

    let started = Instant::now();
    let measure_from = started + Duration::from_secs(args.warmup);
    let deadline = measure_from + Duration::from_secs(args.seconds);
    let results = Arc::new(Mutex::new(Results::default()));
    let node_pid = process.as_ref().and_then(|p| p.id());
    let cpu_start = {
        let results = results.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(measure_from.into()).await;
            let at = (cpu_ms("self"), node_pid.map(|p| cpu_ms(&p.to_string())));
            results.lock().await.cpu_start = Some(at);
        })
    };
    let mut tasks = Vec::new();
    for (key, id, mut replies) in conversations {
        let (http, chat, results) = (http.clone(), chat.clone(), results.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let body =
                    json!({"conversationId": id, "payload": {"type": "text", "text": format!("m{n}")}});
                let sent = Instant::now();
                let posted = http
                    .post(format!("{chat}/messages"))
                    .header("x-user-key", &key)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                let reply = if posted {
                    tokio::time::timeout(Duration::from_secs(10), replies.recv()).await.ok().flatten()
                } else {
                    None
                };
                let mut r = results.lock().await;
                match reply {
                    Some((seen, text)) => {
                        if text != format!("echo {n}: m{n}") {
                            r.wrong += 1;
                        }
                        if sent >= measure_from && seen <= deadline {
                            r.latencies.push(seen - sent);
                        }
                    }
                    None if sent >= measure_from => r.unanswered += 1,
                    None => {}
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    cpu_start.await?;
    let at_end = (cpu_ms("self"), node_pid.map(|p| cpu_ms(&p.to_string())));
    let mut results = std::mem::take(&mut *results.lock().await);
    drop(process);
    server.stop().await?;

    let (bench_start, node_start) = results.cpu_start.context("CPU time at the start")?;
    let answered = results.latencies.len().max(1) as f64;
    results.latencies.sort();
    let pct = |p: f64| {
        let l = &results.latencies;
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(Figures {
        per_second: results.latencies.len() as f64 / args.seconds as f64,
        p50: pct(0.5),
        p99: pct(0.99),
        max: results.latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        unanswered: results.unanswered,
        wrong: results.wrong,
        cpu_bench: (at_end.0 - bench_start) / answered,
        cpu_node: match (node_start, at_end.1) {
            (Some(a), Some(b)) => Some((b - a) / answered),
            _ => None,
        },
    })
}

#[derive(Default)]
struct Results {
    /// Send → reply seen, of messages sent and answered within the measured window.
    latencies: Vec<Duration>,
    unanswered: usize,
    /// Replies whose text is not the expected echo and count (warm-up included).
    wrong: usize,
    /// CPU ms of the bench process and of Node.js when the measured window began.
    cpu_start: Option<(f64, Option<f64>)>,
}

/// Waits (up to ten seconds) for the SDK bot's `/health`.
async fn wait_healthy(http: &reqwest::Client, port: u16) -> anyhow::Result<()> {
    let health = format!("http://127.0.0.1:{port}/health");
    for _ in 0..200 {
        if http.get(&health).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the SDK bot did not start on port {port}")
}

/// User plus system CPU time of a process (`self` or a pid), in ms, from `/proc/<pid>/stat`
/// (in clock ticks of 1/100 s, Linux's `USER_HZ`).
fn cpu_ms(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // The fields after the command name (which may hold spaces) start with the state (field 3);
    // utime and stime are fields 14 and 15.
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}
