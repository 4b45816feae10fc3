//! The CSV and TOML files of an output folder: `vms.csv`, `slices.csv`, `summary.csv` and
//! `run.toml`. Every file is written through [`AtomicFile`], so an interrupted run leaves
//! no half file.
//!
//! # Number formats (stable: notebooks parse them)
//! - Times (`*_s` columns of `vms.csv` and `slices.csv`): seconds with exactly nine
//!   decimals, the exact nanosecond value ([`sim::SimTime`]'s `Display`).
//! - Other floats: fixed six decimals, so equal inputs give byte-identical files. An
//!   undefined value (no VMs in a class, a confidence interval from one replication) is an
//!   empty cell, never `NaN`; an infinite one is `inf`.
//! - Counts: integers; in `summary.csv` `mean` rows, a count averaged over replications
//!   that is not whole has six decimals.
//!
//! # Columns
//! - `vms.csv` ([`VMS_HEADER`]): the run label (`policy`, `replication`), the VM's
//!   [`VmRecord`] fields, then the derived metrics of DESIGN §3: `queue_wait_s` =
//!   admission − arrival, `response_s` = first run − arrival, `turnaround_s` = finish −
//!   arrival, `wait_s` = turnaround − service, `slowdown` = turnaround / service.
//! - `slices.csv` ([`SLICES_HEADER`]): one [`SliceRecord`] per row.
//! - `summary.csv` ([`SUMMARY_HEADER`]): see [`SummaryRow`] and [`summary_rows`].
//! - `run.toml`: see [`write_run_toml`].

use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sim::metrics::{Class, ClassSummary, RunSummary};
use sim::{Observer, SliceRecord, VmRecord};

use crate::atomic::AtomicFile;
use crate::error::ReportError;

// ---------------------------------------------------------------------------------------
// Streaming writers
// ---------------------------------------------------------------------------------------

/// A CSV file being streamed, labelled with the current run. Shared by the observers.
#[derive(Debug)]
struct Sink {
    path: PathBuf,
    wtr: csv::Writer<AtomicFile>,
    /// The first error met by an observer hook (which cannot return one).
    error: Option<ReportError>,
    /// Scratch buffer for formatting numbers, reused for every field.
    scratch: Vec<u8>,
    policy: String,
    replication: String,
    rows: u64,
}

impl Sink {
    fn create(path: &Path, header: &[&str]) -> Result<Sink, ReportError> {
        let file = AtomicFile::create(path)?;
        let mut wtr = csv::WriterBuilder::new()
            .buffer_capacity(64 * 1024)
            .from_writer(file);
        wtr.write_record(header)
            .map_err(|e| ReportError::csv(path, e))?;
        Ok(Sink {
            path: path.to_path_buf(),
            wtr,
            error: None,
            scratch: Vec::with_capacity(32),
            policy: String::new(),
            replication: String::from("0"),
            rows: 0,
        })
    }

    fn set_run(&mut self, policy: &str, replication: u64) {
        self.policy.clear();
        self.policy.push_str(policy);
        self.replication.clear();
        // Writing to a String cannot fail.
        let _ = std::fmt::Write::write_fmt(&mut self.replication, format_args!("{replication}"));
    }

    /// Writes the run label fields.
    fn label(&mut self) -> csv::Result<()> {
        self.wtr.write_field(self.policy.as_bytes())?;
        self.wtr.write_field(self.replication.as_bytes())
    }

    /// Writes one field formatted with `Display`, through the scratch buffer.
    #[inline]
    fn num(&mut self, v: impl Display) -> csv::Result<()> {
        self.scratch.clear();
        write!(self.scratch, "{v}")?;
        self.wtr.write_field(&self.scratch)
    }

    /// Ends the record.
    fn end(&mut self) -> csv::Result<()> {
        self.wtr.write_record(None::<&[u8]>)?;
        self.rows += 1;
        Ok(())
    }

    /// Remembers the first error of an observer hook.
    fn keep(&mut self, r: csv::Result<()>) {
        if let Err(e) = r
            && self.error.is_none()
        {
            self.error = Some(ReportError::csv(&self.path, e));
        }
    }

    fn finish(self) -> Result<u64, ReportError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let file = self
            .wtr
            .into_inner()
            .map_err(|e| ReportError::io(&self.path, "cannot write", e.into_error()))?;
        file.commit()?;
        Ok(self.rows)
    }
}

/// Column names of `vms.csv`, in order.
pub const VMS_HEADER: [&str; 30] = [
    "policy",
    "replication",
    "id",
    "host",
    "vcpus",
    "memory_mib",
    "priority",
    "tenant",
    "arrival_s",
    "admission_s",
    "first_run_s",
    "finish_s",
    "service_s",
    "estimate_s",
    "queue_wait_s",
    "ready_wait_s",
    "response_s",
    "turnaround_s",
    "wait_s",
    "slowdown",
    "preemptions",
    "warmup",
    "io_wait_s",
    "io_service_s",
    "io_requests",
    "fault_stall_s",
    "minor_faults",
    "major_faults",
    "migrations",
    "stopped",
];

