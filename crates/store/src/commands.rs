//! Commands, their aliases and folders.

use std::collections::HashMap;

use botyard_domain::command::{Alias, Command, CommandDraft, Folder};
use botyard_domain::{Error, Result, Timestamp};
use sqlx::Any;
use sqlx::any::AnyRow;

use crate::Store;
use crate::bots::SqlBuilder;
use crate::error::{db, unique_or_db};
use crate::rows::get;

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait CommandStore {
    async fn create_folder(&self, bot: i64, title: &str, now: Timestamp) -> Result<Folder>;
    async fn folders(&self, bot: i64) -> Result<Vec<Folder>>;
    async fn delete_folder(&self, bot: i64, id: i64) -> Result<bool>;
    /// Creates a command with its aliases; `AlreadyExists` when a name is taken.
    async fn create_command(
        &self,
        bot: i64,
        draft: &CommandDraft,
        now: Timestamp,
        via_csv: bool,
    ) -> Result<Command>;
    /// Replaces a command's fields and aliases.
    async fn update_command(
        &self,
        bot: i64,
        id: i64,
        draft: &CommandDraft,
        now: Timestamp,
    ) -> Result<Command>;
    async fn delete_command(&self, bot: i64, id: i64) -> Result<bool>;
    async fn command(&self, bot: i64, id: i64) -> Result<Option<Command>>;
    /// One page of commands, oldest first (pages count from 1).
    async fn commands_page(&self, bot: i64, page: u32, per_page: u32) -> Result<Vec<Command>>;
    /// Every command of the bot, for the runtime.
    async fn all_commands(&self, bot: i64) -> Result<Vec<Command>>;
}

const NAME_TAKEN: &str = "Command has already been taken";

macro_rules! command_columns {
    () => {
        "c.id, c.bot_id, c.command, c.help, c.answer, c.keyboard, c.need_reply, c.auto_retry_time, \
         c.last_auto_retry_at, c.folder_id, c.user_group, c.code, c.created_via_csv_import, \
         c.last_csv_import_at, c.created_at, c.updated_at, f.title AS folder_title"
    };
}

