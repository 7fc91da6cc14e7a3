//! The document of `GET /openapi.json`: the dialects' own documents, generated from their
//! handlers' annotations, put together under their path prefixes.
//!
//! The dialects are described apart and share names: handlers (`create_bot` in three of them)
//! and types (`WorkspaceView` is a different object in Botpress and in Bots.Business). An OpenAPI
//! document needs unique operation ids, and has one definition per component name, so:
//! - each operation id starts with its dialect's name: `botpress_create_bot`,
//!   `bots_business_create_bot` (generated clients name their functions after them);
//! - a component that two dialects define differently is renamed in each of them after its
//!   dialect (`BotpressWorkspaceView`, `BotsBusinessWorkspaceView`), references included; one
//!   they define alike stays shared under its own name.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};

/// One dialect's routes: their path prefix, the dialect's name in PascalCase (`BotsBusiness`),
/// and their document.
pub struct Part<'a> {
    pub prefix: &'a str,
    pub dialect: &'a str,
    pub doc: OpenApi,
}

/// The whole document.
pub fn document(parts: Vec<Part<'_>>) -> Value {
    let info = InfoBuilder::new()
        .title("botyard")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "A self-hosted bot platform speaking the admin APIs of Botpress (/v1), \
             Bots.Business (/v2) and Kore.ai (/api/public).",
        ))
        .build();
    let mut doc = to_value(OpenApiBuilder::new().info(info).build());
    let parts: Vec<(&str, &str, Value)> =
        parts.into_iter().map(|part| (part.prefix, part.dialect, to_value(part.doc))).collect();

    // `kind/name` of the components that two dialects define differently.
    let mut seen: BTreeMap<String, &Value> = BTreeMap::new();
    let mut clashing: BTreeSet<String> = BTreeSet::new();
    for (_, _, part) in &parts {
        for (kind, name, definition) in components(part) {
            let key = format!("{kind}/{name}");
            match seen.get(&key) {
                Some(other) if *other != definition => {
                    clashing.insert(key);
                }
                Some(_) => {}
                None => {
                    seen.insert(key, definition);
                }
            }
        }
    }

    for (prefix, dialect, mut part) in parts {
        let renamed = |kind: &str, name: &str| {
            if clashing.contains(&format!("{kind}/{name}")) {
                format!("{dialect}{name}")
            } else {
                name.to_owned()
            }
        };
        let refs: BTreeMap<String, String> = components(&part)
            .filter(|(kind, name, _)| clashing.contains(&format!("{kind}/{name}")))
            .map(|(kind, name, _)| {
                (
                    format!("#/components/{kind}/{name}"),
                    format!("#/components/{kind}/{}", renamed(kind, name)),
                )
            })
            .collect();
        rename_refs(&mut part, &refs);

        let Value::Object(part) = part else { unreachable!("a document is an object") };
        for (key, value) in part {
            match (key.as_str(), value) {
                ("paths", Value::Object(paths)) => {
                    let operation_prefix = snake_case(dialect);
                    for (path, mut item) in paths {
                        for operation in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
                            if let Some(Value::String(id)) = operation.get_mut("operationId") {
                                *id = format!("{operation_prefix}_{id}");
                            }
                        }
                        object(&mut doc, "paths").insert(format!("{prefix}{path}"), item);
                    }
                }
                ("components", Value::Object(kinds)) => {
                    for (kind, entries) in kinds {
                        let Value::Object(entries) = entries else { continue };
                        let all = object(object_value(&mut doc, "components"), &kind);
                        for (name, definition) in entries {
                            all.entry(renamed(&kind, &name)).or_insert(definition);
                        }
                    }
                }
                ("tags", Value::Array(tags)) => {
                    let all =
                        doc.as_object_mut().unwrap().entry("tags").or_insert_with(|| Value::Array(vec![]));
                    let all = all.as_array_mut().expect("tags are an array");
                    for tag in tags {
                        if !all.iter().any(|t| t["name"] == tag["name"]) {
                            all.push(tag);
                        }
                    }
                }
                // `openapi` and `info` are the whole document's; the dialects declare no servers
                // or security of their own.
                _ => {}
            }
        }
    }
    doc
}

fn to_value(doc: OpenApi) -> Value {
    serde_json::to_value(doc).expect("an OpenAPI document serializes")
}

/// `(kind, name, definition)` of each component of a document (`kind` as `schemas`).
fn components(doc: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
    doc.get("components")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(kind, entries)| Some((kind.as_str(), entries.as_object()?)))
        .flat_map(|(kind, entries)| entries.iter().map(move |(name, def)| (kind, name.as_str(), def)))
}

/// Rewrites every `$ref` found in `refs` to its new target.
fn rename_refs(value: &mut Value, refs: &BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(target) if key == "$ref" => {
                        if let Some(new) = refs.get(target.as_str()) {
                            *target = new.clone();
                        }
                    }
                    _ => rename_refs(v, refs),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, refs)),
        _ => {}
    }
}

/// The object under `key` of `value`, created empty when missing.
fn object<'a>(value: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    object_value(value, key).as_object_mut().expect("an object")
}

fn object_value<'a>(value: &'a mut Value, key: &str) -> &'a mut Value {
    value.as_object_mut().expect("an object").entry(key).or_insert_with(|| Value::Object(Map::new()))
}

/// `BotsBusiness` → `bots_business`.
fn snake_case(name: &str) -> String {
    let mut snake = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.extend(c.to_lowercase());
    }
    snake
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn part<'a>(prefix: &'a str, dialect: &'a str, doc: Value) -> Part<'a> {
        Part { prefix, dialect, doc: serde_json::from_value(doc).unwrap() }
    }

    fn dialect_doc(operation: &str, view: Value) -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "", "version": ""},
            "paths": {"/bots": {"get": {
                "operationId": operation,
                "responses": {"200": {"description": "The bots", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/BotView"}
                }}}}
            }}},
            "components": {"schemas": {
                "BotView": view,
                "Empty": {"type": "object"},
            }}
        })
    }

    #[test]
    fn dialects_keep_their_own_operations_and_types() {
        let a = json!({"type": "object", "properties": {"id": {"type": "string"}}});
        let b = json!({"type": "object", "properties": {"id": {"type": "integer"}}});
        let doc = document(vec![
            part("/v1", "Botpress", dialect_doc("list_bots", a.clone())),
            part("/v2", "BotsBusiness", dialect_doc("list_bots", b.clone())),
        ]);
        let ref_of = |path: &str| {
            doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                .clone()
        };
        assert_eq!(doc["paths"]["/v1/bots"]["get"]["operationId"], "botpress_list_bots");
        assert_eq!(doc["paths"]["/v2/bots"]["get"]["operationId"], "bots_business_list_bots");
        assert_eq!(ref_of("/v1/bots"), "#/components/schemas/BotpressBotView");
        assert_eq!(ref_of("/v2/bots"), "#/components/schemas/BotsBusinessBotView");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut names: Vec<&str> = schemas.keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["BotpressBotView", "BotsBusinessBotView", "Empty"]);
        assert_eq!(schemas["BotpressBotView"], a);
        assert_eq!(schemas["BotsBusinessBotView"], b);
        assert_eq!(doc["info"]["title"], "botyard");
    }
}
