//! Writes the effects of finished runs. Runs finishing at about the same time are committed in one
//! transaction (group commit), which keeps SQLite's single writer from becoming the bottleneck;
//! each run still commits all of its effects or none.

use botyard_domain::effects::RunEffects;
use botyard_domain::{Error, Result, Timestamp};
use botyard_store::{CommittedRun, RunCommitStore, Store};
use tokio::sync::{mpsc, oneshot};

const BATCH: usize = 128;

type Request = (RunEffects, oneshot::Sender<Result<CommittedRun>>);

#[derive(Clone)]
pub struct Committer {
    requests: mpsc::Sender<Request>,
}

impl Committer {
    /// Starts committing for `node` (the owner of the runs' inbox rows).
    pub fn start(store: Store, node: String) -> Self {
        let (requests, mut pending) = mpsc::channel::<Request>(4 * BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while pending.recv_many(&mut batch, BATCH).await > 0 {
                commit(&store, &node, std::mem::take(&mut batch)).await;
            }
        });
        Self { requests }
    }

    pub async fn commit(&self, effects: RunEffects) -> Result<CommittedRun> {
        let (answer, answered) = oneshot::channel();
        self.requests.send((effects, answer)).await.map_err(|_| Error::internal("the committer stopped"))?;
        answered.await.map_err(|_| Error::internal("the committer dropped a run"))?
    }
}

async fn commit(store: &Store, node: &str, batch: Vec<Request>) {
    let now = Timestamp::now();
    let (effects, answers): (Vec<RunEffects>, Vec<_>) = batch.into_iter().unzip();
    match store.commit_runs(&effects, node, now).await {
        Ok(done) => {
            for (answer, run) in answers.into_iter().zip(done) {
                let _ = answer.send(Ok(run));
            }
        }
        Err(_) if effects.len() > 1 => {
            // One run's effects broke the batch: commit each alone so the others still land.
            for (run, answer) in effects.into_iter().zip(answers) {
                let result = store.commit_runs(std::slice::from_ref(&run), node, now).await;
                let _ = answer.send(result.map(|mut done| done.pop().unwrap_or_default()));
            }
        }
        Err(e) => {
            for answer in answers {
                let _ = answer.send(Err(e.clone()));
            }
        }
    }
}
