//! Scenario files: everything needed to reproduce a run, in TOML.
//!
//! ```toml
//! [run]        # seed (default 1), vms (default 10000), warmup_vms (default 0), replications (default 1)
//! [[hosts]]    # count (default 1), pcpus, memory_gib, overcommit ("unlimited" or a ratio, default 1.0),
//!              # memory_overcommit (same, default 1.0)
//! [cluster]    # placement = "first-fit" | "best-fit" | "worst-fit" (default first-fit)
//! [admission]  # policy (default "fcfs"), aging_per_s (default 0), head_of_line = "strict" | "skip",
//!              # backfill = "none" | "easy" | "conservative"
//! [cpu]        # policy (default "fcfs"), quantum_ms (default 100), context_switch_us (default 0);
//!              # for mlfq: levels (default 3), quantum_growth (default 1), demote, boost_s
//! [workload]   # arrival (required), vcpus (default 1), memory_gib (default 0), service (required),
//!              # priority (default 0), estimate (default "exact"), load_scale (default 1)
//!              # — or trace = { format, path, … } instead of arrival and service
//! ```
//!
//! A trace workload (`[workload] trace = { format = "swf", path = "…" }`, see
//! [`crate::trace::TraceSpec`]) streams VMs from a file instead of drawing them; its paths
//! are relative to the scenario file. `[cluster] node_list = "nodes.csv"` adds the hosts of
//! a node list (see [`crate::trace::nodes`]) after the `[[hosts]]` groups, which may then
//! be left out.
//!
//! See `examples/default.toml` in this crate ([`Scenario::builtin_default_toml`]) for a
//! complete file. Unknown keys are errors, and every error names the file, the line and the
//! key: `scenario.toml:12: workload.arrival.rate_per_s: must be > 0, got -3`.
//!
//! Conventions of the generated workload (see [`crate::generator::Generator`]): the first
//! VM arrives one inter-arrival time after 0; `vms` VMs are generated with ids `0..vms` in
//! arrival order; `memory_gib` defaults to 0 (the VM reserves no memory).

mod config;
mod cost;
mod default;
mod overcommit;
mod serde_helpers;
mod spec;
#[cfg(test)]
mod tests;
mod validate;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::check::is_not_one_of;
use crate::error::Error;
use crate::generator::Generator;
use crate::resources::EventSettings;
use crate::spans::Doc;
use crate::workload::Workload;

pub use crate::limits::{MAX_DEVICES, MAX_HOSTS};
pub use crate::units::PageSize;
pub use crate::workload_spec::{Arrival, Estimate, WorkloadSpec};
pub use cost::{EventEstimate, check_scenario, estimate_events};
pub use overcommit::Overcommit;
pub use spec::{AdmissionSettings, ClusterSettings, CpuSettings, HostGroup, RunSettings};

/// A complete scenario. Fields are public so that a front end can override them (seed,
/// replications, vms, policies); call [`Scenario::validate`] after changing them (it is
/// also called by [`Scenario::sim_config`] and [`Scenario::workload`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// `[run]`: seed, size and replications.
    #[serde(default)]
    pub run: RunSettings,
    /// `[[hosts]]`: groups of identical hosts, numbered from 0 in order.
    #[serde(default)]
    pub hosts: Vec<HostGroup>,
    /// `[cluster]`: placement.
    #[serde(default)]
    pub cluster: ClusterSettings,
    /// `[admission]`: the VM-queue level.
    #[serde(default)]
    pub admission: AdmissionSettings,
    /// `[cpu]`: the vCPU run-queue level.
    #[serde(default)]
    pub cpu: CpuSettings,
    /// `[workload]`: the VM stream.
    pub workload: WorkloadSpec,
    /// `[[events]]`: lifecycle events (pause, resume, stop) at given times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventSettings>,
    /// `[migration]`: live migration's link and thresholds (default none: nothing
    /// migrates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<crate::migration::MigrationSettings>,
    /// `[consolidation]`: a policy migrating VMs every interval (default none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consolidation: Option<crate::migration::ConsolidationSettings>,
    /// The folder relative paths (traces, node lists) are taken from: the scenario file's
    /// folder when it was loaded from a file, else the current folder.
    #[serde(skip)]
    base_dir: BaseDir,
}

/// A folder that never makes two scenarios unequal (where a scenario was read from is
/// not part of what it says).
#[derive(Clone, Debug, Default)]
struct BaseDir(Option<PathBuf>);

impl PartialEq for BaseDir {
    fn eq(&self, _: &BaseDir) -> bool {
        true
    }
}

impl Scenario {
    /// Parses and checks a scenario. `file_label` names the source in error messages
    /// (usually the path as the user typed it).
    pub fn from_toml_str(text: &str, file_label: &str) -> Result<Scenario, Error> {
        let scenario: Scenario =
            toml::from_str(text).map_err(|e| toml_error(&e, text, file_label))?;
        scenario
            .validate()
            .map_err(|e| locate(e, text, file_label))?;
        Ok(scenario)
    }

