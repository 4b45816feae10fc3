//! One policy, replayed on KVM and simulated with the profile: what `vmsched validate` does
//! for each policy.

use std::time::Duration;

use kvm_ioctls::Kvm;
use sim::observer::Collect;
use sim::{SliceRecord, VmRecord, VmRequest};
use workloads::Scenario;

use super::calibrate::{
    CalibrateOptions, same_window_first_touch, same_window_io_switch, same_window_rate,
    same_window_switch,
};
use super::host_load;
use super::replay::{DeviceMode, ReplayConfig, ReplayResult, replay};
use crate::error::Error;
use crate::interference::Interference;
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
    /// The replay's executor threads (which run the vCPUs) under nice −20.
    pub boost: bool,
    /// Guest work in TSC running time ([`crate::plan::Work::Tsc`]) instead of calibrated
    /// loop counts.
    pub tsc_work: bool,
    /// With `tsc_work` under a preemptive CPU policy: a TSC jump longer than this is time
    /// the vCPU was out (kicked) and does not count as work; shorter stalls (host
    /// interrupts, the outer hypervisor taking the core for a moment) count. Under
    /// non-preemptive policies every stall counts (the vCPU is never kicked out), so the
    /// demand is wall-clock time on the pCPU from the VM's first entry.
    pub tsc_gap: Duration,
    /// How I/O is served: a sleep of the device's `latency_us` (the scenario's first device
    /// of the kind the workload's I/O goes to), or a real write + fdatasync.
    pub device: DeviceMode,
    /// Per-vCPU guest-time limit.
    pub timeout: Duration,
    /// Measure the vCPU switch cost and the first-touch cost (at the workload's
    /// working-set size) right before each replay, and give the simulator those instead of
    /// the profile's (which must be given).
    pub window_calibration: bool,
    /// Simulate with the vCPU switch cost and the device service the replay itself paid
    /// (its mean `start − dispatch` over slices, its mean service per I/O request) instead
    /// of the profile's, so that the comparison tests the scheduling model rather than two
    /// measurements of the same cost taken at different times. Needs a profile for the
    /// other costs.
    pub costs_from_replay: bool,
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
    /// The profile the simulator used (with the costs measured in the replay's window
    /// when [`ValidateOptions::window_calibration`] is set, or the replay's own with
    /// [`ValidateOptions::costs_from_replay`]).
    pub profile: Option<Profile>,
    /// What the host did during the replay.
    pub interference: Interference,
}

/// Replays `requests` under `admission`/`cpu` on KVM and simulates them with the profile.
///
/// The loop counts are sized from the native loop rate measured on the vCPU core just
/// before the replay, times the profile's guest/native speed, so a VM needs its demand in
/// guest time. The simulator runs the scenario's host and policies with the profile's
/// overheads ([`Profile::apply_overheads`]: context switch, VM exit, first touch), the
/// device's service as the replay really gives it ([`simulated_device_latency_us`]), and
/// each VM's demand plus the profile's per-VM overhead (first entry and final exit).
/// I/O and working sets come from the requests' profiles ([`plan::check`] says which
/// ones the replay can reproduce).
pub fn run_policy(
    kvm: &Kvm,
    scenario: &Scenario,
    requests: &[VmRequest],
    label: &str,
    admission: &str,
    cpu: &str,
    opts: &ValidateOptions,
) -> Result<PolicyRun, Error> {
    plan::check(requests).map_err(Error::Host)?;
    if let Some(r) = requests.iter().find(|r| r.profile.cpu_cap_ppm > 0) {
        super::replay::check_cpu_policy(cpu, true)
            .map_err(|e| Error::Host(format!("{e} (VM {} is capped)", r.id)))?;
    }
    // What the replay's device does per request: sleep for the device's latency.
    let io_service = replay_io_service(&scenario.sim_config()?, requests)?;
    let profile = match (&opts.profile, opts.window_calibration) {
        (Some(p), true) => Some(window_profile(kvm, p, requests, cpu, opts)?),
        (Some(p), false) => Some(p.clone()),
        (None, true) => {
            return Err(Error::Profile(
                "calibration in the replay's window needs a profile for the other costs".into(),
            ));
        }
        (None, false) => None,
    };
    let (config, first) = simulate(scenario, requests, admission, cpu, profile.as_ref(), opts)?;
    let host = &config.cluster.hosts[0];
    if host.pcpus as usize != opts.cores.len() {
        return Err(Error::Host(format!(
            "the scenario's host has {} pCPUs but the replay was given {} core(s)",
            host.pcpus,
            opts.cores.len()
        )));
    }

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
            gap_ticks: if !cpu_kicks_out(cpu)? {
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
            touch_pages: 0,
            io_per_vcpu: 0,
            io_service,
        },
    );
    let cfg = ReplayConfig {
        cpu_params: Some((config.cpu.clone(), config.seed, config.replication)),
        aging_per_s: config.admission.aging_per_s,
        admission: admission.to_string(),
        cpu: cpu.to_string(),
        head_of_line: config.admission.head_of_line,
        quantum: Duration::from_nanos(replay_slice(&config.cpu, cpu, host.pcpus).nanos()),
        cores: opts.cores.clone(),
        housekeeping: opts.housekeeping.clone(),
        capacity: host.vcpu_capacity(),
        timeout: opts.timeout,
        device: opts.device.clone(),
        precreate: true,
        boost: opts.boost,
    };
    let before = host_load::snapshot();
    let measured = replay(kvm, &plans, &cfg)?;
    let after = host_load::snapshot();
    let rate_after = same_window_rate(core, opts.boost, window)?;
    let interference = host_load::interference(
        &before,
        &after,
        &opts.cores,
        measured.executor_usage,
        opts.housekeeping.is_empty(),
        (rate_before, rate_after),
    );
    let (predicted, profile) = match (&profile, opts.costs_from_replay) {
        (Some(p), true) => {
            let p = replay_costs(p, &measured, &opts.device, io_service);
            let (_, c) = simulate(scenario, requests, admission, cpu, Some(&p), opts)?;
            (c, Some(p))
        }
        (None, true) => {
            return Err(Error::Profile(
                "the replay's own costs replace the profile's switch and device costs: give a \
                 profile for the other costs"
                    .into(),
            ));
        }
        _ => (first, profile),
    };
    Ok(PolicyRun {
        label: label.to_string(),
        measured,
        predicted: predicted.vms,
        predicted_slices: predicted.slices,
        rate_before,
        rate_after,
        loops_per_s,
        profile,
        interference,
    })
}

