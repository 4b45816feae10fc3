//! The limits vmsched puts on its inputs, so that absurd values give a clear error instead
//! of a run that lasts for days or exhausts memory.
//!
//! | what | limit | why |
//! |---|---|---|
//! | any time read from an input (arrival, runtime, service parameter) | 5·10⁹ s (158 years: Unix timestamps fit) | the engine's clock is a `u64` of nanoseconds (584 years); the margin leaves room for an arrival plus a runtime plus queueing |
//! | a scenario file, a textbook table, a calibration profile | 4 MiB | files are parsed whole; TOML takes about 40 bytes of memory per byte of a long list |
//! | entries of an empirical distribution or a weighted choice | 100 000 | each is held in memory and sampled |
//! | replications | 10 000 | every replication's summary is kept for the confidence intervals |
//! | pCPUs over all hosts | 10⁷ | about 90 bytes of engine state each (measured: 10⁷ pCPUs, 0.87 GB peak) |
//! | estimated events per replication | `run.max_events`, default 10¹⁰ | about half an hour of engine time at 5 M events/s; raise it to run a longer job |
//! | textbook processes / slices | 10 000 / 10⁶ | every slice is kept for the Gantt chart |
//! | sweep cells / runs | 10⁵ / 10⁷ | every cell's scenario is built and checked before the first run |
//!
//! Traces are streamed, so their length is not limited; one record's times are.

use std::io::Read;
use std::path::Path;

use crate::Error;
use crate::scenario::Scenario;

/// Largest time, in seconds, accepted from any input: 5·10⁹ s (158 years).
pub const MAX_SECONDS: f64 = 5e9;
/// Largest scenario file, textbook table or calibration profile, in bytes (4 MiB).
pub const MAX_FILE_BYTES: u64 = 4 << 20;
/// Most entries in an empirical distribution's quantiles or a weighted choice's values.
pub const MAX_LIST_LEN: usize = 100_000;
/// Longest line of a trace file (bytes): a longer one is an error, so that a file without
/// line breaks cannot fill memory.
pub const MAX_TRACE_LINE_BYTES: u64 = 16 << 20;
/// Most replications of a run, a sweep cell or a capacity search.
pub const MAX_REPLICATIONS: u64 = 10_000;
/// Most pCPUs over all hosts of a scenario.
pub const MAX_TOTAL_PCPUS: u64 = 10_000_000;
/// Default of `[run] max_events`: the most events a replication may be expected to take.
pub const DEFAULT_MAX_EVENTS: f64 = 1e10;
/// Most cells (combinations of `--set` values) in a sweep.
pub const MAX_SWEEP_CELLS: u64 = 100_000;
/// Most runs (cells × policies × replications) in a sweep.
pub const MAX_SWEEP_RUNS: u64 = 10_000_000;
/// Most processes in a textbook table.
pub const MAX_TEXTBOOK_PROCESSES: usize = 10_000;
/// Most slices a textbook schedule may be expected to have (each one is drawn).
pub const MAX_TEXTBOOK_SLICES: f64 = 1e6;

/// Reads a text file of at most [`MAX_FILE_BYTES`]; `label` names it in messages.
pub fn read_bounded(path: &Path, label: &str) -> Result<String, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    // Read one byte past the limit to tell "exactly at the limit" from "beyond it".
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::Invalid {
            file: Some(label.to_string()),
            line: None,
            key: None,
            message: format!(
                "larger than {} MiB: not read (vmsched reads these files whole)",
                MAX_FILE_BYTES >> 20
            ),
        });
    }
    Ok(text)
}

/// `Ok` if a list under `key` has at most [`MAX_LIST_LEN`] entries.
pub fn check_list_len(key: &str, len: usize) -> Result<(), Error> {
    if len > MAX_LIST_LEN {
        return Err(Error::invalid(
            key,
            format!("has {len} entries; at most {MAX_LIST_LEN} are supported"),
        ));
    }
    Ok(())
}

/// `Ok` if `seconds` (already known to be finite and ≥ 0) is at most [`MAX_SECONDS`].
pub fn check_seconds(key: &str, seconds: f64) -> Result<(), Error> {
    if seconds > MAX_SECONDS {
        return Err(Error::invalid(key, too_long(seconds)));
    }
    Ok(())
}

/// The message for a time beyond [`MAX_SECONDS`].
pub fn too_long(seconds: f64) -> String {
    format!("{seconds:e} s is beyond the 5e9 s (158 years) vmsched accepts")
}

