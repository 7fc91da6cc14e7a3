//! Bots deployed as Node.js bundles: the CommonJS output of `bp deploy` (a bot written with
//! `@botpress/sdk`, whose `module.exports.default` is a `Bot` with `start(port)` serving HTTP).
//! Each such bot runs in a Node.js process of its own, which this module starts, supervises and
//! restarts; botyard then talks to it over loopback HTTP like any bot served at a URL.
//!
//! - Files: the bundle is written to `<data_dir>/node-bots/<bot>/bot.cjs`, next to `runner.cjs`,
//!   a small script of botyard's that requires it, takes its default export (or the module itself)
//!   and calls `start(port)` with the port botyard chose.
//! - Network: the runner makes every server the bot opens listen on 127.0.0.1 only, and reports
//!   the port its first server listens on (on stdout, behind a marker botyard filters out). botyard
//!   talks to that port, so a port taken by someone else between botyard's choice and the bot's
//!   `listen` makes the start fail rather than reach a stranger.
//! - Resources: a process runs the bot's JavaScript on one thread, so it uses at most about one CPU
//!   core; `node.memory_mib` bounds its JavaScript heap (`--max-old-space-size`), not the native
//!   memory Node.js uses besides.
//! - Environment: cleared except `PATH`, `HOME` and what botyard passes (`BP_API_URL`,
//!   `BP_TOKEN`, `BP_BOT_ID`), so botyard's own settings (database URLs, secrets) never reach bots.
//!   The process is not a sandbox otherwise: it runs as botyard's user, so only trusted bundles
//!   should be deployed.
//! - Supervision: a task per process reads its stdout and stderr into a bounded buffer per bot
//!   ([`NodeBots::take_output`]) and notices its exit; a process that died is started again on the
//!   next [`NodeBots::endpoint`] call, at most `node.max_restarts_per_minute` times a minute.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use botyard_core::config::NodeSettings;
use botyard_domain::{Error, ErrorCode, Result, Timestamp};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, DropGuard};

/// Lines kept per bot until they are taken; older ones are dropped.
pub const MAX_OUTPUT_LINES: usize = 1000;
/// The longest line kept, in bytes; longer lines are cut and end with `…`.
pub const MAX_LINE_BYTES: usize = 4096;
/// Lines of stderr quoted in the error of a failed start, and their most bytes.
const STDERR_TAIL_LINES: usize = 20;
const MAX_TAIL_BYTES: usize = 4000;
/// The exit code of the runner when the bundle has no default export with `start`.
const NO_START_EXIT: i32 = 78;

const RUNNER: &str = r#"'use strict';
// Written by botyard: runs the bundled bot in bot.cjs on the port botyard chose.
const net = require('net');
const path = require('path');
const port = Number(process.argv[2]);
const marker = process.argv[3];
const listen = net.Server.prototype.listen;
// Every server listens on loopback only, and its port is reported to botyard.
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    if (first.path === undefined && first.fd === undefined && first.handle === undefined && !first._handle) {
      args[0] = Object.assign({}, first, { host: '127.0.0.1' });
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  } else if (first === undefined || typeof first === 'function') {
    if (args.length > 0 && first === undefined) args.shift();
    args.unshift(0, '127.0.0.1');
  }
  this.once('listening', () => {
    const address = this.address();
    if (address !== null && typeof address === 'object') {
      process.stdout.write(marker + ' ' + address.port + '\n');
    }
  });
  return listen.apply(this, args);
};
const bundle = require(path.join(__dirname, 'bot.cjs'));
const bot = bundle && bundle.default && typeof bundle.default.start === 'function' ? bundle.default : bundle;
if (!bot || typeof bot.start !== 'function') {
  process.stderr.write('botyard: the bundle has no default export with a start(port) method\n');
  process.exit(78); // NO_START_EXIT
}
Promise.resolve()
  .then(() => bot.start(port))
  .catch((error) => {
    process.stderr.write('botyard: start(' + port + ') failed: ' + ((error && error.stack) || String(error)) + '\n');
    process.exit(1);
  });
"#;

