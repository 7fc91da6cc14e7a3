//! Receiving: every two seconds the supervisor renews this node's leases on the running Telegram
//! bots it receives for and takes free ones; for each it runs a long-polling loop, or in webhook
//! mode registers botyard's webhook once. A bot that stops (or whose lease another node took) has
//! its loop cancelled.

use std::collections::HashMap;
use std::time::Duration;

use botyard_domain::effects::ErrorEntry;
use botyard_domain::{BotRef, Timestamp};
use botyard_store::{ErrorLogStore, TelegramStore};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::Telegram;
use super::api::ApiError;
use super::updates;

const SUPERVISE_EVERY: Duration = Duration::from_secs(2);
const LEASE: Duration = Duration::from_secs(15);
/// Updates asked for (Telegram's default leaves some out).
const ALLOWED: [&str; 4] = ["message", "edited_message", "callback_query", "my_chat_member"];

pub(crate) async fn supervise(telegram: Telegram) {
    let node = telegram.inner.node.clone();
    let mut running: HashMap<i64, CancellationToken> = HashMap::new();
    loop {
        let now = Timestamp::now();
        let until = now.plus_millis(LEASE.as_millis() as i64);
        match telegram.store().claim_receivers(&node, now, until).await {
            Ok(bots) => {
                running.retain(|bot, stop| {
                    let keep = bots.contains(bot);
                    if !keep {
                        stop.cancel();
                    }
                    keep
                });
                for bot in bots {
                    running.entry(bot).or_insert_with(|| {
                        let stop = telegram.inner.stopping.child_token();
                        tokio::spawn(receive(telegram.clone(), bot, stop.clone()));
                        stop
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not renew the Telegram receivers"),
        }
        tokio::select! {
            _ = tokio::time::sleep(SUPERVISE_EVERY) => {}
            _ = telegram.inner.stopping.cancelled() => break,
        }
    }
    for (bot, stop) in running {
        stop.cancel();
        let _ = telegram.store().release_receiver(bot, &node).await;
    }
}

/// Receives for one bot until `stop`.
async fn receive(telegram: Telegram, bot: i64, stop: CancellationToken) {
    let webhook = telegram.services().config.telegram.mode == "webhook";
    let result =
        if webhook { register_webhook(&telegram, bot).await } else { poll(&telegram, bot, &stop).await };
    if let Err(problem) = result {
        log_error(&telegram, bot, &problem).await;
    }
    stop.cancelled().await;
    if webhook {
        // A stopped bot no longer receives.
        if let Ok(Some(b)) = telegram.services().find_bot(&BotRef::Number(bot)).await
            && let Some(token) = &b.telegram_token
            && (b.run_state != botyard_domain::bot::RunState::Works)
        {
            let _ = telegram.api().call(token, "deleteWebhook", &json!({}), Duration::ZERO).await;
        }
    }
    // Receiving has ended: the lease goes at once (another node may take the bot, and whoever
    // watches the table sees that this node no longer receives).
    let _ = telegram.store().release_receiver(bot, &telegram.inner.node).await;
}

async fn log_error(telegram: &Telegram, bot: i64, problem: &str) {
    tracing::warn!(bot_id = bot, "{problem}");
    let entry = ErrorEntry {
        command: None,
        title: problem.to_owned(),
        stack_trace: String::new(),
        chat_id: None,
        user_id: None,
        at: Timestamp::now(),
    };
    let _ = telegram.store().insert_error(bot, &entry).await;
}

async fn token_of(telegram: &Telegram, bot: i64) -> Option<(botyard_domain::bot::Bot, String)> {
    let found = telegram.services().find_bot(&BotRef::Number(bot)).await.ok().flatten()?;
    let token = found.telegram_token.clone()?;
    Some((found, token))
}

async fn register_webhook(telegram: &Telegram, bot: i64) -> Result<(), String> {
    let Some((found, token)) = token_of(telegram, bot).await else { return Ok(()) };
    let secret = uuid::Uuid::new_v4().simple().to_string();
    telegram.store().set_webhook_secret(bot, &secret).await.map_err(|e| e.message)?;
    telegram.remember_secret(bot, Some(secret.clone()));
    let url =
        format!("{}/telegram/{}", telegram.services().config.public_url.trim_end_matches('/'), found.id);
    let params = json!({"url": url, "secret_token": secret, "allowed_updates": ALLOWED});
    telegram
        .api()
        .call(&token, "setWebhook", &params, Duration::ZERO)
        .await
        .map(|_| ())
        .map_err(|e| format!("Telegram refused the webhook: {}", e.describe()))
}

/// The chat an update belongs to (its message's, its button's message's, or its membership's).
fn chat_of(update: &Value) -> Option<String> {
    let chat = update["message"]["chat"]["id"]
        .as_i64()
        .or_else(|| update["edited_message"]["chat"]["id"].as_i64())
        .or_else(|| update["callback_query"]["message"]["chat"]["id"].as_i64())
        .or_else(|| update["my_chat_member"]["chat"]["id"].as_i64())?;
    Some(chat.to_string())
}

/// Long polling: `getUpdates` from the stored offset; each batch's offset is stored once its
/// updates are handed on, and every update id is recorded, so a restart neither loses nor repeats.
async fn poll(telegram: &Telegram, bot: i64, stop: &CancellationToken) -> Result<(), String> {
    let settings = telegram.services().config.telegram.clone();
    let timeout = settings.poll_timeout_secs;
    let mut failures = 0u32;
    let mut deleted_webhook = false;
    loop {
        if stop.is_cancelled() {
            return Ok(());
        }
        let Some((found, token)) = token_of(telegram, bot).await else { return Ok(()) };
        let (offset, _) = telegram.store().receiver(bot).await.map_err(|e| e.message)?;
        let params = json!({"offset": offset, "timeout": timeout, "allowed_updates": ALLOWED});
        let started = std::time::Instant::now();
        let call = telegram.api().call(&token, "getUpdates", &params, Duration::from_secs(timeout));
        let answer = tokio::select! {
            answer = call => answer,
            _ = stop.cancelled() => return Ok(()),
        };
        match answer {
            Ok(Value::Array(updates)) => {
                failures = 0;
                let empty = updates.is_empty();
                let next = updates
                    .iter()
                    .filter_map(|u| u["update_id"].as_i64())
                    .fold(offset, |next, id| next.max(id + 1));
                // Different chats' updates are handled concurrently, each chat's in order.
                let mut chats: Vec<(Option<String>, Vec<Value>)> = Vec::new();
                for update in updates {
                    let chat = chat_of(&update);
                    match chats.iter_mut().find(|(c, _)| chat.is_some() && *c == chat) {
                        Some((_, queue)) => queue.push(update),
                        None => chats.push((chat, vec![update])),
                    }
                }
                let found = &found;
                futures::future::join_all(chats.into_iter().map(|(_, queue)| async move {
                    for update in queue {
                        let id = update["update_id"].as_i64().unwrap_or_default();
                        if let Err(e) = updates::handle(telegram, found, update).await {
                            tracing::warn!(bot_id = bot, update = id, error = %e, "an update could not be handled");
                        }
                    }
                }))
                .await;
                if next != offset {
                    telegram.store().set_offset(bot, next).await.map_err(|e| e.message)?;
                }
                // A server that answers at once (no long polling) must not be asked in a loop.
                if empty && started.elapsed() < Duration::from_millis(200) {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            Ok(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            Err(ApiError::Refused { code: 401 | 404, description, .. }) => {
                return Err(format!("Telegram refused the bot token ({description}); receiving stopped"));
            }
            Err(ApiError::Refused { code: 409, .. }) if !deleted_webhook => {
                // A webhook is set: long polling needs it removed.
                deleted_webhook = true;
                let _ = telegram.api().call(&token, "deleteWebhook", &json!({}), Duration::ZERO).await;
            }
            Err(ApiError::Refused { retry_after: Some(secs), .. }) => {
                tokio::time::sleep(Duration::from_secs(secs)).await
            }
            Err(e) => {
                failures += 1;
                let wait = Duration::from_millis(250 * 2u64.pow(failures.min(7)));
                tracing::debug!(bot_id = bot, error = e.describe(), "getUpdates failed; retrying");
                tokio::time::sleep(wait).await;
            }
        }
    }
}
