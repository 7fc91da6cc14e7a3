//! Iteration quotas: how many runs a workspace may still start this month. Each node counts its
//! own iterations as they commit and re-reads the shared counter every few seconds, so a workspace
//! over its plan is refused (other nodes' use is seen within that delay).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use botyard_core::Services;
use botyard_domain::plan::Plan;
use botyard_domain::{Result, Timestamp, WorkspaceId};

const REFRESH: Duration = Duration::from_secs(5);

struct Entry {
    month: String,
    plan: Plan,
    used: u64,
    read_at: Instant,
}

#[derive(Default)]
pub struct Meter {
    workspaces: Mutex<HashMap<WorkspaceId, Entry>>,
}

/// A workspace's standing before a run.
#[derive(Debug, Clone)]
pub struct Allowance {
    pub plan: Plan,
    pub used: u64,
}

impl Meter {
    /// The plan and usage of a workspace; `QuotaExceeded` when `needed` more iterations do not fit.
    pub async fn check(
        &self,
        services: &Services,
        workspace: &WorkspaceId,
        needed: u64,
    ) -> Result<Allowance> {
        let month = Timestamp::now().month_key();
        let cached = {
            let map = self.workspaces.lock().unwrap_or_else(|e| e.into_inner());
            map.get(workspace)
                .filter(|e| e.month == month && e.read_at.elapsed() < REFRESH)
                .map(|e| Allowance { plan: e.plan.clone(), used: e.used })
        };
        let allowance = match cached {
            Some(a) => a,
            None => {
                let plan_name = services.workspace_plan(workspace).await?;
                let usage = services.workspace_usage(workspace, &plan_name).await?;
                let mut map = self.workspaces.lock().unwrap_or_else(|e| e.into_inner());
                map.insert(
                    workspace.clone(),
                    Entry {
                        month: usage.month,
                        plan: usage.plan.clone(),
                        used: usage.used,
                        read_at: Instant::now(),
                    },
                );
                Allowance { plan: usage.plan, used: usage.used }
            }
        };
        botyard_core::plans::require(&allowance.plan, allowance.used, needed)?;
        Ok(allowance)
    }

    /// Counts iterations that were just committed.
    pub fn add(&self, workspace: &WorkspaceId, iterations: u64) {
        let mut map = self.workspaces.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get_mut(workspace) {
            entry.used += iterations;
        }
    }
}

impl crate::Runtime {
    /// The workspace's standing before a run in `chat` for `user`; over its quota, the refusal is
    /// also written to the bot's error log (once here, whichever channel asked).
    pub(crate) async fn allowance(
        &self,
        bot: &botyard_domain::bot::Bot,
        chat: i64,
        user: Option<i64>,
    ) -> Result<Allowance> {
        match self.meter().check(self.services(), &bot.workspace_id, 1).await {
            Err(e) if e.code == botyard_domain::ErrorCode::QuotaExceeded => {
                let entry = botyard_domain::effects::ErrorEntry {
                    command: None,
                    title: e.message.clone(),
                    stack_trace: String::new(),
                    chat_id: Some(chat),
                    user_id: user,
                    at: Timestamp::now(),
                };
                botyard_store::ErrorLogStore::insert_error(self.store(), bot.number, &entry).await?;
                Err(e)
            }
            other => other,
        }
    }
}
