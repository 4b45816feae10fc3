//! `vmsched validate --host-scheduler`: the `fair` policy replayed by Linux's own scheduler
//! ([`super::host_run`]) and predicted by the simulator under `fair` with the scenario's
//! weights and caps, the profile's host slice and switch cost.

use std::time::Duration;

use kvm_ioctls::Kvm;
use sim::observer::Collect;
use sim::{SimTime, VmRecord, VmRequest};
use workloads::Scenario;

use super::calibrate::same_window_rate;
use super::host_load;
use super::host_run::{HostRunConfig, host_replay};
use super::validation::{PolicyRun, ValidateOptions, simulate_with_overhead};
use crate::error::Error;
use crate::host_sched::{check_admission, check_scenario};
use crate::plan::{self, PlanOptions, Work};
use crate::profile::Profile;

/// The slice of the counterfactual prediction "weights alone" (weighted processor
/// sharing): short against every demand, long enough to simulate quickly.
const GPS_SLICE_MS: f64 = 0.02;

/// What a host-scheduler run adds to a [`PolicyRun`].
#[derive(Clone, Debug)]
pub struct HostExtras {
    /// How weights and caps were applied (cgroup v1/v2, or nice values and why).
    pub weighting: String,
    /// The prediction with the slice going to 0 and no switch cost (weights and caps
    /// only), per VM.
    pub gps: Vec<VmRecord>,
    /// The slice the prediction used.
    pub slice: SimTime,
    /// The switch cost the prediction charged, µs.
    pub switch_us: f64,
}

/// Replays `requests` with one thread per vCPU under Linux's scheduler and predicts them
/// under `admission`/`fair`.
pub fn run_host_policy(
    kvm: &Kvm,
    scenario: &Scenario,
    requests: &[VmRequest],
    label: &str,
    admission: &str,
    opts: &ValidateOptions,
) -> Result<(PolicyRun, HostExtras), Error> {
    let base = scenario.sim_config()?;
    check_scenario(&base, requests).map_err(Error::Host)?;
    plan::check(requests).map_err(Error::Host)?;
    let host = &base.cluster.hosts[0];
    if host.pcpus as usize != opts.cores.len() {
        return Err(Error::Host(format!(
            "the scenario's host has {} pCPUs but the replay was given {} core(s)",
            host.pcpus,
            opts.cores.len()
        )));
    }
    let profile = opts.profile.as_ref();
    let (config, predicted) = simulate_host(scenario, requests, admission, profile, None)?;
    check_admission(&predicted.vms).map_err(Error::Host)?;
    let (_, gps) = simulate_host(scenario, requests, admission, profile, Some(GPS_SLICE_MS))?;
    let slice = config
        .cpu
        .slice
        .or_else(|| {
            sim::policy::cpu_policy("fair")
                .ok()
                .and_then(|p| p.default_slice(host.pcpus))
        })
        .unwrap_or_default();
    let switch_us = config.cpu.context_switch.as_secs_f64() * 1e6;

    let core = opts.cores[0];
    let window = Duration::from_millis(100);
    let rate_before = same_window_rate(core, opts.boost, window)?;
    let speed = profile.map(Profile::speed).unwrap_or(1.0);
    let loops_per_s = rate_before * speed;
    let work = if opts.tsc_work {
        let hz = super::tsc_hz(Duration::from_millis(50));
        Work::Tsc {
            ticks_per_s: hz,
            // Linux takes the core away from every thread now and then: a stall longer
            // than the gap is never work.
            gap_ticks: (hz * opts.tsc_gap.as_secs_f64()).clamp(1.0, f64::from(i32::MAX)) as u32,
        }
    } else {
        Work::Loops { loops_per_s }
    };
    let plans = plan::build(
        requests,
        &PlanOptions {
            work,
            touch_pages: 0,
            io_per_vcpu: 0,
            io_service: Duration::ZERO,
        },
    );
    let cfg = HostRunConfig {
        cores: opts.cores.clone(),
        housekeeping: opts.housekeeping.clone(),
        timeout: opts.timeout,
        boost: opts.boost,
        cap_period_us: (config.cpu.cap_period.nanos() / 1000).max(1000),
        force_nice: false,
    };
    let before = host_load::snapshot();
    let run = host_replay(kvm, &plans, &cfg)?;
    let after = host_load::snapshot();
    let rate_after = same_window_rate(core, opts.boost, window)?;
    let interference = host_load::interference(
        &before,
        &after,
        &opts.cores,
        run.result.executor_usage,
        opts.housekeeping.is_empty(),
        (rate_before, rate_after),
    );
    let mut used = profile.cloned();
    if let Some(p) = &mut used {
        // What the notes report as the simulated switch.
        p.vcpu_switch_us = crate::profile::Stat::of(&[switch_us]);
        p.vcpu_switch_io_us = p.vcpu_switch_us;
    }
    Ok((
        PolicyRun {
            label: label.to_string(),
            measured: run.result,
            predicted: predicted.vms,
            predicted_slices: predicted.slices,
            rate_before,
            rate_after,
            loops_per_s,
            profile: used,
            interference,
        },
        HostExtras {
            weighting: run.weighting,
            gps: gps.vms,
            slice,
            switch_us,
        },
    ))
}

/// The simulator's side of a host-scheduler run: `admission`/`fair` with the profile's
/// overheads, its host switch cost and (unless the scenario sets `[cpu] slice_ms`) its
/// host slice; `slice_ms` overrides the slice and drops the switch cost (the weighted
/// processor-sharing counterfactual).
pub fn simulate_host(
    scenario: &Scenario,
    requests: &[VmRequest],
    admission: &str,
    profile: Option<&Profile>,
    slice_ms: Option<f64>,
) -> Result<(sim::SimConfig, Collect), Error> {
    let mut sc = scenario.clone();
    sc.set_policy(admission, "fair");
    if let Some(p) = profile {
        p.apply_overheads(&mut sc);
        sc.cpu.context_switch_us = p.host_switch_cost_us();
        if sc.cpu.slice_ms.is_none()
            && let Some(s) = p.host_slice()
        {
            sc.cpu.slice_ms = Some(s.as_secs_f64() * 1e3);
        }
    }
    if let Some(ms) = slice_ms {
        sc.cpu.slice_ms = Some(ms);
        sc.cpu.context_switch_us = 0.0;
    }
    let config = sc.sim_config()?;
    let collect = simulate_with_overhead(&config, requests, profile)?;
    if let Some(r) = collect.vms.iter().find(|r| r.major_faults > 0) {
        return Err(Error::Host(format!(
            "workload.memory: VM {} pages to swap in the simulator ({} major faults), which \
             the vCPU threads do not reproduce: give the host enough memory",
            r.id, r.major_faults
        )));
    }
    Ok((config, collect))
}
