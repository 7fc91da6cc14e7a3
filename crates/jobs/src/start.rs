//! Starting jobs: the use cases every dialect calls, with the caller's access checked. Each
//! returns the enqueued job; its handler does the work in the background.

use botyard_core::transfers::Transfer;
use botyard_core::{BotAccess, Caller, WorkspaceAccess};
use botyard_domain::job::{Job, JobKind, NewJob};
use botyard_domain::{Error, ErrorCode, Result, Timestamp, UserId, WorkspaceId};
use botyard_store::{FileStore, JobStore, StoredFile};
use serde_json::{Value, json};

use crate::files::new_file;
use crate::{Jobs, catalog, koreai};

/// A transfer to start from the API: a CSV sheet uploaded with the request, or any other.
#[derive(Debug, Clone)]
pub enum TransferRequest {
    /// An uploaded sheet.
    UploadedCsv(Vec<u8>),
    Transfer(Transfer),
}

impl Jobs {
    fn job_for(&self, kind: JobKind, workspace: &WorkspaceId, caller: &Caller, params: Value) -> NewJob {
        self.job_by(kind, workspace, Some(caller.user.id), params)
    }

    fn job_by(&self, kind: JobKind, workspace: &WorkspaceId, user: Option<UserId>, params: Value) -> NewJob {
        let mut job = NewJob::new(kind, params);
        job.workspace_id = Some(workspace.clone());
        job.created_by = user;
        job.max_attempts = self.services().config.jobs.max_attempts;
        job
    }

    /// Stores an upload of the workspace, checking its size (callers check the right to write).
    pub async fn upload(
        &self,
        workspace: &WorkspaceId,
        name: &str,
        extension: &str,
        context: &str,
        content: Vec<u8>,
    ) -> Result<StoredFile> {
        let max = self.services().config.jobs.upload_max_bytes;
        if content.len() > max {
            return Err(Error::new(
                ErrorCode::PayloadTooLarge,
                format!("Files may be at most {} MiB", max / (1024 * 1024)),
            ));
        }
        if content.is_empty() {
            return Err(Error::invalid("The file is empty"));
        }
        let file = new_file(self, workspace, name, extension, context, content);
        self.store().put_file(&file).await?;
        Ok(file)
    }

