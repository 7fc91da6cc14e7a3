//! Admin panels (`/bots/{id}/active_options`): the forms a bot defines with
//! `AdminPanel.setPanel`, whose values its owner edits here. Values are checked against their
//! field's type; the panel's `on_saving` command runs after a save.

use axum::Json;
use axum::extract::{Path, State};
use botyard_domain::Error;
use botyard_domain::content::AdminPanel;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::BbCaller;
use super::bots::bot_access;
use super::{Body, Result};
use crate::AppState;
use crate::common::extract::JsonBody;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_panels)).routes(routes!(save_panel))
}

#[derive(Serialize, ToSchema)]
struct PanelView {
    /// Its place among the bot's panels, from 1 (the `panel_id` of the routes; the name works too).
    id: usize,
    name: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    document: Value,
}

fn view(i: usize, panel: &AdminPanel) -> PanelView {
    PanelView { id: i + 1, name: panel.name.clone(), document: panel.document.clone() }
}

/// The bot's admin panels with their fields and values.
#[utoipa::path(get, path = "/bots/{id}/active_options", tag = "Bots.Business: admin panels",
    params(("id" = String, Path)), responses((status = 200, description = "The bot's admin panels, with their fields and values", body = Vec<PanelView>)))]
async fn list_panels(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<PanelView>>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let panels = state.services.bot_panels(access.bot.number).await?;
    Ok(Json(panels.iter().enumerate().map(|(i, p)| view(i, p)).collect()))
}

/// New values: `{"values": {"field": value}}` or `{"fields": [{"name", "value"}]}`.
#[derive(Deserialize, ToSchema)]
struct PanelValues {
    #[schema(value_type = Option<Object>)]
    values: Option<Map<String, Value>>,
    #[schema(value_type = Option<Vec<Object>>)]
    fields: Option<Vec<Value>>,
}

/// Save field values of a panel, then run its `on_saving` command.
#[utoipa::path(put, path = "/bots/{id}/active_options/{panel_id}", tag = "Bots.Business: admin panels",
    params(("id" = String, Path), ("panel_id" = String, Path)), request_body = PanelValues,
    responses((status = 200, description = "The panel, with its saved values", body = PanelView)))]
async fn save_panel(
    BbCaller(caller): BbCaller,
    State(state): State<AppState>,
    Path((id, panel)): Path<(String, String)>,
    JsonBody(body, _): Body<PanelValues>,
) -> Result<Json<PanelView>> {
    let access = bot_access(&state.services, &caller, &id).await?;
    let mut values = body.values.unwrap_or_default();
    for field in body.fields.unwrap_or_default() {
        let name = field
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid("Each field needs a name"))?;
        values.insert(name.to_owned(), field.get("value").cloned().unwrap_or(Value::Null));
    }
    if values.is_empty() {
        return Err(Error::invalid("Give the values to save: {\"values\": {\"field\": value}}").into());
    }
    let saved = state.runtime.save_panel_values(&access, &panel, &values).await?;
    let panels = state.services.bot_panels(access.bot.number).await?;
    let i = panels.iter().position(|p| p.name == saved.name).unwrap_or(0);
    Ok(Json(view(i, &saved)))
}