/// The first number in a TOML text that is NaN or infinite (TOML allows `nan` and
/// `inf`), as `(dotted key, value, 1-based line)`; `None` if there is none or the text is
/// not TOML (its parser reports that). For files whose fields take any float, such as
/// calibration profiles.
pub fn first_non_finite(text: &str) -> Option<(String, f64, Option<u64>)> {
    fn walk(v: &toml::Value, path: &mut Vec<String>) -> Option<(String, f64)> {
        match v {
            toml::Value::Float(f) if !f.is_finite() => Some((path.join("."), *f)),
            toml::Value::Table(t) => t.iter().find_map(|(k, v)| {
                path.push(k.clone());
                let found = walk(v, path);
                path.pop();
                found
            }),
            toml::Value::Array(a) => a.iter().find_map(|v| walk(v, path)),
            _ => None,
        }
    }
    let table: toml::Table = toml::from_str(text).ok()?;
    let (key, value) = walk(&toml::Value::Table(table), &mut Vec::new())?;
    Some((key.clone(), value, line_of_key(text, &key)))
}

/// The 1-based line of `table.key = …` in a TOML text written with `[table]` headers
/// (the first line after the header that starts with the key), if found.
fn line_of_key(text: &str, dotted: &str) -> Option<u64> {
    let (table, key) = dotted.rsplit_once('.').unwrap_or(("", dotted));
    let mut in_table = table.is_empty();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_table = t.trim_matches(|c| c == '[' || c == ']').trim() == table;
        } else if in_table
            && let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(i as u64 + 1);
        }
    }
    None
}

/// What a replication of a synthetic scenario may be expected to cost, in events, and the
/// key whose value contributes most (for the error message).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventEstimate {
    /// Expected events per replication (an upper estimate for round robin).
    pub events: f64,
    /// The key that contributes most: `run.vms`, `cpu.quantum_ms`, `workload.io` or
    /// `run.timeline_s`.
    pub key: &'static str,
}

/// Estimates the events of one replication of a synthetic scenario: per VM an arrival,
/// and per vCPU a dispatch and a finish, plus up to `service / quantum` quantum expiries
/// under round robin, two events per I/O request, and the timeline samples (makespan ≈
/// `vms / arrival rate`, one row per host and device at each sample). `None` for a trace
/// workload (its length is that of the file) or parameters that do not give a number.
pub fn estimate_events(s: &Scenario) -> Option<EventEstimate> {
    let w = &s.workload;
    if w.trace.is_some() {
        return None;
    }
    let vms = s.run.vms as f64;
    let vcpus = vms * w.vcpus.mean();
    let service = w.service.as_ref()?.mean();
    let mut parts = vec![("run.vms", vms + 2.0 * vcpus)];
    if s.cpu.policy == "rr" {
        parts.push((
            "cpu.quantum_ms",
            vcpus * service / (s.cpu.quantum_ms * 1e-3),
        ));
    }
    if let Some(io) = &w.io {
        let per_vcpu = match (io.requests, io.burst_ms) {
            (Some(n), _) => n as f64,
            (None, Some(ms)) => service / (ms * 1e-3),
            (None, None) => 0.0,
        };
        parts.push(("workload.io", 2.0 * vcpus * io.fraction * per_vcpu));
    }
    if let (Some(t), Some(arrival)) = (s.run.timeline_s, w.arrival.as_ref()) {
        let makespan = vms / (arrival.rate_per_s() * w.load_scale) + service;
        let rows: f64 = s
            .hosts
            .iter()
            .map(|h| f64::from(h.count) * (1.0 + h.devices.len() as f64))
            .sum();
        parts.push(("run.timeline_s", makespan / t * rows.max(1.0)));
    }
    let events: f64 = parts.iter().map(|p| p.1).sum();
    let key = parts
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("run.vms", |p| p.0);
    (events.is_finite() || events == f64::INFINITY).then_some(EventEstimate { events, key })
}

