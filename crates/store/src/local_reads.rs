//! SQLite reads on the calling thread, for the small reads every message makes (users, chats,
//! pending replies, properties).
//!
//! sqlx runs each SQLite connection on a thread of its own: every statement is handed to that
//! thread and its rows handed back, two thread wake-ups per statement, which on a small machine
//! cost more than the statement itself. These reads go to a connection of this module's pool
//! instead (rusqlite, read-only, on the same file in WAL mode, so they see every committed write
//! as sqlx's read pool does) and run where they are asked: an indexed read takes microseconds,
//! less than the hand-off did. Everything else, and every write, stays on sqlx's pools.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use botyard_domain::{Error, ErrorCode, Result};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OpenFlags};

/// Connections kept open between reads (more are opened when more reads run at once, and closed
/// after them).
const IDLE_CONNECTIONS: usize = 8;
/// Prepared statements kept per connection (the grouped reads' text varies with the group's size).
const STATEMENTS_PER_CONNECTION: usize = 64;

/// A pool of read-only connections to one SQLite file.
#[derive(Debug)]
pub(crate) struct LocalReads {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
}

/// A row read by [`LocalReads`]: its values by column, owned.
pub(crate) struct LocalRow {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl LocalRow {
    /// The value of column `name`, as `T`.
    pub(crate) fn value_of<T: rusqlite::types::FromSql>(&self, name: &str) -> Result<T> {
        let index = self
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::internal(format!("reading column {name}: no such column")))?;
        T::column_result(ValueRef::from(&self.values[index]))
            .map_err(|e| Error::internal(format!("reading column {name}: {e}")))
    }
}

impl LocalReads {
    /// Reads from the SQLite file at `path`; `None` without a file (an in-memory database, which
    /// only sqlx's own connections can see): reads then stay on sqlx's read pool.
    pub(crate) fn new(path: Option<PathBuf>, busy_timeout: Duration) -> Option<Self> {
        let path = path.filter(|p| !p.as_os_str().is_empty())?;
        Some(Self { path, busy_timeout, idle: Mutex::new(Vec::new()) })
    }

    /// Runs `sql` (a `SELECT` with `$1`, `$2`, … each used once, in order) with `args`.
    pub(crate) fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<LocalRow>> {
        let connection = match self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            Some(connection) => connection,
            None => self.open()?,
        };
        let rows = read(&connection, sql, args);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(connection);
        }
        rows.map_err(|e| failed(&e))
    }

    fn open(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags).map_err(|e| failed(&e))?;
        connection.busy_timeout(self.busy_timeout).map_err(|e| failed(&e))?;
        connection.set_prepared_statement_cache_capacity(STATEMENTS_PER_CONNECTION);
        Ok(connection)
    }
}

fn read(connection: &Connection, sql: &str, args: &[Value]) -> rusqlite::Result<Vec<LocalRow>> {
    let mut statement = connection.prepare_cached(sql)?;
    if statement.parameter_count() != args.len() {
        return Err(rusqlite::Error::InvalidParameterCount(args.len(), statement.parameter_count()));
    }
    for (i, arg) in args.iter().enumerate() {
        statement.raw_bind_parameter(i + 1, arg)?;
    }
    let names: Arc<[String]> = statement.column_names().into_iter().map(str::to_owned).collect();
    let mut rows = statement.raw_query();
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let values = (0..names.len()).map(|i| row.get::<_, Value>(i)).collect::<rusqlite::Result<_>>()?;
        found.push(LocalRow { names: names.clone(), values });
    }
    Ok(found)
}

fn failed(e: &rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            Error::new(ErrorCode::Unavailable, "The database is busy, please retry")
                .with_detail(e.to_string())
        }
        _ => Error::internal(format!("database: {e}")),
    }
}
