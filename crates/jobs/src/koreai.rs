//! Kore.ai bot definitions in and out.
//!
//! An import reads its uploaded files (JSON mode: `botDefinition`, `configInfo`, `icon`,
//! `botFunctions`; ZIP mode: an export archive), checks every component and logs it in Kore.ai's
//! order, then — only if every component passed — creates the bot with its components, or merges
//! them into the target bot, in one transaction with the job's end. A file that is not a bot
//! definition fails the import at once, saying so; an incremental import logs, checks and
//! changes only the parts its `importOptions` choose. An export writes the part of the bot's
//! components its `exportOptions` and `subTasks` choose back as Kore.ai's archive
//! (`botDefinition.json`, `config.json`, `icon.png`, bot functions) and stores it for download.

use botyard_core::{NewBot, Services};
use botyard_domain::bot::Origin;
use botyard_domain::content::BotContent;
use botyard_domain::job::{Job, NewJob};
use botyard_domain::koreai::{self, ExportSelection, ImportOptions, KoreFiles, StatusLog};
use botyard_domain::{BotRef, Error, Result};
use botyard_store::{BotFieldsUpdate, ContentParts, ContentStore, FileStore, JobEnd, JobStore};
use serde::Serialize;
use serde_json::{Value, json};

use crate::files::{Entry, new_file, read_zip, write_zip};
use crate::{JobContext, Jobs};

/// Where an import goes.
#[derive(Debug, Clone)]
pub enum ImportTarget {
    /// A new bot in the job's workspace.
    NewBot { name: Option<String>, purpose: Option<String> },
    /// An existing bot (by number); `options` absent means a full import.
    Existing { bot: i64, options: Option<Value> },
}

/// What a client asked to import (file ids).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportFiles {
    pub upload_mode: String,
    pub bot_definition: Option<String>,
    pub config_info: Option<String>,
    pub icon: Option<String>,
    pub bot_functions: Vec<String>,
    pub zip_info: Option<String>,
}

/// Fills in an import job; the first status log line says the request was accepted.
pub(crate) fn prepare_import(
    job: &mut NewJob,
    target: ImportTarget,
    files: ImportFiles,
    request_name: &str,
) -> Result<()> {
    let mut params = serde_json::to_value(&files).map_err(|e| Error::internal(e.to_string()))?;
    match target {
        ImportTarget::NewBot { name, purpose } => {
            params["name"] = json!(name);
            params["purpose"] = json!(purpose);
        }
        ImportTarget::Existing { bot, options } => {
            job.bot = Some(bot);
            params["importOptions"] = options.unwrap_or(Value::Null);
            params["existing"] = json!(true);
        }
    }
    job.params = params;
    job.details = json!({"statusLogs": [StatusLog::success("importRequest", request_name)]});
    Ok(())
}

