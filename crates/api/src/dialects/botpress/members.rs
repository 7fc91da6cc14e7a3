//! `/v1/admin/workspace-members`: the members of the workspace of `x-workspace-id`, each a
//! resource (`listWorkspaceMembers`, `getWorkspaceMember` for the caller, `createWorkspaceMember`,
//! `updateWorkspaceMember`, `deleteWorkspaceMember`). A member's id is their user id; a pending
//! invitation (an email without an account yet) has the email as its id and no `userId`.

use axum::Json;
use axum::extract::{Path, State};
use botyard_core::workspaces::Invited;
use botyard_domain::account::{Invitation, Member, Role};
use botyard_domain::{Error, ErrorCode, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BpWorkspace;
use super::views::{Empty, ListMeta};
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::{JsonBody, QueryPairs};

const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspace_members, create_workspace_member))
        .routes(routes!(get_workspace_member))
        .routes(routes!(update_workspace_member, delete_workspace_member))
}

/// A workspace member as Botpress shows one.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct WorkspaceMember {
    /// The user id, or the email of a pending invitation.
    id: String,
    /// Absent for a pending invitation.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    email: String,
    created_at: String,
    /// `owner`, `administrator`, `developer` or `viewer`.
    role: &'static str,
}

impl From<Member> for WorkspaceMember {
    fn from(m: Member) -> Self {
        Self {
            id: m.user_id.to_string(),
            user_id: Some(m.user_id.to_string()),
            email: m.email,
            created_at: m.joined_at.to_rfc3339(),
            role: role_name(m.role),
        }
    }
}

impl From<Invitation> for WorkspaceMember {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.email.clone(),
            user_id: None,
            email: i.email,
            created_at: i.created_at.to_rfc3339(),
            role: role_name(i.role),
        }
    }
}

impl From<Invited> for WorkspaceMember {
    fn from(invited: Invited) -> Self {
        match invited {
            Invited::Member(m) => m.into(),
            Invited::Pending(i) => i.into(),
        }
    }
}

/// Botpress's name of a role.
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Admin => "administrator",
        Role::Developer => "developer",
        Role::Viewer => "viewer",
    }
}

/// The role a Botpress role name means; Botpress's `manager` and `billing` have no match.
fn parse_role(name: &str) -> botyard_domain::Result<Role> {
    match name {
        "owner" => Ok(Role::Owner),
        "administrator" => Ok(Role::Admin),
        "developer" => Ok(Role::Developer),
        "viewer" => Ok(Role::Viewer),
        other => Err(Error::invalid(format!(
            "botyard has no \"{other}\" role: a member is an owner, administrator, developer or viewer"
        ))),
    }
}

#[derive(Serialize, ToSchema)]
struct WorkspaceMemberList {
    members: Vec<WorkspaceMember>,
    meta: ListMeta,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateWorkspaceMemberBody {
    email: String,
    /// `owner`, `administrator`, `developer` or `viewer`.
    role: String,
    /// botyard sends no email: the invitation waits for the address to sign up.
    #[allow(dead_code)]
    send_email: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateWorkspaceMemberBody {
    /// `owner`, `administrator`, `developer` or `viewer`; absent: unchanged.
    role: Option<String>,
}

fn page_param(query: &QueryPairs, key: &str, default: usize) -> botyard_domain::Result<usize> {
    match query.get(key).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|_| {
            Error::new(ErrorCode::InvalidQuery, format!("{key} must be a whole number, not \"{raw}\""))
        }),
    }
}

/// List the workspace's members, then its pending invitations (`listWorkspaceMembers`).
#[utoipa::path(get, path = "/admin/workspace-members", tag = "Botpress: workspaces",
    params(
        ("x-workspace-id" = String, Header, description = "Workspace ID"),
        ("nextToken" = Option<String>, Query), ("pageSize" = Option<u32>, Query, description = "1-100, 20 by default"),
    ),
    responses((status = 200, description = "A page of the workspace's members", body = WorkspaceMemberList)))]