/// Streams `vms.csv`: one row per finished VM (warm-up VMs included, flagged by `warmup`).
///
/// An [`Observer`]: pass `&mut VmsCsv` (or a tuple with other observers) to
/// [`sim::simulate`]. Several runs can go to one file: call [`VmsCsv::set_run`] before each
/// run to label its rows. The file is written under a temporary name and only appears at
/// [`VmsCsv::finish`]; dropping the writer without finishing leaves no file.
///
/// Observer hooks cannot return errors: the first write error is kept, later records are
/// ignored, and [`VmsCsv::finish`] returns that error.
///
/// Columns: see [`VMS_HEADER`]. `tenant` is empty when the workload gave none; `warmup` is
/// `0` or `1`; `slowdown` has six decimals (`inf` for a zero-length VM that waited).
#[derive(Debug)]
pub struct VmsCsv {
    sink: Sink,
}

impl VmsCsv {
    /// Starts `path` (its folder must exist) and writes the header. Rows are labelled
    /// policy `""`, replication `0` until [`VmsCsv::set_run`] is called.
    pub fn create(path: impl AsRef<Path>) -> Result<VmsCsv, ReportError> {
        Ok(VmsCsv {
            sink: Sink::create(path.as_ref(), &VMS_HEADER)?,
        })
    }

    /// Labels the rows that follow with `policy` and `replication`. Number replications
    /// from 0 in the order their [`sim::metrics::RunSummary`]s are given to
    /// [`summary_rows`], so that `vms.csv` and `summary.csv` agree.
    pub fn set_run(&mut self, policy: &str, replication: u64) {
        self.sink.set_run(policy, replication);
    }

    /// Writes one row now, returning any error (the [`Observer`] hook calls this and keeps
    /// the error for [`VmsCsv::finish`]).
    pub fn write_record(&mut self, r: &VmRecord) -> Result<(), ReportError> {
        let res = self.write_row(r);
        res.map_err(|e| ReportError::csv(&self.sink.path, e))
    }

    fn write_row(&mut self, r: &VmRecord) -> csv::Result<()> {
        let s = &mut self.sink;
        s.label()?;
        s.num(r.id)?;
        s.num(r.host)?;
        s.num(r.vcpus)?;
        s.num(r.memory_mib)?;
        s.num(r.priority)?;
        match r.tenant {
            Some(t) => s.num(t)?,
            None => s.wtr.write_field(b"")?,
        }
        s.num(r.arrival)?;
        s.num(r.admission)?;
        s.num(r.first_run)?;
        s.num(r.finish)?;
        s.num(r.service)?;
        s.num(r.estimate)?;
        s.num(r.queue_wait())?;
        s.num(r.ready_wait)?;
        s.num(r.response())?;
        s.num(r.turnaround())?;
        s.num(r.wait())?;
        s.num(format_args!("{:.6}", r.slowdown()))?;
        s.num(r.preemptions)?;
        s.num(u8::from(r.warmup))?;
        s.num(r.io_wait)?;
        s.num(r.io_service)?;
        s.num(r.io_requests)?;
        s.num(r.fault_stall)?;
        s.num(r.minor_faults)?;
        s.num(r.major_faults)?;
        s.num(r.migrations)?;
        s.num(u8::from(r.stopped))?;
        s.end()
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        self.sink.rows
    }

    /// Flushes, syncs and renames the file into place. Returns the number of data rows,
    /// or the first error met while writing.
    pub fn finish(self) -> Result<u64, ReportError> {
        self.sink.finish()
    }
}

impl Observer for VmsCsv {
    fn on_vm_finished(&mut self, r: &VmRecord) {
        if self.sink.error.is_none() {
            let res = self.write_row(r);
            self.sink.keep(res);
        }
    }
}

/// Column names of `slices.csv`, in order.
pub const SLICES_HEADER: [&str; 10] = [
    "policy",
    "replication",
    "host",
    "pcpu",
    "vm",
    "vcpu",
    "dispatch_s",
    "start_s",
    "end_s",
    "reason",
];

/// Streams `slices.csv`: one row per slice of CPU time (a Gantt bar). `reason` is
/// `finished`, `quantum` or `preempted`. Asks the engine for slices
/// ([`Observer::wants_slices`]); otherwise behaves like [`VmsCsv`] (labels, errors,
/// [`SlicesCsv::finish`]).
#[derive(Debug)]
pub struct SlicesCsv {
    sink: Sink,
}

impl SlicesCsv {
    /// Starts `path` (its folder must exist) and writes the header.
    pub fn create(path: impl AsRef<Path>) -> Result<SlicesCsv, ReportError> {
        Ok(SlicesCsv {
            sink: Sink::create(path.as_ref(), &SLICES_HEADER)?,
        })
    }

    /// Labels the rows that follow with `policy` and `replication`.
    pub fn set_run(&mut self, policy: &str, replication: u64) {
        self.sink.set_run(policy, replication);
    }

