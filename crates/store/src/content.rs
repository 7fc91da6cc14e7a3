//! A bot's content (folders, commands, libraries, admin panels, Kore.ai components, bot
//! properties): read whole for exports and copies, and written by imports in one transaction
//! together with the end of their job, so an import is applied completely or not at all, and once.

use std::collections::HashMap;

use botyard_domain::bot::Bot;
use botyard_domain::command::Command;
use botyard_domain::content::{AdminPanel, BotContent, BotProperty, CommandContent, CsvPlan, Lib};
use botyard_domain::job::JobLease;
use botyard_domain::koreai::{Component, ComponentKind};
use botyard_domain::property::{PropertyScope, PropertyType};
use botyard_domain::{Error, Result, Timestamp};
use sqlx::AnyConnection;

use crate::bots::{SqlBuilder, insert_bot_in, insert_rows};
use crate::error::{db, json, to_json};
use crate::jobs::{JobEnd, finish_in};
use crate::rows::get;
use crate::{CommandStore, Store};

/// Which parts of a bot's content an import replaces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContentParts {
    /// Commands and their folders.
    pub commands: bool,
    pub libs: bool,
    pub panels: bool,
    pub components: bool,
    /// Bot-scope properties (only when the content carries them).
    pub properties: bool,
}

impl ContentParts {
    pub const ALL: Self =
        Self { commands: true, libs: true, panels: true, components: true, properties: true };
}

/// Fields of the bot itself that an import sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BotFieldsUpdate {
    pub name: Option<String>,
    /// `Some(None)` clears.
    pub csv_url: Option<Option<String>>,
}

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait ContentStore {
    /// Everything portable of a bot; bot properties only when `properties`.
    async fn bot_content(&self, bot: i64, properties: bool) -> Result<BotContent>;
    async fn components(&self, bot: i64) -> Result<Vec<Component>>;
    async fn libs(&self, bot: i64) -> Result<Vec<Lib>>;
    async fn panels(&self, bot: i64) -> Result<Vec<AdminPanel>>;
    /// Adds or replaces one library.
    async fn put_lib(&self, bot: i64, lib: &Lib, now: Timestamp) -> Result<()>;
    async fn delete_lib(&self, bot: i64, name: &str) -> Result<bool>;
    /// Creates or replaces an admin panel.
    async fn put_panel(&self, bot: i64, panel: &AdminPanel) -> Result<()>;
    /// Replaces the bot's Kore.ai components of one kind (outside any job), under the bot's lock,
    /// so that it cannot interleave with an import.
    async fn replace_components_of_kind(
        &self,
        bot: i64,
        kind: ComponentKind,
        components: &[Component],
    ) -> Result<()>;
    /// Replaces `parts` of the bot's content (and some of its fields) and ends the job, in one
    /// transaction.
    async fn replace_content(
        &self,
        lease: &JobLease,
        bot: i64,
        content: &BotContent,
        parts: ContentParts,
        fields: &BotFieldsUpdate,
        end: &JobEnd,
    ) -> Result<()>;
    /// Creates a bot with its content and ends the job, in one transaction.
    async fn create_bot_with_content(
        &self,
        lease: &JobLease,
        bot: &Bot,
        content: &BotContent,
        end: impl FnOnce(i64) -> JobEnd + Send,
    ) -> Result<Bot>;
    /// Applies a CSV synchronisation and ends the job, in one transaction.
    async fn apply_csv_import(&self, lease: &JobLease, bot: i64, plan: &CsvPlan, end: &JobEnd) -> Result<()>;
}

impl ContentStore for Store {
    async fn bot_content(&self, bot: i64, properties: bool) -> Result<BotContent> {
        let commands = self.all_commands(bot).await?;
        let folders = self.folders(bot).await?;
        let titles: HashMap<i64, String> = folders.iter().map(|f| (f.id, f.title.clone())).collect();
        let properties = if properties { Some(self.bot_properties(bot).await?) } else { None };
        Ok(BotContent {
            folders: folders.into_iter().map(|f| f.title).collect(),
            commands: commands.iter().map(|c| content_of(c, &titles)).collect(),
            libs: self.libs(bot).await?,
            panels: self.panels(bot).await?,
            components: self.components(bot).await?,
            properties,
        })
    }

