//! Checking a command's code before it is saved: compiled in the sandbox the way a run compiles
//! it, never run. The dashboard's editor marks the line of a syntax error.

use botyard_core::BotAccess;
use botyard_domain::Result;
use botyard_domain::command::check_code;
use botyard_sandbox::{SyntaxProblem, Tenant};

use crate::Runtime;

impl Runtime {
    /// The syntax error of `code` as a command of the bot, or `None` when it compiles. Only those
    /// who may change the bot may check (it takes a sandbox executor).
    pub async fn check_command_code(&self, access: &BotAccess, code: &str) -> Result<Option<SyntaxProblem>> {
        access.role.require(botyard_domain::access::Permission::ChangeBots)?;
        check_code(code)?;
        let tenant = Tenant { workspace: access.bot.workspace_id.to_string(), bot: access.bot.number };
        Ok(self.sandbox().check_syntax(tenant, code).await)
    }
}