    /// Writes one row now, returning any error.
    pub fn write_record(&mut self, s: &SliceRecord) -> Result<(), ReportError> {
        let res = self.write_row(s);
        res.map_err(|e| ReportError::csv(&self.sink.path, e))
    }

    fn write_row(&mut self, r: &SliceRecord) -> csv::Result<()> {
        let s = &mut self.sink;
        s.label()?;
        s.num(r.host)?;
        s.num(r.pcpu)?;
        s.num(r.vm)?;
        s.num(r.vcpu)?;
        s.num(r.dispatch)?;
        s.num(r.start)?;
        s.num(r.end)?;
        s.wtr.write_field(r.reason.name())?;
        s.end()
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        self.sink.rows
    }

    /// Flushes, syncs and renames the file into place. Returns the number of data rows,
    /// or the first error met while writing.
    pub fn finish(self) -> Result<u64, ReportError> {
        self.sink.finish()
    }
}

impl Observer for SlicesCsv {
    fn wants_slices(&self) -> bool {
        true
    }
    fn on_slice(&mut self, r: &SliceRecord) {
        if self.sink.error.is_none() {
            let res = self.write_row(r);
            self.sink.keep(res);
        }
    }
}

/// Column names of `timeline.csv`, in order.
pub const TIMELINE_HEADER: [&str; 13] = [
    "policy",
    "replication",
    "time_s",
    "host",
    "busy_pcpus",
    "cpu_utilization",
    "ready_vcpus",
    "blocked_vcpus",
    "admitted_vms",
    "queued_vms",
    "working_set_mib",
    "resident_mib",
    "swap_ins",
];

/// Column names of `devices.csv`, in order.
pub const DEVICES_HEADER: [&str; 10] = [
    "policy",
    "replication",
    "time_s",
    "host",
    "device",
    "kind",
    "utilization",
    "busy_channels",
    "queue_length",
    "completed",
];

/// Streams the timeline samples of a run (`[run] timeline_s`): `timeline.csv`, one row per
/// host and sample (CPU, run queue, admission queue, memory, swap-ins since the previous
/// sample), and `devices.csv`, one row per device, host and sample (utilisation and
/// completions since the previous sample, channels busy and queue length at the sample).
/// Utilisations are over the interval that ends at the sample.
#[derive(Debug)]
pub struct TimelineCsv {
    hosts: Sink,
    devices: Sink,
}

impl TimelineCsv {
    /// Starts both files (their folder must exist).
    pub fn create(
        timeline: impl AsRef<Path>,
        devices: impl AsRef<Path>,
    ) -> Result<TimelineCsv, ReportError> {
        Ok(TimelineCsv {
            hosts: Sink::create(timeline.as_ref(), &TIMELINE_HEADER)?,
            devices: Sink::create(devices.as_ref(), &DEVICES_HEADER)?,
        })
    }

    /// Labels the rows that follow.
    pub fn set_run(&mut self, policy: &str, replication: u64) {
        self.hosts.set_run(policy, replication);
        self.devices.set_run(policy, replication);
    }

    fn write_rows(&mut self, r: &sim::HostSample) -> csv::Result<()> {
        let s = &mut self.hosts;
        s.label()?;
        s.num(r.time)?;
        s.num(r.host)?;
        s.num(r.busy_pcpus)?;
        s.num(format_args!("{:.6}", r.cpu_utilization))?;
        s.num(r.ready_vcpus)?;
        s.num(r.blocked_vcpus)?;
        s.num(r.admitted_vms)?;
        s.num(r.queued_vms)?;
        s.num(r.working_set_mib)?;
        s.num(r.resident_mib)?;
        s.num(r.swap_ins)?;
        s.end()?;
        let d = &mut self.devices;
        for dev in &r.devices {
            d.label()?;
            d.num(r.time)?;
            d.num(r.host)?;
            d.num(dev.device)?;
            d.wtr.write_field(dev.kind)?;
            d.num(format_args!("{:.6}", dev.utilization))?;
            d.num(dev.busy_channels)?;
            d.num(dev.queue_length)?;
            d.num(dev.completed)?;
            d.end()?;
        }
        Ok(())
    }

    /// Commits both files; returns the number of timeline rows.
    pub fn finish(self) -> Result<u64, ReportError> {
        self.devices.finish()?;
        self.hosts.finish()
    }
}

impl Observer for TimelineCsv {
    fn on_sample(&mut self, r: &sim::HostSample) {
        if self.hosts.error.is_none() {
            let res = self.write_rows(r);
            self.hosts.keep(res);
        }
    }
}

// ---------------------------------------------------------------------------------------
// summary.csv
// ---------------------------------------------------------------------------------------

/// Which replication a [`SummaryRow`] describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Replication {
    /// One run: its position in the list of runs given to [`summary_rows`], from 0.
    Index(u64),
    /// The mean over all replications (printed `mean`).
    Mean,
}

impl std::fmt::Display for Replication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Replication::Index(i) => write!(f, "{i}"),
            Replication::Mean => f.write_str("mean"),
        }
    }
}

