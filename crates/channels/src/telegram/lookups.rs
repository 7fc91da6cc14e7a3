//! The chats and users of updates handled at the same time: read together on PostgreSQL
//! ([`Batched`]: each bot's chats and users with one query each; on SQLite each update reads its
//! own, locally); those seen for the first time are created together (one statement per kind
//! for whatever concurrent updates bring), an update's chat and user in the same group.

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

/// What an update needs created: its chat, its sender, or both.
type Missing = (Option<NewChat>, Option<NewUser>);
/// Each created or found, `true` when this ask created it.
type Created = (Option<(Chat, bool)>, Option<(BotUser, bool)>);

#[derive(Clone)]
pub(crate) struct Lookups {
    reads: Batched<Query, Found>,
    /// An update's missing chat and user are created in the same group, so the first update of a
    /// new user in a new chat is told both are new (`just_created`), and no other update is.
    new_ones: Batched<Missing, Created>,
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
        let new_ones = Batched::start(move |asks: Vec<Missing>| {
            let store = store.clone();
            async move { create(&store, asks).await }
        });
        Self { reads, new_ones }
    }

    /// The chat and user missing from `found`, found or created (`true`) with other updates' new
    /// chats and users; those `found` holds, as they are.
    pub(crate) async fn chat_and_user(
        &self,
        found: Found,
        chat: NewChat,
        user: Option<NewUser>,
    ) -> Result<((Chat, bool), Option<(BotUser, bool)>)> {
        let user_found = found.user.map(|u| (u, false));
        let missing_user = if user_found.is_none() { user } else { None };
        let (created_chat, created_user) = match (&found.chat, &missing_user) {
            (Some(_), None) => (None, None),
            _ => self.new_ones.get((found.chat.is_none().then_some(chat), missing_user)).await?,
        };
        let chat = match (found.chat, created_chat) {
            (Some(chat), _) => (chat, false),
            (None, Some(created)) => created,
            (None, None) => return Err(botyard_domain::Error::internal("an update's chat was not created")),
        };
        Ok((chat, user_found.or(created_user)))
    }

    /// The stored chat `chat` of the bot, and user `user` (Telegram ids).
    pub(crate) async fn find(&self, bot: i64, chat: String, user: Option<String>) -> Result<Found> {
        self.reads.get((bot, chat, user)).await
    }
}

/// Creates the missing chats, then the missing users, each kind with one statement.
async fn create(store: &Store, asks: Vec<Missing>) -> Result<Vec<Created>> {
    let now = Timestamp::now();
    let chats: Vec<NewChat> = asks.iter().filter_map(|(chat, _)| chat.clone()).collect();
    let users: Vec<NewUser> = asks.iter().filter_map(|(_, user)| user.clone()).collect();
    let mut chats = store.upsert_chats(&chats, now).await?.into_iter();
    let mut users = store.upsert_users(&users, now).await?.into_iter();
    Ok(asks
        .iter()
        .map(|(chat, user)| {
            (chat.as_ref().and_then(|_| chats.next()), user.as_ref().and_then(|_| users.next()))
        })
        .collect())
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
