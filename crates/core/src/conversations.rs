//! What the admin APIs show and change of a bot's conversations: chats, properties, error logs.

use botyard_domain::conversation::Chat;
use botyard_domain::effects::{ErrorLog, ErrorLogQuery};
use botyard_domain::property::{Property, PropertyScope};
use botyard_domain::{Error, Result, Timestamp};
use botyard_store::{ConversationStore, ErrorLogStore, PropertyStore};

use crate::{BotAccess, Services};

pub const PER_PAGE: u32 = 50;

impl Services {
    pub async fn chats(&self, access: &BotAccess, page: u32) -> Result<Vec<Chat>> {
        self.store.chats_page(access.bot.number, page.max(1), PER_PAGE).await
    }

    /// Blocks or unblocks a chat: a blocked chat's messages are not processed.
    pub async fn set_chat_blocked(&self, access: &BotAccess, chat: i64, blocked: bool) -> Result<Chat> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        if !self.store.set_chat_blocked(access.bot.number, chat, blocked, Timestamp::now()).await? {
            return Err(Error::not_found("Chat"));
        }
        self.store.chat(access.bot.number, chat).await?.ok_or_else(|| Error::not_found("Chat"))
    }

    pub async fn properties(
        &self,
        access: &BotAccess,
        scope: Option<PropertyScope>,
        page: u32,
    ) -> Result<Vec<Property>> {
        self.store.properties_page(access.bot.number, scope, page.max(1), PER_PAGE).await
    }

    pub async fn delete_property(&self, access: &BotAccess, id: i64) -> Result<()> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        if self.store.delete_property(access.bot.number, id).await? {
            Ok(())
        } else {
            Err(Error::not_found("Property"))
        }
    }

    /// The error log, newest first, as the query narrows it down.
    pub async fn error_logs(&self, access: &BotAccess, query: &ErrorLogQuery) -> Result<Vec<ErrorLog>> {
        self.store.error_logs(access.bot.number, query).await
    }

    pub async fn clear_error_logs(&self, access: &BotAccess) -> Result<u64> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        self.store.clear_error_logs(access.bot.number).await
    }
}
