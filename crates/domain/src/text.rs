//! Text botyard stores. PostgreSQL's text type cannot hold the NUL character (SQLite's can), so
//! text with NUL is refused where a client sends it — every JSON body, CSV sheets, git files,
//! names — and replaced by U+FFFD where it comes from a running bot or a channel (error messages,
//! names Telegram sends), so both backends store the same thing.

use std::borrow::Cow;

use crate::error::{Error, Result};

pub const NUL_REFUSED: &str = "Text may not contain the NUL character (\\u0000)";

/// Refuses text that holds NUL, naming what it is.
pub fn refuse_nul(what: &str, text: &str) -> Result<()> {
    if text.contains('\0') { Err(Error::invalid(format!("{what}: {NUL_REFUSED}"))) } else { Ok(()) }
}

/// The text with every NUL replaced by U+FFFD.
pub fn without_nul(text: &str) -> Cow<'_, str> {
    if text.contains('\0') { Cow::Owned(text.replace('\0', "\u{FFFD}")) } else { Cow::Borrowed(text) }
}

/// Whether a JSON document (as sent) has a string holding NUL: an unescaped `\u0000` escape.
pub fn json_has_nul(json: &[u8]) -> bool {
    let mut backslashes = 0usize;
    for (i, byte) in json.iter().enumerate() {
        if *byte == b'\\' {
            backslashes += 1;
            continue;
        }
        if *byte == b'u' && backslashes % 2 == 1 && json[i + 1..].starts_with(b"0000") {
            return true;
        }
        backslashes = 0;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul_escapes_only() {
        assert!(json_has_nul(br#"{"name": "a\u0000b"}"#));
        assert!(json_has_nul(br#"["\\\u0000"]"#));
        assert!(!json_has_nul(br#"{"code": "'\\u0000'"}"#), "an escaped backslash is text");
        assert!(json_has_nul(br#"{"name": "\u00001"}"#));
        assert!(!json_has_nul(br#"{"name": "u0000"}"#));
        assert_eq!(without_nul("a\0b"), "a\u{FFFD}b");
        assert!(refuse_nul("name", "a\0").is_err());
    }
}
