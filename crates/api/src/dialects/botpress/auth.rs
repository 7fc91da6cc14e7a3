//! Who calls the Botpress dialect: a bearer token, and for admin routes the workspace named by
//! `x-workspace-id`.

use axum::extract::FromRequestParts;
use botyard_core::{Caller, WorkspaceAccess};
use botyard_domain::{Error, WorkspaceId};
use http::request::Parts;

use super::Botpress;
use crate::AppState;
use crate::common::dialect::ApiError;
use crate::common::extract::{bearer, header};

/// A caller authenticated with `Authorization: Bearer <API key or session token>`.
pub struct BpCaller(pub Caller);

impl FromRequestParts<AppState> for BpCaller {
    type Rejection = ApiError<Botpress>;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| {
            Error::unauthorized("Authentication is required: send Authorization: Bearer <token>")
        })?;
        let caller = state
            .services
            .authenticate_bearer(token)
            .await?
            .ok_or_else(|| Error::unauthorized("The provided token is invalid or has been revoked"))?;
        Ok(Self(caller))
    }
}

/// A caller acting in the workspace of `x-workspace-id`, of which they are a member.
pub struct BpWorkspace(pub WorkspaceAccess);

impl FromRequestParts<AppState> for BpWorkspace {
    type Rejection = ApiError<Botpress>;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let BpCaller(caller) = BpCaller::from_request_parts(parts, state).await?;
        let raw = header(parts, "x-workspace-id")
            .ok_or_else(|| Error::invalid("The x-workspace-id header is required"))?;
        let workspace = WorkspaceId::parse(raw)
            .map_err(|_| Error::forbidden("You do not have access to this workspace"))?;
        Ok(Self(state.services.workspace_access(caller, workspace).await?))
    }
}
