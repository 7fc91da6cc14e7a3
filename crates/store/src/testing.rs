//! Fresh databases for tests: a SQLite file in a temporary directory, or a new PostgreSQL
//! database on the server named by `BOTYARD_TEST_POSTGRES_URL`, dropped when the guard goes.

use sqlx::{Connection, Executor};

/// The backends a test should run against: SQLite always, PostgreSQL when configured. Without
/// `BOTYARD_TEST_POSTGRES_URL` the PostgreSQL half is skipped — said once on the terminal (past the
/// test harness's capture) — or, when `BOTYARD_TEST_REQUIRE_POSTGRES` is set (as CI does), refused.
pub fn backends() -> Vec<crate::Backend> {
    let mut all = vec![crate::Backend::Sqlite];
    if postgres_admin_url().is_some() {
        all.push(crate::Backend::Postgres);
    } else {
        say_postgres_skipped();
    }
    all
}

fn say_postgres_skipped() {
    use std::io::Write;
    static SAID: std::sync::Once = std::sync::Once::new();
    let required = std::env::var_os("BOTYARD_TEST_REQUIRE_POSTGRES").is_some_and(|v| !v.is_empty());
    assert!(!required, "BOTYARD_TEST_REQUIRE_POSTGRES is set but BOTYARD_TEST_POSTGRES_URL is not");
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr().lock(),
            "\nSKIPPED: the PostgreSQL half of these tests (BOTYARD_TEST_POSTGRES_URL is not set)\n"
        );
    });
}

fn postgres_admin_url() -> Option<String> {
    std::env::var("BOTYARD_TEST_POSTGRES_URL").ok().filter(|u| !u.trim().is_empty())
}

/// A database that exists for as long as this value does.
pub struct TestDatabase {
    pub url: String,
    pub backend: crate::Backend,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create(backend: crate::Backend) -> Self {
        match backend {
            crate::Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("botyard.db").display());
                Self { url, backend, _dir: Some(dir), drop_pg: None }
            }
            crate::Backend::Postgres => {
                let admin = postgres_admin_url().expect("BOTYARD_TEST_POSTGRES_URL is set");
                let name = format!("botyard_test_{}", uuid_like());
                let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to PostgreSQL");
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&admin).expect("valid BOTYARD_TEST_POSTGRES_URL");
                url.set_path(&name);
                Self { url: url.to_string(), backend, _dir: None, drop_pg: Some((admin, name)) }
            }
        }
    }
}

impl TestDatabase {
    /// Runs a statement on the database directly: for tests that arrange what only time would
    /// (a session about to expire).
    pub async fn execute(&self, statement: &str) {
        let sql = sqlx::AssertSqlSafe(statement.to_owned());
        match self.backend {
            crate::Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.expect("connect to SQLite");
                conn.execute(sql).await.expect("statement runs");
            }
            crate::Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to PostgreSQL");
                conn.execute(sql).await.expect("statement runs");
            }
        }
    }

    /// A number one query finds (`SELECT COUNT(*) …`), read directly from the database.
    pub async fn count(&self, query: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(query.to_owned());
        match self.backend {
            crate::Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.expect("connect to SQLite");
                sqlx::query_scalar(sql).fetch_one(&mut conn).await.expect("query runs")
            }
            crate::Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect to PostgreSQL");
                sqlx::query_scalar(sql).fetch_one(&mut conn).await.expect("query runs")
            }
        }
    }

    /// The same database again, for a second node; only the first drops it.
    pub fn share(other: &TestDatabase) -> Self {
        Self { url: other.url.clone(), backend: other.backend, _dir: None, drop_pg: None }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.drop_pg.take() {
            // Dropping needs a connection of its own; do it on a short-lived thread and runtime so
            // it works from inside or outside an async context.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    conn.execute(sqlx::AssertSqlSafe(sql)).await.ok()
                })
            })
            .join();
        }
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}_{}_{n}", std::process::id(), nanos % 1_000_000_000_000)
}
