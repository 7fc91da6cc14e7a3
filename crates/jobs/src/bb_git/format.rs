//! The Bots.Business git format, as its public exports show it (github bots-business/…):
//!
//! ```text
//! bot.json                       {"bb_sync_version":"1.0","name":…,"csv_url":…,"git_remote":…}
//! commands/<name>.js             a command: `/*CMD … CMD*/` header, a blank line, its code
//! commands/<Folder>/<name>.js    a command in a folder (one level)
//! libs/<Name>.js                 a library (`Libs.<Name>`)
//! ```
//!
//! In file names `/` and `*` become `_` (`/start` → `_start.js`, `*` → `_.js`); the header's
//! `command:` is what counts. Header keys, in the exporter's order: command, help, need_reply,
//! auto_retry_time, folder, answer, keyboard, aliases, group; empty values are written `key: `;
//! a multi-line answer is a `<<ANSWER … ANSWER` block; keyboard rows are separated by a literal
//! `\n`. Reading is lenient like Bots.Business's importer: every key is optional, a file without a
//! header is named after itself, and the folder defaults to the directory.

use std::collections::HashMap;

use botyard_domain::command::{CommandDraft, CommandFields, parse_aliases};
use botyard_domain::content::{BotContent, CommandContent, Lib, check_lib};
use botyard_domain::{Error, Result};
use serde_json::Value;

use crate::files::Entry;

/// `bot.json`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BotJson {
    pub name: String,
    pub csv_url: Option<String>,
    pub git_remote: Option<String>,
}

/// The files of a repository for a bot.
pub fn write(bot: &BotJson, content: &BotContent) -> Vec<Entry> {
    let mut entries = vec![Entry { path: "bot.json".into(), content: bot_json(bot).into_bytes() }];
    let mut taken: HashMap<String, usize> = HashMap::new();
    for command in &content.commands {
        let dir = match &command.folder {
            Some(folder) => format!("commands/{}/", file_safe(folder)),
            None => "commands/".to_owned(),
        };
        let base = format!("{dir}{}", file_safe(&command.draft.command.replace('*', "_")));
        let n = taken.entry(base.to_lowercase()).or_default();
        *n += 1;
        let path = if *n == 1 { format!("{base}.js") } else { format!("{base}_{n}.js") };
        entries.push(Entry { path, content: command_file(command).into_bytes() });
    }
    for lib in &content.libs {
        entries.push(Entry { path: format!("libs/{}.js", lib.name), content: lib.code.clone().into_bytes() });
    }
    entries
}

fn bot_json(bot: &BotJson) -> String {
    let text =
        |v: &Option<String>| v.as_ref().map_or("null".to_owned(), |s| Value::String(s.clone()).to_string());
    format!(
        "{{\n  \"bb_sync_version\":\"1.0\",\n  \"name\":{},\n  \"csv_url\":{},\n  \"git_remote\":{}\n}}",
        Value::String(bot.name.clone()),
        text(&bot.csv_url),
        text(&bot.git_remote)
    )
}

/// A name usable as a file or directory name on any system.
fn file_safe(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '?' | '"' | '<' | '>' | '|') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    match cleaned.trim() {
        "" | "." | ".." => "_".to_owned(),
        trimmed if trimmed.starts_with('.') => format!("_{}", &trimmed[1..]),
        trimmed => trimmed.to_owned(),
    }
}

/// A command's file: header, blank line, code.
pub fn command_file(command: &CommandContent) -> String {
    let d = &command.draft;
    let mut out = String::from("/*CMD\n");
    let line = |out: &mut String, key: &str, value: &str| out.push_str(&format!("  {key}: {value}\n"));
    line(&mut out, "command", &d.command);
    line(&mut out, "help", &d.help);
    line(&mut out, "need_reply", if d.need_reply { "true" } else { "false" });
    line(&mut out, "auto_retry_time", &d.auto_retry_time.map(|s| s.to_string()).unwrap_or_default());
    line(&mut out, "folder", command.folder.as_deref().unwrap_or(""));
    if d.answer.contains('\n') {
        out.push_str(&format!("\n  <<ANSWER\n{}\n  ANSWER\n", d.answer));
    } else {
        line(&mut out, "answer", &d.answer);
    }
    line(&mut out, "keyboard", &d.keyboard.replace('\n', "\\n"));
    line(&mut out, "aliases", &d.aliases.join(", "));
    line(&mut out, "group", &d.group);
    out.push_str("CMD*/\n\n");
    out.push_str(&d.code);
    out
}

