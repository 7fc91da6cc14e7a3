//! Workspaces: creating them, who belongs to them with which role, and inviting people.

use botyard_domain::access::{MemberChange, Permission, check_member_change};
use botyard_domain::account::{self, Invitation, Member, Membership, Role, Workspace};
use botyard_domain::{Error, Result, Timestamp, UserId, WorkspaceId};
use botyard_store::{AccountStore, MembersNow, WorkspaceStore};

use crate::cache_sync::Change;
use crate::{Caller, Services};

/// What inviting an email did.
#[derive(Debug, Clone)]
pub enum Invited {
    /// The email has an account: it is now a member.
    Member(Member),
    /// No account yet: the membership starts when the email signs up.
    Pending(Invitation),
}

impl Services {
    pub async fn memberships(&self, caller: &Caller) -> Result<Vec<Membership>> {
        self.store.memberships(caller.user.id).await
    }

    /// The workspaces of a user who just signed up or in.
    pub async fn memberships_of(&self, user: UserId) -> Result<Vec<Membership>> {
        self.store.memberships(user).await
    }

    pub async fn create_workspace(&self, caller: &Caller, name: &str) -> Result<Workspace> {
        let workspace = Workspace {
            id: WorkspaceId::generate(),
            name: account::check_workspace_name(name)?,
            personal_of: None,
            plan: self.plan("").name,
            created_at: Timestamp::now(),
        };
        self.store.create_workspace(&workspace, caller.user.id).await?;
        Ok(workspace)
    }

    /// The caller's role in the workspace; `Forbidden` when they do not belong to it (whether or
    /// not it exists).
    pub async fn workspace_role(&self, caller: &Caller, workspace: &WorkspaceId) -> Result<Role> {
        let key = (caller.user.id, workspace.clone());
        if let Some(role) = self.roles.get(&key) {
            return Ok(role);
        }
        let epoch = self.roles.epoch();
        let role = self
            .store
            .role_of(caller.user.id, workspace)
            .await?
            .ok_or_else(|| Error::forbidden("You do not have access to this workspace"))?;
        self.roles.insert(epoch, [(key, role)]);
        Ok(role)
    }

    pub async fn workspace(&self, caller: &Caller, id: &WorkspaceId) -> Result<Membership> {
        let role = self.workspace_role(caller, id).await?;
        let workspace = self.store.workspace(id).await?.ok_or_else(|| Error::not_found("Workspace"))?;
        Ok(Membership { workspace, role })
    }

    pub async fn members(
        &self,
        caller: &Caller,
        workspace: &WorkspaceId,
    ) -> Result<(Vec<Member>, Vec<Invitation>)> {
        self.workspace_role(caller, workspace).await?;
        Ok((self.store.members(workspace).await?, self.store.invitations(workspace).await?))
    }

    /// Adds the person with this email to the workspace, or invites them if they have no account.
    /// Owners and admins may invite; only owners may make owners.
    pub async fn invite(
        &self,
        caller: &Caller,
        workspace: &WorkspaceId,
        email: &str,
        role: Role,
    ) -> Result<Invited> {
        let actor = self.workspace_role(caller, workspace).await?;
        let email = account::normalize_email(email)?;
        let now = Timestamp::now();
        match self.store.user_by_email(&email).await? {
            Some(record) => {
                let own = record.user.id == caller.user.id;
                self.store
                    .change_member(workspace, caller.user.id, record.user.id, Some(role), now, |now| {
                        member_change(now, own, Some(role))
                    })
                    .await?;
                self.changed(Change::Workspace(workspace.clone())).await;
                Ok(Invited::Member(Member { user_id: record.user.id, email, role, joined_at: now }))
            }
            None => {
                check_member_change(MemberChange {
                    actor,
                    own: false,
                    from: None,
                    to: Some(role),
                    owners: 1,
                })?;
                let invitation = Invitation {
                    workspace_id: workspace.clone(),
                    email,
                    role,
                    invited_by: caller.user.id,
                    created_at: now,
                };
                self.store.put_invitation(&invitation).await?;
                Ok(Invited::Pending(invitation))
            }
        }
    }

    /// Removes a member (or a pending invitation by email). The last owner cannot be removed.
    pub async fn remove_member(&self, caller: &Caller, workspace: &WorkspaceId, user: UserId) -> Result<()> {
        self.workspace_role(caller, workspace).await?;
        let own = user == caller.user.id;
        self.store
            .change_member(workspace, caller.user.id, user, None, Timestamp::now(), |now| {
                if now.member.is_none() {
                    return Err(Error::not_found("Member"));
                }
                member_change(now, own, None)
            })
            .await?;
        self.changed(Change::Workspace(workspace.clone())).await;
        Ok(())
    }

    pub async fn cancel_invitation(
        &self,
        caller: &Caller,
        workspace: &WorkspaceId,
        email: &str,
    ) -> Result<()> {
        self.workspace_role(caller, workspace).await?.require(Permission::ManageMembers)?;
        let email = account::normalize_email(email)?;
        if self.store.remove_invitation(workspace, &email).await? {
            Ok(())
        } else {
            Err(Error::not_found("Invitation"))
        }
    }
}

/// Judges a change of membership with the roles as they are inside its transaction.
fn member_change(now: MembersNow, own: bool, to: Option<Role>) -> Result<()> {
    let actor = now.actor.ok_or_else(|| Error::forbidden("You do not have access to this workspace"))?;
    check_member_change(MemberChange { actor, own, from: now.member, to, owners: now.owners })
}
