//! [`Workload`]: the VM stream of a scenario, synthetic or read from a trace.

use sim::VmRequest;

use crate::error::Error;
use crate::generator::Generator;
use crate::trace::{TraceReader, TraceReport};

/// The VM requests of one replication, streamed in arrival order with ids `0, 1, 2, …`:
/// drawn by a [`Generator`], or read from a trace.
///
/// An iterator of [`VmRequest`], so it goes straight into `sim::simulate`. A trace can
/// fail part-way (a malformed line, an unreadable file): the stream then ends early, and
/// [`Workload::finish`] returns the error. Pass it by reference to keep it:
///
/// ```
/// # let scenario = workloads::Scenario::builtin_default();
/// let mut workload = scenario.workload(0)?;
/// let n = workload.by_ref().take(10).count();
/// assert_eq!(n, 10);
/// assert!(workload.finish()?.is_none()); // a synthetic workload has no trace report
/// # Ok::<(), workloads::Error>(())
/// ```
// One value per run, moved once: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Workload {
    /// Drawn from the scenario's distributions.
    Synthetic(Generator),
    /// Read from a trace file.
    Trace {
        /// The reader.
        reader: TraceReader,
        /// The error that ended the stream, if any.
        error: Option<Error>,
    },
}

impl Workload {
    /// A trace workload.
    pub fn trace(reader: TraceReader) -> Workload {
        Workload::Trace {
            reader,
            error: None,
        }
    }

    /// Ends the stream: the error that cut a trace short, else the trace's report (what
    /// was read and skipped; `None` for a synthetic workload).
    pub fn finish(&mut self) -> Result<Option<TraceReport>, Error> {
        match self {
            Workload::Synthetic(_) => Ok(None),
            Workload::Trace { reader, error } => match error.take() {
                Some(e) => Err(e),
                None => Ok(Some(reader.report())),
            },
        }
    }
}

impl Iterator for Workload {
    type Item = VmRequest;

    fn next(&mut self) -> Option<VmRequest> {
        match self {
            Workload::Synthetic(g) => g.next(),
            Workload::Trace { reader, error } => {
                if error.is_some() {
                    return None;
                }
                match reader.next()? {
                    Ok(vm) => Some(vm),
                    Err(e) => {
                        *error = Some(e);
                        None
                    }
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Workload::Synthetic(g) => g.size_hint(),
            Workload::Trace { .. } => (0, None),
        }
    }
}