    async fn components(&self, bot: i64) -> Result<Vec<Component>> {
        let rows = sqlx::query(
            "SELECT kind, ref_id, name, document FROM bot_components WHERE bot_id = $1 ORDER BY kind, position",
        )
        .bind(bot)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        let mut found = rows
            .iter()
            .map(|r| {
                let kind: String = get(r, "kind")?;
                Ok(Component {
                    kind: ComponentKind::parse(&kind)
                        .ok_or_else(|| Error::internal(format!("unknown component kind {kind}")))?,
                    ref_id: get(r, "ref_id")?,
                    name: get(r, "name")?,
                    document: json(&get::<String>(r, "document")?, "component")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Kinds in their definition order, each in its stored order (the sort is stable).
        found.sort_by_key(|c| ComponentKind::ALL.iter().position(|k| *k == c.kind));
        Ok(found)
    }

    async fn libs(&self, bot: i64) -> Result<Vec<Lib>> {
        let rows = sqlx::query("SELECT name, store_id, code FROM bot_libs WHERE bot_id = $1 ORDER BY name")
            .bind(bot)
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| Ok(Lib { name: get(r, "name")?, code: get(r, "code")?, store_id: get(r, "store_id")? }))
            .collect()
    }

    async fn panels(&self, bot: i64) -> Result<Vec<AdminPanel>> {
        let rows = sqlx::query("SELECT name, document FROM admin_panels WHERE bot_id = $1 ORDER BY id")
            .bind(bot)
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(AdminPanel {
                    name: get(r, "name")?,
                    document: json(&get::<String>(r, "document")?, "panel")?,
                })
            })
            .collect()
    }

    async fn put_lib(&self, bot: i64, lib: &Lib, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO bot_libs (bot_id, name, store_id, code, installed_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (bot_id, name) DO UPDATE SET store_id = $3, code = $4, installed_at = $5",
        )
        .bind(bot)
        .bind(&lib.name)
        .bind(&lib.store_id)
        .bind(&lib.code)
        .bind(now.millis())
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn delete_lib(&self, bot: i64, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM bot_libs WHERE bot_id = $1 AND name = $2")
            .bind(bot)
            .bind(name)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_panel(&self, bot: i64, panel: &AdminPanel) -> Result<()> {
        let mut conn = self.write.acquire().await.map_err(db)?;
        put_panel_in(&mut conn, bot, panel, Timestamp::now()).await
    }

    async fn replace_components_of_kind(
        &self,
        bot: i64,
        kind: ComponentKind,
        components: &[Component],
    ) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        lock_bot(&mut tx, self, bot).await?;
        sqlx::query("DELETE FROM bot_components WHERE bot_id = $1 AND kind = $2")
            .bind(bot)
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let rows = components
            .iter()
            .filter(|c| c.kind == kind)
            .enumerate()
            .map(|(i, c)| Ok((c, i as i64 + 1, to_json(&c.document)?)))
            .collect::<Result<Vec<_>>>()?;
        insert_rows(
            &mut tx,
            "INSERT INTO bot_components (bot_id, kind, position, ref_id, name, document) VALUES ",
            6,
            &rows,
            |row, (c, position, document)| {
                row.bind(bot)
                    .bind(c.kind.as_str().to_owned())
                    .bind(*position)
                    .bind(c.ref_id.clone())
                    .bind(c.name.clone())
                    .bind(document.clone());
            },
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    async fn replace_content(
        &self,
        lease: &JobLease,
        bot: i64,
        content: &BotContent,
        parts: ContentParts,
        fields: &BotFieldsUpdate,
        end: &JobEnd,
    ) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await.map_err(db)?;
        lock_bot(&mut tx, self, bot).await?;
        write_content(&mut tx, bot, content, parts, now, lease).await?;
        // The bot changes with its content: its `updated_at` is the version of its definition
        // the runtime compiles (Kore.ai bots).
        sqlx::query(
            "UPDATE bots SET name = COALESCE($1, name), csv_url = CASE WHEN $2 = 1 THEN $3 ELSE csv_url END, \
             updated_at = $4, version = version + 1 WHERE id = $5",
        )
        .bind(&fields.name)
        .bind(i64::from(fields.csv_url.is_some()))
        .bind(fields.csv_url.clone().flatten())
        .bind(now.millis())
        .bind(bot)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        finish_in(&mut tx, lease, end).await?;
        tx.commit().await.map_err(db)
    }

    async fn create_bot_with_content(
        &self,
        lease: &JobLease,
        bot: &Bot,
        content: &BotContent,
        end: impl FnOnce(i64) -> JobEnd + Send,
    ) -> Result<Bot> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await.map_err(db)?;
        let number = insert_bot_in(&mut tx, bot).await?;
        write_content(&mut tx, number, content, ContentParts::ALL, now, lease).await?;
        finish_in(&mut tx, lease, &end(number)).await?;
        tx.commit().await.map_err(db)?;
        Ok(Bot { number, ..bot.clone() })
    }

    async fn apply_csv_import(&self, lease: &JobLease, bot: i64, plan: &CsvPlan, end: &JobEnd) -> Result<()> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await.map_err(db)?;
        lock_bot(&mut tx, self, bot).await?;
        delete_ids(&mut tx, "DELETE FROM commands WHERE bot_id = ", " AND id IN (", bot, &plan.destroy)
            .await?;
        let updated: Vec<i64> = plan.update.iter().map(|(id, _)| *id).collect();
        delete_ids(
            &mut tx,
            "DELETE FROM command_aliases WHERE bot_id = ",
            " AND command_id IN (",
            bot,
            &updated,
        )
        .await?;
        let all: Vec<&CommandContent> = plan.update.iter().map(|(_, c)| c).chain(&plan.create).collect();
        let folders =
            ensure_folders(&mut tx, bot, all.iter().filter_map(|c| c.folder.as_deref()), now).await?;
        for (id, command) in &plan.update {
            let d = &command.draft;
            sqlx::query(
                "UPDATE commands SET help = $1, answer = $2, keyboard = $3, need_reply = $4, auto_retry_time = $5, \
                 folder_id = $6, user_group = $7, code = $8, last_csv_import_at = $9, updated_at = $9 \
                 WHERE bot_id = $10 AND id = $11",
            )
            .bind(&d.help)
            .bind(&d.answer)
            .bind(&d.keyboard)
            .bind(i64::from(d.need_reply))
            .bind(d.auto_retry_time)
            .bind(command.folder.as_ref().and_then(|f| folders.get(f)).copied())
            .bind(&d.group)
            .bind(&d.code)
            .bind(now.millis())
            .bind(bot)
            .bind(*id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        lease.failpoints.check("csv_import.apply")?;
        insert_commands(&mut tx, bot, &plan.create, &folders, now).await?;
        let with_aliases: Vec<&CommandContent> =
            all.into_iter().filter(|c| !c.draft.aliases.is_empty()).collect();
        insert_aliases(&mut tx, bot, &with_aliases, now).await?;
        finish_in(&mut tx, lease, end).await?;
        tx.commit().await.map_err(db)
    }
}

impl Store {
    async fn bot_properties(&self, bot: i64) -> Result<Vec<BotProperty>> {
        let rows = sqlx::query(
            "SELECT name, kind, value FROM properties WHERE bot_id = $1 AND scope = $2 AND owner_id = 0 ORDER BY name",
        )
        .bind(bot)
        .bind(PropertyScope::Bot.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(BotProperty {
                    name: get(r, "name")?,
                    kind: PropertyType::parse(&get::<String>(r, "kind")?)?,
                    value: json(&get::<String>(r, "value")?, "property")?,
                })
            })
            .collect()
    }
}

fn content_of(command: &Command, folders: &HashMap<i64, String>) -> CommandContent {
    let mut draft = botyard_domain::command::CommandDraft::of(command);
    draft.folder_id = None;
    CommandContent {
        draft,
        folder: command.folder_id.and_then(|id| folders.get(&id).cloned()),
        created_via_csv_import: command.created_via_csv_import,
    }
}

/// Takes the bot's row lock for the rest of the transaction (on SQLite the one writer connection
/// already excludes other writers); `NotFound` when the bot was deleted.
async fn lock_bot(conn: &mut AnyConnection, store: &Store, bot: i64) -> Result<()> {
    let sql = match store.backend() {
        crate::Backend::Postgres => "SELECT id FROM bots WHERE id = $1 FOR UPDATE",
        crate::Backend::Sqlite => "SELECT id FROM bots WHERE id = $1",
    };
    let found = sqlx::query(sql).bind(bot).fetch_optional(&mut *conn).await.map_err(db)?;
    found.map(|_| ()).ok_or_else(|| Error::not_found("Bot"))
}

async fn write_content(
    conn: &mut AnyConnection,
    bot: i64,
    content: &BotContent,
    parts: ContentParts,
    now: Timestamp,
    lease: &JobLease,
) -> Result<()> {
    if parts.commands {
        sqlx::query("DELETE FROM commands WHERE bot_id = $1")
            .bind(bot)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM command_folders WHERE bot_id = $1")
            .bind(bot)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        let titles = content
            .folders
            .iter()
            .map(String::as_str)
            .chain(content.commands.iter().filter_map(|c| c.folder.as_deref()));
        let folders = ensure_folders(conn, bot, titles, now).await?;
        insert_commands(conn, bot, &content.commands, &folders, now).await?;
        let with_aliases: Vec<&CommandContent> =
            content.commands.iter().filter(|c| !c.draft.aliases.is_empty()).collect();
        insert_aliases(conn, bot, &with_aliases, now).await?;
    }
    lease.failpoints.check("import.apply")?;
    if parts.libs {
        sqlx::query("DELETE FROM bot_libs WHERE bot_id = $1")
            .bind(bot)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        insert_rows(
            conn,
            "INSERT INTO bot_libs (bot_id, name, store_id, code, installed_at) VALUES ",
            5,
            &content.libs,
            |row, lib| {
                row.bind(bot)
                    .bind(lib.name.clone())
                    .bind(lib.store_id.clone())
                    .bind(lib.code.clone())
                    .bind(now.millis());
            },
        )
        .await?;
    }
    if parts.panels {
        sqlx::query("DELETE FROM admin_panels WHERE bot_id = $1")
            .bind(bot)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        let panels = content
            .panels
            .iter()
            .map(|p| Ok((p.name.clone(), to_json(&p.document)?)))
            .collect::<Result<Vec<_>>>()?;
        insert_rows(
            conn,
            "INSERT INTO admin_panels (bot_id, name, document, created_at, updated_at) VALUES ",
            5,
            &panels,
            |row, (name, document)| {
                row.bind(bot).bind(name.clone()).bind(document.clone()).bind(now.millis()).bind(now.millis());
            },
        )
        .await?;
    }
    if parts.components {
        replace_components(conn, bot, &content.components).await?;
    }
    if let (true, Some(properties)) = (parts.properties, &content.properties) {
        sqlx::query("DELETE FROM properties WHERE bot_id = $1 AND scope = $2 AND owner_id = 0")
            .bind(bot)
            .bind(PropertyScope::Bot.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        let rows = properties.iter().map(|p| Ok((p, to_json(&p.value)?))).collect::<Result<Vec<_>>>()?;
        insert_rows(
            conn,
            "INSERT INTO properties (bot_id, scope, owner_id, name, kind, value, updated_at) VALUES ",
            7,
            &rows,
            |row, (p, value)| {
                row.bind(bot)
                    .bind(PropertyScope::Bot.as_str().to_owned())
                    .bind(0_i64)
                    .bind(p.name.clone())
                    .bind(p.kind.as_str().to_owned())
                    .bind(value.clone())
                    .bind(now.millis());
            },
        )
        .await?;
    }
    Ok(())
}

/// Creates or replaces an admin panel inside the caller's transaction; at most
/// [`PANELS_MAX`](botyard_domain::content::PANELS_MAX) panels per bot.
pub(crate) async fn put_panel_in(
    conn: &mut AnyConnection,
    bot: i64,
    panel: &AdminPanel,
    now: Timestamp,
) -> Result<()> {
    let count = sqlx::query("SELECT COUNT(*) AS n FROM admin_panels WHERE bot_id = $1 AND name <> $2")
        .bind(bot)
        .bind(&panel.name)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    if get::<i64>(&count, "n")? >= botyard_domain::content::PANELS_MAX as i64 {
        return Err(Error::limit(format!(
            "A bot can have at most {} admin panels",
            botyard_domain::content::PANELS_MAX
        )));
    }
    sqlx::query(
        "INSERT INTO admin_panels (bot_id, name, document, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (bot_id, name) DO UPDATE SET document = $3, updated_at = $4",
    )
    .bind(bot)
    .bind(&panel.name)
    .bind(to_json(&panel.document)?)
    .bind(now.millis())
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Replaces every Kore.ai component of the bot.
pub(crate) async fn replace_components(
    conn: &mut AnyConnection,
    bot: i64,
    components: &[Component],
) -> Result<()> {
    sqlx::query("DELETE FROM bot_components WHERE bot_id = $1")
        .bind(bot)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    let mut position: HashMap<ComponentKind, i64> = HashMap::new();
    let rows = components
        .iter()
        .map(|c| {
            let n = position.entry(c.kind).or_default();
            *n += 1;
            Ok((c, *n, to_json(&c.document)?))
        })
        .collect::<Result<Vec<_>>>()?;
    insert_rows(
        conn,
        "INSERT INTO bot_components (bot_id, kind, position, ref_id, name, document) VALUES ",
        6,
        &rows,
        |row, (c, position, document)| {
            row.bind(bot)
                .bind(c.kind.as_str().to_owned())
                .bind(*position)
                .bind(c.ref_id.clone())
                .bind(c.name.clone())
                .bind(document.clone());
        },
    )
    .await
}

/// The ids of the bot's folders with these titles, creating the missing ones.
async fn ensure_folders<'a>(
    conn: &mut AnyConnection,
    bot: i64,
    titles: impl Iterator<Item = &'a str>,
    now: Timestamp,
) -> Result<HashMap<String, i64>> {
    let rows = sqlx::query("SELECT id, title FROM command_folders WHERE bot_id = $1 ORDER BY id")
        .bind(bot)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let mut folders = HashMap::new();
    for r in &rows {
        folders.entry(get::<String>(r, "title")?).or_insert(get::<i64>(r, "id")?);
    }
    for title in titles {
        if folders.contains_key(title) {
            continue;
        }
        let row = sqlx::query(
            "INSERT INTO command_folders (bot_id, title, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(bot)
        .bind(title)
        .bind(now.millis())
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
        folders.insert(title.to_owned(), get(&row, "id")?);
    }
    Ok(folders)
}

async fn insert_commands(
    conn: &mut AnyConnection,
    bot: i64,
    commands: &[CommandContent],
    folders: &HashMap<String, i64>,
    now: Timestamp,
) -> Result<()> {
    insert_rows(
        conn,
        "INSERT INTO commands (bot_id, command, help, answer, keyboard, need_reply, auto_retry_time, folder_id, \
         user_group, code, created_via_csv_import, last_csv_import_at, created_at, updated_at) VALUES ",
        14,
        commands,
        |row, c| {
            let d = &c.draft;
            row.bind(bot)
                .bind(d.command.clone())
                .bind(d.help.clone())
                .bind(d.answer.clone())
                .bind(d.keyboard.clone())
                .bind(i64::from(d.need_reply))
                .bind(d.auto_retry_time)
                .bind(c.folder.as_ref().and_then(|f| folders.get(f)).copied())
                .bind(d.group.clone())
                .bind(d.code.clone())
                .bind(i64::from(c.created_via_csv_import))
                .bind(c.created_via_csv_import.then_some(now.millis()))
                .bind(now.millis())
                .bind(now.millis());
        },
    )
    .await
}

/// Inserts the aliases of commands already stored (found by name).
async fn insert_aliases(
    conn: &mut AnyConnection,
    bot: i64,
    commands: &[&CommandContent],
    now: Timestamp,
) -> Result<()> {
    if commands.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query("SELECT id, command FROM commands WHERE bot_id = $1")
        .bind(bot)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let mut ids = HashMap::with_capacity(rows.len());
    for r in &rows {
        ids.insert(get::<String>(r, "command")?, get::<i64>(r, "id")?);
    }
    let mut aliases = Vec::new();
    for c in commands {
        let id = *ids.get(&c.draft.command).ok_or_else(|| Error::internal("an imported command vanished"))?;
        aliases.extend(c.draft.aliases.iter().map(|a| (id, a.clone())));
    }
    insert_rows(
        conn,
        "INSERT INTO command_aliases (bot_id, command_id, alias, created_at, updated_at) VALUES ",
        5,
        &aliases,
        |row, (id, alias)| {
            row.bind(bot).bind(*id).bind(alias.clone()).bind(now.millis()).bind(now.millis());
        },
    )
    .await
}

/// `DELETE FROM <table> WHERE bot_id = <bot> AND <column> IN (<ids>)`, in chunks.
async fn delete_ids(
    conn: &mut AnyConnection,
    head: &'static str,
    column: &'static str,
    bot: i64,
    ids: &[i64],
) -> Result<()> {
    for chunk in ids.chunks(10_000) {
        let mut sql = SqlBuilder::new_for(conn, head);
        sql.bind(bot);
        sql.push(column);
        for (i, id) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " });
            sql.bind(*id);
        }
        sql.push(")");
        sql.execute(conn).await?;
    }
    Ok(())
}
