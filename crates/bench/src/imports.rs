//! Import benchmark: the Vaxie Kore.ai export, a generated 100,000-row Bots.Business CSV and a
//! 1,000-command git repository, each imported through the API and timed from the request to the
//! job's end, with the process's peak memory during it; next to each, the floor — reading and
//! checking the same input without the server, database or queue — measured in the same run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use botyard_domain::command::{CommandDraft, CommandFields};
use botyard_domain::content::{BotContent, CommandContent, Lib};
use botyard_domain::koreai::{self, KoreFiles};
use botyard_jobs::bb_git::{format, remote};
use botyard_store::Backend;
use serde_json::{Value, json};

use crate::memory::PeakRss;
use crate::server::{BenchServer, start_server};

#[derive(clap::Args)]
pub struct Args {
    /// Rows of the generated CSV.
    #[arg(long, default_value_t = 100_000)]
    csv_rows: usize,
    /// Commands of the generated git repository.
    #[arg(long, default_value_t = 1_000)]
    git_commands: usize,
}

/// The real Vaxie export, from the fixtures beside the repository.
const VAXIE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/koreai/vaxie");

pub async fn run(args: Args) -> anyhow::Result<()> {
    let csv = generate_csv(args.csv_rows);
    let repos = tempfile::tempdir()?;
    let repo = repos.path().join("bot.git");
    let settings = botyard_core::config::JobsSettings { git_local_remotes: true, ..Default::default() };
    let limits = remote::Limits { file_max_bytes: 1 << 20, total_max_bytes: 1 << 30, settings };
    let entries = format::write(
        &format::BotJson { name: "Generated".into(), csv_url: None, git_remote: None },
        &generate_bot(args.git_commands),
    );
    git2::Repository::init_bare(&repo)?;
    let path = repo.to_str().context("path")?;
    remote::push_files(
        path,
        "master",
        &entries,
        "generated",
        limits.clone(),
        None,
        remote::Existing::Refuse,
    )?;
    git2::Repository::open_bare(&repo)?.set_head("refs/heads/master")?;

    println!(
        "| backend | import | through the API, ms | peak RSS of the process, MiB (+ over its start) | floor: read and check only, ms |"
    );
    println!("|---|---|---:|---:|---:|");
    let floors = floors(&csv, &repo, limits)?;
    for backend in botyard_store::testing::backends() {
        backend_run(backend, &csv, &repo, args.csv_rows, args.git_commands, &floors).await?;
    }
    Ok(())
}

fn generate_csv(rows: usize) -> Vec<u8> {
    let mut out = String::from("command,answer,aliases,help,keyboard,need_reply,scenarios\n");
    for i in 0..rows {
        out.push_str(&format!(
            "/cmd{i},\"Answer number {i}, with a comma\",alias{i},Help for {i},\"Yes,No\\nBack\",false,\"Bot.sendMessage('{i}')\"\n"
        ));
    }
    out.into_bytes()
}

fn generate_bot(commands: usize) -> BotContent {
    let mut content = BotContent::default();
    for i in 0..commands {
        let draft = CommandDraft::new(CommandFields {
            command: Some(format!("/command{i}")),
            answer: Some(format!("Answer {i}\non two lines")),
            keyboard: Some("A,B\nC".into()),
            aliases: Some(vec![format!("c{i}")]),
            code: Some(format!("var n = {i};\nBot.sendMessage('command ' + n);\n")),
            ..CommandFields::default()
        })
        .expect("a valid command");
        let folder = (i % 10 == 0).then(|| format!("Folder {}", i / 100));
        content.commands.push(CommandContent { draft, folder, created_via_csv_import: false });
    }
    content.libs.push(Lib { name: "Helpers".into(), code: "publish({ x: 1 })".into(), store_id: None });
    content
}

/// The same inputs read and checked without the server: the part no server can avoid.
struct Floors {
    vaxie: Duration,
    csv: Duration,
    git: Duration,
}

fn floors(csv: &[u8], repo: &Path, limits: remote::Limits) -> anyhow::Result<Floors> {
    let definition = std::fs::read(Path::new(VAXIE).join("botDefinition.json"))?;
    let started = Instant::now();
    let files = KoreFiles { definition: serde_json::from_slice(&definition)?, ..KoreFiles::default() };
    let split = koreai::split(&files, "Vaxie");
    assert_eq!(split.failures(), 0);
    let vaxie = started.elapsed();
    let started = Instant::now();
    let rows = botyard_jobs::bb_csv::parse(csv).map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(!rows.is_empty());
    let csv = started.elapsed();
    let started = Instant::now();
    let entries = remote::fetch_files(repo.to_str().context("path")?, None, limits, None)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    format::read(&entries).map_err(|e| anyhow::anyhow!("{e}"))?;
    let git = started.elapsed();
    Ok(Floors { vaxie, csv, git })
}

