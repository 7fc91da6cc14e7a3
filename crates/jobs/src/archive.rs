//! botyard's own archive: a whole bot in one ZIP file — its settings and Botpress definition,
//! command folders, commands, libraries, admin panels, Kore.ai components and, when asked for,
//! its bot properties — and bot copies, which are an export and an import without the file.
//!
//! ```text
//! botyard.json     {"format":"botyard","version":1,"exportedAt":…,"bot":{name, dev, csvUrl,
//!                   gitRemote, definition},"folders":[…]}
//! commands.json    [{command, help, answer, keyboard, needReply, autoRetryTime, group, code,
//!                    aliases, folder, createdViaCsvImport}]
//! libs.json        [{name, code, storeId?}]
//! panels.json      [{name, document}]
//! components.json  [{kind, refId, name, document}]
//! properties.json  [{name, type, value}]   (only when exported with properties)
//! ```
//!
//! The Telegram token is not carried (one token serves one bot), nor the bot's users, chats and
//! their properties, which belong to channels. An archive is checked whole — paths, sizes, zip
//! bombs, every command, library and the definition — before anything is written, and the new bot
//! is created with all its content in one transaction.

use botyard_core::{NewBot, Services};
use botyard_domain::bot::{Bot, BotDefinition};
use botyard_domain::command::{CommandDraft, CommandFields};
use botyard_domain::content::{AdminPanel, BotContent, BotProperty, CommandContent, Lib};
use botyard_domain::job::Job;
use botyard_domain::koreai::Component;
use botyard_domain::{BotRef, Error, Result, Timestamp, WorkspaceId};
use botyard_store::{ContentStore, FileStore, JobEnd, JobStore};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::files::{Entry, new_file, read_zip, write_zip};
use crate::{JobContext, catalog};

pub const FORMAT: &str = "botyard";
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    format: String,
    version: u32,
    #[serde(default)]
    exported_at: Option<String>,
    bot: BotFields,
    #[serde(default)]
    folders: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BotFields {
    name: String,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    csv_url: Option<String>,
    #[serde(default)]
    git_remote: Option<String>,
    #[serde(default)]
    definition: BotDefinition,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CommandRecord {
    command: String,
    #[serde(default)]
    help: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    keyboard: String,
    #[serde(default)]
    need_reply: bool,
    #[serde(default)]
    auto_retry_time: Option<i64>,
    #[serde(default)]
    group: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    folder: Option<String>,
    #[serde(default)]
    created_via_csv_import: bool,
}

impl CommandRecord {
    fn of(c: &CommandContent) -> Self {
        let d = &c.draft;
        Self {
            command: d.command.clone(),
            help: d.help.clone(),
            answer: d.answer.clone(),
            keyboard: d.keyboard.clone(),
            need_reply: d.need_reply,
            auto_retry_time: d.auto_retry_time,
            group: d.group.clone(),
            code: d.code.clone(),
            aliases: d.aliases.clone(),
            folder: c.folder.clone(),
            created_via_csv_import: c.created_via_csv_import,
        }
    }

    fn into_content(self) -> Result<CommandContent> {
        let name = self.command.clone();
        let draft = CommandDraft::new(CommandFields {
            command: Some(self.command),
            help: Some(self.help),
            answer: Some(self.answer),
            keyboard: Some(self.keyboard),
            need_reply: Some(self.need_reply),
            auto_retry_time: Some(self.auto_retry_time),
            folder_id: None,
            group: Some(self.group),
            code: Some(self.code),
            aliases: Some(self.aliases),
        })
        .map_err(|e| Error::new(e.code, format!("commands.json, command \"{name}\": {}", e.message)))?;
        Ok(CommandContent { draft, folder: self.folder, created_via_csv_import: self.created_via_csv_import })
    }
}

fn to_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(|e| Error::internal(format!("encoding the archive: {e}")))
}

