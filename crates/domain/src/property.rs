//! Properties: typed values a bot stores for itself, a user or a chat.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::time::Timestamp;

pub const NAME_MAX_CHARS: usize = 200;
/// The largest value, as JSON text.
pub const VALUE_MAX_BYTES: usize = 10 * 1024;
/// Strings longer than this are inferred as `text` rather than `string`.
const STRING_MAX_CHARS: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PropertyScope {
    Bot,
    User,
    Chat,
}

impl PropertyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "bot",
            Self::User => "user",
            Self::Chat => "chat",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "bot" => Ok(Self::Bot),
            "user" => Ok(Self::User),
            "chat" => Ok(Self::Chat),
            other => {
                Err(Error::invalid(format!("Unknown property scope \"{other}\": expected bot, user or chat")))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PropertyType {
    Integer,
    Float,
    Boolean,
    String,
    Text,
    Json,
    Datetime,
}

impl PropertyType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Integer => "integer",
            Self::Float => "float",
            Self::Boolean => "boolean",
            Self::String => "string",
            Self::Text => "text",
            Self::Json => "json",
            Self::Datetime => "datetime",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "integer" => Ok(Self::Integer),
            "float" => Ok(Self::Float),
            "boolean" => Ok(Self::Boolean),
            "string" => Ok(Self::String),
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "datetime" => Ok(Self::Datetime),
            other => Err(Error::invalid(format!(
                "Unknown property type \"{other}\": expected integer, float, boolean, string, text, json or datetime"
            ))),
        }
    }

    /// The type Bots.Business infers for a value set without one.
    pub fn infer(value: &Value) -> Self {
        match value {
            Value::Bool(_) => Self::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => Self::Integer,
            Value::Number(_) => Self::Float,
            Value::String(s) if s.chars().count() > STRING_MAX_CHARS => Self::Text,
            Value::String(_) => Self::String,
            _ => Self::Json,
        }
    }
}

/// A property as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Property {
    pub id: i64,
    pub scope: PropertyScope,
    /// The user or chat the property belongs to (0 for bot properties).
    pub owner: i64,
    pub name: String,
    pub kind: PropertyType,
    pub value: Value,
    pub updated_at: Timestamp,
}

/// Checks a name and converts `value` to `kind` (inferred when absent). `None` deletes.
pub fn typed_value(
    name: &str,
    value: Value,
    kind: Option<PropertyType>,
) -> Result<Option<(PropertyType, Value)>> {
    check_name(name)?;
    if value.is_null() {
        return Ok(None);
    }
    let kind = kind.unwrap_or_else(|| PropertyType::infer(&value));
    let converted = convert(name, value, kind)?;
    let size = serde_json::to_string(&converted).map(|s| s.len()).unwrap_or(usize::MAX);
    if size > VALUE_MAX_BYTES {
        return Err(Error::limit(format!(
            "Property \"{name}\" is too large ({size} bytes; the limit is {} KB)",
            VALUE_MAX_BYTES / 1024
        )));
    }
    Ok(Some((kind, converted)))
}

pub fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid("Property name can't be blank"));
    }
    crate::text::refuse_nul("Property name", name)?;
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(Error::invalid(format!(
            "Property name is too long (maximum is {NAME_MAX_CHARS} characters)"
        )));
    }
    Ok(())
}

fn convert(name: &str, value: Value, kind: PropertyType) -> Result<Value> {
    let mismatch =
        |v: &Value| Error::invalid(format!("Property \"{name}\": {v} is not a valid {}", kind.as_str()));
    Ok(match kind {
        PropertyType::Integer => match &value {
            Value::Number(n) if n.is_i64() || n.is_u64() => value,
            Value::Number(n) => n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| Value::from(f as i64))
                .ok_or_else(|| mismatch(&value))?,
            Value::String(s) => s.trim().parse::<i64>().map(Value::from).map_err(|_| mismatch(&value))?,
            _ => return Err(mismatch(&value)),
        },
        PropertyType::Float => match &value {
            Value::Number(_) => value,
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| mismatch(&value))?,
            _ => return Err(mismatch(&value)),
        },
        PropertyType::Boolean => match &value {
            Value::Bool(_) => value,
            Value::String(s) if s == "true" || s == "false" => Value::Bool(s == "true"),
            _ => return Err(mismatch(&value)),
        },
        PropertyType::String | PropertyType::Text => match value {
            Value::String(_) => value,
            other => Value::String(match &other {
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => other.to_string(),
            }),
        },
        PropertyType::Json => value,
        PropertyType::Datetime => match &value {
            Value::String(s) if Timestamp::parse_rfc3339(s).is_some() => value,
            Value::Number(n) => n
                .as_i64()
                .map(|ms| Value::String(Timestamp(ms).to_rfc3339()))
                .ok_or_else(|| mismatch(&value))?,
            _ => return Err(mismatch(&value)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_typed_inferred_and_bounded() {
        assert_eq!(typed_value("n", json!(3), None).unwrap(), Some((PropertyType::Integer, json!(3))));
        assert_eq!(typed_value("f", json!(1.5), None).unwrap(), Some((PropertyType::Float, json!(1.5))));
        assert_eq!(typed_value("o", json!({"a": 1}), None).unwrap().unwrap().0, PropertyType::Json);
        assert_eq!(typed_value("t", json!("x".repeat(300)), None).unwrap().unwrap().0, PropertyType::Text);
        assert_eq!(
            typed_value("n", json!("42"), Some(PropertyType::Integer)).unwrap(),
            Some((PropertyType::Integer, json!(42)))
        );
        assert!(typed_value("n", json!("x"), Some(PropertyType::Integer)).is_err());
        assert_eq!(typed_value("gone", Value::Null, None).unwrap(), None);
        assert_eq!(
            typed_value("big", json!("x".repeat(20_000)), None).unwrap_err().code,
            crate::ErrorCode::LimitExceeded
        );
        assert!(typed_value("", json!(1), None).is_err());
    }
}
