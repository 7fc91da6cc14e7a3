//! Who may do what in a workspace: one table of permissions by role, and the rule for changing
//! members. Every dialect's routes and the Kore.ai apps go through these checks (in `core`).
//!
//! | permission | viewer | developer | admin | owner |
//! |---|:-:|:-:|:-:|:-:|
//! | `Read`: see the workspace, its bots, commands, chats, properties, logs, jobs | ✓ | ✓ | ✓ | ✓ |
//! | `ChangeBots`: create, change, start, stop and delete bots and their content, import | | ✓ | ✓ | ✓ |
//! | `ExportBots`: take bots out — exports (archive, git, Kore.ai), copies, downloads | | ✓ | ✓ | ✓ |
//! | `ManageApps`: create and delete the workspace's API apps | | | ✓ | ✓ |
//! | `ManageMembers`: invite, re-role and remove admins, developers and viewers | | | ✓ | ✓ |
//! | `ManageOwners`: make, demote and remove owners; rename the workspace | | | | ✓ |
//!
//! Anyone may leave a workspace, except its last owner; a workspace always keeps one owner.

use crate::account::Role;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    ChangeBots,
    ExportBots,
    ManageApps,
    ManageMembers,
    ManageOwners,
}

impl Role {
    /// Whether the role has the permission.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Owner => true,
            Role::Admin => permission != ManageOwners,
            Role::Developer => matches!(permission, Read | ChangeBots | ExportBots),
            Role::Viewer => permission == Read,
        }
    }

    /// Fails with `Forbidden`, naming the role, unless it has the permission.
    pub fn require(self, permission: Permission) -> Result<()> {
        if self.allows(permission) {
            return Ok(());
        }
        let what = match permission {
            Permission::Read => "see this workspace",
            Permission::ChangeBots => "change bots",
            Permission::ExportBots => "export or copy bots",
            Permission::ManageApps => "manage API apps",
            Permission::ManageMembers => "manage members",
            Permission::ManageOwners => "manage owners",
        };
        Err(Error::forbidden(format!(
            "Your role in this workspace ({}) does not allow you to {what}",
            self.as_str()
        )))
    }
}

/// A change of one membership, as [`check_member_change`] judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberChange {
    /// The role of whoever makes the change.
    pub actor: Role,
    /// Whether the member changed is the actor.
    pub own: bool,
    /// The member's role now (`None`: not yet a member).
    pub from: Option<Role>,
    /// The role after the change (`None`: removed).
    pub to: Option<Role>,
    /// How many owners the workspace has now.
    pub owners: usize,
}

/// Checks a change of membership against the rules above.
pub fn check_member_change(change: MemberChange) -> Result<()> {
    let MemberChange { actor, own, from, to, owners } = change;
    let leaving = own && to.is_none();
    if !leaving {
        actor.require(Permission::ManageMembers)?;
        if from == Some(Role::Owner) || to == Some(Role::Owner) {
            actor.require(Permission::ManageOwners)?;
        }
    }
    if from == Some(Role::Owner) && to != Some(Role::Owner) && owners <= 1 {
        return Err(Error::conflict("A workspace must keep at least one owner"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    fn change(actor: Role, own: bool, from: Option<Role>, to: Option<Role>, owners: usize) -> Result<()> {
        check_member_change(MemberChange { actor, own, from, to, owners })
    }

    #[test]
    fn permissions_by_role() {
        assert!(Viewer.allows(Permission::Read));
        assert!(!Viewer.allows(Permission::ExportBots));
        assert!(Developer.allows(Permission::ExportBots));
        assert!(!Developer.allows(Permission::ManageApps));
        assert!(Admin.allows(Permission::ManageMembers));
        assert!(!Admin.allows(Permission::ManageOwners));
        assert!(Owner.allows(Permission::ManageOwners));
        assert!(Viewer.require(Permission::ChangeBots).unwrap_err().message.contains("viewer"));
    }

    #[test]
    fn member_changes() {
        // Admins manage non-owners only.
        assert!(change(Admin, false, Some(Developer), Some(Viewer), 1).is_ok());
        assert!(change(Admin, false, None, Some(Admin), 1).is_ok());
        assert!(change(Admin, false, Some(Owner), Some(Viewer), 2).is_err());
        assert!(change(Admin, false, Some(Owner), None, 2).is_err());
        assert!(change(Admin, false, Some(Viewer), Some(Owner), 1).is_err());
        // Developers and viewers manage nobody, but may leave.
        assert!(change(Developer, false, Some(Viewer), None, 1).is_err());
        assert!(change(Viewer, true, Some(Viewer), None, 1).is_ok());
        assert!(change(Viewer, true, Some(Viewer), Some(Admin), 1).is_err());
        // Owners manage owners, but the last one stays.
        assert!(change(Owner, false, Some(Owner), Some(Admin), 2).is_ok());
        assert!(change(Owner, true, Some(Owner), Some(Admin), 1).is_err());
        assert!(change(Owner, true, Some(Owner), None, 1).is_err());
        assert!(change(Owner, true, Some(Owner), None, 2).is_ok());
    }
}