/// The archive of a bot.
pub fn write(bot: &Bot, content: &BotContent) -> Result<Vec<u8>> {
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        exported_at: Some(Timestamp::now().to_rfc3339()),
        bot: BotFields {
            name: bot.name.clone(),
            dev: bot.dev,
            csv_url: bot.csv_url.clone(),
            git_remote: bot.git_remote.clone(),
            definition: bot.definition.clone(),
        },
        folders: content.folders.clone(),
    };
    let commands: Vec<CommandRecord> = content.commands.iter().map(CommandRecord::of).collect();
    let mut entries = vec![
        Entry { path: "botyard.json".into(), content: to_bytes(&manifest)? },
        Entry { path: "commands.json".into(), content: to_bytes(&commands)? },
        Entry { path: "libs.json".into(), content: to_bytes(&content.libs)? },
        Entry { path: "panels.json".into(), content: to_bytes(&content.panels)? },
        Entry { path: "components.json".into(), content: to_bytes(&content.components)? },
    ];
    if let Some(properties) = &content.properties {
        entries.push(Entry { path: "properties.json".into(), content: to_bytes(properties)? });
    }
    write_zip(&entries)
}

/// Reads and checks an archive: the bot's fields and its content.
pub fn read(bytes: &[u8], max_unpacked: u64) -> Result<(BotFieldsRead, BotContent)> {
    let entries = read_zip(bytes, max_unpacked)?;
    let file = |name: &str| entries.iter().find(|e| e.path == name).map(|e| e.content.as_slice());
    let parse = |name: &str| -> Result<Option<Value>> {
        file(name)
            .map(|bytes| {
                serde_json::from_slice(bytes)
                    .map_err(|e| Error::invalid(format!("{name} is not valid JSON: {e}")))
            })
            .transpose()
    };
    let manifest: Manifest = serde_json::from_value(
        parse("botyard.json")?
            .ok_or_else(|| Error::invalid("Not a botyard archive: it has no botyard.json"))?,
    )
    .map_err(|e| Error::invalid(format!("botyard.json: {e}")))?;
    if manifest.format != FORMAT || manifest.version != VERSION {
        return Err(Error::invalid(format!(
            "Not a botyard archive of version {VERSION} (format \"{}\", version {})",
            manifest.format, manifest.version
        )));
    }
    manifest
        .bot
        .definition
        .validate()
        .map_err(|e| Error::new(e.code, format!("botyard.json: {}", e.message)))?;
    let list = |name: &str| -> Result<Value> { Ok(parse(name)?.unwrap_or(json!([]))) };
    let commands: Vec<CommandRecord> = serde_json::from_value(list("commands.json")?)
        .map_err(|e| Error::invalid(format!("commands.json: {e}")))?;
    let libs: Vec<Lib> =
        serde_json::from_value(list("libs.json")?).map_err(|e| Error::invalid(format!("libs.json: {e}")))?;
    let panels: Vec<AdminPanel> = serde_json::from_value(list("panels.json")?)
        .map_err(|e| Error::invalid(format!("panels.json: {e}")))?;
    let components: Vec<Component> = serde_json::from_value(list("components.json")?)
        .map_err(|e| Error::invalid(format!("components.json: {e}")))?;
    let properties: Option<Vec<BotProperty>> = parse("properties.json")?
        .map(|v| serde_json::from_value(v).map_err(|e| Error::invalid(format!("properties.json: {e}"))))
        .transpose()?;
    if let Some(properties) = &properties {
        for p in properties {
            botyard_domain::property::check_name(&p.name)?;
            botyard_domain::property::typed_value(&p.name, p.value.clone(), Some(p.kind))
                .map_err(|e| Error::new(e.code, format!("properties.json, {}: {}", p.name, e.message)))?;
        }
    }
    let content = BotContent {
        folders: manifest.folders.clone(),
        commands: commands.into_iter().map(CommandRecord::into_content).collect::<Result<_>>()?,
        libs,
        panels,
        components,
        properties,
    };
    content.check()?;
    let fields = BotFieldsRead {
        name: manifest.bot.name,
        dev: manifest.bot.dev,
        csv_url: manifest.bot.csv_url,
        git_remote: manifest.bot.git_remote,
        definition: manifest.bot.definition,
    };
    Ok((fields, content))
}

/// The bot's own fields an archive carries.
#[derive(Debug, Clone)]
pub struct BotFieldsRead {
    pub name: String,
    pub dev: bool,
    pub csv_url: Option<String>,
    pub git_remote: Option<String>,
    pub definition: BotDefinition,
}

/// A new bot of `workspace` with the fields of `source`.
fn new_bot(workspace: &WorkspaceId, job: &Job, name: &str, source: BotFieldsRead) -> Result<Bot> {
    let mut bot = Services::prepare_bot(
        workspace,
        job.created_by,
        NewBot { name: Some(name.to_owned()), dev: source.dev, ..NewBot::default() },
    )?;
    bot.csv_url = source.csv_url;
    bot.git_remote = source.git_remote;
    bot.definition = source.definition;
    bot.definition.validate()?;
    Ok(bot)
}

