//! Bots.Business's `WebApp`: a command renders web content (HTML, CSS, JSON…) at a URL the bot
//! hands out — `WebApp.getUrl({command, options})` — and `WebApp.render({content | template,
//! mime_type, options})` says what the page shows. Templates are commands holding text with
//! `<% expression %>` tags, evaluated by the BJS prelude.
//!
//! The URL is `<base>/v2/bots/{bot}/web-app/{command}?secret=…&<options>`: the secret is derived
//! from the bot's signing secret and the command, so only commands the bot handed out a URL for can
//! be reached. As on Bots.Business, a web app is otherwise unprotected (anyone with the URL may call
//! it with any parameters): the documentation sends critical work to webhooks.

use std::time::Duration;

use botyard_domain::bot::Bot;
use botyard_domain::matching::CommandSet;
use botyard_domain::{Error, ErrorCode, Result};
use botyard_sandbox::HostAnswer;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

use crate::Runtime;
use crate::host::{Answer, BjsHost};
use crate::inbox::{Accept, Arriving};
use crate::incoming::{Rendered, ReplyHook, RunOutcome};

/// The most a page may hold.
pub const CONTENT_MAX_BYTES: usize = 1024 * 1024;

/// The secret of a command's web app URL.
pub fn web_app_secret(bot: &Bot, command: &str) -> String {
    botyard_core::credentials::digest(&format!("{}:web-app:{command}", bot.signing_secret))[..32].to_owned()
}

fn query_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl BjsHost {
    pub(crate) fn web_app(&mut self, name: &str, args: &[Value]) -> Answer {
        let spec = args.first().and_then(Value::as_object).cloned().unwrap_or_default();
        match name {
            "WebApp.getUrl" => {
                let command =
                    spec.get("command").and_then(Value::as_str).ok_or("WebApp.getUrl needs a command")?;
                // As on Bots.Business, a URL may name a command that does not exist (yet): the page
                // answers 404 then.
                let bot = &self.ctx.bot;
                let mut url = url::Url::parse(&format!(
                    "{}/v2/bots/{}/web-app/",
                    self.ctx.services.config.link_base(),
                    bot.number
                ))
                .map_err(|e| format!("The server's public_url is not a URL: {e}"))?;
                url.path_segments_mut()
                    .map_err(|_| "The server's public_url cannot take a path")?
                    .pop()
                    .push(command);
                {
                    let mut query = url.query_pairs_mut();
                    query.append_pair("secret", &web_app_secret(bot, command));
                    for (key, value) in spec.get("options").and_then(Value::as_object).into_iter().flatten() {
                        query.append_pair(key, &query_value(value));
                    }
                }
                Ok(HostAnswer::Value(json!(url.to_string())))
            }
            "WebApp.template" => {
                let name =
                    args.first().and_then(Value::as_str).ok_or("WebApp.render: template must be a name")?;
                let template =
                    self.commands().named(name).ok_or_else(|| format!("Template not found: {name}"))?;
                Ok(HostAnswer::Value(json!(template.code)))
            }
            "WebApp.render" => {
                let content = spec.get("content").map(query_value).unwrap_or_default();
                if content.len() > CONTENT_MAX_BYTES {
                    return Err(format!(
                        "WebApp.render: a page may be at most {} KiB",
                        CONTENT_MAX_BYTES / 1024
                    ));
                }
                let mime_type =
                    spec.get("mime_type").and_then(Value::as_str).unwrap_or("text/html").trim().to_owned();
                let valid = mime_type.len() <= 100
                    && mime_type.split('/').count() == 2
                    && mime_type.chars().all(|c| c.is_ascii_alphanumeric() || "/-+.;= ".contains(c));
                if !valid {
                    return Err(format!("WebApp.render: \"{mime_type}\" is not a MIME type"));
                }
                self.rendered = Some(Rendered { content, mime_type });
                Ok(HostAnswer::Undefined)
            }
            other => Err(format!("{other} is not a function")),
        }
    }
}

impl Runtime {
    /// Runs the command behind a web app URL and returns what it rendered (or, when it rendered
    /// nothing, its last message as `{answer}`); waits at most the bot's longest run.
    pub async fn web_app(
        &self,
        bot: &Bot,
        command: &str,
        secret: &str,
        options: Map<String, Value>,
    ) -> Result<Rendered> {
        let expected = web_app_secret(bot, command);
        if !bool::from(expected.as_bytes().ct_eq(secret.as_bytes())) {
            return Err(Error::unauthorized("The web app URL's secret is not valid"));
        }
        let commands = self.services().bot_commands(bot.number).await?;
        if CommandSet::new(&commands).lookup(command).is_none() {
            return Err(Error::new(ErrorCode::NotFound, format!("Command not found: {command}")));
        }
        let (chat, chat_created) = self.system_chat(bot.number).await?;
        let (reply, replied) = ReplyHook::new();
        let accept = Accept {
            bot: bot.number,
            chat,
            user: None,
            chat_created,
            user_created: false,
            what: Arriving::Command {
                text: command.to_owned(),
                options: Value::Object(options),
                globals: Map::new(),
            },
            telegram_update: None,
            bounded: true,
        };
        self.accept_waiting(accept, Some(reply)).await?;
        answer_of(self, replied).await
    }
}

/// What a waited-for run answers a web caller.
pub(crate) async fn answer_of(
    rt: &Runtime,
    replied: tokio::sync::oneshot::Receiver<RunOutcome>,
) -> Result<Rendered> {
    let limit = Duration::from_secs(u64::from(rt.services().config.sandbox.max_time_limit_secs) + 10);
    match tokio::time::timeout(limit, replied).await {
        Ok(Ok(Ok(reply))) => Ok(reply.rendered.unwrap_or_else(|| Rendered {
            content: json!({"answer": reply.last_message}).to_string(),
            mime_type: "application/json".into(),
        })),
        Ok(Ok(Err(failure))) => {
            Err(Error::new(ErrorCode::Unavailable, format!("The bot's code failed: {failure}")))
        }
        Ok(Err(_)) | Err(_) => Err(Error::new(ErrorCode::Timeout, "The bot did not answer in time")),
    }
}
