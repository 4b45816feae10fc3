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
pub mod nodes;
pub mod plain_csv;
pub mod stats;
pub mod swf;

use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sim::{SimTime, VmRequest};

use crate::error::Error;
use crate::generator::secs_to_time;

/// Default size of the reorder buffer, in records.
pub const DEFAULT_REORDER_WINDOW: u64 = 1024;

/// How many messages of skipped malformed lines a [`TraceReport`] keeps.
const KEPT_MESSAGES: usize = 5;

/// The trace formats vmsched reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    /// Standard Workload Format (Parallel Workloads Archive).
    Swf,
    /// Alibaba `openb_pod_list` CSV.
    Alibaba,
    /// Binned Azure V1 trace (flavour file + duration twin).
    Azure,
    /// Plain CSV with named columns.
    Csv,
}

impl TraceFormat {
    /// Names accepted in scenario files and on the command line.
    pub const NAMES: [&'static str; 4] = ["swf", "alibaba", "azure", "csv"];

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<TraceFormat> {
        match name {
            "swf" => Some(TraceFormat::Swf),
            "alibaba" => Some(TraceFormat::Alibaba),
            "azure" => Some(TraceFormat::Azure),
            "csv" => Some(TraceFormat::Csv),
            _ => None,
        }
    }

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Swf => "swf",
            TraceFormat::Alibaba => "alibaba",
            TraceFormat::Azure => "azure",
            TraceFormat::Csv => "csv",
        }
    }

    /// Guesses the format from a file name: `*.swf[.gz]` → swf, `*pod_list*` → alibaba,
    /// `v1.*.txt` → azure, `*.csv[.gz]` → csv.
    pub fn guess(path: &Path) -> Option<TraceFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".swf") {
            Some(TraceFormat::Swf)
        } else if name.contains("pod_list") {
            Some(TraceFormat::Alibaba)
        } else if name.ends_with(".txt") && name.starts_with("v1.") {
            Some(TraceFormat::Azure)
        } else if name.ends_with(".csv") {
            Some(TraceFormat::Csv)
        } else {
            None
        }
    }

    /// The fields a `priority_map` key may name for this format (`"<field>:<value>"`), in
    /// the order they are tried.
    pub fn priority_fields(self) -> &'static [&'static str] {
        match self {
            TraceFormat::Swf => &["user", "group", "queue", "partition"],
            TraceFormat::Alibaba => &["qos"],
            TraceFormat::Azure => &["flavour"],
            TraceFormat::Csv => &["tenant", "priority"],
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the users' runtime estimates come from.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceEstimate {
    /// The trace's own estimate where it has one (SWF field 9, the CSV `estimate_s`
    /// column), else the runtime.
    #[default]
    Trace,
    /// Always the true runtime.
    Exact,
}

/// `[workload] trace = { … }`: a workload read from a trace file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSpec {
    /// The file format.
    pub format: TraceFormat,
    /// The trace file (for `azure`, the flavour file), relative to the scenario file.
    pub path: String,
    /// Multiplies every time of the trace (default 1; e.g. 0.001 for a trace in ms).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub time_scale: f64,
    /// Divides arrival times (default 1): 1.3 gives 30 % more arrivals per second.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub load_scale: f64,
    /// At most this many VMs (default: the whole trace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Priority classes by trace field, `"<field>:<value>" = priority`, e.g.
    /// `"queue:2" = 3` (see [`TraceFormat::priority_fields`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub priority_map: BTreeMap<String, i32>,
    /// Where estimates come from (default `"trace"`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub estimate: TraceEstimate,
    /// Skip malformed lines instead of failing (default false).
    #[serde(default, skip_serializing_if = "is_default")]
    pub lenient: bool,
    /// Size of the reorder buffer in records (default [`DEFAULT_REORDER_WINDOW`]; 0 makes
    /// any out-of-order record an error).
    #[serde(default = "default_window", skip_serializing_if = "is_default_window")]
    pub reorder_window: u64,
    /// `alibaba`: skip pods that request GPUs (default false: keep them, with their CPUs
    /// and memory only).
    #[serde(default, skip_serializing_if = "is_default")]
    pub cpu_only: bool,
    /// `azure`: the duration twin (default: the only `<stem>.c<horizon>.txt` beside `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durations: Option<String>,
    /// `azure`: the flavour map (default: `flav_map.txt` beside `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavours: Option<String>,
    /// `azure`: the duration-bin map (default: the only `*interval_map.txt` beside `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<String>,
    /// `azure`: the censoring horizon in trace seconds (default: from the duration file's
    /// name, `….c2591400.txt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_s: Option<f64>,
}