/// One row of `summary.csv`: one class of VMs in one replication of one policy, or the
/// mean over replications. Times in seconds; `NaN` marks an undefined value (printed as
/// an empty cell).
///
/// Counts are `f64` because a `mean` row averages them over replications.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// Policy label.
    pub policy: String,
    /// Replication, or the mean row.
    pub replication: Replication,
    /// `all` or one priority class.
    pub class: Class,
    /// VMs counted (warm-up excluded).
    pub vms: f64,
    /// Mean wait (turnaround − service).
    pub mean_wait_s: f64,
    /// Half-width of the Student-t 95 % confidence interval of the mean wait over
    /// replications: only in `mean` rows with at least two replications.
    pub ci95_mean_wait_s: Option<f64>,
    /// Median wait.
    pub p50_wait_s: f64,
    /// 95th percentile of wait.
    pub p95_wait_s: f64,
    /// 99th percentile of wait.
    pub p99_wait_s: f64,
    /// Largest wait.
    pub max_wait_s: f64,
    /// Mean admission − arrival.
    pub mean_queue_wait_s: f64,
    /// Mean time runnable but not running.
    pub mean_ready_wait_s: f64,
    /// Mean first run − arrival.
    pub mean_response_s: f64,
    /// Mean finish − arrival.
    pub mean_turnaround_s: f64,
    /// 95th percentile of turnaround.
    pub p95_turnaround_s: f64,
    /// Mean service time (not a `summary.csv` column; kept for tables and plots).
    pub mean_service_s: f64,
    /// Mean turnaround / service.
    pub mean_slowdown: f64,
    /// Jain's fairness index of the VMs' progress rates.
    pub jain_fairness: f64,
    /// pCPU utilisation of the run (run-level: the same in every class row).
    pub cpu_utilization: f64,
    /// Finished VMs per second (run-level).
    pub throughput_per_s: f64,
    /// Time-average VMs in the system (run-level).
    pub mean_in_system: f64,
    /// Events processed (run-level).
    pub events: f64,
    /// VMs rejected (run-level).
    pub rejected: f64,
}

impl SummaryRow {
    fn from_run(policy: &str, replication: u64, c: &ClassSummary, run: &RunSummary) -> Self {
        SummaryRow {
            policy: policy.to_string(),
            replication: Replication::Index(replication),
            class: c.class,
            vms: c.vms as f64,
            mean_wait_s: c.mean_wait_s,
            ci95_mean_wait_s: None,
            p50_wait_s: c.p50_wait_s,
            p95_wait_s: c.p95_wait_s,
            p99_wait_s: c.p99_wait_s,
            max_wait_s: c.max_wait_s,
            mean_queue_wait_s: c.mean_queue_wait_s,
            mean_ready_wait_s: c.mean_ready_wait_s,
            mean_response_s: c.mean_response_s,
            mean_turnaround_s: c.mean_turnaround_s,
            p95_turnaround_s: c.p95_turnaround_s,
            mean_service_s: c.mean_service_s,
            mean_slowdown: c.mean_slowdown,
            jain_fairness: c.jain_fairness,
            cpu_utilization: run.cpu_utilization,
            throughput_per_s: run.throughput_per_s,
            mean_in_system: run.mean_in_system,
            events: run.stats.events as f64,
            rejected: run.stats.rejected as f64,
        }
    }
}

/// Mean of the values that are not NaN (NaN if there are none). Infinite values count.
fn mean_defined(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0u64);
    for x in xs.filter(|x| !x.is_nan()) {
        sum += x;
        n += 1;
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// The rows of `summary.csv` for one policy.
///
/// First every replication in order (replication `i` is `runs[i]`), each with its classes
/// in the run's order (`all`, then priorities ascending); then one `mean` row per class
/// (`all`, then priorities ascending).
///
/// A `mean` row averages each column over the replications that have that class (a rare
/// priority class can be absent from some replications), leaving out undefined (NaN)
/// values; its `ci95_mean_wait_s` is the Student-t 95 % half-width
/// ([`sim::stats::mean_ci95`]) over those replications' mean waits, `None` when fewer
/// than two are defined. Run-level columns are averaged the same way.
pub fn summary_rows(policy: &str, runs: &[RunSummary]) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    let mut classes = std::collections::BTreeSet::new();
    for (i, run) in runs.iter().enumerate() {
        for c in &run.classes {
            classes.insert(c.class);
            rows.push(SummaryRow::from_run(policy, i as u64, c, run));
        }
    }
    let n_rep = rows.len();
    for class in classes {
        let reps: Vec<&SummaryRow> = rows[..n_rep].iter().filter(|r| r.class == class).collect();
        let m = |f: fn(&SummaryRow) -> f64| mean_defined(reps.iter().map(|r| f(r)));
        let waits: Vec<f64> = reps
            .iter()
            .map(|r| r.mean_wait_s)
            .filter(|x| !x.is_nan())
            .collect();
        let hw = sim::stats::mean_ci95(&waits).half_width;
        let row = SummaryRow {
            policy: policy.to_string(),
            replication: Replication::Mean,
            class,
            vms: m(|r| r.vms),
            mean_wait_s: m(|r| r.mean_wait_s),
            ci95_mean_wait_s: if hw.is_nan() { None } else { Some(hw) },
            p50_wait_s: m(|r| r.p50_wait_s),
            p95_wait_s: m(|r| r.p95_wait_s),
            p99_wait_s: m(|r| r.p99_wait_s),
            max_wait_s: m(|r| r.max_wait_s),
            mean_queue_wait_s: m(|r| r.mean_queue_wait_s),
            mean_ready_wait_s: m(|r| r.mean_ready_wait_s),
            mean_response_s: m(|r| r.mean_response_s),
            mean_turnaround_s: m(|r| r.mean_turnaround_s),
            p95_turnaround_s: m(|r| r.p95_turnaround_s),
            mean_service_s: m(|r| r.mean_service_s),
            mean_slowdown: m(|r| r.mean_slowdown),
            jain_fairness: m(|r| r.jain_fairness),
            cpu_utilization: m(|r| r.cpu_utilization),
            throughput_per_s: m(|r| r.throughput_per_s),
            mean_in_system: m(|r| r.mean_in_system),
            events: m(|r| r.events),
            rejected: m(|r| r.rejected),
        };
        rows.push(row);
    }
    rows
}

