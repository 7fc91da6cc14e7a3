//! Fixtures shared by the store's contract tests: a fresh database per backend, a workspace, bots,
//! chats and users to hang runs, jobs and content on.
//!
//! Not every test file uses every helper.
#![allow(dead_code)]

use botyard_domain::account::Workspace;
use botyard_domain::bot::{Bot, BotDefinition, DeployStatus, RunState};
use botyard_domain::command::{CommandDraft, CommandFields};
use botyard_domain::conversation::{BotUser, Channel, Chat, UserProfile};
use botyard_domain::job::{Job, JobKind, JobLease, NewJob};
use botyard_domain::{BotId, Timestamp, WorkspaceId};
use botyard_store::testing::TestDatabase;
use botyard_store::*;
use serde_json::Value;

/// A point in time far from the wall clock, so that what the store stamps with `now()` itself
/// never mixes with what the tests pass.
pub const T0: Timestamp = Timestamp(1_700_000_000_000);

/// A fresh database of `backend` and a store opened on it.
pub async fn open(backend: Backend) -> (TestDatabase, Store) {
    let db = TestDatabase::create(backend).await;
    let store = Store::open(&db.url, &StoreOptions::default()).await.expect("the store opens");
    (db, store)
}

/// A new account with its personal workspace; returns the workspace.
pub async fn workspace(store: &Store) -> WorkspaceId {
    let ws = WorkspaceId::generate();
    let email = format!("{}@example.test", uuid::Uuid::new_v4());
    store
        .create_account(NewAccount {
            email: email.clone(),
            password_hash: "hash".into(),
            api_key_hash: format!("key-{email}"),
            api_key_hint: "byk_".into(),
            workspace: Workspace {
                id: ws.clone(),
                name: "Personal".into(),
                personal_of: None,
                plan: "free".into(),
                created_at: T0,
            },
            now: T0,
        })
        .await
        .expect("the account is created");
    ws
}

/// A bot of `ws` to insert.
pub fn bot_record(ws: &WorkspaceId, name: &str) -> Bot {
    Bot {
        id: BotId::generate(),
        number: 0,
        workspace_id: ws.clone(),
        name: name.into(),
        dev: false,
        status: DeployStatus::Active,
        run_state: RunState::Works,
        origin: Default::default(),
        created_at: T0,
        updated_at: T0,
        deployed_at: None,
        created_by: None,
        signing_secret: "s".into(),
        web_channel_id: format!("web-{}", uuid::Uuid::new_v4()),
        telegram_token: None,
        telegram_username: None,
        csv_url: None,
        git_remote: None,
        definition: BotDefinition::default(),
    }
}

/// A new bot in `ws`; returns its number (the id the other tables use).
pub async fn bot(store: &Store, ws: &WorkspaceId, name: &str) -> i64 {
    store.insert_bot(&bot_record(ws, name)).await.expect("the bot is inserted").number
}

pub async fn bot_name(store: &Store, bot: i64) -> String {
    store.bot(&botyard_domain::BotRef::Number(bot)).await.unwrap().expect("the bot exists").name
}

pub async fn user(store: &Store, bot: i64, channel: Channel, external: &str) -> BotUser {
    store
        .upsert_user(bot, channel, external, &UserProfile::default(), T0)
        .await
        .expect("the user is stored")
        .0
}

pub async fn chat(store: &Store, bot: i64, channel: Channel, external: &str, owner: Option<i64>) -> Chat {
    let key = ChatKey { bot, channel, external_id: external };
    store.upsert_chat(&key, "private", None, owner, T0).await.expect("the chat is stored").0
}

/// A command with just a name (and its aliases), its answer and code naming it.
pub fn draft(name: &str, aliases: &[&str]) -> CommandDraft {
    CommandDraft::new(CommandFields {
        command: Some(name.into()),
        answer: Some(format!("answer of {name}")),
        code: Some(format!("Bot.sendMessage('{name}')")),
        aliases: Some(aliases.iter().map(|a| (*a).to_owned()).collect()),
        ..Default::default()
    })
    .expect("a valid command")
}

/// A job of `kind` due at `run_at`.
pub fn new_job(kind: JobKind, run_at: Timestamp) -> NewJob {
    let mut job = NewJob::new(kind, Value::Object(Default::default()));
    job.run_at = run_at;
    job
}

/// The lease a worker holds on a job it claimed.
pub fn lease_of(job: &Job) -> JobLease {
    JobLease { job: job.id, attempt: job.attempts, failpoints: Default::default() }
}

/// Enqueues a job of `kind` (on `bot`) and claims it at `now`; returns the job and its lease.
pub async fn claimed_job(store: &Store, kind: JobKind, bot: Option<i64>, now: Timestamp) -> (Job, JobLease) {
    let mut job = new_job(kind, now);
    job.bot = bot;
    let job = store.enqueue(&job).await.expect("the job is enqueued");
    let claimed = store
        .claim_job("fixture-worker", now, now.plus_secs(60), &[kind])
        .await
        .expect("the claim runs")
        .expect("the job is claimed");
    assert_eq!(claimed.id, job.id, "the fixture's job is the only one of its kind due");
    let lease = lease_of(&claimed);
    (claimed, lease)
}

/// How many rows a table holds.
pub async fn rows(db: &TestDatabase, table: &str) -> i64 {
    db.count(&format!("SELECT COUNT(*) FROM {table}")).await
}
