//! What a format reader gives the [`TraceReader`](super::TraceReader): one record at a
//! time, in trace units.

use super::format::TraceEstimate;
use super::priority::PriorityMap;
use crate::error::Error;

/// What every reader needs besides its file.
pub(crate) struct SourceContext {
    /// The file as the user named it (for messages).
    pub label: String,
    pub priorities: PriorityMap,
    pub estimate: TraceEstimate,
}

/// One usable record, in trace units (seconds), before scaling.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawVm {
    /// 1-based line of the record (for messages).
    pub line: u64,
    pub arrival_s: f64,
    pub runtime_s: f64,
    pub estimate_s: f64,
    pub vcpus: u32,
    pub memory_mib: u64,
    pub priority: i32,
    pub tenant: Option<u32>,
    /// The wait the trace recorded (SWF field 3), seconds, if it has one.
    pub recorded_wait_s: Option<f64>,
}

/// What a reader produced for one record.
pub(crate) enum Next {
    /// A usable record.
    Vm(RawVm),
    /// A record skipped by the format's rules, with the reason.
    Skip(&'static str),
    /// End of the trace.
    End,
}

/// A format reader: one record per call.
pub(crate) trait RecordSource: Send {
    /// The next record. `Err(Error::Invalid)` is a malformed record (the reader can go on
    /// after it); any other error is fatal.
    fn next_record(&mut self) -> Result<Next, Error>;
    /// Header fields read so far (SWF `; Key: value` comments, Azure horizon, …).
    fn header(&self) -> Vec<(String, String)>;
    /// Counters of notable but kept records (`censored`, …).
    fn notes(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}
