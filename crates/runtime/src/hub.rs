//! Fan-out of conversation events to listeners (the Chat API's SSE streams). Events produced on
//! this node are sent to local listeners directly; other nodes sharing the database hear about
//! them through change notifications and load the message themselves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use botyard_domain::conversation::ChatMessage;
use tokio::sync::broadcast;

/// Something that happened in a chat.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    Created(Arc<ChatMessage>),
    Updated(Arc<ChatMessage>),
    Deleted { uid: String, chat_id: i64, user_id: Option<i64> },
}

impl ChatEvent {
    fn kind(&self) -> &'static str {
        match self {
            Self::Created(_) => "created",
            Self::Updated(_) => "updated",
            Self::Deleted { .. } => "deleted",
        }
    }
}

const CAPACITY: usize = 256;

#[derive(Default)]
pub struct Hub {
    chats: Mutex<HashMap<i64, broadcast::Sender<ChatEvent>>>,
}

impl Hub {
    /// Listens to a chat's events from now on.
    pub fn subscribe(&self, chat: i64) -> broadcast::Receiver<ChatEvent> {
        let mut chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        chats.retain(|_, sender| sender.receiver_count() > 0);
        chats.entry(chat).or_insert_with(|| broadcast::channel(CAPACITY).0).subscribe()
    }

    /// Sends an event to this node's listeners of the chat.
    pub fn send(&self, chat: i64, event: ChatEvent) {
        let chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = chats.get(&chat) {
            let _ = sender.send(event);
        }
    }

    /// Whether anyone on this node listens to the chat.
    pub fn has_listeners(&self, chat: i64) -> bool {
        let chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        chats.get(&chat).is_some_and(|s| s.receiver_count() > 0)
    }
}

/// The notification other nodes receive for an event: `chat:<node>:<kind>:<chat>:<message id or uid>`.
/// Publishes chat events to other nodes in the order given, each batch (whatever arrived while
/// the previous one was sent) in one statement.
pub(crate) fn start_publisher(store: botyard_store::Store) -> tokio::sync::mpsc::UnboundedSender<String> {
    let (changes, mut pending) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(256);
        while pending.recv_many(&mut batch, 256).await > 0 {
            if let Err(e) = store.publish_changes(&batch).await {
                tracing::warn!(error = %e, "could not tell other nodes about chat events");
            }
            batch.clear();
        }
    });
    changes
}

pub fn notification(node: &str, event: &ChatEvent) -> String {
    match event {
        ChatEvent::Created(m) | ChatEvent::Updated(m) => {
            format!("chat:{node}:{}:{}:{}", event.kind(), m.chat_id, m.id)
        }
        ChatEvent::Deleted { uid, chat_id, .. } => format!("chat:{node}:deleted:{chat_id}:{uid}"),
    }
}

/// A notification from another node, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Notified {
    pub node: String,
    pub kind: String,
    pub chat: i64,
    pub target: String,
}

pub fn parse_notification(payload: &str) -> Option<Notified> {
    let mut parts = payload.splitn(5, ':');
    if parts.next()? != "chat" {
        return None;
    }
    let node = parts.next()?.to_owned();
    let kind = parts.next()?.to_owned();
    let chat = parts.next()?.parse().ok()?;
    let target = parts.next()?.to_owned();
    Some(Notified { node, kind, chat, target })
}
