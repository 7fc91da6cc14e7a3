//! `Api.<method>(params)` and `Api.call(method, params)`: any Telegram Bot API method, sent in
//! order with the chat's messages after the run commits. `on_result` / `on_error` name commands
//! run with the answer (`options.ok`, `options.result` or `options.description`), and `bb_options`
//! travels to them as the rest of `options`.

use botyard_domain::conversation::Channel;
use botyard_domain::effects::{OutboxItem, SendRef};
use botyard_sandbox::HostAnswer;
use serde_json::{Map, Value, json};

use crate::host::{Answer, BjsHost, Target};

impl BjsHost {
    pub(crate) fn telegram_api(&mut self, name: &str, args: &[Value]) -> Answer {
        let (method, params) = if name == "Api.call" {
            let method =
                args.first().and_then(Value::as_str).ok_or("Api.call(method, params) needs a method")?;
            (method.to_owned(), args.get(1).cloned().unwrap_or(json!({})))
        } else {
            (name.trim_start_matches("Api.").to_owned(), args.first().cloned().unwrap_or(json!({})))
        };
        if method.is_empty() || method.len() > 64 || !method.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("\"{method}\" is not a Telegram Bot API method"));
        }
        let chat = self.ctx.chat.clone().ok_or("Api calls need a chat")?;
        let Value::Object(mut params) = params else {
            return Err("The parameters of an Api call must be an object".into());
        };
        if chat.channel != Channel::Telegram {
            return self.web_api_with_callbacks(&method, params);
        }
        let mut callback = Map::new();
        for key in ["on_result", "on_error"] {
            if let Some(command) = params.remove(key).filter(|c| !c.is_null()) {
                let text = command.as_str().ok_or_else(|| format!("{key} must be a command"))?;
                if self.commands().lookup(text).is_none() {
                    return Err(format!("{key}: command not found: {text}"));
                }
                callback.insert(key.into(), command);
            }
        }
        if let Some(options) = params.remove("bb_options") {
            callback.insert("options".into(), options);
        }
        if let Some(user) = &self.ctx.user {
            callback.insert("user_id".into(), json!(user.id));
        }
        self.spend(botyard_domain::effects::Capped::ApiCalls)?;
        let chat_id = chat.id;
        let callback = (!callback.is_empty()).then_some(Value::Object(callback));
        self.effects.send_order.push(SendRef::Call(self.effects.outbox.len()));
        self.effects.outbox.push(OutboxItem { chat_id, method, params: Value::Object(params), callback });
        Ok(HostAnswer::Undefined)
    }
}

impl BjsHost {
    /// A web chat API call, with its `on_result` / `on_error` commands run after this one (as
    /// Telegram's answers run them): `options` = `bb_options` with `ok` and `result`, or `ok:
    /// false` and `description`.
    fn web_api_with_callbacks(&mut self, method: &str, mut params: Map<String, Value>) -> Answer {
        let mut commands = Map::new();
        for key in ["on_result", "on_error"] {
            if let Some(command) = params.remove(key).filter(|c| !c.is_null()) {
                let text = command.as_str().ok_or_else(|| format!("{key} must be a command"))?;
                if self.commands().lookup(text).is_none() {
                    return Err(format!("{key}: command not found: {text}"));
                }
                commands.insert(key.into(), command);
            }
        }
        let mut options = match params.remove("bb_options") {
            Some(Value::Object(o)) => o,
            _ => Map::new(),
        };
        let outcome = self.web_api(method, &params);
        let (key, answer) = match &outcome {
            Ok(HostAnswer::Value(result)) => ("on_result", json!({"ok": true, "result": result})),
            Ok(_) => ("on_result", json!({"ok": true, "result": true})),
            Err(description) => ("on_error", json!({"ok": false, "description": description})),
        };
        let Some(command) = commands.get(key).and_then(Value::as_str) else { return outcome };
        for (k, v) in answer.as_object().cloned().unwrap_or_default() {
            options.insert(k, v);
        }
        self.follow_ups.push(crate::host::FollowUp {
            text: command.to_owned(),
            options: Value::Object(options),
            chat: None,
        });
        // An error handled by `on_error` does not fail the run.
        Ok(outcome.unwrap_or(HostAnswer::Undefined))
    }