async fn list_workspace_members(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<WorkspaceMemberList>> {
    let size = page_param(&query, "pageSize", DEFAULT_PAGE_SIZE)?.clamp(1, MAX_PAGE_SIZE);
    let from = page_param(&query, "nextToken", 0)?;
    let (members, invitations) = state.services.members(&ws.caller, &ws.workspace).await?;
    let all: Vec<WorkspaceMember> = members
        .into_iter()
        .map(WorkspaceMember::from)
        .chain(invitations.into_iter().map(WorkspaceMember::from))
        .collect();
    let total = all.len();
    let members: Vec<WorkspaceMember> = all.into_iter().skip(from).take(size).collect();
    let next = from + members.len();
    let next_token = (!members.is_empty() && next < total).then(|| next.to_string());
    Ok(Json(WorkspaceMemberList { members, meta: ListMeta { next_token } }))
}

/// The caller's own membership (`getWorkspaceMember`).
#[utoipa::path(get, path = "/admin/workspace-members/me", tag = "Botpress: workspaces",
    params(("x-workspace-id" = String, Header, description = "Workspace ID")),
    responses((status = 200, description = "The caller as a member of the workspace", body = WorkspaceMember)))]
async fn get_workspace_member(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
) -> Result<Json<WorkspaceMember>> {
    Ok(Json(state.services.own_membership(&ws).await?.into()))
}

/// Add someone by email with a role (`createWorkspaceMember`): a member at once when the email
/// has an account, else a pending invitation. An email already there → 409 `AlreadyExists`.
#[utoipa::path(post, path = "/admin/workspace-members", tag = "Botpress: workspaces",
    request_body = CreateWorkspaceMemberBody,
    params(("x-workspace-id" = String, Header, description = "Workspace ID")),
    responses((status = 200, description = "The new member or invitation", body = WorkspaceMember)))]
async fn create_workspace_member(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    JsonBody(body, _): Body<CreateWorkspaceMemberBody>,
) -> Result<Json<WorkspaceMember>> {
    let role = parse_role(&body.role)?;
    Ok(Json(state.services.add_member(&ws, &body.email, role).await?.into()))
}

/// Change a member's or an invitation's role (`updateWorkspaceMember`).
#[utoipa::path(put, path = "/admin/workspace-members/{id}", tag = "Botpress: workspaces",
    request_body = UpdateWorkspaceMemberBody,
    params(("id" = String, Path, description = "User id, or the email of an invitation"), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "The member with their role", body = WorkspaceMember)))]
async fn update_workspace_member(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<UpdateWorkspaceMemberBody>,
) -> Result<Json<WorkspaceMember>> {
    let updated = match body.role {
        Some(role) => state.services.set_member_role(&ws, &id, parse_role(&role)?).await?,
        None => {
            let (members, invitations) = state.services.members(&ws.caller, &ws.workspace).await?;
            let member = members.into_iter().find(|m| m.user_id.to_string() == id).map(Invited::Member);
            member
                .or_else(|| invitations.into_iter().find(|i| i.email == id).map(Invited::Pending))
                .ok_or_else(|| Error::not_found("Member"))?
        }
    };
    Ok(Json(updated.into()))
}

/// Remove a member, or cancel an invitation (`deleteWorkspaceMember`).
#[utoipa::path(delete, path = "/admin/workspace-members/{id}", tag = "Botpress: workspaces",
    params(("id" = String, Path, description = "User id, or the email of an invitation"), ("x-workspace-id" = String, Header)),
    responses((status = 200, description = "Removed (an empty object)", body = Empty)))]
async fn delete_workspace_member(
    BpWorkspace(ws): BpWorkspace,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Empty>> {
    match id.parse::<i64>() {
        Ok(user) => state.services.remove_member(&ws.caller, &ws.workspace, UserId(user)).await?,
        Err(_) if id.contains('@') => {
            state.services.cancel_invitation(&ws.caller, &ws.workspace, &id).await?
        }
        Err(_) => return Err(Error::not_found("Member").into()),
    }
    Ok(Json(Empty {}))
}
