//! Mapping database failures to the domain error: faults are 500s with the cause in the log.

use botyard_domain::{Error, ErrorCode};

/// A database fault: internal to the client, detailed in the log.
pub(crate) fn db(err: sqlx::Error) -> Error {
    match &err {
        sqlx::Error::PoolTimedOut => Error::new(ErrorCode::Unavailable, "The database is busy, please retry")
            .with_detail(err.to_string()),
        _ => Error::internal(format!("database: {err}")),
    }
}

/// Whether the failure is a unique-constraint violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|e| e.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// Maps a unique violation to `AlreadyExists` with `message`, anything else to a fault.
pub(crate) fn unique_or_db(err: sqlx::Error, message: &str) -> Error {
    if is_unique_violation(&err) { Error::already_exists(message) } else { db(err) }
}

/// Decodes a JSON document column.
pub(crate) fn json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T, Error> {
    serde_json::from_str(raw).map_err(|e| Error::internal(format!("stored {what} is not valid: {e}")))
}

/// Encodes a JSON document column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::internal(format!("encoding JSON: {e}")))
}