/// Runs the simulator's side: the scenario under `admission`/`cpu` with the profile's
/// overheads, the device as the replay serves it and each VM's demand plus the per-VM
/// overhead. Fails when a VM would page to swap (the replay does not reproduce it).
fn simulate(
    scenario: &Scenario,
    requests: &[VmRequest],
    admission: &str,
    cpu: &str,
    profile: Option<&Profile>,
    opts: &ValidateOptions,
) -> Result<(sim::SimConfig, Collect), Error> {
    let mut sc = scenario.clone();
    sc.set_policy(admission, cpu);
    if let Some(p) = profile {
        // Not the guest/native speed: the demand is guest running time already (TSC work,
        // or loops sized at the guest's speed).
        p.apply_overheads(&mut sc);
    }
    for h in &mut sc.hosts {
        for d in &mut h.devices {
            d.latency_us = simulated_device_latency_us(d.latency_us, profile, &opts.device);
        }
    }
    let config = sc.sim_config()?;
    if config.cluster.hosts.len() != 1 {
        return Err(Error::Host(format!(
            "the KVM replay models one host; the scenario has {}",
            config.cluster.hosts.len()
        )));
    }
    let collect = simulate_with_overhead(&config, requests, profile)?;
    if let Some(r) = collect.vms.iter().find(|r| r.major_faults > 0) {
        return Err(Error::Host(format!(
            "VM {} pages to swap in the simulator ({} major faults), which the replay does \
             not reproduce: give the host enough memory for the admitted working sets",
            r.id, r.major_faults
        )));
    }
    Ok((config, collect))
}

/// Simulates `requests` under `config`, each VM's demand grown by the profile's per-VM
/// overhead (what the replay pays to create and enter a VM), as both replays predict.
pub(super) fn simulate_with_overhead(
    config: &sim::SimConfig,
    requests: &[VmRequest],
    profile: Option<&Profile>,
) -> Result<Collect, Error> {
    let over = profile.map(Profile::per_vm_overhead).unwrap_or_default();
    let requests: Vec<VmRequest> = requests
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.demand = r.demand.saturating_add(over);
            r
        })
        .collect();
    let mut collect = Collect::default();
    sim::simulate(config, requests, &mut collect)?;
    Ok(collect)
}

