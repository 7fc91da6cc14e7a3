//! Telegram accounts linked to botyard accounts (Telegram login), and the account's ads flag.

use botyard_domain::account::{TelegramAccount, User};
use botyard_domain::{Result, Timestamp, UserId};

use crate::Store;
use crate::error::{db, unique_or_db};
use crate::rows::{self, get, user_columns};

const LINKED_ELSEWHERE: &str = "This Telegram account is linked to another account";

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait TelegramAccountStore {
    /// Links the Telegram account to the user (its names updated when already linked to them);
    /// `AlreadyExists` when it is linked to someone else.
    async fn link_telegram(&self, user: UserId, account: &TelegramAccount) -> Result<()>;
    /// The user a Telegram account is linked to.
    async fn user_by_telegram(&self, telegram_id: i64) -> Result<Option<User>>;
    /// The Telegram accounts linked to a user, oldest link first.
    async fn telegram_accounts(&self, user: UserId) -> Result<Vec<TelegramAccount>>;
    async fn set_ads(&self, user: UserId, enabled: bool, now: Timestamp) -> Result<()>;
    async fn ads_enabled(&self, user: UserId) -> Result<bool>;
}

impl TelegramAccountStore for Store {
    async fn link_telegram(&self, user: UserId, account: &TelegramAccount) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO telegram_accounts (telegram_id, user_id, username, first_name, last_name, photo_url, linked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (telegram_id) DO UPDATE SET username = excluded.username, first_name = excluded.first_name, \
             last_name = excluded.last_name, photo_url = excluded.photo_url \
             WHERE telegram_accounts.user_id = excluded.user_id",
        )
        .bind(account.telegram_id)
        .bind(user.0)
        .bind(&account.username)
        .bind(&account.first_name)
        .bind(&account.last_name)
        .bind(&account.photo_url)
        .bind(account.linked_at.millis())
        .execute(&self.write)
        .await
        .map_err(|e| unique_or_db(e, LINKED_ELSEWHERE))?;
        if done.rows_affected() == 0 {
            return Err(botyard_domain::Error::already_exists(LINKED_ELSEWHERE));
        }
        Ok(())
    }

    async fn user_by_telegram(&self, telegram_id: i64) -> Result<Option<User>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u JOIN telegram_accounts t ON t.user_id = u.id WHERE t.telegram_id = $1"
        );
        let row = sqlx::query(sql).bind(telegram_id).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| rows::user(&r)).transpose()
    }

    async fn telegram_accounts(&self, user: UserId) -> Result<Vec<TelegramAccount>> {
        let found = sqlx::query(
            "SELECT telegram_id, username, first_name, last_name, photo_url, linked_at FROM telegram_accounts \
             WHERE user_id = $1 ORDER BY linked_at, telegram_id",
        )
        .bind(user.0)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|r| {
                Ok(TelegramAccount {
                    telegram_id: get(r, "telegram_id")?,
                    username: get(r, "username")?,
                    first_name: get(r, "first_name")?,
                    last_name: get(r, "last_name")?,
                    photo_url: get(r, "photo_url")?,
                    linked_at: Timestamp(get(r, "linked_at")?),
                })
            })
            .collect()
    }

    async fn set_ads(&self, user: UserId, enabled: bool, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE users SET ads_enabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(enabled))
            .bind(now.millis())
            .bind(user.0)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn ads_enabled(&self, user: UserId) -> Result<bool> {
        let row = sqlx::query("SELECT ads_enabled FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        Ok(row.map(|r| get::<i64>(&r, "ads_enabled")).transpose()?.unwrap_or(1) != 0)
    }
}