pub async fn run_import(ctx: &JobContext, job: &Job) -> Result<()> {
    let mut logs: Vec<StatusLog> = job
        .details
        .get("statusLogs")
        .and_then(|l| serde_json::from_value(l.clone()).ok())
        .unwrap_or_default();
    logs.truncate(1);
    let existing = job.params.get("existing").and_then(Value::as_bool).unwrap_or(false);
    let mut files = match read_files(ctx).await {
        Ok(files) => files,
        Err(e) => {
            logs.push(StatusLog::failed("Bot Definition", &request_name(ctx), e.message.clone()));
            return fail(ctx, logs, e).await;
        }
    };
    let name = ctx
        .param("name")
        .map(str::to_owned)
        .or_else(|| koreai::bot_name(&files))
        .unwrap_or_else(|| "Imported bot".to_owned());
    if logs.first().is_some_and(|l| l.task_name.is_empty()) {
        logs[0].task_name = name.clone();
    }
    if let Err(reason) = koreai::check_definition(&files.definition) {
        logs.push(StatusLog::failed("Bot Definition", &name, reason.clone()));
        return fail(ctx, logs, Error::invalid(reason)).await;
    }
    // An incremental import logs, and is stopped by, only the parts it takes.
    let options: Option<ImportOptions> = match job.params.get("importOptions") {
        Some(raw) if existing && !raw.is_null() => Some(
            serde_json::from_value(raw.clone()).map_err(|e| Error::invalid(format!("importOptions: {e}")))?,
        ),
        _ => None,
    };
    if let Some(options) = &options {
        options.restrict_files(&mut files);
    }
    let stream_ref = files.definition.get("refId").and_then(Value::as_str).unwrap_or(&job.uid).to_owned();
    let split = botyard_core::cpu::in_place(|| koreai::split(&files, &name));
    let split = match &options {
        Some(options) => options.restrict(split),
        None => split,
    };
    for log in split.logs.iter().cloned() {
        logs.push(log);
        ctx.progress(json!({"statusLogs": logs, "streamRefId": stream_ref}), false).await?;
    }
    let failures = split.failures();
    if failures > 0 {
        let reason = format!("{failures} component(s) could not be imported; nothing was changed");
        logs.push(StatusLog::failed("importBot", &name, reason.clone()));
        return fail(ctx, logs, Error::invalid(reason)).await;
    }
    ctx.failpoint("koreai.import")?;
    let services = ctx.services();
    let workspace =
        job.workspace_id.clone().ok_or_else(|| Error::internal("an import job without a workspace"))?;
    if existing {
        let number = job.bot.ok_or_else(|| Error::internal("an import into a bot without the bot"))?;
        let bot = services.find_bot(&BotRef::Number(number)).await?.ok_or_else(|| Error::not_found("Bot"))?;
        let current = ctx.store().components(number).await?;
        let components = koreai::merge(current, split.components, options.as_ref());
        logs.push(StatusLog::success("importBot", &bot.name));
        let details =
            json!({"statusLogs": logs, "streamRefId": stream_ref, "streamId": format!("st-{}", bot.id)});
        let content = BotContent { components, ..BotContent::default() };
        let parts = ContentParts { components: true, ..ContentParts::default() };
        let end = JobEnd::Succeeded { details, bot: Some(number) };
        ctx.store()
            .replace_content(&ctx.lease, number, &content, parts, &BotFieldsUpdate::default(), &end)
            .await?;
        services.changed(botyard_core::cache_sync::Change::Bot(bot.id)).await;
    } else {
        let bot = Services::prepare_bot(
            &workspace,
            job.created_by,
            NewBot { name: Some(clip(&name)), origin: Origin::KoreAi, ..NewBot::default() },
        )?;
        let mut components = split.components;
        if let (Some(purpose), Some(settings)) =
            (ctx.param("purpose"), components.iter_mut().find(|c| c.kind == koreai::ComponentKind::Settings))
        {
            settings.document["purpose"] = json!(purpose);
        }
        logs.push(StatusLog::success("importBot", &bot.name));
        let details =
            json!({"statusLogs": logs, "streamRefId": stream_ref, "streamId": format!("st-{}", bot.id)});
        let content = BotContent { components, ..BotContent::default() };
        ctx.store()
            .create_bot_with_content(&ctx.lease, &bot, &content, |number| JobEnd::Succeeded {
                details,
                bot: Some(number),
            })
            .await?;
    }
    Ok(())
}

/// Bot names are at most 100 characters in botyard.
fn clip(name: &str) -> String {
    name.chars().take(100).collect::<String>().trim().to_owned()
}

fn request_name(ctx: &JobContext) -> String {
    ctx.job.details["statusLogs"][0]["taskName"].as_str().unwrap_or("bot").to_owned()
}

async fn fail(ctx: &JobContext, logs: Vec<StatusLog>, error: Error) -> Result<()> {
    let end = JobEnd::Failed {
        details: Some(json!({"statusLogs": logs})),
        error: botyard_domain::job::JobError::from_error(&error),
    };
    ctx.store().finish_job(&ctx.lease, &end).await?;
    Ok(())
}

/// Reads the uploaded files of the import.
async fn read_files(ctx: &JobContext) -> Result<KoreFiles> {
    let mode = ctx.param("uploadMode").unwrap_or("JSON");
    if mode.eq_ignore_ascii_case("ZIP") {
        let id = ctx.param("zipInfo").ok_or_else(|| Error::invalid("zipInfo is required in ZIP mode"))?;
        let bytes = ctx.file(id, "zipInfo").await?;
        let max = ctx.services().config.jobs.unpacked_max_bytes;
        let entries = botyard_core::cpu::in_place(|| read_zip(&bytes, max))?;
        return files_from_entries(entries);
    }
    let definition_id =
        ctx.param("botDefinition").ok_or_else(|| Error::invalid("botDefinition is required"))?;
    let definition = parse_json(&ctx.file(definition_id, "botDefinition").await?, "botDefinition")?;
    let config = match ctx.param("configInfo") {
        Some(id) => Some(parse_json(&ctx.file(id, "configInfo").await?, "configInfo")?),
        None => None,
    };
    let icon = match ctx.param("icon") {
        Some(id) => Some(ctx.file(id, "icon").await?),
        None => None,
    };
    let mut functions = Vec::new();
    for id in ctx.job.params["botFunctions"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let file = ctx.store().file(id, botyard_domain::Timestamp::now()).await?;
        let file =
            file.filter(|f| Some(&f.workspace_id) == ctx.job.workspace_id.as_ref()).ok_or_else(|| {
                Error::invalid(format!("botFunctions: the file {id} does not exist or has expired"))
            })?;
        let code = String::from_utf8(file.content)
            .map_err(|_| Error::invalid(format!("{} is not UTF-8 text", file.name)))?;
        functions.push((file.name, code));
    }
    Ok(KoreFiles { definition, config, icon, functions })
}

