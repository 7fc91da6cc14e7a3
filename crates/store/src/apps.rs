//! API apps of workspaces (the client ids and secrets of the Kore.ai dialect).

use botyard_domain::app::ApiApp;
use botyard_domain::{Result, Timestamp, UserId, WorkspaceId};
use sqlx::any::AnyRow;

use crate::Store;
use crate::error::{db, json, to_json};
use crate::rows::get;

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait AppStore {
    async fn insert_app(&self, app: &ApiApp) -> Result<()>;
    async fn app(&self, client_id: &str) -> Result<Option<ApiApp>>;
    async fn apps(&self, workspace: &WorkspaceId) -> Result<Vec<ApiApp>>;
    async fn delete_app(&self, workspace: &WorkspaceId, client_id: &str) -> Result<bool>;
    /// Records a token id of the app until `expires_at`; `false` when it was recorded before.
    async fn record_token_use(&self, client_id: &str, jti: &str, expires_at: Timestamp) -> Result<bool>;
    /// Forgets token ids whose tokens have expired.
    async fn forget_expired_token_uses(&self, now: Timestamp) -> Result<u64>;
}

const COLUMNS: &str = "client_id, workspace_id, name, client_secret, scopes, require_jti, token_lifetime_secs, \
                       created_by, created_at";

impl AppStore for Store {
    async fn insert_app(&self, app: &ApiApp) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_apps (client_id, workspace_id, name, client_secret, scopes, require_jti, \
             token_lifetime_secs, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&app.client_id)
        .bind(app.workspace_id.as_str())
        .bind(&app.name)
        .bind(&app.client_secret)
        .bind(to_json(&app.scopes)?)
        .bind(i64::from(app.require_jti))
        .bind(app.token_lifetime_secs)
        .bind(app.created_by.map(|u| u.0))
        .bind(app.created_at.millis())
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn app(&self, client_id: &str) -> Result<Option<ApiApp>> {
        let sql = format!("SELECT {COLUMNS} FROM api_apps WHERE client_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        row.map(|r| app_row(&r)).transpose()
    }

    async fn apps(&self, workspace: &WorkspaceId) -> Result<Vec<ApiApp>> {
        let sql =
            format!("SELECT {COLUMNS} FROM api_apps WHERE workspace_id = $1 ORDER BY created_at, client_id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(workspace.as_str())
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        rows.iter().map(app_row).collect()
    }

    async fn delete_app(&self, workspace: &WorkspaceId, client_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_apps WHERE workspace_id = $1 AND client_id = $2")
            .bind(workspace.as_str())
            .bind(client_id)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn record_token_use(&self, client_id: &str, jti: &str, expires_at: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO app_token_uses (client_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(expires_at.millis())
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn forget_expired_token_uses(&self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM app_token_uses WHERE expires_at < $1")
            .bind(now.millis())
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }
}

fn app_row(row: &AnyRow) -> Result<ApiApp> {
    Ok(ApiApp {
        client_id: get(row, "client_id")?,
        workspace_id: WorkspaceId::from_stored(get(row, "workspace_id")?),
        name: get(row, "name")?,
        client_secret: get(row, "client_secret")?,
        scopes: json(&get::<String>(row, "scopes")?, "app scopes")?,
        require_jti: get::<i64>(row, "require_jti")? != 0,
        token_lifetime_secs: get(row, "token_lifetime_secs")?,
        created_by: get::<Option<i64>>(row, "created_by")?.map(UserId),
        created_at: Timestamp(get(row, "created_at")?),
    })
}
