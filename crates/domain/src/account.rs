//! Accounts: the people who build bots, their workspaces and their roles in them.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::ids::{UserId, WorkspaceId};
use crate::time::Timestamp;

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 256;
pub const EMAIL_MAX_CHARS: usize = 254;
pub const WORKSPACE_NAME_MAX_CHARS: usize = 100;

/// A Telegram account linked to a botyard account (Telegram login).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TelegramAccount {
    pub telegram_id: i64,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub photo_url: Option<String>,
    pub linked_at: crate::Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// A short, non-secret beginning of the API key so a user can tell keys apart.
    pub api_key_hint: String,
}

/// A workspace owns bots; users reach bots through their membership in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    /// The user whose personal workspace this is (created at sign-up), if any.
    pub personal_of: Option<UserId>,
    pub plan: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Membership {
    pub workspace: Workspace,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub role: Role,
    pub joined_at: Timestamp,
}

/// An invitation of an email address that has no account yet; it becomes a membership at sign-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invitation {
    pub workspace_id: WorkspaceId,
    pub email: String,
    pub role: Role,
    pub invited_by: UserId,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Developer,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Viewer => "viewer",
        }
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "developer" => Ok(Self::Developer),
            "viewer" => Ok(Self::Viewer),
            other => Err(Error::invalid(format!(
                "Unknown role \"{other}\": expected owner, admin, developer or viewer"
            ))),
        }
    }
}

/// Trims and lower-cases an email address and checks it looks like one.
pub fn normalize_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= EMAIL_MAX_CHARS
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid { Ok(email) } else { Err(Error::invalid("Email is invalid")) }
}

/// Checks a new password against the password policy.
pub fn check_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(Error::invalid(format!(
            "Password is too short (minimum is {PASSWORD_MIN_CHARS} characters)"
        )));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(Error::invalid(format!(
            "Password is too long (maximum is {PASSWORD_MAX_CHARS} characters)"
        )));
    }
    Ok(())
}

pub fn check_workspace_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > WORKSPACE_NAME_MAX_CHARS {
        return Err(Error::invalid(format!(
            "Workspace name must be 1 to {WORKSPACE_NAME_MAX_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(normalize_email("  Ann@Example.COM ").unwrap(), "ann@example.com");
        for bad in ["", "ann", "ann@", "@x.io", "ann@localhost", "a b@x.io", "a@x.io."] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_and_passwords_parse() {
        assert_eq!("viewer".parse::<Role>().unwrap(), Role::Viewer);
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
    }
}