/// Checks the scenario against the limits above that are not checked where the value is
/// read: replications, total pCPUs and the event estimate.
pub fn check_scenario(s: &Scenario) -> Result<(), Error> {
    if s.run.replications > MAX_REPLICATIONS {
        return Err(Error::invalid(
            "run.replications",
            format!(
                "at most {MAX_REPLICATIONS} are supported, got {}",
                s.run.replications
            ),
        ));
    }
    let pcpus = s.total_pcpus();
    if pcpus > MAX_TOTAL_PCPUS {
        return Err(Error::invalid(
            "hosts",
            format!(
                "{pcpus} pCPUs over all hosts; at most {MAX_TOTAL_PCPUS} are supported \
                 (about 90 bytes of memory each)"
            ),
        ));
    }
    let max = s.run.max_events.unwrap_or(DEFAULT_MAX_EVENTS);
    if !(max.is_finite() && max > 0.0) {
        return Err(Error::invalid(
            "run.max_events",
            format!("must be a finite number > 0, got {max}"),
        ));
    }
    if let Some(e) = estimate_events(s)
        && e.events > max
    {
        return Err(Error::invalid(
            e.key,
            format!(
                "this run would take about {:.1e} events per replication (more than \
                 run.max_events = {max:.0e}: hours of work); make it smaller, or raise \
                 [run] max_events to run it anyway",
                e.events
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[run]
vms = 1000
[[hosts]]
pcpus = 4
memory_gib = 64
[workload]
arrival = { process = "poisson", rate_per_s = 2.0 }
service = { dist = "exponential", mean_s = 10.0 }
vcpus = 2
"#;

    fn err(text: &str) -> String {
        match Scenario::from_toml_str(text, "s.toml") {
            Ok(_) => "accepted".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn event_estimate_by_hand() {
        let mut s = Scenario::from_toml_str(BASE, "s.toml").unwrap();
        // 1000 arrivals + 2 events × 2000 vCPUs = 5000.
        assert_eq!(estimate_events(&s).unwrap().events, 5000.0);
        s.cpu.policy = "rr".into();
        s.cpu.quantum_ms = 1.0;
        // + 2000 vCPUs × 10 s / 1 ms = 20 000 000 quantum expiries.
        let e = estimate_events(&s).unwrap();
        assert_eq!(e.events, 5000.0 + 2e7);
        assert_eq!(e.key, "cpu.quantum_ms");
        s.run.timeline_s = Some(0.5);
        // makespan ≈ 1000 / 2 + 10 = 510 s → 1020 samples of 1 host row.
        assert_eq!(estimate_events(&s).unwrap().events, 5000.0 + 2e7 + 1020.0);
    }

    #[test]
    fn absurd_runs_are_refused_with_the_key_that_makes_them_absurd() {
        assert_eq!(
            err(&BASE.replace("vms = 1000", "vms = 1000000000000")),
            "s.toml:3: run.vms: this run would take about 5.0e12 events per replication \
             (more than run.max_events = 1e10: hours of work); make it smaller, or raise \
             [run] max_events to run it anyway"
        );
        // A 1 ns quantum on 10 s of service per vCPU: 1000 × 2 × 10^10 expiries.
        let rr = BASE.replace(
            "vcpus = 2",
            "vcpus = 2\n[cpu]\npolicy = \"rr\"\nquantum_ms = 1e-6",
        );
        assert!(
            err(&rr).starts_with("s.toml:13: cpu.quantum_ms: this run would take about 2.0e13"),
            "{}",
            err(&rr)
        );
        // Raising the budget lets it through.
        let raised = rr.replace("vms = 1000", "vms = 1000\nmax_events = 1e14");
        assert_eq!(err(&raised), "accepted");
        assert_eq!(
            err(&BASE.replace("vms = 1000", "vms = 1000\nreplications = 1000000000")),
            "s.toml:4: run.replications: at most 10000 are supported, got 1000000000"
        );
        assert_eq!(
            err(&BASE.replace("pcpus = 4", "pcpus = 4000000000")),
            "s.toml:4: hosts: 4000000000 pCPUs over all hosts; at most 10000000 are \
             supported (about 90 bytes of memory each)"
        );
        assert!(
            err(&BASE.replace("vms = 1000", "vms = 1000\nmax_events = nan"))
                .contains("run.max_events: must be a finite number > 0, got NaN")
        );
    }

    #[test]
    fn non_finite_numbers_are_found_with_their_line() {
        let text = "[a]\nx = 1.0\n\n[b]\ny = 2.0\nmedian = nan\n";
        assert_eq!(
            first_non_finite(text).map(|(k, v, l)| (k, v.is_nan(), l)),
            Some(("b.median".to_string(), true, Some(6)))
        );
        assert_eq!(
            first_non_finite("z = -inf\n"),
            Some(("z".to_string(), f64::NEG_INFINITY, Some(1)))
        );
        assert_eq!(first_non_finite("[a]\nx = 1e308\n"), None);
    }

    #[test]
    fn files_beyond_the_size_limit_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert_eq!(
            read_bounded(&path, "big.toml").unwrap_err().to_string(),
            "big.toml: larger than 4 MiB: not read (vmsched reads these files whole)"
        );
        std::fs::write(&path, vec![b'#'; MAX_FILE_BYTES as usize]).unwrap();
        assert_eq!(read_bounded(&path, "big.toml").unwrap().len(), 4 << 20);
    }
}
