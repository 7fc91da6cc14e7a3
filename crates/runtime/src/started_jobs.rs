//! What scripts start for later: delayed runs (`Bot.run` with `run_after`, cancelled by
//! `Bot.clearRunAfter`) and HTTP requests (`HTTP.get/post/put/patch/delete`) whose callback
//! commands run when they answer. Both become jobs enqueued with the run's effects, so a run that
//! fails starts nothing.

use botyard_core::transfers::Transfer;
use botyard_domain::Timestamp;
use botyard_domain::job::{JobKind, NewJob};
use botyard_sandbox::HostAnswer;
use botyard_store::JobStore;
use serde_json::{Map, Value, json};

use crate::host::{Answer, BjsHost};

/// The longest delay of a run.
pub const RUN_AFTER_MAX_SECS: f64 = 366.0 * 24.0 * 3600.0;
/// The largest request body a script may send.
pub const HTTP_BODY_MAX_BYTES: usize = 1024 * 1024;

impl BjsHost {
    fn new_job(&self, kind: JobKind, params: Value) -> NewJob {
        let mut job = NewJob::new(kind, params);
        job.workspace_id = Some(self.ctx.bot.workspace_id.clone());
        job.bot = Some(self.ctx.bot.number);
        job.max_attempts = self.ctx.services.config.jobs.max_attempts;
        job
    }

    /// Adds a job the run starts (enqueued only if the run commits), within the per-run cap and
    /// the quota: its cost counts as iterations of this run.
    fn start_job(&mut self, job: NewJob) -> Answer {
        self.check_quota(job.cost)?;
        self.spend(botyard_domain::effects::Capped::Jobs)?;
        self.effects.jobs.push(job);
        Ok(HostAnswer::Undefined)
    }

    /// The chat and user a later run happens in: the given `chat_id`/`user_id`, else this run's.
    fn where_later(&self, spec: &Map<String, Value>) -> Result<(Option<i64>, Option<i64>), String> {
        let chat = match spec.get("chat_id").and_then(Value::as_i64) {
            Some(id) => Some(self.own_chat(id)?),
            None => self.ctx.chat.as_ref().map(|c| c.id),
        };
        let user = match spec.get("user_id").and_then(Value::as_i64) {
            Some(id) => Some(id),
            None => self.ctx.user.as_ref().map(|u| u.id),
        };
        Ok((chat, user))
    }

    /// `Bot.run({command, run_after, label, options, chat_id, user_id})` with a delay.
    pub(crate) fn run_after(&mut self, spec: &Map<String, Value>, seconds: f64) -> Answer {
        if !(seconds.is_finite() && seconds <= RUN_AFTER_MAX_SECS) {
            return Err(format!("run_after must be a number of seconds up to {RUN_AFTER_MAX_SECS}"));
        }
        let command = spec.get("command").and_then(Value::as_str).ok_or("command is required")?.to_owned();
        let ignore_missing = spec.get("ignoreMissingCommand").and_then(Value::as_bool).unwrap_or(false);
        if self.commands().lookup(&command).is_none() && !ignore_missing {
            return Err(format!("Command not found: {command}"));
        }
        let label = spec.get("label").and_then(Value::as_str).map(str::to_owned);
        if label.as_ref().is_some_and(|l| l.is_empty() || l.chars().count() > 200 || l.contains('\0')) {
            return Err("label must have 1 to 200 characters, without NUL".into());
        }
        let (chat, user) = self.where_later(spec)?;
        let params = json!({
            "command": command,
            "options": spec.get("options").cloned().unwrap_or(Value::Null),
            "chat_id": chat,
            "user_id": user,
        });
        self.check_pending_runs()?;
        let mut job = self.new_job(JobKind::ScheduledRun, params);
        job.run_at = Timestamp::now().plus_millis((seconds * 1000.0) as i64);
        job.label = label;
        // A delayed run costs two iterations: one now, one when it runs.
        job.cost = 1;
        self.start_job(job)
    }

    /// Fails when the bot already has as many delayed runs waiting as it may.
    fn check_pending_runs(&mut self) -> Result<(), String> {
        let max = self.ctx.services.config.sandbox.max_pending_runs_per_bot;
        let waiting = match self.pending_runs {
            Some(n) => n,
            None => {
                let store = &self.ctx.store;
                let n = self
                    .block_on(store.pending_jobs(self.ctx.bot.number, JobKind::ScheduledRun))
                    .map_err(|e| e.message)?;
                self.pending_runs = Some(n);
                n
            }
        };
        let mine = self.effects.jobs.iter().filter(|j| j.kind == JobKind::ScheduledRun).count() as u64;
        if waiting + mine >= max {
            return Err(format!("The bot has {max} delayed runs waiting already, the most it may have"));
        }
        Ok(())
    }