impl CommandStore for Store {
    async fn create_folder(&self, bot: i64, title: &str, now: Timestamp) -> Result<Folder> {
        let row = sqlx::query(
            "INSERT INTO command_folders (bot_id, title, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(bot)
        .bind(title)
        .bind(now.millis())
        .fetch_one(&self.write)
        .await
        .map_err(db)?;
        Ok(Folder {
            id: get(&row, "id")?,
            bot_number: bot,
            title: title.to_owned(),
            created_at: now,
            updated_at: now,
        })
    }

    async fn folders(&self, bot: i64) -> Result<Vec<Folder>> {
        let found = sqlx::query("SELECT id, bot_id, title, created_at, updated_at FROM command_folders WHERE bot_id = $1 ORDER BY id")
            .bind(bot)
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        found
            .iter()
            .map(|r| {
                Ok(Folder {
                    id: get(r, "id")?,
                    bot_number: get(r, "bot_id")?,
                    title: get(r, "title")?,
                    created_at: Timestamp(get(r, "created_at")?),
                    updated_at: Timestamp(get(r, "updated_at")?),
                })
            })
            .collect()
    }

    async fn delete_folder(&self, bot: i64, id: i64) -> Result<bool> {
        let mut tx = self.write.begin().await.map_err(db)?;
        sqlx::query("UPDATE commands SET folder_id = NULL WHERE bot_id = $1 AND folder_id = $2")
            .bind(bot)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let done = sqlx::query("DELETE FROM command_folders WHERE bot_id = $1 AND id = $2")
            .bind(bot)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_command(
        &self,
        bot: i64,
        draft: &CommandDraft,
        now: Timestamp,
        via_csv: bool,
    ) -> Result<Command> {
        let mut tx = self.write.begin().await.map_err(db)?;
        check_folder(&mut tx, bot, draft.folder_id).await?;
        check_names_free(&mut tx, bot, draft, None).await?;
        let row = sqlx::query(
            "INSERT INTO commands (bot_id, command, help, answer, keyboard, need_reply, auto_retry_time, folder_id, \
             user_group, code, created_via_csv_import, last_csv_import_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
        )
        .bind(bot)
        .bind(&draft.command)
        .bind(&draft.help)
        .bind(&draft.answer)
        .bind(&draft.keyboard)
        .bind(i64::from(draft.need_reply))
        .bind(draft.auto_retry_time)
        .bind(draft.folder_id)
        .bind(&draft.group)
        .bind(&draft.code)
        .bind(i64::from(via_csv))
        .bind(via_csv.then_some(now.millis()))
        .bind(now.millis())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unique_or_db(e, NAME_TAKEN))?;
        let id: i64 = get(&row, "id")?;
        insert_aliases(&mut tx, bot, id, &draft.aliases, now).await?;
        tx.commit().await.map_err(db)?;
        self.command(bot, id).await?.ok_or_else(|| Error::internal("a created command vanished"))
    }

    async fn update_command(
        &self,
        bot: i64,
        id: i64,
        draft: &CommandDraft,
        now: Timestamp,
    ) -> Result<Command> {
        let mut tx = self.write.begin().await.map_err(db)?;
        check_folder(&mut tx, bot, draft.folder_id).await?;
        check_names_free(&mut tx, bot, draft, Some(id)).await?;
        let done = sqlx::query(
            "UPDATE commands SET command = $1, help = $2, answer = $3, keyboard = $4, need_reply = $5, \
             auto_retry_time = $6, folder_id = $7, user_group = $8, code = $9, updated_at = $10 \
             WHERE bot_id = $11 AND id = $12",
        )
        .bind(&draft.command)
        .bind(&draft.help)
        .bind(&draft.answer)
        .bind(&draft.keyboard)
        .bind(i64::from(draft.need_reply))
        .bind(draft.auto_retry_time)
        .bind(draft.folder_id)
        .bind(&draft.group)
        .bind(&draft.code)
        .bind(now.millis())
        .bind(bot)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_or_db(e, NAME_TAKEN))?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("Command"));
        }
        sqlx::query("DELETE FROM command_aliases WHERE command_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        insert_aliases(&mut tx, bot, id, &draft.aliases, now).await?;
        tx.commit().await.map_err(db)?;
        self.command(bot, id).await?.ok_or_else(|| Error::not_found("Command"))
    }

    async fn delete_command(&self, bot: i64, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM commands WHERE bot_id = $1 AND id = $2")
            .bind(bot)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn command(&self, bot: i64, id: i64) -> Result<Option<Command>> {
        let sql = concat!(
            "SELECT ",
            command_columns!(),
            " FROM commands c LEFT JOIN command_folders f ON f.id = c.folder_id WHERE c.bot_id = $1 AND c.id = $2"
        );
        let found = sqlx::query(sql).bind(bot).bind(id).fetch_all(&self.read).await.map_err(db)?;
        Ok(self.with_aliases(&found).await?.pop())
    }

    async fn commands_page(&self, bot: i64, page: u32, per_page: u32) -> Result<Vec<Command>> {
        let sql = concat!(
            "SELECT ",
            command_columns!(),
            " FROM commands c LEFT JOIN command_folders f ON f.id = c.folder_id WHERE c.bot_id = $1 ORDER BY c.id LIMIT $2 OFFSET $3"
        );
        let offset = botyard_domain::page::offset(page, per_page);
        let found = sqlx::query(sql)
            .bind(bot)
            .bind(i64::from(per_page))
            .bind(offset)
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        self.with_aliases(&found).await
    }

    async fn all_commands(&self, bot: i64) -> Result<Vec<Command>> {
        let sql = concat!(
            "SELECT ",
            command_columns!(),
            " FROM commands c LEFT JOIN command_folders f ON f.id = c.folder_id WHERE c.bot_id = $1 ORDER BY c.id"
        );
        let found = sqlx::query(sql).bind(bot).fetch_all(&self.read).await.map_err(db)?;
        self.with_aliases(&found).await
    }
}

