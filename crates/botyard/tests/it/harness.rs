//! Starting servers for tests and talking to them.

use std::sync::Once;

use botyard::server::{RunningServer, start};
use botyard_core::Config;
use botyard_store::Backend;
use botyard_store::testing::TestDatabase;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub use botyard_store::testing::backends;

/// A server with its own fresh database.
pub struct TestServer {
    pub server: RunningServer,
    pub backend: Backend,
    pub http: reqwest::Client,
    /// What the server was started with (a restart starts it again with the same).
    config: Config,
    _db: TestDatabase,
    _dir: tempfile::TempDir,
}

/// What a test sees of an answer.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A signed-up user.
#[derive(Debug, Clone)]
pub struct Account {
    pub api_key: String,
    pub workspace: String,
    pub user_id: i64,
}

pub fn install_tls() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        install_tls();
        forget_identifiers();
        let db = TestDatabase::create(backend).await;
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: db.url.clone(),
            ..Config::default()
        };
        adjust(&mut config);
        let server = start(config.clone()).await.expect("server starts");
        let http = reqwest::Client::builder().build().expect("HTTP client");
        Self { server, backend, http, config, _db: db, _dir: dir }
    }

    /// A second node on the same database as `other` (PostgreSQL).
    pub async fn join(other: &TestServer) -> Self {
        install_tls();
        let db = TestDatabase::share(&other._db);
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: db.url.clone(),
            ..Config::default()
        };
        let server = start(config.clone()).await.expect("second node starts");
        let http = reqwest::Client::builder().build().expect("HTTP client");
        Self { server, backend: other.backend, http, config, _db: db, _dir: dir }
    }

    /// Stops the server cleanly and starts it again on the same database and data directory
    /// (what a restart of the process keeps).
    pub async fn restart(self) -> Self {
        let Self { server, backend, http, config, _db, _dir } = self;
        server.stop().await.expect("server stops cleanly");
        let server = start(config.clone()).await.expect("server starts again");
        Self { server, backend, http, config, _db, _dir }
    }

    /// Runs a statement on the server's database directly (tests arranging what time would do).
    pub async fn sql(&self, statement: &str) {
        self._db.execute(statement).await;
    }

    /// Waits (up to 15 s) until a count read from the database is `expected`.
    pub async fn wait_for_count(&self, query: &str, expected: i64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let count = self.count(query).await;
            if count == expected {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{query}: {count}, expected {expected}");
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// A count read from the server's database directly (`SELECT COUNT(*) …`).
    pub async fn count(&self, query: &str) -> i64 {
        self._db.count(query).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub async fn stop(self) {
        self.server.stop().await.expect("server stops cleanly");
    }

    /// Sends a request with a JSON body (when `body` is not `Null`) and the given headers.
    pub async fn call(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Value) -> Reply {
        let mut request = self.http.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request is answered");
        read(response).await
    }

    /// Sends a raw body with a content type.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut request =
            self.http.request(method, self.url(path)).header("content-type", content_type).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.send().await.expect("request is answered")).await
    }

    pub async fn sign_up(&self, email: &str) -> Account {
        let reply = self
            .call(Method::POST, "/v2/auth", &[], json!({"email": email, "password": "correct horse battery"}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "sign up: {:?}", reply.body);
        Account {
            api_key: reply.body["api_key"].as_str().unwrap().into(),
            workspace: reply.body["workspace"]["id"].as_str().unwrap().into(),
            user_id: reply.body["data"]["id"].as_i64().unwrap(),
        }
    }

    /// A request of the Botpress dialect as `account` in their personal workspace.
    pub async fn bp(&self, account: &Account, method: Method, path: &str, body: Value) -> Reply {
        let auth = format!("Bearer {}", account.api_key);
        self.call(method, path, &[("authorization", &auth), ("x-workspace-id", &account.workspace)], body)
            .await
    }

    /// A request of the Bots.Business dialect as `account` (with `?api_key=`).
    pub async fn bb(&self, account: &Account, method: Method, path: &str, body: Value) -> Reply {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.call(method, &format!("{path}{sep}api_key={}", account.api_key), &[], body).await
    }
}

async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body is read");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply { status, headers, body }
}

