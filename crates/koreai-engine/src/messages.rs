//! Bot messages: choosing a node's message for the channel and language, `{{…}}` templates, and
//! reading or writing `context.a.b[0].c` paths.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::text::decode_stored;

/// One message to show the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Text {
        text: String,
    },
    /// A Kore.ai template (buttons, lists, …) as the definition's script built it; `text` is a
    /// plain rendering for channels without templates.
    Template {
        text: String,
        payload: Value,
    },
}

impl Message {
    /// The message as plain text.
    pub fn text(&self) -> &str {
        match self {
            Message::Text { text } | Message::Template { text, .. } => text,
        }
    }
}

/// A message variant chosen from a definition's list.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub text: String,
    /// `basic` (a text template) or `uxmap`/`script` (JavaScript that prints the message).
    pub kind: String,
}

/// Chooses among `[{channel, localeData: {<lang>: {text, type}}}]` (node messages, event
/// messages): the channel's entries, else `default`'s; the language's text, else the default
/// language's; the `nth` variant modulo their count.
pub fn choose(
    list: Option<&Value>,
    channel: &str,
    language: &str,
    fallback: &str,
    nth: u64,
) -> Option<Chosen> {
    let entries: Vec<&Value> = list?.as_array()?.iter().collect();
    let of_channel = |ch: &str| -> Vec<&Value> {
        entries
            .iter()
            .copied()
            .filter(|e| e.get("channel").and_then(Value::as_str).unwrap_or("default") == ch)
            .collect()
    };
    let mut pool = of_channel(channel);
    if pool.is_empty() {
        pool = of_channel("default");
    }
    let texts: Vec<Chosen> = pool
        .iter()
        .filter_map(|e| {
            let locales = e.get("localeData")?;
            let l = locales.get(language).or_else(|| locales.get(fallback))?;
            Some(Chosen {
                text: decode_stored(l.get("text").and_then(Value::as_str)?),
                kind: l.get("type").and_then(Value::as_str).unwrap_or("basic").to_owned(),
            })
        })
        .filter(|c| !c.text.trim().is_empty())
        .collect();
    if texts.is_empty() {
        return None;
    }
    Some(texts[(nth % texts.len() as u64) as usize].clone())
}

fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                out.push(rest[..open].to_owned());
            }
            rest = &rest[open..];
            while let Some(close) = rest.find(']') {
                out.push(rest[1..close].trim_matches(|c| c == '\'' || c == '"').to_owned());
                rest = &rest[close + 1..];
                if !rest.starts_with('[') {
                    break;
                }
            }
        } else if !part.is_empty() {
            out.push(part.to_owned());
        }
    }
    out
}

/// The value at `path` (`context.session.BotUserSession.x`, `content.greeting`, `a[0].b`).
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut at = root;
    for seg in segments(path.trim()) {
        at = match at {
            Value::Object(m) => m.get(&seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// Sets (or with `None` removes) the value at `path` inside `root`, creating objects on the way.
pub fn set_path(root: &mut Map<String, Value>, path: &str, value: Option<Value>) {
    let segs = segments(path.trim());
    let Some((last, parents)) = segs.split_last() else { return };
    let mut at = root;
    for seg in parents {
        let next = at.entry(seg.clone()).or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        at = next.as_object_mut().expect("made an object above");
    }
    match value {
        Some(v) => {
            at.insert(last.clone(), v);
        }
        None => {
            at.remove(last);
        }
    }
}

/// A value as template text: strings as they are, other JSON as JSON, nothing as nothing.
pub fn as_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Replaces each `{{path}}` with the value at that path in `root` (`{"context", "content", "env"}`).
pub fn render(template: &str, root: &Value) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        out.push_str(&as_text(lookup(root, after[..close].trim())));
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn templates_and_paths() {
        let root = json!({"context": {"entities": {"city": "Raleigh"}, "slots": [{"time": "9 am"}]}, "content": {"hi": "Hello"}});
        assert_eq!(
            render("{{content.hi}}, {{ context.entities.city }}! {{context.nope}}", &root),
            "Hello, Raleigh! "
        );
        assert_eq!(lookup(&root, "context.slots[0].time"), Some(&json!("9 am")));
        let mut m = Map::new();
        set_path(&mut m, "a.b[0]", Some(json!(1)));
        assert_eq!(Value::Object(m.clone()), json!({"a": {"b": {"0": 1}}}));
        set_path(&mut m, "a.b", None);
        assert_eq!(Value::Object(m), json!({"a": {}}));
    }

    #[test]
    fn channel_then_default() {
        let list = json!([
            {"channel": "default", "localeData": {"en": {"text": "Hi%20there", "type": "basic"}}},
            {"channel": "rtm", "localeData": {"en": {"text": "print('x')", "type": "uxmap"}}}
        ]);
        let c = choose(Some(&list), "rtm", "en", "en", 0).unwrap();
        assert_eq!(c.kind, "uxmap");
        let c = choose(Some(&list), "telegram", "es", "en", 0).unwrap();
        assert_eq!(c.text, "Hi there");
    }
}
