//! Processing one incoming thing: route it, run the code in the sandbox, commit the effects (or
//! only the error), deliver the replies, and return the commands started with `Bot.run`.

use std::sync::Arc;
use std::time::Duration;

use botyard_domain::arrival::{Arrival, NewArrival};
use botyard_domain::bot::Bot;
use botyard_domain::command::Command;
use botyard_domain::effects::{ErrorEntry, OutboxItem, OutgoingMessage, PendingChange, RunEffects};
use botyard_domain::matching::{CommandSet, Route};
use botyard_domain::{BotRef, ErrorCode, Result, Timestamp, conversation};
use botyard_sandbox::{Body, FailureKind, Outcome, Program};
use botyard_store::CommittedRun;
use serde_json::{Map, Value, json};

use crate::host::{BjsHost, RunContext};
use crate::incoming::{Incoming, IncomingKind, RunReply, RunReport};
use crate::meter::Allowance;
use crate::program::{
    bot_json, callback_update_json, chat_json, code_first_line, command_code, command_json,
    message_update_json, user_json,
};
use crate::{Runtime, new_message_uid};
use botyard_domain::job::{JobEnd, JobError, JobUpdate};

/// What the user sees when a command fails and the bot has no `!` command.
pub const DEFAULT_ERROR_MESSAGE: &str =
    "Sorry, something went wrong. The bot's owner can find the details in its error log.";

/// Processes one incoming thing; returns what `Bot.run` started, to process next in the same chat.
pub async fn process(rt: &Runtime, incoming: Incoming) -> Vec<Incoming> {
    let mut attempt = 0;
    loop {
        match try_process(rt, &incoming).await {
            Ok(next) => return next,
            // A transient failure (the database busy or unreachable) must not leave an accepted
            // arrival waiting until the next restart: it runs again, in its place in the chat.
            // Its inbox row fences the commit, so a run that did commit is not written twice.
            Err(e) if retryable(&incoming, &e, attempt) && !rt.stopping().is_cancelled() => {
                attempt += 1;
                tracing::warn!(bot_id = incoming.bot, chat_id = incoming.chat.id, attempt, error = %e, "an arrival's run failed; trying again");
                tokio::time::sleep(RETRY_AFTER * 2u32.pow(attempt - 1)).await;
            }
            Err(e) => return gave_up(&incoming, e),
        }
    }
}

/// How many times an arrival's run is tried again after a transient failure, and the first wait.
const RETRIES: u32 = 5;
const RETRY_AFTER: Duration = Duration::from_millis(200);

fn retryable(incoming: &Incoming, e: &botyard_domain::Error, attempt: u32) -> bool {
    incoming.ticket.is_some()
        && attempt < RETRIES
        && matches!(e.code, ErrorCode::Internal | ErrorCode::Unavailable | ErrorCode::Timeout)
}

/// Tells whoever waits that the arrival could not be processed; it stays in the inbox (for the
/// next adoption) when it has a row there.
fn gave_up(incoming: &Incoming, e: botyard_domain::Error) -> Vec<Incoming> {
    tracing::error!(
        bot_id = incoming.bot,
        chat_id = incoming.chat.id,
        job_id = incoming.job.as_ref().map(|hook| hook.lease.job),
        error = %e,
        "could not process an incoming message"
    );
    if let Some(reply) = &incoming.reply {
        reply.tell(Err(e.message.clone()));
    }
    if let Some(hook) = &incoming.job {
        hook.tell(RunReport::Skipped(e.message));
    }
    Vec::new()
}

/// Tells the run's job (if any) that the run did not happen, and takes the arrival out of the
/// inbox.
pub(crate) async fn skipped(rt: &Runtime, incoming: &Incoming, kind: &str, why: &str) -> Result<()> {
    rt.services().metrics.run(kind, "skipped", None);
    tracing::debug!(bot_id = incoming.bot, chat_id = incoming.chat.id, kind, "a run was skipped: {why}");
    if let Some(reply) = &incoming.reply {
        reply.tell(Err(why.to_owned()));
    }
    if let Some(hook) = &incoming.job {
        hook.tell(RunReport::Skipped(why.to_owned()));
    }
    if let Some(ticket) = &incoming.ticket {
        let effects = RunEffects { bot: incoming.bot, ticket: Some(ticket.clone()), ..RunEffects::default() };
        settle(rt.committer().commit(effects).await)?;
    }
    Ok(())
}