fn one() -> f64 {
    1.0
}
fn is_one(v: &f64) -> bool {
    *v == 1.0
}
fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}
fn default_window() -> u64 {
    DEFAULT_REORDER_WINDOW
}
fn is_default_window(v: &u64) -> bool {
    *v == DEFAULT_REORDER_WINDOW
}

impl TraceSpec {
    /// A spec with every option at its default.
    pub fn new(format: TraceFormat, path: impl Into<String>) -> TraceSpec {
        TraceSpec {
            format,
            path: path.into(),
            time_scale: 1.0,
            load_scale: 1.0,
            limit: None,
            priority_map: BTreeMap::new(),
            estimate: TraceEstimate::Trace,
            lenient: false,
            reorder_window: DEFAULT_REORDER_WINDOW,
            cpu_only: false,
            durations: None,
            flavours: None,
            intervals: None,
            horizon_s: None,
        }
    }

    /// Checks the options (not the file), reporting errors under `key`
    /// (`workload.trace`).
    pub fn validate(&self, key: &str) -> Result<(), Error> {
        let k = |name: &str| format!("{key}.{name}");
        crate::dist::check_positive(&k("time_scale"), self.time_scale)?;
        crate::dist::check_positive(&k("load_scale"), self.load_scale)?;
        if self.path.is_empty() {
            return Err(Error::invalid(k("path"), "must not be empty"));
        }
        if self.limit == Some(0) {
            return Err(Error::invalid(k("limit"), "must be ≥ 1, got 0"));
        }
        if self.reorder_window > 10_000_000 {
            return Err(Error::invalid(
                k("reorder_window"),
                format!("at most 10000000 records, got {}", self.reorder_window),
            ));
        }
        if let Some(h) = self.horizon_s {
            crate::dist::check_positive(&k("horizon_s"), h)?;
        }
        let azure_only = [
            ("durations", self.durations.is_some()),
            ("flavours", self.flavours.is_some()),
            ("intervals", self.intervals.is_some()),
            ("horizon_s", self.horizon_s.is_some()),
        ];
        for (name, set) in azure_only {
            if set && self.format != TraceFormat::Azure {
                return Err(Error::invalid(
                    k(name),
                    format!("only for format \"azure\", not \"{}\"", self.format),
                ));
            }
        }
        if self.cpu_only && self.format != TraceFormat::Alibaba {
            return Err(Error::invalid(
                k("cpu_only"),
                format!("only for format \"alibaba\", not \"{}\"", self.format),
            ));
        }
        PriorityMap::compile(&self.priority_map, self.format, &k("priority_map"))?;
        Ok(())
    }

    /// `path` resolved against `base` (the scenario file's folder) when relative.
    pub fn resolve(&self, base: Option<&Path>, path: &str) -> PathBuf {
        resolve(base, path)
    }

    /// Opens the trace for replication `replication` of a run seeded with `seed` (only the
    /// Azure reader draws random numbers). Relative paths are taken from `base`.
    pub fn open(
        &self,
        base: Option<&Path>,
        seed: u64,
        replication: u64,
    ) -> Result<TraceReader, Error> {
        self.validate("workload.trace")?;
        let path = resolve(base, &self.path);
        let inputs = match self.format {
            TraceFormat::Azure => Inputs::Azure(
                azure::AzureFiles::locate(
                    &path,
                    self.durations.as_deref().map(|p| resolve(base, p)),
                    self.flavours.as_deref().map(|p| resolve(base, p)),
                    self.intervals.as_deref().map(|p| resolve(base, p)),
                )?
                .inputs(),
            ),
            _ => Inputs::One(Input::File(path)),
        };
        self.open_inputs(inputs, seed, replication)
    }

