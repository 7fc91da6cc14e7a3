//! Talking to git remotes with libgit2 (no `git` binary): fetch a branch's files, push a
//! branch. Both run on a blocking thread, in a temporary repository that is removed afterwards.
//! Network remotes are reached only through the outbound tunnel ([`botyard_core::outbound::tunnel`])
//! whose URL the caller passes, which checks every connection against the deny-list and enforces
//! the transfer's deadline and byte budget.

use botyard_core::config::JobsSettings;
use botyard_core::transfers::check_git_remote;
use botyard_domain::{Error, ErrorCode, Result};
use git2::{Cred, FetchOptions, ProxyOptions, PushOptions, RemoteCallbacks, Repository, Signature};

use crate::files::{Entry, safe_path};

/// Limits of what a fetched repository may hold, and which remotes are accepted.
#[derive(Debug, Clone)]
pub struct Limits {
    pub file_max_bytes: u64,
    pub total_max_bytes: u64,
    pub settings: JobsSettings,
}

/// How a transfer reaches a network remote: through the tunnel at this URL, which enforces the
/// deny-list, the deadline and the byte budget.
#[derive(Debug, Clone)]
pub struct Route {
    pub proxy: String,
}

impl Route {
    /// The URL libgit2 is given for `remote`: https remotes as they are (their connections go
    /// through the tunnel as a proxy); plain-http remotes at the tunnel's own address, which
    /// forwards them (libgit2 sends plain http past proxies).
    fn url_for(&self, remote: &str) -> String {
        let (Ok(mut url), Ok(tunnel)) = (url::Url::parse(remote), url::Url::parse(&self.proxy)) else {
            return remote.to_owned();
        };
        if url.scheme() != "http" {
            return remote.to_owned();
        }
        let _ = url.set_host(tunnel.host_str());
        let _ = url.set_port(tunnel.port());
        url.to_string()
    }
}

fn callbacks(remote: &str) -> RemoteCallbacks<'static> {
    let mut callbacks = RemoteCallbacks::new();
    let from_url = url::Url::parse(remote).ok().filter(|u| !u.username().is_empty()).map(|u| {
        let user = percent(u.username());
        let password = u.password().map(percent).unwrap_or_default();
        (user, password)
    });
    callbacks.credentials(move |_url, _user, _allowed| match &from_url {
        Some((user, password)) => Cred::userpass_plaintext(user, password),
        None => Err(git2::Error::from_str("the repository needs credentials: put them in the remote URL")),
    });
    callbacks
}

/// The tunnel as libgit2's proxy, for https remotes (plain-http ones are sent to it directly).
fn proxy_options(remote: &str, route: Option<&Route>) -> ProxyOptions<'static> {
    let mut proxy = ProxyOptions::new();
    if let Some(route) = route.filter(|_| remote.starts_with("https://")) {
        proxy.url(&route.proxy);
    }
    proxy
}

/// How libgit2 may follow redirects: on the first request over https (each goes through the
/// tunnel's check), never for plain http (the tunnel stands in for the one origin).
fn redirects(remote: &str) -> git2::RemoteRedirect {
    if remote.starts_with("https://") { git2::RemoteRedirect::Initial } else { git2::RemoteRedirect::None }
}

/// The remote libgit2 talks to: `remote` itself, or its stand-in at the tunnel.
fn open_remote<'r>(repo: &'r Repository, remote: &str, route: Option<&Route>) -> Result<git2::Remote<'r>> {
    let url = route.map_or_else(|| remote.to_owned(), |r| r.url_for(remote));
    repo.remote_anonymous(&url).map_err(|e| git_error("the remote", e))
}

/// Fetch options: credentials from the URL, through the tunnel; shallow over HTTP (libgit2's local
/// transport cannot fetch shallowly).
fn fetch_options(remote: &str, route: Option<&Route>) -> FetchOptions<'static> {
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks(remote));
    options.proxy_options(proxy_options(remote, route));
    options.follow_redirects(redirects(remote));
    if remote.starts_with("http") {
        options.depth(1);
    }
    options
}