/// Reads a repository's files into the bot's `bot.json` and content (commands and libraries).
pub fn read(entries: &[Entry]) -> Result<(BotJson, BotContent)> {
    let bot = entries
        .iter()
        .find(|e| e.path == "bot.json")
        .ok_or_else(|| Error::invalid("The repository has no bot.json"))
        .and_then(|e| read_bot_json(&e.content))?;
    let mut content = BotContent::default();
    for entry in entries {
        let parts: Vec<&str> = entry.path.split('/').collect();
        match parts.as_slice() {
            ["commands", file] if !file.starts_with('.') => {
                content.commands.push(read_command(entry, file, None)?)
            }
            ["commands", dir, file] if !file.starts_with('.') && !dir.starts_with('.') => {
                content.commands.push(read_command(entry, file, Some(dir.trim()))?)
            }
            ["commands", _, _, _, ..] => {
                return Err(Error::invalid(format!(
                    "{}: commands may be at most one folder deep (commands/<folder>/<command>.js)",
                    entry.path
                )));
            }
            ["libs", file] if file.ends_with(".js") => {
                let name = file.trim_end_matches(".js").to_owned();
                let code = utf8(entry)?;
                check_lib(&name, &code)
                    .map_err(|e| Error::new(e.code, format!("{}: {}", entry.path, e.message)))?;
                content.libs.push(Lib { name, code, store_id: None });
            }
            _ => {}
        }
    }
    for command in &content.commands {
        if let Some(folder) = &command.folder
            && !content.folders.contains(folder)
        {
            content.folders.push(folder.clone());
        }
    }
    content.check()?;
    Ok((bot, content))
}

fn read_bot_json(bytes: &[u8]) -> Result<BotJson> {
    if botyard_domain::text::json_has_nul(bytes) {
        return Err(Error::invalid(format!("bot.json: {}", botyard_domain::text::NUL_REFUSED)));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::invalid(format!("bot.json is not valid JSON: {e}")))?;
    let version = value.get("bb_sync_version").and_then(Value::as_str);
    if version != Some("1.0") {
        return Err(Error::invalid("bot.json: bb_sync_version must be \"1.0\""));
    }
    let text =
        |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned).filter(|s| !s.is_empty());
    Ok(BotJson {
        name: text("name").unwrap_or_default(),
        csv_url: text("csv_url"),
        git_remote: text("git_remote"),
    })
}

fn utf8(entry: &Entry) -> Result<String> {
    let text = String::from_utf8(entry.content.clone())
        .map_err(|_| Error::invalid(format!("{} is not UTF-8 text", entry.path)))?;
    botyard_domain::text::refuse_nul(&entry.path, &text)?;
    Ok(text)
}

