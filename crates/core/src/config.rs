//! botyard's configuration: one typed struct, layered defaults → TOML file → `BOTYARD_*`
//! environment → command-line flags, and checked once at start-up.
//!
//! Environment variables name keys in upper case with `__` between nested keys:
//! `BOTYARD_LISTEN` is `listen`, `BOTYARD_AUTH__SIGNUP` is `[auth] signup`. Values are read as
//! TOML (`false`, `10`, `["a", "b"]`) and otherwise taken as strings.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use botyard_domain::plan::Plan;
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: String,
    /// Directory for the SQLite database and files; created if missing.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; empty means SQLite in `data_dir`.
    pub database_url: String,
    /// The URL clients reach this server at, used in links botyard hands out; empty means
    /// `http://<listen>`.
    pub public_url: String,
    /// The address the server bound, as a URL (`http://127.0.0.1:8080`): set at start, not
    /// configured; links made where no request gives a `Host` fall back to it.
    #[serde(skip)]
    pub bound_url: String,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub cache: CacheConfig,
    pub sandbox: SandboxSettings,
    pub runtime: RuntimeSettings,
    pub jobs: JobsSettings,
    pub outbound: OutboundSettings,
    pub telegram: TelegramSettings,
    pub node: NodeSettings,
    pub metrics: MetricsSettings,
    /// The plans workspaces can be on; the first is the plan of new workspaces.
    pub plans: Vec<Plan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxSettings {
    /// Executor threads running bot code (0: two per CPU, at least 4).
    pub executors: usize,
    /// Runs one workspace may have going at once (0: all executors but one), so that one tenant's
    /// busy scripts never hold every executor.
    pub max_runs_per_workspace: usize,
    /// Runs one bot may have going at once (0: as many as its workspace).
    pub max_runs_per_bot: usize,
    /// Memory limit of each executor, in MiB.
    pub memory_mib: usize,
    /// Stack limit of a run, in KiB.
    pub stack_kib: usize,
    /// Wall-time limit of a run when the bot sets none (`maxExecutionTime`), in seconds.
    pub default_time_limit_secs: u32,
    /// The longest any run may take, whatever the bot or its plan says, in seconds.
    pub max_time_limit_secs: u32,
    /// How many commands one run may start with `Bot.runCommand` and `Bot.run`.
    pub max_subcommands: u32,
    /// How many delayed runs (`Bot.run` with `run_after`) of one bot may wait at once; runs that
    /// schedule more are refused, so a bot scheduling itself twice per run cannot fan out.
    pub max_pending_runs_per_bot: u64,
    /// What one run may do at most (`[sandbox.run_caps]`).
    pub run_caps: botyard_domain::effects::RunCaps,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            executors: 0,
            max_runs_per_workspace: 0,
            max_runs_per_bot: 0,
            memory_mib: 32,
            stack_kib: 256,
            default_time_limit_secs: 5,
            max_time_limit_secs: 25,
            max_subcommands: 50,
            max_pending_runs_per_bot: 1000,
            run_caps: botyard_domain::effects::RunCaps::default(),
        }
    }
}

/// How messages are queued and run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeSettings {
    /// How long a node's claim on what it accepted lasts without renewal; after a crash, another
    /// node runs what it left once this has passed (on SQLite, the restarted node does at once).
    pub node_lease_secs: u64,
    /// Messages one chat may have waiting; the web chat and Chat API answer 429 beyond.
    pub max_queued_per_chat: usize,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self { node_lease_secs: 15, max_queued_per_chat: 100 }
    }
}

impl SandboxSettings {
    /// The executor threads to start.
    pub fn executor_count(&self) -> usize {
        if self.executors == 0 {
            std::thread::available_parallelism().map(|n| n.get() * 2).unwrap_or(4).max(4)
        } else {
            self.executors
        }
    }
}

/// The Telegram channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelegramSettings {
    /// The Bot API's base URL (tests point it at a fake server).
    pub api_base: String,
    /// `polling` (getUpdates) or `webhook` (Telegram posts updates to `public_url`, which must be
    /// https and reachable from Telegram).
    pub mode: String,
    /// Long-polling timeout of getUpdates, in seconds.
    pub poll_timeout_secs: u64,
    /// Messages per second to one chat (short bursts of three are allowed).
    pub per_chat_per_second: f64,
    /// Messages per minute to one group.
    pub per_group_per_minute: u32,
    /// Messages per second a bot sends in all.
    pub per_bot_per_second: u32,
    /// Chats per second a broadcast reaches; at most `per_bot_per_second` unless
    /// `paid_broadcasts` (Telegram's paid broadcasts allow up to 1000).
    pub broadcast_per_second: u32,
    pub paid_broadcasts: bool,
    /// Times a send is tried before it is given up (429s are not counted).
    pub max_attempts: u32,
    /// Time limit of one Bot API call, in seconds (long polls add their timeout).
    pub request_timeout_secs: u64,
}