/// A user name or password from a URL, percent-decoded (`+` stays a plus).
fn percent(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// A remote as it may be shown: without the credentials a URL may carry.
pub fn shown(remote: &str) -> String {
    match url::Url::parse(remote) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => remote.to_owned(),
    }
}

fn git_error(what: &str, e: git2::Error) -> Error {
    let code = match e.class() {
        git2::ErrorClass::Net | git2::ErrorClass::Http | git2::ErrorClass::Ssl => ErrorCode::Unavailable,
        _ => ErrorCode::InvalidPayload,
    };
    Error::new(code, format!("{what}: {}", e.message()))
}

/// The files of `branch` (or the remote's default branch) of `remote`.
pub fn fetch_files(
    remote: &str,
    branch: Option<&str>,
    limits: Limits,
    route: Option<&Route>,
) -> Result<Vec<Entry>> {
    check_git_remote(remote, &limits.settings)?;
    let dir = tempfile::tempdir().map_err(|e| Error::internal(format!("temporary directory: {e}")))?;
    let repo = Repository::init_bare(dir.path()).map_err(|e| git_error("creating a repository", e))?;
    let mut origin = open_remote(&repo, remote, route)?;
    let mut options = fetch_options(remote, route);
    let refspec = match branch {
        Some(b) => format!("+refs/heads/{b}:refs/remotes/origin/fetched"),
        None => "+HEAD:refs/remotes/origin/fetched".to_owned(),
    };
    origin.fetch(&[refspec.as_str()], Some(&mut options), None).map_err(|e| {
        git_error(&format!("fetching {} of {}", branch.unwrap_or("the default branch"), shown(remote)), e)
    })?;
    let commit = repo
        .find_reference("refs/remotes/origin/fetched")
        .and_then(|r| r.peel_to_commit())
        .map_err(|e| git_error("the fetched branch", e))?;
    let tree = commit.tree().map_err(|e| git_error("the fetched tree", e))?;
    let odb = repo.odb().map_err(|e| git_error("the object database", e))?;
    let mut entries = Vec::new();
    let mut total = 0u64;
    let mut failure = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |root, item| {
        if item.kind() != Some(git2::ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        let raw = format!("{root}{}", item.name().unwrap_or(""));
        if item.filemode() == 0o120000 {
            failure = Some(Error::invalid(format!("The repository holds a symbolic link, refused: {raw}")));
            return git2::TreeWalkResult::Abort;
        }
        let Some(path) = safe_path(&raw) else {
            failure = Some(Error::invalid(format!("The repository holds an unsafe path: {raw}")));
            return git2::TreeWalkResult::Abort;
        };
        let size = odb.read_header(item.id()).map(|(size, _)| size as u64).unwrap_or(u64::MAX);
        if size > limits.file_max_bytes {
            failure =
                Some(Error::limit(format!("{path} is larger than {} KiB", limits.file_max_bytes / 1024)));
            return git2::TreeWalkResult::Abort;
        }
        total += size;
        if total > limits.total_max_bytes {
            failure = Some(Error::limit(format!(
                "The repository holds more than {} MiB",
                limits.total_max_bytes / (1024 * 1024)
            )));
            return git2::TreeWalkResult::Abort;
        }
        match repo.find_blob(item.id()) {
            Ok(blob) => entries.push(Entry { path, content: blob.content().to_vec() }),
            Err(e) => {
                failure = Some(git_error("reading a file", e));
                return git2::TreeWalkResult::Abort;
            }
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(|e| failure.clone().unwrap_or_else(|| git_error("reading the tree", e)))?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    Ok(entries)
}

/// What a push does when the branch already exists on the remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse (the default): an export never overwrites someone's branch unasked.
    Refuse,
    /// Replace the branch with the export.
    Overwrite,
}

/// Pushes `entries` as one commit on `branch` of `remote`. The commit's parent is the remote's
/// default branch when it has one. A branch that exists already is refused unless `existing` says
/// to overwrite it — except when it already holds exactly these files (a retried export), which
/// counts as done.
pub fn push_files(
    remote: &str,
    branch: &str,
    entries: &[Entry],
    message: &str,
    limits: Limits,
    route: Option<&Route>,
    existing: Existing,
) -> Result<String> {
    check_git_remote(remote, &limits.settings)?;
    let dir = tempfile::tempdir().map_err(|e| Error::internal(format!("temporary directory: {e}")))?;
    let repo = Repository::init_bare(dir.path()).map_err(|e| git_error("creating a repository", e))?;
    let mut origin = open_remote(&repo, remote, route)?;
    // An empty repository has no HEAD to fetch; the export is then the first commit. A missing
    // target branch is the usual case, so both fetches may fail.
    let mut fetched = |refspec: &str, name: &str| {
        let mut options = fetch_options(remote, route);
        origin
            .fetch(&[refspec], Some(&mut options), None)
            .ok()
            .and_then(|_| repo.find_reference(name).ok())
            .and_then(|r| r.peel_to_commit().ok())
    };
    let parent = fetched("+HEAD:refs/remotes/origin/base", "refs/remotes/origin/base");
    let current =
        fetched(&format!("+refs/heads/{branch}:refs/remotes/origin/target"), "refs/remotes/origin/target");
    let tree = write_tree(&repo, entries)?;
    if let Some(current) = &current {
        if current.tree_id() == tree.id() {
            return Ok(current.id().to_string());
        }
        if existing == Existing::Refuse {
            return Err(Error::conflict(format!(
                "The branch {branch} already exists on the remote: export to a new branch, or pass \
                 \"force\": true to overwrite it"
            )));
        }
    }
    let signature = Signature::now("botyard", "botyard@localhost").map_err(|e| git_error("signature", e))?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    let reference = format!("refs/heads/{branch}");
    let commit = repo
        .commit(Some(&reference), &signature, &signature, message, &tree, &parents)
        .map_err(|e| git_error("committing", e))?;
    let mut callbacks = callbacks(remote);
    let rejected = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let seen = rejected.clone();
    callbacks.push_update_reference(move |_name, status| {
        if let Some(status) = status {
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(status.to_owned());
        }
        Ok(())
    });
    let mut push = PushOptions::new();
    push.remote_callbacks(callbacks);
    push.proxy_options(proxy_options(remote, route));
    push.follow_redirects(redirects(remote));
    let force = if existing == Existing::Overwrite { "+" } else { "" };
    let mut origin = open_remote(&repo, remote, route)?;
    origin
        .push(&[format!("{force}{reference}:{reference}").as_str()], Some(&mut push))
        .map_err(|e| git_error(&format!("pushing to {}", shown(remote)), e))?;
    if let Some(reason) = rejected.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(Error::invalid(format!("The remote refused the branch {branch}: {reason}")));
    }
    Ok(commit.to_string())
}

/// A file's path split at `/`, and its content.
type Parts<'a> = (Vec<&'a str>, &'a [u8]);

/// Writes the entries as a tree (nested directories included).
fn write_tree<'r>(repo: &'r Repository, entries: &[Entry]) -> Result<git2::Tree<'r>> {
    fn build(repo: &Repository, entries: &[Parts<'_>]) -> std::result::Result<git2::Oid, git2::Error> {
        let mut builder = repo.treebuilder(None)?;
        let mut dirs: std::collections::BTreeMap<&str, Vec<Parts<'_>>> = Default::default();
        for (parts, content) in entries {
            match parts.as_slice() {
                [file] => {
                    let blob = repo.blob(content)?;
                    builder.insert(file, blob, 0o100644)?;
                }
                [dir, rest @ ..] => dirs.entry(dir).or_default().push((rest.to_vec(), content)),
                [] => {}
            }
        }
        for (dir, inner) in dirs {
            let oid = build(repo, &inner)?;
            builder.insert(dir, oid, 0o040000)?;
        }
        builder.write()
    }
    let split: Vec<Parts<'_>> =
        entries.iter().map(|e| (e.path.split('/').collect(), e.content.as_slice())).collect();
    let oid = build(repo, &split).map_err(|e| git_error("writing the tree", e))?;
    repo.find_tree(oid).map_err(|e| git_error("writing the tree", e))
}
