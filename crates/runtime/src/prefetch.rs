//! Properties read ahead of a run. Most BJS code names the properties it reads in the call itself
//! (`User.getProperty("balance")`); those are read before the run starts, together with what other
//! runs starting at the same time need ([`Batched`]), so the script finds them in its host instead
//! of stopping its executor for a database round trip. Properties named any other way (a name
//! built at run time, as libraries do) are still read when the script asks.
//!
//! Reading early changes nothing a run can observe: its chat's earlier runs have committed before
//! it starts, and a run reads each property once anyway (the host keeps what it read).

use botyard_domain::Result;
use botyard_domain::property::{self, PropertyScope};
use botyard_store::{PropertyKey, PropertyStore, Store};
use serde_json::Value;

use botyard_domain::bot::Bot;
use botyard_domain::conversation::{BotUser, Chat};
use botyard_sandbox::{Body, Program};

use crate::Runtime;
use crate::batched::Batched;

/// Properties one run reads ahead, at most.
pub(crate) const MAX_NAMED_READS: usize = 32;

/// The properties `code` reads by a literal name — `User.getProperty("balance")`,
/// `Bot.getProp('total', 0)`, `Chat.getProperty("topic")` — in order, without repeats, at most
/// `limit`.
pub(crate) fn named_reads(code: &str, limit: usize) -> Vec<(PropertyScope, String)> {
    let bytes = code.as_bytes();
    let mut found: Vec<(PropertyScope, String)> = Vec::new();
    for (at, _) in code.match_indices(".getProp") {
        if found.len() >= limit {
            break;
        }
        let Some(scope) = receiver(&bytes[..at]) else { continue };
        let mut rest = &code[at + ".getProp".len()..];
        rest = rest.strip_prefix("erty").unwrap_or(rest);
        let Some(name) = literal_first_argument(rest) else { continue };
        if property::check_name(name).is_err() {
            continue;
        }
        if !found.iter().any(|(s, n)| *s == scope && n == name) {
            found.push((scope, name.to_owned()));
        }
    }
    found
}

/// The scope of `User`, `Bot` or `Chat` ending `before`, when it is that global itself (not
/// `myUser` or `a.User`).
fn receiver(before: &[u8]) -> Option<PropertyScope> {
    let (scope, len) = if before.ends_with(b"User") {
        (PropertyScope::User, 4)
    } else if before.ends_with(b"Chat") {
        (PropertyScope::Chat, 4)
    } else if before.ends_with(b"Bot") {
        (PropertyScope::Bot, 3)
    } else {
        return None;
    };
    match before.len().checked_sub(len + 1).map(|i| before[i]) {
        Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'.' => None,
        _ => Some(scope),
    }
}

/// The string literal that is the whole first argument of the call `rest` starts: `("name")` or
/// `('name', …)`; none with escapes or line breaks.
fn literal_first_argument(rest: &str) -> Option<&str> {
    let rest = rest.trim_start().strip_prefix('(')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &rest[1..];
    let end = body.find(quote)?;
    let name = &body[..end];
    if name.contains(['\\', '\n', '\r']) {
        return None;
    }
    match body[end + 1..].trim_start().chars().next() {
        Some(')' | ',') => Some(name),
        _ => None,
    }
}

/// A property a run read, as its host keeps it: scope, owner, name and value (`None`: absent).
pub(crate) type ReadAhead = Vec<((PropertyScope, i64, String), Option<Value>)>;

impl Runtime {
    /// The properties the run's code names literally (its command and the bot's code), read with
    /// what other runs starting now read.
    pub(crate) async fn read_ahead(
        &self,
        bot: &Bot,
        chat: &Chat,
        user: Option<&BotUser>,
        program: &Program,
    ) -> Result<ReadAhead> {
        let command = match &program.body {
            Body::Command { code } | Body::Unmatched { code: Some(code), .. } => Some(code.as_str()),
            _ => None,
        };
        let mut keys: Vec<PropertyKey> = Vec::new();
        for code in command.into_iter().chain(program.bot_code.as_deref()) {
            for (scope, name) in named_reads(code, MAX_NAMED_READS - keys.len()) {
                let owner = match scope {
                    PropertyScope::Bot => 0,
                    PropertyScope::Chat => chat.id,
                    PropertyScope::User => match user {
                        Some(user) => user.id,
                        None => continue,
                    },
                };
                let key = (bot.number, scope, owner, name);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.services().metrics.property_reads("before_run", keys.len());
        let values = self.inner.property_reads.get(keys.clone()).await?;
        Ok(keys
            .into_iter()
            .zip(values)
            .map(|((_, scope, owner, name), value)| ((scope, owner, name), value))
            .collect())
    }
}

/// The runtime's grouped property reads: each request is one run's keys.
pub(crate) type PropertyReads = Batched<Vec<PropertyKey>, Vec<Option<Value>>>;

pub(crate) fn start(store: Store) -> PropertyReads {
    Batched::start_reads(store.reads_locally(), move |runs: Vec<Vec<PropertyKey>>| {
        let store = store.clone();
        async move { read(&store, runs).await }
    })
}

async fn read(store: &Store, runs: Vec<Vec<PropertyKey>>) -> Result<Vec<Vec<Option<Value>>>> {
    let keys: Vec<PropertyKey> = runs.iter().flatten().cloned().collect();
    let mut values = store.properties_of(&keys).await?.into_iter().map(|p| p.map(|p| p.value));
    Ok(runs.iter().map(|run| values.by_ref().take(run.len()).collect()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(code: &str) -> Vec<(PropertyScope, String)> {
        named_reads(code, MAX_NAMED_READS)
    }

    #[test]
    fn literal_names_of_the_three_scopes_are_found() {
        let code = r#"var n = (User.getProperty('n') || 0) + 1;
            var total = Bot.getProp( "total" , 0);
            if (Chat.getProperty("topic")) { Bot.sendMessage(User.getProp('n')); }"#;
        assert_eq!(
            names(code),
            vec![
                (PropertyScope::User, "n".to_owned()),
                (PropertyScope::Bot, "total".to_owned()),
                (PropertyScope::Chat, "topic".to_owned()),
            ]
        );
    }

    #[test]
    fn names_built_at_run_time_or_of_other_objects_are_left_to_the_run() {
        let code = r#"User.getProperty("coins_" + kind);
            User.getProperty(name);
            User.getProperty({ name: "x", user_id: 5 });
            myUser.getProperty("a"); lib.User.getProperty("b"); $Bot.getProp("c");
            User.getProperty("it\'s"); User.getProperty("two
            lines"); User.getProperty("   ");
            User.getPropertyNames("d");"#;
        assert_eq!(names(code), Vec::new());
    }

    #[test]
    fn repeats_count_once_and_the_limit_holds() {
        let code: String =
            (0..50).map(|i| format!("User.getProperty('p{i}'); User.getProp('p{i}');")).collect();
        let found = named_reads(&code, 5);
        assert_eq!(found.len(), 5);
        assert_eq!(found[4], (PropertyScope::User, "p4".to_owned()));
    }
}