impl Default for TelegramSettings {
    fn default() -> Self {
        Self {
            api_base: "https://api.telegram.org".into(),
            mode: "polling".into(),
            poll_timeout_secs: 25,
            per_chat_per_second: 1.0,
            per_group_per_minute: 20,
            per_bot_per_second: 30,
            broadcast_per_second: 30,
            paid_broadcasts: false,
            max_attempts: 8,
            request_timeout_secs: 15,
        }
    }
}

impl TelegramSettings {
    /// The broadcast rate, within what Telegram allows.
    pub fn broadcast_rate(&self) -> u32 {
        let cap = if self.paid_broadcasts { 1000 } else { self.per_bot_per_second };
        self.broadcast_per_second.clamp(1, cap.max(1))
    }
}

/// Connections botyard makes on behalf of users: scripts' `HTTP.*` calls, bots' `csv_url`, git
/// remotes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundSettings {
    /// Networks no such request may reach (CIDR); by default the server's own and private
    /// networks. Set `deny = []` to allow everything.
    pub deny: Vec<String>,
    /// Time limit of a script's HTTP request, in seconds.
    pub timeout_secs: u64,
    /// The largest response a script's HTTP request reads, in bytes.
    pub max_response_bytes: usize,
    /// URL prefixes replaced before a bot's HTTP call is made, e.g.
    /// `"https://api.twilio.com" = "http://twilio-mock.internal:8080"`: a staging server sends the
    /// calls its bots make to third-party services to a sandbox or mock instead. The rewritten URL
    /// is checked against `deny` like any other.
    pub rewrite: std::collections::BTreeMap<String, String>,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self {
            deny: botyard_domain::net::PRIVATE_NETWORKS.iter().map(|n| (*n).to_owned()).collect(),
            timeout_secs: 10,
            max_response_bytes: 1024 * 1024,
            rewrite: std::collections::BTreeMap::new(),
        }
    }
}

impl OutboundSettings {
    /// The denied networks (checked at start-up).
    pub fn denied_networks(&self) -> Vec<botyard_domain::net::Network> {
        self.deny.iter().filter_map(|n| botyard_domain::net::Network::parse(n).ok()).collect()
    }

    /// `url` after the longest matching `rewrite` prefix is replaced.
    pub fn rewritten(&self, url: &str) -> String {
        self.rewrite
            .iter()
            .filter(|(from, _)| !from.is_empty() && url.starts_with(from.as_str()))
            .max_by_key(|(from, _)| from.len())
            .map_or_else(|| url.to_owned(), |(from, to)| format!("{to}{}", &url[from.len()..]))
    }
}

/// Bots deployed as Node.js bundles (the CommonJS output `bp deploy` uploads to Botpress Cloud):
/// each runs in a Node.js process of its own, which botyard starts, supervises and reaches over
/// loopback HTTP. A process runs JavaScript on one thread, so it uses at most about one CPU core;
/// `memory_mib` bounds its JavaScript heap (not the native memory Node.js needs besides).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeSettings {
    /// Whether bundled bots are run at all.
    pub enabled: bool,
    /// The Node.js executable: a name looked up in `PATH` or a path.
    pub command: String,
    /// The JavaScript heap of each bot's process, in MiB (`--max-old-space-size`).
    pub memory_mib: u64,
    /// How long a process may take until it answers `GET /health`, in seconds.
    pub start_timeout_secs: u64,
    /// Restarts of one bot's process (after it died or failed to start) within a minute beyond
    /// which it is not started again until the minute has passed or a new version is deployed.
    pub max_restarts_per_minute: u32,
}

impl Default for NodeSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            command: "node".into(),
            memory_mib: 256,
            start_timeout_secs: 15,
            max_restarts_per_minute: 5,
        }
    }
}

