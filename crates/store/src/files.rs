//! Files: uploads waiting to be imported and archives waiting to be downloaded. They live in the
//! database (so every node of a cluster can serve them) and expire.

pub use botyard_domain::file::StoredFile;
use botyard_domain::{Result, Timestamp, WorkspaceId};
use sqlx::AnyConnection;

use crate::Store;
use crate::error::db;
use crate::rows::get;

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait FileStore {
    async fn put_file(&self, file: &StoredFile) -> Result<()>;
    /// A file that has not expired.
    async fn file(&self, id: &str, now: Timestamp) -> Result<Option<StoredFile>>;
    /// Removes expired files; returns how many.
    async fn delete_expired_files(&self, now: Timestamp) -> Result<u64>;
}

impl FileStore for Store {
    async fn put_file(&self, file: &StoredFile) -> Result<()> {
        let mut conn = self.write.acquire().await.map_err(db)?;
        put_file_in(&mut conn, file).await
    }

    async fn file(&self, id: &str, now: Timestamp) -> Result<Option<StoredFile>> {
        let row = sqlx::query(
            "SELECT id, workspace_id, name, extension, context, hash, content, created_at, expires_at \
             FROM files WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now.millis())
        .fetch_optional(&self.read)
        .await
        .map_err(db)?;
        row.map(|r| {
            Ok(StoredFile {
                id: get(&r, "id")?,
                workspace_id: WorkspaceId::from_stored(get(&r, "workspace_id")?),
                name: get(&r, "name")?,
                extension: get(&r, "extension")?,
                context: get(&r, "context")?,
                hash: get(&r, "hash")?,
                content: get(&r, "content")?,
                created_at: Timestamp(get(&r, "created_at")?),
                expires_at: Timestamp(get(&r, "expires_at")?),
            })
        })
        .transpose()
    }

    async fn delete_expired_files(&self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM files WHERE expires_at <= $1")
            .bind(now.millis())
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }
}

/// Stores a file inside the caller's transaction (an export writes its archive and its job's
/// success together).
pub async fn put_file_in(conn: &mut AnyConnection, file: &StoredFile) -> Result<()> {
    sqlx::query(
        "INSERT INTO files (id, workspace_id, name, extension, context, size, hash, content, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&file.id)
    .bind(file.workspace_id.as_str())
    .bind(&file.name)
    .bind(&file.extension)
    .bind(&file.context)
    .bind(file.content.len() as i64)
    .bind(&file.hash)
    .bind(file.content.as_slice())
    .bind(file.created_at.millis())
    .bind(file.expires_at.millis())
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}
