//! Turning rows into domain entities.

use botyard_domain::account::{Role, User, Workspace};
use botyard_domain::bot::{Bot, DeployStatus, Origin, RunState};
use botyard_domain::{BotId, Error, Result, Timestamp, UserId, WorkspaceId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::json;
use crate::local_reads::LocalRow;

/// Reads a column, turning a decoding failure into an internal error.
pub(crate) fn get<T: Column>(row: &impl StoredRow, column: &str) -> Result<T> {
    StoredRow::column(row, column)
}

/// A row as read through sqlx ([`AnyRow`]) or by [`LocalReads`](crate::local_reads) (SQLite
/// reads on the calling thread): the code turning rows into entities reads both alike.
pub(crate) trait StoredRow {
    fn column<T: Column>(&self, name: &str) -> Result<T>;
}

/// A column type both kinds of row decode.
pub(crate) trait Column:
    for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + rusqlite::types::FromSql
{
}

impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + rusqlite::types::FromSql
{
}

impl StoredRow for AnyRow {
    fn column<T: Column>(&self, name: &str) -> Result<T> {
        self.try_get(name).map_err(|e| Error::internal(format!("reading column {name}: {e}")))
    }
}

impl StoredRow for LocalRow {
    fn column<T: Column>(&self, name: &str) -> Result<T> {
        self.value_of(name)
    }
}

/// A row of a read that may have run either way ([`crate::Store::read_rows`]).
pub(crate) enum ReadRow {
    Pooled(AnyRow),
    Local(LocalRow),
}

impl StoredRow for ReadRow {
    fn column<T: Column>(&self, name: &str) -> Result<T> {
        match self {
            Self::Pooled(row) => StoredRow::column(row, name),
            Self::Local(row) => row.value_of(name),
        }
    }
}

/// The columns of `users u` that [`user`] reads, as a literal for `concat!`.
macro_rules! user_columns {
    () => {
        "u.id, u.email, u.password_hash, u.api_key_hint, u.created_at, u.updated_at"
    };
}
pub(crate) use user_columns;

pub(crate) fn user(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: UserId(get(row, "id")?),
        email: get(row, "email")?,
        api_key_hint: get(row, "api_key_hint")?,
        created_at: Timestamp(get(row, "created_at")?),
        updated_at: Timestamp(get(row, "updated_at")?),
    })
}

/// The columns of `workspaces w` that [`workspace`] reads, as a literal for `concat!`.
macro_rules! workspace_columns {
    () => {
        "w.id, w.name, w.personal_of, w.plan, w.created_at"
    };
}
pub(crate) use workspace_columns;

pub(crate) fn workspace(row: &AnyRow) -> Result<Workspace> {
    Ok(Workspace {
        id: WorkspaceId::from_stored(get(row, "id")?),
        name: get(row, "name")?,
        personal_of: get::<Option<i64>>(row, "personal_of")?.map(UserId),
        plan: get(row, "plan")?,
        created_at: Timestamp(get(row, "created_at")?),
    })
}

pub(crate) fn role(row: &AnyRow, column: &str) -> Result<Role> {
    get::<String>(row, column)?.parse()
}

/// The columns of `bots b` that [`bot`] reads, as a literal for `concat!`.
macro_rules! bot_columns {
    () => {
        "b.id, b.uid, b.workspace_id, b.name, b.dev, b.status, b.run_state, b.origin, b.created_at, \
         b.updated_at, b.deployed_at, b.created_by, b.signing_secret, b.web_channel_id, \
         b.telegram_token, b.telegram_username, b.csv_url, b.git_remote, b.definition"
    };
}
pub(crate) use bot_columns;

pub(crate) fn bot(row: &AnyRow) -> Result<Bot> {
    let definition: String = get(row, "definition")?;
    Ok(Bot {
        id: BotId::from_stored(get(row, "uid")?),
        number: get(row, "id")?,
        workspace_id: WorkspaceId::from_stored(get(row, "workspace_id")?),
        name: get(row, "name")?,
        dev: get::<i64>(row, "dev")? != 0,
        status: DeployStatus::parse(&get::<String>(row, "status")?),
        run_state: RunState::parse(&get::<String>(row, "run_state")?),
        origin: Origin::parse(&get::<String>(row, "origin")?),
        created_at: Timestamp(get(row, "created_at")?),
        updated_at: Timestamp(get(row, "updated_at")?),
        deployed_at: get::<Option<i64>>(row, "deployed_at")?.map(Timestamp),
        created_by: get::<Option<i64>>(row, "created_by")?.map(UserId),
        signing_secret: get(row, "signing_secret")?,
        web_channel_id: get(row, "web_channel_id")?,
        telegram_token: get(row, "telegram_token")?,
        telegram_username: get(row, "telegram_username")?,
        csv_url: get(row, "csv_url")?,
        git_remote: get(row, "git_remote")?,
        definition: json(&definition, "bot definition")?,
    })
}
