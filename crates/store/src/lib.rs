//! botyard's storage. One trait per aggregate ([`AccountStore`], [`WorkspaceStore`],
//! [`BotStore`], …) describes what the rest of botyard may ask of the database; [`Store`]
//! implements them for SQLite and PostgreSQL, picked at run time from the URL scheme.
//!
//! Both backends run the same SQL text through sqlx's `Any` driver wherever the two dialects
//! agree (`$n` parameters, `RETURNING`, `ON CONFLICT`); where they differ (claiming queued work)
//! the code branches on [`Backend`]. Each backend has its own migrations folder. Values are kept
//! to types both sides share: 64-bit integers (timestamps in milliseconds, booleans as 0/1), text
//! and JSON documents as text.
//!
//! On SQLite, writes go through a pool of one connection, so writers queue in botyard instead of
//! failing with `SQLITE_BUSY`; reads use a separate pool and see committed data (WAL mode). The
//! small reads every message makes run on the calling thread instead ([`Store::read_rows`],
//! `local_reads`), without the hand-off to a connection's thread that each sqlx statement costs.

mod accounts;
mod apps;
mod bots;
mod broadcasts;
mod commands;
mod commit;
mod connect;
mod content;
mod conversations;
mod error;
mod error_logs;
mod files;
mod inbox;
mod jobs;
mod local_reads;
mod notifications;
mod properties;
mod rows;
mod states;
mod telegram;
mod telegram_accounts;
mod timers;
mod workspaces;

#[cfg(feature = "testing")]
pub mod testing;

pub use accounts::{AccountStore, NewAccount, SessionRecord, UserRecord};
pub use apps::AppStore;
pub use bots::{BotStore, NewBotRecord};
pub use botyard_domain::bot::listing::{BotListQuery, BotSortField};
pub use broadcasts::{BroadcastStore, ChatFilter};
pub use commands::CommandStore;
pub use commit::{CommittedRun, RunCommitStore, TICKET_LOST};
pub use connect::{Backend, StoreOptions};
pub use content::{BotFieldsUpdate, ContentParts, ContentStore};
pub use conversations::{ChatKey, ConversationStore, ExternalKey, NewChat, NewMessage, NewUser};
pub use error_logs::ErrorLogStore;
pub use files::{FileStore, StoredFile, put_file_in};
pub use inbox::{Accepting, InboxStore};
pub use jobs::{JobEnd, JobStore, LEASE_LOST, finish_in};
pub use notifications::ChangeListener;
pub use properties::{PropertyKey, PropertyStore};
pub use states::{StateKey, StateRecord, StateStore, TagStore};
pub use telegram::{OutboxRow, TelegramStore};
pub use telegram_accounts::TelegramAccountStore;
pub use timers::{AutoRetry, TimerStore};
pub use workspaces::{MembersNow, WorkspaceStore};

use botyard_domain::Result;
use sqlx::AnyPool;

/// A pool's connections at one moment.
#[derive(Debug, Clone, Copy)]
pub struct PoolUse {
    pub in_use: u64,
    pub idle: u64,
    pub max: u64,
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// The URL the store was opened with (listeners open connections of their own).
    url: String,
    read: AnyPool,
    write: AnyPool,
    /// On SQLite, the reads every message makes, run on the calling thread
    /// ([`Store::read_rows`]); `None` on PostgreSQL and for in-memory SQLite.
    local: Option<std::sync::Arc<local_reads::LocalReads>>,
}

impl Store {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether small reads run where they are asked ([`Store::read_rows`] on SQLite), so that
    /// grouping them across requests gains nothing.
    pub fn reads_locally(&self) -> bool {
        self.local.is_some()
    }

    /// Runs a small read: on SQLite on the calling thread ([`local_reads`]), otherwise through
    /// the read pool. Only for indexed reads of a few rows (it may hold the thread meanwhile).
    pub(crate) async fn read_rows(&self, sql: bots::SqlBuilder) -> Result<Vec<rows::ReadRow>> {
        match &self.local {
            Some(local) => {
                let (text, args) = sql.parts();
                Ok(local.query(text, args)?.into_iter().map(rows::ReadRow::Local).collect())
            }
            None => Ok(sql.fetch_all(&self.read).await?.into_iter().map(rows::ReadRow::Pooled).collect()),
        }
    }

    /// Checks that the database answers, for readiness probes.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await.map_err(error::db)?;
        Ok(())
    }

    /// The connections of the read and the write pool (on PostgreSQL both name one pool).
    pub fn pool_use(&self) -> [(&'static str, PoolUse); 2] {
        let usage = |pool: &AnyPool| {
            let size = u64::from(pool.size());
            let idle = pool.num_idle() as u64;
            PoolUse {
                in_use: size.saturating_sub(idle),
                idle,
                max: u64::from(pool.options().get_max_connections()),
            }
        };
        [("read", usage(&self.read)), ("write", usage(&self.write))]
    }

    /// Closes every connection; pending writes complete first.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}