/// The background job system (imports, exports, copies) and the limits of what it reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsSettings {
    /// Imports, exports and copies this node works on at once.
    pub workers: usize,
    /// Runs of bot code from the queue (delayed runs, auto-retries, recurring events, HTTP
    /// callbacks) this node works on at once.
    pub run_workers: usize,
    /// Broadcasts this node delivers at once.
    pub broadcast_workers: usize,
    /// How long a claimed job stays with its worker without news; a job whose worker died is
    /// taken up again after this.
    pub lease_secs: u64,
    /// How often idle workers look for jobs other nodes enqueued, in milliseconds.
    pub poll_interval_ms: u64,
    /// Times a job is tried before it fails for good (interruptions and transient errors).
    pub max_attempts: u32,
    /// How long uploaded files and export archives are kept, in hours.
    pub file_ttl_hours: u64,
    /// The largest uploaded file (Kore.ai `uploadfile`, CSV, archives), in bytes.
    pub upload_max_bytes: usize,
    /// The most an archive (ZIP) may unpack to, in bytes; also bounds each entry.
    pub unpacked_max_bytes: u64,
    /// The largest file a git repository may hold, in bytes.
    pub git_file_max_bytes: u64,
    /// Whether git remotes may be local paths (`/srv/repo.git`, `file://…`): off by default, as
    /// they let API users read repositories on the server's disk.
    pub git_local_remotes: bool,
    /// Whether git remotes may be plain `http://` (credentials and code travel unencrypted).
    pub git_allow_http: bool,
    /// How long one git fetch or push may take, in seconds.
    pub git_timeout_secs: u64,
    /// The most a git remote may send during one transfer, in bytes (counted as it arrives).
    pub git_transfer_max_bytes: u64,
    /// Limits of fetching a bot's `csv_url`.
    pub fetch_timeout_secs: u64,
    pub fetch_max_bytes: usize,
    /// How often a node makes sure the next auto-retry runs and recurring events are queued, in
    /// milliseconds.
    pub scheduler_interval_ms: u64,
    /// How long finished jobs are kept, in hours.
    pub retention_hours: u64,
    /// Fail points armed for tests (failure injection); empty in production.
    pub failpoints: Vec<String>,
}

impl Default for JobsSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            run_workers: 4,
            broadcast_workers: 2,
            lease_secs: 60,
            poll_interval_ms: 1000,
            max_attempts: 3,
            file_ttl_hours: 24,
            upload_max_bytes: 50 * 1024 * 1024,
            unpacked_max_bytes: 200 * 1024 * 1024,
            git_file_max_bytes: 1024 * 1024,
            git_local_remotes: false,
            git_allow_http: false,
            git_timeout_secs: 60,
            git_transfer_max_bytes: 20 * 1024 * 1024,
            fetch_timeout_secs: 30,
            fetch_max_bytes: 20 * 1024 * 1024,
            scheduler_interval_ms: 1000,
            retention_hours: 7 * 24,
            failpoints: Vec::new(),
        }
    }
}

/// `GET /metrics`: the server's metrics in Prometheus's text format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Whether `/metrics` is served (404 when not).
    pub enabled: bool,
    /// When set, `/metrics` asks for `Authorization: Bearer <token>` (401 without it).
    pub token: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self { enabled: true, token: String::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter such as `info` or `botyard=debug,sqlx=warn`.
    pub level: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Whether anyone may sign up; when off, only invited emails can.
    pub signup: bool,
    pub session_ttl_hours: u64,
    /// Failed sign-ins of one email within `signin_window_secs` before it is locked for the rest of
    /// the window.
    pub signin_max_failures: u32,
    pub signin_window_secs: u64,
    /// Sign-ins and password changes that may wait for a password check (one runs per CPU);
    /// beyond this they are refused with 503.
    pub password_queue: usize,
    /// The token of the Telegram bot of the Login Widget (`/v2/auth/telegram_login`): its
    /// signatures are checked with it. Empty: Telegram login is off.
    pub telegram_login_token: String,
    /// How old a Login Widget signature (`auth_date`) may be.
    pub telegram_login_max_age_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// How long a node keeps a checked credential, a role or a bot. Changes remove entries at
    /// once on every node (on PostgreSQL through notifications); this bounds staleness should a
    /// notification be lost. 0 disables the caches.
    pub ttl_secs: u64,
    /// How many bots a node keeps in memory.
    pub bots: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self { ttl_secs: 60, bots: 10_000 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub body_limit_bytes: usize,
    /// Origins allowed by CORS; `["*"]` allows any, empty disables CORS headers.
    pub cors_origins: Vec<String>,
    /// Sustained requests per second per credential (or per client address when anonymous).
    pub rate_limit_per_second: u32,
    /// Requests a credential may send at once above the sustained rate.
    pub rate_limit_burst: u32,
    pub request_timeout_secs: u64,
    /// Proxies in front of botyard (CIDR) whose `X-Forwarded-For` names the client, for rate
    /// limiting anonymous requests by address.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./botyard-data"),
            database_url: String::new(),
            public_url: String::new(),
            bound_url: String::new(),
            log: LogConfig::default(),
            auth: AuthConfig::default(),
            http: HttpConfig::default(),
            database: DatabaseConfig::default(),
            cache: CacheConfig::default(),
            sandbox: SandboxSettings::default(),
            runtime: RuntimeSettings::default(),
            jobs: JobsSettings::default(),
            outbound: OutboundSettings::default(),
            telegram: TelegramSettings::default(),
            node: NodeSettings::default(),
            metrics: MetricsSettings::default(),
            plans: botyard_domain::plan::default_plans(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: "text".into(), level: "info".into() }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            signup: true,
            session_ttl_hours: 24 * 30,
            signin_max_failures: 5,
            signin_window_secs: 15 * 60,
            password_queue: 64,
            telegram_login_token: String::new(),
            telegram_login_max_age_secs: 24 * 3600,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit_bytes: 10 * 1024 * 1024,
            cors_origins: Vec::new(),
            rate_limit_per_second: 100,
            rate_limit_burst: 200,
            request_timeout_secs: 60,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout_secs: 10 }
    }
}

