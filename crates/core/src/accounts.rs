//! Signing up and in, authenticating requests, and managing one's own credentials.

use botyard_domain::account::{self, User, Workspace};
use botyard_domain::{Error, Result, Timestamp, WorkspaceId};
use botyard_store::{AccountStore, NewAccount, WorkspaceStore};

use crate::Services;
use crate::cache_sync::Change;
use crate::credentials::{self, API_KEY_PREFIX, SESSION_PREFIX};

/// Who is making a request, and with which credential.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub user: User,
    pub credential: Credential,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    ApiKey,
    /// A session: its `client` id and the digest of its token.
    Session {
        client: String,
        digest: String,
    },
}

/// The result of signing up; `api_key` is shown this once.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub user: User,
    pub api_key: String,
    pub workspace: Workspace,
}

/// The result of signing in: a new session.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub user: User,
    pub token: String,
    pub client: String,
    pub expires_at: Timestamp,
}

const BAD_CREDENTIALS: &str = "Invalid login credentials. Please try again.";

impl Services {
    /// Creates an account with a personal workspace. When sign-up is disabled, only emails with a
    /// pending invitation may sign up.
    pub async fn sign_up(&self, email: &str, password: &str) -> Result<SignUp> {
        let email = account::normalize_email(email)?;
        account::check_password(password)?;
        if !self.config.auth.signup && !self.store.has_invitation(&email).await? {
            return Err(Error::forbidden(
                "Sign up is disabled on this server; ask a workspace owner for an invitation",
            ));
        }
        self.create_account(email, password).await
    }

    /// Creates an account without the sign-up policy check (first-start administrator, CLI).
    pub async fn create_account(&self, email: String, password: &str) -> Result<SignUp> {
        account::check_password(password)?;
        let password_hash = self.hash_password(password).await?;
        let api_key = credentials::random_token(API_KEY_PREFIX);
        let now = Timestamp::now();
        let workspace = Workspace {
            id: WorkspaceId::generate(),
            name: format!("{}'s workspace", email.split('@').next().unwrap_or("My")),
            personal_of: None,
            plan: self.plan("").name,
            created_at: now,
        };
        let user = self
            .store
            .create_account(NewAccount {
                email,
                password_hash,
                api_key_hash: credentials::digest(&api_key),
                api_key_hint: credentials::hint(&api_key),
                workspace: workspace.clone(),
                now,
            })
            .await?;
        let workspace = Workspace { personal_of: Some(user.id), ..workspace };
        Ok(SignUp { user, api_key, workspace })
    }