/// Keys holding identifiers: snapshots show `[key n]`, where `n` numbers the distinct values in
/// the order the test first saw them — so the same id under two keys (`id`, then `botId`) shows
/// the same number, and a wrong id shows a new one.
const IDENTIFIERS: &[&str] = &[
    "id",
    "uid",
    "conversationId",
    "chatid",
    "messageId",
    "workspace_id",
    "webChannelId",
    "web_channel_id",
    "user_id",
    "userId",
    "ownerId",
    "invited_by",
    "_id",
    "streamId",
    "streamRefId",
    "botId",
    "bot_id",
    "fileId",
    "client_id",
    "new_bot_uid",
    "new_bot_id",
    "createdBy",
    "task_id",
];

/// Keys whose values change from run to run and are no identifiers (times, secrets, sizes):
/// snapshots show `[key]`.
const VOLATILE: &[&str] = &[
    "key",
    "timestamp",
    "month",
    "createdAt",
    "updatedAt",
    "deployedAt",
    "created_at",
    "updated_at",
    "signingSecret",
    "newSigningSecret",
    "api_key",
    "access_token",
    "client",
    "expiry",
    "joined_at",
    "nextToken",
    "downloadURL",
    "fileSize",
    "createdOn",
    "client_secret",
    "commit",
    "branch",
    "started_at",
    "finished_at",
    "enqueuedAt",
    "startedAt",
    "finishedAt",
    "size",
];

thread_local! {
    /// The identifiers seen by the test running on this thread, numbered in order of appearance
    /// (each test runs on a thread of its own; a new server starts a new numbering).
    static SEEN_IDS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Starts a new numbering of identifiers (a test's next server).
pub fn forget_identifiers() {
    SEEN_IDS.with(|seen| seen.borrow_mut().clear());
}

fn identifier(key: &str, value: &Value) -> Value {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let n = SEEN_IDS.with(|seen| {
        let mut seen = seen.borrow_mut();
        match seen.iter().position(|v| *v == text) {
            Some(i) => i + 1,
            None => {
                seen.push(text);
                seen.len()
            }
        }
    });
    Value::String(format!("[{key} {n}]"))
}

/// The body with volatile values replaced, for snapshots.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let small_number = v.as_i64().is_some_and(|n| n < 1_000_000_000);
                    let v = if IDENTIFIERS.contains(&k.as_str()) && (v.is_string() || v.is_number()) {
                        identifier(k, v)
                    } else if VOLATILE.contains(&k.as_str())
                        && !v.is_null()
                        && !(k == "expiry" && small_number)
                    {
                        Value::String(format!("[{k}]"))
                    } else if k == "workspaces" || k == "workspace" {
                        redact_workspaces(v)
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

fn redact_workspaces(value: &Value) -> Value {
    let mut v = redact(value);
    let fix = |w: &mut Value| {
        if let Some(name) = w.get_mut("name") {
            *name = Value::String("[name]".into());
        }
    };
    match &mut v {
        Value::Array(items) => items.iter_mut().for_each(fix),
        other => fix(other),
    }
    v
}

/// Pins `reply` (status and redacted body) under `name`.
#[macro_export]
macro_rules! snap {
    ($name:expr, $reply:expr) => {{
        let reply = &$reply;
        insta::assert_json_snapshot!($name, serde_json::json!({
            "status": reply.status.as_u16(),
            "body": $crate::harness::redact(&reply.body),
        }));
    }};
}

/// One file of a ZIP archive.
pub struct ZipEntry {
    pub path: String,
    pub content: Vec<u8>,
}

/// The files of a ZIP archive as Info-ZIP's `unzip` reads them (not the `zip` crate botyard
/// writes with), after `unzip -t` found every entry's checksum right.
pub fn unzip(archive: &[u8]) -> Vec<ZipEntry> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("archive.zip");
    std::fs::write(&file, archive).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("unzip").args(args).arg(&file).output().expect("unzip runs");
        assert!(out.status.success(), "unzip {args:?}: {}", String::from_utf8_lossy(&out.stdout));
        out.stdout
    };
    run(&["-tqq"]);
    let names = String::from_utf8(run(&["-Z1"])).unwrap();
    names
        .lines()
        .filter(|name| !name.ends_with('/'))
        .map(|name| {
            let out = std::process::Command::new("unzip")
                .arg("-p")
                .arg(&file)
                .arg(glob_escaped(name))
                .output()
                .expect("unzip runs");
            ZipEntry { path: name.to_owned(), content: out.stdout }
        })
        .collect()
}

/// `unzip` takes member names as wildcard patterns.
fn glob_escaped(name: &str) -> String {
    name.chars().fold(String::new(), |mut out, c| {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
        out
    })
}
