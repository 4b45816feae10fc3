//! `reports`: the output side of vmsched.
//!
//! - [`atomic`]: files written under a temporary name and renamed into place, so an
//!   interrupted run never leaves a half file.
//! - [`folder`]: the rule that makes a results folder safe to interrupt (`run.toml`
//!   removed first, written last) and the check readers make.
//! - [`schema`]: every file of a results folder in one place: file names, CSV column
//!   names and writers (`vms.csv`, `slices.csv` and `timeline.csv` as streaming
//!   [`sim::Observer`]s; `summary.csv`, `sweep.csv`, `capacity.csv`; `run.toml`).
//! - [`table`]: the policy comparison tables printed by `vmsched compare`.
//! - [`gantt`]: ASCII Gantt charts and per-process tables for small textbook runs.
//! - [`plots`]: SVG and PNG plots of a results folder (wait CDF, box plots, occupancy over
//!   time, mean wait with confidence intervals, Gantt charts), with a bundled font.
//! - [`html`]: the self-contained `report.html` of a results folder.
//! - [`trace`]: scheduling decisions told in plain words, for teaching;
//!   [`backfill_trace`]: backfilling steps (reservations, VMs started ahead) likewise.
//! - [`numbers`]: numbers without trailing zeros, for tables and axes.
//!
//! All errors are [`ReportError`], whose messages name the file concerned.
#![forbid(unsafe_code)]
// No panics on input: unwrap/expect only in tests, or with a local allow and a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod atomic;
pub mod backfill_trace;
pub mod error;
pub mod folder;
pub mod gantt;
pub mod html;
pub mod numbers;
pub mod plots;
pub mod schema;
pub mod table;
pub mod trace;

pub use atomic::{AtomicFile, write_atomic, write_atomic_unsynced};
pub use error::ReportError;
pub use gantt::{ascii_gantt, process_csv, process_table};
pub use schema::{
    Replication, RunInfo, SlicesCsv, SummaryRow, TimelineCsv, VmsCsv, read_run_toml, summary_rows,
    write_run_toml, write_summary_csv,
};
pub use table::{comparison_table, per_class_table};
