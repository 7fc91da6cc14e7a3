//! Grouped work: a task takes every request made while it handled the previous ones and handles
//! them together — one read, or one transaction — so nothing waits for a timer. Used where many
//! arrivals or runs each read or write a little at about the same time: run commits
//! ([`crate::committer`]), pending replies, the properties runs' code names
//! ([`crate::prefetch`]), the Chat API's users and conversations ([`crate::web`]), Telegram's
//! lookups, new users and chats, and confirmed sends.

use std::future::Future;

use botyard_domain::{Error, Result};
use tokio::sync::{mpsc, oneshot};

/// Queries answered by one read at most.
const BATCH: usize = 128;

type Request<Q, A> = (Q, oneshot::Sender<Result<A>>);

/// Answers queries `Q` with `A`, several per read.
pub struct Batched<Q, A> {
    requests: mpsc::Sender<Request<Q, A>>,
}

impl<Q, A> Clone for Batched<Q, A> {
    fn clone(&self) -> Self {
        Self { requests: self.requests.clone() }
    }
}

impl<Q: Send + 'static, A: Send + 'static> Batched<Q, A> {
    /// Starts the task; `read` answers a batch of requests with one answer per request, in order.
    /// Call inside Tokio.
    pub fn start<F, R>(read: F) -> Self
    where
        F: Fn(Vec<Q>) -> R + Send + 'static,
        R: Future<Output = Result<Vec<A>>> + Send,
    {
        let (requests, mut pending) = mpsc::channel::<Request<Q, A>>(4 * BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while pending.recv_many(&mut batch, BATCH).await > 0 {
                let (queries, answers): (Vec<Q>, Vec<_>) = std::mem::take(&mut batch).into_iter().unzip();
                let count = queries.len();
                match read(queries).await {
                    Ok(found) if found.len() == count => {
                        for (answer, found) in answers.into_iter().zip(found) {
                            let _ = answer.send(Ok(found));
                        }
                    }
                    Ok(_) => {
                        for answer in answers {
                            let _ = answer.send(Err(Error::internal("grouped work lost its answers")));
                        }
                    }
                    Err(e) => {
                        for answer in answers {
                            let _ = answer.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        Self { requests }
    }

    /// The answer to `query`, handled with whatever else was asked meanwhile.
    pub async fn get(&self, query: Q) -> Result<A> {
        let (answer, answered) = oneshot::channel();
        self.requests.send((query, answer)).await.map_err(|_| Error::internal("grouped work stopped"))?;
        answered.await.map_err(|_| Error::internal("a grouped request was dropped"))?
    }
}