    /// Reads and checks the scenario file at `path`. Relative paths inside it (traces,
    /// node lists) are taken from the file's folder.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let label = path.display().to_string();
        let text = crate::limits::read_bounded(path, &label)?;
        let mut s = Scenario::from_toml_str(&text, &label)?;
        s.set_base_dir(path.parent().map(Path::to_path_buf));
        Ok(s)
    }

    /// Sets the folder that relative paths (traces, node lists) are taken from (`None`:
    /// the current folder).
    pub fn set_base_dir(&mut self, dir: Option<PathBuf>) {
        self.base_dir = BaseDir(dir.filter(|d| !d.as_os_str().is_empty()));
    }

    /// The folder relative paths are taken from, if not the current one.
    pub fn base_dir(&self) -> Option<&Path> {
        self.base_dir.0.as_deref()
    }

    /// True if the workload is read from a trace.
    pub fn is_trace(&self) -> bool {
        self.workload.trace.is_some()
    }

    /// Caps the number of VMs: `run.vms` for a synthetic workload, the trace's `limit` for
    /// a trace. The warm-up is cut to at most a tenth of it.
    pub fn set_vms(&mut self, vms: u64) {
        self.run.vms = vms;
        self.run.warmup_vms = self.run.warmup_vms.min(vms / 10);
        if let Some(t) = &mut self.workload.trace {
            t.limit = Some(vms);
        }
    }

    /// A short description of the workload for progress messages: `20000 VMs` or
    /// `trace swf UniLu-Gaia-2014-2.swf.gz`.
    pub fn describe_workload(&self) -> String {
        match &self.workload.trace {
            None => format!("{} VMs", self.run.vms),
            Some(t) => {
                let mut d = format!("trace {} {}", t.format, t.path);
                if let Some(l) = t.limit {
                    d.push_str(&format!(" (at most {l} VMs)"));
                }
                d
            }
        }
    }

    /// Sets both policy levels (names are checked by [`Scenario::validate`]).
    pub fn set_policy(&mut self, admission: &str, cpu: &str) {
        self.admission.policy = admission.to_string();
        self.cpu.policy = cpu.to_string();
    }

    /// The scenario as TOML (for the `run.toml` record); parsing it gives back an equal
    /// scenario.
    pub fn to_toml_string(&self) -> String {
        match toml::to_string(self) {
            Ok(s) => s,
            // Unreachable for these types (every field is a plain value or table); kept as
            // a comment rather than a panic so a record is still written.
            Err(e) => format!("# the scenario could not be written as TOML: {e}\n"),
        }
    }

    /// Total pCPUs over all hosts.
    pub fn total_pcpus(&self) -> u64 {
        self.hosts
            .iter()
            .map(|h| u64::from(h.count) * u64::from(h.pcpus))
            .sum()
    }

    /// Offered load λ · load_scale · E\[vcpus\] · E\[service\] / total pCPUs of the
    /// `[[hosts]]`, for display; `None` if it is not a finite number (no pCPUs, invalid
    /// parameters), for a trace, or with a node list (unknown without reading it).
    pub fn offered_load(&self) -> Option<f64> {
        let w = &self.workload;
        let pcpus = self.total_pcpus();
        if pcpus == 0 || w.trace.is_some() || self.cluster.node_list.is_some() {
            return None;
        }
        let (arrival, service) = (w.arrival.as_ref()?, w.service.as_ref()?);
        let load =
            arrival.rate_per_s() * w.load_scale * w.vcpus.mean() * service.mean() / pcpus as f64;
        load.is_finite().then_some(load)
    }

    /// The VM requests of replication `replication`, streamed, ids `0, 1, …` in arrival
    /// order: `run.vms` of them drawn from the synthetic workload (replications use
    /// independent random streams derived from `run.seed`), or the trace read from its
    /// file (`run.vms` is not used; `limit` caps it). A trace that fails part-way ends the
    /// stream early; [`Workload::finish`] returns the error.
    pub fn workload(&self, replication: u64) -> Result<Workload, Error> {
        self.validate()?;
        match &self.workload.trace {
            None => Ok(Workload::Synthetic(Generator::new(
                &self.workload,
                self.run.seed,
                replication,
                self.run.vms,
            )?)),
            Some(t) => {
                let mut spec = t.clone();
                spec.load_scale *= self.workload.load_scale;
                Ok(Workload::trace(spec.open(
                    self.base_dir(),
                    self.run.seed,
                    replication,
                )?))
            }
        }
    }
}

/// Ties a [`toml::de::Error`] to the file, line and key it is about.
///
/// A name outside a closed set ([`crate::names`]) names its key with plain indices,
/// `hosts.0.devices.1.kind`, as the checks of values do; other parse errors name it as
/// the document is written, `hosts[0].devices[1]`.
fn toml_error(e: &toml::de::Error, text: &str, file: &str) -> Error {
    let doc = Doc::parse(text);
    // A span of 0..0 is the whole document (e.g. a missing top-level table).
    let span = e.span().filter(|s| !(s.start == 0 && s.end == 0));
    let message = e.message().trim_end().to_string();
    let mut key = span.as_ref().and_then(|s| doc.key_at(s.clone()));
    if is_not_one_of(&message) {
        key = key.map(|k| k.replace('[', ".").replace(']', ""));
    }
    Error::Invalid {
        file: Some(file.to_string()),
        line: span.as_ref().map(|s| doc.line_of(s.start)),
        key,
        message,
    }
}

/// Adds the file and the line of its key to a validation error.
fn locate(e: Error, text: &str, file: &str) -> Error {
    match e {
        Error::Invalid {
            file: None,
            line: None,
            key,
            message,
        } => Error::Invalid {
            file: Some(file.to_string()),
            line: key
                .as_deref()
                .and_then(|k| Doc::parse(text).line_of_path(k)),
            key,
            message,
        },
        other => other,
    }
}
