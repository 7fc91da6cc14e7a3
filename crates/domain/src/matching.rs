//! Which command an incoming message runs, in Bots.Business's order: a pending `need_reply`
//! command of this user in this chat; a command or alias matching the message (the whole text, or
//! its beginning followed by a space, the rest being `params`), exactly first and then ignoring
//! case; the `*` master command; nothing.

use crate::command::Command;

/// What a message runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Route<'c> {
    /// The reply to a command that asked for one (`need_reply`); the whole message is the answer.
    Reply(&'c Command),
    /// A command matched by name or alias.
    Command { command: &'c Command, params: String },
    /// No command matched; the `*` command (if the bot has one) handles it.
    Unmatched { master: Option<&'c Command> },
}

/// The commands a bot has, looked up by the rules above.
pub struct CommandSet<'c> {
    commands: &'c [Command],
}

impl<'c> CommandSet<'c> {
    pub fn new(commands: &'c [Command]) -> Self {
        Self { commands }
    }

    /// A command by its exact name (special commands included).
    pub fn named(&self, name: &str) -> Option<&'c Command> {
        self.commands.iter().find(|c| c.command == name)
    }

    pub fn by_id(&self, id: i64) -> Option<&'c Command> {
        self.commands.iter().find(|c| c.id == id)
    }

    /// Routes a message. `pending` is the id of a command waiting for this user's reply.
    pub fn route(&self, text: &str, pending: Option<i64>, groups: &[String]) -> Route<'c> {
        if let Some(command) = pending.and_then(|id| self.by_id(id)) {
            return Route::Reply(command);
        }
        let text = text.trim();
        let allowed = |c: &Command| c.group.is_empty() || groups.iter().any(|g| g == &c.group);
        for exact in [true, false] {
            if let Some((command, params)) = self.find(text, exact, &allowed) {
                return Route::Command { command, params };
            }
        }
        Route::Unmatched { master: self.named("*") }
    }

    /// The command a text names (as `Bot.runCommand` does), whatever the user's groups: exact
    /// case first, then any case; with the rest of the text as `params`.
    pub fn lookup(&self, text: &str) -> Option<(&'c Command, String)> {
        let text = text.trim();
        if let Some(special) = self.commands.iter().find(|c| c.is_special() && c.command == text) {
            return Some((special, String::new()));
        }
        let any = |_: &Command| true;
        self.find(text, true, &any).or_else(|| self.find(text, false, &any))
    }

    /// The command whose name (or alias) is the longest match of the text or its beginning. Names
    /// may repeat (Bots.Business keeps such bots): among equally long matches a command's own name
    /// beats an alias, and then the first created command wins.
    fn find(
        &self,
        text: &str,
        exact_case: bool,
        allowed: &dyn Fn(&Command) -> bool,
    ) -> Option<(&'c Command, String)> {
        // Ranked by (longer match, own name rather than alias, older command).
        let mut best: Option<(&'c Command, usize, bool)> = None;
        for command in self.commands.iter().filter(|c| !c.is_special() && allowed(c)) {
            let names = std::iter::once((command.command.as_str(), false))
                .chain(command.aliases.iter().map(|a| (a.alias.as_str(), true)));
            for (name, alias) in names {
                let Some(len) = prefix_len(text, name, exact_case) else { continue };
                let better = best.is_none_or(|(held, held_len, held_alias)| {
                    (len, !alias, std::cmp::Reverse(command.id))
                        > (held_len, !held_alias, std::cmp::Reverse(held.id))
                });
                if better {
                    best = Some((command, len, alias));
                }
            }
        }
        best.map(|(command, len, _)| (command, text[len..].trim().to_owned()))
    }
}

/// The length of `name` in `text` if the text is the name, or starts with it and a space.
fn prefix_len(text: &str, name: &str, exact_case: bool) -> Option<usize> {
    if name.is_empty() || text.len() < name.len() || !text.is_char_boundary(name.len()) {
        return None;
    }
    let head = &text[..name.len()];
    let same = if exact_case { head == name } else { head.to_lowercase() == name.to_lowercase() };
    let boundary = text.len() == name.len() || text[name.len()..].starts_with(char::is_whitespace);
    (same && boundary).then_some(name.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Alias;
    use crate::time::Timestamp;

    fn command(id: i64, name: &str, aliases: &[&str], group: &str) -> Command {
        Command {
            id,
            bot_number: 1,
            command: name.into(),
            help: String::new(),
            answer: String::new(),
            keyboard: String::new(),
            need_reply: false,
            auto_retry_time: None,
            last_auto_retry_at: None,
            folder_id: None,
            folder: None,
            group: group.into(),
            code: String::new(),
            created_via_csv_import: false,
            last_csv_import_at: None,
            aliases: aliases
                .iter()
                .map(|a| Alias {
                    id: 0,
                    alias: (*a).into(),
                    command_id: id,
                    created_at: Timestamp(0),
                    updated_at: Timestamp(0),
                })
                .collect(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn routes_in_bots_business_order() {
        let commands = vec![
            command(1, "/start", &["hi", "hello there"], ""),
            command(2, "touchbutton", &[], ""),
            command(3, "*", &[], ""),
            command(4, "/admin", &[], "admins"),
            command(5, "💰 Balance", &[], ""),
            command(6, "touchButton", &[], ""),
        ];
        let set = CommandSet::new(&commands);
        let id = |r: Route| match r {
            Route::Reply(c) => (c.id, "reply".to_owned()),
            Route::Command { command, params } => (command.id, params),
            Route::Unmatched { master } => (master.map_or(0, |m| m.id), "master".to_owned()),
        };
        assert_eq!(id(set.route("/start ref123", None, &[])), (1, "ref123".into()));
        assert_eq!(id(set.route("hello there friend", None, &[])), (1, "friend".into()));
        assert_eq!(id(set.route("/startx", None, &[])), (3, "master".into()));
        assert_eq!(id(set.route("💰 Balance", None, &[])), (5, String::new()));
        assert_eq!(id(set.route("touchButton delete", None, &[])), (6, "delete".into()), "exact case first");
        assert_eq!(id(set.route("TOUCHBUTTON x", None, &[])), (2, "x".into()), "then any case");
        assert_eq!(id(set.route("/admin", None, &[])), (3, "master".into()), "group restricted");
        assert_eq!(id(set.route("/admin", None, &["admins".into()])), (4, String::new()));
        assert_eq!(id(set.route("anything", Some(5), &[])), (5, "reply".into()));
        let none = vec![command(1, "/start", &[], "")];
        assert_eq!(CommandSet::new(&none).route("?", None, &[]), Route::Unmatched { master: None });
    }

    #[test]
    fn repeated_names_go_to_the_command_then_to_the_oldest() {
        let commands = vec![
            command(1, "/help", &["/start"], ""),
            command(2, "/start", &[], ""),
            command(3, "/start", &[], ""),
            command(4, "/menu", &[], ""),
            command(5, "/MENU", &["/menu"], ""),
        ];
        let set = CommandSet::new(&commands);
        let routed = |text: &str| match set.route(text, None, &[]) {
            Route::Command { command, .. } => command.id,
            other => panic!("{other:?}"),
        };
        assert_eq!(routed("/start"), 2, "a command's own name beats another's alias");
        assert_eq!(routed("/start ref"), 2);
        assert_eq!(routed("/menu"), 4, "the older of two with the same name");
        assert_eq!(routed("/Start"), 2, "any case when no exact match");
    }
}
