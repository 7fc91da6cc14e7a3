//! Bots.Business CSV import: a sheet with one command per row (`command, answer, aliases, help,
//! keyboard, need_reply, scenarios`, and optionally `group, auto_retry, folder`), from an upload
//! or fetched from the bot's `csv_url`. Commands match by name: new ones are created, changed ones
//! updated, those an earlier CSV import created and the sheet no longer has are destroyed,
//! hand-made ones are left alone. A malformed sheet fails the task with its line number and
//! changes nothing.

use std::time::Duration;

use botyard_domain::command::{CommandDraft, CommandFields, parse_aliases};
use botyard_domain::content::{CommandContent, CsvCommand, csv_sync_plan};
use botyard_domain::job::Job;
use botyard_domain::{Error, Result};
use botyard_store::{CommandStore, ContentStore, JobEnd};
use serde_json::json;

use crate::JobContext;

/// The columns a sheet may have; `command` is required.
const COLUMNS: [&str; 13] = [
    "command",
    "answer",
    "aliases",
    "help",
    "keyboard",
    "need_reply",
    "scenarios",
    "bjs_code",
    "group",
    "auto_retry",
    "auto_retry_time",
    "folder",
    "runtime_mode",
];

pub async fn run(ctx: &JobContext, job: &Job) -> Result<()> {
    let services = ctx.services();
    let bot = job.bot.ok_or_else(|| Error::internal("a CSV import without its bot"))?;
    let text = match (ctx.param("fileId"), ctx.param("url")) {
        (Some(id), _) => ctx.file(id, "file").await?,
        (None, Some(url)) => fetch(ctx, url).await?,
        (None, None) => return Err(Error::invalid("A CSV import needs a file or the bot's csv_url")),
    };
    let rows = botyard_core::cpu::in_place(|| parse(&text))?;
    let existing = ctx.store().all_commands(bot).await?;
    let folders = ctx.store().folders(bot).await?;
    let plan = botyard_core::cpu::in_place(|| csv_sync_plan(&existing, rows, &folders))?;
    let details = json!({
        "new_count": plan.create.len(),
        "updated_count": plan.update.len(),
        "destroyed_count": plan.destroy.len(),
    });
    ctx.store()
        .apply_csv_import(&ctx.lease, bot, &plan, &JobEnd::Succeeded { details, bot: Some(bot) })
        .await?;
    services.changed(botyard_core::cache_sync::Change::Commands(bot)).await;
    Ok(())
}

/// Fetches a sheet over HTTP(S) within the configured time and size (and the outbound deny-list);
/// a Google Sheets link is turned into its CSV export.
async fn fetch(ctx: &JobContext, raw: &str) -> Result<Vec<u8>> {
    let settings = &ctx.services().config.jobs;
    let url = botyard_core::transfers::csv_url(raw)?;
    let headers = serde_json::Map::new();
    let request = botyard_core::outbound::Request {
        method: "GET",
        url: url.as_str(),
        headers: &headers,
        body: None,
        timeout: Duration::from_secs(settings.fetch_timeout_secs),
        max_bytes: settings.fetch_max_bytes,
    };
    let answer = ctx.services().send_outbound(request).await?;
    if !(200..300).contains(&answer.status) {
        return Err(Error::invalid(format!("Fetching the CSV from {url} answered HTTP {}", answer.status)));
    }
    Ok(answer.body)
}