    /// The common Bot API methods on botyard's own channels, so one bot works on Telegram and in
    /// the web chat: messages (photos and documents as links), edits, callback answers as notices
    /// (only `show_alert` ones are shown), chat actions as no-ops. Other methods are refused.
    fn web_api(&mut self, method: &str, params: &Map<String, Value>) -> Answer {
        let text = |key: &str| params.get(key).and_then(Value::as_str).map(str::to_owned);
        let chat = match params.get("chat_id").filter(|c| !c.is_null()) {
            Some(id) => {
                let number = crate::host::number_arg(id);
                let number = number.ok_or_else(|| format!("Invalid chat_id {id}"))?;
                // A user's own id names their private chat with the bot, as on Telegram.
                let own_user =
                    self.ctx.user.as_ref().is_some_and(|u| crate::program::numeric_user_id(u) == number);
                match &self.ctx.chat {
                    Some(current) if own_user && current.chat_type == "private" => Some(current.id),
                    _ => Some(self.own_chat(number)?),
                }
            }
            None => None,
        };
        let keyboard = match params.get("reply_markup").and_then(|m| m.get("inline_keyboard")) {
            Some(rows) => Some(
                botyard_domain::keyboard::parse_inline_keyboard(&bb_buttons(rows)).map_err(|e| e.message)?,
            ),
            None => None,
        };
        match method {
            "sendMessage" => {
                let body = text("text").ok_or("sendMessage needs text")?;
                self.send_to(chat, &body, keyboard.as_ref())
            }
            "sendPhoto" | "sendDocument" | "sendVideo" | "sendAudio" | "sendAnimation" | "sendVoice" => {
                let field = method.trim_start_matches("send").to_lowercase();
                let link =
                    text(&field).ok_or_else(|| format!("{method} needs {field} (a URL on the web chat)"))?;
                let body = match text("caption") {
                    Some(caption) => format!("{caption}\n{link}"),
                    None => link,
                };
                self.send_to(chat, &body, keyboard.as_ref())
            }
            "editMessageText" | "editMessageReplyMarkup" => {
                let target = self.find_message(params.get("message_id").unwrap_or(&Value::Null))?;
                let body = if method == "editMessageText" {
                    Some(text("text").ok_or("editMessageText needs text")?)
                } else {
                    None
                };
                self.edit(target, body, keyboard)
            }
            "answerCallbackQuery" => {
                match (text("text"), params.get("show_alert").and_then(Value::as_bool)) {
                    (Some(notice), Some(true)) => self.send_to(None, &notice, None),
                    _ => Ok(HostAnswer::Undefined),
                }
            }
            "sendChatAction" => Ok(HostAnswer::Undefined),
            "deleteMessage" => {
                let target = self.find_message(params.get("message_id").unwrap_or(&Value::Null))?;
                match target {
                    Target::Pending(i) => {
                        // Sent earlier in this run: it is simply not sent.
                        self.effects.messages.remove(i);
                        self.effects.send_order.retain(|s| *s != SendRef::Message(i));
                        for send in &mut self.effects.send_order {
                            if let SendRef::Message(j) = send
                                && *j > i
                            {
                                *j -= 1;
                            }
                        }
                    }
                    Target::Stored(m) => {
                        self.spend(botyard_domain::effects::Capped::Edits)?;
                        self.effects.edits.retain(|e| e.message_id != m.id);
                        self.effects.deleted.push(m.id);
                    }
                }
                Ok(HostAnswer::Value(json!(true)))
            }
            other => Err(format!("Api.{other} is a Telegram Bot API method that the web chat does not have")),
        }
    }
}

/// Telegram's `[[{text, callback_data | url | web_app | login_url}]]` as Bots.Business buttons
/// `[[{title, command | url}]]`: a web app or login button opens its page, as a link does.
fn bb_buttons(rows: &Value) -> Value {
    let button = |b: &Value| {
        let mut out = Map::new();
        out.insert("title".into(), b.get("text").cloned().unwrap_or(Value::Null));
        if let Some(data) = b.get("callback_data") {
            out.insert("command".into(), data.clone());
        }
        let url = b.get("url").or_else(|| b.pointer("/web_app/url")).or_else(|| b.pointer("/login_url/url"));
        if let Some(url) = url {
            out.insert("url".into(), url.clone());
        }
        Value::Object(out)
    };
    match rows {
        Value::Array(rows) => Value::Array(
            rows.iter()
                .map(|row| match row {
                    Value::Array(buttons) => Value::Array(buttons.iter().map(button).collect()),
                    other => button(other),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}
