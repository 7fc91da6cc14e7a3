//! The transaction that commits the effects of finished runs: messages and edits (and their
//! sends in Telegram chats' outbox), properties, groups, blocks, pending replies, dialog states, admin panels,
//! the jobs a run starts and its job's update, the inbox rows it consumes and adds, its error log
//! entry and its iterations — all of one run or none, several runs per transaction.

use std::collections::BTreeMap;

use botyard_domain::arrival::InboxEntry;
use botyard_domain::conversation::ChatMessage;
use botyard_domain::effects::{GroupChange, PendingChange, RunEffects};
use botyard_domain::{Error, Result, Timestamp};
use serde_json::Value;
use sqlx::Any;

use crate::Store;
use crate::conversations::{self, NewMessage, insert_message};
use crate::error::{db, to_json};

/// The error of a commit whose run's inbox row another node took over (it runs it there).
pub const TICKET_LOST: &str = "another node took over this run";

/// What committing one run wrote, for delivery to the chat.
#[derive(Debug, Clone, Default)]
pub struct CommittedRun {
    pub messages: Vec<ChatMessage>,
    pub edited: Vec<ChatMessage>,
    /// What the run started in its chats, now in the inbox.
    pub arrivals: Vec<InboxEntry>,
    /// Whether the run queued sends in the outbox (a Telegram chat's sender has work).
    pub queued_sends: bool,
}

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait RunCommitStore {
    /// Writes the effects of several runs in one transaction, for `node` (which must still own the
    /// runs' inbox rows: otherwise nothing is written and the error is [`TICKET_LOST`]).
    async fn commit_runs(&self, runs: &[RunEffects], node: &str, now: Timestamp)
    -> Result<Vec<CommittedRun>>;
}

