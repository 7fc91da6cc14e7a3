//! Keyboards: the reply keyboard of Bots.Business's text format (commas split buttons, newlines
//! split rows) and inline keyboards (buttons that run a command or open a URL).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

pub const BUTTON_MAX_CHARS: usize = 200;
pub const BUTTONS_MAX: usize = 100;

/// A button under a message that runs a command (like a typed message) or opens a URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineButton {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The keyboard attached to a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "rows", rename_all = "snake_case")]
pub enum Keyboard {
    /// Buttons replacing the user's keyboard; pressing one sends its text.
    Reply(Vec<Vec<String>>),
    /// Buttons under the message.
    Inline(Vec<Vec<InlineButton>>),
    /// Hide a reply keyboard shown before.
    Remove,
}

/// Parses `"A, B\nC"` into rows of buttons; an empty text is no keyboard.
pub fn parse_reply_keyboard(text: &str) -> Result<Option<Keyboard>> {
    let rows: Vec<Vec<String>> = text
        .split('\n')
        .map(|row| {
            row.split(',').map(str::trim).filter(|b| !b.is_empty()).map(str::to_owned).collect::<Vec<_>>()
        })
        .filter(|row| !row.is_empty())
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    check_count(rows.iter().map(Vec::len).sum())?;
    for button in rows.iter().flatten() {
        check_title(button)?;
    }
    Ok(Some(Keyboard::Reply(rows)))
}

/// Reads BJS's inline keyboard argument: an array of buttons (one row) or of arrays (rows); each
/// button `{title, command}` or `{title, url}` (other keys ignored).
pub fn parse_inline_keyboard(value: &Value) -> Result<Keyboard> {
    let invalid = || {
        Error::invalid("Inline keyboard must be an array of buttons {title, command|url} or of rows of them")
    };
    let items = value.as_array().ok_or_else(invalid)?;
    let nested = items.iter().any(Value::is_array);
    let rows: Vec<&Value> = if nested { items.iter().collect() } else { vec![value] };
    let mut keyboard = Vec::new();
    for row in rows {
        let mut buttons = Vec::new();
        for item in row.as_array().ok_or_else(invalid)? {
            let title = item.get("title").and_then(Value::as_str).ok_or_else(invalid)?;
            let command = item.get("command").and_then(Value::as_str).map(str::to_owned);
            let url = item.get("url").and_then(Value::as_str).map(str::to_owned);
            if command.is_none() && url.is_none() {
                return Err(Error::invalid(format!("Inline button \"{title}\" needs a command or a url")));
            }
            if let Some(url) = &url
                && !link_allowed(url)
            {
                return Err(Error::invalid(format!(
                    "Inline button \"{title}\": only http, https and tg links may be opened, not \"{url}\""
                )));
            }
            check_title(title)?;
            buttons.push(InlineButton { title: title.to_owned(), command, url });
        }
        if !buttons.is_empty() {
            keyboard.push(buttons);
        }
    }
    check_count(keyboard.iter().map(Vec::len).sum())?;
    Ok(Keyboard::Inline(keyboard))
}

fn check_count(count: usize) -> Result<()> {
    if count > BUTTONS_MAX {
        return Err(Error::limit(format!("A keyboard can have at most {BUTTONS_MAX} buttons")));
    }
    Ok(())
}

fn check_title(title: &str) -> Result<()> {
    if title.chars().count() > BUTTON_MAX_CHARS {
        return Err(Error::invalid(format!("Button titles must be at most {BUTTON_MAX_CHARS} characters")));
    }
    Ok(())
}

/// Whether a button may open this link: http(s) and Telegram's `tg://`, as Telegram itself
/// accepts; `javascript:` and the like would run in the web chat.
pub fn link_allowed(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("tg://")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reply_keyboards_split_on_commas_and_newlines() {
        let kb = parse_reply_keyboard("register, about,\n contacts").unwrap().unwrap();
        assert_eq!(
            kb,
            Keyboard::Reply(vec![vec!["register".into(), "about".into()], vec!["contacts".into()]])
        );
        assert_eq!(parse_reply_keyboard(" \n ").unwrap(), None);
    }

    #[test]
    fn inline_keyboards_accept_rows_or_one_row() {
        let flat = parse_inline_keyboard(
            &json!([{"title": "A", "command": "/a"}, {"title": "B", "url": "https://x"}]),
        )
        .unwrap();
        let Keyboard::Inline(rows) = flat else { panic!() };
        assert_eq!(rows.len(), 1);
        let nested = parse_inline_keyboard(&json!([[{"title": "A", "command": "touchButton delete", "name": "x"}], [{"title": "B", "command": "/b"}]])).unwrap();
        let Keyboard::Inline(rows) = nested else { panic!() };
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0].command.as_deref(), Some("touchButton delete"));
        assert!(parse_inline_keyboard(&json!([{"title": "A"}])).is_err());
        for bad in ["javascript:alert(1)", " JavaScript:x", "data:text/html,x", "file:///etc/passwd"] {
            assert!(parse_inline_keyboard(&json!([{"title": "A", "url": bad}])).is_err(), "{bad}");
        }
        assert!(parse_inline_keyboard(&json!([{"title": "A", "url": "tg://resolve?domain=x"}])).is_ok());
        assert!(parse_inline_keyboard(&json!("nope")).is_err());
    }
}
