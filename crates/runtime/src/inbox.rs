//! Accepting what arrives, durably: a channel hands the runtime an [`Accept`]; the arrival (with
//! the user's message, and the Telegram update it came in) is written to the inbox in one
//! transaction, then queued. The run's commit removes it. This node keeps a lease in the `nodes`
//! table; what other nodes accepted and never ran — they crashed — is adopted once their lease
//! lapses (on SQLite, where there is only one node, at start), and run in the order it arrived.

use std::sync::Weak;
use std::time::Duration;

use botyard_domain::arrival::{Arrival, InboxEntry, NewArrival, Ticket};
use botyard_domain::conversation::{self, BotUser, Chat, ChatMessage};
use botyard_domain::{Error, Result, Timestamp};
use botyard_store::{Accepting, ConversationStore, InboxStore, NewMessage};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use crate::Runtime;
use crate::incoming::{Incoming, IncomingKind, ReplyHook};

/// What a channel hands over.
#[derive(Debug, Clone)]
pub struct Accept {
    pub bot: i64,
    pub chat: Chat,
    pub user: Option<BotUser>,
    pub chat_created: bool,
    pub user_created: bool,
    pub what: Arriving,
    /// The Telegram update it came in (recorded once: a repeat is not accepted again).
    pub telegram_update: Option<i64>,
    /// Refuse with `RateLimited` when the chat's queue is full (interactive channels), rather than
    /// queueing past the bound.
    pub bounded: bool,
}

/// What arrives.
#[derive(Debug, Clone)]
pub enum Arriving {
    /// A user's message, to store.
    Message(NewMessage),
    Button {
        data: String,
        message: Option<ChatMessage>,
        callback: Option<Value>,
    },
    Event {
        name: String,
        payload: Value,
    },
    Command {
        text: String,
        options: Value,
        globals: Map<String, Value>,
    },
}

/// How accepting went.
#[derive(Debug, Clone)]
pub enum Accepted {
    /// Stored and queued (with the stored message, for messages).
    Queued(Option<Box<ChatMessage>>),
    /// The Telegram update was accepted before.
    Repeated,
}

/// An arrival waiting for the acceptor, with whoever waits for its answer.
pub(crate) struct Pending {
    accept: Accept,
    reply: Option<ReplyHook>,
    answer: oneshot::Sender<Result<Accepted>>,
}

/// Arrivals written in one transaction at most.
const ACCEPT_BATCH: usize = 64;

/// Starts the acceptor: it writes what arrives several arrivals per transaction (group commit: a
/// batch is whatever arrived while the previous one was written, so nothing waits for a timer),
/// then queues them in the order they arrived, so one chat's arrivals keep their order.
pub(crate) fn start_acceptor(runtime: Weak<crate::Inner>, mut pending: mpsc::Receiver<Pending>) {
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(ACCEPT_BATCH);
        while pending.recv_many(&mut batch, ACCEPT_BATCH).await > 0 {
            let Some(inner) = runtime.upgrade() else { break };
            Runtime { inner }.accept_batch(std::mem::take(&mut batch)).await;
        }
    });
}

/// The inbox row of what arrives (a message's id is filled in when it is stored).
fn new_arrival(accept: &Accept) -> NewArrival {
    let arrival = match &accept.what {
        Arriving::Message(_) => Arrival::Message { message: 0 },
        Arriving::Button { data, message, callback } => Arrival::Button {
            data: data.clone(),
            message: message.as_ref().map(|m| m.id),
            callback: callback.clone(),
        },
        Arriving::Event { name, payload } => Arrival::Event { name: name.clone(), payload: payload.clone() },
        Arriving::Command { text, options, globals } => {
            Arrival::Command { text: text.clone(), options: options.clone(), globals: globals.clone() }
        }
    };
    NewArrival { bot: accept.bot, chat: accept.chat.id, user: accept.user.as_ref().map(|u| u.id), arrival }
}

impl Runtime {
    /// Stores what arrived and queues it behind what its chat has waiting.
    pub async fn accept(&self, accept: Accept) -> Result<Accepted> {
        self.accept_waiting(accept, None).await
    }

    /// [`accept`](Self::accept), with someone waiting for the run's reply.
    pub(crate) async fn accept_waiting(&self, accept: Accept, reply: Option<ReplyHook>) -> Result<Accepted> {
        if accept.bounded {
            self.check_room(accept.chat.id)?;
        }
        let (answer, answered) = oneshot::channel();
        self.inner
            .acceptor
            .send(Pending { accept, reply, answer })
            .await
            .map_err(|_| Error::internal("the runtime stopped accepting"))?;
        answered.await.map_err(|_| Error::internal("an arrival was dropped before it was stored"))?
    }

