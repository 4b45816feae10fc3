//! How a long experiment tells its caller how far it is, without drawing anything itself.
//!
//! The command line draws a progress bar; a notebook may print a line now and then, or
//! nothing ([`NoProgress`]). Calls come from the worker threads, in any order.

/// Receives the progress of an experiment.
pub trait Progress: Sync {
    /// The experiment is about to start about `runs` simulation runs (an estimate for a
    /// capacity search, exact otherwise).
    fn start(&self, runs: u64) {
        let _ = runs;
    }
    /// One simulation run has finished.
    fn run_done(&self) {}
    /// Every run has finished.
    fn finish(&self) {}
    /// A remark for the user that does not stop the experiment (a run file of another
    /// sweep that is run again, say).
    fn warn(&self, message: &str) {
        let _ = message;
    }
}

/// Progress that goes nowhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