pub async fn run_export(ctx: &JobContext, job: &Job) -> Result<()> {
    let services = ctx.services();
    let number = job.bot.ok_or_else(|| Error::internal("an export job without its bot"))?;
    let bot = services.find_bot(&BotRef::Number(number)).await?.ok_or_else(|| Error::not_found("Bot"))?;
    let with_properties = job.params.get("properties").and_then(Value::as_bool).unwrap_or(false);
    let content = ctx.store().bot_content(number, with_properties).await?;
    let archive = botyard_core::cpu::in_place(|| write(&bot, &content))?;
    let name = format!("{}.botyard.zip", bot.name.replace(['/', '\\', '"'], "_"));
    let file = new_file(&ctx.jobs, &bot.workspace_id, &name, "zip", "export", archive);
    ctx.store().put_file(&file).await?;
    let details = json!({
        "fileId": file.id,
        "fileName": name,
        "size": file.content.len(),
        "commands": content.commands.len(),
        "libs": content.libs.len(),
        "components": content.components.len(),
    });
    ctx.store().finish_job(&ctx.lease, &JobEnd::Succeeded { details, bot: Some(number) }).await?;
    Ok(())
}

pub async fn run_import(ctx: &JobContext, job: &Job) -> Result<()> {
    let services = ctx.services();
    let workspace =
        job.workspace_id.clone().ok_or_else(|| Error::internal("an import without its workspace"))?;
    let file_id = ctx.param("fileId").ok_or_else(|| Error::internal("an archive import without its file"))?;
    let bytes = ctx.file(file_id, "archive").await?;
    let max = services.config.jobs.unpacked_max_bytes;
    let (fields, content) = botyard_core::cpu::in_place(|| read(&bytes, max))?;
    ctx.progress(json!({"step": "checked", "commands": content.commands.len()}), true).await?;
    let name = ctx.param("name").map(str::to_owned).unwrap_or_else(|| fields.name.clone());
    let bot = new_bot(&workspace, job, &name, fields)?;
    create(ctx, &bot, &content).await
}

/// Copies a bot of the caller's (or a demo of the store) into the job's workspace.
pub async fn run_copy(ctx: &JobContext, job: &Job) -> Result<()> {
    let services = ctx.services();
    let workspace =
        job.workspace_id.clone().ok_or_else(|| Error::internal("a copy without its workspace"))?;
    let (fields, content) = match (job.params.get("sourceBot").and_then(Value::as_i64), ctx.param("demo")) {
        (Some(number), _) => {
            let source =
                services.find_bot(&BotRef::Number(number)).await?.ok_or_else(|| Error::not_found("Bot"))?;
            let with_properties = job.params.get("properties").and_then(Value::as_bool).unwrap_or(false);
            let content = ctx.store().bot_content(number, with_properties).await?;
            let fields = BotFieldsRead {
                name: format!("{} (copy)", source.name),
                dev: source.dev,
                csv_url: source.csv_url,
                git_remote: source.git_remote,
                definition: source.definition,
            };
            (fields, content)
        }
        (None, Some(demo)) => catalog::demo_bot(demo)?,
        (None, None) => return Err(Error::internal("a copy without its source")),
    };
    let name: String =
        ctx.param("name").map(str::to_owned).unwrap_or(fields.name.clone()).chars().take(100).collect();
    let bot = new_bot(&workspace, job, &name, fields)?;
    create(ctx, &bot, &content).await
}

async fn create(ctx: &JobContext, bot: &Bot, content: &BotContent) -> Result<()> {
    let details = |number: i64| {
        // What the job said when it was enqueued (a copy's source bot) stays.
        let mut details = ctx.job.details.clone();
        let added = json!({
            "botId": bot.id.as_str(),
            "botNumber": number,
            "name": bot.name,
            "commands": content.commands.len(),
            "libs": content.libs.len(),
            "components": content.components.len(),
        });
        if let (Value::Object(d), Value::Object(a)) = (&mut details, added.clone()) {
            d.extend(a);
            details
        } else {
            added
        }
    };
    ctx.store()
        .create_bot_with_content(&ctx.lease, bot, content, |number| JobEnd::Succeeded {
            details: details(number),
            bot: Some(number),
        })
        .await?;
    Ok(())
}
