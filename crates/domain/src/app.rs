//! API apps: the client id and secret a workspace creates so programs can call the Kore.ai
//! dialect (`/api/public/...`) with JWTs signed by the secret. An app acts for its workspace and
//! may do what its scopes allow.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{UserId, WorkspaceId};
use crate::time::Timestamp;

/// Importing bots and bot functions (Kore.ai's "Bot Definition > Bot Import").
pub const SCOPE_IMPORT: &str = "Bot Import";
/// Exporting bots (Kore.ai's "Bot Definition > Bot Export").
pub const SCOPE_EXPORT: &str = "Bot Export";
/// Both of the above (Kore.ai's "Bot Definition" category).
pub const SCOPE_DEFINITION: &str = "Bot Definition";
/// Publishing (starting) bots (Kore.ai's "Bot Publish > Publish").
pub const SCOPE_PUBLISH: &str = "Publish";
/// Reading whether bots are published (Kore.ai's "Bot Publish > Publish Status").
pub const SCOPE_PUBLISH_STATUS: &str = "Publish Status";
/// Both of the above (Kore.ai's "Bot Publish" category).
pub const SCOPE_BOT_PUBLISH: &str = "Bot Publish";
pub const SCOPES: [&str; 6] =
    [SCOPE_DEFINITION, SCOPE_IMPORT, SCOPE_EXPORT, SCOPE_BOT_PUBLISH, SCOPE_PUBLISH, SCOPE_PUBLISH_STATUS];

pub const APP_NAME_MAX_CHARS: usize = 100;
pub const APPS_PER_WORKSPACE_MAX: usize = 100;
/// How long an app's tokens may live unless the app says otherwise.
pub const TOKEN_LIFETIME_DEFAULT_SECS: i64 = 3600;
/// The longest lifetime an app may give its tokens.
pub const TOKEN_LIFETIME_MAX_SECS: i64 = 24 * 3600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiApp {
    /// `cs-<uuid>`: the `appId` claim of the app's tokens.
    pub client_id: String,
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// Signs the app's JWTs (HMAC), so it is kept as it is: shown in full only at creation.
    pub client_secret: String,
    pub scopes: Vec<String>,
    /// Whether tokens must carry a `jti` claim (each accepted once).
    pub require_jti: bool,
    /// The longest a token of the app may live (from its `iat`, or until its `exp`), in seconds.
    pub token_lifetime_secs: i64,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
}

impl ApiApp {
    /// Whether the app may do what `scope` covers.
    pub fn allows(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| {
            s == scope
                || (s == SCOPE_DEFINITION && (scope == SCOPE_IMPORT || scope == SCOPE_EXPORT))
                || (s == SCOPE_BOT_PUBLISH && (scope == SCOPE_PUBLISH || scope == SCOPE_PUBLISH_STATUS))
        })
    }
}

/// Checks an app's name and scopes.
pub fn check_app(name: &str, scopes: &[String]) -> Result<(String, Vec<String>)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > APP_NAME_MAX_CHARS {
        return Err(Error::invalid(format!("An app needs a name of 1 to {APP_NAME_MAX_CHARS} characters")));
    }
    let mut checked = Vec::new();
    for scope in scopes {
        if !SCOPES.contains(&scope.as_str()) {
            return Err(Error::invalid(format!(
                "Unknown scope \"{scope}\"; scopes are {}",
                SCOPES.join(", ")
            )));
        }
        if !checked.contains(scope) {
            checked.push(scope.clone());
        }
    }
    Ok((name.to_owned(), checked))
}
