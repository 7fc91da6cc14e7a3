//! Workspaces, their members and pending invitations.

use botyard_domain::account::{Invitation, Member, Membership, Role, Workspace};
use botyard_domain::{Result, Timestamp, UserId, WorkspaceId};

use crate::Store;
use crate::error::db;
use crate::rows::{self, get, workspace_columns};

/// A workspace's members as a change of membership sees them, inside its transaction.
#[derive(Debug, Clone, Copy)]
pub struct MembersNow {
    /// The role of whoever makes the change (`None`: not a member).
    pub actor: Option<Role>,
    /// The role of the member changed (`None`: not a member yet).
    pub member: Option<Role>,
    pub owners: usize,
}

#[allow(async_fn_in_trait)] // used through the concrete `Store`, whose futures are `Send`
pub trait WorkspaceStore {
    /// Creates a workspace with `owner` as its owner.
    async fn create_workspace(&self, workspace: &Workspace, owner: UserId) -> Result<()>;
    async fn workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>>;
    /// The workspaces the user belongs to, oldest first.
    async fn memberships(&self, user: UserId) -> Result<Vec<Membership>>;
    async fn role_of(&self, user: UserId, workspace: &WorkspaceId) -> Result<Option<Role>>;
    async fn members(&self, workspace: &WorkspaceId) -> Result<Vec<Member>>;
    async fn invitations(&self, workspace: &WorkspaceId) -> Result<Vec<Invitation>>;
    /// Adds, re-roles (`to: Some`) or removes (`to: None`) a member in one transaction that holds
    /// the workspace's members still: `decide` is given the roles of `actor` and of the member
    /// now, and the number of owners, and the change happens only if it agrees. Returns whether
    /// anything changed.
    async fn change_member(
        &self,
        workspace: &WorkspaceId,
        actor: UserId,
        user: UserId,
        to: Option<Role>,
        now: Timestamp,
        decide: impl FnOnce(MembersNow) -> Result<()> + Send,
    ) -> Result<bool>;
    /// Invites an email that has no account yet, or changes the invited role.
    async fn put_invitation(&self, invitation: &Invitation) -> Result<()>;
    async fn remove_invitation(&self, workspace: &WorkspaceId, email: &str) -> Result<bool>;
    /// Whether any workspace has invited this email.
    async fn has_invitation(&self, email: &str) -> Result<bool>;
    /// Iterations the workspace used in the month (`YYYY-MM`).
    async fn usage(&self, workspace: &WorkspaceId, month: &str) -> Result<i64>;
}

