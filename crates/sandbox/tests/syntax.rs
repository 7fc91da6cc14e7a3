//! Checking a command's code for syntax errors without running it.

use botyard_sandbox::{Sandbox, SandboxConfig, Tenant};

fn tenant() -> Tenant {
    Tenant { workspace: "tests".into(), bot: 1 }
}

#[tokio::test]
async fn valid_code_has_no_problem_and_is_not_run() {
    let sandbox = Sandbox::new(SandboxConfig::default());
    // `return` at the top level is valid in a command (its body is a function's); the loop would
    // time out if the check ran the code.
    let code = "if (!params) { return }\nwhile (true) {}\nBot.sendMessage('hi')";
    assert_eq!(sandbox.check_syntax(tenant(), code).await, None);
}

#[tokio::test]
async fn a_syntax_error_names_its_line_in_the_code() {
    let sandbox = Sandbox::new(SandboxConfig::default());
    let code = "Bot.sendMessage('one')\nlet x = 1\nBot.sendMessage('two' +)\n";
    let problem = sandbox.check_syntax(tenant(), code).await.expect("a syntax error");
    assert!(problem.message.contains("SyntaxError"), "{problem:?}");
    assert_eq!(problem.line, Some(3), "{problem:?}");
    assert!(problem.column.is_some(), "{problem:?}");
}