/// `profile` with the vCPU switch cost and the device service the replay paid: its mean
/// `start − dispatch` over every slice, and its mean device service per I/O request (as
/// the sleep's oversleep over the nominal `nominal` service, or as the file write time).
pub fn replay_costs(
    profile: &Profile,
    measured: &ReplayResult,
    device: &DeviceMode,
    nominal: Duration,
) -> Profile {
    let mut p = profile.clone();
    if measured.dispatches > 0 {
        let sw = measured.switch_time.as_secs_f64() * 1e6 / measured.dispatches as f64;
        p.vcpu_switch_us = crate::profile::Stat::of(&[sw]);
        p.vcpu_switch_io_us = crate::profile::Stat::of(&[sw]);
    }
    let requests: u64 = measured.vms.iter().map(|r| r.io_requests).sum();
    if requests > 0 {
        let per = measured
            .vms
            .iter()
            .map(|r| r.io_service.as_secs_f64())
            .sum::<f64>()
            * 1e6
            / requests as f64;
        match device {
            DeviceMode::Sleep => {
                let over = (per - nominal.as_secs_f64() * 1e6).max(0.0);
                p.device_sleep_us = crate::profile::Stat::of(&[p.device_nominal_us + over]);
            }
            DeviceMode::File { .. } => p.device_file_us = crate::profile::Stat::of(&[per]),
        }
    }
    p
}

/// VMs of the first-touch measurement before each replay (its median is used; the cost per
/// page drifts with the host's load, so a single VM is too noisy).
const WINDOW_TOUCH_REPS: usize = 7;

/// `profile` with the vCPU switch cost (of the kind `cpu` makes) and the first-touch cost (at the largest working
/// set of `requests`) measured now, on the replay's core.
fn window_profile(
    kvm: &Kvm,
    profile: &Profile,
    requests: &[VmRequest],
    cpu: &str,
    opts: &ValidateOptions,
) -> Result<Profile, Error> {
    let mut p = profile.clone();
    let core = opts.cores[0];
    let copts = CalibrateOptions {
        core,
        housekeeping: opts.housekeeping.clone(),
        boost: opts.boost,
        ..CalibrateOptions::default()
    };
    if crate::profile::is_preemptive(cpu) {
        p.vcpu_switch_us = same_window_switch(kvm, &copts)?;
    } else {
        p.vcpu_switch_io_us = same_window_io_switch(kvm, &copts)?;
    }
    let pages = requests
        .iter()
        .filter_map(|r| r.profile.memory)
        .map(|m| m.working_set_mib.saturating_mul(256))
        .max()
        .unwrap_or(0);
    if pages > 0 {
        (p.first_touch_us, p.vm_first_run_us) =
            same_window_first_touch(core, opts.boost, pages, WINDOW_TOUCH_REPS)?;
    } else {
        p.vm_first_run_us = same_window_first_touch(core, opts.boost, 1, 3)?.1;
    }
    Ok(p)
}

/// The latency (µs) the simulator should give a device of `latency_us` so that it serves a
/// request as the replay's device thread does: with a sleep, the nominal latency plus the
/// profile's measured oversleep (`device_sleep_us − device_nominal_us`); with a real
/// write + fdatasync, the profile's measured write time. Without a profile, unchanged.
pub fn simulated_device_latency_us(
    latency_us: f64,
    profile: Option<&Profile>,
    device: &DeviceMode,
) -> f64 {
    let Some(p) = profile else { return latency_us };
    match device {
        DeviceMode::Sleep => latency_us + p.sleep_overshoot_us(),
        DeviceMode::File { .. } => p.device_file_us.median.max(0.0),
    }
}

/// The service time of one replayed I/O request: the latency of the host's first device
/// of the kind the requests use. The replay has one device thread serving one request at
/// a time, so that device must have one channel.
fn replay_io_service(config: &sim::SimConfig, requests: &[VmRequest]) -> Result<Duration, Error> {
    let Some(io) = requests.iter().find_map(|r| r.profile.io) else {
        return Ok(Duration::ZERO);
    };
    if requests
        .iter()
        .filter_map(|r| r.profile.io)
        .any(|o| o.device != io.device)
    {
        return Err(Error::Host(
            "the KVM replay has one device: every VM's I/O must go to the same device kind".into(),
        ));
    }
    let host = &config.cluster.hosts[0];
    let Some(d) = host.resources.devices.iter().find(|d| d.kind == io.device) else {
        return Err(Error::Host(format!(
            "the host has no {} device for the workload's I/O",
            io.device.name()
        )));
    };
    if d.channels != 1 {
        return Err(Error::Host(format!(
            "the KVM replay's device serves one request at a time: give the {} `channels = 1` (it has {})",
            io.device.name(),
            d.channels
        )));
    }
    Ok(Duration::from_nanos(d.service_time(0.0).nanos()))
}