async fn backend_run(
    backend: Backend,
    csv: &[u8],
    repo: &Path,
    rows: usize,
    commands: usize,
    floors: &Floors,
) -> anyhow::Result<()> {
    let name = crate::server::name(backend);
    let BenchServer { server, base, http, api_key: key, workspace, keep: _keep, .. } =
        start_server(backend, |config| {
            config.jobs.poll_interval_ms = 10;
            config.jobs.git_local_remotes = true;
        })
        .await?;
    let app: Value = http
        .post(format!("{base}/v2/workspaces/{workspace}/apps?api_key={key}"))
        .json(&json!({"name": "bench", "scopes": ["Bot Definition"]}))
        .send()
        .await?
        .json()
        .await?;
    let claims = json!({"appId": app["client_id"]});
    let secret = app["client_secret"].as_str().context("secret")?;
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?;

    // Vaxie: upload its files, then time the import.
    let mut ids = Vec::new();
    for (file, ext) in [("botDefinition.json", "json"), ("config.json", "json"), ("icon.png", "png")] {
        let part =
            reqwest::multipart::Part::bytes(std::fs::read(Path::new(VAXIE).join(file))?).file_name(file);
        let form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("fileContext", "bulkImport")
            .text("fileExtension", ext);
        let up: Value = http
            .post(format!("{base}/api/public/uploadfile"))
            .header("auth", &token)
            .multipart(form)
            .send()
            .await?
            .json()
            .await?;
        ids.push(up["fileId"].as_str().context("file id")?.to_owned());
    }
    let peak = PeakRss::start();
    let started = Instant::now();
    let body = json!({"botDefinition": ids[0], "configInfo": ids[1], "icon": ids[2]});
    let accepted: Value = http
        .post(format!("{base}/api/public/bot/import"))
        .header("auth", &token)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    let status_url =
        format!("{base}/api/public/bot/import/status/{}", accepted["_id"].as_str().context("bir")?);
    let done = wait(|| http.get(&status_url).header("auth", &token), |b| b["status"] != "pending").await?;
    let took = started.elapsed();
    if done["status"] != "success" {
        bail!("the Vaxie import failed: {done}");
    }
    row(name, "Vaxie (Kore.ai, 3.6 MB, 41 dialogs, 193 components)", took, peak.mib(), floors.vaxie);

    // CSV: a new bot, the sheet uploaded with the request.
    let bot: Value = http
        .post(format!("{base}/v2/bots?api_key={key}"))
        .json(&json!({"name": "csv"}))
        .send()
        .await?
        .json()
        .await?;
    let bot = bot["id"].as_i64().context("bot id")?;
    let peak = PeakRss::start();
    let started = Instant::now();
    let task: Value = http
        .post(format!("{base}/v2/bots/{bot}/csv_import_tasks?api_key={key}"))
        .header("content-type", "text/csv")
        .body(csv.to_vec())
        .send()
        .await?
        .json()
        .await?;
    let task_url = format!("{base}/v2/bots/{bot}/csv_import_tasks/{}?api_key={key}", task["task_id"]);
    let done =
        wait(|| http.get(&task_url), |b| !matches!(b["status"].as_str(), Some("pending" | "in_progress")))
            .await?;
    let took = started.elapsed();
    if done["status"] != "ok" || done["new_count"].as_u64() != Some(rows as u64) {
        bail!("the CSV import failed: {done}");
    }
    row(name, &format!("CSV, {rows} rows ({} MB)", csv.len() / 1_000_000), took, peak.mib(), floors.csv);

    // Git: a new bot, imported from the local bare repository.
    let bot: Value = http
        .post(format!("{base}/v2/bots?api_key={key}"))
        .json(&json!({"name": "git"}))
        .send()
        .await?
        .json()
        .await?;
    let bot = bot["id"].as_i64().context("bot id")?;
    let peak = PeakRss::start();
    let started = Instant::now();
    let task: Value = http
        .post(format!("{base}/v2/bots/{bot}/git_import?api_key={key}"))
        .json(&json!({"git_remote": repo_path(repo)}))
        .send()
        .await?
        .json()
        .await?;
    let task_url = format!("{base}/v2/bots/{bot}/tasks/{}?api_key={key}", task["task_id"]);
    let done =
        wait(|| http.get(&task_url), |b| !matches!(b["status"].as_str(), Some("pending" | "in_progress")))
            .await?;
    let took = started.elapsed();
    if done["status"] != "ok" {
        bail!("the git import failed: {done}");
    }
    row(name, &format!("git, {commands} commands"), took, peak.mib(), floors.git);
    server.stop().await?;
    Ok(())
}

fn repo_path(repo: &Path) -> String {
    PathBuf::from(repo).display().to_string()
}

fn row(backend: &str, what: &str, took: Duration, (peak, added): (f64, f64), floor: Duration) {
    println!(
        "| {backend} | {what} | {:.0} | {peak:.0} (+{added:.0}) | {:.0} |",
        took.as_secs_f64() * 1000.0,
        floor.as_secs_f64() * 1000.0
    );
}

async fn wait(
    request: impl Fn() -> reqwest::RequestBuilder,
    done: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let body: Value = request().send().await?.json().await?;
        if done(&body) {
            return Ok(body);
        }
        if Instant::now() > deadline {
            bail!("not done after 300 s: {body}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
