//! One executor's QuickJS runtime and how a run uses it.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rquickjs::context::EvalOptions;
use rquickjs::context::intrinsic::{Date, Eval, Json, MapSet, Proxy, RegExp, RegExpCompiler};
use rquickjs::{Context, Ctx, Exception, Function, Object, Runtime};
use serde_json::{Value, json};

use crate::compiled::{Compiled, command_function, compile, eval_bytecode, eval_script};
use crate::{Body, FailureKind, Host, HostAnswer, Outcome, Program, SandboxConfig, ScriptError};

const PRELUDE: &str = include_str!("prelude.js");
/// How often (in runs) the engine collects cyclic garbage.
const GC_EVERY: u64 = 32;

/// The intrinsics BJS needs: no promises, typed arrays or weak references.
type Intrinsics = (Eval, Json, Date, RegExpCompiler, RegExp, MapSet, Proxy);

pub struct Engine {
    config: SandboxConfig,
    runtime: Runtime,
    /// The prelude compiled once for this runtime (QuickJS bytecode), read into each run's
    /// context instead of parsing its source again; `None` if compiling failed (then the source
    /// is evaluated, as before).
    prelude: Option<Vec<u8>>,
    /// Libraries, bot code and commands compiled in this runtime, by their source.
    compiled: Compiled,
    /// The sandbox's count of scripts read from bytecode.
    bytecode_reads: Arc<AtomicU64>,
    base: Instant,
    /// Nanoseconds after `base` when the current run must stop.
    deadline: Arc<AtomicU64>,
    runs: u64,
}

impl Engine {
    pub fn new(config: &SandboxConfig, bytecode_reads: Arc<AtomicU64>) -> Self {
        let base = Instant::now();
        let deadline = Arc::new(AtomicU64::new(u64::MAX));
        let runtime = new_runtime(config, base, deadline.clone());
        let prelude = compile_prelude(&runtime);
        let compiled = Compiled::new(config.compiled_bytes, bytecode_reads.clone());
        Self { config: config.clone(), runtime, prelude, compiled, bytecode_reads, base, deadline, runs: 0 }
    }

    /// Replaces the QuickJS runtime (after a run exhausted memory or panicked).
    pub fn reset(&mut self) {
        self.runtime = new_runtime(&self.config, self.base, self.deadline.clone());
        self.prelude = compile_prelude(&self.runtime);
        self.compiled = Compiled::new(self.config.compiled_bytes, self.bytecode_reads.clone());
    }

    pub fn run<H: Host>(&mut self, program: Program, host: H) -> (Outcome, H) {
        let host = Rc::new(RefCell::new(Some(host)));
        let shared = host.clone();
        let prelude = self.prelude.take();
        let mut compiled = std::mem::take(&mut self.compiled);
        let outcome = self.guarded(program.time_limit, |ctx| {
            match try_execute(ctx, &program, prelude.as_deref(), &mut compiled, shared) {
                Ok(step) => Outcome::Completed { step },
                Err(e) => Outcome::Failed(script_error(ctx, e)),
            }
        });
        // A reset (out of memory) compiled the prelude again for the new runtime, and starts
        // with nothing compiled.
        if self.prelude.is_none() {
            self.prelude = prelude;
            self.compiled = compiled;
        }
        let host = host.borrow_mut().take().expect("the host is returned once");
        (outcome, host)
    }

    /// Evaluates a self-contained program (no BJS globals, no host) and returns its value as a
    /// string, within the same time, memory and stack limits as a run.
    pub fn evaluate(&mut self, code: &str, time_limit: Duration) -> Result<String, ScriptError> {
        let outcome = self.guarded(time_limit, |ctx| {
            match ctx.eval_with_options::<rquickjs::Coerced<String>, _>(code, sloppy()) {
                Ok(value) => Outcome::Completed { step: value.0 },
                Err(e) => Outcome::Failed(script_error(ctx, e)),
            }
        });
        match outcome {
            Outcome::Completed { step } => Ok(step),
            Outcome::Failed(error) => Err(error),
        }
    }

