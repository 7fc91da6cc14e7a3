//! Helpers for tests of jobs: servers whose workers poll quickly, Kore.ai apps and their JWTs,
//! uploads, waiting for jobs to end, local git repositories and a tiny HTTP file server.

use std::path::Path;
use std::time::{Duration, Instant};

use botyard_core::Config;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Account, Reply, TestServer};

/// Quick workers, local git remotes allowed.
pub fn quick_jobs(config: &mut Config) {
    config.jobs.poll_interval_ms = 50;
    config.jobs.git_local_remotes = true;
    // The tests' HTTP servers listen on loopback.
    config.outbound.deny.retain(|n| n != "127.0.0.0/8");
}

/// The real Vaxie export, from the fixtures beside the repository (CI has `../shared`).
pub const VAXIE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/koreai/vaxie");

pub fn vaxie(file: &str) -> Vec<u8> {
    std::fs::read(Path::new(VAXIE).join(file)).expect("the Vaxie fixture")
}

/// An app of the account's personal workspace.
pub struct App {
    pub client_id: String,
    pub secret: String,
}

impl App {
    /// A token with `appId`, `iat` (now, as most JWT libraries add) and these extra claims.
    pub fn token_with(&self, alg: Algorithm, extra: Value) -> String {
        let iat = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let mut claims = json!({"sub": "tests", "appId": self.client_id, "iat": iat});
        if let (Value::Object(c), Value::Object(e)) = (&mut claims, extra) {
            c.extend(e);
        }
        jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(self.secret.as_bytes()))
            .unwrap()
    }

    pub fn token(&self) -> String {
        self.token_with(Algorithm::HS256, json!({}))
    }
}

impl TestServer {
    pub async fn app(&self, owner: &Account, scopes: &[&str], require_jti: bool) -> App {
        let reply = self
            .bb(
                owner,
                Method::POST,
                &format!("/v2/workspaces/{}/apps", owner.workspace),
                json!({"name": "ci", "scopes": scopes, "require_jti": require_jti}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        App {
            client_id: reply.body["client_id"].as_str().unwrap().into(),
            secret: reply.body["client_secret"].as_str().unwrap().into(),
        }
    }

    /// A request of the Kore.ai dialect with an `auth` token.
    pub async fn kore(&self, token: &str, method: Method, path: &str, body: Value) -> Reply {
        self.call(method, &format!("/api/public{path}"), &[("auth", token)], body).await
    }

    /// Uploads a file through `/api/public/uploadfile`; returns the answer.
    pub async fn upload(&self, token: &str, name: &str, extension: &str, bytes: Vec<u8>) -> Reply {
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()))
            .text("fileContext", "bulkImport")
            .text("fileExtension", extension.to_owned());
        let response = self
            .http
            .post(self.url("/api/public/uploadfile"))
            .header("auth", token)
            .multipart(form)
            .send()
            .await
            .expect("upload is answered");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        Reply { status, headers, body }
    }

    pub async fn upload_id(&self, token: &str, name: &str, extension: &str, bytes: Vec<u8>) -> String {
        let reply = self.upload(token, name, extension, bytes).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body["fileId"].as_str().unwrap().to_owned()
    }

    /// Polls `path` (with `call`) until `done` says the answer is final; fails after 60 s.
    pub async fn poll(&self, call: impl AsyncFn() -> Reply, done: impl Fn(&Value) -> bool) -> Reply {
        // The pause grows to 1.25 s, as a patient client's would: Kore.ai's status routes
        // allow 60 requests a minute, which a slow machine's long import would otherwise exhaust.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut pause = Duration::from_millis(50);
        loop {
            let reply = call().await;
            if done(&reply.body) {
                return reply;
            }
            assert!(Instant::now() < deadline, "still not done after 60 s: {:?}", reply.body);
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(Duration::from_millis(1250));
        }
    }

    /// Waits for a Bots.Business task of a bot to end.
    pub async fn bb_task(&self, account: &Account, bot: i64, task: i64) -> Reply {
        let path = format!("/v2/bots/{bot}/tasks/{task}");
        self.poll(
            async || self.bb(account, Method::GET, &path, Value::Null).await,
            |b| !matches!(b["status"].as_str(), Some("pending" | "in_progress")),
        )
        .await
    }

    /// Waits for a Kore.ai import to end.
    pub async fn kore_import(&self, token: &str, bir: &str) -> Reply {
        let path = format!("/bot/import/status/{bir}");
        self.poll(
            async || self.kore(token, Method::GET, &path, Value::Null).await,
            |b| b["status"] != "pending",
        )
        .await
    }
}

/// A bare repository at `dir` whose default branch holds `files` (path, content).
pub fn bare_repo(dir: &Path, files: &[(&str, &[u8])]) {
    let repo = git2::Repository::init_bare(dir).unwrap();
    commit(&repo, "refs/heads/master", files, &[]);
    repo.set_head("refs/heads/master").unwrap();
}

/// A path split at `/`, its content and its mode.
type TreeEntry<'a> = (Vec<&'a str>, &'a [u8], i32);

/// Commits `files` (and symbolic links: path, target) on `reference`.
pub fn commit(repo: &git2::Repository, reference: &str, files: &[(&str, &[u8])], links: &[(&str, &str)]) {
    fn build(repo: &git2::Repository, entries: &[TreeEntry<'_>]) -> git2::Oid {
        let mut builder = repo.treebuilder(None).unwrap();
        let mut dirs: std::collections::BTreeMap<&str, Vec<TreeEntry<'_>>> = Default::default();
        for (parts, content, mode) in entries {
            match parts.as_slice() {
                [file] => {
                    builder.insert(file, repo.blob(content).unwrap(), *mode).unwrap();
                }
                [dir, rest @ ..] => dirs.entry(dir).or_default().push((rest.to_vec(), content, *mode)),
                [] => {}
            }
        }
        for (dir, inner) in dirs {
            builder.insert(dir, build(repo, &inner), 0o040000).unwrap();
        }
        builder.write().unwrap()
    }
    let mut entries: Vec<TreeEntry<'_>> =
        files.iter().map(|(p, c)| (p.split('/').collect(), *c, 0o100644)).collect();
    entries.extend(links.iter().map(|(p, t)| (p.split('/').collect(), t.as_bytes(), 0o120000)));
    let tree = repo.find_tree(build(repo, &entries)).unwrap();
    let signature = git2::Signature::now("test", "test@example.com").unwrap();
    repo.commit(Some(reference), &signature, &signature, "test repository", &tree, &[]).unwrap();
}

/// The files of a branch of a bare repository, as the `git` command line reads them (not libgit2,
/// which botyard writes with), after `git fsck` found the repository sound.
pub fn branch_files(dir: &Path, branch: &str) -> Vec<(String, String)> {
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").arg("-C").arg(dir).args(args).output().expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    git(&["fsck", "--strict", "--no-dangling"]);
    let reference = format!("refs/heads/{branch}");
    let names = String::from_utf8(git(&["ls-tree", "-r", "-z", "--name-only", &reference])).unwrap();
    names
        .split('\0')
        .filter(|name| !name.is_empty())
        .map(|name| {
            let content = git(&["cat-file", "blob", &format!("{reference}:{name}")]);
            (name.to_owned(), String::from_utf8_lossy(&content).into_owned())
        })
        .collect()
}

/// Serves `body` over HTTP on loopback (every request gets it); returns the URL.
pub async fn serve_file(body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    format!("http://{addr}/sheet.csv")
}
