//! botyard's benchmarks. Each prints a Markdown table for docs/BENCHMARKS.md.
//!
//! `botyard-bench imports`: import times and peak memory (see `imports.rs`).
//!
//! `botyard-bench telegram-webhook`: the same `/count` bot in botyard and in grammY (Node.js),
//! fed the same webhook updates, replying to the same fake Bot API (see `webhook.rs`).
//!
//! `botyard-bench security`: a quiet bot's latency next to another workspace's spinning scripts,
//! and memory under a storm of sign-ins (see `security.rs`).
//!
//! `botyard-bench runtime`: messages through the web channel (HTTP in, Server-Sent Events out) to a
//! command whose code reads and writes a user property and replies — the most a closed loop of
//! users can push, then latency at a fixed offered rate — on SQLite and (with
//! `BOTYARD_TEST_POSTGRES_URL` set) PostgreSQL; and the sandbox's cost per run next to a bare QuickJS context-create-and-call.
//!
//! `botyard-bench koreai`: the Kore.ai dialog engine on the real exports — held-out intent and
//! FAQ accuracy, detection latency per message, memory of a compiled bot — each next to a naive
//! baseline measured in the same run (see `koreai.rs`).
//!
//! `botyard-bench sdk-bot`: a real `@botpress/sdk` echo bot served at its `url` next to the same
//! behaviour as sandboxed `code`, through the web chat in a closed loop (see `sdk_bot.rs`).

mod imports;
mod koreai;
mod memory;
mod runtime;
mod sdk_bot;
mod security;
mod server;
mod telegram;
mod webhook;

use clap::{Parser, Subcommand};

/// The allocator the `botyard` binary uses, so that memory figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "botyard-bench", about = "botyard's benchmarks")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// End-to-end message throughput and latency, and the sandbox's cost per run.
    Runtime(runtime::Args),
    /// Import times and peak memory: the Vaxie Kore.ai export, a large CSV, a git repository.
    Imports(imports::Args),
    /// Telegram: broadcast enqueue over a million chats, delivery rate, update-to-reply throughput.
    Telegram(telegram::Args),
    /// Telegram webhook: a `/count` bot in botyard next to the same bot in grammY (Node.js).
    TelegramWebhook(webhook::Args),
    /// A quiet bot's latency beside six spinning scripts, and memory under a sign-in storm.
    Security(security::Args),
    /// Kore.ai dialog engine: held-out accuracy, detection latency, memory of a compiled bot.
    Koreai(koreai::Args),
    /// Botpress SDK bots: an `@botpress/sdk` bot at its url next to the same bot as sandboxed code.
    SdkBot(sdk_bot::Args),
}

fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    // The in-process server's logs, when asked for (`RUST_LOG=sqlx::query=debug` lists every
    // statement a message costs).
    if std::env::var_os("RUST_LOG").is_some() {
        botyard::logging::init(&botyard_core::config::LogConfig::default());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.bench {
        Bench::Runtime(args) => runtime.block_on(runtime::run(args)),
        Bench::Imports(args) => runtime.block_on(imports::run(args)),
        Bench::Telegram(args) => runtime.block_on(telegram::run(args)),
        Bench::TelegramWebhook(args) => runtime.block_on(webhook::run(args)),
        Bench::Security(args) => runtime.block_on(security::run(args)),
        Bench::Koreai(args) => koreai::run(args),
        Bench::SdkBot(args) => runtime.block_on(sdk_bot::run(args)),
    }
}