/// Whether `code` is a bundle for Node.js (CommonJS output assigning `module.exports` or
/// `exports.default`, as esbuild writes it) rather than a botyard sandbox script.
pub fn is_bundle(code: &str) -> bool {
    if code.contains("__toCommonJS(") {
        return true;
    }
    code.lines().any(|line| {
        let code_part = line.split("//").next().unwrap_or_default();
        assigns(code_part, "module.exports")
            || assigns(code_part, "exports.default")
            || code_part.contains("Object.defineProperty(exports,")
            || code_part.contains("Object.defineProperty(module.exports,")
    })
}

/// Whether `line` assigns `target` or one of its properties (`target =`, `target.x =`).
fn assigns(line: &str, target: &str) -> bool {
    line.match_indices(target).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.') {
            return false;
        }
        let mut rest = line[at + target.len()..].trim_start();
        if let Some(after_dot) = rest.strip_prefix('.') {
            let name_end = after_dot
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(after_dot.len());
            rest = after_dot[name_end..].trim_start();
        }
        rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>")
    })
}

/// Which stream of the process a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// A line a bot's process wrote (at most [`MAX_LINE_BYTES`] long).
#[derive(Debug, Clone, PartialEq)]
pub struct OutputLine {
    pub at: Timestamp,
    pub stream: OutputStream,
    pub text: String,
}

/// The Node.js processes of bundled bots, one per bot. Cheap to clone.
#[derive(Clone)]
pub struct NodeBots {
    inner: Arc<Inner>,
}

struct Inner {
    settings: NodeSettings,
    root: PathBuf,
    bots: Mutex<HashMap<String, Arc<Slot>>>,
}

/// One bot: its process (behind the mutex that lets one start happen at a time) and its output.
struct Slot {
    state: Arc<tokio::sync::Mutex<State>>,
    output: Arc<Mutex<VecDeque<OutputLine>>>,
}

#[derive(Default)]
struct State {
    process: Option<Process>,
    /// The version of the last start, successful or not.
    version: Option<String>,
    /// When the process of that version was started again, within the last minute.
    restarts: VecDeque<Instant>,
    /// Stopped on request: forgotten once its output has been taken.
    stopped: bool,
    /// No longer in the map: whoever holds it looks the bot up again.
    retired: bool,
}

struct Process {
    version: String,
    url: String,
    pid: Option<u32>,
    exit: watch::Receiver<Option<Exit>>,
    /// Kills the process when dropped: with its slot, with a start whose caller gave up, with
    /// the last handle of [`NodeBots`].
    kill: DropGuard,
}

#[derive(Debug, Clone)]
struct Exit {
    code: Option<i32>,
    description: String,
}

impl Process {
    fn alive(&self) -> bool {
        self.exit.borrow().is_none()
    }

    /// Kills the process and waits (a little) until it is gone.
    async fn stop(self) {
        let Self { kill, mut exit, .. } = self;
        drop(kill);
        let _ = tokio::time::timeout(Duration::from_secs(5), exit.wait_for(Option::is_some)).await;
    }
}

impl NodeBots {
    pub fn new(settings: NodeSettings, data_dir: PathBuf) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                root: data_dir.join("node-bots"),
                bots: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn slot(&self, bot: &str) -> Arc<Slot> {
        let mut bots = self.inner.bots.lock().unwrap_or_else(|e| e.into_inner());
        bots.entry(bot.to_owned())
            .or_insert_with(|| Arc::new(Slot { state: Arc::default(), output: Arc::default() }))
            .clone()
    }

