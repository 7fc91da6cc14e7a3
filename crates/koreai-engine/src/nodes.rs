//! Executing dialog nodes: the run loop, transitions, prompts, scripts, services and forms.

use serde_json::{Value, json};

use crate::dialogs::{Condition, NodeKind, Op};
use crate::engine::{Run, render_text, show_script_result};
use crate::entities::{ValueList, capture, extract};
use crate::host::ServiceRequest;
use crate::messages::{Chosen, Message, as_text, choose, lookup, set_path};
use crate::session::Waiting;
use crate::text::decode_stored;

/// Context keys the engine adds for scripts and takes back out afterwards.
const TRANSIENT: [&str; 3] = ["session", "content", "env"];

/// Entity types whose value is the whole answer: never taken from the utterance that started
/// the task.
const FREE_TEXT: [&str; 8] =
    ["string", "label", "description", "location", "city", "address", "country", "state"];

impl Run<'_> {
    /// Executes nodes until the current task waits for input or no task is left.
    pub fn run(&mut self) {
        loop {
            let Some(task) = self.session.stack.last() else { return };
            if task.waiting.is_some() {
                return;
            }
            self.visited += 1;
            if self.visited > self.bot.limits.max_nodes_per_turn {
                let limit = self.bot.limits.max_nodes_per_turn;
                self.fail_task(&format!("more than {limit} nodes in one turn (a loop between nodes?)"));
                return;
            }
            let Some(dialog) = self.bot.dialog(&task.dialog) else {
                self.fail_task("the dialog no longer exists");
                continue;
            };
            let Some(node) = dialog.node(&task.node).cloned() else {
                self.fail_task("the node does not exist");
                continue;
            };
            let dialog_id = dialog.id.clone();
            // Borrowed from the bot, not the run: lookups can hold thousands of values.
            let bot = self.bot;
            let component = bot.components.get(&node.component).unwrap_or(&Value::Null);
            match node.kind {
                NodeKind::Intent => {
                    let other = self.bot.dialog_of_component(&node.component).filter(|d| d.id != dialog_id);
                    match other {
                        Some(d) => {
                            let target = d.ref_id.clone();
                            if !self.start_dialog(&target, None, false, true) {
                                self.follow(None);
                            }
                        }
                        None => self.follow(None),
                    }
                }
                NodeKind::Message => {
                    self.node_message(&node.id, "message");
                    self.follow(None);
                }
                NodeKind::Entity => {
                    let utterance = self.session.stack.last().and_then(|t| t.utterance.clone());
                    let entity_type = component.get("entityType").and_then(Value::as_str).unwrap_or("string");
                    // Free text is taken from the utterance only where an entity pattern marks it.
                    let prefilled = utterance
                        .filter(|u| {
                            !FREE_TEXT.contains(&entity_type)
                                || self.pattern_capture(&node.component, u).is_some()
                        })
                        .and_then(|u| self.entity_value(&node.id, &u));
                    match prefilled {
                        Some(value) => {
                            self.set_entity(&node.id, value);
                            self.follow(None);
                        }
                        None => self.wait(Waiting::Entity { node: node.id.clone(), retries: 0 }),
                    }
                }
                NodeKind::Confirmation => {
                    self.wait(Waiting::Confirmation { node: node.id.clone(), retries: 0 })
                }
                NodeKind::Form => {
                    self.node_message(&node.id, "message");
                    self.wait(Waiting::FormField { node: node.id.clone(), field: 0, retries: 0 });
                }
                NodeKind::Script => {
                    let code = decode_stored(component.get("script").and_then(Value::as_str).unwrap_or(""));
                    match self.script(&code) {
                        Ok(printed) => {
                            if let Some(m) = show_script_result(&printed, self.bot.limits.max_message_bytes) {
                                self.turn.messages.push(m);
                            }
                            self.follow(None);
                        }
                        Err(e) => self.fail_task(&format!("script {}: {e}", node.id)),
                    }
                }
                NodeKind::Service => match self.service(component) {
                    Ok(()) => self.follow(None),
                    Err(e) => self.fail_task(&format!("service {}: {e}", node.id)),
                },
                NodeKind::Logic => {
                    self.logic(component);
                    self.follow(None);
                }
                NodeKind::AgentTransfer => {
                    self.turn.events.push("AGENT_TRANSFER".into());
                    self.follow(None);
                }
                NodeKind::Other => self.follow(None),
            }
        }
    }

    /// Moves the current task along its node's transitions (`dialog_act`: a confirmation's answer).
    pub fn follow(&mut self, dialog_act: Option<bool>) {
        let Some(task) = self.session.stack.last() else { return };
        let Some(node) = self.bot.dialog(&task.dialog).and_then(|d| d.node(&task.node)).cloned() else {
            self.end_task();
            return;
        };
        let mut next = None;
        let mut found = false;
        for t in &node.transitions {
            let taken = match &t.condition {
                None => true,
                Some(c) => self.condition(c, dialog_act),
            };
            if taken {
                next = t.target.clone();
                found = true;
                break;
            }
        }
        if !found {
            next = None;
        }
        match next {
            Some(target) => {
                if let Some(task) = self.session.stack.last_mut() {
                    task.node = target;
                }
            }
            None => self.end_task(),
        }
    }

    fn condition(&mut self, condition: &Condition, dialog_act: Option<bool>) -> bool {
        match condition {
            Condition::Never => false,
            Condition::DialogAct(yes) => dialog_act == Some(*yes),
            Condition::Intent { node } => {
                let Some(task) = self.session.stack.last() else { return false };
                let Some(component) =
                    self.bot.dialog(&task.dialog).and_then(|d| d.node(node)).map(|n| &n.component)
                else {
                    return false;
                };
                let Some(target) = self.bot.dialog_of_component(component).map(|d| d.ref_id.clone()) else {
                    return false;
                };
                self.input.is_some() && self.detection().dialog() == Some(target.as_str())
            }
            Condition::Entity { node, op, value } => {
                let name = self.entity_name(node);
                let context = self.context_value();
                compare(lookup(&context, &format!("entities.{name}")), op, value)
            }
            Condition::Context { path, op, value } => {
                let root = json!({"context": self.context_value()});
                let path =
                    if path.starts_with("context.") { path.clone() } else { format!("context.{path}") };
                compare(lookup(&root, &path), op, value)
            }
        }
    }

    fn wait(&mut self, waiting: Waiting) {
        if let Some(task) = self.session.stack.last_mut() {
            task.waiting = Some(waiting);
            task.utterance = None;
        }
        self.prompt_waiting();
    }

    /// Shows the prompt of what the current task waits for.
    pub fn prompt_waiting(&mut self) {
        let Some(waiting) = self.session.stack.last().and_then(|t| t.waiting.clone()) else { return };
        match waiting {
            Waiting::Entity { node, .. } | Waiting::Confirmation { node, .. } => {
                self.node_message(&node, "message");
            }
            Waiting::FormField { node, field, .. } => self.form_prompt(&node, field),
        }
    }

    /// Shows the node's message of kind `key` (`message`, `errorMessage`, `submitMessage`);
    /// the node's own override (`nodeOptions`) first. False when there is none.
    pub fn node_message(&mut self, node_id: &str, key: &str) -> bool {
        let Some(task) = self.session.stack.last() else { return false };
        let Some(node) = self.bot.dialog(&task.dialog).and_then(|d| d.node(node_id)) else { return false };
        let (channel, language) = (self.channel(), self.language());
        let nth = self.session.turns;
        let own = choose(node.options.get(key), &channel, &language, &self.bot.default_language, nth);
        let chosen = own.or_else(|| {
            let component = self.bot.components.get(&node.component)?;
            choose(component.get(key), &channel, &language, &self.bot.default_language, nth)
        });
        match chosen {
            Some(c) => {
                self.show(&c);
                true
            }
            None => false,
        }
    }

    /// Shows a chosen message: a text template, or a script that prints it.
    pub fn show(&mut self, chosen: &Chosen) {
        if chosen.kind == "basic" || chosen.kind == "text" {
            let text = render_text(&chosen.text, &self.template_root());
            self.say(text);
            return;
        }
        match self.script(&chosen.text) {
            Ok(printed) => {
                if let Some(m) = show_script_result(&printed, self.bot.limits.max_message_bytes) {
                    self.turn.messages.push(m);
                }
            }
            Err(e) => self.turn.log.push(format!("message script failed: {e}")),
        }
    }

    /// The context as scripts see it (see [`crate::host`]).
    pub fn context_value(&self) -> Value {
        let mut context = self.session.stack.last().map(|t| t.context.clone()).unwrap_or_default();
        context.insert(
            "session".into(),
            json!({
                "BotUserSession": self.session.bot_user_session,
                "UserSession": self.session.user_session,
                "BotContext": self.session.bot_context,
                "UserContext": self.session.user_context,
            }),
        );
        Value::Object(context)
    }

    fn template_root(&self) -> Value {
        let language = self.language();
        json!({"context": self.context_value(), "content": self.bot.content(&language), "env": self.bot.env})
    }

    /// Runs JavaScript through the host and keeps what it changed. Returns what it printed.
    fn script(&mut self, code: &str) -> Result<Vec<String>, String> {
        let mut context = self.context_value();
        if let Value::Object(m) = &mut context {
            m.insert("content".into(), Value::Object(self.bot.content(&self.language())));
            m.insert("env".into(), Value::Object(self.bot.env.clone()));
        }
        let outcome = if self.bot.functions.is_empty() {
            self.host.run_script(code, context)?
        } else {
            self.host.run_script(&format!("{}\n{code}", self.bot.functions), context)?
        };
        self.absorb(outcome.context);
        Ok(outcome.printed)
    }

    /// Takes a context back from a script: session variables into the session, the rest into
    /// the task.
    fn absorb(&mut self, context: Value) {
        let Value::Object(mut context) = context else { return };
        if let Some(Value::Object(session)) = context.get("session") {
            let take = |key: &str| session.get(key).and_then(Value::as_object).cloned().unwrap_or_default();
            self.session.bot_user_session = take("BotUserSession");
            self.session.user_session = take("UserSession");
            self.session.bot_context = take("BotContext");
        }
        for key in TRANSIENT {
            context.remove(key);
        }
        if let Some(task) = self.session.stack.last_mut() {
            task.context = context;
        }
    }

    fn service(&mut self, component: &Value) -> Result<(), String> {
        let root = self.template_root();
        let endpoint = component.get("endPoint").cloned().unwrap_or(Value::Null);
        let field = |k: &str| endpoint.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let port = field("port");
        let path = render_text(&decode_stored(&field("path")), &root);
        let protocol = if field("protocol").is_empty() { "https".to_owned() } else { field("protocol") };
        let host = render_text(&field("host"), &root);
        let url = if port.is_empty() {
            format!("{protocol}://{host}{path}")
        } else {
            format!("{protocol}://{host}:{port}{path}")
        };
        let mut headers = Vec::new();
        let raw_headers = component.pointer("/headers/value").and_then(Value::as_str).unwrap_or("{}");
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&decode_stored(raw_headers)) {
            for (k, v) in map {
                headers.push((k, render_text(&as_text(Some(&v)), &root)));
            }
        }
        let payload = component.pointer("/payload/value").and_then(Value::as_str).unwrap_or("");
        let body = (!payload.trim().is_empty()).then(|| render_text(&decode_stored(payload), &root));
        let name = component.get("name").and_then(Value::as_str).unwrap_or("service").to_owned();
        let timeout = component.get("serviceAPITimeout").and_then(Value::as_u64).unwrap_or(20);
        let request = ServiceRequest {
            name: name.clone(),
            method: field("method").to_uppercase(),
            url,
            headers,
            body,
            timeout_ms: timeout * 1000,
        };
        let response = self.host.call_service(request)?;
        if !(200..300).contains(&response.status) {
            self.turn.log.push(format!("service {name} answered HTTP {}", response.status));
        }
        let body = serde_json::from_str::<Value>(&response.body).unwrap_or(Value::String(response.body));
        if let Some(task) = self.session.stack.last_mut() {
            task.context.insert(
                name,
                json!({"response": {"statusCode": response.status, "body": body, "headers": response.headers}}),
            );
        }
        Ok(())
    }

    /// A logic node's assignments (`variables: [{variable, value, type: set|delete}]`).
    fn logic(&mut self, component: &Value) {
        let list =
            component.get("variables").or_else(|| component.get("logic")).and_then(Value::as_array).cloned();
        let root = self.template_root();
        for item in list.into_iter().flatten() {
            let Some(path) = item.get("variable").or_else(|| item.get("key")).and_then(Value::as_str) else {
                continue;
            };
            let path = path.trim_start_matches("context.");
            let delete = item.get("type").and_then(Value::as_str) == Some("delete");
            let value = (!delete).then(|| match item.get("value") {
                Some(Value::String(s)) => {
                    let rendered = render_text(s, &root);
                    serde_json::from_str(&rendered).unwrap_or(Value::String(rendered))
                }
                Some(v) => v.clone(),
                None => Value::Null,
            });
            if let Some(rest) = path.strip_prefix("session.BotUserSession.") {
                set_path(&mut self.session.bot_user_session, rest, value);
            } else if let Some(rest) = path.strip_prefix("session.UserSession.") {
                set_path(&mut self.session.user_session, rest, value);
            } else if let Some(task) = self.session.stack.last_mut() {
                set_path(&mut task.context, path, value);
            }
        }
    }

    /// The entity name of an entity node (its component's name).
    pub fn entity_name(&self, node: &str) -> String {
        let Some(task) = self.session.stack.last() else { return node.to_owned() };
        self.bot
            .dialog(&task.dialog)
            .and_then(|d| d.node(node))
            .and_then(|n| self.bot.components.get(&n.component))
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(node)
            .to_owned()
    }

    pub fn set_entity(&mut self, node: &str, value: Value) {
        let name = self.entity_name(node);
        if let Some(task) = self.session.stack.last_mut() {
            let entities = task.context.entry("entities").or_insert_with(|| json!({}));
            if let Value::Object(m) = entities {
                m.insert(name, value);
            }
        }
    }

    /// What the first of the entity's patterns that captures takes from `text`.
    fn pattern_capture(&self, component: &str, text: &str) -> Option<String> {
        let patterns = self.bot.entity_patterns.get(&(component.to_owned(), self.language()))?;
        patterns.iter().find_map(|p| capture(p, text))
    }

    /// The value of the entity node `node` in `text`, if any (within what an entity pattern
    /// captures, when one does).
    pub fn entity_value(&mut self, node: &str, text: &str) -> Option<Value> {
        let task = self.session.stack.last()?;
        let component_id = self.bot.dialog(&task.dialog)?.node(node)?.component.clone();
        let captured = self.pattern_capture(&component_id, text);
        let text = captured.as_deref().unwrap_or(text);
        let component = self.bot.components.get(&component_id)?;
        let entity_type = component.get("entityType").and_then(Value::as_str).unwrap_or("string");
        let language = self.language();
        if entity_type.starts_with("list_of") {
            if let Some(list) = self.bot.value_lists.get(&(component_id.clone(), language.clone())) {
                return list.find(text);
            }
            // A list read from the context at run time.
            let spec = component.pointer(&format!("/localeData/{language}/allowedValues"))?;
            let variable = spec.get("variable").and_then(Value::as_str)?;
            let root = json!({"context": self.context_value()});
            let items = lookup(&root, variable)?.as_array()?.clone();
            let key = |k: &str| spec.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            return ValueList::from_items(&items, &key("titleKey"), &key("valueKey"), &key("synonymsKey"))
                .find(text);
        }
        extract(entity_type, text, self.host.today())
    }

    /// The form's name and the fields it asks for, in order.
    fn form_fields(&self, node: &str) -> (String, Vec<FormField>) {
        let Some(task) = self.session.stack.last() else { return (String::new(), Vec::new()) };
        let form = self
            .bot
            .dialog(&task.dialog)
            .and_then(|d| d.node(node))
            .and_then(|n| self.bot.components.get(&n.component))
            .and_then(|c| c.get("resourceId"))
            .and_then(Value::as_str)
            .and_then(|r| self.bot.forms.get(r));
        let Some(form) = form else { return (String::new(), Vec::new()) };
        let mut fields = Vec::new();
        let mut stack: Vec<&Value> =
            form.get("components").and_then(Value::as_array).into_iter().flatten().collect();
        stack.reverse();
        while let Some(c) = stack.pop() {
            let kind = c.get("type").and_then(Value::as_str).unwrap_or("");
            let meta = c.get("metaData");
            let visible = meta.and_then(|m| m.get("isVisible")).and_then(Value::as_bool).unwrap_or(true);
            if !matches!(kind, "button" | "proTip" | "label" | "divider" | "panel" | "section" | "")
                && visible
            {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
                let display = meta
                    .and_then(|m| m.get("displayName"))
                    .and_then(Value::as_str)
                    .unwrap_or(&name)
                    .to_owned();
                let values: Vec<Value> = meta
                    .and_then(|m| m.get("values"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.get("value").cloned())
                    .collect();
                fields.push(FormField { name, display, kind: kind.to_owned(), values });
            }
            let mut children: Vec<&Value> =
                c.get("components").and_then(Value::as_array).into_iter().flatten().collect();
            children.reverse();
            stack.extend(children);
        }
        (form.get("name").and_then(Value::as_str).unwrap_or("form").to_owned(), fields)
    }

    fn form_prompt(&mut self, node: &str, field: usize) {
        let (_, fields) = self.form_fields(node);
        let Some(FormField { display, values, .. }) = fields.get(field) else { return };
        if values.is_empty() {
            self.say(format!("Please enter {display}."));
            return;
        }
        let options: Vec<String> = values.iter().map(|v| as_text(Some(v))).collect();
        let buttons: Vec<Value> =
            options.iter().map(|o| json!({"type": "postback", "title": o, "payload": o})).collect();
        self.turn.messages.push(Message::Template {
            text: format!("Please choose {display}: {}", options.join(", ")),
            payload: json!({"type": "template", "payload": {"template_type": "button", "text": format!("Please choose {display}"), "buttons": buttons}}),
        });
    }

    /// Takes the answer to a form field; the form is submitted after its last field.
    pub fn form_answer(&mut self, node: &str, field: usize, retries: u32, text: &str) {
        let (form, fields) = self.form_fields(node);
        let Some(FormField { name, kind, values, .. }) = fields.get(field).cloned() else {
            self.clear_waiting();
            self.follow(None);
            return;
        };
        let value = if !values.is_empty() {
            ValueList::from_items(&values, "", "", "").find_or_prefix(text)
        } else {
            let entity_type = match kind.as_str() {
                "date" => "date",
                "number" => "number",
                "email" => "email",
                "phone" | "phoneNumber" => "phone_number",
                _ => "string",
            };
            extract(entity_type, text, self.host.today())
        };
        let Some(value) = value else {
            if retries + 1 > self.bot.limits.max_prompt_retries {
                self.fail_task("the form's answers were invalid too many times");
                return;
            }
            if let Some(task) = self.session.stack.last_mut() {
                task.waiting =
                    Some(Waiting::FormField { node: node.to_owned(), field, retries: retries + 1 });
            }
            self.say("That is not a valid answer.");
            self.form_prompt(node, field);
            return;
        };
        if let Some(task) = self.session.stack.last_mut() {
            set_path(&mut task.context, &format!("forms.{form}.{name}"), Some(value));
        }
        if field + 1 < fields.len() {
            if let Some(task) = self.session.stack.last_mut() {
                task.waiting =
                    Some(Waiting::FormField { node: node.to_owned(), field: field + 1, retries: 0 });
            }
            self.form_prompt(node, field + 1);
            return;
        }
        self.clear_waiting();
        self.node_message(node, "submitMessage");
        self.follow(None);
    }
}

