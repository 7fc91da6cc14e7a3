//! What ships with botyard: the library store (libraries a bot installs and uses as
//! `Libs.<Name>`) and the demo store (demo bots, written in the Bots.Business git format, that a
//! user installs as a copy in their workspace).

use botyard_domain::content::{BotContent, Lib};
use botyard_domain::{Error, Result};

use crate::archive::BotFieldsRead;
use crate::bb_git::format;
use crate::files::Entry;

/// A library of the store.
#[derive(Debug, Clone, Copy)]
pub struct StoreLib {
    pub id: &'static str,
    /// Its name in bots: `Libs.<name>`.
    pub name: &'static str,
    pub description: &'static str,
    pub code: &'static str,
}

pub const LIBS: [StoreLib; 3] = [
    StoreLib {
        id: "points",
        name: "Points",
        description: "Counters of coins, points or anything else, per user or for the whole bot: add, take, transfer.",
        code: include_str!("../catalog/libs/Points.js"),
    },
    StoreLib {
        id: "referral",
        name: "Referral",
        description: "Invitation links from /start parameters: who invited whom, and how many friends each user brought.",
        code: include_str!("../catalog/libs/Referral.js"),
    },
    StoreLib {
        id: "random",
        name: "Random",
        description: "Random integers and floats, picking and shuffling, and a random reply among several.",
        code: include_str!("../catalog/libs/Random.js"),
    },
];

pub fn lib(id: &str) -> Option<&'static StoreLib> {
    LIBS.iter().find(|l| l.id == id || l.name == id)
}

impl StoreLib {
    pub fn to_lib(self) -> Lib {
        Lib { name: self.name.to_owned(), code: self.code.to_owned(), store_id: Some(self.id.to_owned()) }
    }
}

/// A demo bot of the store.
#[derive(Debug, Clone, Copy)]
pub struct DemoBot {
    pub id: &'static str,
    pub collection: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Store libraries it uses.
    pub libs: &'static [&'static str],
    files: &'static [(&'static str, &'static str)],
}

pub const DEMOS: [DemoBot; 4] = [
    DemoBot {
        id: "hello",
        collection: "Getting started",
        name: "HelloBot",
        description: "Commands, aliases, a reply keyboard, a question (need_reply) and a master command that echoes.",
        libs: &[],
        files: &[
            ("bot.json", include_str!("../catalog/demos/hello/bot.json")),
            ("commands/About.js", include_str!("../catalog/demos/hello/commands/About.js")),
            ("commands/Help.js", include_str!("../catalog/demos/hello/commands/Help.js")),
            ("commands/Your name.js", include_str!("../catalog/demos/hello/commands/Your name.js")),
            ("commands/_.js", include_str!("../catalog/demos/hello/commands/_.js")),
            ("commands/_start.js", include_str!("../catalog/demos/hello/commands/_start.js")),
        ],
    },
    DemoBot {
        id: "inline",
        collection: "Getting started",
        name: "InlineButtonsBot",
        description: "Inline buttons that count votes and edit their own keyboard.",
        libs: &[],
        files: &[
            ("bot.json", include_str!("../catalog/demos/inline/bot.json")),
            ("commands/_start.js", include_str!("../catalog/demos/inline/commands/_start.js")),
            ("commands/vote.js", include_str!("../catalog/demos/inline/commands/vote.js")),
        ],
    },
    DemoBot {
        id: "tapgame",
        collection: "Games and growth",
        name: "TapGameBot",
        description: "A tap game: coins kept with the Points library, random rewards with Random.",
        libs: &["points", "random"],
        files: &[
            ("bot.json", include_str!("../catalog/demos/tapgame/bot.json")),
            ("commands/Menu/Balance.js", include_str!("../catalog/demos/tapgame/commands/Menu/Balance.js")),
            ("commands/Menu/Tap.js", include_str!("../catalog/demos/tapgame/commands/Menu/Tap.js")),
            ("commands/_start.js", include_str!("../catalog/demos/tapgame/commands/_start.js")),
        ],
    },
    DemoBot {
        id: "referral",
        collection: "Games and growth",
        name: "ReferralBot",
        description: "Invitation links and friend counts with the Referral library.",
        libs: &["referral"],
        files: &[
            ("bot.json", include_str!("../catalog/demos/referral/bot.json")),
            ("commands/My friends.js", include_str!("../catalog/demos/referral/commands/My friends.js")),
            ("commands/My link.js", include_str!("../catalog/demos/referral/commands/My link.js")),
            ("commands/_start.js", include_str!("../catalog/demos/referral/commands/_start.js")),
        ],
    },
];

pub fn demo(id: &str) -> Option<&'static DemoBot> {
    DEMOS.iter().find(|d| d.id == id)
}

/// The demo bot `id`, ready to be created.
pub fn demo_bot(id: &str) -> Result<(BotFieldsRead, BotContent)> {
    let demo = demo(id).ok_or_else(|| Error::not_found("Demo bot"))?;
    let entries: Vec<Entry> = demo
        .files
        .iter()
        .map(|(path, text)| Entry { path: (*path).to_owned(), content: text.as_bytes().to_vec() })
        .collect();
    let (bot, mut content) = format::read(&entries)?;
    for lib in demo.libs {
        content.libs.push(
            self::lib(lib)
                .ok_or_else(|| Error::internal(format!("demo {id} needs the missing lib {lib}")))?
                .to_lib(),
        );
    }
    let fields = BotFieldsRead {
        name: bot.name,
        dev: false,
        csv_url: None,
        git_remote: None,
        definition: botyard_domain::bot::BotDefinition {
            description: Some(demo.description.to_owned()),
            ..Default::default()
        },
    };
    Ok((fields, content))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_demo_reads() {
        for demo in super::DEMOS {
            let (fields, content) = super::demo_bot(demo.id).unwrap();
            assert!(!content.commands.is_empty(), "{}", demo.id);
            assert_eq!(fields.name, demo.name);
        }
    }
}
