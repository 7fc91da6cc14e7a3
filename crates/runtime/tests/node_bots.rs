//! The supervisor of bundled Botpress bots, with the real Node.js (`node` on `PATH`; the tests
//! say so and pass when it is missing).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use botyard_core::config::NodeSettings;
use botyard_domain::ErrorCode;
use botyard_runtime::node_bots::{MAX_LINE_BYTES, MAX_OUTPUT_LINES, NodeBots, OutputStream, is_bundle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A bundle shaped like esbuild's CommonJS output of a `@botpress/sdk` bot: `start(port)` serves
/// `/health` and answers other paths with what it knows. `PRELUDE` runs at load.
const BUNDLE: &str = r#""use strict";
var __defProp = Object.defineProperty;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __export = (target, all) => {
  for (var name in all) __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from) => {
  for (let key of __getOwnPropNames(from))
    if (!__hasOwnProp.call(to, key)) __defProp(to, key, { get: () => from[key], enumerable: true });
  return to;
};
var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);
var src_exports = {};
__export(src_exports, { default: () => src_default });
module.exports = __toCommonJS(src_exports);
var import_http = require("http");
PRELUDE
var Bot = class {
  start(port) {
    return new Promise((resolve) => {
      const server = (0, import_http.createServer)((req, res) => {
        if (req.url === "/health") { res.writeHead(200); res.end("ok"); return; }
        console.log("request " + req.url);
        const body = { version: "VERSION", path: req.url, env: Object.keys(process.env).sort(), botId: process.env.BP_BOT_ID, host: server.address().address };
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
      server.listen(port, () => resolve(server));
    });
  }
};
var src_default = new Bot();
"#;

fn bundle(version: &str, prelude: &str) -> String {
    BUNDLE.replace("VERSION", version).replace("PRELUDE", prelude)
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("botyard-node-bots-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn node_installed() -> bool {
    let found =
        std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("node is not installed: skipping");
    }
    found
}

fn bots(dir: &TempDir, change: impl FnOnce(&mut NodeSettings)) -> NodeBots {
    let mut settings = NodeSettings { start_timeout_secs: 10, ..NodeSettings::default() };
    change(&mut settings);
    NodeBots::new(settings, dir.0.clone())
}

fn env() -> Vec<(String, String)> {
    vec![
        ("BP_API_URL".into(), "http://127.0.0.1:1".into()),
        ("BP_TOKEN".into(), "token".into()),
        ("BP_BOT_ID".into(), "bot-1".into()),
    ]
}

/// GET `path` from `base` (`http://127.0.0.1:<port>`): the status and the body.
async fn get(base: &str, path: &str) -> (u16, String) {
    let address = base.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.0\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

async fn answer(base: &str) -> serde_json::Value {
    let (status, body) = get(base, "/echo").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test]
async fn serves_restarts_for_a_new_version_and_keeps_the_environment_clean() {
    if !node_installed() {
        return;
    }
    let dir = TempDir::new();
    let bots = bots(&dir, |_| {});
    let url = bots.endpoint("bot-1", "v1", &bundle("v1", ""), env()).await.unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(get(&url, "/health").await.0, 200);
    let body = answer(&url).await;
    assert_eq!(body["version"], "v1");
    assert_eq!(body["botId"], "bot-1");
    assert_eq!(body["host"], "127.0.0.1", "servers listen on loopback only");
    let keys: Vec<&str> = body["env"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    for key in &keys {
        assert!(["PATH", "HOME", "BP_API_URL", "BP_TOKEN", "BP_BOT_ID"].contains(key), "leaked {key}");
    }
    assert!(dir.0.join("node-bots/bot-1/bot.cjs").exists());

    // The same version: the same process.
    let first = bots.pid("bot-1").await.unwrap();
    assert_eq!(bots.endpoint("bot-1", "v1", &bundle("v1", ""), env()).await.unwrap(), url);
    assert_eq!(bots.pid("bot-1").await, Some(first));

    // A new version: a new process, the old one gone.
    let url = bots.endpoint("bot-1", "v2", &bundle("v2", ""), env()).await.unwrap();
    assert_eq!(answer(&url).await["version"], "v2");
    let second = bots.pid("bot-1").await.unwrap();
    assert_ne!(second, first);
    assert!(gone(first));

    let output = bots.take_output("bot-1");
    assert!(
        output.iter().any(|l| l.stream == OutputStream::Stdout && l.text == "request /echo"),
        "{output:?}"
    );
    assert!(!output.iter().any(|l| l.text.contains("botyard-listening")), "{output:?}");
    assert!(bots.take_output("bot-1").is_empty());

    bots.stop_all().await;
    assert_eq!(bots.pid("bot-1").await, None);
    assert!(gone(second));
}

#[tokio::test]
async fn a_killed_process_is_started_again_within_the_limit() {
    if !node_installed() {
        return;
    }
    let dir = TempDir::new();
    let bots = bots(&dir, |s| s.max_restarts_per_minute = 1);
    let code = bundle("v1", "");
    bots.endpoint("bot-2", "v1", &code, env()).await.unwrap();
    for round in 0..2 {
        let pid = bots.pid("bot-2").await.unwrap();
        std::process::Command::new("kill").arg("-9").arg(pid.to_string()).status().unwrap();
        let waited = Instant::now();
        while bots.pid("bot-2").await.is_some() {
            assert!(waited.elapsed() < Duration::from_secs(5), "the exit was not noticed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let started = bots.endpoint("bot-2", "v1", &code, env()).await;
        if round == 0 {
            let url = started.unwrap();
            assert_eq!(answer(&url).await["version"], "v1");
            assert_ne!(bots.pid("bot-2").await, Some(pid));
        } else {
            let error = started.unwrap_err();
            assert_eq!(error.code, ErrorCode::Unavailable);
            assert!(error.message.contains("restarted too often"), "{}", error.message);
            assert!(error.retry_after.is_some());
        }
    }
    let output = bots.take_output("bot-2");
    assert!(output.iter().any(|l| l.text.starts_with("[botyard] the Node.js process exited")), "{output:?}");
    // A new version is started whatever the count.
    let url = bots.endpoint("bot-2", "v2", &bundle("v2", ""), env()).await.unwrap();
    assert_eq!(answer(&url).await["version"], "v2");
    bots.stop("bot-2").await;
}

#[tokio::test]
async fn failed_starts_say_why() {
    if !node_installed() {
        return;
    }
    let dir = TempDir::new();
    let bots = bots(&dir, |_| {});

    let throws = bundle("v1", "console.error('connecting to the CRM'); throw new Error('no CRM_KEY set');");
    let error = bots.endpoint("bot-3", "v1", &throws, env()).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::Unavailable);
    assert!(error.message.contains("exited while starting"), "{}", error.message);
    assert!(error.message.contains("connecting to the CRM"), "{}", error.message);
    assert!(error.message.contains("no CRM_KEY set"), "{}", error.message);

    let rejects = bundle(
        "v1",
        "var Failing = class { start() { return Promise.reject(new Error('port refused')); } };",
    )
    .replace("new Bot()", "new Failing()");
    let error = bots.endpoint("bot-4", "v1", &rejects, env()).await.unwrap_err();
    assert!(error.message.contains("port refused"), "{}", error.message);

    let no_start = "\"use strict\";\nmodule.exports = { default: { hello: 1 } };\n";
    let error = bots.endpoint("bot-5", "v1", no_start, env()).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidPayload);
    assert!(error.message.contains("without a default export with start(port)"), "{}", error.message);

    let silent = bundle("v1", "setInterval(() => {}, 1000);")
        .replace("server.listen(port", "if (false) server.listen(port");
    let slow =
        NodeBots::new(NodeSettings { start_timeout_secs: 1, ..NodeSettings::default() }, dir.0.clone());
    let error = slow.endpoint("bot-6", "v1", &silent, env()).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::Timeout);
    assert!(error.message.contains("did not start listening within 1 s"), "{}", error.message);
    assert_eq!(slow.pid("bot-6").await, None);
}

#[tokio::test]
async fn a_missing_node_and_disabled_bots_are_explained() {
    let dir = TempDir::new();
    let bots = bots(&dir, |s| s.command = "/nonexistent/bin/node-for-botyard".into());
    let error = bots.endpoint("bot-7", "v1", &bundle("v1", ""), env()).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::Unavailable);
    assert!(
        error.message.starts_with("Node.js is not installed: install it or set node.command"),
        "{}",
        error.message
    );
    assert!(error.message.contains("/nonexistent/bin/node-for-botyard"), "{}", error.message);

    let disabled = self::bots(&dir, |s| s.enabled = false);
    let error = disabled.endpoint("bot-7", "v1", &bundle("v1", ""), env()).await.unwrap_err();
    assert!(error.message.contains("node.enabled = false"), "{}", error.message);
}

#[tokio::test]
async fn output_is_captured_and_bounded() {
    if !node_installed() {
        return;
    }
    let dir = TempDir::new();
    let bots = bots(&dir, |_| {});
    let noisy = bundle(
        "v1",
        "for (let i = 0; i < 3000; i++) console.log('line ' + i);\n\
         console.log('x'.repeat(100000));\n\
         process.stdout.write('partial');\n\
         console.error('warned');",
    );
    let url = bots.endpoint("bot/8 é", "v1", &noisy, env()).await.unwrap();
    answer(&url).await;
    let waited = Instant::now();
    let mut output = Vec::new();
    while !output.iter().any(|l: &botyard_runtime::node_bots::OutputLine| l.text == "request /echo")
        || !output.iter().any(|l| l.text == "warned")
    {
        assert!(waited.elapsed() < Duration::from_secs(5), "{:?}", output.last());
        tokio::time::sleep(Duration::from_millis(20)).await;
        output.extend(bots.take_output("bot/8 é"));
    }
    assert!(output.len() <= MAX_OUTPUT_LINES + 2, "{}", output.len());
    assert!(output.iter().all(|l| l.text.len() <= MAX_LINE_BYTES));
    assert!(!output.iter().any(|l| l.text == "line 0"), "the oldest lines are dropped");
    assert!(output.iter().any(|l| l.text == "line 2999"));
    let long = output.iter().find(|l| l.text.starts_with("xxx")).unwrap();
    assert!(long.text.ends_with('…') && long.text.len() <= MAX_LINE_BYTES);
    // A line written without a newline before the port was reported is kept.
    assert!(output.iter().any(|l| l.text == "partial"), "{:?}", &output[output.len() - 5..]);
    let warned = output.iter().find(|l| l.text == "warned").unwrap();
    assert_eq!(warned.stream, OutputStream::Stderr);
    // The bot's directory name is safe whatever its id.
    let names: Vec<String> = std::fs::read_dir(dir.0.join("node-bots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() == 1 && names[0].starts_with("bot8-"), "{names:?}");
    bots.stop("bot/8 é").await;
    assert!(bots.take_output("bot/8 é").iter().all(|l| !l.text.contains("exited")));
}

#[test]
fn bundles_are_told_from_sandbox_scripts() {
    assert!(is_bundle(&bundle("v1", "")));
    assert!(is_bundle("\"use strict\";\nmodule.exports = require('./bot');"));
    assert!(is_bundle("exports.default = bot;"));
    assert!(is_bundle("module.exports.default = new Bot();"));
    assert!(is_bundle("Object.defineProperty(exports, \"__esModule\", { value: true });"));
    assert!(!is_bundle("on('message', async (msg) => { Bot.sendMessage('hi ' + msg.text); });"));
    assert!(!is_bundle("Bot.sendMessage('no module.exports here'); // module.exports = x"));
    assert!(!is_bundle("if (module.exports == null) { Bot.sendMessage('?'); }"));
    assert!(!is_bundle("let my_module.exportsCount = 1;"));
    assert!(!is_bundle("Bot.sendMessage(params);"));
}

#[tokio::test]
async fn a_start_given_up_kills_its_process() {
    if !node_installed() {
        return;
    }
    let dir = TempDir::new();
    let bots = bots(&dir, |_| {});
    let silent = bundle("v1", "setInterval(() => {}, 1000);")
        .replace("server.listen(port", "if (false) server.listen(port");
    let runner = dir.0.join("node-bots/bot-9/runner.cjs").display().to_string();
    let running = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&runner))
        })
    };
    let starting = bots.clone();
    let start = tokio::spawn(async move { starting.endpoint("bot-9", "v1", &silent, env()).await });
    let waited = Instant::now();
    while !running() {
        assert!(waited.elapsed() < Duration::from_secs(5), "the process did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.abort();
    assert!(start.await.unwrap_err().is_cancelled());
    let waited = Instant::now();
    while running() {
        assert!(waited.elapsed() < Duration::from_secs(5), "the process outlived its start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
