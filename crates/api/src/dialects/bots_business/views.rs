//! Bots.Business's wire types: snake_case, integer ids, `status: "works"`.

use botyard_domain::account::{Membership, User};
use botyard_domain::bot::Bot;
use botyard_domain::command::{Command, Folder};
use botyard_domain::conversation::Chat;
use botyard_domain::effects::ErrorLog;
use botyard_domain::plan::Plan;
use botyard_domain::property::{Property, PropertyScope};
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
    /// botyard's addition: the dialect that made the bot (`bots_business`, `botpress`, `koreai`)
    /// and its status in that dialect's words (`works`, `active`, `published`…).
    pub origin: &'static str,
    pub origin_status: &'static str,
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
        let origin_status = bot.status_word();
        Self {
            id: bot.number,
            uid: bot.id.to_string(),
            name: bot.name,
            status: bot.run_state.as_str().into(),
            origin: bot.origin.as_str(),
            origin_status,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct FolderView {
    pub id: i64,
    pub title: String,
    pub bot_id: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Folder> for FolderView {
    fn from(f: Folder) -> Self {
        Self {
            id: f.id,
            title: f.title,
            bot_id: f.bot_number,
            created_at: f.created_at.to_rfc3339(),
            updated_at: f.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AliasView {
    pub id: i64,
    /// The alias.
    pub command: String,
    pub bot_command_id: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    pub title: String,
}

/// A command as Bots.Business returns it: `code` (sent as `bjs_code`), `aliases` as objects
/// (sent as a comma list), the group as `commands_group`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandView {
    pub id: i64,
    pub command: String,
    pub bot_id: i64,
    pub help: String,
    pub answer: String,
    pub keyboard_body: String,
    pub need_reply: bool,
    pub auto_retry_time: Option<i64>,
    pub last_auto_retry_at: Option<String>,
    pub commands_folder_id: Option<i64>,
    pub commands_folder: Option<FolderView>,
    pub group: String,
    pub commands_group: Option<GroupView>,
    pub created_via_csv_import: bool,
    pub last_csv_import_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub code: String,
    pub aliases: Vec<AliasView>,
}

impl CommandView {
    pub fn new(c: Command, folders: &[Folder]) -> Self {
        let folder =
            c.folder_id.and_then(|id| folders.iter().find(|f| f.id == id)).cloned().map(FolderView::from);
        Self {
            id: c.id,
            bot_id: c.bot_number,
            help: c.help,
            answer: c.answer,
            keyboard_body: c.keyboard,
            need_reply: c.need_reply,
            auto_retry_time: c.auto_retry_time,
            last_auto_retry_at: c.last_auto_retry_at.map(|t| t.to_rfc3339()),
            commands_folder_id: c.folder_id,
            commands_folder: folder,
            commands_group: Some(c.group.clone()).filter(|g| !g.is_empty()).map(|title| GroupView { title }),
            group: c.group,
            created_via_csv_import: c.created_via_csv_import,
            last_csv_import_at: c.last_csv_import_at.map(|t| t.to_rfc3339()),
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
            code: c.code,
            aliases: c
                .aliases
                .into_iter()
                .map(|a| AliasView {
                    id: a.id,
                    command: a.alias,
                    bot_command_id: a.command_id,
                    created_at: a.created_at.to_rfc3339(),
                    updated_at: a.updated_at.to_rfc3339(),
                })
                .collect(),
            command: c.command,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatView {
    pub id: i64,
    /// The chat's id on its channel (Telegram chat id, web conversation id).
    pub chatid: String,
    pub channel: String,
    pub chat_type: String,
    pub title: Option<String>,
    pub bot_id: i64,
    pub blocked: bool,
    /// The user blocked the bot (Telegram): nothing is sent there.
    pub bot_blocked: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Chat> for ChatView {
    fn from(c: Chat) -> Self {
        Self {
            id: c.id,
            chatid: c.external_id,
            channel: c.channel.as_str().into(),
            chat_type: c.chat_type,
            title: c.title,
            bot_id: c.bot_number,
            blocked: c.blocked,
            bot_blocked: c.bot_blocked,
            created_at: c.created_at.to_rfc3339(),
            updated_at: c.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PropertyView {
    pub id: i64,
    pub name: String,
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    #[serde(rename = "type")]
    pub kind: String,
    /// `bot`, `user` or `chat`.
    pub scope: String,
    pub user_id: Option<i64>,
    pub chat_id: Option<i64>,
    pub updated_at: String,
}

impl From<Property> for PropertyView {
    fn from(p: Property) -> Self {
        Self {
            id: p.id,
            name: p.name,
            value: p.value,
            kind: p.kind.as_str().into(),
            scope: p.scope.as_str().into(),
            user_id: (p.scope == PropertyScope::User).then_some(p.owner),
            chat_id: (p.scope == PropertyScope::Chat).then_some(p.owner),
            updated_at: p.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorCommandView {
    pub command: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorScenarioView {
    pub bot_command: ErrorCommandView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorLogView {
    pub id: i64,
    pub created_at: String,
    pub title: String,
    pub stack_trace: String,
    pub scenario: ErrorScenarioView,
    pub chat_id: Option<i64>,
    pub user_id: Option<i64>,
}

impl From<ErrorLog> for ErrorLogView {
    fn from(e: ErrorLog) -> Self {
        Self {
            id: e.id,
            created_at: e.entry.at.to_rfc3339(),
            title: e.entry.title,
            stack_trace: e.entry.stack_trace,
            scenario: ErrorScenarioView { bot_command: ErrorCommandView { command: e.entry.command } },
            chat_id: e.entry.chat_id,
            user_id: e.entry.user_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanView {
    pub name: String,
    pub title: String,
    pub iterations_per_month: u64,
    /// Seconds a command may run.
    pub max_execution_time: u32,
    pub price_cents: u64,
}

impl From<Plan> for PlanView {
    fn from(p: Plan) -> Self {
        Self {
            name: p.name,
            title: p.title,
            iterations_per_month: p.iterations_per_month,
            max_execution_time: p.max_execution_time_secs,
            price_cents: p.price_cents,
        }
    }
}
