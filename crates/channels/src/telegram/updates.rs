//! One Telegram update: recorded once, then a message (private chats, groups, supergroups), an
//! inline button press, a change of the bot's membership (a user blocked or unblocked it), or a
//! group that became a supergroup.

use botyard_domain::bot::Bot;
use botyard_domain::conversation::{BotUser, Channel, Chat, UserProfile};
use botyard_domain::keyboard::Keyboard;
use botyard_domain::text::without_nul;
use botyard_domain::{Result, Timestamp};
use botyard_runtime::{Accept, Arriving};
use botyard_store::{ConversationStore, NewChat, NewMessage, NewUser, TelegramStore};
use serde_json::{Value, json};

use super::Telegram;
use super::lookups::Found;

pub(crate) async fn handle(telegram: &Telegram, bot: &Bot, update: Value) -> Result<()> {
    let store = &telegram.store();
    let id = update["update_id"].as_i64().unwrap_or_default();
    // Messages and button presses are recorded with what they start, in one transaction.
    if let Some(message) = update.get("message").filter(|m| m.is_object()) {
        return message_update(telegram, bot, id, message).await;
    }
    if let Some(callback) = update.get("callback_query").filter(|c| c.is_object()) {
        return button_press(telegram, bot, id, callback).await;
    }
    if !store.record_update(bot.number, id, Timestamp::now()).await? {
        return Ok(());
    }
    if let Some(member) = update.get("my_chat_member").filter(|m| m.is_object()) {
        let chat = chat_of(telegram, bot, &member["chat"]).await?;
        let status = member["new_chat_member"]["status"].as_str().unwrap_or("");
        let blocked = matches!(status, "kicked" | "left");
        store.set_chat_bot_blocked(chat.id, blocked, Timestamp::now()).await?;
    }
    Ok(())
}

fn external(id: &Value) -> String {
    match id {
        Value::Number(n) => n.to_string(),
        Value::String(s) => without_nul(s).into_owned(),
        _ => String::new(),
    }
}

/// The update's chat and (with `from`) its sender: those `found` (read with other updates'), and
/// the others found or created with other updates' new chats and users.
async fn chat_and_user(
    telegram: &Telegram,
    bot: &Bot,
    chat: &Value,
    from: Option<&Value>,
    found: Found,
) -> Result<((Chat, bool), Option<(BotUser, bool)>)> {
    telegram.lookups().chat_and_user(found, new_chat(bot, chat), from.map(|from| new_user(bot, from))).await
}

/// The chat, found or created with other updates' new chats.
async fn chat_of(telegram: &Telegram, bot: &Bot, chat: &Value) -> Result<Chat> {
    let found = Found { chat: None, user: None };
    Ok(chat_and_user(telegram, bot, chat, None, found).await?.0.0)
}

fn new_chat(bot: &Bot, chat: &Value) -> NewChat {
    NewChat {
        bot: bot.number,
        channel: Channel::Telegram,
        external_id: external(&chat["id"]),
        chat_type: without_nul(chat["type"].as_str().unwrap_or("private")).into_owned(),
        title: chat["title"].as_str().map(|t| without_nul(t).into_owned()),
        owner: None,
    }
}

fn new_user(bot: &Bot, from: &Value) -> NewUser {
    // Names as Telegram sends them; a NUL (which PostgreSQL cannot store) becomes U+FFFD.
    let name = |key: &str| from[key].as_str().map(|s| without_nul(s).into_owned());
    let profile = UserProfile {
        first_name: name("first_name"),
        last_name: name("last_name"),
        username: name("username"),
        picture_url: None,
        profile: None,
    };
    NewUser { bot: bot.number, channel: Channel::Telegram, external_id: external(&from["id"]), profile }
}

