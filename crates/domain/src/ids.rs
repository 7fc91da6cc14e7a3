//! Identifiers. Bots have two: a UUID shown by the Botpress dialect (and, prefixed with `st-`, by
//! the Kore.ai dialect) and a serial number shown by the Bots.Business dialect. Every dialect
//! accepts either form wherever a bot id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{Error, ErrorCode};

/// The canonical id of a bot: a lower-case hyphenated UUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BotId(String);

impl BotId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        uuid::Uuid::parse_str(raw).ok().map(|u| Self(u.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a value read back from storage, which was validated when written.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }
}

impl fmt::Display for BotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A bot id as a client wrote it: the serial number, the UUID, or the UUID with Kore.ai's `st-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BotRef {
    Number(i64),
    Id(BotId),
}

impl BotRef {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let raw = raw.trim();
        if !raw.is_empty()
            && raw.len() <= 18
            && raw.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = raw.parse::<i64>()
        {
            return Ok(Self::Number(n));
        }
        let uuid = raw.strip_prefix("st-").unwrap_or(raw);
        BotId::parse(uuid)
            .map(Self::Id)
            .ok_or_else(|| Error::new(ErrorCode::InvalidIdentifier, format!("Invalid bot id: {raw}")))
    }
}

/// A workspace id: `wks_` followed by 26 characters of a UUID v7 in base 32.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WorkspaceId(String);

impl WorkspaceId {
    pub fn generate() -> Self {
        Self(format!("wks_{}", uuid::Uuid::now_v7().simple()))
    }

    pub fn parse(raw: &str) -> Result<Self, Error> {
        let ok = raw.len() <= 64
            && !raw.is_empty()
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::new(ErrorCode::InvalidIdentifier, format!("Invalid workspace id: {raw}")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }
}

impl fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A botyard account (a person who builds bots), not an end user of a bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_refs_accept_every_dialect_form() {
        let id = BotId::generate();
        assert_eq!(BotRef::parse(id.as_str()).unwrap(), BotRef::Id(id.clone()));
        assert_eq!(BotRef::parse(&format!("st-{id}")).unwrap(), BotRef::Id(id.clone()));
        assert_eq!(BotRef::parse("2792787").unwrap(), BotRef::Number(2792787));
        assert_eq!(BotRef::parse("nope").unwrap_err().code, ErrorCode::InvalidIdentifier);
        assert!(WorkspaceId::parse("wks_abc").is_ok());
        assert!(WorkspaceId::parse("x y").is_err());
    }
}