    /// [`TraceSpec::open`] on a trace already in memory (plain or gzip bytes), read by the
    /// same code as a file; `path` (and for `azure` the companion names, default
    /// `durations`, `flav_map.txt`, `interval_map.txt`) only names the files in messages.
    /// An `azure` trace needs its four files ([`TraceBytes::Azure`]) and, unless its
    /// `durations` name carries it, `horizon_s`.
    pub fn open_bytes(
        &self,
        bytes: TraceBytes,
        seed: u64,
        replication: u64,
    ) -> Result<TraceReader, Error> {
        self.validate("workload.trace")?;
        let name = |given: &Option<String>, default: &str| {
            PathBuf::from(given.as_deref().unwrap_or(default))
        };
        let inputs = match (self.format, bytes) {
            (
                TraceFormat::Azure,
                TraceBytes::Azure {
                    flavours_trace,
                    durations,
                    flavour_map,
                    interval_map,
                },
            ) => Inputs::Azure(azure::AzureInputs {
                flavours_trace: Input::Memory {
                    name: PathBuf::from(&self.path),
                    data: flavours_trace,
                },
                durations: Input::Memory {
                    name: name(&self.durations, "durations"),
                    data: durations,
                },
                flavour_map: Input::Memory {
                    name: name(&self.flavours, "flav_map.txt"),
                    data: flavour_map,
                },
                interval_map: Input::Memory {
                    name: name(&self.intervals, "interval_map.txt"),
                    data: interval_map,
                },
            }),
            (TraceFormat::Azure, TraceBytes::File(_)) => {
                return Err(Error::invalid(
                    "workload.trace.format",
                    "an azure trace is four files (TraceBytes::Azure), not one",
                ));
            }
            (_, TraceBytes::File(data)) => Inputs::One(Input::Memory {
                name: PathBuf::from(&self.path),
                data,
            }),
            (format, TraceBytes::Azure { .. }) => {
                return Err(Error::invalid(
                    "workload.trace.format",
                    format!("a {format} trace is one file (TraceBytes::File)"),
                ));
            }
        };
        self.open_inputs(inputs, seed, replication)
    }

    /// The reader over `inputs` (what [`TraceSpec::open`] and [`TraceSpec::open_bytes`]
    /// share).
    fn open_inputs(
        &self,
        inputs: Inputs,
        seed: u64,
        replication: u64,
    ) -> Result<TraceReader, Error> {
        let priorities = PriorityMap::compile(
            &self.priority_map,
            self.format,
            "workload.trace.priority_map",
        )?;
        let ctx = SourceContext {
            label: self.path.clone(),
            priorities,
            estimate: self.estimate,
        };
        let source: Box<dyn RecordSource> = match (self.format, inputs) {
            (TraceFormat::Azure, Inputs::Azure(files)) => Box::new(azure::AzureSource::open(
                files,
                ctx,
                self.horizon_s,
                seed,
                replication,
            )?),
            (TraceFormat::Swf, Inputs::One(input)) => Box::new(swf::SwfSource::open(input, ctx)?),
            (TraceFormat::Alibaba, Inputs::One(input)) => {
                Box::new(alibaba::PodSource::open(input, ctx, self.cpu_only)?)
            }
            (TraceFormat::Csv, Inputs::One(input)) => {
                Box::new(plain_csv::CsvSource::open(input, ctx)?)
            }
            // `open` and `open_bytes` build the inputs from the format.
            (format, _) => {
                return Err(Error::invalid(
                    "workload.trace.format",
                    format!("the files given do not fit the format {format}"),
                ));
            }
        };
        Ok(TraceReader::new(source, self))
    }
}

/// A trace held in memory, for [`TraceSpec::open_bytes`]: each file's bytes, plain or
/// gzip-compressed.
#[derive(Clone, Debug)]
pub enum TraceBytes {
    /// The one file of an `swf`, `alibaba` or `csv` trace.
    File(Vec<u8>),
    /// The four files of an `azure` trace (see [`azure::AzureFiles`]).
    Azure {
        /// The flavour file (`v1.test.txt`).
        flavours_trace: Vec<u8>,
        /// Its duration twin (`v1.test.c2591400.txt`).
        durations: Vec<u8>,
        /// `flav_map.txt`.
        flavour_map: Vec<u8>,
        /// `v1.interval_map.txt`.
        interval_map: Vec<u8>,
    },
}

/// The inputs of one trace: one file, or the four of an Azure trace.
enum Inputs {
    One(Input),
    Azure(azure::AzureInputs),
}

