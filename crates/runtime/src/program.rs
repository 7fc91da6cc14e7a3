//! Turning a routed message into the code and globals a run executes.

use botyard_domain::bot::Bot;
use botyard_domain::command::Command;
use botyard_domain::conversation::{BotUser, Channel, Chat, ChatMessage};
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

/// The line of the compiled run (`<input>` in stack traces: [`command_code`]'s text after the
/// prelude's one-line function wrapper) on which the command's own code starts, so that stack
/// traces can name lines of the code as its author wrote it; `None` when the code does not run.
pub fn code_first_line(set: &CommandSet, command: &Command, as_reply: bool) -> Option<u32> {
    if !as_reply && command.need_reply {
        return None;
    }
    let before =
        if command.command != "!" { set.named("@").map(|c| c.code.as_str()).unwrap_or("") } else { "" };
    let before_lines = before.split('\n').count() as u32;
    // The wrapper's line, `{before}`, the `Command.answer` line (not for replies), then the code.
    Some(1 + before_lines + u32::from(!as_reply) + 1)
}

/// `command` as scripts see it.
pub fn command_json(c: &Command) -> Value {
    json!({
        "id": c.id,
        "name": c.command,
        "command": c.command,
        // Bots.Business gives the folder's title (bots compare it with folder names).
        "folder": c.folder,
        "folder_id": c.folder_id,
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
        "telegramid": numeric_user_id(u),
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
        // Telegram's chat id, or botyard's number for a chat of its own channels (scripts pass it
        // back to `Bot.sendMessageToChatWithId` and `Api.*`).
        "chatid": numeric_chat_id(c),
        "external_id": c.external_id,
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
        // Bots.Business's `bot.name` is the Telegram username (scripts build t.me links with it);
        // a bot that never started on Telegram shows its own name.
        "name": b.telegram_username.as_deref().unwrap_or(&b.name),
        "title": b.name,
        "status": b.run_state.as_str(),
        "token": b.telegram_token,
        "csv_url": b.csv_url,
        "created_at": b.created_at.to_rfc3339(),
        "updated_at": b.updated_at.to_rfc3339(),
    })
}

/// The user's number as Bots.Business scripts use it (`user.telegramid`, `request.from.id`):
/// Telegram's user id, or on botyard's own channels the user's stable botyard number, so that
/// keys built from it (balances, referrals) stay apart per user.
pub fn numeric_user_id(u: &BotUser) -> i64 {
    match u.channel {
        Channel::Telegram => u.external_id.parse().unwrap_or(u.id),
        _ => u.id,
    }
}

/// A chat's number as Telegram would give it: its Telegram id, or botyard's number for the chat.
pub fn numeric_chat_id(c: &Chat) -> i64 {
    match c.channel {
        Channel::Telegram => c.external_id.parse().unwrap_or(c.id),
        _ => c.id,
    }
}

/// A message's number as Telegram would give it: Telegram's `message_id`, or botyard's number.
pub fn numeric_message_id(m: &ChatMessage) -> i64 {
    m.metadata
        .as_ref()
        .and_then(|meta| meta.get("telegram"))
        .and_then(|t| t["message_id"].as_i64())
        .unwrap_or(m.id)
}

/// `from` of a Telegram update, for a user of any channel.
fn from_json(u: &BotUser) -> Value {
    json!({
        "id": numeric_user_id(u),
        "is_bot": false,
        "first_name": u.first_name.clone().unwrap_or_default(),
        "last_name": u.last_name,
        "username": u.username,
    })
}

/// `chat` of a Telegram update, for a chat of any channel.
fn update_chat_json(c: &Chat, user: Option<&BotUser>) -> Value {
    let mut chat = json!({"id": numeric_chat_id(c), "type": c.chat_type});
    if let Some(title) = &c.title {
        chat["title"] = json!(title);
    }
    if c.chat_type == "private"
        && let Some(u) = user
    {
        chat["first_name"] = json!(u.first_name.clone().unwrap_or_default());
        chat["username"] = json!(u.username);
    }
    chat
}

/// A stored message as a Telegram `Message`: the one Telegram sent, when it came from Telegram;
/// else one shaped like it.
pub fn message_update_json(m: &ChatMessage, chat: &Chat, author: Option<&BotUser>) -> Value {
    if let Some(original) =
        m.metadata.as_ref().and_then(|meta| meta.get("telegram")).filter(|t| t.is_object())
    {
        return original.clone();
    }
    let mut message = json!({
        "message_id": m.id,
        "date": m.created_at.millis() / 1000,
        "chat": update_chat_json(chat, author),
    });
    if let Some(u) = author.filter(|_| !m.from_bot()) {
        message["from"] = from_json(u);
    }
    if let Some(text) = m.text() {
        message["text"] = json!(text);
    }
    message
}

/// A button press as a Telegram `CallbackQuery`: the one Telegram sent, or one shaped like it.
pub fn callback_update_json(
    data: &str,
    under: Option<&ChatMessage>,
    callback: Option<&Value>,
    chat: &Chat,
    user: Option<&BotUser>,
) -> Value {
    if let Some(original) = callback.filter(|c| c.is_object()) {
        return original.clone();
    }
    let mut query = json!({
        "id": format!("{}", under.map_or(0, |m| m.id)),
        "chat_instance": numeric_chat_id(chat).to_string(),
        "data": data,
    });
    if let Some(u) = user {
        query["from"] = from_json(u);
    }
    if let Some(m) = under {
        query["message"] = message_update_json(m, chat, None);
    }
    query
}