/// The command a file holds; `file` is its name, `dir` its folder directory.
fn read_command(entry: &Entry, file: &str, dir: Option<&str>) -> Result<CommandContent> {
    let at = |e: Error| Error::new(e.code, format!("{}: {}", entry.path, e.message));
    let text = utf8(entry)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let (header, code) = split_header(text);
    let mut fields: HashMap<String, String> = HashMap::new();
    if let Some(header) = header {
        let mut lines = header.lines();
        while let Some(line) = lines.next() {
            let trimmed = line.trim();
            if let Some(block) = trimmed.strip_prefix("<<") {
                let end = block.trim().to_owned();
                let mut body = Vec::new();
                for inner in lines.by_ref() {
                    if inner.trim() == end {
                        break;
                    }
                    body.push(inner);
                }
                fields.insert(end.to_ascii_lowercase(), body.join("\n"));
                continue;
            }
            if let Some((key, _)) = trimmed.split_once(':') {
                let value = line.split_once(':').map_or("", |(_, v)| v);
                let value = value.strip_prefix(' ').unwrap_or(value);
                fields.insert(key.trim().to_ascii_lowercase(), value.to_owned());
            }
        }
    }
    let get = |key: &str| fields.get(key).cloned();
    let name = get("command").map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).unwrap_or_else(|| {
        let stem = file.strip_suffix(".js").unwrap_or(file);
        match stem {
            "_" => "*".to_owned(),
            _ => match stem.strip_prefix('_') {
                Some(rest) => format!("/{rest}"),
                None => stem.to_owned(),
            },
        }
    });
    let need_reply = get("need_reply").is_some_and(|v| v.trim() == "true");
    let auto_retry = match get("auto_retry_time").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| at(Error::invalid(format!("auto_retry_time \"{v}\" is not a number"))))?,
        ),
    };
    let fields = CommandFields {
        command: Some(name),
        help: get("help"),
        answer: get("answer"),
        keyboard: get("keyboard").map(|k| k.replace("\\n", "\n")),
        need_reply: Some(need_reply),
        auto_retry_time: Some(auto_retry),
        folder_id: None,
        group: get("group"),
        code: Some(code.to_owned()),
        aliases: Some(parse_aliases(&get("aliases").unwrap_or_default())),
    };
    let draft = CommandDraft::new(fields).map_err(at)?;
    let folder =
        get("folder").map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()).or(dir.map(str::to_owned));
    Ok(CommandContent { draft, folder, created_via_csv_import: false })
}

