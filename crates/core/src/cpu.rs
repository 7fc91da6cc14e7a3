//! CPU-heavy work (archives, CSV planning, Kore.ai definitions, JSON-schema compilation) kept off
//! the async worker threads, so one big import does not stall every request on the node.

/// Runs `work` on a blocking thread and waits for it.
pub async fn offload<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> botyard_domain::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| botyard_domain::Error::internal(format!("a blocking task failed: {e}")))
}

/// Runs `work` where it is (it borrows), telling a multi-threaded runtime that this thread is busy
/// so it moves its other tasks elsewhere meanwhile.
pub fn in_place<T>(work: impl FnOnce() -> T) -> T {
    let multi_threaded = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_threaded { tokio::task::block_in_place(work) } else { work() }
}