/// Column names of `summary.csv`, in order.
pub const SUMMARY_HEADER: [&str; 22] = [
    "policy",
    "replication",
    "class",
    "vms",
    "mean_wait_s",
    "ci95_mean_wait_s",
    "p50_wait_s",
    "p95_wait_s",
    "p99_wait_s",
    "max_wait_s",
    "mean_queue_wait_s",
    "mean_ready_wait_s",
    "mean_response_s",
    "mean_turnaround_s",
    "p95_turnaround_s",
    "mean_slowdown",
    "jain_fairness",
    "cpu_utilization",
    "throughput_per_s",
    "mean_in_system",
    "events",
    "rejected",
];

/// A float with six decimals; empty for NaN.
fn fixed6(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.6}")
    }
}

/// A count: an integer when whole, else six decimals; empty for NaN.
fn count(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.6}")
    }
}

/// The fields of one `summary.csv` row, formatted.
fn summary_fields(r: &SummaryRow) -> [String; 22] {
    [
        r.policy.clone(),
        r.replication.to_string(),
        r.class.to_string(),
        count(r.vms),
        fixed6(r.mean_wait_s),
        r.ci95_mean_wait_s.map(fixed6).unwrap_or_default(),
        fixed6(r.p50_wait_s),
        fixed6(r.p95_wait_s),
        fixed6(r.p99_wait_s),
        fixed6(r.max_wait_s),
        fixed6(r.mean_queue_wait_s),
        fixed6(r.mean_ready_wait_s),
        fixed6(r.mean_response_s),
        fixed6(r.mean_turnaround_s),
        fixed6(r.p95_turnaround_s),
        fixed6(r.mean_slowdown),
        fixed6(r.jain_fairness),
        fixed6(r.cpu_utilization),
        fixed6(r.throughput_per_s),
        fixed6(r.mean_in_system),
        count(r.events),
        count(r.rejected),
    ]
}

/// Writes `summary.csv` (columns [`SUMMARY_HEADER`]) with `rows` in the given order
/// (concatenate [`summary_rows`] of each policy).
pub fn write_summary_csv(path: impl AsRef<Path>, rows: &[SummaryRow]) -> Result<(), ReportError> {
    let path = path.as_ref();
    let mut wtr = csv::Writer::from_writer(AtomicFile::create(path)?);
    let err = |e| ReportError::csv(path, e);
    wtr.write_record(SUMMARY_HEADER).map_err(err)?;
    for r in rows {
        wtr.write_record(summary_fields(r)).map_err(err)?;
    }
    let file = wtr
        .into_inner()
        .map_err(|e| ReportError::io(path, "cannot write", e.into_error()))?;
    file.commit()
}

// ---------------------------------------------------------------------------------------
// run.toml
// ---------------------------------------------------------------------------------------

/// File name of the run description in an output folder.
pub const RUN_TOML: &str = "run.toml";

/// What `run.toml` records about a run: enough to reproduce it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    /// The scenario file's text (TOML).
    pub scenario_toml: String,
    /// Master seed.
    pub seed: u64,
    /// Replications per policy.
    pub replications: u64,
    /// Policies compared, in output order.
    pub policies: Vec<String>,
    /// vmsched version.
    pub version: String,
    /// Git revision of the build, when known.
    pub git_revision: Option<String>,
    /// The command line that produced the folder.
    pub command: String,
}

/// The on-disk layout of `run.toml`.
#[derive(Serialize, Deserialize)]
struct RunToml {
    version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    git_revision: Option<String>,
    command: String,
    #[serde(with = "toml_u64")]
    seed: u64,
    #[serde(with = "toml_u64")]
    replications: u64,
    policies: Vec<String>,
    scenario: toml::Table,
}

