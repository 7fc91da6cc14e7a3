//! botyard's bot runtime. Channels hand it what users send ([`Incoming`]); it processes the
//! things of one chat one after the other, in arrival order, and different chats concurrently, as
//! far as the sandbox's executors allow:
//!
//! 1. route the message to a command (Bots.Business's order: pending reply, command or alias,
//!    master `*`), or to the bot's event handlers;
//! 2. run the code in the sandbox ([`botyard_sandbox`]), whose API calls the [`host`] turns into
//!    effects — messages, edits, property writes, groups, pending replies;
//! 3. commit the effects in one transaction (the [`committer`] groups concurrent runs), or on
//!    failure only the error log entry, then answer with the `!` command or a default message;
//! 4. deliver the messages written to the chat's listeners ([`hub`]), on this node directly and on
//!    others through change notifications.

pub mod batched;
pub mod bp_runtime;
mod builtin_libs;
pub mod channel_api;
mod code_check;
pub mod committer;
pub mod host;
pub mod hub;
pub mod inbox;
pub mod incoming;
pub mod koreai;
pub mod meter;
pub mod node_bots;
mod panels;
mod prefetch;
pub mod program;
pub mod remote;
pub mod run;
mod started_jobs;
pub mod web;
pub mod web_app;
pub mod webhooks;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use botyard_core::Services;
use botyard_domain::conversation::ChatMessage;
use botyard_sandbox::{Sandbox, SandboxConfig};
use botyard_store::{CommittedRun, ConversationStore, Store};

use committer::Committer;
use hub::{ChatEvent, Hub};
pub use inbox::{Accept, Accepted, Arriving};
pub use incoming::{Incoming, IncomingKind, JobHook, RunReport};
use meter::Meter;

/// The runtime; cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    services: Services,
    /// The conversations, inbox and runs this layer owns.
    store: Store,
    sandbox: Sandbox,
    committer: Committer,
    /// Chat events for other nodes, published in batches (PostgreSQL only).
    changes: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    /// Where arrivals go to be stored, several per transaction ([`inbox::start_acceptor`]).
    acceptor: tokio::sync::mpsc::Sender<inbox::Pending>,
    meter: Meter,
    hub: Hub,
    /// This process's id in notifications to other nodes.
    node: String,
    /// What waits to be processed, per chat; a chat is present while it is being worked on.
    queues: Mutex<HashMap<i64, VecDeque<Incoming>>>,
    /// Cancelled when the server stops, so long-lived streams end.
    stopping: tokio_util::sync::CancellationToken,
    /// Notified after every commit (channels wake their senders).
    commits: Arc<tokio::sync::Notify>,
    /// Kore.ai bots' compiled definitions.
    kore_bots: koreai::KoreBots,
    /// Node.js processes of Botpress bots deployed as bundles.
    node_bots: node_bots::NodeBots,
    /// Versions (bot number, `updated_at`) of remote Botpress bots registered from this node.
    registered: Mutex<std::collections::HashSet<(i64, botyard_domain::Timestamp)>>,
    /// Failure injection for tests (`jobs.failpoints`): `run_commit` fails a run's commit once.
    failpoints: botyard_domain::job::FailPoints,
    /// The pending replies of concurrent runs' chats, read together.
    pending_replies: batched::Batched<(i64, i64, i64), Option<PendingReply>>,
    /// The properties concurrent runs' code names, read ahead together ([`prefetch`]).
    property_reads: prefetch::PropertyReads,
    /// The web chat's concurrent requests' users and conversations, read together ([`web`]).
    web_reads: web::WebReads,
}

/// The command waiting for a user's reply in a chat, with its options.
type PendingReply = (i64, Option<serde_json::Value>);