/// Whether the CPU policy `cpu` ever kicks a running vCPU out (preemptive or time-sliced,
/// as `sim`'s registry says).
fn cpu_kicks_out(cpu: &str) -> Result<bool, Error> {
    let p = sim::policy::cpu_policy(cpu)?;
    Ok(p.preemptive() || p.time_sliced())
}

/// Compares one policy's run as round `round`: per-VM errors and their attribution,
/// distributions, order flips (closeness by the CPU policy's key at arrival) and the
/// interference verdict under `thresholds` (a flagged run is excluded from the medians).
pub fn round_result(
    run: &PolicyRun,
    round: usize,
    requests: &[VmRequest],
    cpu: &str,
    thresholds: &crate::interference::Thresholds,
) -> Result<crate::rounds::RoundResult, Error> {
    use crate::distribution::{distribution, near_tie_vms, order_flips, quantile_of};
    let policy = sim::policy::cpu_policy(cpu)?;
    let key = |id: u64| {
        requests
            .iter()
            .find(|r| r.id == id)
            .map(|r| crate::keys::key_at_arrival(&*policy, r))
    };
    let m = &run.measured;
    let flips = order_flips(&m.vms, &run.predicted, key);
    let near = near_tie_vms(&flips);
    let vms = crate::compare::per_vm(
        &run.label,
        round,
        (&m.vms, &m.slices),
        (&run.predicted, &run.predicted_slices),
        &near,
    );
    let row = crate::compare::summarize(std::slice::from_ref(&run.label), &vms)
        .policies
        .pop();
    let without: Vec<f64> = vms
        .iter()
        .filter(|v| !v.near_tie)
        .map(|v| v.turnaround_error_pct.abs())
        .collect();
    let excluded = run
        .interference
        .reasons(thresholds)
        .into_iter()
        .map(|r| format!("host interference: {r}"))
        .collect();
    Ok(crate::rounds::RoundResult {
        round,
        policy: run.label.clone(),
        row,
        dist: distribution(&m.vms, &run.predicted),
        flips: (flips.len(), flips.iter().filter(|f| f.near_tie).count()),
        median_abs_error_without_near_ties_pct: quantile_of(&without, 0.5),
        vms,
        interference: Some(run.interference.clone()),
        excluded,
    })
}

/// Whether a replay error ends only its own round (a guest fault, a timeout, a failed
/// ioctl): the other rounds are kept and reported.
pub fn ends_only_the_round(e: &Error) -> bool {
    matches!(
        e,
        Error::Guest(_) | Error::Timeout { .. } | Error::Kvm { .. }
    )
}

/// The slice the replay gives CPU policy `cpu` on a host of `pcpus` pCPUs: the engine's
/// ([`sim::policy::host_slice`]: `[cpu] slice_ms`, else the policy's default such as
/// `fair`'s, else the quantum); the quantum for a policy without slicing (unused).
fn replay_slice(spec: &sim::CpuSpec, cpu: &str, pcpus: u32) -> sim::SimTime {
    sim::policy::cpu_policy(cpu)
        .ok()
        .and_then(|p| sim::policy::host_slice(&*p, spec, pcpus))
        .unwrap_or(spec.quantum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::SimTime;

    #[test]
    fn costs_from_the_replay() {
        // Two slices with 10 µs of `start − dispatch` in all: 5 µs per switch. Two I/O
        // requests served in 42 ms in all against a nominal 20 ms each: 1 ms of oversleep
        // per request, so the sleep the simulator adds to the device latency is 1,000 µs.
        let vm = |io_ms: u64| VmRecord {
            io_requests: 1,
            io_service: SimTime::from_millis(io_ms),
            ..VmRecord::default()
        };
        let measured = ReplayResult {
            vms: vec![vm(20), vm(22)],
            switch_time: Duration::from_micros(10),
            dispatches: 2,
            ..ReplayResult::default()
        };
        let profile = Profile {
            device_nominal_us: 500.0,
            ..Profile::default()
        };
        let p = replay_costs(
            &profile,
            &measured,
            &DeviceMode::Sleep,
            Duration::from_millis(20),
        );
        assert!((p.switch_cost_us("fcfs") - 5.0).abs() < 1e-9);
        assert!((p.switch_cost_us("rr") - 5.0).abs() < 1e-9);
        assert!((p.sleep_overshoot_us() - 1000.0).abs() < 1e-6);
        // Served by file writes: the measured 21 ms per request is the device's time.
        let file = DeviceMode::File {
            dir: std::env::temp_dir(),
            bytes: 4096,
        };
        let p = replay_costs(&profile, &measured, &file, Duration::from_millis(20));
        assert!((p.device_file_us.median - 21_000.0).abs() < 1e-6);
    }
}