/// Where a reader's bytes come from: a file, or bytes in memory with a name for
/// messages.
pub(crate) enum Input {
    /// A file on disk.
    File(PathBuf),
    /// Bytes in memory (plain or gzip).
    Memory {
        /// What messages call it.
        name: PathBuf,
        /// The content.
        data: Vec<u8>,
    },
}

impl Input {
    /// The file, or the name of the bytes.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Input::File(p) => p,
            Input::Memory { name, .. } => name,
        }
    }

    /// A buffered reader over the content, decompressing gzip (recognised by its magic
    /// bytes).
    pub(crate) fn open(self) -> Result<Box<dyn BufRead + Send>, Error> {
        match self {
            Input::File(path) => open_input(&path),
            Input::Memory { name, data } => {
                ungzip(std::io::Cursor::new(data)).map_err(|source| Error::Io {
                    path: name.clone(),
                    source,
                })
            }
        }
    }
}

/// `path` taken from `base` when it is relative.
pub(crate) fn resolve(base: Option<&Path>, path: &str) -> PathBuf {
    let p = Path::new(path);
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p.to_path_buf(),
    }
}

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

/// One field's classes: by integer value and by text value.
type FieldMap = (&'static str, BTreeMap<i64, i32>, BTreeMap<String, i32>);

/// Priority classes by trace field.
#[derive(Clone, Debug, Default)]
pub(crate) struct PriorityMap {
    /// Per field (in the format's order): integer values and text values.
    fields: Vec<FieldMap>,
}

impl PriorityMap {
    pub(crate) fn compile(
        map: &BTreeMap<String, i32>,
        format: TraceFormat,
        key: &str,
    ) -> Result<PriorityMap, Error> {
        let known = format.priority_fields();
        let mut fields: Vec<FieldMap> = known
            .iter()
            .map(|f| (*f, BTreeMap::new(), BTreeMap::new()))
            .collect();
        for (k, &prio) in map {
            let entry_key = format!("{key}.{k:?}");
            let Some((field, value)) = k.split_once(':') else {
                return Err(Error::invalid(
                    entry_key,
                    format!(
                        "expected \"<field>:<value>\" with field one of {}",
                        known.join(", ")
                    ),
                ));
            };
            let Some(slot) = fields.iter_mut().find(|(f, _, _)| *f == field.trim()) else {
                return Err(Error::invalid(
                    entry_key,
                    format!(
                        "unknown field `{field}` for format \"{format}\"; known: {}",
                        known.join(", ")
                    ),
                ));
            };
            let value = value.trim();
            slot.2.insert(value.to_string(), prio);
            if let Ok(n) = value.parse::<i64>() {
                slot.1.insert(n, prio);
            }
        }
        fields.retain(|(_, ints, strs)| !(ints.is_empty() && strs.is_empty()));
        Ok(PriorityMap { fields })
    }

    /// True if no field is mapped.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The class for integer `value` of `field`, if mapped.
    pub(crate) fn int(&self, field: &str, value: i64) -> Option<i32> {
        self.fields
            .iter()
            .find(|(f, _, _)| *f == field)
            .and_then(|(_, ints, _)| ints.get(&value).copied())
    }

    /// The class for text `value` of `field`, if mapped.
    pub(crate) fn text(&self, field: &str, value: &str) -> Option<i32> {
        self.fields
            .iter()
            .find(|(f, _, _)| *f == field)
            .and_then(|(_, _, strs)| strs.get(value).copied())
    }
}

/// What a [`TraceReader`] did: records read, VMs emitted, records skipped by reason.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceReport {
    /// The file as the user named it.
    pub file: String,
    /// The format.
    pub format: Option<TraceFormat>,
    /// Records read (data lines; for Azure, VMs), including skipped ones.
    pub records: u64,
    /// VM requests emitted.
    pub emitted: u64,
    /// Skipped records by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Kept records worth knowing about (`censored`, `memory unknown`, …).
    pub notes: BTreeMap<String, u64>,
    /// The first messages of skipped malformed lines (with `lenient`).
    pub messages: Vec<String>,
    /// Header fields of the trace, in file order.
    pub header: Vec<(String, String)>,
    /// Records that came out of order and were put back in order by the reorder buffer.
    pub reordered: u64,
    /// True if reading stopped at `limit` before the end of the trace.
    pub stopped_at_limit: bool,
    /// The most records the reorder buffer held at once (≤ `reorder_window` + 1): what the
    /// reader keeps in memory, whatever the trace's length.
    pub peak_buffered: u64,
}