    /// Starts a CSV import or a git import or export of the bot, within the workspace's quota.
    pub async fn start_transfer(
        &self,
        access: &BotAccess,
        caller: &Caller,
        transfer: TransferRequest,
    ) -> Result<Job> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let bot = &access.bot;
        let transfer = match transfer {
            TransferRequest::UploadedCsv(bytes) => {
                let file = self.upload(&bot.workspace_id, "commands.csv", "csv", "csvImport", bytes).await?;
                Transfer::CsvFile { file_id: file.id }
            }
            TransferRequest::Transfer(transfer) => transfer,
        };
        let job = self.services().transfer_job(bot, Some(caller.user.id), transfer)?;
        self.services().require_iterations(&bot.workspace_id, job.cost).await?;
        self.enqueue(job).await
    }

    /// Exports the bot as a botyard archive.
    pub async fn export_archive(&self, access: &BotAccess, caller: &Caller, properties: bool) -> Result<Job> {
        access.role.require(botyard_domain::access::Permission::ExportBots)?;
        let mut job = self.job_for(
            JobKind::ArchiveExport,
            &access.bot.workspace_id,
            caller,
            json!({"properties": properties}),
        );
        job.bot = Some(access.bot.number);
        self.enqueue(job).await
    }

    /// Imports a botyard archive as a new bot of the workspace.
    pub async fn import_archive(
        &self,
        workspace: &WorkspaceAccess,
        bytes: Vec<u8>,
        name: Option<String>,
    ) -> Result<Job> {
        workspace.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let file =
            self.upload(&workspace.workspace, "bot.botyard.zip", "zip", "archiveImport", bytes).await?;
        let job = self.job_for(
            JobKind::ArchiveImport,
            &workspace.workspace,
            &workspace.caller,
            json!({"fileId": file.id, "name": name}),
        );
        self.enqueue(job).await
    }

    /// Imports an uploaded bot as a new bot of the workspace, whatever it is: a Kore.ai export
    /// (a ZIP holding `botDefinition.json`, or the bot definition JSON itself) becomes a Kore.ai
    /// import, anything else is read as a botyard archive.
    pub async fn import_upload(
        &self,
        workspace: &WorkspaceAccess,
        bytes: Vec<u8>,
        name: Option<String>,
    ) -> Result<Job> {
        workspace.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let files = match upload_kind(&bytes) {
            UploadKind::Archive => return self.import_archive(workspace, bytes, name).await,
            UploadKind::KoreZip => {
                let file =
                    self.upload(&workspace.workspace, "export.zip", "zip", "bulkImport", bytes).await?;
                koreai::ImportFiles {
                    upload_mode: "ZIP".into(),
                    zip_info: Some(file.id),
                    ..Default::default()
                }
            }
            UploadKind::KoreJson => {
                let file = self
                    .upload(&workspace.workspace, "botDefinition.json", "json", "bulkImport", bytes)
                    .await?;
                koreai::ImportFiles {
                    upload_mode: "JSON".into(),
                    bot_definition: Some(file.id),
                    ..Default::default()
                }
            }
        };
        let request_name = name.clone().unwrap_or_default();
        let target = koreai::ImportTarget::NewBot { name, purpose: None };
        let user = Some(workspace.caller.user.id);
        self.import_kore(&workspace.workspace, user, target, files, &request_name).await
    }

    /// The workspace's jobs of every kind, newest first.
    pub async fn workspace_jobs(&self, workspace: &WorkspaceAccess, limit: u32) -> Result<Vec<Job>> {
        self.store().workspace_jobs(&workspace.workspace, limit).await
    }

    /// Copies a bot into a workspace of the caller (its own by default).
    pub async fn copy_bot(
        &self,
        source: &BotAccess,
        target: &WorkspaceAccess,
        name: Option<String>,
        properties: bool,
    ) -> Result<Job> {
        source.role.require(botyard_domain::access::Permission::ExportBots)?;
        target.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let params = json!({"sourceBot": source.bot.number, "name": name, "properties": properties});
        let mut job = self.job_for(JobKind::BotCopy, &target.workspace, &target.caller, params);
        job.details = json!({"sourceBot": source.bot.number});
        self.enqueue(job).await
    }

    /// Installs a demo bot of the store into the workspace.
    pub async fn install_demo(
        &self,
        target: &WorkspaceAccess,
        demo: &str,
        name: Option<String>,
    ) -> Result<Job> {
        target.role.require(botyard_domain::access::Permission::ChangeBots)?;
        catalog::demo(demo).ok_or_else(|| Error::not_found("Demo bot"))?;
        let job = self.job_for(
            JobKind::BotCopy,
            &target.workspace,
            &target.caller,
            json!({"demo": demo, "name": name}),
        );
        self.enqueue(job).await
    }

    /// Starts a Kore.ai import for an app of the workspace (its creator is the job's author).
    pub async fn import_kore(
        &self,
        workspace: &WorkspaceId,
        user: Option<UserId>,
        target: koreai::ImportTarget,
        files: koreai::ImportFiles,
        request_name: &str,
    ) -> Result<Job> {
        let mut job = self.job_by(JobKind::KoreImport, workspace, user, Value::Null);
        koreai::prepare_import(&mut job, target, files, request_name)?;
        self.enqueue(job).await
    }

    /// Starts a Kore.ai export of (the part `selection` chooses of) a bot for an app of its
    /// workspace; refuses names of tasks the bot does not have.
    pub async fn export_kore(
        &self,
        bot: &botyard_domain::bot::Bot,
        user: Option<UserId>,
        export_type: &str,
        selection: botyard_domain::koreai::ExportSelection,
    ) -> Result<Job> {
        let mut job =
            self.job_by(JobKind::KoreExport, &bot.workspace_id, user, json!({"exportType": export_type}));
        koreai::prepare_export(self, &mut job, bot.number, selection).await?;
        self.enqueue(job).await
    }

    /// The bot's broadcasts, newest first.
    pub async fn broadcasts(&self, access: &BotAccess) -> Result<Vec<Job>> {
        use botyard_store::BroadcastStore;
        self.store().bot_jobs(access.bot.number, JobKind::Broadcast, 100).await
    }

    /// Pauses (`pause`), resumes (`None`) or cancels (`cancel`) a broadcast of the bot.
    pub async fn control_broadcast(&self, access: &BotAccess, id: i64, control: Option<&str>) -> Result<Job> {
        use botyard_store::BroadcastStore;
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let job =
            self.job(id).await?.filter(|j| j.kind == JobKind::Broadcast && j.bot == Some(access.bot.number));
        let job = job.ok_or_else(|| Error::not_found("Broadcast task"))?;
        if !self.store().set_job_control(job.id, control).await? {
            return Err(Error::conflict(format!("The broadcast has ended ({})", job.status.as_str())));
        }
        self.inner.wake.notify_waiters();
        self.job(id).await?.ok_or_else(|| Error::not_found("Broadcast task"))
    }

    /// Cancels a job that has not started; `false` when it has.
    pub async fn cancel(&self, id: i64) -> Result<bool> {
        self.store().cancel_job(id, Timestamp::now()).await
    }

    pub async fn job_by_uid(&self, uid: &str) -> Result<Option<Job>> {
        self.store().job_by_uid(uid).await
    }
}

/// What an uploaded bot is, from its first bytes (and a ZIP's file names).
enum UploadKind {
    Archive,
    KoreZip,
    KoreJson,
}

fn upload_kind(bytes: &[u8]) -> UploadKind {
    let text = bytes.iter().position(|b| !b.is_ascii_whitespace()).map(|i| bytes[i]);
    if text == Some(b'{') {
        return UploadKind::KoreJson;
    }
    let kore_zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map(|zip| zip.file_names().flatten().any(|n| n.rsplit('/').next() == Some("botDefinition.json")))
        .unwrap_or(false);
    if kore_zip { UploadKind::KoreZip } else { UploadKind::Archive }
}
