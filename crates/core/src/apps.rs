//! API apps of a workspace: created and removed by its members, and looked up by client id when
//! a program calls the Kore.ai dialect with a JWT.

use botyard_domain::app::{APPS_PER_WORKSPACE_MAX, ApiApp, check_app};
use botyard_domain::{Error, Result, Timestamp};
use botyard_store::AppStore;

use crate::{Services, WorkspaceAccess, credentials};

impl Services {
    /// Creates an app; its secret is in the returned app (and shown only now).
    pub async fn create_app(
        &self,
        access: &WorkspaceAccess,
        name: &str,
        scopes: &[String],
        require_jti: bool,
    ) -> Result<ApiApp> {
        access.role.require_write()?;
        let (name, scopes) = check_app(name, scopes)?;
        if self.store.apps(&access.workspace).await?.len() >= APPS_PER_WORKSPACE_MAX {
            return Err(Error::limit(format!("A workspace can have at most {APPS_PER_WORKSPACE_MAX} apps")));
        }
        let app = ApiApp {
            client_id: format!("cs-{}", uuid::Uuid::new_v4()),
            workspace_id: access.workspace.clone(),
            name,
            client_secret: credentials::random_token(""),
            scopes,
            require_jti,
            created_by: Some(access.caller.user.id),
            created_at: Timestamp::now(),
        };
        self.store.insert_app(&app).await?;
        Ok(app)
    }

    pub async fn apps(&self, access: &WorkspaceAccess) -> Result<Vec<ApiApp>> {
        self.store.apps(&access.workspace).await
    }

    pub async fn delete_app(&self, access: &WorkspaceAccess, client_id: &str) -> Result<()> {
        access.role.require_write()?;
        if !self.store.delete_app(&access.workspace, client_id).await? {
            return Err(Error::not_found("App"));
        }
        Ok(())
    }

    /// The app a token names by its `appId` claim.
    pub async fn app(&self, client_id: &str) -> Result<Option<ApiApp>> {
        self.store.app(client_id).await
    }
}