impl TraceReport {
    /// Total skipped records.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// The value of header field `key` (first occurrence).
    pub fn header_value(&self, key: &str) -> Option<&str> {
        self.header
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for TraceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} records read, {} VMs",
            self.file, self.records, self.emitted
        )?;
        if self.stopped_at_limit {
            f.write_str(" (stopped at the limit)")?;
        }
        let total = self.skipped_total();
        if total > 0 {
            write!(f, "; skipped {total}:")?;
            for (i, (why, n)) in self.skipped.iter().enumerate() {
                write!(f, "{} {n} {why}", if i == 0 { "" } else { "," })?;
            }
        }
        if self.reordered > 0 {
            write!(f, "; {} put back in arrival order", self.reordered)?;
        }
        for (what, n) in &self.notes {
            write!(f, "; {n} {what}")?;
        }
        for m in &self.messages {
            write!(f, "\n  skipped: {m}")?;
        }
        Ok(())
    }
}

/// A record waiting in the reorder buffer, ordered by (arrival, file order).
struct Pending {
    arrival: SimTime,
    seq: u64,
    vm: VmRequest,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.arrival, self.seq).cmp(&(other.arrival, other.seq))
    }
}

/// Streams the VM requests of a trace in arrival order (see the [module](self) rules).
///
/// An iterator of `Result<VmRequest, Error>`: after an error it returns `None`. The
/// [`TraceReport`] ([`TraceReader::report`]) counts what was read and skipped.
pub struct TraceReader {
    source: Box<dyn RecordSource>,
    label: String,
    time_scale: f64,
    arrival_scale: f64,
    limit: u64,
    lenient: bool,
    window: usize,
    /// The reorder buffer, sorted by (arrival, file order): an in-order record is pushed
    /// at the back in O(1); a late one is inserted in place.
    heap: VecDeque<Pending>,
    seq: u64,
    last_emitted: SimTime,
    /// Largest arrival pushed so far (to count reordered records).
    max_pushed: SimTime,
    reading: bool,
    failed: bool,
    report: TraceReport,
}

impl TraceReader {
    fn new(source: Box<dyn RecordSource>, spec: &TraceSpec) -> TraceReader {
        TraceReader {
            source,
            label: spec.path.clone(),
            time_scale: spec.time_scale,
            arrival_scale: spec.time_scale / spec.load_scale,
            limit: spec.limit.unwrap_or(u64::MAX),
            lenient: spec.lenient,
            window: usize::try_from(spec.reorder_window).unwrap_or(usize::MAX),
            heap: VecDeque::new(),
            seq: 0,
            last_emitted: SimTime::ZERO,
            max_pushed: SimTime::ZERO,
            reading: true,
            failed: false,
            report: TraceReport {
                file: spec.path.clone(),
                format: Some(spec.format),
                ..TraceReport::default()
            },
        }
    }

    /// What has been read so far (complete once the iterator has returned `None`).
    pub fn report(&self) -> TraceReport {
        let mut r = self.report.clone();
        r.header = self.source.header();
        for (what, n) in self.source.notes() {
            if n > 0 {
                r.notes.insert(what.to_string(), n);
            }
        }
        r
    }

    fn skip(&mut self, why: &str) {
        *self.report.skipped.entry(why.to_string()).or_insert(0) += 1;
    }

