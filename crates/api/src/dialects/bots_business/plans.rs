//! Plans and iteration usage: `/v2/user/iterations`, `/v2/user/payment_plan`, `/v2/cloud_plans`.

use axum::Json;
use axum::extract::State;
use botyard_domain::WorkspaceId;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Result;
use super::auth::BbCaller;
use super::views::PlanView;
use crate::AppState;
use crate::common::extract::QueryPairs;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(iterations))
        .routes(routes!(payment_plan))
        .routes(routes!(cloud_plans))
}

#[derive(Serialize, ToSchema)]
struct IterationUsage {
    workspace_id: String,
    /// `YYYY-MM`.
    month: String,
    plan: String,
    iterations_used: u64,
    iterations_limit: u64,
    iterations_left: u64,
}

async fn workspace(
    state: &AppState,
    caller: &botyard_core::Caller,
    query: &QueryPairs,
) -> botyard_domain::Result<WorkspaceId> {
    match query.get("workspace_id") {
        Some(ws) => WorkspaceId::parse(ws),
        None => state.services.default_workspace(caller).await,
    }
}

/// Iterations used this month by a workspace (`?workspace_id=`, default: the personal one).
#[utoipa::path(get, path = "/user/iterations", tag = "Bots.Business: account",
    params(("workspace_id" = Option<String>, Query)), responses((status = 200, description = "The iterations the workspace used this month, and its limit", body = IterationUsage)))]
async fn iterations(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<IterationUsage>> {
    let ws = workspace(&state, &caller, &query).await?;
    let usage = state.services.usage(&caller, &ws).await?;
    Ok(Json(IterationUsage {
        workspace_id: usage.workspace.to_string(),
        month: usage.month,
        plan: usage.plan.name.clone(),
        iterations_used: usage.used,
        iterations_limit: usage.plan.iterations_per_month,
        iterations_left: usage.plan.iterations_per_month.saturating_sub(usage.used),
    }))
}

/// The payment plan of a workspace (`?workspace_id=`, default: the personal one).
#[utoipa::path(get, path = "/user/payment_plan", tag = "Bots.Business: account",
    params(("workspace_id" = Option<String>, Query)), responses((status = 200, description = "The workspace's payment plan", body = PlanView)))]
async fn payment_plan(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    query: QueryPairs,
) -> Result<Json<PlanView>> {
    let ws = workspace(&state, &caller, &query).await?;
    Ok(Json(state.services.usage(&caller, &ws).await?.plan.into()))
}

/// The plans this server offers.
#[utoipa::path(get, path = "/cloud_plans", tag = "Bots.Business: account", responses((status = 200, description = "The plans this server offers", body = Vec<PlanView>)))]
async fn cloud_plans(
    BbCaller(_caller): BbCaller,
    State(state): State<AppState>,
) -> Result<Json<Vec<PlanView>>> {
    Ok(Json(state.services.plans().iter().cloned().map(PlanView::from).collect()))
}
