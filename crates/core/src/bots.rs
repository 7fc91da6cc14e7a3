//! Bots: creating, reading, changing and deleting them, with the caller's access checked.

use botyard_domain::account::{Role, User};
use botyard_domain::bot::{self, Bot, BotChanges, BotDefinition, DeployStatus, Origin, RunState};
use botyard_domain::page::Page;
use botyard_domain::{BotId, BotRef, Error, Result, Timestamp, UserId, WorkspaceId};
use botyard_store::{AccountStore, BotListQuery, BotStore, WorkspaceStore};

use crate::cache_sync::Change;
use crate::{Caller, Services, credentials};

/// A bot to create.
#[derive(Debug, Clone, Default)]
pub struct NewBot {
    /// Generated when absent.
    pub name: Option<String>,
    pub dev: bool,
    pub changes: BotChanges,
    /// Runs at once (`works`): Botpress deploys a bot when it is created; Bots.Business and
    /// Kore.ai bots wait to be started (published).
    pub runs: bool,
    /// The dialect creating the bot.
    pub origin: Origin,
}

/// A caller acting in a workspace they belong to, with their role there.
#[derive(Debug, Clone)]
pub struct WorkspaceAccess {
    pub caller: Caller,
    pub workspace: WorkspaceId,
    pub role: Role,
}

/// A bot as the caller may see it, with the caller's role in its workspace.
#[derive(Debug, Clone)]
pub struct BotAccess {
    pub bot: Bot,
    pub role: Role,
}

impl Services {
    /// The workspace a dialect without workspaces (Bots.Business) works in: the caller's
    /// personal workspace, or else the first one they belong to.
    pub async fn default_workspace(&self, caller: &Caller) -> Result<WorkspaceId> {
        let memberships = self.store.memberships(caller.user.id).await?;
        memberships
            .iter()
            .find(|m| m.workspace.personal_of == Some(caller.user.id))
            .or(memberships.first())
            .map(|m| m.workspace.id.clone())
            .ok_or_else(|| Error::forbidden("You do not belong to any workspace"))
    }

    /// The caller's access to a workspace; `Forbidden` when they are not a member.
    pub async fn workspace_access(&self, caller: Caller, workspace: WorkspaceId) -> Result<WorkspaceAccess> {
        let role = self.workspace_role(&caller, &workspace).await?;
        Ok(WorkspaceAccess { caller, workspace, role })
    }

