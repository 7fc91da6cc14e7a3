//! `/v2/workspaces` (a botyard addition to the dialect): workspaces, members and invitations.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use botyard_core::workspaces::Invited;
use botyard_domain::account::{Invitation, Member, Membership, Role};
use botyard_domain::{Error, UserId};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BbCaller;
use super::views::WorkspaceView;
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::JsonBody;
use crate::common::extract::workspace_id;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace))
        .routes(routes!(list_members, invite_member))
        .routes(routes!(remove_member))
        .routes(routes!(cancel_invitation))
}

/// The caller's workspaces with their role in each.
#[utoipa::path(get, path = "/workspaces", tag = "Bots.Business: workspaces", responses((status = 200, description = "The caller's workspaces, with their role in each", body = Vec<WorkspaceView>)))]
async fn list_workspaces(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
) -> Result<Json<Vec<WorkspaceView>>> {
    let all = state.services.memberships(&caller).await?;
    Ok(Json(all.iter().map(|m| WorkspaceView::new(m, &caller.user)).collect()))
}

#[derive(Deserialize, ToSchema)]
struct NewWorkspace {
    name: String,
}

/// Create a workspace; the caller becomes its owner.
#[utoipa::path(post, path = "/workspaces", tag = "Bots.Business: workspaces", request_body = NewWorkspace,
    responses((status = 201, description = "The created workspace", body = WorkspaceView)))]
async fn create_workspace(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    JsonBody(body, _): Body<NewWorkspace>,
) -> Result<Response> {
    let workspace = state.services.create_workspace(&caller, &body.name).await?;
    let view = WorkspaceView::new(&Membership { workspace, role: Role::Owner }, &caller.user);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// One workspace of the caller.
#[utoipa::path(get, path = "/workspaces/{id}", tag = "Bots.Business: workspaces", params(("id" = String, Path)),
    responses((status = 200, description = "The workspace", body = WorkspaceView)))]
async fn get_workspace(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<WorkspaceView>> {
    let membership = state.services.workspace(&caller, &workspace_id(&id)?).await?;
    Ok(Json(WorkspaceView::new(&membership, &caller.user)))
}

#[derive(Serialize, ToSchema)]
struct MemberView {
    user_id: i64,
    email: String,
    role: String,
    joined_at: String,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id.0,
            email: m.email,
            role: m.role.as_str().into(),
            joined_at: m.joined_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct InvitationView {
    email: String,
    role: String,
    invited_by: i64,
    created_at: String,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        Self {
            email: i.email,
            role: i.role.as_str().into(),
            invited_by: i.invited_by.0,
            created_at: i.created_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct MemberList {
    members: Vec<MemberView>,
    invitations: Vec<InvitationView>,
}

/// Members of a workspace and pending invitations.
#[utoipa::path(get, path = "/workspaces/{id}/members", tag = "Bots.Business: workspaces", params(("id" = String, Path)),
    responses((status = 200, description = "The workspace's members and pending invitations", body = MemberList)))]
async fn list_members(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MemberList>> {
    let (members, invitations) = state.services.members(&caller, &workspace_id(&id)?).await?;
    Ok(Json(MemberList {
        members: members.into_iter().map(Into::into).collect(),
        invitations: invitations.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
struct NewMember {
    email: String,
    /// owner, admin, developer or viewer.
    role: String,
}

#[derive(Serialize, ToSchema)]
#[serde(untagged)]
enum InviteAnswer {
    Member(MemberView),
    Invitation(InvitationView),
}

/// Invite someone by email with a role: an existing account becomes a member at once, otherwise
/// the invitation waits for the email to sign up (also when sign-up is disabled).
#[utoipa::path(post, path = "/workspaces/{id}/members", tag = "Bots.Business: workspaces", params(("id" = String, Path)),
    request_body = NewMember, responses((status = 201, description = "The new member, or the pending invitation when the email has no account yet", body = InviteAnswer)))]
async fn invite_member(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body, _): Body<NewMember>,
) -> Result<Response> {
    let role: Role = body.role.parse()?;
    let answer = match state.services.invite(&caller, &workspace_id(&id)?, &body.email, role).await? {
        Invited::Member(m) => InviteAnswer::Member(m.into()),
        Invited::Pending(i) => InviteAnswer::Invitation(i.into()),
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Remove a member (members may also remove themselves).
#[utoipa::path(delete, path = "/workspaces/{id}/members/{user_id}", tag = "Bots.Business: workspaces",
    params(("id" = String, Path), ("user_id" = i64, Path)), responses((status = 200, description = "`true`: the member is removed", body = bool)))]
async fn remove_member(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, user)): Path<(String, String)>,
) -> Result<Json<bool>> {
    let user = user.parse::<i64>().map_err(|_| Error::not_found("Member"))?;
    state.services.remove_member(&caller, &workspace_id(&id)?, UserId(user)).await?;
    Ok(Json(true))
}

/// Cancel a pending invitation.
#[utoipa::path(delete, path = "/workspaces/{id}/invitations/{email}", tag = "Bots.Business: workspaces",
    params(("id" = String, Path), ("email" = String, Path)), responses((status = 200, description = "`true`: the invitation is canceled", body = bool)))]
async fn cancel_invitation(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, email)): Path<(String, String)>,
) -> Result<Json<bool>> {
    state.services.cancel_invitation(&caller, &workspace_id(&id)?, &email).await?;
    Ok(Json(true))
}
