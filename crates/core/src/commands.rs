//! Commands and folders of a bot, with the caller's access checked, and the per-node cache of a
//! bot's commands the runtime matches messages against.

use std::sync::Arc;

use botyard_domain::command::{self, Command, CommandDraft, CommandFields, Folder};
use botyard_domain::{Error, Result, Timestamp};
use botyard_store::CommandStore;

use crate::cache_sync::Change;
use crate::{BotAccess, Services};

/// Commands per page of `GET /v2/bots/{id}/commands?page=N`.
pub const COMMANDS_PER_PAGE: u32 = 50;

impl Services {
    pub async fn create_folder(&self, access: &BotAccess, title: &str) -> Result<Folder> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let title = command::check_folder_title(title)?;
        self.store.create_folder(access.bot.number, &title, Timestamp::now()).await
    }

    pub async fn folders(&self, access: &BotAccess) -> Result<Vec<Folder>> {
        self.store.folders(access.bot.number).await
    }

    /// Deletes a folder; its commands move to the root.
    pub async fn delete_folder(&self, access: &BotAccess, id: i64) -> Result<()> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        if !self.store.delete_folder(access.bot.number, id).await? {
            return Err(Error::not_found("Commands folder"));
        }
        self.changed(Change::Commands(access.bot.number)).await;
        Ok(())
    }

    pub async fn create_command(&self, access: &BotAccess, fields: CommandFields) -> Result<Command> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let draft = CommandDraft::new(fields)?;
        let created = self.store.create_command(access.bot.number, &draft, Timestamp::now(), false).await?;
        self.changed(Change::Commands(access.bot.number)).await;
        Ok(created)
    }

    pub async fn command(&self, access: &BotAccess, id: i64) -> Result<Command> {
        self.store.command(access.bot.number, id).await?.ok_or_else(|| Error::not_found("Command"))
    }

    pub async fn update_command(
        &self,
        access: &BotAccess,
        id: i64,
        fields: CommandFields,
    ) -> Result<Command> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let current = self.command(access, id).await?;
        let draft = CommandDraft::of(&current).change(fields)?;
        let updated = self.store.update_command(access.bot.number, id, &draft, Timestamp::now()).await?;
        self.changed(Change::Commands(access.bot.number)).await;
        Ok(updated)
    }

    pub async fn delete_command(&self, access: &BotAccess, id: i64) -> Result<()> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        if !self.store.delete_command(access.bot.number, id).await? {
            return Err(Error::not_found("Command"));
        }
        self.changed(Change::Commands(access.bot.number)).await;
        Ok(())
    }

    /// One page of commands (from 1); past the end, an empty list.
    pub async fn commands_page(&self, access: &BotAccess, page: u32) -> Result<Vec<Command>> {
        self.store.commands_page(access.bot.number, page.max(1), COMMANDS_PER_PAGE).await
    }

    /// Every command of a bot, from this node's cache when it is there.
    pub async fn bot_commands(&self, bot: i64) -> Result<Arc<Vec<Command>>> {
        if let Some(found) = self.commands.get(&bot) {
            return Ok(found);
        }
        let epoch = self.commands.epoch();
        let found = Arc::new(self.store.all_commands(bot).await?);
        self.commands.insert(epoch, [(bot, found.clone())]);
        Ok(found)
    }
}