impl WorkspaceStore for Store {
    async fn create_workspace(&self, workspace: &Workspace, owner: UserId) -> Result<()> {
        let mut tx = self.write.begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO workspaces (id, name, personal_of, plan, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(workspace.id.as_str())
        .bind(&workspace.name)
        .bind(workspace.personal_of.map(|u| u.0))
        .bind(&workspace.plan)
        .bind(workspace.created_at.millis())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(workspace.id.as_str())
        .bind(owner.0)
        .bind(Role::Owner.as_str())
        .bind(workspace.created_at.millis())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>> {
        let sql = concat!("SELECT ", workspace_columns!(), " FROM workspaces w WHERE w.id = $1");
        let row = sqlx::query(sql).bind(id.as_str()).fetch_optional(&self.read).await.map_err(db)?;
        row.map(|r| rows::workspace(&r)).transpose()
    }

    async fn memberships(&self, user: UserId) -> Result<Vec<Membership>> {
        let sql = concat!(
            "SELECT ",
            workspace_columns!(),
            ", m.role FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id \
             WHERE m.user_id = $1 ORDER BY w.created_at, w.id"
        );
        let found = sqlx::query(sql).bind(user.0).fetch_all(&self.read).await.map_err(db)?;
        found
            .iter()
            .map(|r| Ok(Membership { workspace: rows::workspace(r)?, role: rows::role(r, "role")? }))
            .collect()
    }

    async fn role_of(&self, user: UserId, workspace: &WorkspaceId) -> Result<Option<Role>> {
        let row = sqlx::query("SELECT role FROM workspace_members WHERE user_id = $1 AND workspace_id = $2")
            .bind(user.0)
            .bind(workspace.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(db)?;
        row.map(|r| rows::role(&r, "role")).transpose()
    }

    async fn members(&self, workspace: &WorkspaceId) -> Result<Vec<Member>> {
        let found = sqlx::query(
            "SELECT m.user_id, u.email, m.role, m.created_at FROM workspace_members m \
             JOIN users u ON u.id = m.user_id WHERE m.workspace_id = $1 ORDER BY m.created_at, m.user_id",
        )
        .bind(workspace.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|r| {
                Ok(Member {
                    user_id: UserId(get(r, "user_id")?),
                    email: get(r, "email")?,
                    role: rows::role(r, "role")?,
                    joined_at: Timestamp(get(r, "created_at")?),
                })
            })
            .collect()
    }

    async fn invitations(&self, workspace: &WorkspaceId) -> Result<Vec<Invitation>> {
        let found = sqlx::query(
            "SELECT workspace_id, email, role, invited_by, created_at FROM workspace_invitations \
             WHERE workspace_id = $1 ORDER BY created_at, email",
        )
        .bind(workspace.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|r| {
                Ok(Invitation {
                    workspace_id: WorkspaceId::from_stored(get(r, "workspace_id")?),
                    email: get(r, "email")?,
                    role: rows::role(r, "role")?,
                    invited_by: UserId(get(r, "invited_by")?),
                    created_at: Timestamp(get(r, "created_at")?),
                })
            })
            .collect()
    }

    async fn change_member(
        &self,
        workspace: &WorkspaceId,
        actor: UserId,
        user: UserId,
        to: Option<Role>,
        now: Timestamp,
        decide: impl FnOnce(MembersNow) -> Result<()> + Send,
    ) -> Result<bool> {
        let mut tx = self.write.begin().await.map_err(db)?;
        if self.backend == crate::Backend::Postgres {
            // Member changes of one workspace queue here (SQLite's single writer does it anyway).
            sqlx::query("SELECT id FROM workspaces WHERE id = $1 FOR UPDATE")
                .bind(workspace.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let mut role_of = async |who: UserId| -> Result<Option<Role>> {
            sqlx::query("SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace.as_str())
                .bind(who.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .map(|r| rows::role(&r, "role"))
                .transpose()
        };
        let actor = role_of(actor).await?;
        let member = role_of(user).await?;
        let owners = sqlx::query(
            "SELECT COUNT(*) AS n FROM workspace_members WHERE workspace_id = $1 AND role = 'owner'",
        )
        .bind(workspace.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        decide(MembersNow {
            actor,
            member,
            owners: usize::try_from(get::<i64>(&owners, "n")?).unwrap_or(0),
        })?;
        let done = match to {
            Some(role) => sqlx::query(
                "INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(workspace.as_str())
            .bind(user.0)
            .bind(role.as_str())
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?,
            None => sqlx::query("DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace.as_str())
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(db)?,
        };
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_invitation(&self, inv: &Invitation) -> Result<()> {
        sqlx::query(
            "INSERT INTO workspace_invitations (workspace_id, email, role, invited_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (workspace_id, email) DO UPDATE SET role = excluded.role",
        )
        .bind(inv.workspace_id.as_str())
        .bind(&inv.email)
        .bind(inv.role.as_str())
        .bind(inv.invited_by.0)
        .bind(inv.created_at.millis())
        .execute(&self.write)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn remove_invitation(&self, workspace: &WorkspaceId, email: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM workspace_invitations WHERE workspace_id = $1 AND email = $2")
            .bind(workspace.as_str())
            .bind(email)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn has_invitation(&self, email: &str) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM workspace_invitations WHERE email = $1")
            .bind(email)
            .fetch_one(&self.read)
            .await
            .map_err(db)?;
        Ok(get::<i64>(&row, "n")? > 0)
    }

    async fn usage(&self, workspace: &WorkspaceId, month: &str) -> Result<i64> {
        let row =
            sqlx::query("SELECT iterations FROM iteration_usage WHERE workspace_id = $1 AND month = $2")
                .bind(workspace.as_str())
                .bind(month)
                .fetch_optional(&self.read)
                .await
                .map_err(db)?;
        row.map(|r| get(&r, "iterations")).transpose().map(|n| n.unwrap_or(0))
    }
}