    /// Stores a batch of arrivals in one transaction and queues them in order; if that fails,
    /// each is stored alone (so one bad arrival does not refuse the others).
    async fn accept_batch(&self, batch: Vec<Pending>) {
        let arrivals: Vec<NewArrival> = batch.iter().map(|p| new_arrival(&p.accept)).collect();
        let items: Vec<Accepting<'_>> = batch
            .iter()
            .zip(&arrivals)
            .map(|(p, arrival)| Accepting {
                arrival,
                message: match &p.accept.what {
                    Arriving::Message(m) => Some(m),
                    _ => None,
                },
                telegram_update: p.accept.telegram_update,
            })
            .collect();
        let stored = self.store().accept_many(self.node(), &items, Timestamp::now()).await;
        drop(items);
        match stored {
            Ok(results) => {
                for (pending, result) in batch.into_iter().zip(results) {
                    let answer = self.queue_accepted(pending.accept, pending.reply, result);
                    let _ = pending.answer.send(answer);
                }
            }
            Err(_) if batch.len() > 1 => {
                for (pending, arrival) in batch.into_iter().zip(&arrivals) {
                    let message = match &pending.accept.what {
                        Arriving::Message(m) => Some(m),
                        _ => None,
                    };
                    let stored = self
                        .store()
                        .accept(
                            self.node(),
                            arrival,
                            message,
                            pending.accept.telegram_update,
                            Timestamp::now(),
                        )
                        .await;
                    let answer = stored.and_then(|r| self.queue_accepted(pending.accept, pending.reply, r));
                    let _ = pending.answer.send(answer);
                }
            }
            Err(e) => {
                for pending in batch {
                    let _ = pending.answer.send(Err(e.clone()));
                }
            }
        }
    }

    /// Queues a stored arrival behind what its chat has waiting.
    fn queue_accepted(
        &self,
        accept: Accept,
        reply: Option<ReplyHook>,
        stored: Option<(InboxEntry, Option<ChatMessage>)>,
    ) -> Result<Accepted> {
        let Some((entry, stored)) = stored else {
            return Ok(Accepted::Repeated);
        };
        let kind = match accept.what {
            Arriving::Message(_) => {
                let message =
                    stored.clone().ok_or_else(|| Error::internal("an accepted message was not stored"))?;
                let text = conversation::payload_text(&message.payload).unwrap_or_default().to_owned();
                IncomingKind::Message { text, message }
            }
            Arriving::Button { data, message, callback } => IncomingKind::Button { data, message, callback },
            Arriving::Event { name, payload } => IncomingKind::Event { name, payload },
            Arriving::Command { text, options, globals } => IncomingKind::Command { text, options, globals },
        };
        self.submit(Incoming {
            bot: accept.bot,
            chat: accept.chat,
            user: accept.user,
            chat_created: accept.chat_created,
            user_created: accept.user_created,
            kind,
            job: None,
            ticket: Some(Ticket { id: entry.id, node: entry.node }),
            reply,
        });
        Ok(Accepted::Queued(stored.map(Box::new)))
    }

    /// What an inbox entry asks for, loaded for a run; `None` when its chat is gone.
    pub(crate) async fn incoming_of(&self, entry: InboxEntry) -> Result<Option<Incoming>> {
        let store = &self.store();
        let Some(chat) = store.chat(entry.bot, entry.chat).await? else { return Ok(None) };
        let user = match entry.user {
            Some(id) => store.bot_user(entry.bot, id).await?,
            None => None,
        };
        let kind = match entry.arrival {
            Arrival::Message { message } => {
                let Some(message) = store.message_by_id(message).await? else { return Ok(None) };
                let text = conversation::payload_text(&message.payload).unwrap_or_default().to_owned();
                IncomingKind::Message { text, message }
            }
            Arrival::Button { data, message, callback } => {
                let message = match message {
                    Some(id) => store.message_by_id(id).await?,
                    None => None,
                };
                IncomingKind::Button { data, message, callback }
            }
            Arrival::Event { name, payload } => IncomingKind::Event { name, payload },
            Arrival::Command { text, options, globals } => IncomingKind::Command { text, options, globals },
        };
        Ok(Some(Incoming {
            bot: entry.bot,
            chat,
            user,
            chat_created: false,
            user_created: false,
            kind,
            job: None,
            ticket: Some(Ticket { id: entry.id, node: entry.node }),
            reply: None,
        }))
    }

    /// Keeps this node's lease and adopts what lapsed nodes left, until the server stops. The
    /// first round is done before this returns.
    pub(crate) async fn keep_inbox(&self) -> Result<()> {
        let lease = Duration::from_secs(self.services().config.runtime.node_lease_secs.max(1));
        self.adopt(true).await?;
        let runtime = self.clone();
        tokio::spawn(async move {
            let stopping = runtime.stopping();
            loop {
                tokio::select! {
                    _ = stopping.cancelled() => break,
                    _ = tokio::time::sleep(lease / 3) => {}
                }
                if let Err(e) = runtime.adopt(false).await {
                    tracing::warn!(error = %e, "could not renew this node's lease or adopt arrivals");
                }
            }
            let _ = runtime.store().remove_node(runtime.node()).await;
        });
        Ok(())
    }

    /// Renews the lease and runs what other nodes left behind.
    async fn adopt(&self, starting: bool) -> Result<()> {
        let store = &self.store();
        let lease = self.services().config.runtime.node_lease_secs.max(1);
        let now = Timestamp::now();
        store.keep_node(self.node(), now, now.plus_secs(i64::try_from(lease).unwrap_or(60))).await?;
        // On SQLite this is the only node: at start, everything in the inbox is left over.
        let all = starting && self.services().config.uses_sqlite();
        let adopted = store.adopt_arrivals(self.node(), now, all).await?;
        if !adopted.is_empty() {
            tracing::info!(count = adopted.len(), "running arrivals accepted before a crash");
        }
        for entry in adopted {
            let id = entry.id;
            match self.incoming_of(entry).await? {
                Some(incoming) => self.submit(incoming),
                None => {
                    tracing::info!(arrival = id, "an adopted arrival's chat or message is gone");
                    store.forget_arrival(id).await?;
                }
            }
        }
        Ok(())
    }
}