/// Parses a sheet into commands, with the line each starts on.
pub fn parse(bytes: &[u8]) -> Result<Vec<CsvCommand>> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| Error::invalid(format!("The CSV is not UTF-8 text: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(at) = text.find('\0') {
        let line = text[..at].matches('\n').count() + 1;
        return Err(Error::invalid(format!("Line {line}: {}", botyard_domain::text::NUL_REFUSED)));
    }
    check_quotes(text)?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> =
        reader.headers().map_err(|e| csv_error(&e))?.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    for (i, header) in headers.iter().enumerate() {
        if !COLUMNS.contains(&header.as_str()) {
            return Err(Error::invalid(format!(
                "Line 1: unknown column \"{header}\"; the columns are {}",
                COLUMNS.join(", ")
            )));
        }
        if headers[..i].contains(header) {
            return Err(Error::invalid(format!("Line 1: the column \"{header}\" appears twice")));
        }
    }
    let Some(command_column) = headers.iter().position(|h| h == "command") else {
        return Err(Error::invalid("Line 1: the sheet has no \"command\" column"));
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cell = |name: &str| column(name).and_then(|i| record.get(i)).map(str::to_owned);
        let name = record.get(command_column).unwrap_or("").trim().to_owned();
        if name.is_empty() {
            continue;
        }
        let at_line = |e: Error| Error::new(e.code, format!("Line {line}: {}", e.message));
        let need_reply = match cell("need_reply").as_deref().map(str::trim) {
            None | Some("") => false,
            Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => true,
            Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => false,
            Some(v) => {
                return Err(at_line(Error::invalid(format!(
                    "need_reply must be true or false, not \"{v}\""
                ))));
            }
        };
        let auto_retry =
            match cell("auto_retry").or_else(|| cell("auto_retry_time")).as_deref().map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(v.parse::<i64>().map_err(|_| {
                    at_line(Error::invalid(format!("auto_retry must be a number of seconds, not \"{v}\"")))
                })?),
            };
        let fields = CommandFields {
            command: Some(name),
            help: cell("help"),
            answer: cell("answer"),
            keyboard: cell("keyboard").map(|k| k.replace("\\n", "\n")),
            need_reply: Some(need_reply),
            auto_retry_time: Some(auto_retry),
            folder_id: None,
            group: cell("group").map(|g| g.trim().to_owned()),
            code: cell("scenarios").or_else(|| cell("bjs_code")),
            aliases: Some(parse_aliases(&cell("aliases").unwrap_or_default())),
        };
        let draft = CommandDraft::new(fields).map_err(at_line)?;
        let folder = cell("folder").map(|f| f.trim().to_owned()).filter(|f| !f.is_empty());
        if let Some(title) = &folder {
            botyard_domain::command::check_folder_title(title).map_err(at_line)?;
        }
        rows.push(CsvCommand {
            line,
            content: CommandContent { draft, folder, created_via_csv_import: true },
        });
    }
    Ok(rows)
}

fn csv_error(error: &csv::Error) -> Error {
    let line = error.position().map_or(0, |p| p.line());
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} fields where the header has {expected_len}")
        }
        _ => error.to_string(),
    };
    Error::invalid(format!("Line {line}: {message}"))
}

/// RFC 4180 quoting: a quoted field must close, and a quote may not appear inside an unquoted
/// field (the csv reader would silently accept both).
fn check_quotes(text: &str) -> Result<()> {
    let mut line = 1;
    let mut opened_at = 0;
    let mut in_quotes = false;
    let mut field_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                }
                '"' => {
                    in_quotes = false;
                    if !matches!(chars.peek(), None | Some(',' | '\n' | '\r')) {
                        return Err(Error::invalid(format!("Line {line}: text follows a closing quote")));
                    }
                }
                '\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if field_start => {
                in_quotes = true;
                opened_at = line;
            }
            '"' => {
                return Err(Error::invalid(format!("Line {line}: a double quote inside an unquoted field")));
            }
            ',' => {
                field_start = true;
                continue;
            }
            '\n' => {
                line += 1;
                field_start = true;
                continue;
            }
            _ => {}
        }
        field_start = false;
    }
    if in_quotes {
        return Err(Error::invalid(format!("Line {opened_at}: a quoted field is never closed")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheets_parse_with_their_lines() {
        let sheet = "command,answer,aliases,help,keyboard,need_reply,scenarios\n\
                     /start,Welcome!,/hello,Start the bot,/help,false,\n\
                     ,,,,,,\n\
                     /help,\"Send /start\nto begin.\",,Help,\"A,B\\nC\",true,\"Bot.sendMessage(\"\"hi\"\")\"\n";
        let rows = parse(sheet.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].content.draft.aliases, ["/hello"]);
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].content.draft.answer, "Send /start\nto begin.");
        assert_eq!(rows[1].content.draft.keyboard, "A,B\nC");
        assert!(rows[1].content.draft.need_reply);
        assert_eq!(rows[1].content.draft.code, "Bot.sendMessage(\"hi\")");
    }

    #[test]
    fn malformed_sheets_say_where() {
        let cases = [
            ("command,colour\n/a,red\n", "Line 1: unknown column \"colour\""),
            ("command,answer\n/a,\"open\n/b,x\n", "Line 2: a quoted field is never closed"),
            ("command,answer\n/a,x\n/b,y,z\n", "Line 3: the row has 3 fields where the header has 2"),
            ("command,answer\n/a,bad\"quote\n", "Line 2: a double quote inside an unquoted field"),
            ("command,need_reply\n/a,maybe\n", "Line 2: need_reply must be true or false"),
        ];
        for (sheet, expected) in cases {
            let error = parse(sheet.as_bytes()).unwrap_err();
            assert!(error.message.starts_with(expected), "{sheet:?}: {}", error.message);
        }
    }
}
