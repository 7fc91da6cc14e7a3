//! Plans and iteration usage: which plan a workspace is on and how much of it it used this month.

use botyard_domain::plan::Plan;
use botyard_domain::{Error, ErrorCode, Result, Timestamp, WorkspaceId};
use botyard_store::WorkspaceStore;

use crate::{Caller, Services};

/// A workspace's use of its plan this month.
#[derive(Debug, Clone)]
pub struct Usage {
    pub workspace: WorkspaceId,
    pub plan: Plan,
    pub month: String,
    pub used: u64,
}

impl Usage {
    /// Fails with `QuotaExceeded` when `needed` more iterations do not fit the plan this month.
    pub fn require(&self, needed: u64) -> Result<()> {
        require(&self.plan, self.used, needed)
    }
}

/// Fails with `QuotaExceeded` when `needed` more iterations on top of `used` do not fit `plan`.
pub fn require(plan: &Plan, used: u64, needed: u64) -> Result<()> {
    if used.saturating_add(needed) > plan.iterations_per_month {
        return Err(Error::new(
            ErrorCode::QuotaExceeded,
            format!(
                "The bot's workspace has used all {} iterations of its {} plan this month",
                plan.iterations_per_month, plan.title
            ),
        ));
    }
    Ok(())
}

impl Services {
    /// Fails with `QuotaExceeded` unless the workspace's plan has `needed` iterations left.
    pub async fn require_iterations(&self, workspace: &WorkspaceId, needed: u64) -> Result<()> {
        let plan = self.workspace_plan(workspace).await?;
        self.workspace_usage(workspace, &plan).await?.require(needed)
    }

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
