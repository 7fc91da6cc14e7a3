//! Bots.Business transfers — CSV import, git import, git export — checked and priced in one place,
//! whether the API or a script (`Bot.importCSV`, `Bot.importGit`, `Bot.exportGit`) starts them.
//! Each costs [`TRANSFER_ITERATIONS`] (Bots.Business's rule), charged in the transaction that
//! enqueues the job.

use botyard_domain::bot::Bot;
use botyard_domain::content::git_export_branch;
use botyard_domain::job::{JobKind, NewJob};
use botyard_domain::{Error, Result, Timestamp, UserId};
use serde_json::json;

use crate::Services;
use crate::config::JobsSettings;

/// Iterations a CSV or git import or export costs.
pub const TRANSFER_ITERATIONS: u64 = 5;

/// A transfer to start.
#[derive(Debug, Clone)]
pub enum Transfer {
    /// A CSV import of an uploaded file (already stored).
    CsvFile { file_id: String },
    /// A CSV import from a URL; `None` means the bot's `csv_url`.
    CsvUrl(Option<String>),
    /// A git import; `None` means the bot's `git_remote` / the remote's default branch.
    GitImport { remote: Option<String>, branch: Option<String> },
    /// A git export; the branch defaults to `BB_Export_<time>`. An existing branch is overwritten
    /// only with `force`.
    GitExport { remote: Option<String>, branch: Option<String>, force: bool },
}

impl Services {
    /// Checks a transfer of the bot and builds its job, not yet enqueued.
    pub fn transfer_job(&self, bot: &Bot, user: Option<UserId>, transfer: Transfer) -> Result<NewJob> {
        let settings = &self.config.jobs;
        let (kind, params, details) = match transfer {
            Transfer::CsvFile { file_id } => (JobKind::CsvImport, json!({"fileId": file_id}), csv_details()),
            Transfer::CsvUrl(url) => {
                let url = url.filter(|u| !u.trim().is_empty()).or_else(|| bot.csv_url.clone()).ok_or_else(
                    || Error::invalid("The bot has no csv_url: upload a CSV file or give a csv_url"),
                )?;
                csv_url(&url)?;
                (JobKind::CsvImport, json!({"url": url.trim()}), csv_details())
            }
            Transfer::GitImport { remote, branch } => {
                let remote = git_remote(bot, remote, settings)?;
                if let Some(branch) = &branch {
                    check_branch(branch)?;
                }
                (JobKind::GitImport, json!({"remote": remote, "branch": branch}), json!({}))
            }
            Transfer::GitExport { remote, branch, force } => {
                let remote = git_remote(bot, remote, settings)?;
                let branch = branch.unwrap_or_else(|| git_export_branch(Timestamp::now()));
                check_branch(&branch)?;
                (JobKind::GitExport, json!({"remote": remote, "branch": branch, "force": force}), json!({}))
            }
        };
        let mut job = NewJob::new(kind, params);
        job.workspace_id = Some(bot.workspace_id.clone());
        job.bot = Some(bot.number);
        job.created_by = user;
        job.details = details;
        job.max_attempts = settings.max_attempts;
        job.cost = TRANSFER_ITERATIONS;
        Ok(job)
    }
}

fn csv_details() -> serde_json::Value {
    json!({"new_count": 0, "updated_count": 0, "destroyed_count": 0})
}

/// The remote of a git transfer: the one given, else the bot's; checked.
fn git_remote(bot: &Bot, remote: Option<String>, settings: &JobsSettings) -> Result<String> {
    let remote =
        remote.filter(|r| !r.trim().is_empty()).or_else(|| bot.git_remote.clone()).unwrap_or_default();
    check_git_remote(&remote, settings)?;
    Ok(remote.trim().to_owned())
}

/// Checks a git remote URL: https (plain http only when allowed), or a local path when allowed.
pub fn check_git_remote(remote: &str, settings: &JobsSettings) -> Result<()> {
    let remote = remote.trim();
    if remote.is_empty() {
        return Err(Error::invalid("The bot has no git remote: give one (git_remote)"));
    }
    if remote.starts_with("https://") || (remote.starts_with("http://") && settings.git_allow_http) {
        return url::Url::parse(remote)
            .map(|_| ())
            .map_err(|_| Error::invalid(format!("Git remote \"{remote}\" is not a URL")));
    }
    if remote.starts_with("http://") {
        return Err(Error::invalid(
            "Plain http:// git remotes are refused: use https:// (or allow them with jobs.git_allow_http)",
        ));
    }
    let local = remote.starts_with("file://") || remote.starts_with('/');
    if local && settings.git_local_remotes {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "Git remote \"{remote}\" is not supported: use an https:// URL (with credentials in it if the \
         repository is private){}",
        if settings.git_local_remotes { ", or a local path" } else { "" }
    )))
}

/// Checks a branch name by git's rules for reference names (and `git branch`'s: no leading `-`).
pub fn check_branch(branch: &str) -> Result<()> {
    let valid = git2::Reference::is_valid_name(&format!("refs/heads/{branch}"));
    if branch.is_empty() || branch.len() > 200 || branch.starts_with('-') || !valid {
        return Err(Error::invalid(format!("\"{branch}\" is not a valid branch name")));
    }
    Ok(())
}

/// Checks a sheet URL; Google Sheets edit links become CSV export links.
pub fn csv_url(raw: &str) -> Result<url::Url> {
    let url = url::Url::parse(raw.trim()).map_err(|_| Error::invalid(format!("\"{raw}\" is not a URL")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid("csv_url must be an http or https URL"));
    }
    if url.host_str() == Some("docs.google.com")
        && let Some(rest) = url.path().strip_prefix("/spreadsheets/d/")
        && let Some(id) = rest.split('/').next().filter(|id| !id.is_empty() && *id != "e")
        && !url.path().contains("/export")
    {
        let export = format!("https://docs.google.com/spreadsheets/d/{id}/export?format=csv");
        return url::Url::parse(&export).map_err(|_| Error::invalid("Bad Google Sheets link"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_follow_git_rules() {
        assert!(check_branch("BB_Export_20261122_193000").is_ok());
        assert!(check_branch("feature/x").is_ok());
        for bad in ["", "a..b", "-x", "x.lock", "a b", "a~1", "x/", "@{x}", "a\\b"] {
            assert!(check_branch(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn google_sheets_links_become_csv_exports() {
        let url = csv_url("https://docs.google.com/spreadsheets/d/abc123/edit#gid=0").unwrap();
        assert_eq!(url.as_str(), "https://docs.google.com/spreadsheets/d/abc123/export?format=csv");
        assert!(csv_url("ftp://example.com/x.csv").is_err());
    }

    #[test]
    fn remotes_are_https_unless_configured() {
        let mut settings = JobsSettings::default();
        assert!(check_git_remote("https://example.com/r.git", &settings).is_ok());
        assert!(check_git_remote("http://example.com/r.git", &settings).is_err());
        assert!(check_git_remote("/srv/r.git", &settings).is_err());
        assert!(check_git_remote("git@github.com:x/y.git", &settings).is_err());
        settings.git_allow_http = true;
        settings.git_local_remotes = true;
        assert!(check_git_remote("http://example.com/r.git", &settings).is_ok());
        assert!(check_git_remote("/srv/r.git", &settings).is_ok());
    }
}
