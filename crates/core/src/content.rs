//! A bot's libraries and admin panels: installed and removed by its developers, read (from this
//! node's cache) by every run of its code.

use std::sync::Arc;

use botyard_domain::content::{AdminPanel, LIBS_MAX, Lib, check_lib};
use botyard_domain::{Error, Result, Timestamp};
use botyard_store::ContentStore;
use serde_json::{Map, Value};

use crate::cache_sync::Change;
use crate::{BotAccess, Services};

impl Services {
    /// Every library of a bot, from this node's cache when it is there.
    pub async fn bot_libs(&self, bot: i64) -> Result<Arc<Vec<Lib>>> {
        if let Some(found) = self.libs.get(&bot) {
            return Ok(found);
        }
        let epoch = self.libs.epoch();
        let found = Arc::new(self.store.libs(bot).await?);
        self.libs.insert(epoch, [(bot, found.clone())]);
        Ok(found)
    }

    /// Every admin panel of a bot, from this node's cache when it is there.
    pub async fn bot_panels(&self, bot: i64) -> Result<Arc<Vec<AdminPanel>>> {
        if let Some(found) = self.panels.get(&bot) {
            return Ok(found);
        }
        let epoch = self.panels.epoch();
        let found = Arc::new(self.store.panels(bot).await?);
        self.panels.insert(epoch, [(bot, found.clone())]);
        Ok(found)
    }

    /// Installs (or replaces) a library of the bot.
    pub async fn install_lib(&self, access: &BotAccess, lib: Lib) -> Result<Lib> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        check_lib(&lib.name, &lib.code)?;
        let installed = self.bot_libs(access.bot.number).await?;
        if installed.len() >= LIBS_MAX && !installed.iter().any(|l| l.name == lib.name) {
            return Err(Error::limit(format!("A bot can have at most {LIBS_MAX} libraries")));
        }
        self.store.put_lib(access.bot.number, &lib, Timestamp::now()).await?;
        self.changed(Change::Content(access.bot.number)).await;
        Ok(lib)
    }

    /// Removes a library of the bot, by name or store id.
    pub async fn uninstall_lib(&self, access: &BotAccess, name_or_id: &str) -> Result<()> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let installed = self.bot_libs(access.bot.number).await?;
        let lib = installed
            .iter()
            .find(|l| l.name == name_or_id || l.store_id.as_deref() == Some(name_or_id))
            .ok_or_else(|| Error::not_found("Library"))?;
        self.store.delete_lib(access.bot.number, &lib.name).await?;
        self.changed(Change::Content(access.bot.number)).await;
        Ok(())
    }

    /// Saves values of a panel's fields (each checked against its type); returns the panel.
    pub async fn save_panel_values(
        &self,
        access: &BotAccess,
        panel: &str,
        values: &Map<String, Value>,
    ) -> Result<AdminPanel> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        let panels = self.bot_panels(access.bot.number).await?;
        let mut found = panels
            .iter()
            .enumerate()
            .find(|(i, p)| p.name == panel || (i + 1).to_string() == panel)
            .map(|(_, p)| p.clone())
            .ok_or_else(|| Error::not_found("Admin panel"))?;
        found.set_values(values)?;
        self.store.put_panel(access.bot.number, &found).await?;
        self.changed(Change::Content(access.bot.number)).await;
        Ok(found)
    }
}
