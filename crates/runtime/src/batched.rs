//! Grouped work: a task takes every request made while it handled the previous ones and handles
//! them together — one read, or one transaction — so nothing waits for a timer. Used where many
//! arrivals or runs each read or write a little at about the same time: run commits
//! ([`crate::committer`]), pending replies, the properties runs' code names
//! ([`crate::prefetch`]), the Chat API's users and conversations ([`crate::web`]), Telegram's
//! lookups, new users and chats, and confirmed sends. Reads are grouped only where each costs a
//! hand-off of its own (PostgreSQL); on SQLite they run where they are asked
//! ([`Batched::start_reads`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use botyard_domain::{Error, Result};
use tokio::sync::{mpsc, oneshot};

/// Queries answered by one read at most.
const BATCH: usize = 128;

type Request<Q, A> = (Q, oneshot::Sender<Result<A>>);

type Read<Q, A> = Arc<dyn Fn(Vec<Q>) -> Pin<Box<dyn Future<Output = Result<Vec<A>>> + Send>> + Send + Sync>;

/// Answers queries `Q` with `A`, several per read.
pub struct Batched<Q, A> {
    how: How<Q, A>,
}

enum How<Q, A> {
    /// Through the task that groups requests.
    Grouped(mpsc::Sender<Request<Q, A>>),
    /// Each request read alone, where it is asked.
    Alone(Read<Q, A>),
}

impl<Q, A> Clone for Batched<Q, A> {
    fn clone(&self) -> Self {
        Self {
            how: match &self.how {
                How::Grouped(requests) => How::Grouped(requests.clone()),
                How::Alone(read) => How::Alone(read.clone()),
            },
        }
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
        Self { how: How::Grouped(requests) }
    }

    /// Grouped reads, for a store whose reads cost a hand-off each (PostgreSQL, a round trip);
    /// on one that reads where it is asked (SQLite's local reads, `alone`), each request reads
    /// alone instead: grouping would only add two task hand-offs to a read of microseconds.
    pub fn start_reads<F, R>(alone: bool, read: F) -> Self
    where
        F: Fn(Vec<Q>) -> R + Send + Sync + 'static,
        R: Future<Output = Result<Vec<A>>> + Send + 'static,
    {
        if alone {
            Self { how: How::Alone(Arc::new(move |queries| Box::pin(read(queries)))) }
        } else {
            Self::start(read)
        }
    }

    /// The answer to `query`, handled with whatever else was asked meanwhile.
    pub async fn get(&self, query: Q) -> Result<A> {
        match &self.how {
            How::Grouped(requests) => {
                let (answer, answered) = oneshot::channel();
                requests.send((query, answer)).await.map_err(|_| Error::internal("grouped work stopped"))?;
                answered.await.map_err(|_| Error::internal("a grouped request was dropped"))?
            }
            How::Alone(read) => {
                read(vec![query]).await?.pop().ok_or_else(|| Error::internal("a read lost its answer"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A read that answers each query doubled and records the size of each group it was given.
    fn recording(sizes: Arc<Mutex<Vec<usize>>>) -> impl Fn(Vec<i64>) -> std::future::Ready<Result<Vec<i64>>> {
        move |queries: Vec<i64>| {
            sizes.lock().unwrap().push(queries.len());
            std::future::ready(Ok(queries.into_iter().map(|q| q * 2).collect()))
        }
    }

    #[tokio::test]
    async fn reads_alone_answer_each_request_with_its_own_read() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let reads = Batched::start_reads(true, recording(sizes.clone()));
        let answers = futures_join(&reads, [1, 2, 3]).await;
        assert_eq!(answers, vec![2, 4, 6]);
        assert_eq!(*sizes.lock().unwrap(), vec![1, 1, 1]);
    }

    #[tokio::test]
    async fn grouped_reads_answer_every_request_of_a_group_in_order() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let reads = Batched::start_reads(false, recording(sizes.clone()));
        let answers = futures_join(&reads, [1, 2, 3]).await;
        assert_eq!(answers, vec![2, 4, 6]);
        assert_eq!(sizes.lock().unwrap().iter().sum::<usize>(), 3);
    }

    /// Asks for every query at once and collects the answers in the order asked.
    async fn futures_join(reads: &Batched<i64, i64>, queries: [i64; 3]) -> Vec<i64> {
        let [a, b, c] = queries.map(|q| reads.get(q));
        let (a, b, c) = tokio::join!(a, b, c);
        vec![a.unwrap(), b.unwrap(), c.unwrap()]
    }
}
