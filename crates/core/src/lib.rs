//! botyard's services: the use cases every API dialect calls — accounts and credentials,
//! workspaces and their members, bots — with access checks, over the [`Store`]. Handlers parse
//! a request, call one method of [`Services`] and render its result in their dialect.

pub mod accounts;
pub mod app_tokens;
pub mod apps;
pub mod bots;
pub mod cache;
pub mod cache_sync;
pub mod commands;
pub mod config;
pub mod content;
pub mod conversations;
pub mod cpu;
pub mod credentials;
pub mod insights;
pub mod members;
pub mod metrics;
pub mod outbound;
pub mod plans;
pub mod telegram_login;
pub mod throttle;
pub mod transfers;
pub mod workspaces;

use std::sync::Arc;
use std::time::Duration;

use botyard_domain::account::{Role, User};
use botyard_domain::bot::Bot;
use botyard_domain::command::Command;
use botyard_domain::content::{AdminPanel, Lib};
use botyard_domain::{BotRef, Result, UserId, WorkspaceId};
use botyard_store::{Store, StoreOptions};

pub use accounts::{Caller, Credential, SignIn, SignUp};
pub use bots::{BotAccess, NewBot, WorkspaceAccess};
pub use config::Config;

/// The services and what they share; cheap to clone.
#[derive(Clone)]
pub struct Services {
    /// The accounts, workspaces, bots and their content this layer owns (the runtime, the jobs
    /// and the channels are given their own handle for what they own).
    store: Store,
    pub config: Arc<Config>,
    /// This server's metrics, recorded by every layer (`GET /metrics`).
    pub metrics: Arc<metrics::Metrics>,
    signin_throttle: Arc<throttle::FailureThrottle>,
    /// Password hashing, bounded in concurrency and queue.
    passwords: Arc<credentials::PasswordWork>,
    /// Credential digest → caller.
    callers: Arc<cache::TtlCache<String, Caller>>,
    /// (user, workspace) → role.
    roles: Arc<cache::TtlCache<(UserId, WorkspaceId), Role>>,
    /// Bots by number and by id.
    bots: Arc<cache::TtlCache<BotRef, Bot>>,
    /// Bots by the id of their web channel (the Chat API's webhook id).
    web_bots: Arc<cache::TtlCache<String, Bot>>,
    /// Every command of a bot, by bot number.
    commands: Arc<cache::TtlCache<i64, Arc<Vec<Command>>>>,
    /// Every library of a bot, by bot number.
    libs: Arc<cache::TtlCache<i64, Arc<Vec<Lib>>>>,
    /// Every admin panel of a bot, by bot number.
    panels: Arc<cache::TtlCache<i64, Arc<Vec<AdminPanel>>>>,
    /// Bot owners as scripts see them (`owner`), by user id; an email change shows within the TTL.
    owners: Arc<cache::TtlCache<UserId, Option<User>>>,
    /// Called with every change notification from other nodes (the runtime's message fan-out).
    change_hooks: Arc<std::sync::RwLock<Vec<ChangeHook>>>,
}

/// A function told about change notifications other nodes publish.
pub type ChangeHook = Arc<dyn Fn(&str) + Send + Sync>;

impl Services {
    /// Opens the database named by the configuration; returns the services and the store for the
    /// layers that own the rest of the data (runtime, jobs, channels).
    pub async fn open(config: Config) -> Result<(Self, Store)> {
        let options = StoreOptions {
            max_connections: config.database.max_connections,
            acquire_timeout: Duration::from_secs(config.database.acquire_timeout_secs),
            ..StoreOptions::default()
        };
        let store = Store::open(&config.database_url(), &options).await?;
        Ok((Self::new(store.clone(), config), store))
    }

    /// Closes the database (the server is stopping).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Whether the database answers; the backend's name when it does.
    pub async fn database_ready(&self) -> Result<&'static str> {
        self.store.ping().await?;
        Ok(self.store.backend().name())
    }

    /// Every metric in Prometheus's text format, with the database pools' use as of now.
    pub fn render_metrics(&self) -> String {
        for (pool, usage) in self.store.pool_use() {
            self.metrics
                .set_pool(pool, metrics::PoolUse { in_use: usage.in_use, idle: usage.idle, max: usage.max });
        }
        self.metrics.encode()
    }

    pub fn new(store: Store, config: Config) -> Self {
        let signin_throttle = throttle::FailureThrottle::new(
            config.auth.signin_max_failures,
            Duration::from_secs(config.auth.signin_window_secs),
        );
        let ttl = Duration::from_secs(config.cache.ttl_secs);
        Self {
            store,
            signin_throttle: Arc::new(signin_throttle),
            passwords: Arc::new(credentials::PasswordWork::new(
                std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
                config.auth.password_queue,
            )),
            callers: Arc::new(cache::TtlCache::new(ttl, 100_000)),
            roles: Arc::new(cache::TtlCache::new(ttl, 100_000)),
            bots: Arc::new(cache::TtlCache::new(ttl, config.cache.bots)),
            web_bots: Arc::new(cache::TtlCache::new(ttl, config.cache.bots)),
            commands: Arc::new(cache::TtlCache::new(ttl, config.cache.bots)),
            libs: Arc::new(cache::TtlCache::new(ttl, config.cache.bots)),
            panels: Arc::new(cache::TtlCache::new(ttl, config.cache.bots)),
            owners: Arc::new(cache::TtlCache::new(ttl, config.cache.bots)),
            change_hooks: Arc::default(),
            metrics: Arc::new(metrics::Metrics::new()),
            config: Arc::new(config),
        }
    }
}