impl Runtime {
    /// Starts the sandbox's executors and the committer, takes this node's lease and queues what
    /// was accepted before a crash (before it returns, so it runs before anything new).
    pub async fn start(services: Services, store: Store) -> botyard_domain::Result<Self> {
        let settings = &services.config.sandbox;
        let executors = settings.executor_count();
        let per_workspace = if settings.max_runs_per_workspace == 0 {
            executors.saturating_sub(1).max(1)
        } else {
            settings.max_runs_per_workspace
        };
        let per_bot = if settings.max_runs_per_bot == 0 { per_workspace } else { settings.max_runs_per_bot };
        let sandbox = Sandbox::new(SandboxConfig {
            executors,
            memory_bytes: settings.memory_mib * 1024 * 1024,
            stack_bytes: settings.stack_kib * 1024,
            per_workspace,
            per_bot,
            ..SandboxConfig::default()
        });
        let node = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let (acceptor, arriving) = tokio::sync::mpsc::channel(1024);
        let changes = (!services.config.uses_sqlite()).then(|| hub::start_publisher(store.clone()));
        let runtime = Self {
            inner: Arc::new(Inner {
                committer: Committer::start(store.clone(), node.clone()),
                pending_replies: {
                    let store = store.clone();
                    batched::Batched::start_reads(store.reads_locally(), move |asks: Vec<(i64, i64, i64)>| {
                        let store = store.clone();
                        async move { store.pending_replies(&asks).await }
                    })
                },
                property_reads: prefetch::start(store.clone()),
                web_reads: web::WebReads::start(store.clone()),
                acceptor,
                changes,
                store,
                sandbox,
                meter: Meter::default(),
                hub: Hub::default(),
                node,
                queues: Mutex::new(HashMap::new()),
                kore_bots: koreai::cache(),
                registered: Mutex::default(),
                node_bots: node_bots::NodeBots::new(
                    services.config.node.clone(),
                    services.config.data_dir.clone(),
                ),
                stopping: tokio_util::sync::CancellationToken::new(),
                commits: Arc::new(tokio::sync::Notify::new()),
                failpoints: botyard_domain::job::FailPoints::new(
                    services.config.jobs.failpoints.iter().cloned(),
                ),
                services,
            }),
        };
        inbox::start_acceptor(Arc::downgrade(&runtime.inner), arriving);
        let weak = Arc::downgrade(&runtime.inner);
        runtime.inner.services.on_change(Arc::new(move |payload: &str| {
            if let Some(inner) = weak.upgrade() {
                Runtime { inner }.notified(payload);
            }
        }));
        runtime.keep_inbox().await?;
        Ok(runtime)
    }

    /// This node's name in the inbox and in notifications.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// Refuses with `RateLimited` when the chat has as many things waiting as it may.
    pub(crate) fn check_room(&self, chat: i64) -> botyard_domain::Result<()> {
        let max = self.inner.services.config.runtime.max_queued_per_chat.max(1);
        let queues = self.inner.queues.lock().unwrap_or_else(|e| e.into_inner());
        if queues.get(&chat).is_some_and(|q| q.len() >= max) {
            return Err(botyard_domain::Error {
                message: format!(
                    "This chat already has {max} messages waiting for the bot; send again shortly"
                ),
                ..botyard_domain::Error::rate_limited(1)
            });
        }
        Ok(())
    }

    /// Ends long-lived streams (the server is stopping).
    pub fn stop(&self) {
        self.inner.stopping.cancel();
        let node_bots = self.inner.node_bots.clone();
        tokio::spawn(async move { node_bots.stop_all().await });
    }

    /// Completes when the server stops.
    pub fn stopping(&self) -> tokio_util::sync::CancellationToken {
        self.inner.stopping.clone()
    }

    pub fn services(&self) -> &Services {
        &self.inner.services
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.inner.sandbox
    }

    pub(crate) fn committer(&self) -> &Committer {
        &self.inner.committer
    }

    pub(crate) fn node_bots(&self) -> &node_bots::NodeBots {
        &self.inner.node_bots
    }

    pub(crate) fn meter(&self) -> &Meter {
        &self.inner.meter
    }

