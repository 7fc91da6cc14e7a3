//! The engine's only way out: a [`DialogHost`] runs JavaScript and performs HTTP calls.
//!
//! ## The context a script sees
//! [`DialogHost::run_script`] receives the Kore.ai `context` object as JSON:
//!
//! ```json
//! {
//!   "intent": "ScheduleVHCDose", "intentName": "ScheduleVHCDose", "dialogName": "…",
//!   "currentLanguage": "en", "channel": "default",
//!   "entities": { "vaccineTimeEntity": "11:00 am" },
//!   "userInputs": { "originalInput": { "sentence": "the utterance that started the task" } },
//!   "session": { "BotUserSession": {}, "UserSession": {}, "BotContext": {}, "UserContext": {} },
//!   "forms": { "<form name>": { "<field>": "value" } },
//!   "<service node name>": { "response": { "statusCode": 200, "body": {}, "headers": {} } },
//!   "content": { "<content variable>": "value" }, "env": { "<env variable>": "value" },
//!   "…": "anything earlier scripts stored on context"
//! }
//! ```
//!
//! The host evaluates [`SCRIPT_PRELUDE`] with `context` defined, then the code inside a function
//! (scripts `return` at top level), then returns what `__koreResult()` gives: the possibly changed
//! context and what `print()` printed. [`script_program`] writes that program and
//! [`parse_script_result`] reads its result, so a host only needs a JS evaluator.
//! `BotUserSession.put(key, value)` (and `UserSession`, `BotContext`) write into
//! `context.session.*`, which the engine keeps in the [`crate::Session`]; `content` and `env` are
//! read-only and not kept; everything else stays on the task's context until the task ends.
//!
//! The runtime fills what Kore.ai's channels fill: `Session::bot_user_session["lastMessage"]`
//! (`{"messagePayload": …}` of the channel's last message) and `Session::user_context` (the
//! user's profile) before a turn, and [`crate::KoreBot::set_bot_functions`] with the bot's
//! functions files (they are prepended to the code of every script).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The JavaScript that defines Kore.ai's script globals over `context`.
pub const SCRIPT_PRELUDE: &str = include_str!("prelude.js");

/// What a script did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScriptOutcome {
    /// The context after the script.
    pub context: Value,
    /// What `print()` printed, in order.
    pub printed: Vec<String>,
}

/// A service node's HTTP call, already templated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRequest {
    /// The service node's component name (`context.<name>.response` receives the answer).
    pub name: String,
    /// `GET`, `POST`, …
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub timeout_ms: u64,
}

/// The answer to a [`ServiceRequest`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceResponse {
    pub status: u16,
    pub headers: Map<String, Value>,
    pub body: String,
}

/// What the engine needs from the runtime.
pub trait DialogHost {
    /// Runs JavaScript with `context` as global; returns the updated context and printed text.
    fn run_script(&mut self, code: &str, context: Value) -> Result<ScriptOutcome, String>;
    /// Performs a service node's HTTP call.
    fn call_service(&mut self, request: ServiceRequest) -> Result<ServiceResponse, String>;
    /// Today's date in the user's time zone (date entities resolve "tomorrow" against it).
    fn today(&self) -> chrono::NaiveDate {
        chrono::Utc::now().date_naive()
    }
}

/// A complete JavaScript program for `code`: `context` defined, the prelude, the code inside a
/// function, then an expression whose value is the JSON string [`parse_script_result`] reads.
pub fn script_program(code: &str, context: &Value) -> String {
    format!(
        "var context = {context};\n{SCRIPT_PRELUDE}\n(function () {{\n{code}\n}})();\n__koreResult();\n",
        context = serde_json::to_string(context).unwrap_or_else(|_| "{}".into())
    )
}

/// Reads the value of a [`script_program`].
pub fn parse_script_result(json: &str) -> Result<ScriptOutcome, String> {
    serde_json::from_str(json).map_err(|e| format!("the script's result is not valid JSON: {e}"))
}