async fn message_update(telegram: &Telegram, bot: &Bot, update: i64, message: &Value) -> Result<()> {
    let store = &telegram.store();
    let runs_nothing = message["migrate_to_chat_id"].is_i64()
        || message["migrate_from_chat_id"].is_i64()
        || message.get("from").is_none();
    // A message that runs nothing creates no user.
    let sender = message.get("from").filter(|f| f.is_object() && !runs_nothing);
    let found = telegram
        .lookups()
        .find(bot.number, external(&message["chat"]["id"]), sender.map(|f| external(&f["id"])))
        .await?;
    let ((chat, chat_created), sender) =
        chat_and_user(telegram, bot, &message["chat"], sender, found).await?;
    if runs_nothing && !store.record_update(bot.number, update, Timestamp::now()).await? {
        return Ok(());
    }
    if let Some(to) = message["migrate_to_chat_id"].as_i64() {
        // The group became a supergroup: the chat and its history move to the new id.
        return store.move_chat(chat.id, &to.to_string(), "supergroup", Timestamp::now()).await;
    }
    if message["migrate_from_chat_id"].is_i64() {
        return Ok(());
    }
    let Some((user, user_created)) = sender else { return Ok(()) };
    if chat.chat_type != "private" {
        store.add_participant(chat.id, user.id, Timestamp::now()).await?;
    }
    let text = message["text"].as_str().or_else(|| message["caption"].as_str()).unwrap_or("");
    let new = NewMessage {
        uid: botyard_runtime::new_message_uid(),
        bot: bot.number,
        chat_id: chat.id,
        user_id: Some(user.id),
        payload: json!({"type": "text", "text": without_nul(text)}),
        metadata: Some([("telegram".to_owned(), message.clone())].into_iter().collect()),
        at: Timestamp::now(),
        external_id: Some(external(&message["message_id"])),
    };
    telegram
        .runtime()
        .accept(Accept {
            bot: bot.number,
            chat,
            user: Some(user),
            chat_created,
            user_created,
            what: Arriving::Message(new),
            telegram_update: Some(update),
            bounded: false,
        })
        .await?;
    Ok(())
}

async fn button_press(telegram: &Telegram, bot: &Bot, update: i64, callback: &Value) -> Result<()> {
    let store = &telegram.store();
    // The press is answered with the run's first send, unless the script answers it itself
    // (`Api.answerCallbackQuery`, with its text or alert): see `RunEffects::auto_answer`.
    let Some(chat_json) = callback["message"].get("chat") else { return Ok(()) };
    let found = telegram
        .lookups()
        .find(bot.number, external(&chat_json["id"]), Some(external(&callback["from"]["id"])))
        .await?;
    let ((chat, chat_created), user) =
        chat_and_user(telegram, bot, chat_json, Some(&callback["from"]), found).await?;
    let (user, user_created) =
        user.ok_or_else(|| botyard_domain::Error::internal("a button press's user was not created"))?;
    let message =
        store.message_by_external_id(chat.id, &external(&callback["message"]["message_id"])).await?;
    let data = callback["data"].as_str().unwrap_or("").to_owned();
    let data = resolve_button(&data, message.as_ref().map(|m| &m.payload)).unwrap_or(data);
    telegram
        .runtime()
        .accept(Accept {
            bot: bot.number,
            chat,
            user: Some(user),
            chat_created,
            user_created,
            what: Arriving::Button { data, message, callback: Some(callback.clone()) },
            telegram_update: Some(update),
            bounded: false,
        })
        .await?;
    Ok(())
}

/// Buttons whose command is longer than Telegram's 64 bytes of `callback_data` carry
/// `#<row>:<column>`; their command is read back from the message's keyboard.
fn resolve_button(data: &str, payload: Option<&Value>) -> Option<String> {
    let (row, column) = data.strip_prefix('#')?.split_once(':')?;
    let keyboard: Keyboard =
        serde_json::from_value(payload?.get("botyard")?.get("keyboard")?.clone()).ok()?;
    let Keyboard::Inline(rows) = keyboard else { return None };
    rows.get(row.parse::<usize>().ok()?)?.get(column.parse::<usize>().ok()?)?.command.clone()
}
