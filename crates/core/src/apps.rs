//! API apps of a workspace: created and removed by its members, and looked up by client id when
//! a program calls the Kore.ai dialect with a JWT.

use botyard_domain::app::{
    APPS_PER_WORKSPACE_MAX, ApiApp, TOKEN_LIFETIME_DEFAULT_SECS, TOKEN_LIFETIME_MAX_SECS, check_app,
};
use botyard_domain::{Error, Result, Timestamp};
use botyard_store::AppStore;

use crate::{Services, WorkspaceAccess, credentials};

/// An app to create.
#[derive(Debug, Clone, Default)]
pub struct NewApp {
    pub name: String,
    pub scopes: Vec<String>,
    /// Whether tokens must carry a `jti` claim (each accepted once).
    pub require_jti: bool,
    /// The longest a token may live; one hour when absent.
    pub token_lifetime_secs: Option<i64>,
}

impl Services {
    /// Creates an app; its secret is in the returned app (and shown only now).
    pub async fn create_app(&self, access: &WorkspaceAccess, new: NewApp) -> Result<ApiApp> {
        let NewApp { name, scopes, require_jti, token_lifetime_secs } = new;
        access.role.require(botyard_domain::access::Permission::ManageApps)?;
        let (name, scopes) = check_app(&name, &scopes)?;
        let token_lifetime_secs = token_lifetime_secs.unwrap_or(TOKEN_LIFETIME_DEFAULT_SECS);
        if !(60..=TOKEN_LIFETIME_MAX_SECS).contains(&token_lifetime_secs) {
            return Err(Error::invalid(format!(
                "token_lifetime_secs must be 60 to {TOKEN_LIFETIME_MAX_SECS} seconds"
            )));
        }
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
            token_lifetime_secs,
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
        access.role.require(botyard_domain::access::Permission::ManageApps)?;
        if !self.store.delete_app(&access.workspace, client_id).await? {
            return Err(Error::not_found("App"));
        }
        Ok(())
    }
}