    /// Checks email and password and opens a session. Failures do not say which was wrong, and
    /// repeated failures for one email are throttled.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<SignIn> {
        let key = email.trim().to_lowercase();
        self.signin_throttle.attempt(&key)?;
        let record = match account::normalize_email(email) {
            Ok(email) => self.store.user_by_email(&email).await?,
            Err(_) => None,
        };
        let hash = record.as_ref().map(|r| r.password_hash.clone());
        if !self.passwords.verify(password, hash).await? {
            return Err(Error::unauthorized(BAD_CREDENTIALS));
        }
        self.signin_throttle.success(&key);
        let user = record.map(|r| r.user).ok_or_else(|| Error::unauthorized(BAD_CREDENTIALS))?;
        self.open_session(user).await
    }

    pub(crate) async fn open_session(&self, user: User) -> Result<SignIn> {
        let token = credentials::random_token(SESSION_PREFIX);
        let client = credentials::random_id(16);
        let now = Timestamp::now();
        let ttl_secs = self.config.auth.session_ttl_hours.saturating_mul(3600);
        let expires_at = now.plus_secs(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 1000));
        self.store.create_session(user.id, &credentials::digest(&token), &client, now, expires_at).await?;
        Ok(SignIn { user, token, client, expires_at })
    }

    /// The caller presenting an API key, if it is valid.
    pub async fn authenticate_api_key(&self, key: &str) -> Result<Option<Caller>> {
        if !credentials::well_formed(key, API_KEY_PREFIX) {
            return Ok(None);
        }
        let digest = credentials::digest(key);
        if let Some(caller) = self.callers.get(&digest) {
            return Ok(Some(caller));
        }
        let epoch = self.callers.epoch();
        let user = self.store.user_by_api_key(&digest).await?;
        let caller = user.map(|user| Caller { user, credential: Credential::ApiKey });
        if let Some(caller) = &caller {
            self.callers.insert(epoch, [(digest, caller.clone())]);
        }
        Ok(caller)
    }

    /// The caller presenting a session token, if the session is live. When the client sends the
    /// session's `client` id and `uid` (email) too, they must match.
    pub async fn authenticate_session(
        &self,
        token: &str,
        client: Option<&str>,
        uid: Option<&str>,
    ) -> Result<Option<Caller>> {
        if !credentials::well_formed(token, SESSION_PREFIX) {
            return Ok(None);
        }
        let digest = credentials::digest(token);
        let caller = match self.callers.get(&digest) {
            Some(caller) => caller,
            None => {
                let epoch = self.callers.epoch();
                let Some((user, session)) = self.store.user_by_session(&digest, Timestamp::now()).await?
                else {
                    return Ok(None);
                };
                let caller = Caller {
                    user,
                    credential: Credential::Session { client: session.client, digest: digest.clone() },
                };
                // Kept no longer than the session lives.
                let left = session.expires_at.millis().saturating_sub(Timestamp::now().millis()).max(0);
                let until = std::time::Instant::now() + std::time::Duration::from_millis(left as u64);
                self.callers.insert_until(epoch, [(digest, caller.clone(), until)]);
                caller
            }
        };
        let Credential::Session { client: session_client, .. } = &caller.credential else { return Ok(None) };
        let client_ok = client.is_none_or(|c| c == session_client);
        let uid_ok = uid.is_none_or(|u| u.trim().eq_ignore_ascii_case(&caller.user.email));
        Ok((client_ok && uid_ok).then_some(caller))
    }

    /// A bearer token may be an API key or a session token.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Option<Caller>> {
        if token.starts_with(SESSION_PREFIX) {
            self.authenticate_session(token, None, None).await
        } else {
            self.authenticate_api_key(token).await
        }
    }

    /// Changes the caller's password; every other session of theirs ends.
    pub async fn change_password(&self, caller: &Caller, current: &str, new: &str) -> Result<()> {
        self.check_current_password(caller, current).await?;
        account::check_password(new)?;
        let hash = self.hash_password(new).await?;
        let keep = match &caller.credential {
            Credential::Session { digest, .. } => Some(digest.as_str()),
            Credential::ApiKey => None,
        };
        self.store.set_password(caller.user.id, &hash, keep, Timestamp::now()).await?;
        self.changed(Change::User(caller.user.id)).await;
        Ok(())
    }

    pub async fn change_email(&self, caller: &Caller, current_password: &str, email: &str) -> Result<User> {
        self.check_current_password(caller, current_password).await?;
        let email = account::normalize_email(email)?;
        let now = Timestamp::now();
        self.store.set_email(caller.user.id, &email, now).await?;
        self.changed(Change::User(caller.user.id)).await;
        Ok(User { email, updated_at: now, ..caller.user.clone() })
    }

    async fn check_current_password(&self, caller: &Caller, current: &str) -> Result<()> {
        let record = self.store.user_by_id(caller.user.id).await?;
        let hash = record.map(|r| r.password_hash);
        if self.passwords.verify(current, hash).await? {
            Ok(())
        } else {
            Err(Error::invalid("Current password is invalid"))
        }
    }

    /// Replaces the caller's API key; the old one stops working at once. Returns the new key.
    pub async fn reset_api_key(&self, caller: &Caller) -> Result<String> {
        let key = credentials::random_token(API_KEY_PREFIX);
        let now = Timestamp::now();
        self.store
            .set_api_key(caller.user.id, &credentials::digest(&key), &credentials::hint(&key), now)
            .await?;
        self.changed(Change::User(caller.user.id)).await;
        Ok(key)
    }

    /// Ends every session of the caller. The API key stays valid (reset it to revoke it).
    pub async fn sign_out_everywhere(&self, caller: &Caller) -> Result<u64> {
        let ended = self.store.delete_sessions(caller.user.id).await?;
        self.changed(Change::User(caller.user.id)).await;
        Ok(ended)
    }

    /// Starts a password reset. botyard sends no email: the one-hour reset token is written to the
    /// server log for the operator to pass on, and returned here for callers inside botyard (the
    /// HTTP answer never contains it, and is the same whether or not the email has an account).
    pub async fn request_password_reset(&self, email: &str) -> Result<Option<String>> {
        let Ok(email) = account::normalize_email(email) else { return Ok(None) };
        let Some(record) = self.store.user_by_email(&email).await? else { return Ok(None) };
        let token = credentials::random_token("byr_");
        let expires_at = Timestamp::now().plus_secs(3600);
        self.store.create_password_reset(record.user.id, &credentials::digest(&token), expires_at).await?;
        tracing::warn!(
            user = %record.user.id,
            email = %email,
            reset_token = %token,
            "password reset requested: the user completes it with PUT /v2/user/password {{reset_password_token, password}} within one hour"
        );
        Ok(Some(token))
    }

    /// Completes a password reset with the token from [`Services::request_password_reset`]; ends
    /// every session of the user.
    pub async fn complete_password_reset(&self, token: &str, new_password: &str) -> Result<()> {
        account::check_password(new_password)?;
        let digest = credentials::digest(token);
        let invalid = || Error::invalid("Reset password token is invalid or has expired");
        if !self.store.password_reset_is_live(&digest, Timestamp::now()).await? {
            return Err(invalid());
        }
        let hash = self.hash_password(new_password).await?;
        let user = self.store.reset_password(&digest, &hash, Timestamp::now()).await?.ok_or_else(invalid)?;
        self.changed(Change::User(user)).await;
        Ok(())
    }

    async fn hash_password(&self, password: &str) -> Result<String> {
        self.passwords.hash(password).await
    }

    /// Whether the database has no account yet (first start).
    pub async fn has_no_accounts(&self) -> Result<bool> {
        Ok(self.store.count_users().await? == 0)
    }
}