/// Splits a command file into its header (between `/*CMD` and `CMD*/`) and its code.
fn split_header(text: &str) -> (Option<&str>, &str) {
    let start = text.trim_start();
    let Some(rest) = start.strip_prefix("/*CMD").or_else(|| start.strip_prefix("*CMD")) else {
        return (None, text);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim() == "CMD*/" {
            let header = &rest[..offset];
            let after = &rest[offset + line.len()..];
            let code = after.strip_prefix("\r\n").or_else(|| after.strip_prefix('\n')).unwrap_or(after);
            return (Some(header), code);
        }
        offset += line.len();
    }
    (None, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, text: &str) -> Entry {
        Entry { path: path.into(), content: text.as_bytes().to_vec() }
    }

    #[test]
    fn real_exports_are_read() {
        // bots-business/DemoResBot commands/_start.js: the oldest format, no folder key.
        let start = "/*CMD\n  command: /start\n  help: \n  need_reply: \n  auto_retry_time: \n\n  <<ANSWER\nThis bot is demo.\n\nRun command now:\n/balance\n  ANSWER\n  keyboard: \n  aliases: \nCMD*/\n\n";
        // bots-business/TapGameDemoBot commands/Menu/+100$.js: both blocks, folder and group.
        let plus = "/*CMD\n  command: +100$\n  help: \n  need_reply: false\n  auto_retry_time: \n  folder: Menu\n\n  <<ANSWER\n\n  ANSWER\n\n  <<KEYBOARD\n\n  KEYBOARD\n  aliases: \n  group: \nCMD*/\n\nlet gameUser = new GameUser(user);\ngameUser.addBalance(100);\n";
        // A hand-written file without a header (bots-business/ReferAndEarnBot commands/!.js).
        let bang = "Bot.sendMessage(error.message)\n";
        let entries = vec![
            entry(
                "bot.json",
                "{\n  \"bb_sync_version\":\"1.0\",\n  \"name\":\"TapGameDemoBot\",\n  \"csv_url\":null,\n  \"git_remote\":\"git@github.com:bots-business/TapGameDemoBot.git\"\n}",
            ),
            entry("commands/_start.js", start),
            entry("commands/Menu/+100$.js", plus),
            entry("commands/!.js", bang),
            entry(
                "commands/main_menu.js",
                "/*CMD\n  command: main menu\n  keyboard: 💳 Balance,\\n📥 Deposit\n  aliases: menu, /menu\nCMD*/\n",
            ),
            entry("libs/commonLib.js", "publish({ x: 1 })"),
            entry("README.md", "ignored"),
        ];
        let (bot, content) = read(&entries).unwrap();
        assert_eq!(bot.name, "TapGameDemoBot");
        assert_eq!(bot.csv_url, None);
        let by_name: HashMap<_, _> = content.commands.iter().map(|c| (c.draft.command.as_str(), c)).collect();
        assert_eq!(by_name["/start"].draft.answer, "This bot is demo.\n\nRun command now:\n/balance");
        assert_eq!(by_name["+100$"].folder.as_deref(), Some("Menu"));
        assert_eq!(
            by_name["+100$"].draft.code,
            "let gameUser = new GameUser(user);\ngameUser.addBalance(100);\n"
        );
        assert_eq!(by_name["!"].draft.code, bang);
        assert_eq!(by_name["main menu"].draft.keyboard, "💳 Balance,\n📥 Deposit");
        assert_eq!(by_name["main menu"].draft.aliases, ["menu", "/menu"]);
        assert_eq!(content.libs[0].name, "commonLib");
        assert_eq!(content.folders, ["Menu"]);
    }

    #[test]
    fn written_repositories_read_back_the_same() {
        let draft = |name: &str, answer: &str, code: &str| {
            CommandDraft::new(CommandFields {
                command: Some(name.into()),
                answer: Some(answer.into()),
                keyboard: Some("A, B\nC".into()),
                code: Some(code.into()),
                aliases: Some(vec!["hi".into(), "/hello".into()]).filter(|_| name == "/start"),
                auto_retry_time: Some(Some(600)).filter(|_| name == "*"),
                need_reply: Some(name == "*"),
                ..CommandFields::default()
            })
            .unwrap()
        };
        let content = BotContent {
            folders: vec!["🔧 API".into()],
            commands: vec![
                CommandContent {
                    draft: draft("/start", "Hello!\nTwo lines", "Bot.sendMessage(1)\n"),
                    folder: None,
                    created_via_csv_import: false,
                },
                CommandContent {
                    draft: draft("*", "", ""),
                    folder: Some("🔧 API".into()),
                    created_via_csv_import: false,
                },
                CommandContent {
                    draft: draft("a/b", "x", "\n\nlast"),
                    folder: None,
                    created_via_csv_import: false,
                },
            ],
            libs: vec![Lib { name: "Random".into(), code: "publish({})".into(), store_id: None }],
            ..BotContent::default()
        };
        let bot = BotJson { name: "Demo".into(), csv_url: Some("https://x/y.csv".into()), git_remote: None };
        let entries = write(&bot, &content);
        let paths: Vec<_> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["bot.json", "commands/_start.js", "commands/🔧 API/_.js", "commands/a_b.js", "libs/Random.js"]
        );
        let (bot_back, content_back) = read(&entries).unwrap();
        assert_eq!(bot_back, bot);
        assert_eq!(content_back, content);
    }

    #[test]
    fn bad_repositories_are_refused() {
        let bot = entry("bot.json", "{\"bb_sync_version\":\"1.0\",\"name\":\"x\"}");
        let deep = read(&[bot.clone(), entry("commands/a/b/c.js", "")]).unwrap_err();
        assert!(deep.message.contains("at most one folder deep"), "{}", deep.message);
        let version = read(&[entry("bot.json", "{\"bb_sync_version\":\"2.0\"}")]).unwrap_err();
        assert!(version.message.contains("bb_sync_version"));
        // A name in two folders is kept twice, as Bots.Business keeps it.
        let twice = read(&[bot.clone(), entry("commands/a.js", ""), entry("commands/F/a.js", "")]).unwrap();
        assert_eq!(twice.1.commands.len(), 2);
        let lib = read(&[bot, entry("libs/bad name.js", "")]).unwrap_err();
        assert!(lib.message.contains("JavaScript identifier"), "{}", lib.message);
    }
}