impl Store {
    /// Reads the aliases of the commands in `rows` and builds the commands.
    async fn with_aliases(&self, rows: &[AnyRow]) -> Result<Vec<Command>> {
        let mut commands = rows.iter().map(command).collect::<Result<Vec<_>>>()?;
        if commands.is_empty() {
            return Ok(commands);
        }
        let mut sql = SqlBuilder::new(
            "SELECT id, command_id, alias, created_at, updated_at FROM command_aliases WHERE command_id IN (",
        );
        for (i, c) in commands.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " });
            sql.bind(c.id);
        }
        sql.push(") ORDER BY id");
        let mut by_command: HashMap<i64, Vec<Alias>> = HashMap::new();
        for r in sql.fetch_all(&self.read).await? {
            let alias = Alias {
                id: get(&r, "id")?,
                command_id: get(&r, "command_id")?,
                alias: get(&r, "alias")?,
                created_at: Timestamp(get(&r, "created_at")?),
                updated_at: Timestamp(get(&r, "updated_at")?),
            };
            by_command.entry(alias.command_id).or_default().push(alias);
        }
        for c in &mut commands {
            c.aliases = by_command.remove(&c.id).unwrap_or_default();
        }
        Ok(commands)
    }
}

fn command(r: &AnyRow) -> Result<Command> {
    Ok(Command {
        id: get(r, "id")?,
        bot_number: get(r, "bot_id")?,
        command: get(r, "command")?,
        help: get(r, "help")?,
        answer: get(r, "answer")?,
        keyboard: get(r, "keyboard")?,
        need_reply: get::<i64>(r, "need_reply")? != 0,
        auto_retry_time: get(r, "auto_retry_time")?,
        last_auto_retry_at: get::<Option<i64>>(r, "last_auto_retry_at")?.map(Timestamp),
        folder_id: get(r, "folder_id")?,
        folder: get(r, "folder_title")?,
        group: get(r, "user_group")?,
        code: get(r, "code")?,
        created_via_csv_import: get::<i64>(r, "created_via_csv_import")? != 0,
        last_csv_import_at: get::<Option<i64>>(r, "last_csv_import_at")?.map(Timestamp),
        aliases: Vec::new(),
        created_at: Timestamp(get(r, "created_at")?),
        updated_at: Timestamp(get(r, "updated_at")?),
    })
}

async fn check_folder(tx: &mut sqlx::Transaction<'_, Any>, bot: i64, folder: Option<i64>) -> Result<()> {
    let Some(folder) = folder else { return Ok(()) };
    let found = sqlx::query("SELECT id FROM command_folders WHERE bot_id = $1 AND id = $2")
        .bind(bot)
        .bind(folder)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?;
    if found.is_none() {
        return Err(Error::invalid(format!("Commands folder {folder} does not exist")));
    }
    Ok(())
}

/// Names and aliases are unique per bot across both: a command's name may not be another's alias.
async fn check_names_free(
    tx: &mut sqlx::Transaction<'_, Any>,
    bot: i64,
    draft: &CommandDraft,
    except: Option<i64>,
) -> Result<()> {
    let except = except.unwrap_or(0);
    for name in draft.names() {
        let taken = sqlx::query(
            "SELECT 1 AS x FROM commands WHERE bot_id = $1 AND command = $2 AND id <> $3 \
             UNION ALL SELECT 1 AS x FROM command_aliases WHERE bot_id = $1 AND alias = $2 AND command_id <> $3",
        )
        .bind(bot)
        .bind(name)
        .bind(except)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?;
        if taken.is_some() {
            return Err(Error::already_exists(format!(
                "\"{name}\" is already a command or an alias of this bot"
            )));
        }
    }
    Ok(())
}

async fn insert_aliases(
    tx: &mut sqlx::Transaction<'_, Any>,
    bot: i64,
    command: i64,
    aliases: &[String],
    now: Timestamp,
) -> Result<()> {
    for alias in aliases {
        sqlx::query(
            "INSERT INTO command_aliases (bot_id, command_id, alias, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(bot)
        .bind(command)
        .bind(alias)
        .bind(now.millis())
        .execute(&mut **tx)
        .await
        .map_err(|e| unique_or_db(e, NAME_TAKEN))?;
    }
    Ok(())
}