    /// Reads one record into the buffer. `Ok(false)` at the end of the trace.
    fn fill_one(&mut self) -> Result<bool, Error> {
        let next = match self.source.next_record() {
            Ok(n) => n,
            Err(e @ Error::Invalid { .. }) if self.lenient => {
                self.report.records += 1;
                self.skip("malformed line");
                if self.report.messages.len() < KEPT_MESSAGES {
                    self.report.messages.push(e.to_string());
                }
                return Ok(true);
            }
            Err(e) => return Err(e),
        };
        match next {
            Next::End => Ok(false),
            Next::Skip(why) => {
                self.report.records += 1;
                self.skip(why);
                Ok(true)
            }
            Next::Vm(raw) => {
                self.report.records += 1;
                // Times beyond the limit on input times (scaled as they will be used).
                for (key, secs) in [
                    ("arrival", raw.arrival_s * self.arrival_scale),
                    ("runtime", raw.runtime_s * self.time_scale),
                    ("estimate", raw.estimate_s * self.time_scale),
                ] {
                    if secs > crate::limits::MAX_SECONDS {
                        if self.lenient {
                            self.skip("time beyond 5e9 s");
                            return Ok(true);
                        }
                        return Err(Error::Invalid {
                            file: Some(self.label.clone()),
                            line: Some(raw.line),
                            key: Some(key.into()),
                            message: crate::limits::too_long(secs),
                        });
                    }
                }
                let arrival = secs_to_time(raw.arrival_s * self.arrival_scale);
                if arrival < self.last_emitted {
                    if self.lenient {
                        self.skip("out of order");
                        return Ok(true);
                    }
                    return Err(Error::Invalid {
                        file: Some(self.label.clone()),
                        line: Some(raw.line),
                        key: Some("arrival".into()),
                        message: format!(
                            "out of order by more than the reorder window ({} records): \
                             arrives at {:.3} s, before {:.3} s already emitted; raise \
                             reorder_window or sort the trace",
                            self.window,
                            arrival.as_secs_f64(),
                            self.last_emitted.as_secs_f64()
                        ),
                    });
                }
                if arrival < self.max_pushed {
                    self.report.reordered += 1;
                }
                self.max_pushed = self.max_pushed.max(arrival);
                let runtime = secs_to_time(raw.runtime_s * self.time_scale);
                let estimate = secs_to_time(raw.estimate_s * self.time_scale);
                let pending = Pending {
                    arrival,
                    seq: self.seq,
                    vm: VmRequest {
                        id: 0,
                        arrival,
                        vcpus: raw.vcpus,
                        memory_mib: raw.memory_mib,
                        priority: raw.priority,
                        demand: runtime,
                        estimate,
                        tenant: raw.tenant,
                        profile: Default::default(),
                    },
                };
                match self.heap.back() {
                    Some(last) if pending < *last => {
                        let at = self.heap.partition_point(|p| *p < pending);
                        self.heap.insert(at, pending);
                    }
                    _ => self.heap.push_back(pending),
                }
                self.seq += 1;
                self.report.peak_buffered = self.report.peak_buffered.max(self.heap.len() as u64);
                Ok(true)
            }
        }
    }
}

impl Iterator for TraceReader {
    type Item = Result<VmRequest, Error>;

    fn next(&mut self) -> Option<Result<VmRequest, Error>> {
        if self.failed {
            return None;
        }
        if self.report.emitted >= self.limit {
            if self.reading || !self.heap.is_empty() {
                self.reading = false;
                self.heap.clear();
                self.report.stopped_at_limit = true;
            }
            return None;
        }
        while self.reading && self.heap.len() <= self.window {
            match self.fill_one() {
                Ok(true) => {}
                Ok(false) => self.reading = false,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        let p = self.heap.pop_front()?;
        let mut vm = p.vm;
        vm.id = self.report.emitted;
        self.report.emitted += 1;
        self.last_emitted = p.arrival;
        Some(Ok(vm))
    }
}

/// Opens `path` for reading, decompressing gzip (recognised by its magic bytes).
pub(crate) fn open_input(path: &Path) -> Result<Box<dyn BufRead + Send>, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    ungzip(BufReader::with_capacity(1 << 18, file)).map_err(io)
}

/// `reader` itself, or a gzip decoder over it when it starts with the gzip magic bytes.
fn ungzip<R: BufRead + Send + 'static>(mut reader: R) -> std::io::Result<Box<dyn BufRead + Send>> {
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(reader);
        Ok(Box::new(BufReader::with_capacity(1 << 18, gz)))
    } else {
        Ok(Box::new(reader))
    }
}

/// Reads lines (without the end of line) into a reused buffer, counting them.
pub(crate) struct LineReader {
    input: Box<dyn BufRead + Send>,
    path: PathBuf,
    /// 1-based number of the line last read (0 before the first).
    pub line: u64,
    buf: Vec<u8>,
}

impl LineReader {
    pub(crate) fn open(input: Input) -> Result<LineReader, Error> {
        Ok(LineReader {
            path: input.path().to_path_buf(),
            input: input.open()?,
            line: 0,
            buf: Vec::with_capacity(256),
        })
    }

