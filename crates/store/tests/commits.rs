//! The run commit's contract ([`RunCommitStore`]), run against every configured backend: a commit
//! writes every effect of its runs (messages, edits and their Telegram sends, properties, groups,
//! blocks, pending replies, panels, jobs started and canceled, its job's update, the inbox row it
//! consumes and the arrivals it adds, its error log entry, its iterations) or none of them; a run
//! whose inbox row another node took over commits nothing ([`TICKET_LOST`]). Everything is read
//! back through the other store traits.

mod common;

use botyard_domain::arrival::{Arrival, InboxEntry, NewArrival, Ticket};
use botyard_domain::conversation::{BotUser, Channel, Chat, ChatMessage};
use botyard_domain::effects::{
    ErrorEntry, ErrorLogQuery, GroupChange, MessageEdit, OutboxItem, OutgoingMessage, PendingChange,
    PropertyWrite, RunEffects,
};
use botyard_domain::job::{JobEnd, JobKind, JobLease, JobStatus, JobUpdate};
use botyard_domain::property::{PropertyScope, PropertyType};
use botyard_domain::{ErrorCode, Timestamp, WorkspaceId};
use botyard_store::testing::{TestDatabase, backends};
use botyard_store::*;
use common::{T0, claimed_job, new_job, open};
use serde_json::{Value, json};

/// A bot with a web chat and a Telegram chat (each with its user), a command to wait for replies
/// with, a bot message to edit, a property to delete, a scheduled run labeled `old`, and a claimed
/// job whose runs report to it.
struct World {
    ws: WorkspaceId,
    bot: i64,
    web_user: BotUser,
    web_chat: Chat,
    tg_user: BotUser,
    tg_chat: Chat,
    command: i64,
    earlier: ChatMessage,
    labeled: i64,
    job: i64,
    lease: JobLease,
}

async fn world(store: &Store) -> World {
    let ws = common::workspace(store).await;
    let bot = common::bot(store, &ws, "committer").await;
    let web_user = common::user(store, bot, Channel::Web, "web-user").await;
    let web_chat = common::chat(store, bot, Channel::Web, "web-chat", Some(web_user.id)).await;
    let tg_user = common::user(store, bot, Channel::Telegram, "1001").await;
    let tg_chat = common::chat(store, bot, Channel::Telegram, "1001", Some(tg_user.id)).await;
    let command = store.create_command(bot, &common::draft("/ask", &[]), T0, false).await.unwrap().id;
    let earlier = store
        .insert_message(&NewMessage {
            uid: "msg-earlier".into(),
            bot,
            chat_id: tg_chat.id,
            user_id: None,
            payload: json!({"type": "text", "text": "before"}),
            metadata: None,
            at: T0,
            external_id: Some("77".into()),
        })
        .await
        .unwrap();
    let doomed = RunEffects {
        bot,
        properties: vec![PropertyWrite {
            scope: PropertyScope::Bot,
            owner: 0,
            name: "doomed".into(),
            value: Some((PropertyType::String, json!("bye"))),
            at: T0,
        }],
        ..Default::default()
    };
    store.commit_runs(&[doomed], "setup", T0).await.unwrap();
    let (job, lease) = claimed_job(store, JobKind::HttpRequest, Some(bot), T0).await;
    let mut labeled = new_job(JobKind::ScheduledRun, T0.plus_secs(3600));
    labeled.bot = Some(bot);
    labeled.label = Some("old".into());
    let labeled = store.enqueue(&labeled).await.unwrap().id;
    World { ws, bot, web_user, web_chat, tg_user, tg_chat, command, earlier, labeled, job: job.id, lease }
}

/// Stores a user's message and its arrival for `node`, as a channel does.
async fn accept(store: &Store, w: &World, node: &str, text: &str) -> InboxEntry {
    let arrival = NewArrival {
        bot: w.bot,
        chat: w.web_chat.id,
        user: Some(w.web_user.id),
        arrival: Arrival::Message { message: 0 },
    };
    let message = NewMessage {
        uid: format!("msg-in-{text}"),
        bot: w.bot,
        chat_id: w.web_chat.id,
        user_id: Some(w.web_user.id),
        payload: json!({"type": "text", "text": text}),
        metadata: None,
        at: T0,
        external_id: None,
    };
    store.accept(node, &arrival, Some(&message), None, T0).await.unwrap().expect("accepted").0
}

fn ticket(entry: &InboxEntry) -> Ticket {
    Ticket { id: entry.id, node: entry.node.clone() }
}

