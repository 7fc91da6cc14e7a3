//! `AdminPanel.*` in BJS: panels of fields whose values the bot's owner edits in the API
//! (`/v2/bots/{id}/active_options`) and the bot reads. Changes a run makes are effects, committed
//! with the run.

use botyard_domain::content::AdminPanel;
use botyard_sandbox::HostAnswer;
use serde_json::{Map, Value};

use crate::host::{Answer, BjsHost, fail};

impl BjsHost {
    pub(crate) fn admin_panel(&mut self, name: &str, args: &[Value]) -> Answer {
        let spec = spec(args);
        let panel_name = spec
            .get("panel_name")
            .or_else(|| spec.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or("panel_name is required")?;
        match name {
            "AdminPanel.setPanel" => {
                let data = spec.get("data").ok_or("data is required")?;
                let mut panel = AdminPanel::new(&panel_name, data).map_err(fail)?;
                let force = spec.get("force").and_then(Value::as_bool).unwrap_or(false);
                if !force && let Some(previous) = self.panel(&panel_name)? {
                    panel.keep_values_of(&previous);
                }
                self.stage(panel);
                Ok(HostAnswer::Undefined)
            }
            "AdminPanel.getPanel" => {
                let panel = self.panel(&panel_name)?;
                Ok(HostAnswer::Value(panel.map_or(Value::Null, |p| {
                    let mut doc = p.document.clone();
                    doc["panel_name"] = Value::String(p.name);
                    doc
                })))
            }
            // A panel that does not exist yet (bots set theirs up in `/setup`-like commands that
            // may not have run) reads as empty rather than failing the run — and with it every
            // command when the read is in `@`.
            "AdminPanel.getPanelValues" => {
                let values = self.panel(&panel_name)?.map(|p| p.values()).unwrap_or_default();
                Ok(HostAnswer::Value(Value::Object(values)))
            }
            "AdminPanel.getFieldValue" => {
                let field = field_name(&spec)?;
                let value = self.panel(&panel_name)?.and_then(|p| p.value(&field));
                Ok(value.map_or(HostAnswer::Undefined, HostAnswer::Value))
            }
            "AdminPanel.setFieldValue" => {
                let field = field_name(&spec)?;
                let mut panel = self.panel(&panel_name)?.ok_or_else(|| missing(&panel_name))?;
                let mut values = Map::new();
                values.insert(field, spec.get("value").cloned().unwrap_or(Value::Null));
                panel.set_values(&values).map_err(fail)?;
                self.stage(panel);
                Ok(HostAnswer::Undefined)
            }
            other => Err(format!("{other} is not a function")),
        }
    }

    /// The panel as this run sees it: as changed earlier in the run, or as stored.
    fn panel(&self, name: &str) -> Result<Option<AdminPanel>, String> {
        if let Some(staged) = self.effects.panels.iter().find(|p| p.name == name) {
            return Ok(Some(staged.clone()));
        }
        let stored = self.block_on(self.ctx.services.bot_panels(self.ctx.bot.number)).map_err(fail)?;
        Ok(stored.iter().find(|p| p.name == name).cloned())
    }

    fn stage(&mut self, panel: AdminPanel) {
        self.effects.panels.retain(|p| p.name != panel.name);
        self.effects.panels.push(panel);
    }
}

/// `fn({…})` or `fn("Panel", …)`.
fn spec(args: &[Value]) -> Map<String, Value> {
    match args.first() {
        Some(Value::Object(spec)) => spec.clone(),
        Some(Value::String(name)) => {
            let mut spec = Map::new();
            spec.insert("panel_name".into(), Value::String(name.clone()));
            if let Some(field) = args.get(1) {
                spec.insert("field_name".into(), field.clone());
            }
            spec
        }
        _ => Map::new(),
    }
}

fn field_name(spec: &Map<String, Value>) -> Result<String, String> {
    spec.get("field_name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| "field_name is required".to_owned())
}

fn missing(name: &str) -> String {
    format!("Admin panel {name} does not exist")
}

impl crate::Runtime {
    /// Saves new values of an admin panel, then runs its `on_saving` command (outside any chat)
    /// with `options = {panel_name, values}`.
    pub async fn save_panel_values(
        &self,
        access: &botyard_core::BotAccess,
        panel: &str,
        values: &Map<String, Value>,
    ) -> botyard_domain::Result<AdminPanel> {
        let saved = self.services().save_panel_values(access, panel, values).await?;
        if let Some(command) = saved.on_saving() {
            let options = serde_json::json!({"panel_name": saved.name, "values": saved.values()});
            self.run_without_chat(access.bot.number, command, options).await?;
        }
        Ok(saved)
    }
}
