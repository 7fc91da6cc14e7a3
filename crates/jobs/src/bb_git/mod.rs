//! Bots.Business git synchronisation: import a bot's commands and libraries from a repository in
//! the Bots.Business format ([`format`]), or export them to a new `BB_Export_<time>` branch.

pub mod format;
pub mod remote;

use botyard_core::changes::Change;
use botyard_domain::job::Job;
use botyard_domain::{BotRef, Error, Result};
use botyard_store::{BotFieldsUpdate, ContentParts, ContentStore, JobEnd, JobStore};
use serde_json::json;

use crate::JobContext;
use format::BotJson;

fn limits(ctx: &JobContext) -> remote::Limits {
    let settings = &ctx.services().config.jobs;
    remote::Limits {
        file_max_bytes: settings.git_file_max_bytes,
        total_max_bytes: settings.unpacked_max_bytes,
        local_remotes: settings.git_local_remotes,
    }
}

pub async fn run_import(ctx: &JobContext, job: &Job) -> Result<()> {
    let services = ctx.services();
    let number = job.bot.ok_or_else(|| Error::internal("a git import without its bot"))?;
    let remote_url =
        ctx.param("remote").ok_or_else(|| Error::invalid("A git import needs a remote"))?.to_owned();
    let branch = ctx.param("branch").map(str::to_owned);
    let limits = limits(ctx);
    let entries =
        tokio::task::spawn_blocking(move || remote::fetch_files(&remote_url, branch.as_deref(), limits))
            .await
            .map_err(|e| Error::internal(format!("git worker: {e}")))??;
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
    services.store.replace_content(&ctx.lease, number, &content, parts, &fields, &end).await?;
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
    let content = services.store.bot_content(number, false).await?;
    let bot_json =
        BotJson { name: bot.name.clone(), csv_url: bot.csv_url.clone(), git_remote: bot.git_remote.clone() };
    let entries = format::write(&bot_json, &content);
    let limits = limits(ctx);
    let message = format!("Export of {} from botyard", bot.name);
    let pushed = branch.clone();
    let commit = tokio::task::spawn_blocking(move || {
        remote::push_files(&remote_url, &pushed, &entries, &message, limits)
    })
    .await
    .map_err(|e| Error::internal(format!("git worker: {e}")))??;
    let details = json!({"branch": branch, "commit": commit, "commands_count": content.commands.len(), "libs_count": content.libs.len()});
    services.store.finish_job(&ctx.lease, &JobEnd::Succeeded { details, bot: Some(number) }).await?;
    Ok(())
}