/// A run that does one of everything; `tag` keeps the uids of two such runs apart.
fn everything(w: &World, tag: &str, ticket: Option<Ticket>) -> RunEffects {
    let at = T0.plus_secs(1);
    let text = |chat: i64, text: &str| OutgoingMessage {
        uid: format!("msg-{tag}-{text}"),
        chat_id: chat,
        payload: json!({"type": "text", "text": text}),
        metadata: None,
        at,
    };
    let mut started = new_job(JobKind::ScheduledRun, T0.plus_secs(60));
    started.bot = Some(w.bot);
    started.workspace_id = Some(w.ws.clone());
    started.label = Some(format!("later-{tag}"));
    started.cost = 2;
    RunEffects {
        bot: w.bot,
        workspace: Some(w.ws.clone()),
        messages: vec![text(w.web_chat.id, "hello web"), text(w.tg_chat.id, "hello telegram")],
        edits: vec![MessageEdit {
            message_id: w.earlier.id,
            payload: json!({"type": "text", "text": "before", "botyard": {"keyboard": [["ok"]]}}),
            text_changed: false,
            at,
        }],
        properties: vec![
            PropertyWrite {
                scope: PropertyScope::Bot,
                owner: 0,
                name: "counter".into(),
                value: Some((PropertyType::Integer, json!(1))),
                at,
            },
            PropertyWrite {
                scope: PropertyScope::User,
                owner: w.tg_user.id,
                name: "lang".into(),
                value: Some((PropertyType::String, json!("en"))),
                at,
            },
            PropertyWrite { scope: PropertyScope::Bot, owner: 0, name: "doomed".into(), value: None, at },
        ],
        groups: vec![
            GroupChange::Add { user: w.tg_user.id, group: "admins".into() },
            GroupChange::Add { user: w.tg_user.id, group: "vip".into() },
            GroupChange::Remove { user: w.tg_user.id, group: "vip".into() },
        ],
        chat_blocks: vec![(w.web_chat.id, true)],
        pending: vec![PendingChange::Set {
            chat: w.tg_chat.id,
            user: w.tg_user.id,
            command: w.command,
            options: Some(json!({"step": 2})),
            at,
        }],
        panels: vec![botyard_domain::content::AdminPanel {
            name: format!("panel-{tag}"),
            document: json!({"fields": [{"name": "token", "type": "string", "value": "x"}]}),
        }],
        jobs: vec![started],
        clear_labels: vec!["old".into()],
        outbox: vec![
            OutboxItem {
                chat_id: w.tg_chat.id,
                method: "sendPhoto".into(),
                params: json!({"photo": "https://example.test/cat.png"}),
                callback: Some(json!({"on_result": "/sent"})),
            },
            // Only Telegram chats have an outbox.
            OutboxItem {
                chat_id: w.web_chat.id,
                method: "sendPhoto".into(),
                params: json!({}),
                callback: None,
            },
        ],
        job: Some((
            w.lease.clone(),
            JobUpdate::End(JobEnd::Succeeded { details: json!({"ran": tag}), bot: None }),
        )),
        ticket,
        arrivals: vec![NewArrival {
            bot: w.bot,
            chat: w.web_chat.id,
            user: Some(w.web_user.id),
            arrival: Arrival::Command {
                text: "/next".into(),
                options: json!({"n": 1}),
                globals: Default::default(),
            },
        }],
        iterations: 5,
        error: Some(ErrorEntry {
            command: Some("/start".into()),
            title: format!("handled error {tag}"),
            stack_trace: "at line 1".into(),
            chat_id: Some(w.tg_chat.id),
            user_id: Some(w.tg_user.id),
            at,
        }),
        ..Default::default()
    }
}

