//! Turning a routed message into the code and globals a run executes.

use botyard_domain::bot::Bot;
use botyard_domain::command::Command;
use botyard_domain::conversation::{BotUser, Channel, Chat};
use botyard_domain::matching::CommandSet;
use serde_json::{Value, json};

/// The body of a command run: `@` (before all), the answer, the command's code, `@@` (after all),
/// as one function body so they share variables and a `return` in `@` stops the rest. A command
/// that waits for a reply only answers and waits; the reply runs its code.
pub fn command_code(set: &CommandSet, command: &Command, as_reply: bool) -> String {
    let around = command.command != "!";
    let before = if around { set.named("@").map(|c| c.code.as_str()).unwrap_or("") } else { "" };
    let after = if around { set.named("@@").map(|c| c.code.as_str()).unwrap_or("") } else { "" };
    let id = command.id;
    if as_reply {
        format!("{before}\n{}\n{after}", command.code)
    } else if command.need_reply {
        format!("{before}\n__call('Command.answer', [{id}]);\n__call('Command.awaitReply', [{id}, options]);")
    } else {
        format!("{before}\n__call('Command.answer', [{id}]);\n{}\n{after}", command.code)
    }
}

/// `command` as scripts see it.
pub fn command_json(c: &Command) -> Value {
    json!({
        "id": c.id,
        "name": c.command,
        "command": c.command,
        "folder": c.folder_id,
        "need_reply": c.need_reply,
        "auto_retry_time": c.auto_retry_time,
        "group": c.group,
        "created_via_csv_import": c.created_via_csv_import,
        "created_at": c.created_at.to_rfc3339(),
        "updated_at": c.updated_at.to_rfc3339(),
    })
}

/// `user` as scripts see it (Telegram's names where the channel has them).
pub fn user_json(u: &BotUser, just_created: bool) -> Value {
    json!({
        "id": u.id,
        "telegramid": if u.channel == Channel::Telegram { u.external_id.parse::<i64>().ok() } else { None },
        "external_id": u.external_id,
        "channel": u.channel.as_str(),
        "first_name": u.first_name,
        "last_name": u.last_name,
        "username": u.username,
        "groups": u.groups,
        "just_created": just_created,
        "created_at": u.created_at.to_rfc3339(),
        "updated_at": u.updated_at.to_rfc3339(),
    })
}

/// `chat` as scripts see it.
pub fn chat_json(c: &Chat, just_created: bool) -> Value {
    json!({
        "id": c.id,
        "chatid": if c.channel == Channel::Telegram { c.external_id.parse::<i64>().ok().map(Value::from) } else { Some(Value::from(c.external_id.clone())) },
        "bot_id": c.bot_number,
        "chat_type": c.chat_type,
        "title": c.title,
        "channel": c.channel.as_str(),
        "just_created": just_created,
        "created_at": c.created_at.to_rfc3339(),
        "updated_at": c.updated_at.to_rfc3339(),
    })
}

/// `bot` as scripts see it.
pub fn bot_json(b: &Bot) -> Value {
    json!({
        "id": b.number,
        "uid": b.id.to_string(),
        "name": b.name,
        "status": b.run_state.as_str(),
        "token": b.telegram_token,
        "csv_url": b.csv_url,
        "created_at": b.created_at.to_rfc3339(),
        "updated_at": b.updated_at.to_rfc3339(),
    })
}
