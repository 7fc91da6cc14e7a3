//! The chats and users of updates handled at the same time, read together: a task takes every
//! lookup asked for while it answered the previous ones (group reads: nothing waits for a timer)
//! and reads each bot's chats and users with one query each. What is not found is created by the
//! update's own handler, one by one, as before.

use std::collections::HashMap;

use botyard_domain::conversation::{BotUser, Channel, Chat};
use botyard_domain::{Error, Result};
use botyard_store::{ConversationStore, Store};
use tokio::sync::{mpsc, oneshot};

/// Lookups read in one query at most.
const BATCH: usize = 128;

/// What one update asks for: its chat and (when it has a sender) its user, by Telegram id.
struct Request {
    bot: i64,
    chat: String,
    user: Option<String>,
    answer: oneshot::Sender<Result<Found>>,
}

/// The chat and user as stored, when they are.
#[derive(Default)]
pub(crate) struct Found {
    pub chat: Option<Chat>,
    pub user: Option<BotUser>,
}

#[derive(Clone)]
pub(crate) struct Lookups {
    requests: mpsc::Sender<Request>,
}

impl Lookups {
    pub(crate) fn start(store: Store) -> Self {
        let (requests, mut pending) = mpsc::channel::<Request>(4 * BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while pending.recv_many(&mut batch, BATCH).await > 0 {
                answer(&store, std::mem::take(&mut batch)).await;
            }
        });
        Self { requests }
    }

    /// The stored chat `chat` of the bot, and user `user` (Telegram ids).
    pub(crate) async fn find(&self, bot: i64, chat: String, user: Option<String>) -> Result<Found> {
        let (answer, answered) = oneshot::channel();
        self.requests
            .send(Request { bot, chat, user, answer })
            .await
            .map_err(|_| Error::internal("the Telegram lookups stopped"))?;
        answered.await.map_err(|_| Error::internal("a Telegram lookup was dropped"))?
    }
}

async fn answer(store: &Store, batch: Vec<Request>) {
    let mut by_bot: HashMap<i64, Vec<Request>> = HashMap::new();
    for request in batch {
        by_bot.entry(request.bot).or_default().push(request);
    }
    for (bot, requests) in by_bot {
        let mut chats: Vec<String> = requests.iter().map(|r| r.chat.clone()).collect();
        let mut users: Vec<String> = requests.iter().filter_map(|r| r.user.clone()).collect();
        for ids in [&mut chats, &mut users] {
            ids.sort_unstable();
            ids.dedup();
        }
        let read = async {
            let chats = store.chats_by_external_ids(bot, Channel::Telegram, &chats).await?;
            let users = store.users_by_external_ids(bot, Channel::Telegram, &users).await?;
            Ok::<_, Error>((chats, users))
        };
        match read.await {
            Ok((chats, users)) => {
                for request in requests {
                    let found = Found {
                        chat: chats.iter().find(|c| c.external_id == request.chat).cloned(),
                        user: request
                            .user
                            .as_ref()
                            .and_then(|id| users.iter().find(|u| &u.external_id == id).cloned()),
                    };
                    let _ = request.answer.send(Ok(found));
                }
            }
            Err(e) => {
                for request in requests {
                    let _ = request.answer.send(Err(e.clone()));
                }
            }
        }
    }
}