    /// The next line (without `\n` / `\r\n`) with its 1-based number, or `None` at the
    /// end.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, Error> {
        self.buf.clear();
        let cap = crate::limits::MAX_TRACE_LINE_BYTES;
        let n = (&mut self.input)
            .take(cap + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.len() as u64 > cap && self.buf.last() != Some(&b'\n') {
            self.buf = Vec::with_capacity(256);
            // Skip the rest of the line without holding it.
            loop {
                let chunk = self.input.fill_buf().map_err(|source| Error::Io {
                    path: self.path.clone(),
                    source,
                })?;
                if chunk.is_empty() {
                    break;
                }
                match chunk.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        self.input.consume(i + 1);
                        break;
                    }
                    None => {
                        let n = chunk.len();
                        self.input.consume(n);
                    }
                }
            }
            return Err(Error::Invalid {
                file: Some(self.path.display().to_string()),
                line: Some(self.line),
                key: None,
                message: format!(
                    "line longer than {} MiB: not a trace line (no line break?)",
                    cap >> 20
                ),
            });
        }
        let mut end = self.buf.len();
        if end > 0 && self.buf[end - 1] == b'\n' {
            end -= 1;
        }
        if end > 0 && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        Ok(Some((self.line, &self.buf[..end])))
    }
}

/// A CSV reader over a (possibly gzip) file, with trimmed fields.
pub(crate) fn csv_reader(input: Input) -> Result<csv::Reader<Box<dyn Read + Send>>, Error> {
    let input: Box<dyn Read + Send> = Box::new(input.open()?);
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input))
}

/// An [`Error::Invalid`] at `file:line: key: message`.
pub(crate) fn bad(
    file: &str,
    line: u64,
    key: impl Into<String>,
    message: impl Into<String>,
) -> Error {
    let mut message: String = message.into();
    // A message quotes the bad cell; a cell of megabytes is cut (at a character boundary).
    const MAX_MESSAGE: usize = 200;
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str("… (cut)");
    }
    Error::Invalid {
        file: Some(file.to_string()),
        line: Some(line),
        key: Some(key.into()),
        message,
    }
}

