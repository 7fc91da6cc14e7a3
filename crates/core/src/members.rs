//! Workspace members as one resource each (Botpress's `/v1/admin/workspace-members`): the
//! caller's own membership, adding someone who is not yet a member, changing a member's or an
//! invitation's role. The rules are those of `workspaces.rs` and `access.rs`.

use botyard_domain::access::{MemberChange, Permission, check_member_change};
use botyard_domain::account::{self, Member, Role};
use botyard_domain::{Error, Result, Timestamp, UserId};
use botyard_store::WorkspaceStore;

use crate::cache_sync::Change;
use crate::workspaces::Invited;
use crate::{Services, WorkspaceAccess};

impl Services {
    /// The caller's own membership of the workspace.
    pub async fn own_membership(&self, access: &WorkspaceAccess) -> Result<Member> {
        let members = self.store.members(&access.workspace).await?;
        members
            .into_iter()
            .find(|m| m.user_id == access.caller.user.id)
            .ok_or_else(|| Error::forbidden("You do not have access to this workspace"))
    }

    /// Adds the person with this email, or invites them when they have no account; refuses an
    /// email that is already a member or invited (`AlreadyExists`: change their role instead).
    pub async fn add_member(&self, access: &WorkspaceAccess, email: &str, role: Role) -> Result<Invited> {
        access.role.require(Permission::ManageMembers)?;
        let email = account::normalize_email(email)?;
        let (members, invitations) = self.members(&access.caller, &access.workspace).await?;
        if members.iter().any(|m| m.email == email) || invitations.iter().any(|i| i.email == email) {
            return Err(Error::already_exists(format!(
                "{email} is already a member of this workspace or invited"
            )));
        }
        self.invite(&access.caller, &access.workspace, &email, role).await
    }

    /// Changes the role of a member (by user id) or of a pending invitation (by email).
    pub async fn set_member_role(
        &self,
        access: &WorkspaceAccess,
        member: &str,
        role: Role,
    ) -> Result<Invited> {
        let workspace = &access.workspace;
        let Ok(user) = member.parse::<i64>().map(UserId) else {
            return self.set_invitation_role(access, member, role).await;
        };
        let own = user == access.caller.user.id;
        self.store
            .change_member(workspace, access.caller.user.id, user, Some(role), Timestamp::now(), |now| {
                let actor =
                    now.actor.ok_or_else(|| Error::forbidden("You do not have access to this workspace"))?;
                actor.require(Permission::ManageMembers)?;
                if now.member.is_none() {
                    return Err(Error::not_found("Member"));
                }
                check_member_change(MemberChange {
                    actor,
                    own,
                    from: now.member,
                    to: Some(role),
                    owners: now.owners,
                })
            })
            .await?;
        self.changed(Change::Workspace(workspace.clone())).await;
        let members = self.store.members(workspace).await?;
        let member =
            members.into_iter().find(|m| m.user_id == user).ok_or_else(|| Error::not_found("Member"))?;
        Ok(Invited::Member(member))
    }

    async fn set_invitation_role(
        &self,
        access: &WorkspaceAccess,
        email: &str,
        role: Role,
    ) -> Result<Invited> {
        let actor = self.workspace_role(&access.caller, &access.workspace).await?;
        actor.require(Permission::ManageMembers)?;
        let email = account::normalize_email(email).map_err(|_| Error::not_found("Member"))?;
        let mut invitation = self
            .store
            .invitations(&access.workspace)
            .await?
            .into_iter()
            .find(|i| i.email == email)
            .ok_or_else(|| Error::not_found("Member"))?;
        if invitation.role == Role::Owner {
            actor.require(Permission::ManageOwners)?;
        }
        check_member_change(MemberChange { actor, own: false, from: None, to: Some(role), owners: 1 })?;
        invitation.role = role;
        self.store.put_invitation(&invitation).await?;
        Ok(Invited::Pending(invitation))
    }
}