    /// Queues something to process after what its chat already has waiting.
    pub fn submit(&self, incoming: Incoming) {
        let chat = incoming.chat.id;
        {
            let mut queues = self.inner.queues.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(queue) = queues.get_mut(&chat) {
                queue.push_back(incoming);
                return;
            }
            queues.insert(chat, VecDeque::new());
        }
        let runtime = self.clone();
        tokio::spawn(async move { runtime.work_on(chat, incoming).await });
    }

    /// Processes a chat's queue until it is empty.
    async fn work_on(&self, chat: i64, first: Incoming) {
        let mut next = Some(first);
        while let Some(incoming) = next {
            let follow_ups = run::process(self, incoming).await;
            let mut queues = self.inner.queues.lock().unwrap_or_else(|e| e.into_inner());
            let queue = queues.entry(chat).or_default();
            for follow_up in follow_ups.into_iter().rev() {
                queue.push_front(follow_up);
            }
            next = queue.pop_front();
            if next.is_none() {
                queues.remove(&chat);
            }
        }
    }

    /// Runs a command of the bot outside any conversation (an admin panel's `on_saving`): in the
    /// bot's system chat, without a user.
    pub async fn run_without_chat(
        &self,
        bot: i64,
        command: &str,
        options: serde_json::Value,
    ) -> botyard_domain::Result<()> {
        let (chat, created) = self.system_chat(bot).await?;
        self.accept(Accept {
            bot,
            chat,
            user: None,
            chat_created: created,
            user_created: false,
            what: Arriving::Command { text: command.to_owned(), options, globals: Default::default() },
            telegram_update: None,
            bounded: false,
        })
        .await?;
        Ok(())
    }

    /// The bot's system chat, where runs from no conversation happen (created on first use).
    async fn system_chat(
        &self,
        bot: i64,
    ) -> botyard_domain::Result<(botyard_domain::conversation::Chat, bool)> {
        let key = botyard_store::ChatKey {
            bot,
            channel: botyard_domain::conversation::Channel::System,
            external_id: "system",
        };
        self.inner.store.upsert_chat(&key, "system", None, None, botyard_domain::Timestamp::now()).await
    }

    /// Runs a command in a chat of the bot (its system chat when `chat` is `None`), as `user`,
    /// accepted durably like a message.
    pub async fn run_command(
        &self,
        bot: i64,
        chat: Option<i64>,
        user: Option<i64>,
        command: &str,
        options: serde_json::Value,
    ) -> botyard_domain::Result<()> {
        let store = &self.inner.store;
        let (chat, chat_created) = match chat {
            Some(id) => {
                (store.chat(bot, id).await?.ok_or_else(|| botyard_domain::Error::not_found("Chat"))?, false)
            }
            None => self.system_chat(bot).await?,
        };
        let user = match user {
            Some(id) => store.bot_user(bot, id).await?,
            None => None,
        };
        self.accept(Accept {
            bot,
            chat,
            user,
            chat_created,
            user_created: false,
            what: Arriving::Command { text: command.to_owned(), options, globals: Default::default() },
            telegram_update: None,
            bounded: false,
        })
        .await?;
        Ok(())
    }

    /// Runs `kind` for a job in a chat of the bot (its system chat when `chat` is `None`), as
    /// `user` if given, after what the chat already has waiting; the run's report reaches the
    /// hook. A chat that no longer exists is reported as skipped.
    pub async fn run_for_job(
        &self,
        bot: i64,
        chat: Option<i64>,
        user: Option<i64>,
        kind: IncomingKind,
        hook: JobHook,
    ) -> botyard_domain::Result<()> {
        self.run_in(bot, chat, user, kind, Some(hook)).await
    }