/// Row counts of every table a commit writes, and the states it changes, to show that a refused
/// commit left the database as it was.
async fn snapshot(db: &TestDatabase) -> Vec<(&'static str, i64)> {
    let mut found = Vec::new();
    for (what, query) in [
        ("messages", "SELECT COUNT(*) FROM messages"),
        ("edited messages", "SELECT COUNT(*) FROM messages WHERE updated_at <> created_at"),
        ("properties", "SELECT COUNT(*) FROM properties"),
        ("groups", "SELECT COUNT(*) FROM bot_user_groups"),
        ("blocked chats", "SELECT COUNT(*) FROM chats WHERE blocked <> 0"),
        ("pending replies", "SELECT COUNT(*) FROM pending_replies"),
        ("panels", "SELECT COUNT(*) FROM admin_panels"),
        ("jobs", "SELECT COUNT(*) FROM jobs"),
        ("canceled jobs", "SELECT COUNT(*) FROM jobs WHERE status = 'canceled'"),
        ("finished jobs", "SELECT COUNT(*) FROM jobs WHERE finished_at IS NOT NULL"),
        ("job marks", "SELECT COUNT(*) FROM job_marks"),
        ("outbox", "SELECT COUNT(*) FROM outbox"),
        ("inbox", "SELECT COUNT(*) FROM inbox"),
        ("error logs", "SELECT COUNT(*) FROM error_logs"),
        ("iterations", "SELECT CAST(COALESCE(SUM(iterations), 0) AS BIGINT) FROM iteration_usage"),
    ] {
        found.push((what, db.count(query).await));
    }
    found
}

/// Iterations charged to the workspace, in any month.
async fn usage(store: &Store, ws: &WorkspaceId) -> i64 {
    let mut used = store.usage(ws, &T0.month_key()).await.unwrap();
    let wall = Timestamp::now().month_key();
    if wall != T0.month_key() {
        used += store.usage(ws, &wall).await.unwrap();
    }
    used
}

/// Claims and acknowledges the outbox until it is empty: `(chat, method, message, params)` in the
/// order the rows are handed out.
async fn drain_outbox(store: &Store) -> Vec<(i64, String, Option<i64>, Value)> {
    // The commit stamps outbox rows with the wall clock: claim from after it.
    let now = Timestamp::now().plus_secs(3600);
    let mut sent = Vec::new();
    loop {
        let rows = store.claim_outbox("drain", now, now.plus_secs(60), 100).await.unwrap();
        if rows.is_empty() {
            return sent;
        }
        for row in rows {
            store.delete_outbox(row.id).await.unwrap();
            sent.push((row.chat, row.method, row.message, row.params));
        }
    }
}

async fn error_titles(store: &Store, bot: i64) -> Vec<String> {
    let query = ErrorLogQuery { page: 1, per_page: 100, ..Default::default() };
    store.error_logs(bot, &query).await.unwrap().into_iter().map(|e| e.entry.title).collect()
}

