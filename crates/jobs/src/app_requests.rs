//! What Kore.ai apps ask of their workspace's files and bots besides starting jobs: uploads and
//! their ownership, the bot's functions scripts, the latest export and its archive. Each checks
//! that what it touches belongs to the app's workspace, and says "Invalid file id" otherwise, as
//! Kore.ai does.

use botyard_domain::app::ApiApp;
use botyard_domain::bot::Bot;
use botyard_domain::job::{Job, JobKind, JobStatus};
use botyard_domain::koreai::{BOT_FUNCTIONS_MAX_BYTES, Component, ComponentKind};
use botyard_domain::{Error, ErrorCode, Result, Timestamp};
use botyard_store::{ContentStore, FileStore, JobStore, StoredFile};
use serde_json::{Value, json};

use crate::Jobs;

fn invalid_file() -> Error {
    Error::new(ErrorCode::InvalidIdentifier, "Invalid file id")
}

/// A bot functions script to import: its name and the upload holding it.
#[derive(Debug, Clone)]
pub struct FunctionsFile {
    pub name: String,
    pub file_id: String,
}

impl Jobs {
    /// A live upload of the app's workspace.
    pub async fn app_file(&self, app: &ApiApp, id: &str) -> Result<StoredFile> {
        let file = self.store().file(id, Timestamp::now()).await?.ok_or_else(invalid_file)?;
        if file.workspace_id != app.workspace_id {
            return Err(invalid_file());
        }
        Ok(file)
    }

    /// Fails unless every named upload is a live file of the app's workspace.
    pub async fn check_app_files<'a>(
        &self,
        app: &ApiApp,
        ids: impl IntoIterator<Item = &'a String>,
    ) -> Result<()> {
        for id in ids {
            self.app_file(app, id).await?;
        }
        Ok(())
    }

    /// The bot's name in an uploaded `config.json`, if it says one.
    pub async fn uploaded_bot_name(&self, app: &ApiApp, config: &str) -> Option<String> {
        let file = self.app_file(app, config).await.ok()?;
        let config: Value = serde_json::from_slice(&file.content).ok()?;
        config.get("name").and_then(Value::as_str).map(str::to_owned)
    }

    /// Replaces the bot's functions scripts with the uploads named, all or none, under the bot's
    /// lock (an import running at the same time waits or goes first, never interleaves).
    pub async fn import_bot_functions(&self, app: &ApiApp, bot: &Bot, files: &[FunctionsFile]) -> Result<()> {
        if files.is_empty() {
            return Err(Error::invalid("Validation errors/ Invalid arguments"));
        }
        let mut functions = Vec::new();
        for f in files {
            let file = self.app_file(app, &f.file_id).await?;
            if file.content.len() > BOT_FUNCTIONS_MAX_BYTES {
                return Err(Error::limit(format!(
                    "{} is larger than {} KB",
                    f.name,
                    BOT_FUNCTIONS_MAX_BYTES / 1024
                )));
            }
            let code = String::from_utf8(file.content)
                .map_err(|_| Error::invalid(format!("{} is not UTF-8 text", f.name)))?;
            botyard_domain::text::refuse_nul(&f.name, &code)?;
            let name = f.name.trim().to_owned();
            if name.is_empty() || name.len() > 200 || name.contains(['/', '\\']) {
                return Err(Error::invalid("fileName must be a file name such as BotFunctions.js"));
            }
            functions.push(Component {
                kind: ComponentKind::BotFunction,
                ref_id: Some(name.clone()),
                name: name.clone(),
                document: json!({"fileName": name, "content": code}),
            });
        }
        self.store().replace_components_of_kind(bot.number, ComponentKind::BotFunction, &functions).await
    }

    /// The bot's latest Kore.ai export, and its archive's file id once it succeeded.
    pub async fn latest_kore_export(&self, bot: &Bot) -> Result<(Job, Option<String>)> {
        let job =
            self.store().latest_job(bot.number, JobKind::KoreExport).await?.ok_or_else(|| {
                Error::new(ErrorCode::InvalidIdentifier, "No export of this bot was requested")
            })?;
        let file = archive_of(&job).map(str::to_owned);
        Ok((job, file))
    }

    /// The archive of a finished export (Kore.ai or botyard's), while it is kept.
    pub async fn archive_of_export(&self, job: &Job) -> Result<StoredFile> {
        let id = archive_of(job).ok_or_else(|| {
            Error::conflict("The job has no archive to download (it is not a finished export)")
        })?;
        self.store()
            .file(id, Timestamp::now())
            .await?
            .ok_or_else(|| Error::not_found("Archive (it has expired: export the bot again)"))
    }

    /// An export archive of the app's workspace, by its file id (Kore.ai's download route).
    pub async fn app_export_archive(&self, app: &ApiApp, id: &str) -> Result<StoredFile> {
        let file = self.app_file(app, id).await?;
        if file.context != "export" {
            return Err(invalid_file());
        }
        Ok(file)
    }
}

/// The file id of a job's archive: only finished exports have one.
fn archive_of(job: &Job) -> Option<&str> {
    let exports = matches!(job.kind, JobKind::ArchiveExport | JobKind::KoreExport);
    (exports && job.status == JobStatus::Succeeded)
        .then(|| job.details.get("fileId").and_then(Value::as_str))
        .flatten()
}