/// The files of a Kore.ai export archive, found by name wherever they are in it.
fn files_from_entries(entries: Vec<Entry>) -> Result<KoreFiles> {
    let mut files = KoreFiles::default();
    let mut definition = None;
    for entry in entries {
        let base = entry.path.rsplit('/').next().unwrap_or(&entry.path).to_owned();
        match base.as_str() {
            "botDefinition.json" => definition = Some(parse_json(&entry.content, "botDefinition.json")?),
            "config.json" => files.config = Some(parse_json(&entry.content, "config.json")?),
            "icon.png" => files.icon = Some(entry.content),
            name if name.ends_with(".js") => {
                let code = String::from_utf8(entry.content)
                    .map_err(|_| Error::invalid(format!("{name} is not UTF-8 text")))?;
                files.functions.push((name.to_owned(), code));
            }
            _ => {}
        }
    }
    files.definition = definition.ok_or_else(|| Error::invalid("The archive has no botDefinition.json"))?;
    Ok(files)
}

fn parse_json(bytes: &[u8], what: &str) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| Error::invalid(format!("{what} is not valid JSON: {e}")))
}

/// JSON as Kore.ai writes its exports: indented with four spaces.
pub fn pretty(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Writing a Value to memory cannot fail.
    let _ = value.serialize(&mut serializer);
    out
}

/// The archive of a bot's Kore.ai definition.
pub fn export_archive(files: &KoreFiles) -> Result<Vec<u8>> {
    let mut entries = vec![Entry { path: "botDefinition.json".into(), content: pretty(&files.definition) }];
    if let Some(config) = &files.config {
        entries.push(Entry { path: "config.json".into(), content: pretty(config) });
    }
    if let Some(icon) = &files.icon {
        entries.push(Entry { path: "icon.png".into(), content: icon.clone() });
    }
    for (name, code) in &files.functions {
        entries.push(Entry { path: name.clone(), content: code.clone().into_bytes() });
    }
    write_zip(&entries)
}

/// Fills in an export job: what it holds, after checking that every task it names is the bot's
/// (it is checked again when the export runs, against the bot as it is then).
pub(crate) async fn prepare_export(
    jobs: &Jobs,
    job: &mut NewJob,
    bot: i64,
    selection: ExportSelection,
) -> Result<()> {
    if !selection.is_full() {
        let components = jobs.store().components(bot).await?;
        botyard_core::cpu::in_place(|| selection.check_against(&components))?;
    }
    job.bot = Some(bot);
    job.params["selection"] = serde_json::to_value(&selection).map_err(|e| Error::internal(e.to_string()))?;
    Ok(())
}

pub async fn run_export(ctx: &JobContext, job: &Job) -> Result<()> {
    let services = ctx.services();
    let number = job.bot.ok_or_else(|| Error::internal("an export job without its bot"))?;
    let bot = services.find_bot(&BotRef::Number(number)).await?.ok_or_else(|| Error::not_found("Bot"))?;
    let selection: ExportSelection = match job.params.get("selection") {
        None | Some(Value::Null) => ExportSelection::default(),
        Some(raw) => serde_json::from_value(raw.clone())
            .map_err(|e| Error::internal(format!("an export job's selection: {e}")))?,
    };
    let components = ctx.store().components(number).await?;
    let files =
        botyard_core::cpu::in_place(|| koreai::export(&components, bot.id.as_str(), &bot.name, &selection))?;
    let archive = botyard_core::cpu::in_place(|| export_archive(&files))?;
    ctx.failpoint("koreai.export")?;
    let name = format!("{}.zip", bot.name.replace(['/', '\\', '"'], "_"));
    let file = new_file(&ctx.jobs, &bot.workspace_id, &name, "zip", "export", archive);
    ctx.store().put_file(&file).await?;
    let details = json!({"fileId": file.id, "fileSize": file.content.len().to_string(), "fileName": name});
    ctx.store().finish_job(&ctx.lease, &JobEnd::Succeeded { details, bot: Some(number) }).await?;
    Ok(())
}
