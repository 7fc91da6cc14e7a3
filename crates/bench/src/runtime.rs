//! End-to-end runtime benchmark: web channel in, bot code, Server-Sent Events out.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use botyard_sandbox::{Body, Host, HostAnswer, Outcome, Program, Sandbox, SandboxConfig};
use botyard_store::Backend;
use serde_json::{Map, Value, json};
use tokio::sync::{Mutex, Notify};

use crate::server::{BenchServer, start_server};

/// The command every message runs: read a user property, write it back, reply.
const CODE: &str = "var n = (User.getProperty('n') || 0) + 1; User.setProperty('n', n, 'integer'); Bot.sendMessage('n=' + n);";

#[derive(clap::Args)]
pub struct Args {
    /// Concurrent users (each with its own conversation and event stream).
    #[arg(long, default_value_t = 64)]
    users: usize,
    /// Seconds of each load phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Offered messages per second in the fixed-rate phase.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Runs for the sandbox measurement.
    #[arg(long, default_value_t = 2000)]
    sandbox_runs: u32,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    println!(
        "{} users, {} s per phase, {} cores",
        args.users,
        args.seconds,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!();
    sandbox_cost(args.sandbox_runs).await?;
    println!();
    println!("| backend | phase | messages/s | p50 ms | p99 ms | max ms | unanswered |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    // SQLite always; PostgreSQL when BOTYARD_TEST_POSTGRES_URL names a server (as for the tests).
    for backend in botyard_store::testing::backends() {
        backend_run(backend, &args).await?;
    }
    Ok(())
}

/// A property read against a real store, as the production host does it (from the executor's
/// thread, blocking on the async store).
#[derive(Clone)]
struct PropertyReader {
    store: botyard_store::Store,
    handle: tokio::runtime::Handle,
}

impl PropertyReader {
    fn read(&self) -> Value {
        use botyard_store::PropertyStore;
        let found = self
            .handle
            .block_on(self.store.property(1, botyard_domain::property::PropertyScope::User, 1, "n"))
            .ok()
            .flatten();
        found.map_or(Value::Null, |p| p.value)
    }
}

/// A host that reads the property from the store and collects the other two calls (in a real run
/// they are effects collected in memory, committed after the run).
struct ReadingHost(PropertyReader);

impl Host for ReadingHost {
    fn call(&mut self, name: &str, _args: Vec<Value>) -> Result<HostAnswer, String> {
        Ok(match name {
            "User.getProperty" => HostAnswer::Value(self.0.read()),
            "Bot.sendMessage" => HostAnswer::Value(json!({"message_id": "msg_1"})),
            _ => HostAnswer::Undefined,
        })
    }
}

/// The baseline: on a thread of its own, a QuickJS context of the kind runs use (the same
/// intrinsics), a host function that does one real property read, and a call of it — per run.
fn bare_runs(reader: PropertyReader, runs: u32) -> Duration {
    use rquickjs::context::intrinsic::{Date, Eval, Json, MapSet, Proxy, RegExp, RegExpCompiler};
    type Intrinsics = (Eval, Json, Date, RegExpCompiler, RegExp, MapSet, Proxy);
    std::thread::spawn(move || {
        let runtime = rquickjs::Runtime::new().expect("QuickJS starts");
        runtime.set_memory_limit(64 * 1024 * 1024);
        let once = || {
            let context = rquickjs::Context::custom::<Intrinsics>(&runtime).expect("a context");
            context.with(|ctx| {
                let reader = reader.clone();
                let host = rquickjs::Function::new(ctx.clone(), move |_name: String| -> String {
                    json!({"v": reader.read()}).to_string()
                })
                .expect("a host function");
                ctx.globals().set("__host", host).expect("set");
                let _: rquickjs::Result<i32> =
                    ctx.eval("(function () { var n = JSON.parse(__host('n')).v; return (n || 0) + 1; })()");
            });
        };
        for _ in 0..100 {
            once();
        }
        let started = Instant::now();
        for _ in 0..runs {
            once();
        }
        started.elapsed() / runs.max(1)
    })
    .join()
    .expect("the baseline thread")
}

async fn sandbox_cost(runs: u32) -> anyhow::Result<()> {
    let db = botyard_store::testing::TestDatabase::create(Backend::Sqlite).await;
    let store = botyard_store::Store::open(&db.url, &botyard_store::StoreOptions::default()).await?;
    let reader = PropertyReader { store, handle: tokio::runtime::Handle::current() };
    let sandbox = Sandbox::new(SandboxConfig { executors: 1, ..SandboxConfig::default() });
    let mut globals = Map::new();
    for (k, v) in [
        ("message", json!("/count")),
        ("params", json!("")),
        ("options", Value::Null),
        ("user", json!({"id": 1, "first_name": "Ann", "just_created": false})),
        ("chat", json!({"id": 1, "chat_type": "private"})),
        ("bot", json!({"id": 1, "name": "bench"})),
        ("command", json!({"id": 1, "name": "/count"})),
    ] {
        globals.insert(k.into(), v);
    }
    let program = Program {
        globals,
        libs: Vec::new(),
        bot_code: None,
        event: Some(("message".into(), json!("/count"))),
        body: Body::Command { code: format!("__call('Command.answer', [1]);\n{CODE}") },
        time_limit: Duration::from_secs(5),
    };
    let bare = {
        let reader = reader.clone();
        tokio::task::spawn_blocking(move || bare_runs(reader, runs)).await?
    };
    let ours = mean_run(&sandbox, &program, &reader, runs).await;
    println!("| per run, one executor, SQLite | µs |");
    println!("|---|---:|");
    println!(
        "| baseline: a QuickJS context of the same kind, a host function doing one real property read, one call | {:.0} |",
        bare.as_secs_f64() * 1e6
    );
    println!(
        "| botyard sandbox: context, prelude, globals, handlers, the command above with its 3 host calls (one real property read) | {:.0} |",
        ours.as_secs_f64() * 1e6
    );
    println!("| ratio sandbox / baseline | {:.2} |", ours.as_secs_f64() / bare.as_secs_f64());
    library_cost(&reader, program, runs).await
}

/// The same run with a library of the size Bots.Business bots install (a few hundred lines),
/// read from bytecode compiled by an earlier run against parsed from source every run.
async fn library_cost(reader: &PropertyReader, mut program: Program, runs: u32) -> anyhow::Result<()> {
    let methods: String = (0..120)
        .map(|i| {
            format!(
                "  m{i}: function (a, b) {{\n    var total = 0;\n    for (var k = 0; k < a; k++) {{ total += k * {i} + (b || 0); }}\n    return total > {i} ? 'big ' + total : 'small ' + total;\n  }},\n"
            )
        })
        .collect();
    let library = format!("var table = {{\n{methods}  size: 120\n}};\npublish({{ table: table }});\n");
    program.libs = vec![("Table".into(), library.clone())];
    let with_cache = |compiled_bytes| {
        Sandbox::new(SandboxConfig { executors: 1, compiled_bytes, ..SandboxConfig::default() })
    };
    let parsed = mean_run(&with_cache(0), &program, reader, runs).await;
    let compiled =
        mean_run(&with_cache(SandboxConfig::default().compiled_bytes), &program, reader, runs).await;
    let lines = library.lines().count();
    println!();
    println!("| per run with a {lines}-line library, one executor, SQLite | µs |");
    println!("|---|---:|");
    println!("| the library parsed from source every run | {:.0} |", parsed.as_secs_f64() * 1e6);
    println!(
        "| the library read from bytecode compiled by an earlier run | {:.0} |",
        compiled.as_secs_f64() * 1e6
    );
    println!("| ratio compiled / parsed | {:.2} |", compiled.as_secs_f64() / parsed.as_secs_f64());
    Ok(())
}

/// Warms the sandbox's executor up with `program`, then the mean time of `runs` runs of it.
async fn mean_run(sandbox: &Sandbox, program: &Program, reader: &PropertyReader, runs: u32) -> Duration {
    let tenant = || botyard_sandbox::Tenant { workspace: "bench".into(), bot: 0 };
    for _ in 0..100 {
        sandbox.run(tenant(), program.clone(), ReadingHost(reader.clone())).await;
    }
    let started = Instant::now();
    for _ in 0..runs {
        let (outcome, _) = sandbox
            .run(tenant(), program.clone(), ReadingHost(reader.clone()))
            .await
            .expect("the sandbox runs");
        assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
    }
    started.elapsed() / runs
}

/// One user's conversation and what it waits for.
struct Conversation {
    key: String,
    id: String,
    /// When each unanswered message was sent, oldest first.
    sent: Mutex<VecDeque<Instant>>,
    answered: Notify,
}

struct Stats {
    /// When each answer arrived, and its latency.
    latencies: Mutex<Vec<(Instant, Duration)>>,
}

async fn backend_run(backend: Backend, args: &Args) -> anyhow::Result<()> {
    let name = crate::server::name(backend);
    let BenchServer { server, base, http, api_key: key, keep: _keep, .. } =
        start_server(backend, |_| {}).await?;
    let bot: Value = http
        .post(format!("{base}/v2/bots?api_key={key}"))
        .json(&json!({"name": "bench"}))
        .send()
        .await?
        .json()
        .await?;
    let bot_id = bot["id"].as_i64().context("bot id")?;
    let webhook = bot["web_channel_id"].as_str().context("webhook")?.to_owned();
    http.post(format!("{base}/v2/bots/{bot_id}/commands?api_key={key}"))
        .json(&json!({"command": "/count", "bjs_code": CODE}))
        .send()
        .await?
        .error_for_status()?;
    http.post(format!("{base}/v2/bots/{bot_id}/status?api_key={key}"))
        .json(&json!({"status": "start_launch"}))
        .send()
        .await?
        .error_for_status()?;

    let chat = format!("{base}/chat/{webhook}");
    let stats = Arc::new(Stats { latencies: Mutex::new(Vec::new()) });
    let mut conversations = Vec::new();
    for _ in 0..args.users {
        let (key, id) = crate::server::conversation(&http, &chat).await?;
        let conversation =
            Arc::new(Conversation { key, id, sent: Mutex::new(VecDeque::new()), answered: Notify::new() });
        listen(&http, &chat, conversation.clone(), stats.clone()).await?;
        conversations.push(conversation);
    }

    // Phase 1: closed loop, every user sends its next message as soon as the previous is answered.
    let phase = Duration::from_secs(args.seconds);
    stats.latencies.lock().await.clear();
    let deadline = Instant::now() + phase;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for conversation in &conversations {
        let (http, chat, conversation) = (http.clone(), chat.clone(), conversation.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let answered = conversation.answered.notified();
                send(&http, &chat, &conversation).await;
                let _ = tokio::time::timeout(Duration::from_secs(10), answered).await;
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    // Only answers that arrived within the window count, over the window's length.
    stats.latencies.lock().await.retain(|(at, _)| *at <= deadline);
    report(name, "closed loop, as fast as answered", deadline - started, &stats, &conversations).await;

    // Phase 2: a fixed offered rate, spread over the users.
    settle(&conversations).await;
    stats.latencies.lock().await.clear();
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let total = args.rate * args.seconds;
    let started = Instant::now();
    let mut sends = Vec::new();
    for n in 0..total {
        let at = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(at.into()).await;
        let (http, chat, conversation) =
            (http.clone(), chat.clone(), conversations[n as usize % conversations.len()].clone());
        sends.push(tokio::spawn(async move { send(&http, &chat, &conversation).await }));
    }
    for send in sends {
        send.await?;
    }
    let sent_for = started.elapsed();
    settle(&conversations).await;
    report(name, &format!("fixed rate, {} msg/s offered", args.rate), sent_for, &stats, &conversations).await;
    server.stop().await?;
    Ok(())
}

async fn send(http: &reqwest::Client, chat: &str, conversation: &Conversation) {
    let body = json!({"conversationId": conversation.id, "payload": {"type": "text", "text": "/count"}});
    conversation.sent.lock().await.push_back(Instant::now());
    let ok = http
        .post(format!("{chat}/messages"))
        .header("x-user-key", &conversation.key)
        .json(&body)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    if !ok {
        conversation.sent.lock().await.pop_back();
    }
}

/// Waits (up to ten seconds) until every message sent has been answered.
async fn settle(conversations: &[Arc<Conversation>]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    for c in conversations {
        while !c.sent.lock().await.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn report(
    backend: &str,
    phase: &str,
    elapsed: Duration,
    stats: &Stats,
    conversations: &[Arc<Conversation>],
) {
    let mut latencies: Vec<Duration> =
        std::mem::take(&mut *stats.latencies.lock().await).into_iter().map(|(_, l)| l).collect();
    latencies.sort();
    let mut unanswered = 0;
    for c in conversations {
        unanswered += c.sent.lock().await.drain(..).count();
    }
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "| {backend} | {phase} | {:.0} | {:.1} | {:.1} | {:.1} | {unanswered} |",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    );
}

/// Reads the conversation's event stream; each bot message answers the oldest message sent.
async fn listen(
    http: &reqwest::Client,
    chat: &str,
    conversation: Arc<Conversation>,
    stats: Arc<Stats>,
) -> anyhow::Result<()> {
    let mut replies = crate::server::bot_messages(http, chat, &conversation.key, &conversation.id).await?;
    tokio::spawn(async move {
        while replies.recv().await.is_some() {
            if let Some(sent) = conversation.sent.lock().await.pop_front() {
                stats.latencies.lock().await.push((Instant::now(), sent.elapsed()));
            }
            conversation.answered.notify_one();
        }
    });
    Ok(())
}
