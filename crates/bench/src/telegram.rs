//! Telegram benchmark, against a fake Bot API on loopback started here:
//!
//! 1. a broadcast over 1,000,000 chats (inserted straight into the database): the time from the
//!    command calling `Bot.runAll` until the broadcast job has counted its chats and reached the
//!    first ones, and the process's peak memory while it does;
//! 2. the delivery rate of a broadcast over a fixed window against the configured rate;
//! 3. updates to replies: a burst of `/start` updates from distinct chats, answered through the
//!    whole pipeline (getUpdates, routing, the command, the outbox, sendMessage), per second.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{Path, State};
use botyard_store::Backend;
use serde_json::{Value, json};

use crate::memory::PeakRss;
use crate::server::{BenchServer, start_server};

#[derive(clap::Args)]
pub struct Args {
    /// Chats of the broadcast-enqueue measurement.
    #[arg(long, default_value_t = 1_000_000)]
    chats: u64,
    /// Broadcast rate of the delivery measurement, per second.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Seconds of the delivery measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Updates of the throughput measurement.
    #[arg(long, default_value_t = 5_000)]
    updates: u64,
}

const TOKEN: &str = "4242:bench";

/// A Bot API that serves queued updates at once and counts sends.
#[derive(Clone, Default)]
struct Fake {
    updates: Arc<Mutex<VecDeque<Value>>>,
    sends: Arc<Mutex<Vec<Instant>>>,
}

