//! `/v1/admin/workspaces`: the caller's workspaces and their members. These routes do not need
//! `x-workspace-id` (listing workspaces is how a client learns the ids).

use axum::Json;
use axum::extract::{Path, State};
use botyard_core::workspaces::Invited;
use botyard_domain::UserId;
use botyard_domain::account::{Invitation, Member, Membership, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BpCaller;
use super::views::{Empty, ListMeta};
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::JsonBody;
use crate::common::extract::workspace_id;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace))
        .routes(routes!(list_members, add_member))
        .routes(routes!(remove_member))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct WorkspaceView {
    id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_id: Option<String>,
    created_at: String,
    updated_at: String,
    plan: String,
    /// botyard: the caller's role in the workspace.
    role: String,
}

impl From<Membership> for WorkspaceView {
    fn from(m: Membership) -> Self {
        let w = m.workspace;
        Self {
            id: w.id.to_string(),
            name: w.name,
            owner_id: w.personal_of.map(|u| u.to_string()),
            created_at: w.created_at.to_rfc3339(),
            updated_at: w.created_at.to_rfc3339(),
            plan: w.plan,
            role: m.role.as_str().into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct WorkspaceList {
    workspaces: Vec<WorkspaceView>,
    meta: ListMeta,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateWorkspaceBody {
    name: String,
}

/// List the caller's workspaces (`listWorkspaces`).
#[utoipa::path(get, path = "/admin/workspaces", tag = "Botpress: workspaces", responses((status = 200, description = "The caller's workspaces", body = WorkspaceList)))]
async fn list_workspaces(
    BpCaller(caller): BpCaller,
    State(state): State<AppState>,
) -> Result<Json<WorkspaceList>> {
    let all = state.services.memberships(&caller).await?;
    Ok(Json(WorkspaceList {
        workspaces: all.into_iter().map(Into::into).collect(),
        meta: ListMeta { next_token: None },
    }))
}

/// Create a workspace owned by the caller (`createWorkspace`).
#[utoipa::path(post, path = "/admin/workspaces", tag = "Botpress: workspaces", request_body = CreateWorkspaceBody,
    responses((status = 200, description = "The created workspace", body = WorkspaceView)))]
async fn create_workspace(
    BpCaller(caller): BpCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<CreateWorkspaceBody>,
) -> Result<Json<WorkspaceView>> {
    let workspace = state.services.create_workspace(&caller, &body.name).await?;
    Ok(Json(Membership { workspace, role: Role::Owner }.into()))
}

/// Get a workspace of the caller (`getWorkspace`).
#[utoipa::path(get, path = "/admin/workspaces/{id}", tag = "Botpress: workspaces", params(("id" = String, Path)),
    responses((status = 200, description = "The workspace", body = WorkspaceView)))]
async fn get_workspace(
    BpCaller(caller): BpCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WorkspaceView>> {
    let membership = state.services.workspace(&caller, &workspace_id(&id)?).await?;
    Ok(Json(membership.into()))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct MemberView {
    /// The member's user id, or the email of a pending invitation.
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    email: String,
    role: String,
    created_at: String,
    /// `active`, or `invited` until the email signs up.
    status: String,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            id: m.user_id.to_string(),
            user_id: Some(m.user_id.to_string()),
            email: m.email,
            role: m.role.as_str().into(),
            created_at: m.joined_at.to_rfc3339(),
            status: "active".into(),
        }
    }
}

impl From<Invitation> for MemberView {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.email.clone(),
            user_id: None,
            email: i.email,
            role: i.role.as_str().into(),
            created_at: i.created_at.to_rfc3339(),
            status: "invited".into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct MemberList {
    members: Vec<MemberView>,
    meta: ListMeta,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AddMemberBody {
    email: String,
    /// owner, admin, developer or viewer.
    role: String,
}

/// List the members of a workspace (`listWorkspaceMembers`).
#[utoipa::path(get, path = "/admin/workspaces/{id}/members", tag = "Botpress: workspaces", params(("id" = String, Path)),
    responses((status = 200, description = "The workspace's members", body = MemberList)))]
async fn list_members(
    BpCaller(caller): BpCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MemberList>> {
    let (members, invitations) = state.services.members(&caller, &workspace_id(&id)?).await?;
    let members = members
        .into_iter()
        .map(MemberView::from)
        .chain(invitations.into_iter().map(MemberView::from))
        .collect();
    Ok(Json(MemberList { members, meta: ListMeta { next_token: None } }))
}

/// Invite someone by email with a role (`createWorkspaceMember`).
#[utoipa::path(post, path = "/admin/workspaces/{id}/members", tag = "Botpress: workspaces", params(("id" = String, Path)),
    request_body = AddMemberBody, responses((status = 200, description = "The new member, or the pending invitation when the email has no account yet", body = MemberView)))]
async fn add_member(
    BpCaller(caller): BpCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<AddMemberBody>,
) -> Result<Json<MemberView>> {
    let role: Role = body.role.parse()?;
    let invited = state.services.invite(&caller, &workspace_id(&id)?, &body.email, role).await?;
    Ok(Json(match invited {
        Invited::Member(m) => m.into(),
        Invited::Pending(i) => i.into(),
    }))
}

/// Remove a member, or cancel an invitation by email (`deleteWorkspaceMember`).
#[utoipa::path(delete, path = "/admin/workspaces/{id}/members/{member}", tag = "Botpress: workspaces",
    params(("id" = String, Path), ("member" = String, Path, description = "User id, or the email of an invitation")),
    responses((status = 200, description = "The member is removed, or the invitation canceled (an empty object)", body = Empty)))]
async fn remove_member(
    BpCaller(caller): BpCaller,
    State(state): State<AppState>,
    Path((id, member)): Path<(String, String)>,
) -> Result<Json<Empty>> {
    let workspace = workspace_id(&id)?;
    match member.parse::<i64>() {
        Ok(user) => state.services.remove_member(&caller, &workspace, UserId(user)).await?,
        Err(_) => state.services.cancel_invitation(&caller, &workspace, &member).await?,
    }
    Ok(Json(Empty {}))
}
