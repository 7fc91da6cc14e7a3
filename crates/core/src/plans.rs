//! Plans and iteration usage: which plan a workspace is on and how much of it it used this month.

use botyard_domain::plan::Plan;
use botyard_domain::{Result, Timestamp, WorkspaceId};
use botyard_store::{RunStore, WorkspaceStore};

use crate::{Caller, Services};

/// A workspace's use of its plan this month.
#[derive(Debug, Clone)]
pub struct Usage {
    pub workspace: WorkspaceId,
    pub plan: Plan,
    pub month: String,
    pub used: u64,
}

impl Services {
    /// The plans this server offers.
    pub fn plans(&self) -> &[Plan] {
        &self.config.plans
    }

    /// The plan called `name`, or the first plan when there is none by that name.
    pub fn plan(&self, name: &str) -> Plan {
        let plans = &self.config.plans;
        plans
            .iter()
            .find(|p| p.name == name)
            .or(plans.first())
            .cloned()
            .unwrap_or_else(|| botyard_domain::plan::default_plans().remove(0))
    }

    /// The workspace's plan and this month's usage (the caller must belong to it).
    pub async fn usage(&self, caller: &Caller, workspace: &WorkspaceId) -> Result<Usage> {
        let membership = self.workspace(caller, workspace).await?;
        self.workspace_usage(workspace, &membership.workspace.plan).await
    }

    /// Usage of a workspace whose plan is known, without access checks (the runtime).
    pub async fn workspace_usage(&self, workspace: &WorkspaceId, plan: &str) -> Result<Usage> {
        let month = Timestamp::now().month_key();
        let used = self.store.usage(workspace, &month).await?;
        Ok(Usage {
            workspace: workspace.clone(),
            plan: self.plan(plan),
            month,
            used: u64::try_from(used).unwrap_or(0),
        })
    }

    /// The plan name of a workspace, without access checks (the runtime).
    pub async fn workspace_plan(&self, workspace: &WorkspaceId) -> Result<String> {
        Ok(self.store.workspace(workspace).await?.map(|w| w.plan).unwrap_or_default())
    }
}
