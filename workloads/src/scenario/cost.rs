//! What a scenario costs (expected events per replication) and its checks against the
//! limits on replications, pCPUs and events (see [`crate::limits`]).

use super::Scenario;
use crate::error::Error;
use crate::limits::{DEFAULT_MAX_EVENTS, MAX_REPLICATIONS, MAX_TOTAL_PCPUS};

/// What a replication of a synthetic scenario may be expected to cost, in events, and the
/// key whose value contributes most (for the error message).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventEstimate {
    /// Expected events per replication (an upper estimate for round robin).
    pub events: f64,
    /// The key that contributes most: `run.vms`, `cpu.quantum_ms` (or `cpu.slice_ms`),
    /// `workload.io` or `run.timeline_s`.
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
    if let Ok(e) = sim::policy::find_cpu(&s.cpu.policy)
        && e.time_sliced
    {
        // The slice: `slice_ms`, else the policy's default on the smallest host, else
        // `quantum_ms`.
        let pcpus = s.hosts.iter().map(|h| h.pcpus).min().unwrap_or(1);
        let (key, slice_s) = match (s.cpu.slice_ms, (e.build)().default_slice(pcpus)) {
            (Some(ms), _) => ("cpu.slice_ms", ms * 1e-3),
            (None, Some(t)) => ("cpu.slice_ms", t.as_secs_f64()),
            (None, None) => ("cpu.quantum_ms", s.cpu.quantum_ms * 1e-3),
        };
        parts.push((key, vcpus * service / slice_s));
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
}
