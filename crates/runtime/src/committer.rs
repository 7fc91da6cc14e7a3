//! Writes the effects of finished runs. Runs finishing at about the same time are committed in one
//! transaction (group commit through [`Batched`]), which keeps SQLite's single writer from becoming
//! the bottleneck; each run still commits all of its effects or none.

use botyard_domain::effects::RunEffects;
use botyard_domain::{Result, Timestamp};
use botyard_store::{CommittedRun, RunCommitStore, Store};

use crate::batched::Batched;

#[derive(Clone)]
pub struct Committer {
    commits: Batched<RunEffects, Result<CommittedRun>>,
}

impl Committer {
    /// Starts committing for `node` (the owner of the runs' inbox rows).
    pub fn start(store: Store, node: String) -> Self {
        Self {
            commits: Batched::start(move |batch| {
                let (store, node) = (store.clone(), node.clone());
                async move { Ok(commit(&store, &node, batch).await) }
            }),
        }
    }

    pub async fn commit(&self, effects: RunEffects) -> Result<CommittedRun> {
        self.commits.get(effects).await?
    }
}

/// Each run's outcome: the batch in one transaction, or — when one run's effects broke it — each
/// run alone, so the others still land.
async fn commit(store: &Store, node: &str, batch: Vec<RunEffects>) -> Vec<Result<CommittedRun>> {
    let now = Timestamp::now();
    match store.commit_runs(&batch, node, now).await {
        Ok(done) => done.into_iter().map(Ok).collect(),
        Err(_) if batch.len() > 1 => {
            let mut outcomes = Vec::with_capacity(batch.len());
            for run in &batch {
                let result = store.commit_runs(std::slice::from_ref(run), node, now).await;
                outcomes.push(result.map(|mut done| done.pop().unwrap_or_default()));
            }
            outcomes
        }
        Err(e) => vec![Err(e)],
    }
}
