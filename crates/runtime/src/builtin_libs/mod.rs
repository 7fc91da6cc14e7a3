//! The libraries Bots.Business provides built in (`Libs.ResourcesLib`, `RefLib`, `Libs.Random`,
//! `new SmartBot(…)`, `BBAdmin`, …), written for botyard from Bots.Business's documentation. A
//! run gets only those its bot refers to — by name, alias or global, anywhere in its commands, its
//! own code or its own libraries — so runs of bots that use none stay as fast as before; and a
//! library of the bot's own with the same name wins over the built-in one, as on Bots.Business.
//!
//! Which built-ins a bot needs is found by scanning its code once per version of its commands,
//! libraries and code (the services hand out one `Arc` per cached version), and remembered.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use botyard_domain::bot::Bot;
use botyard_domain::command::Command;
use botyard_domain::content::Lib;

/// How code shows that it uses a built-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// Any of its names or globals as a word (`Libs.ResourcesLib`, `ResLib.userRes`).
    Name,
    /// `new <name>(` (for `List`, a word common in texts).
    Constructor,
}

/// One built-in library.
struct Builtin {
    /// Its name under `Libs` (what `publish` fills).
    name: &'static str,
    /// Other names under `Libs` for the same library.
    aliases: &'static [&'static str],
    /// Globals naming the library, as Bots.Business's documentation uses them (`RefLib.track()`).
    globals: &'static [&'static str],
    trigger: Trigger,
    code: &'static str,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "ResourcesLib",
        aliases: &["ResLib"],
        globals: &["ResLib"],
        trigger: Trigger::Name,
        code: concat!(include_str!("res_core.js"), include_str!("resources.js")),
    },
    Builtin {
        name: "ReferralLib",
        aliases: &["RefLib", "RefferalLib"],
        globals: &["RefLib"],
        trigger: Trigger::Name,
        code: concat!(
            include_str!("list_core.js"),
            include_str!("board_core.js"),
            include_str!("referral.js")
        ),
    },
    Builtin {
        name: "CooldownLib",
        aliases: &[],
        globals: &[],
        trigger: Trigger::Name,
        code: concat!(include_str!("res_core.js"), include_str!("cooldown.js")),
    },
    Builtin {
        name: "TopBoardLib",
        aliases: &[],
        globals: &["TopBoardLib"],
        trigger: Trigger::Name,
        code: concat!(include_str!("board_core.js"), include_str!("topboard.js")),
    },
    Builtin {
        name: "Random",
        aliases: &[],
        globals: &[],
        trigger: Trigger::Name,
        code: include_str!("random.js"),
    },
    Builtin {
        name: "Webhooks",
        aliases: &[],
        globals: &[],
        trigger: Trigger::Name,
        code: include_str!("webhooks.js"),
    },
    Builtin {
        name: "CommonLib",
        aliases: &["commonLib"],
        globals: &["CommonLib"],
        trigger: Trigger::Name,
        code: include_str!("common.js"),
    },
    Builtin {
        name: "MembershipChecker",
        aliases: &["MCL", "MCLib"],
        globals: &[],
        trigger: Trigger::Name,
        code: include_str!("membership.js"),
    },
    Builtin {
        name: "DateTimeFormat",
        aliases: &[],
        globals: &[],
        trigger: Trigger::Name,
        code: include_str!("datetimeformat.js"),
    },
    Builtin {
        name: "List",
        aliases: &[],
        globals: &[],
        trigger: Trigger::Constructor,
        code: concat!(include_str!("list_core.js"), include_str!("list.js")),
    },
    // The classes and the object below set their global themselves (`new SmartBot(…)`,
    // `BBAdmin.installBot(…)`); `Libs` gets nothing.
    Builtin {
        name: "SmartBot",
        aliases: &[],
        globals: &[],
        trigger: Trigger::Name,
        code: include_str!("smartbot.js"),
    },
    Builtin {
        name: "SmartAmountDialog",
        aliases: &[],
        globals: &[],
        trigger: Trigger::Name,
        code: include_str!("smart_amount_dialog.js"),
    },
    Builtin {
        name: "SmartTasker",
        aliases: &[],
        globals: &[],
        trigger: Trigger::Name,
        code: include_str!("smarttasker.js"),
    },
    Builtin {
        name: "RunAllTask",
        aliases: &[],
        globals: &[],
        trigger: Trigger::Name,
        code: include_str!("runalltask.js"),
    },
    Builtin {
        name: "BBAdmin",
        aliases: &[],
        globals: &[],
        trigger: Trigger::Name,
        code: include_str!("bbadmin.js"),
    },
];