/// TOML integers are signed 64-bit: a `u64` above `i64::MAX` is written as a string of
/// digits. Both forms are read back.
mod toml_u64 {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        match i64::try_from(*v) {
            Ok(i) => s.serialize_i64(i),
            Err(_) => s.serialize_str(&v.to_string()),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Int(i64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Int(i) => u64::try_from(i).map_err(|_| D::Error::custom("negative value")),
            Repr::Text(s) => s
                .parse()
                .map_err(|_| D::Error::custom(format!("not an unsigned integer: {s:?}"))),
        }
    }
}

/// Writes `dir/run.toml` and returns its path.
///
/// Layout: top-level keys `version`, `git_revision` (absent when unknown), `command`,
/// `seed`, `replications`, `policies`, then the scenario embedded as the table
/// `[scenario]` (so `run["scenario"]` is the parsed scenario file; its comments and key
/// order are not kept, its values are). A seed above `i64::MAX` is written as a string.
/// Errors if `scenario_toml` is not valid TOML.
pub fn write_run_toml(dir: impl AsRef<Path>, info: &RunInfo) -> Result<PathBuf, ReportError> {
    let path = dir.as_ref().join(RUN_TOML);
    let scenario: toml::Table =
        toml::from_str(&info.scenario_toml).map_err(|source| ReportError::TomlRead {
            path: path.clone(),
            what: "invalid scenario TOML for",
            source: Box::new(source),
        })?;
    let doc = RunToml {
        version: info.version.clone(),
        git_revision: info.git_revision.clone(),
        command: info.command.clone(),
        seed: info.seed,
        replications: info.replications,
        policies: info.policies.clone(),
        scenario,
    };
    let text = toml::to_string(&doc).map_err(|source| ReportError::TomlWrite {
        path: path.clone(),
        source: Box::new(source),
    })?;
    crate::atomic::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// Reads `dir/run.toml` back. `scenario_toml` is the embedded table written out again as
/// TOML: equal in value to the original scenario, not in text.
pub fn read_run_toml(dir: impl AsRef<Path>) -> Result<RunInfo, ReportError> {
    let path = dir.as_ref().join(RUN_TOML);
    let text =
        std::fs::read_to_string(&path).map_err(|e| ReportError::io(&path, "cannot read", e))?;
    let doc: RunToml = toml::from_str(&text).map_err(|source| ReportError::TomlRead {
        path: path.clone(),
        what: "invalid run description in",
        source: Box::new(source),
    })?;
    let scenario_toml =
        toml::to_string(&doc.scenario).map_err(|source| ReportError::TomlWrite {
            path: path.clone(),
            source: Box::new(source),
        })?;
    Ok(RunInfo {
        scenario_toml,
        seed: doc.seed,
        replications: doc.replications,
        policies: doc.policies,
        version: doc.version,
        git_revision: doc.git_revision,
        command: doc.command,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::{RunStats, SimTime, SliceEnd};

    fn s(secs: u64) -> SimTime {
        SimTime::from_secs(secs)
    }

    fn vm(id: u64, arrival: u64, first_run: u64, finish: u64, service: u64) -> VmRecord {
        VmRecord {
            id,
            host: 0,
            vcpus: 1,
            memory_mib: 512,
            priority: 0,
            tenant: None,
            arrival: s(arrival),
            admission: s(arrival),
            first_run: s(first_run),
            finish: s(finish),
            service: s(service),
            estimate: s(service),
            ready_wait: s(first_run - arrival),
            preemptions: 0,
            warmup: false,
            ..Default::default()
        }
    }

    #[test]
    fn vms_csv_rows_and_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vms.csv");
        let mut w = VmsCsv::create(&path).unwrap();
        w.set_run("fcfs", 0);
        // P2 of the FCFS 24/3/3 case: arrival 0, runs 24..27, service 3.
        // queue_wait 0, ready_wait 24, response 24, turnaround 27, wait 27 − 3 = 24,
        // slowdown 27 / 3 = 9.
        w.on_vm_finished(&vm(2, 0, 24, 27, 3));
        w.set_run("rr,q=4", 1);
        let mut r = vm(7, 1, 1, 1, 0);
        // A zero-length VM admitted half a second after it arrived.
        r.tenant = Some(3);
        r.warmup = true;
        r.admission = SimTime(1_500_000_000);
        r.first_run = SimTime(1_500_000_000);
        r.finish = SimTime(1_500_000_000);
        r.service = SimTime::ZERO;
        r.estimate = SimTime(250);
        r.ready_wait = SimTime::ZERO;
        r.preemptions = 2;
        // queue_wait = response = turnaround = 0.5 s, wait 0.5 − 0 = 0.5 s,
        // slowdown 0.5 / 0 = inf (see VmRecord::slowdown).
        w.on_vm_finished(&r);
        assert_eq!(w.rows(), 2);
        // Not there until finish.
        assert!(!path.exists());
        assert_eq!(w.finish().unwrap(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = "\
policy,replication,id,host,vcpus,memory_mib,priority,tenant,arrival_s,admission_s,first_run_s,finish_s,service_s,estimate_s,queue_wait_s,ready_wait_s,response_s,turnaround_s,wait_s,slowdown,preemptions,warmup,io_wait_s,io_service_s,io_requests,fault_stall_s,minor_faults,major_faults,migrations,stopped
fcfs,0,2,0,1,512,0,,0.000000000,0.000000000,24.000000000,27.000000000,3.000000000,3.000000000,0.000000000,24.000000000,24.000000000,27.000000000,24.000000000,9.000000,0,0,0.000000000,0.000000000,0,0.000000000,0,0,0,0
\"rr,q=4\",1,7,0,1,512,0,3,1.000000000,1.500000000,1.500000000,1.500000000,0.000000000,0.000000250,0.500000000,0.000000000,0.500000000,0.500000000,0.500000000,inf,2,1,0.000000000,0.000000000,0,0.000000000,0,0,0,0
";
        assert_eq!(text, expected);
    }

    #[test]
    fn vms_csv_dropped_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vms.csv");
        let mut w = VmsCsv::create(&path).unwrap();
        w.on_vm_finished(&vm(1, 0, 0, 24, 24));
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn slices_csv_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slices.csv");
        let mut w = SlicesCsv::create(&path).unwrap();
        assert!(w.wants_slices());
        w.set_run("rr", 2);
        w.on_slice(&SliceRecord {
            host: 1,
            pcpu: 3,
            vm: 9,
            vcpu: 0,
            dispatch: s(4),
            start: SimTime(4_000_001_000),
            end: s(8),
            reason: SliceEnd::Quantum,
        });
        assert_eq!(w.finish().unwrap(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "policy,replication,host,pcpu,vm,vcpu,dispatch_s,start_s,end_s,reason\n\
             rr,2,1,3,9,0,4.000000000,4.000001000,8.000000000,quantum\n"
        );
    }

    fn class(class: Class, vms: u64, mean_wait: f64) -> ClassSummary {
        ClassSummary {
            class,
            vms,
            mean_wait_s: mean_wait,
            p50_wait_s: mean_wait,
            p95_wait_s: 2.0 * mean_wait,
            p99_wait_s: 3.0 * mean_wait,
            max_wait_s: 4.0 * mean_wait,
            mean_queue_wait_s: 0.0,
            mean_ready_wait_s: mean_wait,
            mean_response_s: mean_wait,
            mean_turnaround_s: mean_wait + 1.0,
            p95_turnaround_s: 2.0 * mean_wait + 1.0,
            mean_service_s: 1.0,
            mean_slowdown: mean_wait + 1.0,
            jain_fairness: 0.5,
        }
    }

    fn run(classes: Vec<ClassSummary>, util: f64, events: u64) -> RunSummary {
        RunSummary {
            classes,
            stats: RunStats {
                events,
                ..RunStats::default()
            },
            cpu_utilization: util,
            throughput_per_s: 2.0,
            mean_in_system: 3.0,
        }
    }

    fn three_runs() -> Vec<RunSummary> {
        vec![
            run(
                vec![
                    class(Class::All, 10, 10.0),
                    class(Class::Priority(1), 10, 10.0),
                ],
                0.5,
                100,
            ),
            run(
                vec![
                    class(Class::All, 10, 12.0),
                    class(Class::Priority(1), 10, 12.0),
                ],
                0.6,
                101,
            ),
            run(
                vec![
                    class(Class::All, 11, 14.0),
                    class(Class::Priority(1), 10, 14.0),
                    class(Class::Priority(2), 1, 5.0),
                ],
                0.7,
                102,
            ),
        ]
    }

    #[test]
    fn mean_rows_hand_computed() {
        let rows = summary_rows("sjf", &three_runs());
        // 2 + 2 + 3 replication rows, then mean rows for all, 1, 2.
        assert_eq!(rows.len(), 10);
        let order: Vec<(Replication, Class)> =
            rows.iter().map(|r| (r.replication, r.class)).collect();
        assert_eq!(order[0], (Replication::Index(0), Class::All));
        assert_eq!(order[6], (Replication::Index(2), Class::Priority(2)));
        assert_eq!(order[7], (Replication::Mean, Class::All));
        assert_eq!(order[8], (Replication::Mean, Class::Priority(1)));
        assert_eq!(order[9], (Replication::Mean, Class::Priority(2)));

        let all = &rows[7];
        // Mean waits 10, 12, 14: mean 12; s² = (4 + 0 + 4) / 2 = 4, s = 2;
        // t(0.975, 2) = 4.302653; half-width = 4.302653 · 2 / √3 = 4.968275.
        assert_eq!(all.mean_wait_s, 12.0);
        let hw = all.ci95_mean_wait_s.unwrap();
        assert!((hw - 4.968_275).abs() < 1e-6, "{hw}");
        // vms (10 + 10 + 11) / 3 = 10.333333; utilisation (0.5 + 0.6 + 0.7) / 3 = 0.6;
        // events (100 + 101 + 102) / 3 = 101; p99 = 3 · mean wait → 36.
        assert!((all.vms - 31.0 / 3.0).abs() < 1e-12);
        assert!((all.cpu_utilization - 0.6).abs() < 1e-12);
        assert_eq!(all.events, 101.0);
        assert_eq!(all.p99_wait_s, 36.0);
        assert_eq!(all.policy, "sjf");
        // Priority 2 appears in one replication only: its own values, no CI.
        let p2 = &rows[9];
        assert_eq!(p2.vms, 1.0);
        assert_eq!(p2.mean_wait_s, 5.0);
        assert_eq!(p2.ci95_mean_wait_s, None);
        // Replication rows carry no CI.
        assert!(rows[..7].iter().all(|r| r.ci95_mean_wait_s.is_none()));
    }

    #[test]
    fn summary_csv_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.csv");
        let mut runs = three_runs();
        runs.truncate(1);
        // An empty class: every metric NaN → empty cells.
        runs[0].classes.push(ClassSummary {
            mean_wait_s: f64::NAN,
            p50_wait_s: f64::NAN,
            p95_wait_s: f64::NAN,
            p99_wait_s: f64::NAN,
            max_wait_s: f64::NAN,
            mean_ready_wait_s: f64::NAN,
            mean_response_s: f64::NAN,
            mean_turnaround_s: f64::NAN,
            p95_turnaround_s: f64::NAN,
            mean_slowdown: f64::NAN,
            jain_fairness: f64::NAN,
            ..class(Class::Priority(3), 0, 0.0)
        });
        let rows = summary_rows("fcfs", &runs);
        write_summary_csv(&path, &rows).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], SUMMARY_HEADER.join(","));
        // Replication 0, class all: mean wait 10 → p50 10, p95 20, p99 30, max 40,
        // queue 0, ready 10, response 10, turnaround 11, p95 turnaround 21, slowdown 11,
        // Jain 0.5, utilisation 0.5, throughput 2, in system 3, events 100, rejected 0.
        assert_eq!(
            lines[1],
            "fcfs,0,all,10,10.000000,,10.000000,20.000000,30.000000,40.000000,0.000000,\
             10.000000,10.000000,11.000000,21.000000,11.000000,0.500000,0.500000,2.000000,\
             3.000000,100,0"
        );
        assert_eq!(
            lines[3],
            "fcfs,0,3,0,,,,,,,0.000000,,,,,,,0.500000,2.000000,3.000000,100,0"
        );
        // One replication: the mean row repeats it, CI empty.
        assert_eq!(lines[4], lines[1].replacen("fcfs,0,", "fcfs,mean,", 1));
        // The empty class stays empty in the mean row (no NaN anywhere).
        assert_eq!(lines[6], lines[3].replacen("fcfs,0,", "fcfs,mean,", 1));
        assert!(!text.contains("NaN") && !text.contains("nan"));
        assert_eq!(lines.len(), 7);
    }

    #[test]
    fn count_format() {
        // Whole counts print as integers, averaged ones with six decimals: 31 / 3 = 10.333333.
        assert_eq!(count(101.0), "101");
        assert_eq!(count(31.0 / 3.0), "10.333333");
        assert_eq!(count(f64::NAN), "");
    }

    #[test]
    fn run_toml_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let scenario = "# a comment\nname = \"textbook\"\n[cluster]\npcpus = 1\n\
                        [[vms]]\narrival = 0\nburst = 24.5\n[[vms]]\narrival = 0\nburst = 3\n";
        let info = RunInfo {
            scenario_toml: scenario.to_string(),
            seed: u64::MAX,
            replications: 3,
            policies: vec!["fcfs".into(), "sjf".into()],
            version: "0.1.0".into(),
            git_revision: Some("abc123".into()),
            command: "vmsched compare scenario.toml --policies fcfs,sjf".into(),
        };
        let path = write_run_toml(dir.path(), &info).unwrap();
        assert_eq!(path, dir.path().join("run.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        // Valid TOML whose [scenario] table equals the scenario file's.
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let original: toml::Table = toml::from_str(scenario).unwrap();
        assert_eq!(doc["scenario"].as_table(), Some(&original));
        // u64::MAX does not fit a TOML integer: written as a string.
        assert_eq!(doc["seed"].as_str(), Some("18446744073709551615"));
        assert_eq!(doc["replications"].as_integer(), Some(3));

        let back = read_run_toml(dir.path()).unwrap();
        let back_scenario: toml::Table = toml::from_str(&back.scenario_toml).unwrap();
        assert_eq!(back_scenario, original);
        assert_eq!(
            RunInfo {
                scenario_toml: info.scenario_toml.clone(),
                ..back
            },
            info
        );
    }

    #[test]
    fn run_toml_rejects_bad_scenario_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let info = RunInfo {
            scenario_toml: "this is = = not toml".into(),
            seed: 1,
            replications: 1,
            policies: vec![],
            version: "0.1.0".into(),
            git_revision: None,
            command: String::new(),
        };
        let err = write_run_toml(dir.path(), &info).unwrap_err();
        assert!(err.to_string().contains("run.toml"), "{err}");
        assert!(!dir.path().join("run.toml").exists());
    }
}
