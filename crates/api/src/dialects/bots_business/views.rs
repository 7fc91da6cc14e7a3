//! Bots.Business's wire types: snake_case, integer ids, `status: "works"`.

use botyard_domain::account::{Membership, User};
use botyard_domain::bot::Bot;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub personal: bool,
    pub plan: String,
    pub created_at: String,
}

impl WorkspaceView {
    pub fn new(m: &Membership, user: &User) -> Self {
        Self {
            id: m.workspace.id.to_string(),
            name: m.workspace.name.clone(),
            role: m.role.as_str().into(),
            personal: m.workspace.personal_of == Some(user.id),
            plan: m.workspace.plan.clone(),
            created_at: m.workspace.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    /// Only the beginning of the key: the full key is shown once, at sign-up or reset.
    pub api_key: String,
    pub created_at: String,
    pub updated_at: String,
    pub workspaces: Vec<WorkspaceView>,
}

impl UserView {
    pub fn new(user: &User, memberships: &[Membership]) -> Self {
        Self {
            id: user.id.0,
            email: user.email.clone(),
            api_key: user.api_key_hint.clone(),
            created_at: user.created_at.to_rfc3339(),
            updated_at: user.updated_at.to_rfc3339(),
            workspaces: memberships.iter().map(|m| WorkspaceView::new(m, user)).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BotView {
    pub id: i64,
    /// The bot's UUID, as the Botpress dialect shows it; accepted wherever an id is.
    pub uid: String,
    pub name: String,
    /// `works` when the bot processes messages, `stopped` otherwise.
    pub status: String,
    pub token: Option<String>,
    pub csv_url: Option<String>,
    pub git_remote: Option<String>,
    pub workspace_id: String,
    /// The webhook id of the bot's web chat channel (`/chat/{web_channel_id}`).
    pub web_channel_id: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Bot> for BotView {
    fn from(bot: Bot) -> Self {
        Self {
            id: bot.number,
            uid: bot.id.to_string(),
            name: bot.name,
            status: bot.run_state.as_str().into(),
            token: bot.telegram_token,
            csv_url: bot.csv_url,
            git_remote: bot.git_remote,
            workspace_id: bot.workspace_id.to_string(),
            web_channel_id: bot.web_channel_id,
            created_at: bot.created_at.to_rfc3339(),
            updated_at: bot.updated_at.to_rfc3339(),
        }
    }
}
