//! Accepting what arrives, durably: a channel hands the runtime an [`Accept`]; the arrival (with
//! the user's message, and the Telegram update it came in) is written to the inbox in one
//! transaction, then queued. The run's commit removes it. This node keeps a lease in the `nodes`
//! table; what other nodes accepted and never ran — they crashed — is adopted once their lease
//! lapses (on SQLite, where there is only one node, at start), and run in the order it arrived.

use std::time::Duration;

use botyard_domain::arrival::{Arrival, InboxEntry, NewArrival, Ticket};
use botyard_domain::conversation::{self, BotUser, Chat, ChatMessage};
use botyard_domain::{Error, Result, Timestamp};
use botyard_store::{ConversationStore, InboxStore, NewMessage};
use serde_json::{Map, Value};

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
        let (arrival, message) = match &accept.what {
            Arriving::Message(m) => (Arrival::Message { message: 0 }, Some(m)),
            Arriving::Button { data, message, callback } => (
                Arrival::Button {
                    data: data.clone(),
                    message: message.as_ref().map(|m| m.id),
                    callback: callback.clone(),
                },
                None,
            ),
            Arriving::Event { name, payload } => {
                (Arrival::Event { name: name.clone(), payload: payload.clone() }, None)
            }
            Arriving::Command { text, options, globals } => (
                Arrival::Command { text: text.clone(), options: options.clone(), globals: globals.clone() },
                None,
            ),
        };
        let new = NewArrival {
            bot: accept.bot,
            chat: accept.chat.id,
            user: accept.user.as_ref().map(|u| u.id),
            arrival,
        };
        let store = &self.store();
        let Some((entry, stored)) =
            store.accept(self.node(), &new, message, accept.telegram_update, Timestamp::now()).await?
        else {
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
