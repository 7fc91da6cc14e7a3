//! Signing in with Telegram (the Login Widget), linked Telegram accounts, session tokens on
//! demand, and the account's ads flag — the account routes of Bots.Business's API v2.
//!
//! The widget's data is checked as Telegram documents it: the HMAC-SHA-256 of the fields (all but
//! `hash`, sorted, `key=value` lines) keyed with the SHA-256 of the login bot's token must equal
//! `hash`, and `auth_date` must be recent (`auth.telegram_login_max_age_secs`).

use botyard_domain::account::TelegramAccount;
use botyard_domain::{Error, ErrorCode, Result, Timestamp};
use botyard_store::TelegramAccountStore;
use hmac::{KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::accounts::{Caller, SignIn};
use crate::{Services, credentials};

/// How a Telegram login ended: a session, and whether the account was made for it (with its API
/// key, shown this once).
#[derive(Debug, Clone)]
pub struct TelegramSignIn {
    pub sign_in: SignIn,
    pub created: bool,
    pub api_key: Option<String>,
}

const NOT_CONFIGURED: &str = "Telegram login is not configured on this server (auth.telegram_login_token)";

/// Checks the Login Widget's signature over `fields` with `token`; the signed account.
pub fn verify_login(
    fields: &Map<String, Value>,
    token: &str,
    now: Timestamp,
    max_age_secs: u64,
) -> Result<TelegramAccount> {
    let refused = || Error::unauthorized("The Telegram login data is not signed by this server's login bot");
    let hash = fields.get("hash").and_then(Value::as_str).ok_or_else(refused)?;
    let mut lines: Vec<String> = fields
        .iter()
        .filter(|(key, value)| key.as_str() != "hash" && !value.is_null())
        .map(|(key, value)| match value {
            Value::String(s) => format!("{key}={s}"),
            other => format!("{key}={other}"),
        })
        .collect();
    lines.sort();
    let secret = Sha256::digest(token.as_bytes());
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&secret).map_err(|_| refused())?;
    mac.update(lines.join("\n").as_bytes());
    let given = hex::decode(hash).map_err(|_| refused())?;
    mac.verify_slice(&given).map_err(|_| refused())?;
    let number = |key: &str| {
        fields.get(key).and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
    };
    let auth_date = number("auth_date").ok_or_else(refused)?;
    let age = now.millis() / 1000 - auth_date;
    if age > i64::try_from(max_age_secs).unwrap_or(i64::MAX) {
        return Err(Error::unauthorized("The Telegram login data has expired: sign in again"));
    }
    let text = |key: &str| fields.get(key).and_then(Value::as_str).map(|s| s.chars().take(256).collect());
    Ok(TelegramAccount {
        telegram_id: number("id").ok_or_else(refused)?,
        username: text("username"),
        first_name: text("first_name"),
        last_name: text("last_name"),
        photo_url: text("photo_url"),
        linked_at: now,
    })
}

impl Services {
    fn login_token(&self) -> Result<&str> {
        let token = self.config.auth.telegram_login_token.trim();
        if token.is_empty() { Err(Error::new(ErrorCode::Unavailable, NOT_CONFIGURED)) } else { Ok(token) }
    }

    /// Telegram's login page for this server's login bot, returning to `return_to`.
    pub fn telegram_login_url(&self, origin: &str, return_to: &str) -> Result<String> {
        let token = self.login_token()?;
        let bot_id = token.split(':').next().unwrap_or_default();
        let mut url =
            url::Url::parse("https://oauth.telegram.org/auth").map_err(|e| Error::internal(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("bot_id", bot_id)
            .append_pair("origin", origin)
            .append_pair("return_to", return_to)
            .append_pair("request_access", "write");
        Ok(url.to_string())
    }

    /// Signs in with the Login Widget's data: the linked account's session; a signed-in caller
    /// links the Telegram account to theirs; otherwise (sign-up allowed) a new account is made.
    pub async fn telegram_login(
        &self,
        fields: &Map<String, Value>,
        caller: Option<&Caller>,
    ) -> Result<TelegramSignIn> {
        let token = self.login_token()?;
        let account =
            verify_login(fields, token, Timestamp::now(), self.config.auth.telegram_login_max_age_secs)?;
        if let Some(caller) = caller {
            self.store.link_telegram(caller.user.id, &account).await?;
            let sign_in = self.open_session(caller.user.clone()).await?;
            return Ok(TelegramSignIn { sign_in, created: false, api_key: None });
        }
        if let Some(user) = self.store.user_by_telegram(account.telegram_id).await? {
            self.store.link_telegram(user.id, &account).await?;
            let sign_in = self.open_session(user).await?;
            return Ok(TelegramSignIn { sign_in, created: false, api_key: None });
        }
        if !self.config.auth.signup {
            return Err(Error::forbidden(
                "Sign up is disabled on this server; ask a workspace owner for an invitation",
            ));
        }
        // An account for a Telegram user has no email of theirs: a placeholder nobody receives.
        let email = format!("telegram-{}@telegram.invalid", account.telegram_id);
        let created = self.create_account(email, &credentials::random_token("pw_")).await?;
        self.store.link_telegram(created.user.id, &account).await?;
        let sign_in = self.open_session(created.user).await?;
        Ok(TelegramSignIn { sign_in, created: true, api_key: Some(created.api_key) })
    }

    /// The Telegram accounts linked to the caller's account.
    pub async fn telegram_accounts(&self, caller: &Caller) -> Result<Vec<TelegramAccount>> {
        self.store.telegram_accounts(caller.user.id).await
    }

    /// A new session of the caller's account (for clients that hold only an API key).
    pub async fn issue_session(&self, caller: &Caller) -> Result<SignIn> {
        self.open_session(caller.user.clone()).await
    }

    /// Turns the account's ads flag on or off; the flag as stored.
    pub async fn set_ads(&self, caller: &Caller, enabled: bool) -> Result<bool> {
        self.store.set_ads(caller.user.id, enabled, Timestamp::now()).await?;
        self.store.ads_enabled(caller.user.id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn signed(token: &str, mut fields: Map<String, Value>) -> Map<String, Value> {
        let mut lines: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
            .collect();
        lines.sort();
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&Sha256::digest(token.as_bytes())).unwrap();
        mac.update(lines.join("\n").as_bytes());
        fields.insert("hash".into(), json!(hex::encode(mac.finalize().into_bytes())));
        fields
    }

    #[test]
    fn the_widget_signature_is_checked() {
        let now = Timestamp(1_700_000_100_000);
        let fields = json!({"id": 42, "first_name": "Ann", "username": "ann", "auth_date": 1_700_000_000});
        let good = signed("1:secret", fields.as_object().unwrap().clone());
        let account = verify_login(&good, "1:secret", now, 3600).unwrap();
        assert_eq!((account.telegram_id, account.username.as_deref()), (42, Some("ann")));
        assert!(verify_login(&good, "1:other", now, 3600).is_err(), "another bot's token");
        let mut forged = good.clone();
        forged.insert("id".into(), json!(43));
        assert!(verify_login(&forged, "1:secret", now, 3600).is_err(), "a changed field");
        let late = Timestamp(1_700_000_000_000 + 3601 * 1000);
        assert!(verify_login(&good, "1:secret", late, 3600).unwrap_err().message.contains("expired"));
    }
}