impl RunCommitStore for Store {
    async fn commit_runs(
        &self,
        runs: &[RunEffects],
        node: &str,
        now: Timestamp,
    ) -> Result<Vec<CommittedRun>> {
        let grouped = runs.len() > 1 && runs.iter().all(simple);
        // Which of the messages' chats are Telegram's (their sends go to the outbox), read before
        // the transaction: one statement fewer on the writer.
        let telegram = if grouped {
            let mut chats: Vec<i64> =
                runs.iter().flat_map(|r| r.messages.iter().map(|m| m.chat_id)).collect();
            chats.sort_unstable();
            chats.dedup();
            self.telegram_chats(&chats).await?
        } else {
            Vec::new()
        };
        let mut tx = self.write.begin().await.map_err(db)?;
        let mut usage: BTreeMap<&str, u64> = BTreeMap::new();
        let committed = if grouped {
            commit_simple(&mut tx, runs, &telegram).await?
        } else {
            let mut committed = Vec::with_capacity(runs.len());
            for run in runs {
                committed.push(commit_run(&mut tx, run, node, now).await?);
            }
            committed
        };
        for run in runs {
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

/// Whether a run wrote only what [`commit_simple`] writes: its inbox row's removal, new messages
/// (with their sends in Telegram chats) and property values — the common run.
fn simple(run: &RunEffects) -> bool {
    run.arrivals.is_empty()
        && run.panels.is_empty()
        && run.clear_labels.is_empty()
        && run.jobs.is_empty()
        && run.job.is_none()
        && run.deleted.is_empty()
        && run.edits.is_empty()
        && run.outbox.is_empty()
        && run.auto_answer.is_none()
        && run.groups.is_empty()
        && run.chat_blocks.is_empty()
        && run.pending.is_empty()
        && run.dialog_state.is_none()
        && run.error.is_none()
        && run.properties.iter().all(|p| p.value.is_some())
        && run.send_order.iter().all(|s| matches!(s, botyard_domain::effects::SendRef::Message(_)))
}

/// The effects of several simple runs with one statement per kind (the same rows as
/// [`commit_run`] run by run would write, in the same order): the inbox rows (every one must
/// still be its node's, or the batch fails with [`TICKET_LOST`] and the committer commits the
/// runs one by one), the messages, their outbox rows, the properties (the last write of a
/// property wins, as it would one run after the other).
async fn commit_simple(
    tx: &mut sqlx::Transaction<'_, Any>,
    runs: &[RunEffects],
    telegram: &[i64],
) -> Result<Vec<CommittedRun>> {
    use crate::bots::SqlBuilder;
    // Inbox rows, grouped by owner (normally all this node's).
    let mut owners: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for ticket in runs.iter().filter_map(|r| r.ticket.as_ref()) {
        owners.entry(ticket.node.as_str()).or_default().push(ticket.id);
    }
    for (owner, ids) in owners {
        let mut sql = SqlBuilder::new_for(tx, "DELETE FROM inbox WHERE node = ");
        sql.bind(owner.to_owned());
        sql.push(" AND id IN (");
        for (i, id) in ids.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " });
            sql.bind(*id);
        }
        sql.push(") RETURNING id");
        let deleted = sql.fetch_all_conn(tx).await?;
        if deleted.len() != ids.len() {
            return Err(Error::conflict(TICKET_LOST));
        }
    }
    // Messages, in run order.
    let mut committed: Vec<CommittedRun> = runs.iter().map(|_| CommittedRun::default()).collect();
    let all: Vec<(usize, &botyard_domain::effects::OutgoingMessage)> =
        runs.iter().enumerate().flat_map(|(i, r)| r.messages.iter().map(move |m| (i, m))).collect();
    if !all.is_empty() {
        let mut sql = SqlBuilder::new_for(
            tx,
            "INSERT INTO messages (uid, bot_id, chat_id, user_id, payload, metadata, created_at, updated_at, external_id) VALUES ",
        );
        for (n, (i, m)) in all.iter().enumerate() {
            let mut row = sql.open_row(n == 0);
            row.bind(m.uid.clone())
                .bind(runs[*i].bot)
                .bind(m.chat_id)
                .bind(None::<i64>)
                .bind(to_json(&m.payload)?)
                .bind(m.metadata.as_ref().map(to_json).transpose()?)
                .bind(m.at.millis())
                .bind(m.at.millis())
                .bind(None::<String>);
        }
        sql.push(" RETURNING id, uid");
        let rows = sql.fetch_all_conn(tx).await?;
        let mut ids = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            ids.insert(crate::rows::get::<String>(row, "uid")?, crate::rows::get::<i64>(row, "id")?);
        }
        for (i, m) in &all {
            let id = *ids.get(&m.uid).ok_or_else(|| Error::internal("a committed message has no id"))?;
            committed[*i].messages.push(ChatMessage {
                id,
                uid: m.uid.clone(),
                bot_number: runs[*i].bot,
                chat_id: m.chat_id,
                user_id: None,
                payload: m.payload.clone(),
                metadata: m.metadata.clone(),
                created_at: m.at,
                updated_at: m.at,
            });
        }
        // Their sends in Telegram chats (`telegram`), in each run's order.
        if !telegram.is_empty() {
            let now = Timestamp::now();
            let mut sql = SqlBuilder::new_for(
                tx,
                "INSERT INTO outbox (bot_id, chat_id, message_id, method, params, callback, attempts, next_at, created_at) VALUES ",
            );
            let mut any = false;
            for (run, done) in runs.iter().zip(committed.iter_mut()) {
                let order: Vec<usize> = if run.send_order.is_empty() {
                    (0..done.messages.len()).collect()
                } else {
                    run.send_order
                        .iter()
                        .filter_map(|s| match s {
                            botyard_domain::effects::SendRef::Message(i) => Some(*i),
                            _ => None,
                        })
                        .collect()
                };
                for i in order {
                    let Some(m) = done.messages.get(i).filter(|m| telegram.contains(&m.chat_id)) else {
                        continue;
                    };
                    done.queued_sends = true;
                    let mut row = sql.open_row(!any);
                    row.bind(run.bot)
                        .bind(m.chat_id)
                        .bind(Some(m.id))
                        .bind("send".to_owned())
                        .bind("null".to_owned())
                        .bind(None::<String>)
                        .bind(0_i64)
                        .bind(now.millis())
                        .bind(now.millis());
                    any = true;
                }
            }
            if any {
                sql.execute(tx).await?;
            }
        }
    }
    // Properties: the last write of each wins.
    let mut last: BTreeMap<(i64, &str, i64, &str), (usize, &botyard_domain::effects::PropertyWrite)> =
        BTreeMap::new();
    let mut n = 0;
    for run in runs {
        for p in &run.properties {
            last.insert((run.bot, p.scope.as_str(), p.owner, p.name.as_str()), (n, p));
            n += 1;
        }
    }
    if !last.is_empty() {
        let mut writes: Vec<_> = last.into_iter().collect();
        writes.sort_by_key(|(_, (n, _))| *n);
        let mut sql = SqlBuilder::new_for(
            tx,
            "INSERT INTO properties (bot_id, scope, owner_id, name, kind, value, updated_at) VALUES ",
        );
        for (i, ((bot, scope, owner, name), (_, p))) in writes.iter().enumerate() {
            let Some((kind, value)) = &p.value else { continue };
            let mut row = sql.open_row(i == 0);
            row.bind(*bot)
                .bind((*scope).to_owned())
                .bind(*owner)
                .bind((*name).to_owned())
                .bind(kind.as_str().to_owned())
                .bind(to_json(value)?)
                .bind(p.at.millis());
        }
        sql.push(
            " ON CONFLICT (bot_id, scope, owner_id, name) DO UPDATE SET kind = excluded.kind, \
             value = excluded.value, updated_at = excluded.updated_at",
        );
        sql.execute(tx).await?;
    }
    Ok(committed)
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
    for id in &run.deleted {
        // Only the bot's own messages (user_id NULL), in its chats.
        sqlx::query("DELETE FROM messages WHERE id = $1 AND bot_id = $2 AND user_id IS NULL")
            .bind(*id)
            .bind(run.bot)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
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
    done.queued_sends = queue_channel_sends(tx, run, &done).await?;
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
    if let Some((chat, state)) = &run.dialog_state {
        sqlx::query(
            "INSERT INTO chat_dialog_states (chat_id, bot_id, state, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(*chat)
        .bind(run.bot)
        .bind(state.clone())
        .bind(now.millis())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    if let Some(entry) = &run.error {
        crate::error_logs::insert_error(tx, run.bot, entry).await?;
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

/// Messages and edits in Telegram chats, and the run's API calls, go to the outbox; `true` when
/// anything did.
async fn queue_channel_sends(
    tx: &mut sqlx::Transaction<'_, Any>,
    run: &RunEffects,
    done: &CommittedRun,
) -> Result<bool> {
    use botyard_domain::effects::{OutboxItem, SendRef};
    let mut chats: Vec<i64> = done.messages.iter().chain(&done.edited).map(|m| m.chat_id).collect();
    chats.extend(run.outbox.iter().chain(&run.auto_answer).map(|o| o.chat_id));
    chats.sort_unstable();
    chats.dedup();
    let telegram = crate::telegram::telegram_chats(tx, &chats).await?;
    if telegram.is_empty() {
        return Ok(false);
    }
    let mut queued = false;
    let now = Timestamp::now();
    // In the order the script made them (a run from before `send_order` existed: by kind).
    let order: Vec<SendRef> = if run.send_order.is_empty() {
        (0..done.messages.len())
            .map(SendRef::Message)
            .chain(done.edited.iter().map(|m| SendRef::Edit(m.id)))
            .chain((0..run.outbox.len()).map(SendRef::Call))
            .collect()
    } else {
        run.send_order.clone()
    };
    let answered = run.outbox.iter().any(|o| o.method == "answerCallbackQuery");
    if let Some(answer) = run.auto_answer.as_ref().filter(|a| !answered && telegram.contains(&a.chat_id)) {
        crate::telegram::outbox_in(tx, run.bot, answer.chat_id, None, answer, now).await?;
        queued = true;
    }
    for send in order {
        match send {
            SendRef::Message(i) => {
                let Some(m) = done.messages.get(i).filter(|m| telegram.contains(&m.chat_id)) else {
                    continue;
                };
                let item = OutboxItem {
                    chat_id: m.chat_id,
                    method: "send".into(),
                    params: Value::Null,
                    callback: None,
                };
                crate::telegram::outbox_in(tx, run.bot, m.chat_id, Some(m.id), &item, now).await?;
                queued = true;
            }
            SendRef::Edit(id) => {
                let Some(m) = done.edited.iter().find(|m| m.id == id && telegram.contains(&m.chat_id)) else {
                    continue;
                };
                let text = run.edits.iter().find(|e| e.message_id == m.id).is_none_or(|e| e.text_changed);
                let item = OutboxItem {
                    chat_id: m.chat_id,
                    method: "edit".into(),
                    params: serde_json::json!({"text": text}),
                    callback: None,
                };
                crate::telegram::outbox_in(tx, run.bot, m.chat_id, Some(m.id), &item, now).await?;
                queued = true;
            }
            SendRef::Call(i) => {
                let Some(item) = run.outbox.get(i).filter(|o| telegram.contains(&o.chat_id)) else {
                    continue;
                };
                crate::telegram::outbox_in(tx, run.bot, item.chat_id, None, item, now).await?;
                queued = true;
            }
        }
    }
    Ok(queued)
}