    pub async fn create_bot(&self, access: &WorkspaceAccess, new: NewBot) -> Result<Bot> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let bot = Self::prepare_bot(&access.workspace, Some(access.caller.user.id), new)?;
        self.store.insert_bot(&bot).await
    }

    /// A new bot of the workspace, checked but not stored (its number is assigned on insert).
    pub fn prepare_bot(workspace: &WorkspaceId, created_by: Option<UserId>, new: NewBot) -> Result<Bot> {
        let now = Timestamp::now();
        let name = match new.name {
            Some(name) => bot::changes::check_name(&name)?,
            None => bot::generated_name(rand::random()),
        };
        let mut bot = Bot {
            id: BotId::generate(),
            number: 0,
            workspace_id: workspace.clone(),
            name,
            dev: new.dev,
            status: DeployStatus::Active,
            run_state: if new.runs { RunState::Works } else { RunState::Stopped },
            origin: new.origin,
            created_at: now,
            updated_at: now,
            deployed_at: Some(now),
            created_by,
            signing_secret: credentials::random_token("bss_"),
            web_channel_id: uuid::Uuid::new_v4().to_string(),
            telegram_token: None,
            telegram_username: None,
            csv_url: None,
            git_remote: None,
            definition: BotDefinition::default(),
        };
        bot.apply(new.changes)?;
        Ok(bot)
    }

    /// A bot by either of its ids, from the cache when it is there.
    pub async fn find_bot(&self, bot: &BotRef) -> Result<Option<Bot>> {
        if let Some(found) = self.bots.get(bot) {
            return Ok(Some(found));
        }
        let epoch = self.bots.epoch();
        let found = self.store.bot(bot).await?;
        if let Some(found) = &found {
            self.bots.insert(
                epoch,
                [
                    (BotRef::Number(found.number), found.clone()),
                    (BotRef::Id(found.id.clone()), found.clone()),
                ],
            );
        }
        Ok(found)
    }

    /// The bot whose web channel has this id (the Chat API's webhook id), cached as bots are.
    pub async fn bot_by_web_channel(&self, webhook: &str) -> Result<Option<Bot>> {
        let key = webhook.to_owned();
        if let Some(found) = self.web_bots.get(&key) {
            return Ok(Some(found));
        }
        let epoch = self.web_bots.epoch();
        let found = self.store.bot_by_web_channel(webhook).await?;
        if let Some(found) = &found {
            self.web_bots.insert(epoch, [(key, found.clone())]);
        }
        Ok(found)
    }

    /// A bot in any workspace of the caller; `NotFound` when it does not exist or is elsewhere.
    pub async fn bot_access(&self, caller: &Caller, bot: &BotRef) -> Result<BotAccess> {
        let bot = self.find_bot(bot).await?.ok_or_else(|| Error::not_found("Bot"))?;
        let role = match self.workspace_role(caller, &bot.workspace_id).await {
            Ok(role) => role,
            Err(e) if e.code == botyard_domain::ErrorCode::Forbidden => return Err(Error::not_found("Bot")),
            Err(e) => return Err(e),
        };
        Ok(BotAccess { bot, role })
    }

    /// A bot of the workspace; `NotFound` when the bot is not in it.
    pub async fn workspace_bot(&self, access: &WorkspaceAccess, bot: &BotRef) -> Result<BotAccess> {
        let bot = self.find_bot(bot).await?.ok_or_else(|| Error::not_found("Bot"))?;
        if bot.workspace_id != access.workspace {
            return Err(Error::not_found("Bot"));
        }
        Ok(BotAccess { bot, role: access.role })
    }

    pub async fn update_bot(&self, access: BotAccess, changes: BotChanges) -> Result<Bot> {
        self.modify_bot(access, |bot| bot.apply(changes.clone())).await
    }

    /// Applies a change and deploys the bot, as Botpress's `updateBot` does: afterwards it runs.
    pub async fn deploy_bot(&self, access: BotAccess, changes: BotChanges) -> Result<Bot> {
        self.modify_bot(access, |bot| {
            bot.apply(changes.clone())?;
            bot.run_state = RunState::Works;
            Ok(())
        })
        .await
    }

    /// Starts (`works`) or stops the bot.
    pub async fn set_run_state(&self, access: BotAccess, state: RunState) -> Result<Bot> {
        self.modify_bot(access, |bot| {
            bot.run_state = state;
            Ok(())
        })
        .await
    }

    /// Replaces the signing secret; the new one is in the returned bot.
    pub async fn rotate_signing_secret(&self, access: BotAccess) -> Result<Bot> {
        let secret = credentials::random_token("bss_");
        self.modify_bot(access, |bot| {
            bot.signing_secret = secret.clone();
            Ok(())
        })
        .await
    }

    pub async fn delete_bot(&self, access: BotAccess) -> Result<()> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        self.store.delete_bot(&access.bot).await?;
        self.changed(Change::Bot(access.bot.id)).await;
        Ok(())
    }

    /// Lists bots of the workspace.
    pub async fn list_bots(&self, access: &WorkspaceAccess, mut query: BotListQuery) -> Result<Page<Bot>> {
        query.workspaces = vec![access.workspace.clone()];
        self.store.list_bots(&query).await
    }

    /// Lists bots of every workspace the caller belongs to.
    pub async fn list_all_bots(&self, caller: &Caller, mut query: BotListQuery) -> Result<Page<Bot>> {
        let mine = self.store.memberships(caller.user.id).await?;
        query.workspaces = mine.into_iter().map(|m| m.workspace.id).collect();
        self.store.list_bots(&query).await
    }

    /// The account that created the bot (Bots.Business's `owner` of a script), if it still exists.
    pub async fn bot_owner(&self, bot: &Bot) -> Result<Option<User>> {
        let Some(id) = bot.created_by else { return Ok(None) };
        if let Some(owner) = self.owners.get(&id) {
            return Ok(owner);
        }
        let epoch = self.owners.epoch();
        let owner = self.store.user_by_id(id).await?.map(|record| record.user);
        self.owners.insert(epoch, [(id, owner.clone())]);
        Ok(owner)
    }

    /// Changes a bot on botyard's own account (bookkeeping such as a recurring event's failures),
    /// without touching its `updatedAt`.
    pub async fn change_bot_quietly(&self, id: &BotId, change: impl FnOnce(&mut Bot) + Send) -> Result<()> {
        let bot = self
            .store
            .modify_bot(id, |bot| {
                change(bot);
                Ok(())
            })
            .await?;
        self.changed(Change::Bot(bot.id)).await;
        Ok(())
    }

    /// Applies `change` to the current bot and stores it; concurrent changes queue.
    async fn modify_bot(
        &self,
        access: BotAccess,
        mut change: impl FnMut(&mut Bot) -> Result<()> + Send,
    ) -> Result<Bot> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let bot = self
            .store
            .modify_bot(&access.bot.id, |bot| {
                let before = bot.updated_at;
                // Validating a configuration compiles its JSON schema: heavy, and under the row lock.
                crate::cpu::in_place(|| change(bot))?;
                bot.updated_at = Timestamp::now().max(before.plus_millis(1));
                Ok(())
            })
            .await?;
        self.changed(Change::Bot(bot.id.clone())).await;
        Ok(bot)
    }
}