/// `(name, code)` of the libraries a run of the bot evaluates: the built-ins it uses, then its
/// own.
pub fn lib_sources(bot: &Bot, commands: &Arc<Vec<Command>>, libs: &Arc<Vec<Lib>>) -> Vec<(String, String)> {
    let cache = SCANS.get_or_init(Mutex::default);
    if let Some(known) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&bot.number)
        && Arc::ptr_eq(&known.commands, commands)
        && Arc::ptr_eq(&known.libs, libs)
        && known.code == bot.definition.code
    {
        return known.sources.as_ref().clone();
    }
    let sources = Arc::new(compose(&bot.definition.code, commands, libs));
    let mut scans = cache.lock().unwrap_or_else(|e| e.into_inner());
    if scans.len() >= SCANS_MAX {
        scans.clear();
    }
    scans.insert(
        bot.number,
        Scan {
            commands: commands.clone(),
            libs: libs.clone(),
            code: bot.definition.code.clone(),
            sources: sources.clone(),
        },
    );
    sources.as_ref().clone()
}

/// What was found for one version of a bot. Holding the `Arc`s keeps their addresses from being
/// reused while the entry stands, so pointer equality means "the same version".
struct Scan {
    commands: Arc<Vec<Command>>,
    libs: Arc<Vec<Lib>>,
    code: String,
    sources: Arc<Vec<(String, String)>>,
}

static SCANS: OnceLock<Mutex<HashMap<i64, Scan>>> = OnceLock::new();

/// Bots remembered at most (all are forgotten beyond; scanning again is cheap).
const SCANS_MAX: usize = 10_000;

fn compose(bot_code: &str, commands: &[Command], libs: &[Lib]) -> Vec<(String, String)> {
    let own: HashSet<&str> = libs.iter().map(|l| l.name.as_str()).collect();
    let texts = commands
        .iter()
        .map(|c| c.code.as_str())
        .chain(std::iter::once(bot_code))
        .chain(libs.iter().map(|l| l.code.as_str()));
    let used = referenced(texts);
    let mut out = Vec::new();
    for (i, builtin) in BUILTINS.iter().enumerate() {
        if !used.contains(&i) || own.contains(builtin.name) {
            continue;
        }
        let mut code = String::with_capacity(builtin.code.len() + 200);
        code.push_str(builtin.code);
        let aliases: Vec<&str> = builtin.aliases.iter().copied().filter(|a| !own.contains(a)).collect();
        if !aliases.is_empty() || !builtin.globals.is_empty() {
            code.push_str("\n;(function (lib) {\n  if (!lib) { return; }\n");
            for alias in aliases {
                code.push_str(&format!("  Libs[{alias:?}] = lib;\n"));
            }
            for global in builtin.globals {
                code.push_str(&format!("  globalThis[{global:?}] = lib;\n"));
            }
            code.push_str(&format!("}})(Libs[{:?}]);\n", builtin.name));
        }
        out.push((builtin.name.to_owned(), code));
    }
    out.extend(libs.iter().map(|l| (l.name.clone(), l.code.clone())));
    out
}

/// The built-ins (indexes into [`BUILTINS`]) the texts refer to.
fn referenced<'a>(texts: impl Iterator<Item = &'a str>) -> HashSet<usize> {
    let words = words();
    let mut used = HashSet::new();
    for text in texts {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !is_word_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_word_byte(bytes[i]) {
                i += 1;
            }
            let Some(&(index, trigger)) = words.get(&text[start..i]) else { continue };
            let found = match trigger {
                Trigger::Name => true,
                Trigger::Constructor => after_new(&text[..start]),
            };
            if found {
                used.insert(index);
            }
        }
    }
    used
}

