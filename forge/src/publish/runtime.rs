//! The publishers are synchronous at the trait boundary (the CLI is plain blocking code);
//! daemon and registry clients are async, so each call runs on a small private runtime.

use std::future::Future;

/// Runs `future` to completion on a fresh current-thread runtime.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime builds with I/O and timers enabled")
        .block_on(future)
}
