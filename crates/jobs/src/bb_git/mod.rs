//! Bots.Business git synchronisation: import a bot's commands and libraries from a repository in
//! the Bots.Business format ([`format`]), or export them to a new `BB_Export_<time>` branch.

pub mod format;
pub mod remote;

use botyard_core::cache_sync::Change;
use botyard_domain::job::Job;
use botyard_domain::{BotRef, Error, Result};
use botyard_store::{BotFieldsUpdate, ContentParts, ContentStore, JobEnd, JobStore};
use serde_json::json;

use crate::JobContext;
use format::BotJson;

pub fn limits(settings: &botyard_core::config::JobsSettings) -> remote::Limits {
    remote::Limits {
        file_max_bytes: settings.git_file_max_bytes,
        total_max_bytes: settings.unpacked_max_bytes,
        settings: settings.clone(),
    }
}

/// Runs a git transfer on a blocking thread; a network remote goes through a fresh outbound
/// tunnel, and what the tunnel refused (a denied host, the size or time limit) is the error
/// reported rather than libgit2's account of the broken connection.
async fn transfer<T: Send + 'static>(
    ctx: &JobContext,
    remote: &str,
    work: impl FnOnce(Option<&remote::Route>) -> Result<T> + Send + 'static,
) -> Result<T> {
    let services = ctx.services();
    let network = remote.trim().starts_with("http://") || remote.trim().starts_with("https://");
    let tunnel = if network { Some(services.git_tunnel(remote).await?) } else { None };
    let route = tunnel.as_ref().map(|t| remote::Route { proxy: t.url().to_owned() });
    let outcome = tokio::task::spawn_blocking(move || work(route.as_ref()))
        .await
        .map_err(|e| Error::internal(format!("git worker: {e}")))?;
    match (outcome, tunnel.and_then(|t| t.refusal())) {
        (Err(_), Some(refusal)) => Err(refusal),
        (outcome, _) => outcome,
    }
}

pub async fn run_import(ctx: &JobContext, job: &Job) -> Result<()> {
    let services = ctx.services();
    let number = job.bot.ok_or_else(|| Error::internal("a git import without its bot"))?;
    let remote_url =
        ctx.param("remote").ok_or_else(|| Error::invalid("A git import needs a remote"))?.to_owned();
    let branch = ctx.param("branch").map(str::to_owned);
    let limits = limits(&services.config.jobs);
    let source = remote_url.clone();
    let entries = transfer(ctx, &source, move |route| {
        remote::fetch_files(&remote_url, branch.as_deref(), limits, route)
    })
    .await?;
    let (bot_json, content) = format::read(&entries)?;
    let bot = services.find_bot(&BotRef::Number(number)).await?.ok_or_else(|| Error::not_found("Bot"))?;
    let name = Some(bot_json.name.clone())
        .filter(|n| !n.trim().is_empty())
        .map(|n| botyard_domain::bot::changes::check_name(&n))
        .transpose()?;
    let fields = BotFieldsUpdate { name, csv_url: Some(bot_json.csv_url.clone()) };
    let details = json!({"commands_count": content.commands.len(), "libs_count": content.libs.len()});
    let parts = ContentParts { commands: true, libs: true, ..ContentParts::default() };
    let end = JobEnd::Succeeded { details, bot: Some(number) };
    ctx.store().replace_content(&ctx.lease, number, &content, parts, &fields, &end).await?;
    services.changed(Change::Commands(number)).await;
    services.changed(Change::Bot(bot.id)).await;
    Ok(())
}

pub async fn run_export(ctx: &JobContext, job: &Job) -> Result<()> {
    let services = ctx.services();
    let number = job.bot.ok_or_else(|| Error::internal("a git export without its bot"))?;
    let remote_url =
        ctx.param("remote").ok_or_else(|| Error::invalid("A git export needs a remote"))?.to_owned();
    let branch =
        ctx.param("branch").ok_or_else(|| Error::internal("a git export without its branch"))?.to_owned();
    let bot = services.find_bot(&BotRef::Number(number)).await?.ok_or_else(|| Error::not_found("Bot"))?;
    let content = ctx.store().bot_content(number, false).await?;
    let bot_json =
        BotJson { name: bot.name.clone(), csv_url: bot.csv_url.clone(), git_remote: bot.git_remote.clone() };
    let entries = format::write(&bot_json, &content);
    let limits = limits(&services.config.jobs);
    let message = format!("Export of {} from botyard", bot.name);
    let pushed = branch.clone();
    let existing = if job.params.get("force").and_then(serde_json::Value::as_bool).unwrap_or(false) {
        remote::Existing::Overwrite
    } else {
        remote::Existing::Refuse
    };
    let target = remote_url.clone();
    let commit = transfer(ctx, &target, move |route| {
        remote::push_files(&remote_url, &pushed, &entries, &message, limits, route, existing)
    })
    .await?;
    let details = json!({"branch": branch, "commit": commit, "commands_count": content.commands.len(), "libs_count": content.libs.len()});
    ctx.store().finish_job(&ctx.lease, &JobEnd::Succeeded { details, bot: Some(number) }).await?;
    Ok(())
}
