//! The BJS API: what a script's calls (`Bot.sendMessage`, `User.setProperty`, …) do. Calls
//! arrive on the sandbox's executor thread; reads go to the database (blocking that thread), writes
//! become effects that are committed only if the run succeeds.

use std::collections::HashMap;
use std::sync::Arc;

use botyard_core::Services;
use botyard_domain::bot::Bot;
use botyard_domain::command::Command;
use botyard_domain::conversation::{self, BotUser, Channel, Chat, ChatMessage};
use botyard_domain::effects::{
    Capped, GroupChange, MessageEdit, OutgoingMessage, PendingChange, PropertyWrite, RunCounts, RunEffects,
    SendRef,
};
use botyard_domain::keyboard::{self, Keyboard};
use botyard_domain::matching::CommandSet;
use botyard_domain::property::{self, PropertyScope, PropertyType};
use botyard_domain::{Error, Timestamp};
use botyard_sandbox::{Host, HostAnswer};
use botyard_store::{ChatKey, ConversationStore, PropertyStore, TelegramStore};
use serde_json::{Map, Value, json};
use tokio::runtime::Handle;

use crate::program;

/// What a run knows about where it runs.
pub struct RunContext {
    pub handle: Handle,
    pub services: Services,
    pub store: botyard_store::Store,
    pub bot: Bot,
    pub chat: Option<Chat>,
    pub user: Option<BotUser>,
    pub commands: Arc<Vec<Command>>,
    /// The bot message whose inline button was pressed, if any.
    pub clicked: Option<ChatMessage>,
    /// The Telegram id (or botyard number) of the user's message the run answers, if any: what
    /// `is_reply` replies to.
    pub reply_to: Option<i64>,
    pub max_subcommands: u32,
    /// Iterations the workspace may still use this month.
    pub quota_left: u64,
}

/// A command started with `Bot.run` (no delay), to run after this one.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub text: String,
    pub options: Value,
    pub chat: Option<i64>,
}

type PropertyKey = (PropertyScope, i64, String);

pub struct BjsHost {
    pub(crate) ctx: RunContext,
    pub effects: RunEffects,
    /// Properties read or written during the run (`None`: absent or deleted).
    properties: HashMap<PropertyKey, Option<Value>>,
    groups: Vec<String>,
    pub follow_ups: Vec<FollowUp>,
    subcommands: u32,
    /// The bot's delayed runs waiting when this run first scheduled one.
    pub(crate) pending_runs: Option<u64>,
    /// What the run has done, against its caps.
    counts: RunCounts,
    /// What `WebApp.render` rendered, for whoever waits for the run.
    pub rendered: Option<crate::incoming::Rendered>,
}

pub(crate) type Answer = Result<HostAnswer, String>;

pub(crate) fn fail(e: Error) -> String {
    e.message
}

impl BjsHost {
    pub fn new(ctx: RunContext, effects: RunEffects) -> Self {
        let groups = ctx.user.as_ref().map(|u| u.groups.clone()).unwrap_or_default();
        Self {
            ctx,
            effects,
            properties: HashMap::new(),
            groups,
            follow_ups: Vec::new(),
            subcommands: 0,
            pending_runs: None,
            counts: RunCounts::default(),
            rendered: None,
        }
    }

    /// The host with properties already read for the run ([`crate::prefetch`]).
    pub(crate) fn knowing(mut self, read: crate::prefetch::ReadAhead) -> Self {
        self.properties.extend(read);
        self
    }