    /// Runs `work` in a fresh context under the deadline and memory limit, naming a timeout or an
    /// exhausted memory as such.
    fn guarded(&mut self, time_limit: Duration, work: impl FnOnce(&Ctx<'_>) -> Outcome) -> Outcome {
        let started = Instant::now();
        let deadline = started + time_limit;
        self.deadline.store(deadline.duration_since(self.base).as_nanos() as u64, Ordering::Release);
        let outcome = match Context::custom::<Intrinsics>(&self.runtime) {
            Ok(context) => {
                let outcome = context.with(|ctx| work(&ctx));
                // QuickJS throws `null` when it cannot even allocate its out-of-memory error (and
                // the memory is free again once the error unwinds, so it cannot be measured).
                match outcome {
                    Outcome::Failed(mut error)
                        if error.kind == FailureKind::Exception
                            && error.message == "null"
                            && error.stack.is_empty() =>
                    {
                        error.kind = FailureKind::OutOfMemory;
                        error.message = format!("{} (or it threw null)", out_of_memory(&self.config));
                        Outcome::Failed(error)
                    }
                    other => other,
                }
            }
            Err(e) => Outcome::Failed(ScriptError {
                kind: FailureKind::Internal,
                message: e.to_string(),
                stack: String::new(),
            }),
        };
        self.deadline.store(u64::MAX, Ordering::Release);
        let outcome = match outcome {
            Outcome::Failed(mut error)
                if Instant::now() >= deadline && error.kind != FailureKind::OutOfMemory =>
            {
                error.kind = FailureKind::Timeout;
                error.message = format!("Command execution timed out after {} ms", time_limit.as_millis());
                Outcome::Failed(error)
            }
            other => other,
        };
        self.runs += 1;
        if matches!(&outcome, Outcome::Failed(e) if e.kind == FailureKind::OutOfMemory) {
            self.reset();
        } else if self.runs.is_multiple_of(GC_EVERY) {
            self.runtime.run_gc();
        }
        outcome
    }

    pub fn bare_context_call(&mut self, n: u32) -> Duration {
        let started = Instant::now();
        for _ in 0..n {
            if let Ok(context) = Context::full(&self.runtime) {
                context.with(|ctx| {
                    let _: rquickjs::Result<i32> = ctx.eval("(function () { return 1 + 1; })()");
                });
            }
        }
        started.elapsed() / n.max(1)
    }
}

/// The error of a run that used up its memory.
fn out_of_memory(config: &SandboxConfig) -> String {
    format!("Out of memory: the script used more than {} MiB", config.memory_bytes / (1024 * 1024))
}

fn new_runtime(config: &SandboxConfig, base: Instant, deadline: Arc<AtomicU64>) -> Runtime {
    let runtime = Runtime::new().expect("QuickJS starts");
    runtime.set_memory_limit(config.memory_bytes);
    runtime.set_max_stack_size(config.stack_bytes);
    runtime.set_gc_threshold(config.memory_bytes / 4);
    runtime.set_interrupt_handler(Some(Box::new(move || {
        base.elapsed().as_nanos() as u64 > deadline.load(Ordering::Acquire)
    })));
    runtime
}

pub(crate) fn sloppy() -> EvalOptions {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    options
}

/// Compiles the prelude to bytecode in a throwaway context of `runtime`.
fn compile_prelude(runtime: &Runtime) -> Option<Vec<u8>> {
    let context = Context::custom::<Intrinsics>(runtime).ok()?;
    context.with(|ctx| compile(&ctx, PRELUDE))
}

/// Evaluates the prelude in `ctx`: from its bytecode when there is one.
fn eval_prelude(ctx: &Ctx<'_>, bytecode: Option<&[u8]>) -> rquickjs::Result<()> {
    match bytecode {
        Some(bytes) => eval_bytecode(ctx, bytes).map(drop),
        None => ctx.eval_with_options::<(), _>(PRELUDE, sloppy()),
    }
}

fn try_execute<H: Host>(
    ctx: &Ctx<'_>,
    program: &Program,
    prelude: Option<&[u8]>,
    compiled: &mut Compiled,
    host: Rc<RefCell<Option<H>>>,
) -> rquickjs::Result<String> {
    let globals = ctx.globals();
    let bridge = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'_>, name: String, args: String| -> rquickjs::Result<String> {
            let args: Vec<Value> = serde_json::from_str(&args).unwrap_or_default();
            let answer = {
                let mut slot = host.borrow_mut();
                let Some(host) = slot.as_mut() else {
                    return Err(Exception::throw_message(&ctx, "the run has ended"));
                };
                host.call(&name, args)
            };
            match answer {
                Ok(HostAnswer::Value(v)) => Ok(json!({ "v": v }).to_string()),
                Ok(HostAnswer::Undefined) => Ok("{}".to_owned()),
                Ok(HostAnswer::Run { code, globals }) => {
                    Ok(json!({"run": {"code": code, "globals": globals}}).to_string())
                }
                Err(message) => Err(Exception::throw_message(&ctx, &message)),
            }
        },
    )?;
    globals.set("__host", bridge)?;
    for (name, value) in &program.globals {
        globals.set(name.as_str(), ctx.json_parse(value.to_string())?)?;
    }
    eval_prelude(ctx, prelude)?;
    for (name, code) in &program.libs {
        globals.set("__libName", name.as_str())?;
        // A library that throws while loading fails the run with its name in the error.
        let wrapped = format!(
            "try {{ (function () {{\n{code}\n}})(); }} catch (e) {{ throw __libFailure(__libName, e); }}"
        );
        eval_script(ctx, &wrapped, compiled)?;
    }
    globals.set("__libName", rquickjs::Null)?;
    if let Some(code) = &program.bot_code {
        eval_script(ctx, code, compiled)?;
    }
    let dispatch: Function = globals.get("__dispatch")?;
    let (event, data) = match &program.event {
        Some((name, data)) => (Some(name.as_str()), data.clone()),
        None => (None, Value::Null),
    };
    let body = match &program.body {
        Body::Nothing => json!({"kind": "nothing"}),
        Body::Command { code } => json!({"kind": "command", "code": code}),
        Body::Unmatched { word, code } => json!({"kind": "unmatched", "word": word, "code": code}),
    };
    let body: Object = ctx.json_parse(body.to_string())?.into_object().ok_or(rquickjs::Error::Unknown)?;
    let code = match &program.body {
        Body::Command { code } | Body::Unmatched { code: Some(code), .. } => Some(code),
        _ => None,
    };
    if let Some(function) = code.and_then(|code| command_function(ctx, code, compiled)) {
        body.set("compiled", function)?;
    }
    dispatch.call((event, ctx.json_parse(data.to_string())?, body))
}

