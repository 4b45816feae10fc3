//! The `recorded` row of a comparison on an SWF trace: the waits the cluster itself gave
//! its jobs (SWF field 3, wait time), summarised exactly as a simulated run's are, so that
//! a planner sees how close each policy comes to what the cluster did.
//!
//! Each VM the scenario's trace yields (the same records: skips, `limit`, `time_scale`)
//! with a recorded wait becomes a record that arrived at its submit time, started
//! `wait` later and ran its run time; records without a wait (`-1`) are left out. The
//! summary goes through [`sim::metrics::Metrics`], so mean, p95 and p99 are defined as for
//! every other row. Utilisation is not known from the log and stays undefined.

use sim::metrics::{Metrics, RunSummary};
use sim::observer::{Observer, VmRecord};
use sim::{RunStats, SimTime};
use workloads::scenario::Scenario;
use workloads::trace::TraceFormat;

use crate::error::Result;

/// The label of the row.
pub const RECORDED: &str = "recorded";

/// The summary of the trace's own waits, when the scenario replays an SWF trace that
/// records any (`None` for a synthetic workload or another format).
pub fn recorded_summary(scenario: &Scenario) -> Result<Option<RunSummary>> {
    let Some(spec) = &scenario.workload.trace else {
        return Ok(None);
    };
    if spec.format != TraceFormat::Swf {
        return Ok(None);
    }
    let mut spec = spec.clone();
    spec.load_scale *= scenario.workload.load_scale;
    let mut reader = spec.open(scenario.base_dir(), scenario.run.seed, 0)?;
    reader.keep_recorded_waits();
    let mut metrics = Metrics::new();
    let mut vms: Vec<(SimTime, SimTime, u32, i32, Option<u32>, u64)> = Vec::new();
    for vm in reader.by_ref() {
        let vm = vm?;
        vms.push((
            vm.arrival,
            vm.demand,
            vm.vcpus,
            vm.priority,
            vm.tenant,
            vm.memory_mib,
        ));
    }
    let waits = reader.recorded_waits().unwrap_or(&[]);
    let mut kept = 0u64;
    for (id, (&(arrival, demand, vcpus, priority, tenant, memory_mib), &w)) in
        vms.iter().zip(waits).enumerate()
    {
        // (NaN, no recorded wait, gives none.)
        let Some(wait) = SimTime::from_secs_f64(w) else {
            continue;
        };
        kept += 1;
        let start = arrival.saturating_add(wait);
        metrics.on_vm_finished(&VmRecord {
            id: id as u64,
            vcpus,
            memory_mib,
            priority,
            tenant,
            arrival,
            admission: start,
            first_run: start,
            finish: start.saturating_add(demand),
            service: demand,
            estimate: demand,
            ..VmRecord::default()
        });
    }
    if kept == 0 {
        return Ok(None);
    }
    let mut summary = metrics.summary(&RunStats::default());
    summary.cpu_utilization = f64::NAN;
    Ok(Some(summary))
}