    async fn run_in(
        &self,
        bot: i64,
        chat: Option<i64>,
        user: Option<i64>,
        kind: IncomingKind,
        hook: Option<JobHook>,
    ) -> botyard_domain::Result<()> {
        let store = &self.inner.store;
        let (chat, chat_created) = match chat {
            Some(id) => match store.chat(bot, id).await? {
                Some(chat) => (chat, false),
                None => {
                    if let Some(hook) = &hook {
                        hook.tell(RunReport::Skipped(format!("chat {id} no longer exists")));
                    }
                    return Ok(());
                }
            },
            None => self.system_chat(bot).await?,
        };
        let user = match user {
            Some(id) => store.bot_user(bot, id).await?,
            None => None,
        };
        self.submit(Incoming {
            bot,
            chat,
            user,
            chat_created,
            user_created: false,
            kind,
            job: hook,
            ticket: None,
            reply: None,
        });
        Ok(())
    }

    /// Sets the metric of what waits in this node's per-chat queues (called when metrics are read).
    pub fn observe_queue(&self) {
        let waiting: usize =
            self.inner.queues.lock().unwrap_or_else(|e| e.into_inner()).values().map(VecDeque::len).sum();
        self.inner.services.metrics.set_queued(&self.inner.node, waiting);
    }

    /// Whether nothing is waiting or being processed (tests, graceful stop).
    pub fn is_idle(&self) -> bool {
        self.inner.queues.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    /// The command waiting for `user`'s reply in `chat`, read with other runs' (see [`batched`]).
    pub(crate) async fn pending_reply(
        &self,
        bot: i64,
        chat: i64,
        user: i64,
    ) -> botyard_domain::Result<Option<PendingReply>> {
        self.inner.pending_replies.get((bot, chat, user)).await
    }

    /// Notified after every commit of run effects that queued sends in the outbox.
    pub fn commits(&self) -> Arc<tokio::sync::Notify> {
        self.inner.commits.clone()
    }

    /// Sends what a commit wrote to the chats' listeners, here and on other nodes.
    pub(crate) async fn deliver(&self, done: CommittedRun) {
        if done.queued_sends {
            self.inner.commits.notify_waiters();
        }
        let events = done
            .messages
            .into_iter()
            .map(|m| ChatEvent::Created(Arc::new(m)))
            .chain(done.edited.into_iter().map(|m| ChatEvent::Updated(Arc::new(m))));
        for event in events {
            self.publish(event).await;
        }
    }

    /// Sends one chat event to listeners here and on other nodes.
    pub async fn publish(&self, event: ChatEvent) {
        let chat = match &event {
            ChatEvent::Created(m) | ChatEvent::Updated(m) => m.chat_id,
            ChatEvent::Deleted { chat_id, .. } => *chat_id,
        };
        let note = hub::notification(&self.inner.node, &event);
        self.inner.hub.send(chat, event);
        // Other nodes are told by the publisher, several events per statement (each `NOTIFY` is a
        // transaction PostgreSQL commits durably); on SQLite there are no other nodes.
        if let Some(changes) = &self.inner.changes {
            let _ = changes.send(note);
        }
    }

    /// A chat event from another node: load the message and send it to listeners here.
    fn notified(&self, payload: &str) {
        let Some(note) = hub::parse_notification(payload) else { return };
        if note.node == self.inner.node || !self.inner.hub.has_listeners(note.chat) {
            return;
        }
        let runtime = self.clone();
        tokio::spawn(async move {
            let event = match note.kind.as_str() {
                "deleted" => Some(ChatEvent::Deleted { uid: note.target, chat_id: note.chat, user_id: None }),
                kind => {
                    let id = note.target.parse().unwrap_or_default();
                    let found: Option<ChatMessage> = runtime.store().message_by_id(id).await.ok().flatten();
                    found.map(|m| {
                        if kind == "created" {
                            ChatEvent::Created(Arc::new(m))
                        } else {
                            ChatEvent::Updated(Arc::new(m))
                        }
                    })
                }
            };
            if let Some(event) = event {
                runtime.inner.hub.send(note.chat, event);
            }
        });
    }
}

/// A new message id: `msg_` and a time-ordered UUID.
pub fn new_message_uid() -> String {
    format!("msg_{}", uuid::Uuid::now_v7().simple())
}