/// A commit's outcome, where losing the arrival to another node is no failure: it runs there.
fn settle(committed: Result<CommittedRun>) -> Result<Option<CommittedRun>> {
    match committed {
        Ok(done) => Ok(Some(done)),
        Err(e) if e.message == botyard_store::TICKET_LOST => {
            tracing::info!("a run's arrival was taken over by another node; its effects are dropped here");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The `kind` label of runs of BJS bots in the metrics.
const BJS: &str = "bjs";

/// The kind of a bot as the metrics of runs name it: `koreai`, `botpress_remote` or `bjs`.
async fn run_kind(rt: &Runtime, bot: &Bot) -> &'static str {
    if crate::remote::target(bot).is_some() {
        crate::remote::KIND
    } else if rt.kore_bot(bot).await.ok().flatten().is_some() {
        crate::koreai::KIND
    } else {
        BJS
    }
}

/// A planned run: what executes and how it is accounted.
struct Plan {
    program: Program,
    effects: RunEffects,
    command: Option<Command>,
    /// Where the command's code starts in the compiled run ([`crate::program::code_first_line`]).
    code_line: Option<u32>,
}

async fn try_process(rt: &Runtime, incoming: &Incoming) -> Result<Vec<Incoming>> {
    let services = rt.services();
    let Some(bot) = services.find_bot(&BotRef::Number(incoming.bot)).await? else {
        skipped(rt, incoming, "unknown", "the bot no longer exists").await?;
        return Ok(Vec::new());
    };
    if !bot.accepts_messages() || incoming.chat.blocked {
        tracing::debug!(
            bot_id = bot.number,
            workspace_id = %bot.workspace_id,
            chat_id = incoming.chat.id,
            "not processed: the bot is stopped or the chat is blocked"
        );
        skipped(
            rt,
            incoming,
            run_kind(rt, &bot).await,
            if incoming.chat.blocked { "the chat is blocked" } else { "the bot is stopped" },
        )
        .await?;
        return Ok(Vec::new());
    }
    let allowance = match rt.allowance(&bot, incoming.chat.id, incoming.user.as_ref().map(|u| u.id)).await {
        Ok(allowance) => allowance,
        Err(e) if e.code == ErrorCode::QuotaExceeded => {
            skipped(rt, incoming, run_kind(rt, &bot).await, &e.message).await?;
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    let limits = &services.config.sandbox;
    let time_limit = Duration::from_secs(u64::from(bot.execution_time_limit_secs(
        limits.default_time_limit_secs.min(allowance.plan.max_execution_time_secs),
        limits.max_time_limit_secs.min(allowance.plan.max_execution_time_secs.max(1)),
    )));
    if let Some(kore) = rt.kore_bot(&bot).await? {
        let limits = crate::koreai::TurnLimits { script_time: time_limit };
        crate::koreai::converse(rt, &bot, kore, incoming, limits).await?;
        return Ok(Vec::new());
    }
    if let Some(target) = crate::remote::target(&bot) {
        crate::remote::deliver(rt, &bot, target, incoming, time_limit).await?;
        return Ok(Vec::new());
    }
    let commands = services.bot_commands(bot.number).await?;
    let quota_left = allowance.plan.iterations_per_month.saturating_sub(allowance.used);
    let mut plan = plan(rt, &bot, &commands, incoming, time_limit).await?;
    let account = account_globals(rt, &bot, &allowance).await?;
    plan.program.globals.extend(account.clone());
    if let Some(hook) = &incoming.job {
        plan.effects.job = Some((hook.lease.clone(), hook.on_success.clone()));
    }
    plan.effects.ticket = incoming.ticket.clone();
    let command_name = plan.command.as_ref().map(|c| c.command.clone());
    let code_line = plan.code_line;
    let context = RunContext {
        handle: tokio::runtime::Handle::current(),
        services: services.clone(),
        store: rt.store().clone(),
        bot: bot.clone(),
        chat: Some(incoming.chat.clone()),
        user: incoming.user.clone(),
        commands: commands.clone(),
        clicked: match &incoming.kind {
            IncomingKind::Button { message, .. } => message.clone(),
            _ => None,
        },
        reply_to: match &incoming.kind {
            IncomingKind::Message { message, .. } => Some(crate::program::numeric_message_id(message)),
            // A command `Bot.run` started carries the request of the run that started it.
            IncomingKind::Command { globals, .. } => {
                globals.get("request").and_then(|r| r["message_id"].as_i64())
            }
            _ => None,
        },
        max_subcommands: limits.max_subcommands,
        quota_left,
    };
    let base = plan.effects.clone();
    // What commands `Bot.run` starts at once keep of this run: the update being answered.
    let carried: Map<String, Value> = ["request", "tgUpdate"]
        .iter()
        .filter_map(|k| {
            plan.program.globals.get(*k).filter(|v| !v.is_null()).map(|v| ((*k).to_owned(), v.clone()))
        })
        .collect();
    let read_ahead = rt.read_ahead(&bot, &incoming.chat, incoming.user.as_ref(), &plan.program).await?;
    let host = BjsHost::new(context, plan.effects).knowing(read_ahead);
    let started = std::time::Instant::now();
    let ran = rt.sandbox().run(tenant(&bot), plan.program, host).await;
    let outcome_label = match &ran {
        Some((Outcome::Completed { .. }, _)) => "completed",
        _ => "failed",
    };
    rt.services().metrics.run(BJS, outcome_label, Some(started.elapsed()));
    let Some((outcome, host)) = ran else {
        let entry = error_entry(
            incoming,
            command_name,
            "The sandbox failed while running this command".into(),
            String::new(),
        );
        commit(rt, &bot, with_failure(incoming, base.failed(entry), "The sandbox failed")).await?;
        if let Some(reply) = &incoming.reply {
            reply.tell(Err("The sandbox failed".into()));
        }
        return Ok(Vec::new());
    };
    match outcome {
        Outcome::Completed { .. } => {
            let mut effects = host.effects;
            // `Bot.run` without a delay: next in the chat (or in the chat it names), durably.
            effects.arrivals = host
                .follow_ups
                .into_iter()
                .map(|f| NewArrival {
                    bot: incoming.bot,
                    chat: f.chat.unwrap_or(incoming.chat.id),
                    user: incoming.user.as_ref().map(|u| u.id),
                    arrival: Arrival::Command { text: f.text, options: f.options, globals: carried.clone() },
                })
                .collect();
            let done_payloads: Vec<Value> = effects
                .messages
                .iter()
                .filter(|m| m.chat_id == incoming.chat.id)
                .map(|m| m.payload.clone())
                .collect();
            let last_message =
                done_payloads.last().and_then(|p| conversation::payload_text(p)).map(str::to_owned);
            let done = commit(rt, &bot, effects).await?;
            if let Some(hook) = &incoming.job {
                hook.tell(RunReport::Completed);
            }
            if let Some(reply) = &incoming.reply {
                reply.tell(Ok(RunReply {
                    rendered: host.rendered,
                    last_message,
                    messages: done_payloads,
                    ended: false,
                }));
            }
            let mut here = Vec::new();
            for entry in done.map(|d| d.arrivals).unwrap_or_default() {
                let same_chat = entry.chat == incoming.chat.id;
                match rt.incoming_of(entry).await? {
                    Some(next) if same_chat => here.push(next),
                    Some(next) => rt.submit(next),
                    None => {}
                }
            }
            Ok(here)
        }
        Outcome::Failed(error) => {
            let kind = match error.kind {
                FailureKind::Timeout => "timeout",
                FailureKind::OutOfMemory => "memory",
                FailureKind::StackOverflow => "stack",
                FailureKind::Exception => "exception",
                FailureKind::Internal => "internal",
            };
            tracing::info!(
                bot_id = bot.number,
                workspace_id = %bot.workspace_id,
                chat_id = incoming.chat.id,
                job_id = incoming.job.as_ref().map(|hook| hook.lease.job),
                command = command_name.as_deref().unwrap_or(""),
                kind,
                "a run failed: {}",
                error.message
            );
            let entry = error_entry(
                incoming,
                command_name.clone(),
                error.message.clone(),
                script_stack(&error.stack, code_line.zip(command_name.as_deref())),
            );
            commit(rt, &bot, with_failure(incoming, host.effects.failed(entry), &error.message)).await?;
            if let Some(hook) = &incoming.job {
                hook.tell(RunReport::Failed(error.message.clone()));
            }
            if let Some(reply) = &incoming.reply {
                reply.tell(Err(error.message.clone()));
            }
            let set = CommandSet::new(&commands);
            match set.named("!") {
                Some(handler) if command_name.as_deref() != Some("!") => {
                    run_error_command(
                        rt,
                        &bot,
                        &commands,
                        handler,
                        incoming,
                        &error.message,
                        &error.stack,
                        quota_left,
                        &account,
                    )
                    .await?;
                }
                _ => {
                    let payload = conversation::bot_payload(DEFAULT_ERROR_MESSAGE, None)?;
                    let message = OutgoingMessage {
                        uid: new_message_uid(),
                        chat_id: incoming.chat.id,
                        payload,
                        metadata: None,
                        at: Timestamp::now(),
                    };
                    let effects =
                        RunEffects { bot: bot.number, messages: vec![message], ..RunEffects::default() };
                    commit(rt, &bot, effects).await?;
                }
            }
            Ok(Vec::new())
        }
    }
}

/// Routes the incoming thing and prepares its run.
async fn plan(
    rt: &Runtime,
    bot: &Bot,
    commands: &Arc<Vec<Command>>,
    incoming: &Incoming,
    time_limit: Duration,
) -> Result<Plan> {
    let set = CommandSet::new(commands);
    let mut globals = base_globals(bot, incoming);
    let mut effects = RunEffects {
        bot: bot.number,
        workspace: Some(bot.workspace_id.clone()),
        iterations: 1,
        ..RunEffects::default()
    };
    if let IncomingKind::Button { callback: Some(callback), .. } = &incoming.kind
        && let Some(id) = callback.get("id").filter(|id| !id.is_null())
    {
        effects.auto_answer = Some(OutboxItem {
            chat_id: incoming.chat.id,
            method: "answerCallbackQuery".into(),
            params: json!({"callback_query_id": id}),
            callback: None,
        });
    }
    let bot_code = Some(bot.definition.code.clone()).filter(|c| !c.trim().is_empty());
    let mut event = None;
    let mut command = None;
    let mut code_line = None;
    let body = match &incoming.kind {
        IncomingKind::Event { name, payload } => {
            event = Some((name.clone(), payload.clone()));
            Body::Nothing
        }
        kind => {
            let text = kind.text().unwrap_or_default().to_owned();
            globals.insert("message".into(), Value::String(text.clone()));
            let mut pending = None;
            if let (IncomingKind::Message { .. }, Some(user)) = (kind, &incoming.user) {
                pending = rt.pending_reply(bot.number, incoming.chat.id, user.id).await?;
            }
            if let IncomingKind::Command { options, globals: extra, .. } = kind {
                globals.insert("options".into(), options.clone());
                for (k, v) in extra {
                    globals.insert(k.clone(), v.clone());
                }
            }
            if matches!(kind, IncomingKind::Message { .. }) {
                event = Some(("message".to_owned(), Value::String(text.clone())));
            }
            let groups = incoming.user.as_ref().map(|u| u.groups.clone()).unwrap_or_default();
            match set.route(&text, pending.as_ref().map(|(id, _)| *id), &groups) {
                Route::Reply(c) => {
                    if let (Some(user), Some((_, options))) = (&incoming.user, &pending) {
                        effects.pending.push(PendingChange::Clear { chat: incoming.chat.id, user: user.id });
                        globals.insert("options".into(), options.clone().unwrap_or(Value::Null));
                    }
                    globals.insert("command".into(), command_json(c));
                    command = Some(c.clone());
                    code_line = code_first_line(&set, c, true);
                    Body::Command { code: command_code(&set, c, true) }
                }
                Route::Command { command: c, params } => {
                    globals.insert("params".into(), Value::String(params));
                    globals.insert("command".into(), command_json(c));
                    command = Some(c.clone());
                    code_line = code_first_line(&set, c, false);
                    Body::Command { code: command_code(&set, c, false) }
                }
                Route::Unmatched { master } => {
                    if let Some(m) = master {
                        globals.insert("command".into(), command_json(m));
                        command = Some(m.clone());
                        code_line = code_first_line(&set, m, false);
                    }
                    let word = text.split_whitespace().next().unwrap_or("").to_owned();
                    Body::Unmatched { word, code: master.map(|m| command_code(&set, m, false)) }
                }
            }
        }
    };
    let libs = lib_sources(rt, bot).await?;
    let program = Program { globals, libs, bot_code, event, body, time_limit };
    Ok(Plan { program, effects, command, code_line })
}

/// The bookkeeping of a turn that is not a BJS run (a Kore.ai turn, a delivery to a remote
/// Botpress bot): one iteration, the arrival's inbox row and its job's update.
pub(crate) fn turn_effects(bot: &Bot, incoming: &Incoming) -> RunEffects {
    RunEffects {
        bot: bot.number,
        workspace: Some(bot.workspace_id.clone()),
        iterations: 1,
        ticket: incoming.ticket.clone(),
        job: incoming.job.as_ref().map(|hook| (hook.lease.clone(), hook.on_success.clone())),
        ..RunEffects::default()
    }
}

/// Who a run is for, for the sandbox's fair share of executors.
fn tenant(bot: &Bot) -> botyard_sandbox::Tenant {
    botyard_sandbox::Tenant { workspace: bot.workspace_id.to_string(), bot: bot.number }
}

/// A failed run's effects with its job's failure update.
fn with_failure(incoming: &Incoming, mut effects: RunEffects, message: &str) -> RunEffects {
    if let Some(hook) = &incoming.job {
        let update = hook.on_failure.clone().unwrap_or_else(|| {
            JobUpdate::End(JobEnd::Failed {
                details: None,
                error: JobError { code: "ScriptError".into(), message: message.to_owned() },
            })
        });
        effects.job = Some((hook.lease.clone(), update));
    }
    effects
}

/// `(name, code)` of the bot's libraries, evaluated before its code: the Bots.Business built-ins
/// it uses (unless it has its own of the same name), then its own.
async fn lib_sources(rt: &Runtime, bot: &Bot) -> Result<Vec<(String, String)>> {
    let libs = rt.services().bot_libs(bot.number).await?;
    let commands = rt.services().bot_commands(bot.number).await?;
    Ok(crate::builtin_libs::lib_sources(bot, &commands, &libs))
}

/// What scripts know of the bot's account: `owner`, `payment_plan`, `iteration_quota` (this
/// month's), and `BB_API_URL` — the server's public address, under which the webhook and web app
/// URLs that libraries build are served.
async fn account_globals(rt: &Runtime, bot: &Bot, allowance: &Allowance) -> Result<Map<String, Value>> {
    let services = rt.services();
    let owner = services.bot_owner(bot).await?;
    let plan = &allowance.plan;
    let (month_start, month_end) = Timestamp::now().month_bounds();
    let mut globals = Map::new();
    globals.insert(
        "owner".into(),
        owner.map_or(
            Value::Null,
            |u| json!({"id": u.id.0, "email": u.email, "created_at": u.created_at.to_rfc3339()}),
        ),
    );
    globals.insert(
        "payment_plan".into(),
        json!({
            "name": plan.name,
            "title": plan.title,
            "iterations": plan.iterations_per_month,
            "max_execution_time": plan.max_execution_time_secs,
            "price": plan.price_cents as f64 / 100.0,
        }),
    );
    globals.insert(
        "iteration_quota".into(),
        json!({
            "quotum_type": "iterations",
            "limit": plan.iterations_per_month,
            "progress": allowance.used,
            "has_limit": true,
            "started_at": month_start.to_rfc3339(),
            "ended_at": month_end.to_rfc3339(),
        }),
    );
    // A host without its scheme, as on Bots.Business ("api.bots.business"): libraries prepend
    // "https://".
    let public = services.config.link_base();
    let host = public.split_once("://").map_or(public, |(_, rest)| rest);
    globals.insert("BB_API_URL".into(), json!(host));
    Ok(globals)
}

/// The globals every run has.
fn base_globals(bot: &Bot, incoming: &Incoming) -> Map<String, Value> {
    let mut globals = Map::new();
    globals.insert("message".into(), Value::Null);
    globals.insert("params".into(), Value::String(String::new()));
    globals.insert("options".into(), Value::Null);
    globals.insert("command".into(), Value::Null);
    // What an HTTP or webhook callback received (set by those runs).
    globals.insert("content".into(), Value::Null);
    globals.insert("bot".into(), bot_json(bot));
    globals.insert("chat".into(), chat_json(&incoming.chat, incoming.chat_created));
    globals.insert(
        "user".into(),
        incoming.user.as_ref().map_or(Value::Null, |u| user_json(u, incoming.user_created)),
    );
    // `request` is the update's message or callback query as Telegram sent it (or, on botyard's
    // own channels, shaped like one).
    let user = incoming.user.as_ref();
    let request = match &incoming.kind {
        IncomingKind::Message { message, .. } => message_update_json(message, &incoming.chat, user),
        IncomingKind::Button { data, message, callback } => {
            callback_update_json(data, message.as_ref(), callback.as_ref(), &incoming.chat, user)
        }
        IncomingKind::Event { name, payload } => json!({"type": name, "payload": payload}),
        IncomingKind::Command { .. } => Value::Null,
    };
    globals.insert("tgUpdate".into(), request.clone());
    globals.insert("request".into(), request);
    globals.insert("completed_commands_count".into(), json!(0));
    globals
}

/// Runs the bot's `!` command after a failure; its own failure is only logged.
#[allow(clippy::too_many_arguments)]
async fn run_error_command(
    rt: &Runtime,
    bot: &Bot,
    commands: &Arc<Vec<Command>>,
    handler: &Command,
    incoming: &Incoming,
    message: &str,
    stack: &str,
    quota_left: u64,
    account: &Map<String, Value>,
) -> Result<()> {
    let set = CommandSet::new(commands);
    let mut globals = base_globals(bot, incoming);
    globals.extend(account.clone());
    globals.insert("message".into(), json!(incoming.kind.text()));
    globals.insert("params".into(), json!(message));
    globals.insert("options".into(), json!({"error": {"message": message, "stack": stack}}));
    globals.insert("command".into(), command_json(handler));
    let limits = &rt.services().config.sandbox;
    let program = Program {
        globals,
        libs: lib_sources(rt, bot).await?,
        bot_code: None,
        event: None,
        body: Body::Command { code: command_code(&set, handler, false) },
        time_limit: Duration::from_secs(u64::from(limits.default_time_limit_secs)),
    };
    let context = RunContext {
        handle: tokio::runtime::Handle::current(),
        services: rt.services().clone(),
        store: rt.store().clone(),
        bot: bot.clone(),
        chat: Some(incoming.chat.clone()),
        user: incoming.user.clone(),
        commands: commands.clone(),
        clicked: None,
        reply_to: None,
        max_subcommands: limits.max_subcommands,
        quota_left,
    };
    let effects =
        RunEffects { bot: bot.number, workspace: Some(bot.workspace_id.clone()), ..RunEffects::default() };
    match rt.sandbox().run(tenant(bot), program, BjsHost::new(context, effects)).await {
        Some((Outcome::Completed { .. }, host)) => commit(rt, bot, host.effects).await.map(|_| ()),
        Some((Outcome::Failed(error), host)) => {
            let entry = error_entry(
                incoming,
                Some("!".into()),
                format!("The ! command failed too: {}", error.message),
                script_stack(
                    &error.stack,
                    code_first_line(&CommandSet::new(commands), handler, false).zip(Some("!")),
                ),
            );
            commit(rt, bot, host.effects.failed(entry)).await.map(|_| ())
        }
        None => Ok(()),
    }
}

/// The frames of a stack trace that are the bot's code (not botyard's prelude). With `command`
/// (the line its code starts on in the compiled run, and its name), a frame in the command's code
/// names the command and the line as its author wrote it: `(<input>:4:17)` → `(/start:1:17)`.
fn script_stack(stack: &str, command: Option<(u32, &str)>) -> String {
    stack
        .lines()
        .filter(|l| !l.contains("eval_script"))
        .map(|l| match command {
            Some((first, name)) => format!("{}\n", in_command_lines(l, first, name)),
            None => format!("{l}\n"),
        })
        .collect()
}

fn in_command_lines(frame: &str, first: u32, name: &str) -> String {
    let Some(at) = frame.find("<input>:") else { return frame.to_owned() };
    let rest = &frame[at + "<input>:".len()..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    match rest[..digits].parse::<u32>() {
        Ok(line) if line >= first => {
            format!("{}{name}:{}{}", &frame[..at], line - first + 1, &rest[digits..])
        }
        _ => frame.to_owned(),
    }
}

fn error_entry(
    incoming: &Incoming,
    command: Option<String>,
    title: String,
    stack_trace: String,
) -> ErrorEntry {
    ErrorEntry {
        command,
        title,
        stack_trace,
        chat_id: Some(incoming.chat.id),
        user_id: incoming.user.as_ref().map(|u| u.id),
        at: Timestamp::now(),
    }
}

/// Commits effects and delivers what they wrote; `None` when another node took the run over.
pub(crate) async fn commit(rt: &Runtime, bot: &Bot, effects: RunEffects) -> Result<Option<CommittedRun>> {
    rt.inner.failpoints.check("run_commit")?;
    let iterations = effects.iterations;
    let panels_changed = !effects.panels.is_empty();
    let Some(done) = settle(rt.committer().commit(effects).await)? else { return Ok(None) };
    if panels_changed {
        rt.services().changed(botyard_core::cache_sync::Change::Content(bot.number)).await;
    }
    rt.meter().add(&bot.workspace_id, iterations);
    rt.deliver(done.clone()).await;
    Ok(Some(done))
}