fn script_error(ctx: &Ctx<'_>, error: rquickjs::Error) -> ScriptError {
    if !matches!(error, rquickjs::Error::Exception) {
        return ScriptError { kind: FailureKind::Internal, message: error.to_string(), stack: String::new() };
    }
    let thrown = ctx.catch();
    let (message, stack) = match thrown.as_object() {
        Some(object) => {
            let name: Option<String> = object.get("name").ok();
            let message: Option<String> = object.get("message").ok();
            let stack: Option<String> = object.get("stack").ok();
            let message = match (name, message) {
                (Some(name), Some(message)) if !name.is_empty() && name != "Error" => {
                    format!("{name}: {message}")
                }
                (_, Some(message)) => message,
                _ => ctx
                    .json_stringify(thrown.clone())
                    .ok()
                    .flatten()
                    .and_then(|s| s.to_string().ok())
                    .unwrap_or_default(),
            };
            (message, stack.unwrap_or_default())
        }
        None => {
            let text = thrown.as_string().and_then(|s| s.to_string().ok());
            let text = text.or_else(|| {
                ctx.json_stringify(thrown.clone()).ok().flatten().and_then(|s| s.to_string().ok())
            });
            (text.unwrap_or_else(|| "an exception".into()), String::new())
        }
    };
    let kind = if message.contains("interrupted") {
        FailureKind::Timeout
    } else if message.contains("out of memory") {
        FailureKind::OutOfMemory
    } else if message.contains("Maximum call stack size exceeded") || message.contains("stack overflow") {
        FailureKind::StackOverflow
    } else {
        FailureKind::Exception
    };
    ScriptError { kind, message, stack }
}
