//! What runs of bot code read and write: properties, pending replies, error logs, iteration
//! counters, and the transaction that commits the effects of finished runs.

use std::collections::BTreeMap;

use botyard_domain::arrival::InboxEntry;
use botyard_domain::conversation::ChatMessage;
use botyard_domain::effects::{ErrorEntry, ErrorLog, GroupChange, PendingChange, RunEffects};
use botyard_domain::property::{Property, PropertyScope, PropertyType};
use botyard_domain::text::without_nul;
use botyard_domain::{Error, Result, Timestamp, WorkspaceId};
use serde_json::Value;
use sqlx::Any;
use sqlx::any::AnyRow;

use crate::Store;
use crate::conversations::{self, NewMessage, insert_message};
use crate::error::{db, json, to_json};
use crate::rows::get;

/// The error of a commit whose run's inbox row another node took over (it runs it there).
pub const TICKET_LOST: &str = "another node took over this run";

/// What committing one run wrote, for delivery to the chat.
#[derive(Debug, Clone, Default)]
pub struct CommittedRun {
    pub messages: Vec<ChatMessage>,
    pub edited: Vec<ChatMessage>,
    /// What the run started in its chats, now in the inbox.
    pub arrivals: Vec<InboxEntry>,
}

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait RunStore {
    async fn property(
        &self,
        bot: i64,
        scope: PropertyScope,
        owner: i64,
        name: &str,
    ) -> Result<Option<Property>>;
    /// Properties of the bot (optionally of one scope), one page (from 1).
    async fn properties_page(
        &self,
        bot: i64,
        scope: Option<PropertyScope>,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Property>>;
    async fn delete_property(&self, bot: i64, id: i64) -> Result<bool>;
    /// The command waiting for this user's reply in this chat, with its options.
    async fn pending_reply(&self, bot: i64, chat: i64, user: i64) -> Result<Option<(i64, Option<Value>)>>;
    /// Error log entries, newest first, one page (from 1), optionally since a time.
    async fn error_logs(
        &self,
        bot: i64,
        since: Option<Timestamp>,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<ErrorLog>>;
    async fn clear_error_logs(&self, bot: i64) -> Result<u64>;
    async fn insert_error(&self, bot: i64, entry: &ErrorEntry) -> Result<()>;
    /// Iterations the workspace used in the month (`YYYY-MM`).
    async fn usage(&self, workspace: &WorkspaceId, month: &str) -> Result<i64>;
    /// Writes the effects of several runs in one transaction, for `node` (which must still own the
    /// runs' inbox rows: otherwise nothing is written and the error is [`TICKET_LOST`]).
    async fn commit_runs(&self, runs: &[RunEffects], node: &str, now: Timestamp)
    -> Result<Vec<CommittedRun>>;
}

impl RunStore for Store {
    async fn property(
        &self,
        bot: i64,
        scope: PropertyScope,
        owner: i64,
        name: &str,
    ) -> Result<Option<Property>> {
        let row = sqlx::query(
            "SELECT id, scope, owner_id, name, kind, value, updated_at FROM properties \
             WHERE bot_id = $1 AND scope = $2 AND owner_id = $3 AND name = $4",
        )
        .bind(bot)
        .bind(scope.as_str())
        .bind(owner)
        .bind(name)
        .fetch_optional(&self.read)
        .await
        .map_err(db)?;
        row.map(|r| property(&r)).transpose()
    }

    async fn properties_page(
        &self,
        bot: i64,
        scope: Option<PropertyScope>,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<Property>> {
        let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
        let found = sqlx::query(
            "SELECT id, scope, owner_id, name, kind, value, updated_at FROM properties \
             WHERE bot_id = $1 AND ($2 = '' OR scope = $2) ORDER BY id LIMIT $3 OFFSET $4",
        )
        .bind(bot)
        .bind(scope.map_or("", PropertyScope::as_str))
        .bind(i64::from(per_page))
        .bind(offset)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        found.iter().map(property).collect()
    }

    async fn delete_property(&self, bot: i64, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM properties WHERE bot_id = $1 AND id = $2")
            .bind(bot)
            .bind(id)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn pending_reply(&self, bot: i64, chat: i64, user: i64) -> Result<Option<(i64, Option<Value>)>> {
        let row = sqlx::query("SELECT command_id, options FROM pending_replies WHERE bot_id = $1 AND chat_id = $2 AND user_id = $3")
            .bind(bot)
            .bind(chat)
            .bind(user)
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        row.map(|r| {
            let options: Option<String> = get(&r, "options")?;
            Ok((get(&r, "command_id")?, options.map(|o| json(&o, "pending reply options")).transpose()?))
        })
        .transpose()
    }

    async fn error_logs(
        &self,
        bot: i64,
        since: Option<Timestamp>,
        page: u32,
        per_page: u32,
    ) -> Result<Vec<ErrorLog>> {
        let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
        let found = sqlx::query(
            "SELECT id, bot_id, command, title, stack_trace, chat_id, user_id, created_at FROM error_logs \
             WHERE bot_id = $1 AND created_at >= $2 ORDER BY id DESC LIMIT $3 OFFSET $4",
        )
        .bind(bot)
        .bind(since.map_or(i64::MIN, Timestamp::millis))
        .bind(i64::from(per_page))
        .bind(offset)
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|r| {
                Ok(ErrorLog {
                    id: get(r, "id")?,
                    bot_number: get(r, "bot_id")?,
                    entry: ErrorEntry {
                        command: get(r, "command")?,
                        title: get(r, "title")?,
                        stack_trace: get(r, "stack_trace")?,
                        chat_id: get(r, "chat_id")?,
                        user_id: get(r, "user_id")?,
                        at: Timestamp(get(r, "created_at")?),
                    },
                })
            })
            .collect()
    }

    async fn clear_error_logs(&self, bot: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM error_logs WHERE bot_id = $1")
            .bind(bot)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn insert_error(&self, bot: i64, entry: &ErrorEntry) -> Result<()> {
        let mut conn = self.write.acquire().await.map_err(db)?;
        insert_error(&mut conn, bot, entry).await
    }

    async fn usage(&self, workspace: &WorkspaceId, month: &str) -> Result<i64> {
        let row =
            sqlx::query("SELECT iterations FROM iteration_usage WHERE workspace_id = $1 AND month = $2")
                .bind(workspace.as_str())
                .bind(month)
                .fetch_optional(&self.read)
                .await
                .map_err(db)?;
        row.map(|r| get(&r, "iterations")).transpose().map(|n| n.unwrap_or(0))
    }

    async fn commit_runs(
        &self,
        runs: &[RunEffects],
        node: &str,
        now: Timestamp,
    ) -> Result<Vec<CommittedRun>> {
        let mut tx = self.write.begin().await.map_err(db)?;
        let mut committed = Vec::with_capacity(runs.len());
        let mut usage: BTreeMap<&str, u64> = BTreeMap::new();
        for run in runs {
            committed.push(commit_run(&mut tx, run, node, now).await?);
            if let Some(ws) = &run.workspace
                && run.iterations > 0
            {
                *usage.entry(ws.as_str()).or_default() += run.iterations;
            }
        }
        let month = now.month_key();
        for (workspace, iterations) in usage {
            add_usage_in(&mut tx, workspace, &month, iterations).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(committed)
    }
}

async fn commit_run(
    tx: &mut sqlx::Transaction<'_, Any>,
    run: &RunEffects,
    node: &str,
    now: Timestamp,
) -> Result<CommittedRun> {
    let mut done = CommittedRun::default();
    if let Some(ticket) = &run.ticket
        && !crate::inbox::take_in(tx, ticket.id, &ticket.node).await?
    {
        return Err(Error::conflict(TICKET_LOST));
    }
    for arrival in &run.arrivals {
        done.arrivals.push(crate::inbox::insert_in(tx, node, arrival, now).await?);
    }
    for panel in &run.panels {
        crate::content::put_panel_in(tx, run.bot, panel, Timestamp::now()).await?;
    }
    for label in &run.clear_labels {
        crate::jobs::cancel_label_in(tx, run.bot, label).await?;
    }
    for job in &run.jobs {
        crate::jobs::enqueue_in(tx, job).await?;
    }
    match &run.job {
        Some((lease, botyard_domain::job::JobUpdate::Details(details))) => {
            crate::jobs::set_details_in(tx, lease, details).await?
        }
        Some((lease, botyard_domain::job::JobUpdate::End(end))) => {
            crate::jobs::finish_in(tx, lease, end).await?
        }
        Some((lease, botyard_domain::job::JobUpdate::Mark { mark, ok })) => {
            crate::jobs::mark_in(tx, lease, *mark, *ok).await?
        }
        None => {}
    }
    for m in &run.messages {
        let new = NewMessage {
            uid: m.uid.clone(),
            bot: run.bot,
            chat_id: m.chat_id,
            user_id: None,
            payload: m.payload.clone(),
            metadata: m.metadata.clone(),
            at: m.at,
            external_id: None,
        };
        done.messages.push(insert_message(&mut **tx, &new).await?);
    }
    for edit in &run.edits {
        let row = sqlx::query(concat!(
            "UPDATE messages SET payload = $1, updated_at = $2 WHERE id = $3 AND bot_id = $4 ",
            "RETURNING id, uid, bot_id, chat_id, user_id, payload, metadata, created_at, updated_at"
        ))
        .bind(to_json(&edit.payload)?)
        .bind(edit.at.millis())
        .bind(edit.message_id)
        .bind(run.bot)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?;
        if let Some(row) = row {
            done.edited.push(conversations::message(&row)?);
        }
    }
    queue_channel_sends(tx, run, &done).await?;
    for p in &run.properties {
        match &p.value {
            Some((kind, value)) => {
                sqlx::query(
                    "INSERT INTO properties (bot_id, scope, owner_id, name, kind, value, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (bot_id, scope, owner_id, name) \
                     DO UPDATE SET kind = excluded.kind, value = excluded.value, updated_at = excluded.updated_at",
                )
                .bind(run.bot)
                .bind(p.scope.as_str())
                .bind(p.owner)
                .bind(&p.name)
                .bind(kind.as_str())
                .bind(to_json(value)?)
                .bind(p.at.millis())
                .execute(&mut **tx)
                .await
                .map_err(db)?;
            }
            None => {
                sqlx::query(
                    "DELETE FROM properties WHERE bot_id = $1 AND scope = $2 AND owner_id = $3 AND name = $4",
                )
                .bind(run.bot)
                .bind(p.scope.as_str())
                .bind(p.owner)
                .bind(&p.name)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
            }
        }
    }
    for change in &run.groups {
        let query = match change {
            GroupChange::Add { user, group } => sqlx::query(
                "INSERT INTO bot_user_groups (user_id, name) VALUES ($1, $2) ON CONFLICT (user_id, name) DO NOTHING",
            )
            .bind(*user)
            .bind(group.clone()),
            GroupChange::Remove { user, group } => {
                sqlx::query("DELETE FROM bot_user_groups WHERE user_id = $1 AND name = $2").bind(*user).bind(group.clone())
            }
            GroupChange::Clear { user } => sqlx::query("DELETE FROM bot_user_groups WHERE user_id = $1").bind(*user),
        };
        query.execute(&mut **tx).await.map_err(db)?;
    }
    for (chat, blocked) in &run.chat_blocks {
        sqlx::query("UPDATE chats SET blocked = $1 WHERE bot_id = $2 AND id = $3")
            .bind(i64::from(*blocked))
            .bind(run.bot)
            .bind(*chat)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
    }
    for change in &run.pending {
        match change {
            PendingChange::Set { chat, user, command, options, at } => {
                sqlx::query(
                    "INSERT INTO pending_replies (bot_id, chat_id, user_id, command_id, options, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (bot_id, chat_id, user_id) \
                     DO UPDATE SET command_id = excluded.command_id, options = excluded.options, created_at = excluded.created_at",
                )
                .bind(run.bot)
                .bind(*chat)
                .bind(*user)
                .bind(*command)
                .bind(options.as_ref().map(to_json).transpose()?)
                .bind(at.millis())
                .execute(&mut **tx)
                .await
                .map_err(db)?;
            }
            PendingChange::Clear { chat, user } => {
                sqlx::query(
                    "DELETE FROM pending_replies WHERE bot_id = $1 AND chat_id = $2 AND user_id = $3",
                )
                .bind(run.bot)
                .bind(*chat)
                .bind(*user)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
            }
        }
    }
    if let Some(entry) = &run.error {
        insert_error(tx, run.bot, entry).await?;
    }
    Ok(done)
}

/// Adds iterations to a workspace's usage of a month.
pub(crate) async fn add_usage_in(
    conn: &mut sqlx::AnyConnection,
    workspace: &str,
    month: &str,
    iterations: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO iteration_usage (workspace_id, month, iterations) VALUES ($1, $2, $3) \
         ON CONFLICT (workspace_id, month) DO UPDATE SET iterations = iteration_usage.iterations + excluded.iterations",
    )
    .bind(workspace)
    .bind(month)
    .bind(i64::try_from(iterations).unwrap_or(i64::MAX))
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

async fn insert_error(conn: &mut sqlx::AnyConnection, bot: i64, entry: &ErrorEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO error_logs (bot_id, command, title, stack_trace, chat_id, user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(bot)
    // A bot's error may hold any text; NUL is stored as U+FFFD on both backends.
    .bind(entry.command.as_deref().map(|c| without_nul(c).into_owned()))
    .bind(without_nul(&entry.title).into_owned())
    .bind(without_nul(&entry.stack_trace).into_owned())
    .bind(entry.chat_id)
    .bind(entry.user_id)
    .bind(entry.at.millis())
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

fn property(r: &AnyRow) -> Result<Property> {
    let value: String = get(r, "value")?;
    Ok(Property {
        id: get(r, "id")?,
        scope: PropertyScope::parse(&get::<String>(r, "scope")?)?,
        owner: get(r, "owner_id")?,
        name: get(r, "name")?,
        kind: PropertyType::parse(&get::<String>(r, "kind")?)?,
        value: json(&value, "property value")?,
        updated_at: Timestamp(get(r, "updated_at")?),
    })
}

/// Messages and edits in Telegram chats, and the run's API calls, go to the outbox.
async fn queue_channel_sends(
    tx: &mut sqlx::Transaction<'_, Any>,
    run: &RunEffects,
    done: &CommittedRun,
) -> Result<()> {
    use botyard_domain::effects::OutboxItem;
    let mut chats: Vec<i64> = done.messages.iter().chain(&done.edited).map(|m| m.chat_id).collect();
    chats.extend(run.outbox.iter().map(|o| o.chat_id));
    chats.sort_unstable();
    chats.dedup();
    let telegram = crate::telegram::telegram_chats(tx, &chats).await?;
    if telegram.is_empty() {
        return Ok(());
    }
    let now = Timestamp::now();
    for m in done.messages.iter().filter(|m| telegram.contains(&m.chat_id)) {
        let item =
            OutboxItem { chat_id: m.chat_id, method: "send".into(), params: Value::Null, callback: None };
        crate::telegram::outbox_in(tx, run.bot, m.chat_id, Some(m.id), &item, now).await?;
    }
    for m in done.edited.iter().filter(|m| telegram.contains(&m.chat_id)) {
        let text = run.edits.iter().find(|e| e.message_id == m.id).is_none_or(|e| e.text_changed);
        let item = OutboxItem {
            chat_id: m.chat_id,
            method: "edit".into(),
            params: serde_json::json!({"text": text}),
            callback: None,
        };
        crate::telegram::outbox_in(tx, run.bot, m.chat_id, Some(m.id), &item, now).await?;
    }
    for item in run.outbox.iter().filter(|o| telegram.contains(&o.chat_id)) {
        crate::telegram::outbox_in(tx, run.bot, item.chat_id, None, item, now).await?;
    }
    Ok(())
}
