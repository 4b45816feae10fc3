//! One policy, replayed on KVM and simulated with the profile: what `vmsched validate` does
//! for each policy.

use std::time::Duration;

use kvm_ioctls::Kvm;
use sim::observer::Collect;
use sim::{SliceRecord, VmRecord, VmRequest};
use workloads::Scenario;

use super::calibrate::same_window_rate;
use super::replay::{DeviceMode, ReplayConfig, ReplayResult, replay};
use crate::error::Error;
use crate::plan::{self, PlanOptions, Work};
use crate::profile::Profile;

/// Settings shared by every policy of a validation.
#[derive(Clone, Debug)]
pub struct ValidateOptions {
    /// The calibration profile (speed, overheads); `None` = an ideal host.
    pub profile: Option<Profile>,
    /// Host CPU of each pCPU.
    pub cores: Vec<usize>,
    /// CPUs for the scheduler and device threads.
    pub housekeeping: Vec<usize>,
    /// vCPU threads under nice −20.
    pub boost: bool,
    /// Working set each VM touches at its start, in 4 KiB pages.
    pub touch_pages: u64,
    /// I/O requests per vCPU.
    pub io_per_vcpu: u32,
    /// Service time of an I/O request.
    pub io_service: Duration,
    /// Guest work in TSC running time ([`crate::plan::Work::Tsc`]) instead of calibrated
    /// loop counts.
    pub tsc_work: bool,
    /// With `tsc_work` under a preemptive CPU policy: a TSC jump longer than this is time
    /// the vCPU was out (kicked) and does not count as work; shorter stalls (host
    /// interrupts, the outer hypervisor taking the core for a moment) count. Under
    /// non-preemptive policies every stall counts (the vCPU is never kicked out), so the
    /// demand is wall-clock time on the pCPU from the VM's first entry.
    pub tsc_gap: Duration,
    /// How I/O is served.
    pub device: DeviceMode,
    /// Per-vCPU guest-time limit.
    pub timeout: Duration,
}

/// What one policy gave.
#[derive(Clone, Debug)]
pub struct PolicyRun {
    /// Label.
    pub label: String,
    /// The replay.
    pub measured: ReplayResult,
    /// The simulator's VM records.
    pub predicted: Vec<VmRecord>,
    /// The simulator's slices.
    pub predicted_slices: Vec<SliceRecord>,
    /// Native loop rate measured right before the replay.
    pub rate_before: f64,
    /// … and right after.
    pub rate_after: f64,
    /// Guest loops per second of demand used for the plan.
    pub loops_per_s: f64,
}

/// Replays `requests` under `admission`/`cpu` on KVM and simulates them with the profile.
///
/// The loop counts are sized from the native loop rate measured on the vCPU core just
/// before the replay, times the profile's guest/native speed, so a VM needs its demand in
/// guest time. The simulator runs the scenario's host and policies with the profile's
/// context-switch cost, and each VM's demand plus the profile's per-VM overhead (first
/// entry and final exit).
pub fn run_policy(
    kvm: &Kvm,
    scenario: &Scenario,
    requests: &[VmRequest],
    label: &str,
    admission: &str,
    cpu: &str,
    opts: &ValidateOptions,
) -> Result<PolicyRun, Error> {
    let mut sc = scenario.clone();
    sc.set_policy(admission, cpu);
    if let Some(p) = &opts.profile {
        p.apply_to_scenario(&mut sc);
    }
    let config = sc.sim_config()?;
    if config.cluster.hosts.len() != 1 {
        return Err(Error::Host(format!(
            "the KVM replay models one host; the scenario has {}",
            config.cluster.hosts.len()
        )));
    }
    let host = &config.cluster.hosts[0];
    if host.pcpus as usize != opts.cores.len() {
        return Err(Error::Host(format!(
            "the scenario's host has {} pCPUs but the replay was given {} core(s)",
            host.pcpus,
            opts.cores.len()
        )));
    }

    // The simulator's side.
    let over = opts
        .profile
        .as_ref()
        .map(Profile::per_vm_overhead)
        .unwrap_or_default();
    let sim_requests: Vec<VmRequest> = requests
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.demand = r.demand.saturating_add(over);
            r
        })
        .collect();
    let mut collect = Collect::default();
    sim::simulate(&config, sim_requests, &mut collect)?;

    // The real side.
    let core = opts.cores[0];
    let window = Duration::from_millis(100);
    let rate_before = same_window_rate(core, opts.boost, window)?;
    let speed = opts.profile.as_ref().map(Profile::speed).unwrap_or(1.0);
    let loops_per_s = rate_before * speed;
    let work = if opts.tsc_work {
        let hz = super::tsc_hz(Duration::from_millis(50));
        Work::Tsc {
            ticks_per_s: hz,
            // Under a policy that never kicks a vCPU out, every stall of the core is the
            // VM's own time on its pCPU (the host stealing it, interrupts): count it all.
            gap_ticks: if matches!(cpu, "fcfs" | "sjf" | "priority") {
                i32::MAX as u32
            } else {
                (hz * opts.tsc_gap.as_secs_f64()).clamp(1.0, f64::from(i32::MAX)) as u32
            },
        }
    } else {
        Work::Loops { loops_per_s }
    };
    let plans = plan::build(
        requests,
        &PlanOptions {
            work,
            touch_pages: opts.touch_pages,
            io_per_vcpu: opts.io_per_vcpu,
            io_service: opts.io_service,
        },
    );
    let cfg = ReplayConfig {
        admission: admission.to_string(),
        cpu: cpu.to_string(),
        head_of_line: config.admission.head_of_line,
        quantum: Duration::from_nanos(config.cpu.quantum.nanos()),
        cores: opts.cores.clone(),
        housekeeping: opts.housekeeping.clone(),
        capacity: host.vcpu_capacity(),
        timeout: opts.timeout,
        device: opts.device.clone(),
        precreate: true,
        boost: opts.boost,
    };
    let measured = replay(kvm, &plans, &cfg)?;
    let rate_after = same_window_rate(core, opts.boost, window)?;
    Ok(PolicyRun {
        label: label.to_string(),
        measured,
        predicted: collect.vms,
        predicted_slices: collect.slices,
        rate_before,
        rate_after,
        loops_per_s,
    })
}