async fn texts(store: &Store, chat: i64) -> Vec<String> {
    let messages = store.messages(chat, 0, 100).await.unwrap();
    messages.iter().map(|m| m.payload["text"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn a_commit_writes_every_effect_of_its_run() {
    for backend in backends() {
        let (db, store) = open(backend).await;
        let w = world(&store).await;
        let entry = accept(&store, &w, "node-a", "hi").await;
        let run = everything(&w, "one", Some(ticket(&entry)));

        let committed = store.commit_runs(std::slice::from_ref(&run), "node-a", T0.plus_secs(2)).await;
        let committed = committed.unwrap().pop().unwrap();
        assert_eq!(committed.messages.len(), 2, "{backend:?}");
        assert_eq!(committed.edited.iter().map(|m| m.id).collect::<Vec<_>>(), vec![w.earlier.id]);
        assert_eq!(committed.arrivals.len(), 1, "{backend:?}");
        assert_eq!(committed.arrivals[0].node, "node-a", "{backend:?}");

        // Messages and the edit.
        assert_eq!(texts(&store, w.web_chat.id).await, vec!["hi", "hello web"], "{backend:?}");
        assert_eq!(texts(&store, w.tg_chat.id).await, vec!["before", "hello telegram"], "{backend:?}");
        let edited = store.message_by_id(w.earlier.id).await.unwrap().unwrap();
        assert_eq!(edited.payload, run.edits[0].payload, "{backend:?}");
        assert_eq!(edited.updated_at, T0.plus_secs(1), "{backend:?}");

        // Properties: set, set, deleted.
        let counter = store.property(w.bot, PropertyScope::Bot, 0, "counter").await.unwrap().unwrap();
        assert_eq!((counter.kind, counter.value), (PropertyType::Integer, json!(1)), "{backend:?}");
        let lang = store.property(w.bot, PropertyScope::User, w.tg_user.id, "lang").await.unwrap();
        assert_eq!(lang.map(|p| p.value), Some(json!("en")), "{backend:?}");
        assert_eq!(store.property(w.bot, PropertyScope::Bot, 0, "doomed").await.unwrap(), None);

        // Groups (in order: added, added, removed), the block, the pending reply, the panel.
        let user = store.bot_user(w.bot, w.tg_user.id).await.unwrap().unwrap();
        assert_eq!(user.groups, vec!["admins".to_owned()], "{backend:?}");
        assert!(store.chat(w.bot, w.web_chat.id).await.unwrap().unwrap().blocked, "{backend:?}");
        assert!(!store.chat(w.bot, w.tg_chat.id).await.unwrap().unwrap().blocked, "{backend:?}");
        let pending = store.pending_reply(w.bot, w.tg_chat.id, w.tg_user.id).await.unwrap();
        assert_eq!(pending, Some((w.command, Some(json!({"step": 2})))), "{backend:?}");
        let panels = store.panels(w.bot).await.unwrap();
        assert_eq!(panels.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), vec!["panel-one"]);

        // Jobs: the one started, the labeled one canceled, the run's own job ended.
        let started = store.latest_job(w.bot, JobKind::ScheduledRun).await.unwrap().unwrap();
        assert_ne!(started.id, w.labeled, "{backend:?}");
        assert_eq!((started.status, started.run_at), (JobStatus::Enqueued, T0.plus_secs(60)));
        assert_eq!(store.pending_jobs(w.bot, JobKind::ScheduledRun).await.unwrap(), 1, "{backend:?}");
        let labeled = store.job(w.labeled).await.unwrap().unwrap();
        assert_eq!(labeled.status, JobStatus::Canceled, "{backend:?}");
        let own = store.job(w.job).await.unwrap().unwrap();
        assert_eq!((own.status, own.details), (JobStatus::Succeeded, json!({"ran": "one"})), "{backend:?}");

        // The Telegram sends, in order: the message, the edit, the API call; none for the web chat.
        let sent = drain_outbox(&store).await;
        let telegram_message = committed.messages.iter().find(|m| m.chat_id == w.tg_chat.id).unwrap();
        assert_eq!(
            sent,
            vec![
                (w.tg_chat.id, "send".to_owned(), Some(telegram_message.id), Value::Null),
                (w.tg_chat.id, "edit".to_owned(), Some(w.earlier.id), json!({"text": false})),
                (
                    w.tg_chat.id,
                    "sendPhoto".to_owned(),
                    None,
                    json!({"photo": "https://example.test/cat.png"})
                ),
            ],
            "{backend:?}"
        );

        // The error log entry and the iterations (in the month of the commit) and the job's cost.
        assert_eq!(error_titles(&store, w.bot).await, vec!["handled error one"], "{backend:?}");
        assert_eq!(store.usage(&w.ws, &T0.plus_secs(2).month_key()).await.unwrap(), 5, "{backend:?}");
        assert_eq!(usage(&store, &w.ws).await, 5 + 2, "{backend:?}");

        // The inbox: the consumed row is gone, the started arrival waits, owned by the committer.
        assert_eq!(common::rows(&db, "inbox").await, 1, "{backend:?}");
        let left = store.adopt_arrivals("node-z", T0.plus_secs(3), true).await.unwrap();
        assert_eq!(left.len(), 1, "{backend:?}");
        assert_eq!(left[0].id, committed.arrivals[0].id, "{backend:?}");
        assert_eq!(left[0].arrival, run.arrivals[0].arrival, "{backend:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_commit_whose_ticket_was_taken_over_writes_nothing() {
    for backend in backends() {
        let (db, store) = open(backend).await;
        let w = world(&store).await;
        let entry = accept(&store, &w, "node-a", "hi").await;
        // node-a's lease lapsed (it never kept one): node-b takes its arrivals over.
        store.keep_node("node-b", T0, T0.plus_secs(60)).await.unwrap();
        let adopted = store.adopt_arrivals("node-b", T0.plus_secs(1), false).await.unwrap();
        assert_eq!(adopted.iter().map(|e| e.id).collect::<Vec<_>>(), vec![entry.id], "{backend:?}");

        let before = snapshot(&db).await;
        let stale = everything(&w, "stale", Some(ticket(&entry)));
        let refused = store.commit_runs(std::slice::from_ref(&stale), "node-a", T0.plus_secs(2)).await;
        let error = refused.unwrap_err();
        assert_eq!((error.code, error.message.as_str()), (ErrorCode::Conflict, TICKET_LOST), "{backend:?}");
        assert_eq!(snapshot(&db).await, before, "{backend:?}: the stale commit wrote nothing");

        // Nothing of the run shows through the store either.
        assert_eq!(texts(&store, w.web_chat.id).await, vec!["hi"], "{backend:?}");
        assert_eq!(texts(&store, w.tg_chat.id).await, vec!["before"], "{backend:?}");
        let earlier = store.message_by_id(w.earlier.id).await.unwrap().unwrap();
        assert_eq!(earlier.payload, w.earlier.payload, "{backend:?}");
        assert_eq!(store.property(w.bot, PropertyScope::Bot, 0, "counter").await.unwrap(), None);
        assert!(store.property(w.bot, PropertyScope::Bot, 0, "doomed").await.unwrap().is_some());
        assert!(store.bot_user(w.bot, w.tg_user.id).await.unwrap().unwrap().groups.is_empty());
        assert!(!store.chat(w.bot, w.web_chat.id).await.unwrap().unwrap().blocked, "{backend:?}");
        assert_eq!(store.pending_reply(w.bot, w.tg_chat.id, w.tg_user.id).await.unwrap(), None);
        assert!(store.panels(w.bot).await.unwrap().is_empty(), "{backend:?}");
        assert_eq!(store.job(w.labeled).await.unwrap().unwrap().status, JobStatus::Enqueued);
        assert_eq!(store.latest_job(w.bot, JobKind::ScheduledRun).await.unwrap().unwrap().id, w.labeled);
        assert_eq!(store.job(w.job).await.unwrap().unwrap().status, JobStatus::Processing, "{backend:?}");
        assert!(drain_outbox(&store).await.is_empty(), "{backend:?}");
        assert!(error_titles(&store, w.bot).await.is_empty(), "{backend:?}");
        assert_eq!(usage(&store, &w.ws).await, 0, "{backend:?}");
        assert_eq!(common::rows(&db, "inbox").await, 1, "{backend:?}: the row stays with node-b");

        // The node that owns the row now commits the run, once.
        let owned = Ticket { id: entry.id, node: "node-b".into() };
        let run = everything(&w, "owner", Some(owned.clone()));
        store.commit_runs(std::slice::from_ref(&run), "node-b", T0.plus_secs(3)).await.unwrap();
        assert_eq!(texts(&store, w.web_chat.id).await, vec!["hi", "hello web"], "{backend:?}");
        let mut again = everything(&w, "again", Some(owned));
        again.job = None;
        let error = store.commit_runs(&[again], "node-b", T0.plus_secs(4)).await.unwrap_err();
        assert_eq!(error.message, TICKET_LOST, "{backend:?}: an arrival's run commits once");
        assert_eq!(texts(&store, w.web_chat.id).await, vec!["hi", "hello web"], "{backend:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_batch_with_one_lost_ticket_writes_no_run() {
    for backend in backends() {
        let (db, store) = open(backend).await;
        let w = world(&store).await;
        let kept = accept(&store, &w, "node-a", "first").await;
        let lost = accept(&store, &w, "node-a", "second").await;
        // The second arrival's row is gone (its chat was forgotten, another node ran it, …).
        store.forget_arrival(lost.id).await.unwrap();

        let before = snapshot(&db).await;
        let mut good = everything(&w, "good", Some(ticket(&kept)));
        good.job = None;
        let mut bad = RunEffects { bot: w.bot, ticket: Some(ticket(&lost)), ..Default::default() };
        bad.properties = vec![PropertyWrite {
            scope: PropertyScope::Bot,
            owner: 0,
            name: "from-bad".into(),
            value: Some((PropertyType::Boolean, json!(true))),
            at: T0,
        }];
        let error = store.commit_runs(&[good.clone(), bad], "node-a", T0.plus_secs(2)).await.unwrap_err();
        assert_eq!(error.message, TICKET_LOST, "{backend:?}");
        assert_eq!(snapshot(&db).await, before, "{backend:?}: no run of the batch was written");
        assert_eq!(texts(&store, w.web_chat.id).await, vec!["first", "second"], "{backend:?}");

        // Alone, the good run commits.
        store.commit_runs(&[good], "node-a", T0.plus_secs(3)).await.unwrap();
        assert_eq!(texts(&store, w.web_chat.id).await, vec!["first", "second", "hello web"]);
        assert_eq!(store.property(w.bot, PropertyScope::Bot, 0, "from-bad").await.unwrap(), None);
        store.close().await;
    }
}

#[tokio::test]
async fn a_commit_refused_late_leaves_nothing_of_its_run() {
    for backend in backends() {
        let (db, store) = open(backend).await;
        let w = world(&store).await;
        let entry = accept(&store, &w, "node-a", "hi").await;
        let before = snapshot(&db).await;

        // A message whose uid is taken: refused after the ticket, the arrivals, the panels, the
        // jobs and the job's end were written.
        let mut duplicate = everything(&w, "dup", Some(ticket(&entry)));
        duplicate.messages[1].uid = w.earlier.uid.clone();
        let error = store.commit_runs(&[duplicate], "node-a", T0.plus_secs(2)).await.unwrap_err();
        assert_eq!(error.code, ErrorCode::AlreadyExists, "{backend:?}: {error:?}");
        assert_eq!(snapshot(&db).await, before, "{backend:?}: the refused commit wrote nothing");
        assert_eq!(store.job(w.job).await.unwrap().unwrap().status, JobStatus::Processing, "{backend:?}");

        // The run's job was taken over by another attempt: refused after the ticket and the jobs.
        let far = T0.plus_secs(10_000);
        let retaken =
            store.claim_job("other", far, far.plus_secs(60), &[JobKind::HttpRequest]).await.unwrap();
        assert_eq!(retaken.map(|j| (j.id, j.attempts)), Some((w.job, 2)), "{backend:?}");
        let before = snapshot(&db).await;
        let stale_job = everything(&w, "stale-job", Some(ticket(&entry)));
        let error = store.commit_runs(&[stale_job], "node-a", T0.plus_secs(2)).await.unwrap_err();
        assert_eq!((error.code, error.message.as_str()), (ErrorCode::Conflict, LEASE_LOST), "{backend:?}");
        assert_eq!(snapshot(&db).await, before, "{backend:?}: the refused commit wrote nothing");

        // The ticket was not used up by the refused commits: the run still commits.
        let mut run = everything(&w, "last", Some(ticket(&entry)));
        run.job = None;
        store.commit_runs(&[run], "node-a", T0.plus_secs(3)).await.unwrap();
        assert_eq!(texts(&store, w.tg_chat.id).await, vec!["before", "hello telegram"], "{backend:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_failed_run_commits_only_its_bookkeeping() {
    for backend in backends() {
        let (db, store) = open(backend).await;
        let w = world(&store).await;
        let entry = accept(&store, &w, "node-a", "hi").await;
        // The user was waiting to be asked: the failed answer still ends the wait.
        let ask = RunEffects {
            bot: w.bot,
            pending: vec![PendingChange::Set {
                chat: w.tg_chat.id,
                user: w.tg_user.id,
                command: w.command,
                options: None,
                at: T0,
            }],
            ..Default::default()
        };
        store.commit_runs(&[ask], "node-a", T0).await.unwrap();
        let mut run = everything(&w, "failed", Some(ticket(&entry)));
        run.pending.push(PendingChange::Clear { chat: w.tg_chat.id, user: w.tg_user.id });
        let entry_error = ErrorEntry {
            command: Some("/start".into()),
            title: "TypeError: x is undefined".into(),
            stack_trace: "at line 2".into(),
            chat_id: Some(w.web_chat.id),
            user_id: Some(w.web_user.id),
            at: T0.plus_secs(1),
        };
        let failed = run.failed(entry_error);
        let messages_before = common::rows(&db, "messages").await;
        let committed = store.commit_runs(&[failed], "node-a", T0.plus_secs(2)).await.unwrap();
        assert!(committed[0].messages.is_empty() && committed[0].arrivals.is_empty(), "{backend:?}");
        assert_eq!(common::rows(&db, "messages").await, messages_before, "{backend:?}");
        assert_eq!(common::rows(&db, "inbox").await, 0, "{backend:?}: the arrival was consumed");
        assert_eq!(error_titles(&store, w.bot).await, vec!["TypeError: x is undefined"], "{backend:?}");
        assert_eq!(store.pending_reply(w.bot, w.tg_chat.id, w.tg_user.id).await.unwrap(), None);
        assert_eq!(store.property(w.bot, PropertyScope::Bot, 0, "counter").await.unwrap(), None);
        assert_eq!(store.job(w.job).await.unwrap().unwrap().status, JobStatus::Succeeded, "{backend:?}");
        assert_eq!(store.job(w.labeled).await.unwrap().unwrap().status, JobStatus::Enqueued);
        assert_eq!(usage(&store, &w.ws).await, 5, "{backend:?}: iterations only, no job started");
        assert!(drain_outbox(&store).await.is_empty(), "{backend:?}");
        store.close().await;
    }
}
