//! `Api.<method>(params)` and `Api.call(method, params)`: any Telegram Bot API method, sent in
//! order with the chat's messages after the run commits. `on_result` / `on_error` name commands
//! run with the answer (`options.ok`, `options.result` or `options.description`), and `bb_options`
//! travels to them as the rest of `options`.

use botyard_domain::conversation::Channel;
use botyard_domain::effects::OutboxItem;
use botyard_sandbox::HostAnswer;
use serde_json::{Map, Value, json};

use crate::host::{Answer, BjsHost};

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
        if chat.channel != Channel::Telegram {
            return Err(format!(
                "Api.{method} calls the Telegram Bot API, and this chat is not a Telegram chat"
            ));
        }
        let Value::Object(mut params) = params else {
            return Err("The parameters of an Api call must be an object".into());
        };
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
        self.effects.outbox.push(OutboxItem { chat_id, method, params: Value::Object(params), callback });
        Ok(HostAnswer::Undefined)
    }
}