/// Every word that refers to a built-in.
fn words() -> &'static HashMap<&'static str, (usize, Trigger)> {
    static WORDS: OnceLock<HashMap<&'static str, (usize, Trigger)>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words = HashMap::new();
        for (i, builtin) in BUILTINS.iter().enumerate() {
            let names = std::iter::once(&builtin.name).chain(builtin.aliases).chain(builtin.globals);
            for name in names {
                words.insert(*name, (i, builtin.trigger));
            }
        }
        words
    })
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// Whether the text before a word ends with the keyword `new` (and spaces).
fn after_new(before: &str) -> bool {
    let trimmed = before.trim_end();
    trimmed.len() < before.len()
        && trimmed.ends_with("new")
        && !trimmed[..trimmed.len() - 3].bytes().next_back().is_some_and(is_word_byte)
}

#[cfg(test)]
mod sandbox_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn names(code: &str) -> Vec<String> {
        compose(code, &[], &[]).into_iter().map(|(name, _)| name).collect()
    }

    #[test]
    fn only_the_libraries_a_bot_refers_to_are_included() {
        assert!(names("Bot.sendMessage('hi')").is_empty());
        assert_eq!(names("let r = Libs.ResourcesLib.userRes('money')"), ["ResourcesLib"]);
        assert_eq!(names("ResLib.userRes('x'); RefLib.track({})"), ["ResourcesLib", "ReferralLib"]);
        assert_eq!(names("Libs.Random.randomInt(1, 2); CommonLib.getLinkFor(user)"), ["Random", "CommonLib"]);
        // Words inside longer words do not count; `List` only as a constructor.
        assert!(names("var ResourcesLib_user1 = 'Top List'; MyRandom(); list.List").is_empty());
        assert_eq!(names("let l = new  List({name: 'x'})"), ["List"]);
        assert_eq!(names("Libs['Webhooks'].getUrlFor({command: '/x'})"), ["Webhooks"]);
        assert_eq!(
            names("let s = new SmartBot({}); new SmartTasker({smartBot: s}); new RunAllTask({id: 1})"),
            ["SmartBot", "SmartTasker", "RunAllTask"]
        );
        assert_eq!(names("if (!BBAdmin.curUser.parentAccount) {}"), ["BBAdmin"]);
        assert!(names("var smartBot = 1; mySmartBot(); BBAdminPanel()").is_empty());
    }

    #[test]
    fn a_library_of_the_bot_wins_over_the_built_in_one() {
        let sources = compose("Libs.ResourcesLib.userRes('money')", &[], &[]);
        assert!(sources[0].1.contains("Libs[\"ResLib\"] = lib;"), "{}", sources[0].1);
        let own = own_libs(&[("ResourcesLib", "publish({mine: true}) // ResLib")]);
        let sources = compose("Libs.ResourcesLib.userRes('money')", &[], &own);
        assert_eq!(sources, [("ResourcesLib".to_owned(), "publish({mine: true}) // ResLib".to_owned())]);
        // An alias the bot has a library for stays the bot's.
        let own = own_libs(&[("commonLib", "publish({})")]);
        let sources = compose("CommonLib.getNameFor(user); Libs.commonLib.x()", &[], &own);
        assert_eq!(sources.len(), 2);
        assert!(!sources[0].1.contains("Libs[\"commonLib\"]"), "{}", sources[0].1);
        assert!(sources[0].1.contains("globalThis[\"CommonLib\"] = lib;"));
    }

    fn own_libs(own: &[(&str, &str)]) -> Vec<Lib> {
        own.iter()
            .map(|(name, code)| Lib { name: (*name).into(), code: (*code).into(), store_id: None })
            .collect()
    }

    #[test]
    fn after_new_needs_the_whole_keyword() {
        assert!(after_new("x = new "));
        assert!(after_new("new\n"));
        assert!(!after_new("renew "));
        assert!(!after_new("new"));
    }
}
