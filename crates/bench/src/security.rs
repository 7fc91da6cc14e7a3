//! Two measurements of issue-9 defences, each next to its baseline in the same run:
//!
//! - **Noisy neighbour**: the round trip of `/ping` to a quiet bot (message in, answer read back)
//!   while another workspace keeps six `while (true) {}` scripts running, next to the same pings
//!   on an idle server.
//! - **Sign-in storm**: the process's resident memory while 250 sign-ins arrive at once, over its
//!   resident memory when idle, and how they were answered (password hashing is bounded).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::memory::PeakRss;
use crate::server::{BenchServer, start_server};

#[derive(clap::Args)]
pub struct Args {
    /// Pings measured in each phase.
    #[arg(long, default_value_t = 200)]
    pings: usize,
    /// Concurrent sign-ins in the storm.
    #[arg(long, default_value_t = 250)]
    sign_ins: usize,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    println!("{} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    println!();
    noisy_neighbour(&args).await?;
    println!();
    sign_in_storm(&args).await
}

/// A bot with one command, started; returns its Chat API base URL.
async fn bot(server: &BenchServer, key: &str, command: &str, code: &str) -> anyhow::Result<String> {
    let BenchServer { base, http, .. } = server;
    let bot: Value = http
        .post(format!("{base}/v2/bots?api_key={key}"))
        .json(&json!({"name": "bench"}))
        .send()
        .await?
        .json()
        .await?;
    let id = bot["id"].as_i64().context("bot id")?;
    http.post(format!("{base}/v2/bots/{id}/commands?api_key={key}"))
        .json(&json!({"command": command, "bjs_code": code}))
        .send()
        .await?
        .error_for_status()?;
    http.post(format!("{base}/v2/bots/{id}/status?api_key={key}"))
        .json(&json!({"status": "start_launch"}))
        .send()
        .await?
        .error_for_status()?;
    Ok(format!("{base}/chat/{}", bot["web_channel_id"].as_str().context("webhook")?))
}

async fn say(
    http: &reqwest::Client,
    chat: &str,
    (key, id): &(String, String),
    text: &str,
) -> anyhow::Result<()> {
    http.post(format!("{chat}/messages"))
        .header("x-user-key", key)
        .json(&json!({"conversationId": id, "payload": {"type": "text", "text": text}}))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// How many messages the conversation has.
async fn count(http: &reqwest::Client, chat: &str, (key, id): &(String, String)) -> anyhow::Result<usize> {
    let mut total = 0;
    let mut token = String::new();
    loop {
        let page: Value = http
            .get(format!("{chat}/conversations/{id}/messages?nextToken={token}"))
            .header("x-user-key", key)
            .send()
            .await?
            .json()
            .await?;
        total += page["messages"].as_array().map_or(0, Vec::len);
        match page["meta"]["nextToken"].as_str() {
            Some(t) => token = t.to_owned(),
            None => return Ok(total),
        }
    }
}

/// Round trips of `/ping`: sent, then the answer's event read from the conversation's stream.
async fn pings(
    http: &reqwest::Client,
    chat: &str,
    conv: &(String, String),
    n: usize,
) -> anyhow::Result<Vec<Duration>> {
    let answers = Arc::new(tokio::sync::Notify::new());
    let mut replies = crate::server::bot_messages(http, chat, &conv.0, &conv.1).await?;
    let heard = answers.clone();
    let listening = tokio::spawn(async move {
        while replies.recv().await.is_some() {
            heard.notify_one();
        }
    });
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let answered = answers.notified();
        say(http, chat, conv, "/ping").await?;
        tokio::time::timeout(Duration::from_secs(30), answered).await.context("no answer within 30 s")?;
        times.push(started.elapsed());
    }
    listening.abort();
    times.sort();
    Ok(times)
}

fn ms(times: &[Duration], p: f64) -> f64 {
    times
        .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

async fn noisy_neighbour(args: &Args) -> anyhow::Result<()> {
    let server =
        start_server(botyard_store::Backend::Sqlite, |c| c.sandbox.default_time_limit_secs = 10).await?;
    let http = server.http.clone();
    let quiet = bot(&server, &server.api_key, "/ping", "Bot.sendMessage('pong')").await?;
    // A second account: another workspace, whose bot spins.
    let other: Value = http
        .post(format!("{}/v2/auth", server.base))
        .json(&json!({"email": "noisy@example.com", "password": "benchmark password"}))
        .send()
        .await?
        .json()
        .await?;
    let noisy_key = other["api_key"].as_str().context("api key")?.to_owned();
    let noisy = bot(&server, &noisy_key, "/spin", "while (true) {}").await?;
    let conv = crate::server::conversation(&http, &quiet).await?;

    let idle = pings(&http, &quiet, &conv, args.pings).await?;

    // Six chats keep a spinning script running: each sends /spin again when the last one ended.
    let spinning = Arc::new(AtomicBool::new(true));
    let mut spinners = Vec::new();
    for _ in 0..6 {
        let chat = crate::server::conversation(&http, &noisy).await?;
        let (http, noisy, spinning) = (http.clone(), noisy.clone(), spinning.clone());
        spinners.push(tokio::spawn(async move {
            while spinning.load(Ordering::Relaxed) {
                let before = count(&http, &noisy, &chat).await.unwrap_or(0);
                if say(&http, &noisy, &chat, "/spin").await.is_err() {
                    return;
                }
                while spinning.load(Ordering::Relaxed)
                    && count(&http, &noisy, &chat).await.unwrap_or(0) < before + 2
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let busy = pings(&http, &quiet, &conv, args.pings).await?;
    spinning.store(false, Ordering::Relaxed);
    for spinner in spinners {
        let _ = spinner.await;
    }
    println!("| `/ping` round trip, SQLite | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|");
    println!("| idle server | {:.1} | {:.1} | {:.1} |", ms(&idle, 0.5), ms(&idle, 0.99), ms(&idle, 1.0));
    println!(
        "| another workspace runs six `while (true) {{}}` | {:.1} | {:.1} | {:.1} |",
        ms(&busy, 0.5),
        ms(&busy, 0.99),
        ms(&busy, 1.0)
    );
    println!("| ratio busy / idle, p99 | {:.2} | | |", ms(&busy, 0.99) / ms(&idle, 0.99).max(0.001));
    server.server.stop().await?;
    Ok(())
}

async fn sign_in_storm(args: &Args) -> anyhow::Result<()> {
    let server = start_server(botyard_store::Backend::Sqlite, |_| {}).await?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.sign_ins).build()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let peak = PeakRss::start();
    let (idle, _) = peak.mib();
    let base = server.base.clone();
    let started = Instant::now();
    let attempts: Vec<_> = (0..args.sign_ins)
        .map(|i| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                // Unknown emails cost a full password hash too, and none is throttled here.
                let body = json!({"email": format!("user{i}@example.com"), "password": "a wrong password"});
                http.post(format!("{base}/v2/auth/sign_in"))
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    for attempt in attempts {
        let status = attempt.await?.unwrap_or(0);
        *statuses.entry(status).or_insert(0) += 1;
    }
    let took = started.elapsed();
    let (top, over) = peak.mib();
    println!("| {} sign-ins at once, SQLite | MiB |", args.sign_ins);
    println!("|---|---:|");
    println!("| resident when idle | {idle:.0} |");
    println!("| peak resident during the storm | {top:.0} |");
    println!("| peak over idle | {over:.0} |");
    let answers: Vec<String> = statuses.iter().map(|(s, n)| format!("{n}× {s}")).collect();
    println!();
    println!(
        "Answered in {:.1} s: {} (401: checked and refused; 503: refused unchecked, the hashing queue was full).",
        took.as_secs_f64(),
        answers.join(", ")
    );
    server.server.stop().await?;
    Ok(())
}