/// Where configuration comes from, in increasing precedence after the defaults.
#[derive(Debug, Default, Clone)]
pub struct ConfigSources {
    pub file: Option<PathBuf>,
    /// `(name, value)` pairs of the process environment.
    pub env: Vec<(String, String)>,
    /// Values from command-line flags, as `(key, value)` with dotted keys.
    pub flags: Vec<(String, String)>,
}

/// Environment variables with the `BOTYARD_` prefix that are not configuration keys.
const NOT_CONFIG_ENV: [&str; 4] =
    ["BOTYARD_CONFIG", "BOTYARD_ADMIN_EMAIL", "BOTYARD_ADMIN_PASSWORD", "BOTYARD_TEST_POSTGRES_URL"];

impl Config {
    /// Layers the sources over the defaults and checks the result.
    pub fn load(sources: &ConfigSources) -> Result<Self, String> {
        let mut table = Table::try_from(Config::default()).map_err(|e| e.to_string())?;
        if let Some(path) = &sources.file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("Cannot read the configuration file {}: {e}", path.display()))?;
            let file: Table = text
                .parse()
                .map_err(|e| format!("The configuration file {} is not valid TOML: {e}", path.display()))?;
            merge(&mut table, file);
        }
        for (name, raw) in &sources.env {
            let Some(rest) = name.strip_prefix("BOTYARD_") else { continue };
            if NOT_CONFIG_ENV.contains(&name.as_str()) || name.starts_with("BOTYARD_TEST_") {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
            set_path(&mut table, &path, parse_value(raw))
                .map_err(|e| format!("Environment variable {name}: {e}"))?;
        }
        for (key, raw) in &sources.flags {
            let path: Vec<String> = key.split('.').map(str::to_owned).collect();
            set_path(&mut table, &path, Value::String(raw.clone()))?;
        }
        let config: Config = Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| format!("Invalid configuration: {}", e.message()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that types alone cannot.
    pub fn validate(&self) -> Result<(), String> {
        self.listen_addr()?;
        if self.http.body_limit_bytes < 1024 {
            return Err("http.body_limit_bytes must be at least 1024".into());
        }
        if self.http.rate_limit_per_second == 0 {
            return Err("http.rate_limit_per_second must be at least 1".into());
        }
        if !["text", "json"].contains(&self.log.format.as_str()) {
            return Err(format!("log.format must be \"text\" or \"json\", not \"{}\"", self.log.format));
        }
        if self.auth.session_ttl_hours == 0 {
            return Err("auth.session_ttl_hours must be at least 1".into());
        }
        if self.plans.is_empty() {
            return Err("plans must list at least one plan".into());
        }
        if self.sandbox.memory_mib < 4 || self.sandbox.stack_kib < 64 {
            return Err("sandbox.memory_mib must be at least 4 and sandbox.stack_kib at least 64".into());
        }
        if self.sandbox.default_time_limit_secs == 0 || self.sandbox.max_time_limit_secs == 0 {
            return Err("sandbox time limits must be at least 1 second".into());
        }
        if self.database.max_connections == 0 {
            return Err("database.max_connections must be at least 1".into());
        }
        if !["polling", "webhook"].contains(&self.telegram.mode.as_str()) {
            return Err(format!(
                "telegram.mode must be \"polling\" or \"webhook\", not \"{}\"",
                self.telegram.mode
            ));
        }
        if self.telegram.mode == "webhook" && !self.public_url.starts_with("https://") {
            return Err(
                "telegram.mode = \"webhook\" needs public_url to be an https:// URL Telegram can reach"
                    .into(),
            );
        }
        if self.telegram.per_chat_per_second <= 0.0
            || self.telegram.per_bot_per_second == 0
            || self.telegram.per_group_per_minute == 0
        {
            return Err("telegram rate limits must be positive".into());
        }
        for network in &self.http.trusted_proxies {
            botyard_domain::net::Network::parse(network)
                .map_err(|e| format!("http.trusted_proxies: {}", e.message))?;
        }
        for network in &self.outbound.deny {
            botyard_domain::net::Network::parse(network)
                .map_err(|e| format!("outbound.deny: {}", e.message))?;
        }
        if self.jobs.lease_secs == 0 || self.jobs.max_attempts == 0 || self.jobs.poll_interval_ms == 0 {
            return Err(
                "jobs.lease_secs, jobs.max_attempts and jobs.poll_interval_ms must be at least 1".into()
            );
        }
        let url = self.database_url();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(format!(
                "database_url \"{url}\" is not supported: use sqlite://PATH or postgres://USER@HOST/DB"
            ));
        }
        Ok(())
    }

    /// The address links are made with when no request gives one (webhook and web app URLs in
    /// scripts): `public_url`, else the address the server bound; without a trailing `/`.
    pub fn link_base(&self) -> &str {
        let public = if self.public_url.trim().is_empty() { &self.bound_url } else { &self.public_url };
        public.trim().trim_end_matches('/')
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.listen.parse().map_err(|_| {
            format!(
                "listen \"{}\" is not an address and port such as 127.0.0.1:8080 (the port must be 0-65535)",
                self.listen
            )
        })
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            format!("sqlite://{}", self.data_dir.join("botyard.db").display())
        } else {
            self.database_url.trim().to_owned()
        }
    }

    pub fn uses_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    /// Creates the data directory if needed and checks that botyard can write to it.
    pub fn prepare_data_dir(&self) -> Result<(), String> {
        prepare_dir(&self.data_dir)
    }
}

