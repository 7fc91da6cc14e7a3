//! Dialog tasks compiled from `dialogs[]` joined with `dialogComponents[]`: nodes, their
//! components and their transitions.

use std::collections::HashMap;

use serde_json::Value;

use crate::text::split_name;

/// What a node does, from its `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Intent,
    Entity,
    Message,
    Script,
    Service,
    Logic,
    Confirmation,
    Form,
    AgentTransfer,
    /// `botAction`, `webhook` and other kinds the engine passes through.
    Other,
}

impl NodeKind {
    fn parse(raw: &str) -> Self {
        match raw {
            "intent" | "dialog" => Self::Intent,
            "entity" => Self::Entity,
            "message" => Self::Message,
            "script" => Self::Script,
            "service" => Self::Service,
            "logic" => Self::Logic,
            "dialogAct" => Self::Confirmation,
            "form" => Self::Form,
            "agentTransfer" => Self::AgentTransfer,
            _ => Self::Other,
        }
    }
}

/// A comparison in a transition condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Exists,
    NotExists,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

impl Op {
    fn parse(raw: &str) -> Self {
        match raw {
            "eq" | "equals" | "=" | "==" => Self::Eq,
            "neq" | "ne" | "notEquals" | "!=" => Self::Ne,
            "lt" | "<" => Self::Lt,
            "lte" | "le" | "<=" => Self::Le,
            "gt" | ">" => Self::Gt,
            "gte" | "ge" | ">=" => Self::Ge,
            "contains" => Self::Contains,
            "notExists" | "notexists" | "not_exists" => Self::NotExists,
            _ => Self::Exists,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The user's answer to a confirmation node.
    DialogAct(bool),
    /// An entity node's value (the node id names the entity).
    Entity { node: String, op: Op, value: String },
    /// A context path such as `context.session.BotUserSession.x`.
    Context { path: String, op: Op, value: String },
    /// The current input matches the intent of the named node.
    Intent { node: String },
    /// A condition left empty in the builder: never true.
    Never,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// None: the default connection.
    pub condition: Option<Condition>,
    /// None: the end of the dialog.
    pub target: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    pub component: String,
    pub transitions: Vec<Transition>,
    /// `nodeOptions` as exported.
    pub options: Value,
}

#[derive(Debug, Clone)]
pub struct Dialog {
    /// `dg-…`
    pub id: String,
    pub ref_id: String,
    /// The dialog's display name in the default language.
    pub name: String,
    /// The root intent's component id (ML utterances point at it).
    pub intent_component: String,
    /// Words of the intent's name, for label matching when a dialog has no training.
    pub label: String,
    pub nodes: Vec<Node>,
    pub node_index: HashMap<String, usize>,
    /// The root intent node.
    pub root: Option<usize>,
}

impl Dialog {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.node_index.get(id).map(|&i| &self.nodes[i])
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn parse_transition(raw: &Value) -> Option<Transition> {
    let target_of = |v: Option<&Value>| -> Option<String> {
        let t = v.and_then(Value::as_str).unwrap_or("");
        (!t.is_empty() && t != "end").then(|| t.to_owned())
    };
    if let Some(cond) = raw.get("if") {
        let op = Op::parse(cond.get("op").and_then(Value::as_str).unwrap_or(""));
        let value = match cond.get("value") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let condition = if let Some(act) = cond.get("dialogAct").and_then(Value::as_str) {
            Condition::DialogAct(act == "yes")
        } else if let Some(node) = cond.get("intent").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            Condition::Intent { node: node.to_owned() }
        } else if let Some(node) = cond.get("field").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            Condition::Entity { node: node.to_owned(), op, value }
        } else if let Some(path) = cond.get("context").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            Condition::Context { path: path.to_owned(), op, value }
        } else {
            Condition::Never
        };
        return Some(Transition { condition: Some(condition), target: target_of(raw.get("then")) });
    }
    raw.get("default").map(|d| Transition { condition: None, target: target_of(Some(d)) })
}

/// Compiles every dialog of the definition.
pub fn compile_dialogs(
    definition: &Value,
    components: &HashMap<String, Value>,
    language: &str,
) -> Vec<Dialog> {
    let mut out = Vec::new();
    for raw in definition.get("dialogs").and_then(Value::as_array).into_iter().flatten() {
        let id = text(raw, "_id");
        let mut nodes = Vec::new();
        for n in raw.get("nodes").and_then(Value::as_array).into_iter().flatten() {
            let transitions = n
                .get("transitions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(parse_transition)
                .collect();
            nodes.push(Node {
                id: text(n, "nodeId"),
                kind: NodeKind::parse(n.get("type").and_then(Value::as_str).unwrap_or("")),
                component: text(n, "componentId"),
                transitions,
                options: n.get("nodeOptions").cloned().unwrap_or(Value::Null),
            });
        }
        let node_index = nodes.iter().enumerate().map(|(i, n)| (n.id.clone(), i)).collect();
        // The root intent is the intent node whose component belongs to this dialog.
        let root = nodes
            .iter()
            .position(|n| {
                n.kind == NodeKind::Intent
                    && components.get(&n.component).and_then(|c| c.get("dialogId")).and_then(Value::as_str)
                        == Some(id.as_str())
            })
            .or_else(|| nodes.iter().position(|n| n.kind == NodeKind::Intent));
        let intent_component = root.map(|r| nodes[r].component.clone()).unwrap_or_default();
        let intent = components.get(&intent_component);
        let intent_name = intent
            .and_then(|c| c.pointer(&format!("/localeData/{language}/intent")))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| intent.map(|c| text(c, "name")))
            .unwrap_or_default();
        let name = raw
            .pointer(&format!("/localeData/{language}/name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| if intent_name.is_empty() { text(raw, "lname") } else { intent_name.clone() });
        out.push(Dialog {
            ref_id: text(raw, "refId"),
            label: split_name(&intent_name),
            name,
            id,
            intent_component,
            nodes,
            node_index,
            root,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn transitions_parse() {
        let t = parse_transition(&json!({"if": {"dialogAct": "no"}, "then": "end"})).unwrap();
        assert_eq!(t.condition, Some(Condition::DialogAct(false)));
        assert_eq!(t.target, None);
        let t = parse_transition(&json!({"if": {"field": "entity6"}, "then": "script7"})).unwrap();
        assert_eq!(
            t.condition,
            Some(Condition::Entity { node: "entity6".into(), op: Op::Exists, value: String::new() })
        );
        let t = parse_transition(
            &json!({"if": {"context": "context.x", "op": "eq", "value": "true"}, "then": "a"}),
        )
        .unwrap();
        assert_eq!(
            t.condition,
            Some(Condition::Context { path: "context.x".into(), op: Op::Eq, value: "true".into() })
        );
        let t = parse_transition(&json!({"if": {"context": "", "op": "", "value": ""}, "then": ""})).unwrap();
        assert_eq!(t.condition, Some(Condition::Never));
        let t = parse_transition(&json!({"default": "message1"})).unwrap();
        assert_eq!(t.target.as_deref(), Some("message1"));
    }
}
