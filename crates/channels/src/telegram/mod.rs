//! The Telegram channel: receiving updates (long polling or webhook) and sending through the
//! outbox. See the crate's documentation for how it works.

pub mod api;
mod limits;
mod lookups;
mod receiver;
mod sender;
mod updates;

use std::sync::Arc;
use std::time::Duration;

use botyard_core::BotAccess;
use botyard_core::Services;
use botyard_domain::bot::{Bot, RunState};
use botyard_domain::{Error, ErrorCode, Result};
use botyard_runtime::Runtime;
use botyard_store::Store;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use api::{ApiError, BotApi};

/// How long a webhook secret read from the database is trusted without reading it again.
const SECRET_FRESH: Duration = Duration::from_secs(5);

/// The Telegram channel of this node; cheap to clone.
#[derive(Clone)]
pub struct Telegram {
    inner: Arc<Inner>,
}

struct Inner {
    services: Services,
    /// Telegram's tables (receivers, updates, outbox) and the conversations it writes.
    store: Store,
    runtime: Runtime,
    api: BotApi,
    limits: limits::Limits,
    /// This node's name in receiver leases and the outbox.
    node: String,
    stopping: CancellationToken,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
    /// Webhook secrets as last read or set, per bot, with when: an update is checked without a
    /// query. A secret that does not match is read again, and one older than `SECRET_FRESH` is
    /// not trusted (another node may have registered a new one).
    secrets: std::sync::Mutex<std::collections::HashMap<i64, (String, std::time::Instant)>>,
    /// Chats and users of concurrent updates, read together.
    lookups: lookups::Lookups,
}

impl Telegram {
    /// Starts receiving for the running bots this node takes, and sending. Call inside Tokio.
    pub fn start(services: Services, runtime: Runtime, store: Store) -> Self {
        let settings = services.config.telegram.clone();
        let telegram = Self {
            inner: Arc::new(Inner {
                api: BotApi::new(&settings.api_base, Duration::from_secs(settings.request_timeout_secs)),
                limits: limits::Limits::new(
                    settings.per_bot_per_second,
                    settings.per_chat_per_second,
                    settings.per_group_per_minute,
                ),
                node: format!("tg-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
                stopping: CancellationToken::new(),
                tasks: std::sync::Mutex::new(Vec::new()),
                secrets: std::sync::Mutex::default(),
                lookups: lookups::Lookups::start(store.clone()),
                services,
                store,
                runtime,
            }),
        };
        let receiving = tokio::spawn(receiver::supervise(telegram.clone()));
        let sending = tokio::spawn(sender::run(telegram.clone()));
        telegram.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()).extend([receiving, sending]);
        telegram
    }

    pub fn services(&self) -> &Services {
        &self.inner.services
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn lookups(&self) -> &lookups::Lookups {
        &self.inner.lookups
    }

    pub(crate) fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    pub(crate) fn api(&self) -> &BotApi {
        &self.inner.api
    }

    /// Stops receiving and sending (what waits stays in the outbox for the next start).
    pub async fn stop(&self) {
        self.inner.stopping.cancel();
        let tasks: Vec<_> = std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    /// Starts (`works`) or stops a bot; a bot with a Telegram token starts only with a token
    /// Telegram accepts.
    pub async fn set_run_state(&self, access: BotAccess, state: RunState) -> Result<Bot> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        if state == RunState::Works
            && let Some(token) = access.bot.telegram_token.clone()
        {
            let me = self.verify_token(&token).await?;
            // Scripts see the username as `bot.name` (kept only while the token is the same).
            let username = me["username"].as_str().map(str::to_owned);
            if username.is_some() && username != access.bot.telegram_username {
                self.inner
                    .services
                    .change_bot_quietly(&access.bot.id, |bot| {
                        if bot.telegram_token.as_deref() == Some(token.as_str()) {
                            bot.telegram_username = username;
                        }
                    })
                    .await?;
            }
        }
        self.inner.services.set_run_state(access, state).await
    }

    /// Checks a bot token with `getMe`: the bot's Telegram profile, or a clear refusal.
    pub async fn verify_token(&self, token: &str) -> Result<Value> {
        match self.inner.api.call(token, "getMe", &json!({}), Duration::ZERO).await {
            Ok(me) => Ok(me),
            Err(ApiError::Refused { code: 401 | 404, description, .. }) => Err(Error::invalid(format!(
                "Telegram refused the bot token ({description}): check it with @BotFather"
            ))),
            Err(e) => Err(Error::new(
                ErrorCode::Unavailable,
                format!("Cannot reach Telegram to check the token: {}", e.describe()),
            )),
        }
    }

    /// Handles an update Telegram posted to the webhook of `bot`, after checking its secret.
    pub async fn webhook(&self, bot: &Bot, secret: Option<&str>, update: Value) -> Result<()> {
        use botyard_store::TelegramStore;
        // Compared in constant time, so the answer's timing does not reveal the secret.
        let matches = |expected: Option<&str>| match (expected, secret) {
            (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
            _ => false,
        };
        let known = self
            .secrets()
            .get(&bot.number)
            .filter(|(_, at)| at.elapsed() < SECRET_FRESH)
            .map(|(secret, _)| secret.clone());
        if !matches(known.as_deref()) {
            let (_, expected) = self.inner.store.receiver(bot.number).await?;
            if !matches(expected.as_deref()) {
                return Err(Error::unauthorized("Wrong or missing X-Telegram-Bot-Api-Secret-Token"));
            }
            self.remember_secret(bot.number, expected);
        }
        updates::handle(self, bot, update).await
    }

    fn secrets(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, (String, std::time::Instant)>> {
        self.inner.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps the bot's webhook secret as stored (`None`: it has none).
    pub(crate) fn remember_secret(&self, bot: i64, secret: Option<String>) {
        match secret {
            Some(secret) => self.secrets().insert(bot, (secret, std::time::Instant::now())),
            None => self.secrets().remove(&bot),
        };
    }
}