/// Whole vCPUs for a fractional request: rounded up, at least 1.
pub(crate) fn whole_vcpus(cpus: f64) -> u32 {
    let c = cpus.ceil();
    if c.is_nan() || c < 1.0 {
        1
    } else if c >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        c as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source replaying a fixed list.
    struct Fixed(std::vec::IntoIter<Result<Next, Error>>);
    impl RecordSource for Fixed {
        fn next_record(&mut self) -> Result<Next, Error> {
            self.0.next().unwrap_or(Ok(Next::End))
        }
        fn header(&self) -> Vec<(String, String)> {
            Vec::new()
        }
    }

    fn vm(line: u64, arrival_s: f64) -> Result<Next, Error> {
        Ok(Next::Vm(RawVm {
            line,
            arrival_s,
            runtime_s: 1.0,
            estimate_s: 1.0,
            vcpus: 1,
            memory_mib: 0,
            priority: 0,
            tenant: None,
        }))
    }

    fn reader(items: Vec<Result<Next, Error>>, spec: &TraceSpec) -> TraceReader {
        TraceReader::new(Box::new(Fixed(items.into_iter())), spec)
    }

    fn arrivals(r: &mut TraceReader) -> Vec<f64> {
        r.by_ref()
            .map(|v| v.unwrap().arrival.as_secs_f64())
            .collect()
    }

    #[test]
    fn reorders_within_the_window_and_numbers_in_arrival_order() {
        let mut spec = TraceSpec::new(TraceFormat::Csv, "t.csv");
        spec.reorder_window = 2;
        // 5, 3, 4, 9, 9, 8: each late record is at most 2 records late.
        let items = [5.0, 3.0, 4.0, 9.0, 9.0, 8.0]
            .iter()
            .enumerate()
            .map(|(i, &a)| vm(i as u64 + 2, a))
            .collect();
        let mut r = reader(items, &spec);
        let vms: Vec<VmRequest> = r.by_ref().map(|v| v.unwrap()).collect();
        let got: Vec<f64> = vms.iter().map(|v| v.arrival.as_secs_f64()).collect();
        assert_eq!(got, [3.0, 4.0, 5.0, 8.0, 9.0, 9.0]);
        assert_eq!(
            vms.iter().map(|v| v.id).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5]
        );
        let rep = r.report();
        // 3 (after 5), 4 (after 5) and 8 (after 9) came late.
        assert_eq!((rep.records, rep.emitted, rep.reordered), (6, 6, 3));
    }

    #[test]
    fn too_late_is_an_error_or_skipped_when_lenient() {
        let mut spec = TraceSpec::new(TraceFormat::Csv, "t.csv");
        spec.reorder_window = 0;
        let items = || vec![vm(2, 5.0), vm(3, 3.0), vm(4, 6.0)];
        let mut r = reader(items(), &spec);
        assert_eq!(r.next().unwrap().unwrap().arrival, SimTime::from_secs(5));
        let e = r.next().unwrap().unwrap_err().to_string();
        assert!(e.starts_with("t.csv:3: arrival: out of order"), "{e}");
        assert!(r.next().is_none());

        spec.lenient = true;
        let mut r = reader(items(), &spec);
        assert_eq!(arrivals(&mut r), [5.0, 6.0]);
        assert_eq!(r.report().skipped.get("out of order"), Some(&1));
    }

    #[test]
    fn scaling_limit_and_lenient_malformed_lines() {
        let mut spec = TraceSpec::new(TraceFormat::Csv, "t.csv");
        spec.time_scale = 2.0;
        spec.load_scale = 4.0;
        spec.lenient = true;
        let items = vec![
            vm(2, 4.0),
            Err(bad("t.csv", 3, "runtime_s", "not a number: `x`")),
            Ok(Next::Skip("zero runtime")),
            vm(5, 8.0),
            vm(6, 12.0),
        ];
        let mut r = reader(items, &spec);
        let vms: Vec<VmRequest> = r.by_ref().map(|v| v.unwrap()).collect();
        // arrival × 2 / 4: 4 → 2 s, 8 → 4 s, 12 → 6 s; runtime 1 s × 2 = 2 s.
        let got: Vec<f64> = vms.iter().map(|v| v.arrival.as_secs_f64()).collect();
        assert_eq!(got, [2.0, 4.0, 6.0]);
        assert!(vms.iter().all(|v| v.demand == SimTime::from_secs(2)));
        let rep = r.report();
        assert_eq!((rep.records, rep.emitted, rep.skipped_total()), (5, 3, 2));
        assert_eq!(rep.messages, ["t.csv:3: runtime_s: not a number: `x`"]);

        spec.limit = Some(2);
        spec.lenient = false;
        let mut r = reader(vec![vm(2, 1.0), vm(3, 2.0), vm(4, 3.0)], &spec);
        assert_eq!(r.by_ref().count(), 2);
        assert!(r.report().stopped_at_limit);
    }

    #[test]
    fn priority_map_keys_are_checked() {
        let mut m = BTreeMap::new();
        m.insert("queue:2".to_string(), 3);
        m.insert("user:7".to_string(), -1);
        let p = PriorityMap::compile(&m, TraceFormat::Swf, "p").unwrap();
        assert_eq!(p.int("queue", 2), Some(3));
        assert_eq!(p.int("queue", 1), None);
        assert_eq!(p.int("user", 7), Some(-1));
        m.insert("qos:BE".to_string(), 1);
        let e = PriorityMap::compile(&m, TraceFormat::Swf, "p").unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.\"qos:BE\": unknown field `qos` for format \"swf\"; known: user, group, queue, partition"
        );
        let mut m = BTreeMap::new();
        m.insert("BE".to_string(), 1);
        assert!(PriorityMap::compile(&m, TraceFormat::Alibaba, "p").is_err());
    }

    #[test]
    fn formats_are_guessed_from_names() {
        let g = |p: &str| TraceFormat::guess(Path::new(p));
        assert_eq!(g("x/UniLu-Gaia-2014-2.swf.gz"), Some(TraceFormat::Swf));
        assert_eq!(g("openb_pod_list_default.csv"), Some(TraceFormat::Alibaba));
        assert_eq!(g("v1.test.txt"), Some(TraceFormat::Azure));
        assert_eq!(g("mine.csv.gz"), Some(TraceFormat::Csv));
        assert_eq!(g("notes.md"), None);
        // ceil, at least 1: 3.152 → 4, 0.5 → 1, 0 → 1.
        assert_eq!(whole_vcpus(3.152), 4);
        assert_eq!(whole_vcpus(0.5), 1);
        assert_eq!(whole_vcpus(0.0), 1);
    }
}
