//! `/v2/bots/{id}/properties`: what the bot stored for itself, its users and chats.

use axum::Json;
use axum::extract::{Path, State};
use botyard_domain::Error;
use botyard_domain::property::PropertyScope;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Result;
use super::auth::BbCaller;
use super::bots::bot_access;
use super::views::PropertyView;
use crate::AppState;
use crate::common::extract::{QueryPairs, query_page};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_properties)).routes(routes!(delete_property))
}

/// The bot's properties, `?scope=bot|user|chat` and `?page=N` (50 per page, from 1).
#[utoipa::path(get, path = "/bots/{id}/properties", tag = "Bots.Business: properties",
    params(("id" = String, Path), ("scope" = Option<String>, Query), ("page" = Option<u32>, Query)),
    responses((status = 200, description = "A page of the bot's properties", body = Vec<PropertyView>)))]
async fn list_properties(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Vec<PropertyView>>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let scope = query.get("scope").filter(|s| !s.is_empty()).map(PropertyScope::parse).transpose()?;
    let found = state.services.properties(&access, scope, query_page(&query)?).await?;
    Ok(Json(found.into_iter().map(PropertyView::from).collect()))
}

/// Delete a property.
#[utoipa::path(delete, path = "/bots/{id}/properties/{property_id}", tag = "Bots.Business: properties",
    params(("id" = String, Path), ("property_id" = i64, Path)), responses((status = 200, description = "`true`: the property is deleted", body = bool)))]
async fn delete_property(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, property)): Path<(String, String)>,
) -> Result<Json<bool>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let property = property.parse().map_err(|_| Error::not_found("Property"))?;
    state.services.delete_property(&access, property).await?;
    Ok(Json(true))
}
