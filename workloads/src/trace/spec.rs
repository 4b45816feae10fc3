//! `[workload] trace = { … }`: what a scenario says about its trace, and its checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::format::{TraceEstimate, TraceFormat};
use super::input::resolve;
use super::priority::PriorityMap;
use crate::check::check_positive;
use crate::error::Error;

/// Default size of the reorder buffer, in records.
pub const DEFAULT_REORDER_WINDOW: u64 = 1024;

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
        check_positive(&k("time_scale"), self.time_scale)?;
        check_positive(&k("load_scale"), self.load_scale)?;
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
            check_positive(&k("horizon_s"), h)?;
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
}