/// A form field asked in chat.
#[derive(Debug, Clone)]
struct FormField {
    name: String,
    display: String,
    /// The form component's type (`textfield`, `date`, `dropdown`, …).
    kind: String,
    /// Allowed values of choice fields.
    values: Vec<Value>,
}

/// Compares a context value with a condition's operand.
fn compare(actual: Option<&Value>, op: &Op, expected: &str) -> bool {
    let present = match actual {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    };
    let text = as_text(actual);
    let numbers = (text.trim().parse::<f64>().ok(), expected.trim().parse::<f64>().ok());
    match op {
        Op::Exists => present,
        Op::NotExists => !present,
        Op::Eq => present && text.eq_ignore_ascii_case(expected.trim()),
        Op::Ne => !text.eq_ignore_ascii_case(expected.trim()),
        Op::Contains => match actual {
            Some(Value::Array(a)) => a.iter().any(|v| as_text(Some(v)).eq_ignore_ascii_case(expected)),
            _ => text.to_lowercase().contains(&expected.to_lowercase()),
        },
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let (Some(a), Some(b)) = numbers else { return false };
            match op {
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                _ => a >= b,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons() {
        assert!(compare(Some(&json!(true)), &Op::Eq, "true"));
        assert!(compare(Some(&json!("zip")), &Op::Eq, "zip"));
        assert!(!compare(Some(&json!("")), &Op::Exists, ""));
        assert!(compare(Some(&json!(5)), &Op::Gt, "3"));
        assert!(!compare(None, &Op::Eq, "x"));
        assert!(compare(Some(&json!(["a", "b"])), &Op::Contains, "b"));
    }
}
