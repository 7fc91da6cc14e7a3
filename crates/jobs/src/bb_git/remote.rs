//! Talking to git remotes with libgit2 (no `git` binary): fetch a branch's files, push a new
//! branch. Both run on a blocking thread, in a temporary repository that is removed afterwards.

use botyard_domain::{Error, ErrorCode, Result};
use git2::{Cred, FetchOptions, PushOptions, RemoteCallbacks, Repository, Signature};

use crate::files::{Entry, safe_path};

/// Limits of what a fetched repository may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub file_max_bytes: u64,
    pub total_max_bytes: u64,
    /// Whether local paths and `file://` URLs are accepted as remotes.
    pub local_remotes: bool,
}

/// Checks a remote URL: http(s), or a local path when allowed.
pub fn check_remote(remote: &str, limits: Limits) -> Result<()> {
    let remote = remote.trim();
    if remote.is_empty() {
        return Err(Error::invalid("The bot has no git remote: give one (git_remote)"));
    }
    if remote.starts_with("https://") || remote.starts_with("http://") {
        return Ok(());
    }
    let local = remote.starts_with("file://") || remote.starts_with('/');
    if local && limits.local_remotes {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "Git remote \"{remote}\" is not supported: use an https:// URL (with credentials in it if the \
         repository is private){}",
        if limits.local_remotes { ", or a local path" } else { "" }
    )))
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

/// Fetch options: credentials from the URL; shallow over HTTP (libgit2's local transport cannot
/// fetch shallowly).
fn fetch_options(remote: &str) -> FetchOptions<'static> {
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks(remote));
    if remote.starts_with("http") {
        options.depth(1);
    }
    options
}

fn percent(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn git_error(what: &str, e: git2::Error) -> Error {
    let code = match e.class() {
        git2::ErrorClass::Net | git2::ErrorClass::Http | git2::ErrorClass::Ssl => ErrorCode::Unavailable,
        _ => ErrorCode::InvalidPayload,
    };
    Error::new(code, format!("{what}: {}", e.message()))
}

/// The files of `branch` (or the remote's default branch) of `remote`.
pub fn fetch_files(remote: &str, branch: Option<&str>, limits: Limits) -> Result<Vec<Entry>> {
    check_remote(remote, limits)?;
    let dir = tempfile::tempdir().map_err(|e| Error::internal(format!("temporary directory: {e}")))?;
    let repo = Repository::init_bare(dir.path()).map_err(|e| git_error("creating a repository", e))?;
    let mut origin = repo.remote_anonymous(remote).map_err(|e| git_error("the remote", e))?;
    let mut options = fetch_options(remote);
    let refspec = match branch {
        Some(b) => format!("+refs/heads/{b}:refs/remotes/origin/fetched"),
        None => "+HEAD:refs/remotes/origin/fetched".to_owned(),
    };
    origin.fetch(&[refspec.as_str()], Some(&mut options), None).map_err(|e| {
        git_error(&format!("fetching {} of {remote}", branch.unwrap_or("the default branch")), e)
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

/// Pushes `entries` as one commit on a new `branch` of `remote` (forced, so a retried push of the
/// same export is harmless). The commit's parent is the remote's default branch when it has one.
pub fn push_files(
    remote: &str,
    branch: &str,
    entries: &[Entry],
    message: &str,
    limits: Limits,
) -> Result<String> {
    check_remote(remote, limits)?;
    let dir = tempfile::tempdir().map_err(|e| Error::internal(format!("temporary directory: {e}")))?;
    let repo = Repository::init_bare(dir.path()).map_err(|e| git_error("creating a repository", e))?;
    let mut origin = repo.remote_anonymous(remote).map_err(|e| git_error("the remote", e))?;
    let mut options = fetch_options(remote);
    // An empty repository has no HEAD to fetch; the export is then the first commit.
    let parent = origin
        .fetch(&["+HEAD:refs/remotes/origin/base"], Some(&mut options), None)
        .ok()
        .and_then(|_| repo.find_reference("refs/remotes/origin/base").ok())
        .and_then(|r| r.peel_to_commit().ok());
    let tree = write_tree(&repo, entries)?;
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
    origin
        .push(&[format!("+{reference}:{reference}").as_str()], Some(&mut push))
        .map_err(|e| git_error(&format!("pushing to {remote}"), e))?;
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
