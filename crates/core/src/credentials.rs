//! Secrets botyard hands out and checks: API keys, session tokens, reset tokens (random,
//! stored as SHA-256 digests) and passwords (argon2id).
//!
//! Random tokens carry 240 bits of entropy, so a fast digest is enough to store them safely and
//! lets each request be authenticated with one indexed lookup; passwords are low-entropy and get
//! a slow, salted hash.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use botyard_domain::{Error, Result};
use sha2::{Digest, Sha256};

/// Prefix of API keys, so they are recognisable in logs and secret scanners.
pub const API_KEY_PREFIX: &str = "byk_";
/// Prefix of session tokens.
pub const SESSION_PREFIX: &str = "bys_";

/// A new random token: `prefix` followed by 40 URL-safe characters.
pub fn random_token(prefix: &str) -> String {
    let bytes: [u8; 30] = rand::random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A short random id (for session clients, web channel ids).
pub fn random_id(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The stored form of a token: lower-case hex SHA-256.
pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// The part of an API key that may be shown again later, to tell keys apart.
pub fn hint(token: &str) -> String {
    let visible: String = token.chars().take(API_KEY_PREFIX.len() + 4).collect();
    format!("{visible}…")
}

/// Hashes a password with argon2id; slow on purpose, so run it off the async threads.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| Error::internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| Error::internal(format!("password hashing task: {e}")))?
}

/// Checks a password against a stored hash. With no hash (unknown user) it still spends the
/// same time, so the answer does not tell whether the account exists.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let argon = Argon2::default();
        match hash {
            Some(hash) => argon.verify_password(password.as_bytes(), hash.as_str()).is_ok(),
            None => {
                let _ = argon.hash_password(password.as_bytes());
                false
            }
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_and_passwords() {
        let key = random_token(API_KEY_PREFIX);
        assert!(key.starts_with("byk_") && key.len() == 44);
        assert_ne!(key, random_token(API_KEY_PREFIX));
        assert_eq!(digest(&key).len(), 64);
        assert_eq!(hint(&key).chars().count(), 9);
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(verify_password("correct horse".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong horse".into(), Some(hash)).await);
        assert!(!verify_password("x".into(), None).await);
    }
}