async fn fake_api(
    State(fake): State<Fake>,
    Path((_, method)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    let params: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let result = match method.as_str() {
        "getMe" => json!({"id": 1, "is_bot": true, "first_name": "Bench", "username": "bench_bot"}),
        "getUpdates" => {
            let offset = params["offset"].as_i64().unwrap_or(0);
            let batch: Vec<Value> = {
                let mut queue = fake.updates.lock().unwrap();
                queue.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                queue.iter().take(100).cloned().collect()
            };
            if batch.is_empty() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Value::Array(batch)
        }
        "sendMessage" => {
            fake.sends.lock().unwrap().push(Instant::now());
            json!({"message_id": 1, "chat": {"id": params["chat_id"]}, "date": 0})
        }
        _ => json!(true),
    };
    axum::Json(json!({"ok": true, "result": result}))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let fake = Fake::default();
    let app = Router::new().route("/{bot}/{method}", axum::routing::post(fake_api)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("| backend | measurement | result | goal |");
    println!("|---|---|---|---|");
    for backend in botyard_store::testing::backends() {
        backend_run(backend, &api, &fake, &args).await?;
    }
    Ok(())
}

async fn backend_run(backend: Backend, api: &str, fake: &Fake, args: &Args) -> anyhow::Result<()> {
    let name = crate::server::name(backend);
    let bench = start_server(backend, |config| {
        config.jobs.poll_interval_ms = 10;
        config.telegram.api_base = api.to_owned();
        config.telegram.poll_timeout_secs = 1;
        config.telegram.per_chat_per_second = 1000.0;
        config.telegram.per_bot_per_second = args.rate.max(1000);
        config.telegram.broadcast_per_second = args.rate;
        config.telegram.paid_broadcasts = true;
    })
    .await?;
    let BenchServer { server, base, http, api_key: key, database_url, keep: _keep, .. } = bench;
    let v2 = |path: &str| format!("{base}/v2{path}?api_key={key}");
    let bot: Value =
        http.post(v2("/bots")).json(&json!({"name": "bench", "token": TOKEN})).send().await?.json().await?;
    let bot = bot["id"].as_i64().context("bot id")?;
    for command in [
        json!({"command": "/start", "answer": "hi"}),
        json!({"command": "/news", "bjs_code": "Bot.sendMessage('news')"}),
        json!({"command": "/bc", "bjs_code": "Bot.runAll({command: '/news', for_chats: 'private-chats'})"}),
    ] {
        http.post(v2(&format!("/bots/{bot}/commands"))).json(&command).send().await?.error_for_status()?;
    }

    // 3 first (the chat table is small): updates to replies.
    let sent_before = fake.sends.lock().unwrap().len();
    {
        let mut queue = fake.updates.lock().unwrap();
        for i in 0..args.updates as i64 {
            queue.push_back(json!({"update_id": i + 1, "message": {"message_id": i + 1, "date": 0,
                "from": {"id": 1_000 + i, "is_bot": false, "first_name": "U"}, "chat": {"id": 1_000 + i, "type": "private"}, "text": "/start"}}));
        }
    }
    let started = Instant::now();
    http.post(v2(&format!("/bots/{bot}/status")))
        .json(&json!({"status": "start_launch"}))
        .send()
        .await?
        .error_for_status()?;
    let target = sent_before + args.updates as usize;
    wait(|| fake.sends.lock().unwrap().len() >= target, Duration::from_secs(300)).await?;
    let took = started.elapsed();
    println!(
        "| {name} | updates → replies through the fake Bot API | {} updates in {:.2} s: {:.0} replies/s | — |",
        args.updates,
        took.as_secs_f64(),
        args.updates as f64 / took.as_secs_f64()
    );

    // 1: a million chats, then a broadcast.
    insert_chats(&database_url, backend, bot, args.chats).await?;
    let peak = PeakRss::start();
    let started = Instant::now();
    fake.updates.lock().unwrap().push_back(json!({"update_id": 10_000_000, "message": {"message_id": 1, "date": 0,
        "from": {"id": 1_000, "is_bot": false, "first_name": "U"}, "chat": {"id": 1_000, "type": "private"}, "text": "/bc"}}));
    let tasks = v2(&format!("/bots/{bot}/broadcast_tasks"));
    let mut enqueued = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while enqueued.is_none() {
        let list: Value = http.get(&tasks).send().await?.json().await?;
        if list[0]["cur_position"].as_i64().unwrap_or(0) > 0 {
            enqueued = Some(started.elapsed());
        }
        if Instant::now() > deadline {
            bail!("the broadcast did not start: {list}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let enqueued = enqueued.unwrap_or_default();
    let total = args.chats + args.updates;
    println!(
        "| {name} | broadcast over {total} chats: `Bot.runAll` to the first chat reached | {:.2} s | ≤ 10 s on SQLite |",
        enqueued.as_secs_f64()
    );

    // 2: the delivery rate over a window, once the broadcast runs steadily.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let window_start = Instant::now();
    let before = fake.sends.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let after = fake.sends.lock().unwrap().len();
    let measured = (after - before) as f64 / window_start.elapsed().as_secs_f64();
    let (peak_mib, added) = peak.mib();
    drop(peak);
    println!(
        "| {name} | broadcast delivery over {} s at {} chats/s configured | {measured:.1} messages/s ({:+.1} %) | within ±2 % |",
        args.seconds,
        args.rate,
        (measured / f64::from(args.rate) - 1.0) * 100.0
    );
    println!(
        "| {name} | peak RSS of the process during the broadcast | {peak_mib:.0} MiB (+{added:.0}) | ≤ 200 MiB |"
    );
    let list: Value = http.get(&tasks).send().await?.json().await?;
    let id = list[0]["id"].as_i64().context("task id")?;
    http.delete(format!("{base}/v2/bots/{bot}/broadcast_tasks/{id}?api_key={key}")).send().await?;
    server.stop().await?;
    Ok(())
}

async fn wait(done: impl Fn() -> bool, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    while !done() {
        if Instant::now() > deadline {
            bail!("timed out");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Adds `n` private Telegram chats with their users straight into the database.
async fn insert_chats(url: &str, backend: Backend, bot: i64, n: u64) -> anyhow::Result<()> {
    use sqlx::Connection;
    let started = Instant::now();
    let series = match backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"
        ),
        Backend::Postgres => format!("SELECT i FROM generate_series(1, {n}) AS s(i)"),
    };
    let chats = format!(
        "INSERT INTO chats (bot_id, channel, external_id, chat_type, blocked, bot_blocked, created_at, updated_at) \
         SELECT {bot}, 'telegram', CAST(10000000 + i AS TEXT), 'private', 0, 0, 0, 0 FROM ({series}) AS n"
    );
    let users = format!(
        "INSERT INTO bot_users (bot_id, channel, external_id, first_name, created_at, updated_at) \
         SELECT {bot}, 'telegram', CAST(10000000 + i AS TEXT), 'U', 0, 0 FROM ({series}) AS n"
    );
    match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await?;
            sqlx::query(sqlx::AssertSqlSafe(chats)).execute(&mut conn).await?;
            sqlx::query(sqlx::AssertSqlSafe(users)).execute(&mut conn).await?;
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await?;
            sqlx::query(sqlx::AssertSqlSafe(chats)).execute(&mut conn).await?;
            sqlx::query(sqlx::AssertSqlSafe(users)).execute(&mut conn).await?;
        }
    }
    eprintln!("inserted {n} chats in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
