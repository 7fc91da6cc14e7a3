//! Users and their credentials: password hashes, API key hashes, sessions, password resets.

use botyard_domain::account::{Role, User, Workspace};
use botyard_domain::{Result, Timestamp, UserId};
use sqlx::Row;

use crate::Store;
use crate::error::{db, unique_or_db};
use crate::rows::{self, get, user_columns};

/// A user with the password hash, for sign-in.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
}

/// Everything needed to create an account with its personal workspace.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub password_hash: String,
    pub api_key_hash: String,
    pub api_key_hint: String,
    pub workspace: Workspace,
    pub now: Timestamp,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: i64,
    pub client: String,
    pub expires_at: Timestamp,
}

const EMAIL_TAKEN: &str = "Email has already been taken";

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait AccountStore {
    /// Creates the user, their personal workspace (as owner) and turns pending invitations of
    /// the email into memberships, in one transaction.
    async fn create_account(&self, new: NewAccount) -> Result<User>;
    async fn count_users(&self) -> Result<i64>;
    async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>>;
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;
    async fn user_by_api_key(&self, key_hash: &str) -> Result<Option<User>>;
    /// Replaces the password and ends every session of the user but `keep` (a session token's
    /// digest), in one transaction.
    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<()>;
    async fn set_email(&self, id: UserId, email: &str, now: Timestamp) -> Result<()>;
    async fn set_api_key(&self, id: UserId, key_hash: &str, hint: &str, now: Timestamp) -> Result<()>;
    async fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        client: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// The user of a live session, or `None` when unknown or expired.
    async fn user_by_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(User, SessionRecord)>>;
    /// Ends every session of the user; returns how many there were.
    async fn delete_sessions(&self, user: UserId) -> Result<u64>;
    async fn create_password_reset(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// Consumes a password-reset token, returning its user if it was valid.
    /// Whether a reset token is live (before spending a password hash on it).
    async fn password_reset_is_live(&self, token_hash: &str, now: Timestamp) -> Result<bool>;
    /// Completes a password reset in one transaction: if the token is live, sets the password and
    /// ends every session and every other reset token of its user. Returns the user.
    async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<Option<UserId>>;
}

impl AccountStore for Store {
    async fn create_account(&self, new: NewAccount) -> Result<User> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let now = new.now.millis();
        let row = sqlx::query(
            "INSERT INTO users (email, password_hash, api_key_hash, api_key_hint, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(&new.email)
        .bind(&new.password_hash)
        .bind(&new.api_key_hash)
        .bind(&new.api_key_hint)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unique_or_db(e, EMAIL_TAKEN))?;
        let id = UserId(row.try_get("id").map_err(db)?);
        let ws = &new.workspace;
        sqlx::query(
            "INSERT INTO workspaces (id, name, personal_of, plan, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(ws.id.as_str())
        .bind(&ws.name)
        .bind(id.0)
        .bind(&ws.plan)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(ws.id.as_str())
        .bind(id.0)
        .bind(Role::Owner.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, role, created_at) \
             SELECT workspace_id, $1, role, $2 FROM workspace_invitations WHERE email = $3",
        )
        .bind(id.0)
        .bind(now)
        .bind(&new.email)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("DELETE FROM workspace_invitations WHERE email = $1")
            .bind(&new.email)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(User {
            id,
            email: new.email,
            api_key_hint: new.api_key_hint,
            created_at: new.now,
            updated_at: new.now,
        })
    }

    async fn count_users(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&self.read).await.map_err(db)?;
        get(&row, "n")
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
        let row = sqlx::query(sql).bind(id.0).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| user_record(&r)).transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.email = $1");
        let row = sqlx::query(sql).bind(email).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| user_record(&r)).transpose()
    }

    async fn user_by_api_key(&self, key_hash: &str) -> Result<Option<User>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.api_key_hash = $1");
        let row = sqlx::query(sql).bind(key_hash).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| rows::user(&r)).transpose()
    }

    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now.millis())
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(id.0)
            .bind(keep.unwrap_or(""))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn set_email(&self, id: UserId, email: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE users SET email = $1, updated_at = $2 WHERE id = $3")
            .bind(email)
            .bind(now.millis())
            .bind(id.0)
            .execute(&self.write)
            .await
            .map_err(|e| unique_or_db(e, EMAIL_TAKEN))?;
        Ok(())
    }

    async fn set_api_key(&self, id: UserId, key_hash: &str, hint: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE users SET api_key_hash = $1, api_key_hint = $2, updated_at = $3 WHERE id = $4")
            .bind(key_hash)
            .bind(hint)
            .bind(now.millis())
            .bind(id.0)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        client: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query("INSERT INTO sessions (user_id, token_hash, client, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(user.0)
            .bind(token_hash)
            .bind(client)
            .bind(now.millis())
            .bind(expires_at.millis())
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn user_by_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(User, SessionRecord)>> {
        let sql = concat!(
            "SELECT ",
            user_columns!(),
            ", s.id AS session_id, s.client, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        );
        let row = sqlx::query(sql)
            .bind(token_hash)
            .bind(now.millis())
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        row.map(|r| {
            let session = SessionRecord {
                id: get(&r, "session_id")?,
                client: get(&r, "client")?,
                expires_at: Timestamp(get(&r, "expires_at")?),
            };
            Ok((rows::user(&r)?, session))
        })
        .transpose()
    }

    async fn delete_sessions(&self, user: UserId) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.0)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn create_password_reset(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query("INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(user.0)
            .bind(expires_at.millis())
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn password_reset_is_live(&self, token_hash: &str, now: Timestamp) -> Result<bool> {
        let row =
            sqlx::query("SELECT user_id FROM password_resets WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash)
                .bind(now.millis())
                .fetch_optional(&self.read)
                .await
                .map_err(db)?;
        Ok(row.is_some())
    }

    async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<Option<UserId>> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let row = sqlx::query(
            "DELETE FROM password_resets WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(now.millis())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let user = UserId(get(&row, "user_id")?);
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now.millis())
            .bind(user.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for sql in
            ["DELETE FROM password_resets WHERE user_id = $1", "DELETE FROM sessions WHERE user_id = $1"]
        {
            sqlx::query(sql).bind(user.0).execute(&mut *tx).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(Some(user))
    }
}

fn user_record(row: &sqlx::any::AnyRow) -> Result<UserRecord> {
    Ok(UserRecord { user: rows::user(row)?, password_hash: get(row, "password_hash")? })
}
