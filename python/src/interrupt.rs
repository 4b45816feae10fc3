//! Ctrl-C during a long call: the work runs on a thread of its own while the calling
//! (main) thread, with the GIL released, wakes every few milliseconds to take the GIL back
//! briefly and run Python's signal handlers (`Python::check_signals`). A `KeyboardInterrupt`
//! (or any exception a handler raises) sets the stop flag the work polls; the work ends
//! early, its partial results are dropped, and the exception is raised in Python.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use pyo3::prelude::*;
use sim::VmRequest;

/// How often the calling thread looks for a signal.
const POLL: Duration = Duration::from_millis(20);

/// Runs `work(stop)` with the GIL released; a signal whose handler raises (Ctrl-C) sets
/// `stop`, waits for `work` to return, and is returned as the error.
pub(crate) fn interruptible<R, F>(py: Python<'_>, work: F) -> PyResult<R>
where
    R: Send,
    F: FnOnce(&AtomicBool) -> R + Send,
{
    let stop = AtomicBool::new(false);
    py.detach(|| {
        std::thread::scope(|scope| {
            let (done_tx, done_rx) = mpsc::channel::<()>();
            let stop = &stop;
            let worker = scope.spawn(move || {
                let r = work(stop);
                let _ = done_tx.send(());
                r
            });
            let mut raised: Option<PyErr> = None;
            // Until the worker is done (or panicked: its sender is dropped).
            while let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(POLL) {
                if raised.is_none()
                    && let Err(e) = Python::attach(|py| py.check_signals())
                {
                    stop.store(true, Ordering::Relaxed);
                    raised = Some(e);
                }
            }
            let r = match worker.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            match raised {
                Some(e) => Err(e),
                None => Ok(r),
            }
        })
    })
}

/// A workload that ends early once `stop` is set (checked every 256 VMs): the engine then
/// finishes the VMs already in the system and returns.
pub(crate) struct StopAt<'a, I> {
    pub inner: &'a mut I,
    pub stop: &'a AtomicBool,
    pub n: u32,
}

impl<I: Iterator<Item = VmRequest>> Iterator for StopAt<'_, I> {
    type Item = VmRequest;
    #[inline]
    fn next(&mut self) -> Option<VmRequest> {
        self.n = self.n.wrapping_add(1);
        if self.n.is_multiple_of(256) && self.stop.load(Ordering::Relaxed) {
            return None;
        }
        self.inner.next()
    }
}

/// The error text of work that stopped because of a signal (never shown: the signal's
/// own exception is raised instead).
pub(crate) const STOPPED: &str = "stopped by a signal";
