//! Payment plans: how many iterations (runs of bot code) a workspace may use per month, and how
//! long one run may take.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The name workspaces refer to (`free`, `pro`, …).
    pub name: String,
    pub title: String,
    pub iterations_per_month: u64,
    /// The longest a run may take on this plan, in seconds.
    pub max_execution_time_secs: u32,
    /// Monthly price in US cents, for display.
    #[serde(default)]
    pub price_cents: u64,
}

/// The plans a server offers when its operator configures none (modelled on Bots.Business's).
pub fn default_plans() -> Vec<Plan> {
    vec![
        Plan {
            name: "free".into(),
            title: "Free".into(),
            iterations_per_month: 1_000_000,
            max_execution_time_secs: 5,
            price_cents: 0,
        },
        Plan {
            name: "pro".into(),
            title: "Pro".into(),
            iterations_per_month: 20_000_000,
            max_execution_time_secs: 15,
            price_cents: 2_900,
        },
        Plan {
            name: "business".into(),
            title: "Business".into(),
            iterations_per_month: 200_000_000,
            max_execution_time_secs: 25,
            price_cents: 14_900,
        },
    ]
}
