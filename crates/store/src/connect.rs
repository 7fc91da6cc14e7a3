//! Opening the database: the backend from the URL scheme, SQLite's pragmas, migrations.

use std::sync::Arc;
use std::time::Duration;

use botyard_domain::{Error, ErrorCode, Result};
use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyConnection, Executor};

use crate::Store;
use crate::local_reads::LocalReads;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(Error::new(
                ErrorCode::InvalidPayload,
                format!(
                    "Unsupported database URL \"{}\": use sqlite://PATH or postgres://USER@HOST/DB",
                    redact_url(url)
                ),
            ))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Connection settings; the defaults suit one server on a small machine.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// How long SQLite waits for a lock held by another process before failing.
    pub sqlite_busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
            sqlite_busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Hides the password of a database URL for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

static MIGRATE_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static MIGRATE_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Connects to the database named by `url`, creating a SQLite file if needed, and brings its
    /// schema up to date.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let unreachable = |e: sqlx::Error| {
            Error::new(
                ErrorCode::Unavailable,
                format!("Cannot open the database at {}: {e}", redact_url(url)),
            )
        };
        let store = match backend {
            Backend::Sqlite => {
                let url = sqlite_url_with_create(url);
                let busy_ms = options.sqlite_busy_timeout.as_millis() as u64;
                let pool = |max: u32| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .min_connections(1)
                        .acquire_timeout(options.acquire_timeout)
                        .after_connect(move |conn, _| Box::pin(sqlite_pragmas(conn, busy_ms)))
                };
                let write = pool(1).connect(&url).await.map_err(unreachable)?;
                write.execute("PRAGMA journal_mode = WAL").await.map_err(unreachable)?;
                let read =
                    pool(options.max_connections.clamp(2, 8)).connect(&url).await.map_err(unreachable)?;
                let in_memory = url.contains(":memory:") || url.contains("mode=memory");
                let file = url
                    .parse::<SqliteConnectOptions>()
                    .ok()
                    .filter(|_| !in_memory)
                    .map(|o| o.get_filename().to_owned());
                let local = LocalReads::new(file, options.sqlite_busy_timeout).map(Arc::new);
                Store { backend, url: url.clone(), read, write, local }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect(url)
                    .await
                    .map_err(unreachable)?;
                Store { backend, url: url.to_owned(), read: pool.clone(), write: pool, local: None }
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &MIGRATE_SQLITE,
            Backend::Postgres => &MIGRATE_POSTGRES,
        };
        migrator.run(&self.write).await.map_err(|e| Error::internal(format!("running migrations: {e}")))
    }
}

async fn sqlite_pragmas(conn: &mut AnyConnection, busy_ms: u64) -> Result<(), sqlx::Error> {
    // The values are numbers we format ourselves, not client input.
    let pragmas =
        format!("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = {busy_ms};");
    conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
    Ok(())
}

/// Adds `mode=rwc` so a missing SQLite file is created.
fn sqlite_url_with_create(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}
