//! Starting jobs: the use cases every dialect calls, with the caller's access checked. Each
//! returns the enqueued job; its handler does the work in the background.

use botyard_core::{BotAccess, Caller, WorkspaceAccess};
use botyard_domain::job::{Job, JobKind, NewJob};
use botyard_domain::{Error, ErrorCode, Result, Timestamp, UserId, WorkspaceId};
use botyard_store::{FileStore, JobStore, StoredFile};
use serde_json::{Value, json};

use crate::files::new_file;
use crate::{Jobs, bb_csv, bb_git, catalog, koreai};

/// Iterations a CSV or git import or export costs (Bots.Business's rule).
pub const TRANSFER_ITERATIONS: u64 = 5;

/// Where a CSV import reads its sheet.
#[derive(Debug, Clone)]
pub enum CsvSource {
    /// An uploaded sheet.
    Upload(Vec<u8>),
    /// A URL; `None` means the bot's `csv_url`.
    Url(Option<String>),
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
        self.services().store.put_file(&file).await?;
        Ok(file)
    }

    pub async fn import_csv(&self, access: &BotAccess, caller: &Caller, source: CsvSource) -> Result<Job> {
        access.role.require_write()?;
        let bot = &access.bot;
        let params = match source {
            CsvSource::Upload(bytes) => {
                let file = self.upload(&bot.workspace_id, "commands.csv", "csv", "csvImport", bytes).await?;
                json!({"fileId": file.id})
            }
            CsvSource::Url(url) => {
                let url = url.or_else(|| bot.csv_url.clone()).ok_or_else(|| {
                    Error::invalid("The bot has no csv_url: upload a CSV file or give a csv_url")
                })?;
                bb_csv::csv_url(&url)?;
                json!({"url": url})
            }
        };
        let mut job = self.job_for(JobKind::CsvImport, &bot.workspace_id, caller, params);
        job.bot = Some(bot.number);
        job.details = json!({"new_count": 0, "updated_count": 0, "destroyed_count": 0});
        let job = self.enqueue(job).await?;
        self.count_iterations(bot, TRANSFER_ITERATIONS).await?;
        Ok(job)
    }

    /// Counts iterations to the bot's workspace (Bots.Business: a CSV or git import or export
    /// costs 5).
    async fn count_iterations(&self, bot: &botyard_domain::bot::Bot, iterations: u64) -> Result<()> {
        use botyard_store::RunStore;
        let effects = botyard_domain::effects::RunEffects {
            bot: bot.number,
            workspace: Some(bot.workspace_id.clone()),
            iterations,
            ..Default::default()
        };
        self.services().store.commit_runs(&[effects], Timestamp::now()).await?;
        Ok(())
    }

    /// Imports commands and libraries from `remote` (default: the bot's `git_remote`).
    pub async fn import_git(
        &self,
        access: &BotAccess,
        caller: &Caller,
        remote: Option<String>,
        branch: Option<String>,
    ) -> Result<Job> {
        self.git_job(JobKind::GitImport, access, caller, remote, branch).await
    }

    /// Exports commands and libraries to a new branch (default `BB_Export_<time>`).
    pub async fn export_git(
        &self,
        access: &BotAccess,
        caller: &Caller,
        remote: Option<String>,
        branch: Option<String>,
    ) -> Result<Job> {
        let branch = branch.unwrap_or_else(|| botyard_domain::content::git_export_branch(Timestamp::now()));
        self.git_job(JobKind::GitExport, access, caller, remote, Some(branch)).await
    }

    async fn git_job(
        &self,
        kind: JobKind,
        access: &BotAccess,
        caller: &Caller,
        remote: Option<String>,
        branch: Option<String>,
    ) -> Result<Job> {
        access.role.require_write()?;
        let bot = &access.bot;
        let remote =
            remote.filter(|r| !r.trim().is_empty()).or_else(|| bot.git_remote.clone()).unwrap_or_default();
        let settings = &self.services().config.jobs;
        let limits = bb_git::remote::Limits {
            file_max_bytes: settings.git_file_max_bytes,
            total_max_bytes: settings.unpacked_max_bytes,
            local_remotes: settings.git_local_remotes,
        };
        bb_git::remote::check_remote(&remote, limits)?;
        if let Some(b) = &branch
            && (b.is_empty() || b.len() > 200 || !git2_ref_ok(b))
        {
            return Err(Error::invalid(format!("\"{b}\" is not a valid branch name")));
        }
        let mut job =
            self.job_for(kind, &bot.workspace_id, caller, json!({"remote": remote.trim(), "branch": branch}));
        job.bot = Some(bot.number);
        self.enqueue(job).await
    }

    /// Exports the bot as a botyard archive.
    pub async fn export_archive(&self, access: &BotAccess, caller: &Caller, properties: bool) -> Result<Job> {
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
        workspace.role.require_write()?;
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

    /// Copies a bot into a workspace of the caller (its own by default).
    pub async fn copy_bot(
        &self,
        source: &BotAccess,
        target: &WorkspaceAccess,
        name: Option<String>,
        properties: bool,
    ) -> Result<Job> {
        target.role.require_write()?;
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
        target.role.require_write()?;
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

    /// Starts a Kore.ai export of a bot for an app of its workspace.
    pub async fn export_kore(
        &self,
        bot: &botyard_domain::bot::Bot,
        user: Option<UserId>,
        export_type: &str,
    ) -> Result<Job> {
        let mut job =
            self.job_by(JobKind::KoreExport, &bot.workspace_id, user, json!({"exportType": export_type}));
        job.bot = Some(bot.number);
        self.enqueue(job).await
    }

    /// A job the caller may see: one of a workspace they belong to.
    pub async fn visible_job(&self, caller: &Caller, job: Option<Job>) -> Result<Job> {
        let job = job.ok_or_else(|| Error::not_found("Job"))?;
        let Some(workspace) = job.workspace_id.clone() else { return Err(Error::not_found("Job")) };
        match self.services().workspace_access(caller.clone(), workspace).await {
            Ok(_) => Ok(job),
            Err(e) if e.code == ErrorCode::Forbidden => Err(Error::not_found("Job")),
            Err(e) => Err(e),
        }
    }

    /// The bot's broadcasts, newest first.
    pub async fn broadcasts(&self, access: &BotAccess) -> Result<Vec<Job>> {
        use botyard_store::BroadcastStore;
        self.services().store.bot_jobs(access.bot.number, JobKind::Broadcast, 100).await
    }

    /// Pauses (`pause`), resumes (`None`) or cancels (`cancel`) a broadcast of the bot.
    pub async fn control_broadcast(&self, access: &BotAccess, id: i64, control: Option<&str>) -> Result<Job> {
        use botyard_store::BroadcastStore;
        access.role.require_write()?;
        let job =
            self.job(id).await?.filter(|j| j.kind == JobKind::Broadcast && j.bot == Some(access.bot.number));
        let job = job.ok_or_else(|| Error::not_found("Broadcast task"))?;
        if !self.services().store.set_job_control(job.id, control).await? {
            return Err(Error::conflict(format!("The broadcast has ended ({})", job.status.as_str())));
        }
        self.inner.wake.notify_waiters();
        self.job(id).await?.ok_or_else(|| Error::not_found("Broadcast task"))
    }

    /// Cancels a job that has not started; `false` when it has.
    pub async fn cancel(&self, id: i64) -> Result<bool> {
        self.services().store.cancel_job(id, Timestamp::now()).await
    }

    pub async fn job_by_uid(&self, uid: &str) -> Result<Option<Job>> {
        self.services().store.job_by_uid(uid).await
    }
}

/// Git's rules for a branch name, as far as they matter here.
fn git2_ref_ok(name: &str) -> bool {
    !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name
            .chars()
            .any(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
}