    /// The loopback base URL (`http://127.0.0.1:<port>`) of the bot's process for this version of
    /// its code, starting it (or restarting it when `version` changed or it died) and waiting
    /// until `GET /health` answers 200, within `node.start_timeout_secs`. `env` is added to the
    /// process's otherwise cleared environment.
    pub async fn endpoint(
        &self,
        bot: &str,
        version: &str,
        code: &str,
        env: Vec<(String, String)>,
    ) -> Result<String> {
        let settings = &self.inner.settings;
        if !settings.enabled {
            return Err(Error::new(
                ErrorCode::Unavailable,
                "Bundled Botpress bots are disabled on this server (node.enabled = false)",
            ));
        }
        // One start per bot at a time; a slot retired meanwhile is looked up again.
        let (output, mut state) = loop {
            let slot = self.slot(bot);
            let state = slot.state.clone().lock_owned().await;
            if !state.retired {
                break (slot.output.clone(), state);
            }
        };
        state.stopped = false;
        if let Some(process) = &state.process
            && process.version == version
            && process.alive()
        {
            return Ok(process.url.clone());
        }
        if let Some(old) = state.process.take() {
            old.stop().await;
        }
        if state.version.as_deref() == Some(version) {
            let now = Instant::now();
            while state.restarts.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
                state.restarts.pop_front();
            }
            let max = settings.max_restarts_per_minute as usize;
            if state.restarts.len() >= max {
                let wait = state
                    .restarts
                    .front()
                    .map_or(60, |t| 60u64.saturating_sub(now.duration_since(*t).as_secs()).max(1));
                return Err(Error {
                    retry_after: Some(wait),
                    ..Error::new(
                        ErrorCode::Unavailable,
                        format!(
                            "The Node.js process of bot {bot} was restarted too often ({} times in the \
                             last minute, node.max_restarts_per_minute = {max}): it is started again \
                             in {wait} s or when a new version is deployed; see the bot's logs",
                            state.restarts.len()
                        ),
                    )
                });
            }
            state.restarts.push_back(now);
        } else {
            state.version = Some(version.to_owned());
            state.restarts.clear();
        }
        let process = self.start(bot, version, code, env, &output).await?;
        let url = process.url.clone();
        state.process = Some(process);
        Ok(url)
    }

    /// The process id of the bot's process, if it has one.
    pub async fn pid(&self, bot: &str) -> Option<u32> {
        let slot = self.inner.bots.lock().unwrap_or_else(|e| e.into_inner()).get(bot).cloned()?;
        let state = slot.state.lock().await;
        state.process.as_ref().filter(|p| p.alive()).and_then(|p| p.pid)
    }

    /// The lines the bot's process wrote (stdout and stderr), oldest first, since the last call;
    /// at most [`MAX_OUTPUT_LINES`] (older ones are dropped).
    pub fn take_output(&self, bot: &str) -> Vec<OutputLine> {
        let mut bots = self.inner.bots.lock().unwrap_or_else(|e| e.into_inner());
        let Some(slot) = bots.get(bot).cloned() else { return Vec::new() };
        let lines: Vec<OutputLine> =
            slot.output.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
        if let Ok(mut state) = slot.state.try_lock()
            && state.stopped
            && state.process.is_none()
        {
            state.retired = true;
            bots.remove(bot);
        }
        lines
    }

    /// Stops the bot's process; its output stays until taken.
    pub async fn stop(&self, bot: &str) {
        let Some(slot) = self.inner.bots.lock().unwrap_or_else(|e| e.into_inner()).get(bot).cloned() else {
            return;
        };
        let mut state = slot.state.lock().await;
        if let Some(process) = state.process.take() {
            process.stop().await;
        }
        state.stopped = true;
        let mut bots = self.inner.bots.lock().unwrap_or_else(|e| e.into_inner());
        let empty = slot.output.lock().unwrap_or_else(|e| e.into_inner()).is_empty();
        if empty && bots.get(bot).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
            state.retired = true;
            bots.remove(bot);
        }
    }

    /// Stops every bot's process (the server is stopping).
    pub async fn stop_all(&self) {
        let bots: Vec<String> =
            self.inner.bots.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        for bot in bots {
            self.stop(&bot).await;
        }
    }

    async fn start(
        &self,
        bot: &str,
        version: &str,
        code: &str,
        env: Vec<(String, String)>,
        output: &Arc<Mutex<VecDeque<OutputLine>>>,
    ) -> Result<Process> {
        let settings = &self.inner.settings;
        let dir = self.inner.root.join(dir_name(bot));
        let io = |what: &str, e: std::io::Error| Error::internal(format!("{what} {}: {e}", dir.display()));
        tokio::fs::create_dir_all(&dir).await.map_err(|e| io("cannot create", e))?;
        tokio::fs::write(dir.join("bot.cjs"), code).await.map_err(|e| io("cannot write the bundle in", e))?;
        tokio::fs::write(dir.join("runner.cjs"), RUNNER).await.map_err(|e| io("cannot write to", e))?;
        let chosen = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| Error::internal(format!("cannot find a free loopback port: {e}")))?
            .port();
        let marker = format!("botyard-listening-{}", uuid::Uuid::new_v4().simple());

        let mut command = tokio::process::Command::new(&settings.command);
        command
            .arg(format!("--max-old-space-size={}", settings.memory_mib.max(16))) // Node.js needs some
            .arg(dir.join("runner.cjs"))
            .arg(chosen.to_string())
            .arg(&marker)
            .current_dir(&dir)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for key in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        command.envs(env);
        let mut child = command.spawn().map_err(|e| spawn_error(&settings.command, &e))?;
        let pid = child.id();
        tracing::info!(bot, version, pid, "started the Node.js process of a bundled bot");

        let (port_tx, port_rx) = watch::channel(None::<u16>);
        let (exit_tx, exit_rx) = watch::channel(None::<Exit>);
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let stdout = child.stdout.take().map(|out| {
            let (output, marker) = (output.clone(), marker.clone());
            tokio::spawn(read_lines(out, move |text| {
                if let Some(at) = text.find(&marker) {
                    if let Ok(port) = text[at + marker.len()..].trim().parse::<u16>() {
                        port_tx.send_if_modified(|p| p.is_none() && p.replace(port).is_none());
                    }
                    if text[..at].trim().is_empty() {
                        return;
                    }
                    push(&output, OutputStream::Stdout, text[..at].to_owned());
                } else {
                    push(&output, OutputStream::Stdout, text);
                }
            }))
        });
        let stderr = child.stderr.take().map(|err| {
            let (output, tail) = (output.clone(), tail.clone());
            tokio::spawn(read_lines(err, move |text| {
                let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                if tail.len() == STDERR_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(text.clone());
                push(&output, OutputStream::Stderr, text);
            }))
        });
        let kill = CancellationToken::new();
        let (supervisor_kill, supervisor_output, bot_name) = (kill.clone(), output.clone(), bot.to_owned());
        tokio::spawn(async move {
            let (status, killed) = tokio::select! {
                status = child.wait() => (status, false),
                () = supervisor_kill.cancelled() => {
                    let _ = child.start_kill();
                    (child.wait().await, true)
                }
            };
            let readers = async {
                for reader in [stdout, stderr].into_iter().flatten() {
                    let _ = reader.await;
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), readers).await;
            let exit = match status {
                Ok(status) => Exit { code: status.code(), description: status.to_string() },
                Err(e) => Exit { code: None, description: format!("unknown status ({e})") },
            };
            if !killed {
                tracing::warn!(
                    bot = bot_name,
                    status = exit.description,
                    "a bundled bot's Node.js process exited"
                );
                push(
                    &supervisor_output,
                    OutputStream::Stderr,
                    format!("[botyard] the Node.js process exited ({})", exit.description),
                );
            }
            let _ = exit_tx.send(Some(exit));
        });

        let (version, kill) = (version.to_owned(), kill.drop_guard());
        let process = Process { version, url: String::new(), pid, exit: exit_rx, kill };
        match self.wait_ready(bot, &process, port_rx, &tail).await {
            Ok(port) => Ok(Process { url: format!("http://127.0.0.1:{port}"), ..process }),
            Err(e) => {
                process.stop().await;
                Err(e)
            }
        }
    }

    /// Waits until the process reports its port and answers `GET /health` with 200 there.
    async fn wait_ready(
        &self,
        bot: &str,
        process: &Process,
        port: watch::Receiver<Option<u16>>,
        tail: &Mutex<VecDeque<String>>,
    ) -> Result<u16> {
        let timeout = Duration::from_secs(self.inner.settings.start_timeout_secs.max(1));
        let deadline = Instant::now() + timeout;
        let stderr_tail = || {
            let lines = tail.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect::<Vec<_>>();
            let text = lines.join("\n");
            let mut from = text.len().saturating_sub(MAX_TAIL_BYTES);
            while !text.is_char_boundary(from) {
                from += 1;
            }
            if text.is_empty() {
                " It wrote nothing to stderr.".to_owned()
            } else {
                format!(" Its stderr ended with:\n{}", &text[from..])
            }
        };
        loop {
            let exited = process.exit.borrow().clone();
            if let Some(exit) = exited {
                if exit.code == Some(NO_START_EXIT) {
                    return Err(Error::invalid(format!(
                        "The code of bot {bot} is a bundle without a default export with start(port): \
                         module.exports.default (or module.exports) must be an object with a start \
                         method, as the output of `bp build` is"
                    )));
                }
                return Err(Error::new(
                    ErrorCode::Unavailable,
                    format!(
                        "The Node.js process of bot {bot} exited while starting ({}).{}",
                        exit.description,
                        stderr_tail()
                    ),
                ));
            }
            let listening = *port.borrow();
            if let Some(port) = listening
                && healthy(port, deadline).await
            {
                return Ok(port);
            }
            if Instant::now() >= deadline {
                let what = if listening.is_some() {
                    "did not answer GET /health with 200"
                } else {
                    "did not start listening"
                };
                return Err(Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "The Node.js process of bot {bot} {what} within {} s (node.start_timeout_secs).{}",
                        timeout.as_secs(),
                        stderr_tail()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Whether `GET /health` on the loopback port answers 200 (before `deadline`).
async fn healthy(port: u16, deadline: Instant) -> bool {
    let check = async {
        let mut stream = tokio::net::TcpStream::connect((std::net::Ipv4Addr::LOCALHOST, port)).await.ok()?;
        let request = format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
    };
    let limit = deadline.saturating_duration_since(Instant::now()).min(Duration::from_secs(2));
    matches!(tokio::time::timeout(limit, check).await, Ok(Some(true)))
}

fn spawn_error(command: &str, error: &std::io::Error) -> Error {
    let message = if error.kind() == std::io::ErrorKind::NotFound {
        format!(
            "Node.js is not installed: install it or set node.command (now \"{command}\") in the \
             configuration to run bundled Botpress bots"
        )
    } else {
        format!(
            "Node.js (node.command = \"{command}\") cannot be started ({error}): bundled Botpress bots cannot run"
        )
    };
    Error::new(ErrorCode::Unavailable, message)
}

/// The bot's directory name: its id if that is a plain name, else a plain name and a hash of it.
fn dir_name(bot: &str) -> String {
    let plain: String =
        bot.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(64).collect();
    if plain == bot && !plain.is_empty() {
        plain
    } else {
        use md5::{Digest, Md5};
        format!("{plain}-{}", hex::encode(&Md5::digest(bot.as_bytes())[..8]))
    }
}

fn push(output: &Mutex<VecDeque<OutputLine>>, stream: OutputStream, text: String) {
    let mut lines = output.lock().unwrap_or_else(|e| e.into_inner());
    while lines.len() >= MAX_OUTPUT_LINES {
        lines.pop_front();
    }
    lines.push_back(OutputLine { at: Timestamp::now(), stream, text });
}

/// Reads `reader` line by line, giving each line (cut at [`MAX_LINE_BYTES`]) to `each`, never
/// holding more than one such line in memory.
async fn read_lines(reader: impl AsyncRead + Unpin, mut each: impl FnMut(String)) {
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    let mut cut = false;
    let finish = |line: &mut Vec<u8>, cut: &mut bool| {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let mut text = String::from_utf8_lossy(line).into_owned();
        if std::mem::take(cut) || text.len() > MAX_LINE_BYTES {
            let mut end = MAX_LINE_BYTES.min(text.len()).saturating_sub('…'.len_utf8());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push('…');
        }
        line.clear();
        text
    };
    loop {
        let buffer = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(buffer) => buffer,
        };
        let newline = buffer.iter().position(|b| *b == b'\n');
        let chunk = &buffer[..newline.unwrap_or(buffer.len())];
        let room = MAX_LINE_BYTES.saturating_sub(line.len());
        if chunk.len() > room {
            cut = true;
        }
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = newline.map_or(buffer.len(), |at| at + 1);
        reader.consume(used);
        if newline.is_some() {
            each(finish(&mut line, &mut cut));
        }
    }
    if !line.is_empty() {
        each(finish(&mut line, &mut cut));
    }
}
