//! botyard's JavaScript sandbox. Bot code (Bots.Business's BJS: sloppy-mode scripts, no timers)
//! runs in QuickJS on a fixed pool of executor threads, each owning one QuickJS runtime with a
//! memory limit, a stack limit and an interrupt handler that stops a run at its deadline — so an
//! infinite loop, a memory bomb or runaway recursion ends that run with an error and nothing else.
//!
//! A run gets a fresh context: the [prelude](prelude.js) defines the API objects, whose methods
//! all go through one host function to the [`Host`] the caller supplies (the runtime, which turns
//! calls into effects and data). Runs wait for an executor in a [`fair`] queue: workspaces take
//! turns, and no workspace or bot holds more than its share of the executors.

mod compiled;
mod engine;
pub mod fair;
mod syntax;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::oneshot;

use engine::Engine;
pub use fair::{Shares, Tenant};
pub use syntax::SyntaxProblem;

/// Limits and size of the executor pool.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Executor threads, each running one script at a time.
    pub executors: usize,
    /// Memory limit of each executor's QuickJS runtime.
    pub memory_bytes: usize,
    /// Stack limit of a run.
    pub stack_bytes: usize,
    /// Runs one workspace may have going at once.
    pub per_workspace: usize,
    /// Runs one bot may have going at once.
    pub per_bot: usize,
    /// Bytes (source and bytecode) of libraries and bot code each executor keeps compiled, so a
    /// bot's next run reads them instead of parsing them again; 0 compiles every run.
    pub compiled_bytes: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            executors: 4,
            memory_bytes: 32 * 1024 * 1024,
            stack_bytes: 256 * 1024,
            per_workspace: 3,
            per_bot: 3,
            compiled_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Answers the script's calls to the API objects (`Bot.sendMessage(…)` arrives as
/// `call("Bot.sendMessage", [ … ])`). It runs on the executor thread and may block.
pub trait Host: Send + 'static {
    fn call(&mut self, name: &str, args: Vec<Value>) -> Result<HostAnswer, String>;
}

/// What a host call returns to the script.
#[derive(Debug, Clone, PartialEq)]
pub enum HostAnswer {
    /// A value (`Null` becomes `null`; use `Undefined` for no value).
    Value(Value),
    Undefined,
    /// Run this code now, inside the calling script, with these globals replaced for the duration
    /// (how `Bot.runCommand` executes another command).
    Run {
        code: String,
        globals: Map<String, Value>,
    },
}

/// One run: the globals, the libraries and bot code to evaluate first, the event whose handlers
/// run, and what runs after them.
#[derive(Debug, Clone)]
pub struct Program {
    /// `message`, `params`, `options`, `user`, `chat`, `bot`, `command`, `request`, …
    pub globals: Map<String, Value>,
    /// `(name, code)` of libraries; each may call `publish({...})` and `on(...)`.
    pub libs: Vec<(String, String)>,
    /// The bot's own top-level code, evaluated at global scope; it may call `on(...)`.
    pub bot_code: Option<String>,
    /// The event whose handlers run first (`"message"` with the message), if any.
    pub event: Option<(String, Value)>,
    pub body: Body,
    /// Wall-time budget of the whole run.
    pub time_limit: Duration,
}

/// What runs after the event's handlers.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Nothing (an event with handlers only).
    Nothing,
    /// A matched command: its code (already joined with `@` and `@@`).
    Command { code: String },
    /// No command matched: handlers of `word` or `*`, else the master command's code.
    Unmatched { word: String, code: Option<String> },
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The run completed; `step` says what ran last (`command`, `master`, `hook`, `stopped`, …).
    Completed {
        step: String,
    },
    Failed(ScriptError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The script threw.
    Exception,
    /// The run took longer than its time limit.
    Timeout,
    OutOfMemory,
    StackOverflow,
    /// The sandbox itself failed.
    Internal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScriptError {
    pub kind: FailureKind,
    pub message: String,
    pub stack: String,
}

type Job = Box<dyn FnOnce(&mut Engine) + Send>;

/// The executor pool; cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    jobs: mpsc::Sender<Job>,
    queue: Arc<fair::FairQueue>,
    /// Libraries, bot code and commands read from bytecode instead of parsed, by every executor.
    bytecode_reads: Arc<std::sync::atomic::AtomicU64>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Self {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let executors = config.executors.max(1);
        let bytecode_reads = Arc::new(std::sync::atomic::AtomicU64::new(0));
        for n in 0..executors {
            let receiver = receiver.clone();
            let config = config.clone();
            let reads = bytecode_reads.clone();
            std::thread::Builder::new()
                .name(format!("botyard-js-{n}"))
                .stack_size(16 * 1024 * 1024)
                .spawn(move || {
                    let mut engine = Engine::new(&config, reads);
                    loop {
                        let job = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(&mut engine),
                            Err(_) => return,
                        }
                    }
                })
                .expect("an executor thread starts");
        }
        let shares = Shares { executors, per_workspace: config.per_workspace, per_bot: config.per_bot };
        Self { jobs, queue: Arc::new(fair::FairQueue::new(shares)), bytecode_reads }
    }

    /// How many libraries, bot codes and commands runs have read from bytecode an executor
    /// compiled earlier, instead of parsing them again.
    pub fn bytecode_reads(&self) -> u64 {
        self.bytecode_reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs a program for `tenant` on a free executor, when it is the tenant's turn, and hands the
    /// host back with the outcome; `None` when the executor failed (the run counts as failed and
    /// the host's state is lost).
    pub async fn run<H: Host>(&self, tenant: Tenant, program: Program, host: H) -> Option<(Outcome, H)> {
        self.execute(tenant, move |engine| engine.run(program, host)).await
    }

    /// Evaluates a self-contained program for `tenant` (a Kore.ai script node) and returns its
    /// value as a string; `Err` with the script's error, or an internal one when the executor
    /// failed.
    pub async fn evaluate(
        &self,
        tenant: Tenant,
        code: String,
        time_limit: Duration,
    ) -> Result<String, ScriptError> {
        self.execute(tenant, move |engine| engine.evaluate(&code, time_limit)).await.unwrap_or_else(|| {
            Err(ScriptError {
                kind: FailureKind::Internal,
                message: "the sandbox failed while running the script".into(),
                stack: String::new(),
            })
        })
    }

    /// For benchmarks: create a full QuickJS context and call a function in it, `n` times, on one
    /// executor; returns the time per call.
    pub async fn bare_context_call(&self, n: u32) -> Duration {
        let tenant = Tenant { workspace: "benchmark".into(), bot: 0 };
        self.execute(tenant, move |engine| engine.bare_context_call(n)).await.unwrap_or(Duration::ZERO)
    }

    async fn execute<T: Send + 'static>(
        &self,
        tenant: Tenant,
        work: impl FnOnce(&mut Engine) -> T + Send + 'static,
    ) -> Option<T> {
        let _admission = self.queue.admit(tenant).await;
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |engine| {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(engine))) {
                Ok(result) => {
                    let _ = answer.send(result);
                }
                Err(_) => {
                    tracing::error!("a sandbox run panicked; its executor starts a fresh QuickJS runtime");
                    engine.reset();
                }
            }
        });
        self.jobs.send(job).ok()?;
        answered.await.ok()
    }
}