fn prepare_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("Cannot create the data directory {}: {e}", dir.display()))?;
    let probe = dir.join(".botyard-write-check");
    std::fs::write(&probe, b"ok")
        .map_err(|e| format!("The data directory {} is not writable: {e}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn set_path(table: &mut Table, path: &[String], value: Value) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut current = table;
    for part in parents {
        current = match current.entry(part.clone()).or_insert_with(|| Value::Table(Table::new())) {
            Value::Table(t) => t,
            _ => return Err(format!("`{part}` is not a section")),
        };
    }
    current.insert(last.clone(), value);
    Ok(())
}

/// Reads an environment value as a TOML value, or as a plain string when it is not one.
fn parse_value(raw: &str) -> Value {
    format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("botyard.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\n[auth]\nsignup = false\nsession_ttl_hours = 5\n")
            .unwrap();
        let sources = ConfigSources {
            file: Some(file),
            env: vec![
                ("BOTYARD_AUTH__SESSION_TTL_HOURS".into(), "7".into()),
                ("BOTYARD_LISTEN".into(), "127.0.0.1:9001".into()),
                ("BOTYARD_TEST_POSTGRES_URL".into(), "ignored".into()),
                ("PATH".into(), "/bin".into()),
            ],
            flags: vec![("listen".into(), "127.0.0.1:9002".into())],
        };
        let config = Config::load(&sources).unwrap();
        assert_eq!(config.listen, "127.0.0.1:9002");
        assert!(!config.auth.signup);
        assert_eq!(config.auth.session_ttl_hours, 7);
        assert_eq!(config.http.body_limit_bytes, 10 * 1024 * 1024);
    }

    #[test]
    fn reports_bad_values_and_unknown_keys() {
        let bad_port =
            ConfigSources { flags: vec![("listen".into(), "127.0.0.1:99999".into())], ..Default::default() };
        assert!(Config::load(&bad_port).unwrap_err().contains("port"));
        let unknown = ConfigSources { env: vec![("BOTYARD_LISTN".into(), "x".into())], ..Default::default() };
        assert!(Config::load(&unknown).unwrap_err().contains("listn"));
        let bad_db =
            ConfigSources { flags: vec![("database_url".into(), "mysql://x".into())], ..Default::default() };
        assert!(Config::load(&bad_db).unwrap_err().contains("mysql"));
    }
}
