//! The chats and users of updates handled at the same time, read together ([`Batched`]): each
//! bot's chats and users with one query each; those seen for the first time are created together
//! too (one statement per kind for whatever concurrent updates bring).

use botyard_domain::conversation::{BotUser, Channel, Chat};
use botyard_domain::{Result, Timestamp};
use botyard_runtime::batched::Batched;
use botyard_store::{ConversationStore, NewChat, NewUser, Store};

/// What one update asks for: its bot, its chat and (when it has a sender) its user, by Telegram id.
type Query = (i64, String, Option<String>);

/// The chat and user as stored, when they are.
pub(crate) struct Found {
    pub chat: Option<Chat>,
    pub user: Option<BotUser>,
}

#[derive(Clone)]
pub(crate) struct Lookups {
    reads: Batched<Query, Found>,
    new_chats: Batched<NewChat, (Chat, bool)>,
    new_users: Batched<NewUser, (BotUser, bool)>,
}

impl Lookups {
    pub(crate) fn start(store: Store) -> Self {
        let reads = {
            let store = store.clone();
            Batched::start_reads(store.reads_locally(), move |queries| {
                let store = store.clone();
                async move { read(&store, queries).await }
            })
        };
        let new_chats = {
            let store = store.clone();
            Batched::start(move |asks: Vec<NewChat>| {
                let store = store.clone();
                async move { store.upsert_chats(&asks, Timestamp::now()).await }
            })
        };
        let new_users = Batched::start(move |asks: Vec<NewUser>| {
            let store = store.clone();
            async move { store.upsert_users(&asks, Timestamp::now()).await }
        });
        Self { reads, new_chats, new_users }
    }

    /// The chat, found or created (`true`) with other updates' new chats.
    pub(crate) async fn chat(&self, ask: NewChat) -> Result<(Chat, bool)> {
        self.new_chats.get(ask).await
    }

    /// The user, found or created (`true`) with other updates' new users.
    pub(crate) async fn user(&self, ask: NewUser) -> Result<(BotUser, bool)> {
        self.new_users.get(ask).await
    }

    /// The stored chat `chat` of the bot, and user `user` (Telegram ids).
    pub(crate) async fn find(&self, bot: i64, chat: String, user: Option<String>) -> Result<Found> {
        self.reads.get((bot, chat, user)).await
    }
}

async fn read(store: &Store, queries: Vec<Query>) -> Result<Vec<Found>> {
    let key = |bot: i64, id: &str| (bot, Channel::Telegram, id.to_owned());
    let chat_keys: Vec<_> = queries.iter().map(|(bot, chat, _)| key(*bot, chat)).collect();
    let user_keys: Vec<_> =
        queries.iter().filter_map(|(bot, _, user)| user.as_deref().map(|id| key(*bot, id))).collect();
    let chats = store.chats_by_external_keys(&chat_keys).await?;
    let users = store.users_by_external_keys(&user_keys).await?;
    Ok(queries
        .into_iter()
        .map(|(bot, chat, user)| Found {
            chat: chats.get(&key(bot, &chat)).cloned(),
            user: user.and_then(|id| users.get(&key(bot, &id)).cloned()),
        })
        .collect())
}