    /// `Bot.clearRunAfter({label})`: cancels the bot's delayed runs with this label.
    pub(crate) fn clear_run_after(&mut self, args: &[Value]) -> Answer {
        let label = match args.first() {
            Some(Value::Object(spec)) => spec.get("label").and_then(Value::as_str).map(str::to_owned),
            Some(Value::String(label)) => Some(label.clone()),
            _ => None,
        }
        .filter(|l| !l.contains('\0'))
        .ok_or("Bot.clearRunAfter needs {label}")?;
        self.effects.jobs.retain(|j| j.label.as_deref() != Some(label.as_str()));
        self.effects.clear_labels.push(label);
        Ok(HostAnswer::Undefined)
    }

    /// `Bot.runAll({command, options, for_chats, on_create})`: a broadcast job that runs the
    /// command in every chat of the bot (`private-chats`, `group-chats`, `super-group-chats` or
    /// `all`), at the configured rate.
    pub(crate) fn run_all(&mut self, args: &[Value]) -> Answer {
        let Some(Value::Object(spec)) = args.first() else {
            return Err("Bot.runAll needs {command, for_chats}".into());
        };
        let command = spec.get("command").and_then(Value::as_str).ok_or("command is required")?.to_owned();
        if self.commands().lookup(&command).is_none() {
            return Err(format!("Command not found: {command}"));
        }
        let for_chats = spec.get("for_chats").and_then(Value::as_str).unwrap_or("all").to_owned();
        if !["private-chats", "group-chats", "super-group-chats", "all"].contains(&for_chats.as_str()) {
            return Err("for_chats must be private-chats, group-chats, super-group-chats or all".into());
        }
        let on_create = spec.get("on_create").and_then(Value::as_str).map(str::to_owned);
        if let Some(c) = &on_create
            && self.commands().lookup(c).is_none()
        {
            return Err(format!("on_create: command not found: {c}"));
        }
        let (chat, user) = self.where_later(spec)?;
        let params = json!({
            "command": command,
            "options": spec.get("options").cloned().unwrap_or(Value::Null),
            "for_chats": for_chats,
            "on_create": on_create,
            "chat_id": chat,
            "user_id": user,
        });
        let mut job = self.new_job(JobKind::Broadcast, params);
        job.details = json!({"total": 0, "cur_position": 0, "progress": 0, "errors_count": 0});
        self.start_job(job)
    }

    /// `Bot.importCSV()`, `Bot.importGit({branch})`, `Bot.exportGit({branch, force})`: the same
    /// jobs, checks and cost as the API's, from the bot's `csv_url` / `git_remote`.
    pub(crate) fn transfer(&mut self, name: &str, args: &[Value]) -> Answer {
        let spec = match args.first() {
            Some(Value::Object(spec)) => spec.clone(),
            _ => Map::new(),
        };
        let branch = spec.get("branch").and_then(Value::as_str).map(str::to_owned);
        let transfer = match name {
            "Bot.importCSV" => Transfer::CsvUrl(None),
            "Bot.importGit" => Transfer::GitImport { remote: None, branch },
            _ => Transfer::GitExport {
                remote: None,
                branch,
                force: spec.get("force").and_then(Value::as_bool).unwrap_or(false),
            },
        };
        let job = self.ctx.services.transfer_job(&self.ctx.bot, None, transfer).map_err(|e| e.message)?;
        self.start_job(job)
    }

    /// `HTTP.<method>({url, success, error, body, headers, options})`.
    pub(crate) fn http(&mut self, method: &str, args: &[Value]) -> Answer {
        let spec = match args.first() {
            Some(Value::Object(spec)) => spec.clone(),
            Some(Value::String(url)) => {
                [("url".to_owned(), Value::String(url.clone()))].into_iter().collect()
            }
            _ => return Err(format!("HTTP.{method} needs {{url, success, error}}")),
        };
        let url = spec.get("url").and_then(Value::as_str).ok_or("url is required")?;
        let parsed = url::Url::parse(url).map_err(|_| format!("\"{url}\" is not a URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("HTTP requests need an http or https URL".into());
        }
        let callback = |key: &str| -> Result<Option<String>, String> {
            match spec.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(c)) if c.is_empty() => Ok(None),
                Some(Value::String(c)) => {
                    if self.commands().lookup(c).is_none() {
                        return Err(format!("{key}: command not found: {c}"));
                    }
                    Ok(Some(c.clone()))
                }
                Some(_) => Err(format!("{key} must be a command")),
            }
        };
        let (success, error) = (callback("success")?, callback("error")?);
        let body = match spec.get("body") {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) => Value::String(s.clone()),
            Some(other) => other.clone(),
        };
        if body.to_string().len() > HTTP_BODY_MAX_BYTES {
            return Err(format!("The request body may be at most {} KiB", HTTP_BODY_MAX_BYTES / 1024));
        }
        let headers = match spec.get("headers") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(h)) => h.clone(),
            Some(_) => return Err("headers must be an object".into()),
        };
        let (chat, user) = self.where_later(&spec)?;
        let params = json!({
            "method": method.to_ascii_uppercase(),
            "url": url,
            "headers": headers,
            "body": body,
            "success": success,
            "error": error,
            "options": spec.get("options").cloned().unwrap_or(Value::Null),
            "chat_id": chat,
            "user_id": user,
        });
        let job = self.new_job(JobKind::HttpRequest, params);
        self.start_job(job)
    }
}
