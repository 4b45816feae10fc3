//! Real workload traces as streams of VM requests.
//!
//! Four formats ([`TraceFormat`]):
//!
//! * `swf` — the Standard Workload Format 2.2 of the Parallel Workloads Archive
//!   ([`swf`]);
//! * `alibaba` — the `openb_pod_list` CSV of the Alibaba GPU cluster trace ([`alibaba`]);
//! * `azure` — the binned Azure V1 VM trace, a flavour file with its duration twin
//!   ([`azure`]);
//! * `csv` — a plain CSV with named columns, for anyone's own data ([`plain_csv`]).
//!
//! Every file may be gzip-compressed (recognised by its magic bytes, not its name). A
//! [`TraceReader`] reads one record at a time and never holds the trace: what it keeps is
//! the reorder window (at most [`TraceSpec::reorder_window`] records) and, for the Azure
//! format, the VMs of one 5-minute bin.
//!
//! Rules shared by all formats (each reader states its own on top):
//!
//! * A record the trace marks as unusable (never started, cancelled before it started,
//!   runtime unknown or ≤ 0, …) is *skipped* and counted under a reason
//!   ([`TraceReport::skipped`]).
//! * A malformed line (a field that is not a number, missing columns, …) is an error naming
//!   the file, the line and the field; with `lenient = true` (`--lenient`) it is skipped and
//!   counted under `malformed line`, and the first few messages are kept.
//! * Out-of-order records: records are passed through a reorder buffer of
//!   `reorder_window` records (default [`DEFAULT_REORDER_WINDOW`]), so a record may come up
//!   to that many lines late. A record later than that (its arrival is before one already
//!   emitted) is an error, or with `lenient` skipped as `out of order`. Records with equal
//!   arrival times keep their file order.
//! * Times: `arrival = trace arrival × time_scale / load_scale`, `runtime = trace runtime ×
//!   time_scale` (and the estimate likewise). `time_scale` converts units; `load_scale`
//!   compresses the time axis of arrivals only, so `load_scale = 1.3` means 30 % more
//!   arrivals per second with the same jobs.
//! * VM ids are `0, 1, 2, …` in emitted (arrival) order; `limit` stops after that many VMs.

pub mod alibaba;
pub mod azure;
mod csv;
pub mod failures;
mod format;
mod input;
pub mod nodes;
mod open;
pub mod plain_csv;
mod priority;
mod reader;
mod source;
mod spec;
pub mod stats;
pub mod swf;

pub use format::{TraceEstimate, TraceFormat};
pub(crate) use input::resolve;
pub use open::TraceBytes;
pub use reader::{TraceReader, TraceReport};
pub use spec::{DEFAULT_REORDER_WINDOW, TraceSpec};
