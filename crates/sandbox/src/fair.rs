//! Fair use of the executors between tenants. A run is admitted when an executor is free and
//! neither its workspace nor its bot holds its share already; while runs wait, workspaces take
//! turns (round robin), and within a workspace runs keep their order. With the default shares a
//! workspace never holds every executor, so a quiet bot elsewhere starts at once even while
//! another workspace's scripts spin until their time limit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Who a run is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant {
    pub workspace: String,
    pub bot: i64,
}

/// How many runs may go at once: in all, per workspace, per bot.
#[derive(Debug, Clone, Copy)]
pub struct Shares {
    pub executors: usize,
    pub per_workspace: usize,
    pub per_bot: usize,
}

#[derive(Default)]
struct State {
    running: usize,
    by_workspace: HashMap<String, usize>,
    by_bot: HashMap<i64, usize>,
    /// Waiting runs of each workspace, in order.
    waiting: HashMap<String, VecDeque<(i64, oneshot::Sender<()>)>>,
    /// Workspaces with waiting runs, in turn order.
    turns: VecDeque<String>,
}

impl State {
    fn fits(&self, shares: &Shares, tenant: &Tenant) -> bool {
        self.running < shares.executors
            && self.by_workspace.get(&tenant.workspace).copied().unwrap_or(0) < shares.per_workspace
            && self.by_bot.get(&tenant.bot).copied().unwrap_or(0) < shares.per_bot
    }

    fn take(&mut self, tenant: &Tenant) {
        self.running += 1;
        *self.by_workspace.entry(tenant.workspace.clone()).or_default() += 1;
        *self.by_bot.entry(tenant.bot).or_default() += 1;
    }

    fn release(&mut self, tenant: &Tenant) {
        self.running = self.running.saturating_sub(1);
        if let Some(n) = self.by_workspace.get_mut(&tenant.workspace) {
            *n -= 1;
            if *n == 0 {
                self.by_workspace.remove(&tenant.workspace);
            }
        }
        if let Some(n) = self.by_bot.get_mut(&tenant.bot) {
            *n -= 1;
            if *n == 0 {
                self.by_bot.remove(&tenant.bot);
            }
        }
    }

    /// Admits waiting runs while executors are free, workspaces taking turns.
    fn dispatch(&mut self, shares: &Shares) {
        let mut passes = self.turns.len();
        while self.running < shares.executors && passes > 0 {
            let Some(workspace) = self.turns.pop_front() else { break };
            passes -= 1;
            let mut queue = self.waiting.remove(&workspace).unwrap_or_default();
            // The first waiting run of the workspace whose bot has room (the others keep order).
            let mut admitted = false;
            let mut i = 0;
            while i < queue.len() {
                if self.by_workspace.get(&workspace).copied().unwrap_or(0) >= shares.per_workspace {
                    break;
                }
                let bot = queue[i].0;
                if self.by_bot.get(&bot).copied().unwrap_or(0) >= shares.per_bot {
                    i += 1;
                    continue;
                }
                let Some((_, wake)) = queue.remove(i) else { break };
                if wake.send(()).is_ok() {
                    self.take(&Tenant { workspace: workspace.clone(), bot });
                    admitted = true;
                    break;
                }
                // Its caller gave up waiting: look at the next one.
            }
            if !queue.is_empty() {
                self.waiting.insert(workspace.clone(), queue);
            }
            let left = self.waiting.get(&workspace).is_some_and(|q| !q.is_empty());
            if left {
                self.turns.push_back(workspace);
                if admitted {
                    passes = self.turns.len();
                }
            } else {
                self.waiting.remove(&workspace);
            }
        }
    }
}

/// The executors' admission.
pub struct FairQueue {
    shares: Shares,
    state: Arc<Mutex<State>>,
}

/// A run's hold on an executor; released when dropped.
pub struct Admission {
    tenant: Tenant,
    shares: Shares,
    state: Arc<Mutex<State>>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.release(&self.tenant);
        state.dispatch(&self.shares);
    }
}

impl FairQueue {
    pub fn new(shares: Shares) -> Self {
        let shares = Shares {
            executors: shares.executors.max(1),
            per_workspace: shares.per_workspace.max(1),
            per_bot: shares.per_bot.max(1),
        };
        Self { shares, state: Arc::default() }
    }

    /// Waits for the tenant's turn on an executor.
    pub async fn admit(&self, tenant: Tenant) -> Admission {
        let waiting = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let queued_before = state.waiting.get(&tenant.workspace).is_some_and(|q| !q.is_empty());
            if !queued_before && state.fits(&self.shares, &tenant) {
                state.take(&tenant);
                None
            } else {
                let (wake, woken) = oneshot::channel();
                if !queued_before {
                    state.turns.push_back(tenant.workspace.clone());
                }
                state.waiting.entry(tenant.workspace.clone()).or_default().push_back((tenant.bot, wake));
                Some(woken)
            }
        };
        if let Some(woken) = waiting {
            // The sender lives in the state until it admits us (it is never dropped unsent).
            let _ = woken.await;
        }
        Admission { tenant, shares: self.shares, state: self.state.clone() }
    }

    pub fn shares(&self) -> Shares {
        self.shares
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn tenant(workspace: &str, bot: i64) -> Tenant {
        Tenant { workspace: workspace.into(), bot }
    }

    #[tokio::test]
    async fn a_busy_workspace_leaves_room_for_others() {
        let queue = Arc::new(FairQueue::new(Shares { executors: 4, per_workspace: 3, per_bot: 2 }));
        let mut held = Vec::new();
        // Workspace a: bot 1 gets two, bot 2 gets one, then the workspace is at its share.
        for bot in [1, 1, 2] {
            held.push(queue.admit(tenant("a", bot)).await);
        }
        let blocked = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.admit(tenant("a", 3)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!blocked.is_finished(), "a's fourth run waits");
        // b starts at once on the executor a may not take.
        let quiet = tokio::time::timeout(Duration::from_millis(100), queue.admit(tenant("b", 9))).await;
        assert!(quiet.is_ok());
        drop(quiet);
        // When a's run ends, its waiting run goes.
        held.pop();
        let admitted = tokio::time::timeout(Duration::from_millis(100), blocked).await;
        assert!(admitted.is_ok());
    }

    #[tokio::test]
    async fn workspaces_take_turns() {
        let queue = Arc::new(FairQueue::new(Shares { executors: 1, per_workspace: 1, per_bot: 1 }));
        let first = queue.admit(tenant("a", 1)).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for (ws, bot) in [("a", 1), ("a", 1), ("b", 2), ("c", 3)] {
            let (queue, order) = (queue.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let admission = queue.admit(tenant(ws, bot)).await;
                order.lock().unwrap().push(ws);
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(admission);
            }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(first);
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(
            *order.lock().unwrap(),
            ["a", "b", "c", "a"],
            "a's second run waits for the others' turns"
        );
    }
}
