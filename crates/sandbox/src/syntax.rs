//! Checking a command's code without running it: the code is compiled the way a run compiles it
//! (the body of a function, in sloppy mode) and a syntax error is reported with its line and
//! column in the code as the author wrote it. The function is never called; code that closes it
//! early runs its outside part in a bare context (no host) under the usual limits, exactly as much
//! as it could in a run.

use std::time::Duration;

use serde::Serialize;

use crate::{Sandbox, Tenant};

/// A syntax error in a command's code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyntaxProblem {
    pub message: String,
    /// 1-based line and column in the code, when QuickJS names them.
    pub line: Option<u32>,
    pub column: Option<u32>,
}

/// Compiling takes far less than this; the limit only guards the executor.
const CHECK_TIME: Duration = Duration::from_secs(2);

impl Sandbox {
    /// The syntax error of `code` compiled as a command's body, or `None` when it compiles.
    pub async fn check_syntax(&self, tenant: Tenant, code: &str) -> Option<SyntaxProblem> {
        let literal = serde_json::Value::String(code.to_owned()).to_string();
        // The same wrapper as the prelude's `__compile`: one line before the code.
        let program = format!("(0, eval)('(function(){{\\n' + {literal} + '\\n}})'); 'ok'");
        let error = self.evaluate(tenant, program, CHECK_TIME).await.err()?;
        let (line, column) = position(&error.stack).unzip();
        Some(SyntaxProblem {
            message: error.message,
            line: line.map(|l: u32| l.saturating_sub(1).max(1)),
            column,
        })
    }
}

/// The first `:line:column` of the stack's innermost frame (`at <input>:3:7`).
fn position(stack: &str) -> Option<(u32, u32)> {
    let frame = stack.lines().map(str::trim).find(|l| l.starts_with("at "))?;
    let frame = frame.trim_end_matches(')');
    let mut parts = frame.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use super::position;

    #[test]
    fn reads_the_innermost_frame() {
        assert_eq!(position("SyntaxError: x\n    at <input>:3:7\n    at <eval>:1:1"), Some((3, 7)));
        assert_eq!(position("no frames"), None);
    }
}
