//! Secrets botyard hands out and checks: API keys, session tokens, reset tokens (random,
//! stored as SHA-256 digests) and passwords (argon2id).
//!
//! Random tokens carry 240 bits of entropy, so a fast digest is enough to store them safely and
//! lets each request be authenticated with one indexed lookup; passwords are low-entropy and get
//! a slow, salted hash.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use botyard_domain::{Error, ErrorCode, Result};
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

/// Whether `token` has the shape of a token made by [`random_token`] with `prefix` (checked before
/// any lookup, so garbage costs nothing).
pub fn well_formed(token: &str, prefix: &str) -> bool {
    token.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 40 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A short random id (for session clients, web channel ids).
pub fn random_id(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The stored form of a token: lower-case hex SHA-256.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The part of an API key that may be shown again later, to tell keys apart.
pub fn hint(token: &str) -> String {
    let visible: String = token.chars().take(API_KEY_PREFIX.len() + 4).collect();
    format!("{visible}…")
}

/// Password hashing, bounded: argon2id takes about 19 MiB and tens of milliseconds per password,
/// so it runs on `workers` threads of its own (their memory is reused, never more than one hash's
/// worth each) with at most `queue` hashes waiting; beyond that a request is refused with
/// `Unavailable` rather than letting sign-ins exhaust memory.
pub struct PasswordWork {
    jobs: std::sync::mpsc::SyncSender<Box<dyn FnOnce() + Send>>,
}

impl PasswordWork {
    pub fn new(workers: usize, queue: usize) -> Self {
        let (jobs, receiver) = std::sync::mpsc::sync_channel::<Box<dyn FnOnce() + Send>>(queue);
        let receiver = std::sync::Arc::new(std::sync::Mutex::new(receiver));
        for n in 0..workers.max(1) {
            let receiver = receiver.clone();
            let spawned =
                std::thread::Builder::new().name(format!("botyard-passwords-{n}")).spawn(move || {
                    loop {
                        let job = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self { jobs }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Box<dyn FnOnce() + Send> = Box::new(move || {
            let _ = answer.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                return Err(Error {
                    retry_after: Some(1),
                    ..Error::new(
                        ErrorCode::Unavailable,
                        "The server is busy checking passwords; try again in a moment",
                    )
                });
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                return Err(Error::internal("password hashing stopped"));
            }
        }
        answered.await.map_err(|_| Error::internal("a password hashing thread failed"))
    }

    /// Hashes a password with argon2id.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| Error::internal(format!("hashing a password: {e}")))
        })
        .await?
    }

    /// Checks a password against a stored hash. With no hash (unknown user) it still spends the
    /// same time, so the answer does not tell whether the account exists.
    pub async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool> {
        let password = password.to_owned();
        self.run(move || {
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
    }
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
        let work = PasswordWork::new(1, 4);
        let hash = work.hash("correct horse").await.unwrap();
        assert!(work.verify("correct horse", Some(hash.clone())).await.unwrap());
        assert!(!work.verify("wrong horse", Some(hash)).await.unwrap());
        assert!(!work.verify("x", None).await.unwrap());
    }

    #[tokio::test]
    async fn refuses_work_beyond_its_queue() {
        let work = std::sync::Arc::new(PasswordWork::new(1, 1));
        let tries: Vec<_> = (0..8)
            .map(|_| {
                let work = work.clone();
                tokio::spawn(async move { work.hash("a long password").await })
            })
            .collect();
        let mut refused = 0;
        for t in tries {
            if let Err(e) = t.await.unwrap() {
                assert_eq!(e.code, ErrorCode::Unavailable);
                refused += 1;
            }
        }
        assert!(refused >= 5, "{refused} of 8 refused");
    }
}