    /// Counts one more effect of `kind`, refused beyond the run's cap.
    pub(crate) fn spend(&mut self, kind: Capped) -> Result<(), String> {
        self.counts.spend(&self.ctx.services.config.sandbox.run_caps, kind)
    }

    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.ctx.handle.block_on(future)
    }

    fn chat(&self) -> Result<&Chat, String> {
        self.ctx.chat.as_ref().ok_or_else(|| "There is no chat in this run; pass chat_id".to_owned())
    }

    fn user(&self) -> Result<&BotUser, String> {
        self.ctx.user.as_ref().ok_or_else(|| "There is no user in this run".to_owned())
    }

    pub(crate) fn commands(&self) -> CommandSet<'_> {
        CommandSet::new(&self.ctx.commands)
    }

    // ---- messages ----

    fn send(&mut self, chat: Option<i64>, text: &str, keyboard: Option<&Keyboard>) -> Answer {
        let chat_id = match chat {
            Some(id) => Some(self.own_chat(id)?),
            None => None,
        };
        self.send_to(chat_id, text, keyboard)
    }

    /// Sends to a chat of this bot already resolved (`None`: the run's chat).
    pub(crate) fn send_to(&mut self, chat: Option<i64>, text: &str, keyboard: Option<&Keyboard>) -> Answer {
        let chat_id = match chat {
            Some(id) => id,
            None => self.chat()?.id,
        };
        let text = self.substitute(text)?;
        let payload = conversation::bot_payload(&text, keyboard).map_err(fail)?;
        self.spend(Capped::Messages)?;
        let uid = crate::new_message_uid();
        self.effects.send_order.push(SendRef::Message(self.effects.messages.len()));
        self.effects.messages.push(OutgoingMessage {
            uid: uid.clone(),
            chat_id,
            payload,
            metadata: None,
            at: Timestamp::now(),
        });
        Ok(HostAnswer::Value(json!({"message_id": uid})))
    }

    /// The id of a chat of this bot named by a script: by its Telegram id (`chat.chatid`, as
    /// Bots.Business scripts pass it), else by botyard's number for the chat.
    pub(crate) fn own_chat(&self, id: i64) -> Result<i64, String> {
        if let Some(current) =
            self.ctx.chat.as_ref().filter(|c| program::numeric_chat_id(c) == id || c.id == id)
        {
            return Ok(current.id);
        }
        let external = id.to_string();
        let key = ChatKey { bot: self.ctx.bot.number, channel: Channel::Telegram, external_id: &external };
        if let Some(chat) = self.block_on(self.ctx.store.chat_by_external(&key)).map_err(fail)? {
            return Ok(chat.id);
        }
        let found = self.block_on(self.ctx.store.chat(self.ctx.bot.number, id)).map_err(fail)?;
        found.map(|c| c.id).ok_or_else(|| format!("Chat {id} does not exist"))
    }

    /// Replaces `<Name>` with the user's (or else the bot's) property `Name`.
    fn substitute(&mut self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find('<') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let Some(end) = after.find('>') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let name = &after[..end];
            let plausible = !name.is_empty() && name.len() <= 100 && !name.contains(['<', '\n']);
            let value = if plausible { self.substitution(name)? } else { None };
            match value {
                Some(v) => out.push_str(&value_text(&v)),
                None => {
                    out.push('<');
                    out.push_str(name);
                    out.push('>');
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn substitution(&mut self, name: &str) -> Result<Option<Value>, String> {
        if let Some(user) = self.ctx.user.as_ref().map(|u| u.id)
            && let Some(v) = self.read(PropertyScope::User, user, name)?
        {
            return Ok(Some(v));
        }
        self.read(PropertyScope::Bot, 0, name)
    }

    /// A message of this bot by its id: sent earlier in this run, or stored.
    pub(crate) fn find_message(&self, id: &Value) -> Result<Target, String> {
        let raw = match id {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Null => {
                return self
                    .ctx
                    .clicked
                    .clone()
                    .map(|m| Target::Stored(Box::new(m)))
                    .ok_or_else(|| "message_id is required".to_owned());
            }
            other => return Err(format!("Invalid message_id {other}")),
        };
        if let Some(i) = self.effects.messages.iter().position(|m| m.uid == raw) {
            return Ok(Target::Pending(i));
        }
        let store = &self.ctx.store;
        // A number is Telegram's message id in a Telegram chat (as in `request.message_id`), else
        // botyard's number for the message.
        let in_telegram_chat = self.ctx.chat.as_ref().filter(|c| c.channel == Channel::Telegram);
        let by_telegram_id = match (in_telegram_chat, raw.parse::<i64>()) {
            (Some(chat), Ok(_)) => {
                self.block_on(store.message_by_external_id(chat.id, &raw)).map_err(fail)?
            }
            _ => None,
        };
        let found = match (by_telegram_id, raw.parse::<i64>()) {
            (Some(m), _) => Some(m),
            (None, Ok(n)) => self.block_on(store.message_by_id(n)).map_err(fail)?,
            (None, Err(_)) => self.block_on(store.message(self.ctx.bot.number, &raw)).map_err(fail)?,
        };
        match found {
            Some(m) if m.bot_number == self.ctx.bot.number && m.from_bot() => Ok(Target::Stored(Box::new(m))),
            _ => Err(format!("Message {raw} is not a message of this bot")),
        }
    }

    pub(crate) fn edit(
        &mut self,
        target: Target,
        text: Option<String>,
        keyboard: Option<Keyboard>,
    ) -> Answer {
        self.spend(Capped::Edits)?;
        let mut text_changed = text.is_some();
        // An earlier edit of the same message in this run is where this one starts from.
        let earlier = match &target {
            Target::Stored(m) => self.effects.edits.iter().position(|e| e.message_id == m.id),
            Target::Pending(_) => None,
        };
        let current = match (&target, earlier) {
            (Target::Stored(_), Some(i)) => {
                let edit = self.effects.edits.remove(i);
                text_changed |= edit.text_changed;
                edit.payload
            }
            (Target::Pending(i), _) => self.effects.messages[*i].payload.clone(),
            (Target::Stored(m), None) => m.payload.clone(),
        };
        let text = match text {
            Some(t) => self.substitute(&t)?,
            None => conversation::payload_text(&current).unwrap_or_default().to_owned(),
        };
        let keyboard = keyboard.or_else(|| conversation::payload_keyboard(&current));
        let payload = conversation::bot_payload(&text, keyboard.as_ref()).map_err(fail)?;
        match target {
            Target::Pending(i) => self.effects.messages[i].payload = payload,
            Target::Stored(m) => {
                if !self.effects.send_order.contains(&SendRef::Edit(m.id)) {
                    self.effects.send_order.push(SendRef::Edit(m.id));
                }
                self.effects.edits.push(MessageEdit {
                    message_id: m.id,
                    payload,
                    text_changed,
                    at: Timestamp::now(),
                })
            }
        }
        Ok(HostAnswer::Value(Value::Bool(true)))
    }

    // ---- properties ----

    fn read(&mut self, scope: PropertyScope, owner: i64, name: &str) -> Result<Option<Value>, String> {
        property::check_name(name).map_err(fail)?;
        let key = (scope, owner, name.to_owned());
        if let Some(v) = self.properties.get(&key) {
            return Ok(v.clone());
        }
        let found =
            self.block_on(self.ctx.store.property(self.ctx.bot.number, scope, owner, name)).map_err(fail)?;
        self.ctx.services.metrics.property_reads("during_run", 1);
        let value = found.map(|p| p.value);
        self.properties.insert(key, value.clone());
        Ok(value)
    }

    fn write(
        &mut self,
        scope: PropertyScope,
        owner: i64,
        name: &str,
        value: Value,
        kind: Option<PropertyType>,
    ) -> Answer {
        let typed = property::typed_value(name, value, kind).map_err(fail)?;
        self.spend(Capped::PropertyWrites)?;
        self.properties.insert((scope, owner, name.to_owned()), typed.as_ref().map(|(_, v)| v.clone()));
        self.effects.properties.retain(|p| !(p.scope == scope && p.owner == owner && p.name == name));
        self.effects.properties.push(PropertyWrite {
            scope,
            owner,
            name: name.to_owned(),
            value: typed,
            at: Timestamp::now(),
        });
        Ok(HostAnswer::Undefined)
    }

    /// `set…(name, value, type)` or `set…({name, value, type, user_id})`.
    fn set_property(&mut self, scope: PropertyScope, owner: i64, args: &[Value]) -> Answer {
        let (name, value, kind, owner) = match args.first() {
            Some(Value::Object(spec)) => {
                let (scope_owner, _) = self.spec_owner(scope, owner, spec)?;
                (
                    str_field(spec, "name")?,
                    spec.get("value").cloned().unwrap_or(Value::Null),
                    spec.get("type"),
                    scope_owner,
                )
            }
            _ => {
                (arg_text(args, 0, "name")?, args.get(1).cloned().unwrap_or(Value::Null), args.get(2), owner)
            }
        };
        let kind = kind.and_then(Value::as_str).map(PropertyType::parse).transpose().map_err(fail)?;
        let scope = if owner != 0 && scope == PropertyScope::Bot { PropertyScope::User } else { scope };
        self.write(scope, owner, &name, value, kind)
    }

    /// `get…(name, default)` or `get…({name, default | default_value, user_id})`.
    fn get_property(&mut self, scope: PropertyScope, owner: i64, args: &[Value]) -> Answer {
        let (name, default, owner) = match args.first() {
            Some(Value::Object(spec)) => {
                if spec.contains_key("other_bot_id") || spec.contains_key("bot_id") {
                    return Err("Reading properties of other bots is not supported".into());
                }
                let (owner, _) = self.spec_owner(scope, owner, spec)?;
                let default = spec.get("default").or_else(|| spec.get("default_value")).cloned();
                (str_field(spec, "name")?, default, owner)
            }
            _ => (arg_text(args, 0, "name")?, args.get(1).cloned(), owner),
        };
        let scope = if owner != 0 && scope == PropertyScope::Bot { PropertyScope::User } else { scope };
        match self.read(scope, owner, &name)? {
            Some(v) => Ok(HostAnswer::Value(v)),
            None => Ok(default.map_or(HostAnswer::Undefined, HostAnswer::Value)),
        }
    }

    fn delete_property(&mut self, scope: PropertyScope, owner: i64, args: &[Value]) -> Answer {
        let (name, owner) = match args.first() {
            Some(Value::Object(spec)) => {
                let (owner, _) = self.spec_owner(scope, owner, spec)?;
                (str_field(spec, "name")?, owner)
            }
            _ => (arg_text(args, 0, "name")?, owner),
        };
        let scope = if owner != 0 && scope == PropertyScope::Bot { PropertyScope::User } else { scope };
        self.write(scope, owner, &name, Value::Null, None)
    }

    /// The owner named by a `{user_id}` in an object argument (a user of this bot).
    fn spec_owner(
        &self,
        scope: PropertyScope,
        owner: i64,
        spec: &Map<String, Value>,
    ) -> Result<(i64, bool), String> {
        match spec.get("user_id").and_then(Value::as_i64) {
            Some(id) if scope != PropertyScope::Chat => {
                let user = self.block_on(self.ctx.store.bot_user(self.ctx.bot.number, id)).map_err(fail)?;
                user.map(|u| (u.id, true)).ok_or_else(|| format!("User {id} is not a user of this bot"))
            }
            _ => Ok((owner, false)),
        }
    }

    fn user_owner(&self) -> Result<i64, String> {
        self.user().map(|u| u.id)
    }

    // ---- commands ----

    fn run_command(&mut self, args: &[Value]) -> Answer {
        let text = arg_text(args, 0, "command")?;
        let options = args.get(1).cloned().unwrap_or(Value::Null);
        self.count_subcommand(true)?;
        let set = self.commands();
        let (command, params) = set.lookup(&text).ok_or_else(|| format!("Command not found: {text}"))?;
        let code = program::command_code(&set, command, false);
        let mut globals = Map::new();
        globals.insert("params".into(), Value::String(params));
        globals.insert("options".into(), options);
        globals.insert("command".into(), program::command_json(command));
        Ok(HostAnswer::Run { code, globals })
    }

    /// Counts one more iteration for this run, within the quota.
    pub(crate) fn count_iteration(&mut self) -> Result<(), String> {
        self.check_quota(1)?;
        self.effects.iterations += 1;
        Ok(())
    }

    /// Fails unless `more` iterations fit the quota, on top of what the run used and the jobs it
    /// starts cost.
    pub(crate) fn check_quota(&self, more: u64) -> Result<(), String> {
        let started: u64 = self.effects.jobs.iter().map(|j| j.cost).sum();
        if self.effects.iterations + started + more > self.ctx.quota_left {
            return Err("The iteration quota of this bot's plan is used up".into());
        }
        Ok(())
    }

    fn count_subcommand(&mut self, iteration: bool) -> Result<(), String> {
        self.subcommands += 1;
        if self.subcommands > self.ctx.max_subcommands {
            return Err(format!("Too many sub commands (at most {} per run)", self.ctx.max_subcommands));
        }
        if iteration {
            self.count_iteration()?;
        }
        Ok(())
    }

    fn run_later(&mut self, args: &[Value]) -> Answer {
        let spec = match args.first() {
            Some(Value::Object(spec)) => spec.clone(),
            Some(Value::String(command)) => {
                [("command".to_owned(), Value::String(command.clone()))].into_iter().collect()
            }
            _ => return Err("Bot.run needs {command, options, run_after, label, chat_id}".into()),
        };
        if let Some(seconds) = spec.get("run_after").and_then(Value::as_f64).filter(|s| *s > 0.0) {
            return self.run_after(&spec, seconds);
        }
        let text = str_field(&spec, "command")?;
        let ignore_missing = spec.get("ignoreMissingCommand").and_then(Value::as_bool).unwrap_or(false);
        if self.commands().lookup(&text).is_none() && !ignore_missing {
            return Err(format!("Command not found: {text}"));
        }
        self.count_subcommand(false)?;
        let chat = match spec.get("chat_id").and_then(Value::as_i64) {
            Some(id) => Some(self.own_chat(id)?),
            None => None,
        };
        self.follow_ups.push(FollowUp {
            text,
            options: spec.get("options").cloned().unwrap_or(Value::Null),
            chat,
        });
        Ok(HostAnswer::Undefined)
    }

    fn answer(&mut self, args: &[Value]) -> Answer {
        let id = args.first().and_then(Value::as_i64).unwrap_or_default();
        let Some(command) = self.commands().by_id(id).cloned() else { return Ok(HostAnswer::Undefined) };
        if command.answer.trim().is_empty() {
            return Ok(HostAnswer::Undefined);
        }
        let keyboard = keyboard::parse_reply_keyboard(&command.keyboard).map_err(fail)?;
        self.send(None, &command.answer, keyboard.as_ref())
    }

    fn await_reply(&mut self, args: &[Value]) -> Answer {
        let command = args.first().and_then(Value::as_i64).unwrap_or_default();
        let options = args.get(1).cloned().filter(|o| !o.is_null());
        let (chat, user) = (self.chat()?.id, self.user_owner()?);
        self.effects.pending.retain(|p| !matches!(p, PendingChange::Set { chat: c, user: u, .. } | PendingChange::Clear { chat: c, user: u } if *c == chat && *u == user));
        self.effects.pending.push(PendingChange::Set { chat, user, command, options, at: Timestamp::now() });
        Ok(HostAnswer::Undefined)
    }

    // ---- groups ----

    fn group_change(&mut self, change: GroupChange) -> Answer {
        match &change {
            GroupChange::Add { group, .. } => {
                if group.trim().is_empty() || group.chars().count() > 200 || group.contains('\0') {
                    return Err("Group names must be 1 to 200 characters, without NUL".into());
                }
                if !self.groups.contains(group) {
                    self.groups.push(group.clone());
                }
            }
            GroupChange::Remove { group, .. } => self.groups.retain(|g| g != group),
            GroupChange::Clear { .. } => self.groups.clear(),
        }
        self.effects.groups.push(change);
        Ok(HostAnswer::Undefined)
    }
}

pub(crate) enum Target {
    /// A message sent earlier in this run (index in the effects).
    Pending(usize),
    Stored(Box<ChatMessage>),
}

impl Host for BjsHost {
    fn call(&mut self, name: &str, args: Vec<Value>) -> Answer {
        let chat_owner =
            || self.ctx.chat.as_ref().map(|c| c.id).ok_or_else(|| "There is no chat in this run".to_owned());
        match name {
            "Command.answer" => self.answer(&args),
            "Command.awaitReply" => self.await_reply(&args),
            "Bot.sendMessage" => {
                let (text, chat) = text_and_chat(&args)?;
                let options = match args.first() {
                    Some(Value::Object(spec)) => Some(spec),
                    _ => args.get(1).and_then(Value::as_object),
                };
                let telegram = options.map(|o| self.telegram_options(o)).transpose()?.flatten();
                let answer = self.send(chat, &text, None)?;
                if let (Some(telegram), Some(sent)) = (telegram, self.effects.messages.last_mut()) {
                    sent.metadata.get_or_insert_with(Map::new).insert("telegram_send".into(), telegram);
                }
                Ok(answer)
            }
            "Bot.sendMessageToChatWithId" => {
                let chat = args.first().and_then(number_arg).ok_or("chat id is required")?;
                self.send(Some(chat), &arg_text(&args, 1, "text")?, None)
            }
            "Bot.sendKeyboard" => {
                let keyboard = reply_keyboard(args.first())?;
                let text = arg_text(&args, 1, "text").map_err(|_| "Message is required".to_owned())?;
                self.send(None, &text, keyboard.as_ref())
            }
            "Bot.sendInlineKeyboard" => {
                let keyboard =
                    keyboard::parse_inline_keyboard(args.first().unwrap_or(&Value::Null)).map_err(fail)?;
                let text = arg_text(&args, 1, "text").map_err(|_| "Message is required".to_owned())?;
                self.send(None, &text, Some(&keyboard))
            }
            "Bot.editMessage" => {
                let text = arg_text(&args, 0, "text")?;
                let target = self.find_message(args.get(1).unwrap_or(&Value::Null))?;
                self.edit(target, Some(text), None)
            }
            "Bot.editInlineKeyboard" => {
                let keyboard =
                    keyboard::parse_inline_keyboard(args.first().unwrap_or(&Value::Null)).map_err(fail)?;
                let target = self.find_message(args.get(1).unwrap_or(&Value::Null))?;
                self.edit(target, None, Some(keyboard))
            }
            "Bot.inspect" => {
                let text =
                    serde_json::to_string_pretty(args.first().unwrap_or(&Value::Null)).unwrap_or_default();
                self.send(None, &text, None)
            }
            "Bot.runCommand" => self.run_command(&args),
            "Bot.run" => self.run_later(&args),
            "Bot.clearRunAfter" => self.clear_run_after(&args),
            "Bot.runAll" => self.run_all(&args),
            "Bot.importCSV" | "Bot.importGit" | "Bot.exportGit" => self.transfer(name, &args),
            "HTTP.get" | "HTTP.post" | "HTTP.put" | "HTTP.patch" | "HTTP.delete" => {
                let method = name.trim_start_matches("HTTP.").to_owned();
                self.http(&method, &args)
            }
            "Bot.setProperty" | "Bot.setProp" => self.set_property(PropertyScope::Bot, 0, &args),
            "Bot.getProperty" | "Bot.getProp" => self.get_property(PropertyScope::Bot, 0, &args),
            "Bot.deleteProp" | "Bot.deleteProperty" => self.delete_property(PropertyScope::Bot, 0, &args),
            "Bot.blockChat" | "Bot.unblockChat" => {
                let chat = match args.first().filter(|a| !a.is_null()) {
                    Some(id) => {
                        self.own_chat(number_arg(id).ok_or_else(|| format!("Invalid chat id {id}"))?)?
                    }
                    None => chat_owner()?,
                };
                self.effects.chat_blocks.push((chat, name == "Bot.blockChat"));
                Ok(HostAnswer::Undefined)
            }
            "User.setProperty" | "User.setProp" => {
                self.set_property(PropertyScope::User, self.user_owner()?, &args)
            }
            "User.getProperty" | "User.getProp" => {
                self.get_property(PropertyScope::User, self.user_owner()?, &args)
            }
            "User.deleteProp" | "User.deleteProperty" => {
                self.delete_property(PropertyScope::User, self.user_owner()?, &args)
            }
            "User.addToGroup" => {
                let group = arg_text(&args, 0, "group")?;
                self.group_change(GroupChange::Add { user: self.user_owner()?, group })
            }
            "User.removeFromGroup" => {
                let group = arg_text(&args, 0, "group")?;
                self.group_change(GroupChange::Remove { user: self.user_owner()?, group })
            }
            "User.removeGroup" => self.group_change(GroupChange::Clear { user: self.user_owner()? }),
            "User.getGroups" => {
                self.user_owner()?;
                Ok(HostAnswer::Value(json!(self.groups)))
            }
            "User.getGroup" => {
                self.user_owner()?;
                Ok(self
                    .groups
                    .first()
                    .map_or(HostAnswer::Value(Value::Null), |g| HostAnswer::Value(json!(g))))
            }
            "Chat.setProperty" | "Chat.setProp" => {
                self.set_property(PropertyScope::Chat, chat_owner()?, &args)
            }
            "Chat.getProperty" | "Chat.getProp" => {
                self.get_property(PropertyScope::Chat, chat_owner()?, &args)
            }
            "Chat.deleteProp" | "Chat.deleteProperty" => {
                self.delete_property(PropertyScope::Chat, chat_owner()?, &args)
            }
            _ if name.starts_with("AdminPanel.") => self.admin_panel(name, &args),
            _ if name.starts_with("Api.") => self.telegram_api(name, &args),
            _ if name.starts_with("WebApp.") => self.web_app(name, &args),
            other => Err(not_available(other)),
        }
    }
}

fn not_available(name: &str) -> String {
    format!("{name} is not a function")
}

/// Text as BJS prints values.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn arg_text(args: &[Value], i: usize, what: &str) -> Result<String, String> {
    match args.get(i) {
        None | Some(Value::Null) => Err(format!("{what} is required")),
        Some(v) => Ok(value_text(v)),
    }
}

fn str_field(spec: &Map<String, Value>, key: &str) -> Result<String, String> {
    match spec.get(key) {
        None | Some(Value::Null) => Err(format!("{key} is required")),
        Some(v) => Ok(value_text(v)),
    }
}

/// `sendMessage(text)` or `sendMessage({text, chat_id})`.
fn text_and_chat(args: &[Value]) -> Result<(String, Option<i64>), String> {
    match args.first() {
        Some(Value::Object(spec)) => {
            Ok((str_field(spec, "text")?, spec.get("chat_id").and_then(Value::as_i64)))
        }
        _ => Ok((arg_text(args, 0, "text").map_err(|_| "Message text can't be blank".to_owned())?, None)),
    }
}

/// A reply keyboard given as Bots.Business text (`"A, B\nC"`) or as rows of strings.
fn reply_keyboard(value: Option<&Value>) -> Result<Option<Keyboard>, String> {
    match value {
        Some(Value::String(text)) => keyboard::parse_reply_keyboard(text).map_err(fail),
        Some(Value::Array(items)) => {
            let rows: Vec<String> = items
                .iter()
                .map(|row| match row {
                    Value::Array(buttons) => buttons.iter().map(value_text).collect::<Vec<_>>().join(","),
                    other => value_text(other),
                })
                .collect();
            let text = if items.iter().any(Value::is_array) { rows.join("\n") } else { rows.join(",") };
            keyboard::parse_reply_keyboard(&text).map_err(fail)
        }
        _ => Err("Keyboard buttons are required".into()),
    }
}

/// A number a script passes as a number or as a numeric string (Telegram ids often arrive as
/// strings, e.g. from properties).
pub(crate) fn number_arg(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl BjsHost {
    /// What of `Bot.sendMessage`'s options Telegram takes (`parse_mode`, `disable_web_page_preview`,
    /// `reply_markup`, `reply_to_message_id`, `is_reply` — a reply to the user's message), kept
    /// with the message for the sender; `None` when there is nothing to keep.
    fn telegram_options(&self, options: &Map<String, Value>) -> Result<Option<Value>, String> {
        let mut kept = Map::new();
        if let Some(mode) = options.get("parse_mode").filter(|m| !m.is_null()) {
            let mode = mode.as_str().ok_or("parse_mode must be text")?;
            if !matches!(mode, "Markdown" | "MarkdownV2" | "HTML" | "markdown" | "html" | "") {
                return Err(format!("parse_mode must be Markdown, MarkdownV2 or HTML, not \"{mode}\""));
            }
            kept.insert("parse_mode".into(), json!(mode));
        }
        if let Some(flag) = options.get("disable_web_page_preview").and_then(Value::as_bool) {
            kept.insert("disable_web_page_preview".into(), json!(flag));
        }
        if let Some(markup) = options.get("reply_markup").filter(|m| m.is_object()) {
            kept.insert("reply_markup".into(), markup.clone());
        }
        let reply_to = match options.get("reply_to_message_id").and_then(number_arg) {
            Some(id) => Some(id),
            None if options.get("is_reply").and_then(Value::as_bool) == Some(true) => self.ctx.reply_to,
            None => None,
        };
        if let Some(id) = reply_to {
            kept.insert("reply_to_message_id".into(), json!(id));
        }
        Ok((!kept.is_empty()).then_some(Value::Object(kept)))
    }
}
