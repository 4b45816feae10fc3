//! `profile.toml`: what calibration measured on a host, and how the simulator uses it.
//!
//! Each figure is a [`Stat`] over repetitions (median with its spread). The simulator side
//! uses the profile through [`Profile::apply_to_scenario`] (scenario parameters: context
//! switch, VM exit, first touch, guest speed) and [`Profile::map_request`] (the fixed cost
//! a VM pays to start and finish). The mapping, field by field:
//!
//! | profile field | model parameter |
//! |---|---|
//! | `vcpu_switch_us` (mean) | `[cpu] context_switch_us` under `rr`, `srtf`, `priority-preemptive` |
//! | `vcpu_switch_io_us` (mean) | `[cpu] context_switch_us` under the other CPU policies |
//! | `exit_round_trip_us` (median) | `[[hosts]] exit_cost_us` |
//! | `vm_first_run_us` (median) | added to each VM's demand by `map_request` (`vmsched validate` only: the replay's guest enters once and exits once) |
//! | `first_touch_us` (median, per 4 KiB page) | `[[hosts]] first_touch_us` × page size / 4 KiB |
//! | `cpu_speed` (median) | `[[hosts]] translation_overhead`: `(1 + x) / speed − 1` (not below 0) |
//! | `device_sleep_us`, `device_file_us` | the replay's device in `vmsched validate` only |
//! | `host_slice_us` (median), `host_switch_us` (median) | `[cpu] slice_ms` (unless the scenario sets it) and `[cpu] context_switch_us` of the `fair` prediction of `vmsched validate --host-scheduler` |
//! | `native_loop_rate`, `guest_loop_rate`, `kick_latency_us`, `vm_create_us`, `vm_destroy_us`, `first_touch_prefaulted_us` | reported, not mapped (`validate` sizes loops from the native rate measured before each replay; VMs are created before the replay starts) |

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sim::{SimTime, VmRequest};
use workloads::Scenario;
use workloads::scenario::HostGroup;

use crate::error::Error;

/// A measured quantity: median and spread over `n` repetitions.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Stat {
    /// Median.
    pub median: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile (0 in profiles written before it was recorded).
    #[serde(default)]
    pub p99: f64,
    /// Mean (0 in profiles written before it was recorded).
    #[serde(default)]
    pub mean: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Repetitions.
    pub n: u64,
}

impl Stat {
    /// The statistics of `samples` (NaNs dropped; all zero when empty).
    pub fn of(samples: &[f64]) -> Stat {
        let mut v: Vec<f64> = samples.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return Stat::default();
        }
        v.sort_by(f64::total_cmp);
        Stat {
            median: quantile(&v, 0.5),
            p10: quantile(&v, 0.1),
            p90: quantile(&v, 0.9),
            p99: quantile(&v, 0.99),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            min: v[0],
            max: v[v.len() - 1],
            n: v.len() as u64,
        }
    }

    /// `(p90 − p10) / median`: the relative spread (0 when the median is 0).
    pub fn spread(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.p90 - self.p10) / self.median
        }
    }
}

/// Linear-interpolation quantile of sorted `v` (not empty).
pub fn quantile(v: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// Where a profile was measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HostInfo {
    /// Host name.
    pub hostname: String,
    /// CPU model (from `/proc/cpuinfo`).
    pub cpu_model: String,
    /// Kernel release.
    pub kernel: String,
    /// Host CPU the vCPU ran on.
    pub core: u64,
    /// Whether the measuring threads (the replay's executors) ran under nice −20.
    pub boost: bool,
    /// Seconds since the Unix epoch when calibration ended.
    pub measured_at: u64,
    /// vmsched version.
    pub version: String,
}

/// Everything calibration measures. Rates in loop iterations per second, times in
/// microseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The host.
    pub host: HostInfo,
    /// Native `dec; jnz` loop rate, iterations/s (same window as `guest_loop_rate`).
    pub native_loop_rate: Stat,
    /// The same loop in a CPL 3 guest, iterations/s.
    pub guest_loop_rate: Stat,
    /// Guest rate / native rate, per interleaved pair of measurements.
    pub cpu_speed: Stat,
    /// One port-write exit to user space and back, µs.
    pub exit_round_trip_us: Stat,
    /// First touch of a guest page with fresh host memory, µs per 4 KiB page.
    pub first_touch_us: Stat,
    /// First touch of a guest page whose host memory was pre-populated, µs per page.
    pub first_touch_prefaulted_us: Stat,
    /// From the end of one vCPU's slice to the start of the next one's on the same pCPU,
    /// through the replay's scheduler and executor, when the first is kicked out (rr, 2 ms
    /// quantum), µs: the context-switch cost of preemptive policies. Its tail is long (a
    /// kick now and then lands when the host takes the core, and the next entry waits for
    /// it): see `p90`, `p99`, `mean`.
    pub vcpu_switch_us: Stat,
    /// The same when the first vCPU stops by itself (an I/O request, or done), µs: the
    /// context-switch cost of non-preemptive policies (all zero in profiles written before
    /// it was measured).
    #[serde(default)]
    pub vcpu_switch_io_us: Stat,
    /// From the kick signal to `KVM_RUN` returning, µs.
    pub kick_latency_us: Stat,
    /// The first run of a fresh VM that does nothing (entry + done exit), µs: what a VM
    /// of the replay pays on the pCPU besides its work (all zero in profiles written
    /// before it was measured).
    #[serde(default)]
    pub vm_first_run_us: Stat,
    /// VM + vCPU + memory creation, µs.
    pub vm_create_us: Stat,
    /// VM teardown, µs.
    pub vm_destroy_us: Stat,
    /// Device service time of a calibrated-sleep request (the sleep's nominal length is
    /// `device_nominal_us`), µs.
    pub device_sleep_us: Stat,
    /// Nominal length of the calibrated sleep, µs.
    pub device_nominal_us: f64,
    /// Device service time of a 4 KiB write + fdatasync to a temporary file, µs.
    pub device_file_us: Stat,
    /// The host scheduler's effective slice: how long one of two spinning threads of
    /// equal weight on one core runs before Linux switches to the other, µs (all zero in
    /// profiles written before it was measured).
    #[serde(default)]
    pub host_slice_us: Stat,
    /// The host scheduler's switch between those two threads: from one's last TSC reading
    /// to the other's first, µs (all zero in profiles written before it was measured).
    #[serde(default)]
    pub host_switch_us: Stat,
}

impl Profile {
    /// Reads a profile file.
    pub fn load(path: &Path) -> Result<Profile, Error> {
        let label = path.display().to_string();
        let text = workloads::limits::read_bounded(path, &label).map_err(|e| match e {
            workloads::Error::Io { source, .. } => {
                Error::Profile(format!("{label}: cannot read: {source}"))
            }
            e => Error::Profile(e.to_string()),
        })?;
        Profile::from_toml_str(&text, &label)
    }

    /// Parses a profile from its TOML text; `label` names the file in messages.
    pub fn from_toml_str(text: &str, label: &str) -> Result<Profile, Error> {
        let p = toml::from_str(text).map_err(|e| Error::Profile(format!("{label}: {e}")))?;
        // Every figure is a measurement: NaN or ±inf is a damaged file, not a value.
        if let Some((key, v, line)) = workloads::limits::first_non_finite(text) {
            let at = line.map_or(String::new(), |l| format!("{l}:"));
            return Err(Error::Profile(format!(
                "{label}:{at} {key}: must be a finite number, got {v}"
            )));
        }
        Ok(p)
    }

    /// The profile as TOML (with a header comment).
    pub fn to_toml_string(&self) -> Result<String, Error> {
        let body = toml::to_string(self)
            .map_err(|e| Error::Profile(format!("cannot write the profile: {e}")))?;
        Ok(format!(
            "# vmsched calibration profile: medians with spread (p10, p90, min, max) over n\n\
             # repetitions. Rates in loop iterations per second, times in microseconds.\n\n{body}"
        ))
    }

    /// The context-switch cost the simulator charges per switch under CPU policy `cpu`, µs:
    /// for a preemptive policy (`rr`, `srtf`, `priority-preemptive`, whose switches are
    /// mostly kicks) the mean `vcpu_switch_us`, for the others the mean
    /// `vcpu_switch_io_us` (falling back to `vcpu_switch_us` when not measured, and to the
    /// median in profiles without a mean). The engine charges one fixed cost per switch,
    /// and over many switches the total is what moves turnarounds: the mean carries the
    /// tail's share of it, the median does not.
    pub fn switch_cost_us(&self, cpu: &str) -> f64 {
        let s = self.switch_stat(cpu);
        let v = if s.mean > 0.0 { s.mean } else { s.median };
        non_negative(v)
    }

    /// The switch measurement [`Profile::switch_cost_us`] uses under CPU policy `cpu`.
    pub fn switch_stat(&self, cpu: &str) -> &Stat {
        if is_preemptive(cpu) || self.vcpu_switch_io_us.n == 0 {
            &self.vcpu_switch_us
        } else {
            &self.vcpu_switch_io_us
        }
    }

    /// [`Profile::switch_cost_us`] as a time.
    pub fn context_switch(&self, cpu: &str) -> SimTime {
        SimTime::from_secs_f64(self.switch_cost_us(cpu) * 1e-6).unwrap_or(SimTime::ZERO)
    }

    /// How much longer than asked a device sleep lasts, µs (0 when not measured).
    pub fn sleep_overshoot_us(&self) -> f64 {
        if self.device_sleep_us.n == 0 {
            return 0.0;
        }
        let d = self.device_sleep_us.median - self.device_nominal_us;
        if d.is_finite() { d.max(0.0) } else { 0.0 }
    }

    /// The host scheduler's effective slice (`None` when not measured).
    pub fn host_slice(&self) -> Option<SimTime> {
        (self.host_slice_us.n > 0 && self.host_slice_us.median > 0.0)
            .then(|| SimTime::from_secs_f64(self.host_slice_us.median * 1e-6))
            .flatten()
    }

    /// What one switch between two vCPU threads costs under the host scheduler, µs: the
    /// median `host_switch_us`. Not the mean: its tail is other processes taking the core
    /// between the two threads. No exit round trip either: Linux preempts a thread in guest
    /// mode inside the kernel, without a return to user space (charging the 48 µs round
    /// trip per 1 ms slice over-predicted every turnaround by 7 %).
    pub fn host_switch_cost_us(&self) -> f64 {
        non_negative(self.host_switch_us.median)
    }

    /// Guest speed relative to native (1 when not measured).
    pub fn speed(&self) -> f64 {
        let s = self.cpu_speed.median;
        if s.is_finite() && s > 0.0 { s } else { 1.0 }
    }

    /// The fixed cost of a VM of the replay on the pCPU that is not its CPU work: its
    /// first entry and its final exit (the median `vm_first_run_us`; two exit round trips
    /// in profiles without it).
    pub fn per_vm_overhead(&self) -> SimTime {
        let us = if self.vm_first_run_us.n > 0 {
            non_negative(self.vm_first_run_us.median)
        } else {
            2.0 * non_negative(self.exit_round_trip_us.median)
        };
        SimTime::from_secs_f64(us * 1e-6).unwrap_or(SimTime::ZERO)
    }

    /// Sets the scenario's overhead parameters from the profile: `[cpu] context_switch_us`
    /// ([`Profile::switch_cost_us`]) and every host group's [`Profile::apply_overheads_to_group`].
    /// Other parameters are left as the scenario has them.
    pub fn apply_overheads(&self, scenario: &mut Scenario) {
        scenario.cpu.context_switch_us = self.switch_cost_us(&scenario.cpu.policy);
        for h in &mut scenario.hosts {
            self.apply_overheads_to_group(h);
        }
    }

    /// Sets a host group's `exit_cost_us` (the median exit round trip) and `first_touch_us`
    /// (the median fresh first touch of a 4 KiB page, scaled to the group's page size:
    /// mapping a page costs in proportion to the memory it clears).
    pub fn apply_overheads_to_group(&self, h: &mut HostGroup) {
        h.exit_cost_us = non_negative(self.exit_round_trip_us.median);
        let page = h.page_size.bytes() as f64;
        h.first_touch_us = non_negative(self.first_touch_us.median) * page / 4096.0;
    }

    /// [`Profile::apply_overheads_to_group`], and the guest's speed: the group's
    /// `translation_overhead` x becomes `(1 + x) / speed − 1` (not below 0), so guest work
    /// runs at `speed / (1 + x)` of the scenario's native CPU time.
    pub fn apply_to_group(&self, h: &mut HostGroup) {
        self.apply_overheads_to_group(h);
        let x = (1.0 + h.translation_overhead) / self.speed() - 1.0;
        h.translation_overhead = non_negative(x);
    }

    /// The context-switch cost and [`Profile::apply_to_group`] on every host group: what
    /// `vmsched run` and `compare` do with `--profile`.
    pub fn apply_to_scenario(&self, scenario: &mut Scenario) {
        scenario.cpu.context_switch_us = self.switch_cost_us(&scenario.cpu.policy);
        for h in &mut scenario.hosts {
            self.apply_to_group(h);
        }
    }

    /// Maps a request whose demand is native CPU time to what it takes in a guest on the
    /// profiled host: `demand / speed + per-VM overhead` (the estimate likewise).
    pub fn map_request(&self, r: &mut VmRequest) {
        let speed = self.speed();
        let over = self.per_vm_overhead();
        let map = |t: SimTime| {
            SimTime::from_secs_f64(t.as_secs_f64() / speed)
                .unwrap_or(SimTime::MAX)
                .saturating_add(over)
        };
        r.demand = map(r.demand);
        r.estimate = map(r.estimate);
    }
}

/// Whether CPU policy `cpu` switches vCPUs mostly by kicking them out: it is preemptive
/// or time-sliced in `sim`'s registry (an unknown name: no).
pub fn is_preemptive(cpu: &str) -> bool {
    sim::policy::cpu_policy(cpu).is_ok_and(|p| p.preemptive() || p.time_sliced())
}

/// `x` if finite and ≥ 0, else 0.
fn non_negative(x: f64) -> f64 {
    if x.is_finite() { x.max(0.0) } else { 0.0 }
}

/// Applies a scenario's calibration profile, then clears its `[[hosts]] profile` keys (so
/// the scenario written to `run.toml` carries the numbers applied). With `cli` (a
/// `--profile` file), that profile applies to every host group
/// ([`Profile::apply_to_scenario`]). Otherwise each group naming a profile (a path
/// relative to the scenario's folder) gets [`Profile::apply_to_group`], and the
/// scenario-wide `[cpu] context_switch_us` its switch cost; every group naming one must
/// then name the same file. Returns the file applied, if any.
pub fn apply_scenario_profile(
    scenario: &mut Scenario,
    cli: Option<&Path>,
) -> Result<Option<PathBuf>, Error> {
    let named: Vec<(usize, String)> = scenario
        .hosts
        .iter()
        .enumerate()
        .filter_map(|(g, h)| h.profile.clone().map(|p| (g, p)))
        .collect();
    for h in &mut scenario.hosts {
        h.profile = None;
    }
    if let Some(path) = cli {
        Profile::load(path)?.apply_to_scenario(scenario);
        return Ok(Some(path.to_path_buf()));
    }
    let Some((_, first)) = named.first() else {
        return Ok(None);
    };
    if let Some((g, other)) = named.iter().find(|(_, p)| p != first) {
        return Err(Error::Profile(format!(
            "hosts.{g}.profile: {other:?} differs from {first:?}: one profile per scenario \
             (the context-switch cost is scenario-wide)"
        )));
    }
    let path = match scenario.base_dir() {
        Some(d) => d.join(first),
        None => PathBuf::from(first),
    };
    let p = Profile::load(&path)?;
    scenario.cpu.context_switch_us = p.switch_cost_us(&scenario.cpu.policy);
    for (g, _) in &named {
        p.apply_to_group(&mut scenario.hosts[*g]);
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats() {
        let s = Stat::of(&[5.0, 1.0, 3.0, 2.0, 4.0, f64::NAN]);
        // Sorted 1..5: median 3; p10 at position 0.4 → 1.4; p90 at 3.6 → 4.6.
        assert_eq!(s.median, 3.0);
        assert!((s.p10 - 1.4).abs() < 1e-12);
        assert!((s.p90 - 4.6).abs() < 1e-12);
        // p99 at position 3.96 → 4.96; mean 15 / 5.
        assert!((s.p99 - 4.96).abs() < 1e-12);
        assert_eq!(s.mean, 3.0);
        assert_eq!((s.min, s.max, s.n), (1.0, 5.0, 5));
        assert!((s.spread() - 3.2 / 3.0).abs() < 1e-12);
        assert_eq!(Stat::of(&[]), Stat::default());
    }

    #[test]
    fn round_trip_and_mapping() {
        let mut p = Profile {
            cpu_speed: Stat::of(&[0.5]),
            exit_round_trip_us: Stat::of(&[10.0]),
            vcpu_switch_us: Stat::of(&[28.0]),
            ..Profile::default()
        };
        p.host.hostname = "h".into();
        let text = p.to_toml_string().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.toml");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(Profile::load(&path).unwrap(), p);

        let mut r = workloads::textbook::Process::to_vm_requests(&[workloads::textbook::Process {
            name: "P".into(),
            arrival: SimTime::ZERO,
            burst: SimTime::from_millis(100),
            priority: 0,
            weight: None,
        }])
        .remove(0);
        r.estimate = SimTime::from_millis(50);
        p.map_request(&mut r);
        // 100 ms at half speed = 200 ms, + 2 × 10 µs.
        assert_eq!(r.demand, SimTime::from_micros(200_020));
        assert_eq!(r.estimate, SimTime::from_micros(100_020));
        assert_eq!(p.context_switch("rr"), SimTime::from_micros(28));
        let mut s = Scenario::builtin_default();
        p.apply_to_scenario(&mut s);
        assert_eq!(s.cpu.context_switch_us, 28.0);
    }

    #[test]
    fn non_finite_figures_are_refused_with_file_line_and_field() {
        let mut text = Profile::default().to_toml_string().unwrap();
        assert!(Profile::from_toml_str(&text, "p.toml").is_ok());
        // The first `median = 0.0` after `[cpu_speed]` becomes NaN.
        let at = text.find("[cpu_speed]").unwrap();
        let m = at + text[at..].find("median = 0.0").unwrap();
        text.replace_range(m..m + "median = 0.0".len(), "median = nan");
        let line = text[..m].lines().count() + 1;
        let e = Profile::from_toml_str(&text, "p.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!("p.toml:{line}: cpu_speed.median: must be a finite number, got NaN")
        );
    }

    #[test]
    fn bad_files_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[host]\nbogus = 1\n").unwrap();
        let e = Profile::load(&path).unwrap_err().to_string();
        assert!(e.contains("p.toml") && e.contains("bogus"), "{e}");
        let e = Profile::load(&dir.path().join("missing.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.toml: cannot read"), "{e}");
    }

    /// Profile with the given medians (switch: `switch` median, `switch_mean` mean).
    fn profile(switch: f64, switch_mean: f64, exit: f64, touch: f64, speed: f64) -> Profile {
        let mut sw = Stat::of(&[switch]);
        sw.mean = switch_mean;
        Profile {
            vcpu_switch_us: sw,
            exit_round_trip_us: Stat::of(&[exit]),
            first_touch_us: Stat::of(&[touch]),
            cpu_speed: Stat::of(&[speed]),
            ..Profile::default()
        }
    }

    /// Two VMs on one pCPU, one admitted at a time; each maps a 4 MiB working set, computes
    /// 50 ms, makes one 10 ms disk request (virtio: one exit) and computes 50 ms more.
    const TWO_VMS: &str = r#"
[run]
vms = 2
[[hosts]]
pcpus = 1
memory_gib = 4
[[hosts.devices]]
kind = "disk"
bandwidth_mbps = 1000
latency_us = 10000
[workload]
arrival = { process = "deterministic", interval_s = 0.001 }
service = { dist = "deterministic", mean_s = 0.1 }
memory_gib = 1
memory = { working_set_gib = 0.00390625 }
io = { requests = 1, size_kib = 0 }
"#;

    fn finishes(s: &Scenario) -> Vec<f64> {
        let config = s.sim_config().unwrap();
        let reqs: Vec<VmRequest> = s.workload(0).unwrap().collect();
        let mut c = sim::observer::Collect::default();
        sim::simulate(&config, reqs, &mut c).unwrap();
        c.vms.sort_by_key(|r| r.id);
        c.vms.iter().map(|r| r.finish.as_secs_f64()).collect()
    }

    #[test]
    fn a_profile_changes_the_predictions_as_calculated() {
        let plain = Scenario::from_toml_str(TWO_VMS, "two.toml").unwrap();
        // Without a profile: VM 0 arrives at 1 ms, runs 50 ms, waits 10 ms for the disk,
        // runs 50 ms: done at 0.111 s; VM 1 is admitted then and takes 0.110 s: 0.221 s.
        let f = finishes(&plain);
        assert!(
            (f[0] - 0.111).abs() < 1e-9 && (f[1] - 0.221).abs() < 1e-9,
            "{f:?}"
        );
        // With switch 30 µs (mean; the median 25 µs is not used), exit 20 µs, first touch
        // 5 µs per page, speed 1: each VM pays a switch at its first dispatch (30 µs),
        // 1024 first touches (5.12 ms) and one exit when it resumes after its request
        // (20 µs): 0.111 + 0.00517 = 0.11617 s, then 0.11617 + 0.11517 = 0.23134 s.
        let mut s = plain.clone();
        profile(25.0, 30.0, 20.0, 5.0, 1.0).apply_to_scenario(&mut s);
        assert_eq!(s.cpu.context_switch_us, 30.0);
        assert_eq!(
            (s.hosts[0].exit_cost_us, s.hosts[0].first_touch_us),
            (20.0, 5.0)
        );
        assert_eq!(s.hosts[0].translation_overhead, 0.0);
        let f = finishes(&s);
        assert!(
            (f[0] - 0.11617).abs() < 1e-9 && (f[1] - 0.23134).abs() < 1e-9,
            "{f:?}"
        );
        // A guest at 0.8 of native speed: translation overhead 1 / 0.8 − 1 = 0.25, so the
        // 100 ms of work take 125 ms; with 2 MiB pages one first touch costs 512 × 5 µs.
        let mut s = plain.clone();
        s.hosts[0].page_size = workloads::scenario::PageSize::Mib2;
        profile(0.0, 0.0, 0.0, 5.0, 0.8).apply_to_scenario(&mut s);
        assert!((s.hosts[0].translation_overhead - 0.25).abs() < 1e-12);
        assert_eq!(s.hosts[0].first_touch_us, 2560.0);
        s.hosts[0].first_touch_us = 0.0;
        let f = finishes(&s);
        // VM 0: 1 ms + 62.5 ms + 10 ms + 62.5 ms = 0.136 s; VM 1: + 0.135 s = 0.271 s.
        assert!(
            (f[0] - 0.136).abs() < 1e-6 && (f[1] - 0.271).abs() < 1e-6,
            "{f:?}"
        );
        // `apply_overheads` (what `validate` uses) leaves the speed out.
        let mut s = plain.clone();
        profile(0.0, 0.0, 0.0, 0.0, 0.8).apply_overheads(&mut s);
        assert_eq!(s.hosts[0].translation_overhead, 0.0);
    }

    #[test]
    fn profiles_without_the_host_scheduler_fields_still_load() {
        // Written before `host_slice_us` / `host_switch_us` existed.
        let old = include_str!("../../notebooks/data/validation/profile.toml");
        let p = Profile::from_toml_str(old, "old.toml").unwrap();
        assert_eq!((p.host_slice_us.n, p.host_switch_us.n), (0, 0));
        assert_eq!(p.host_slice(), None);
        assert_eq!(p.host_switch_cost_us(), 0.0);
        // The example of `--host-scheduler` has them: a slice of about 1 ms (HZ = 1000).
        let new = include_str!("../../notebooks/data/validation/host/profile.toml");
        let p = Profile::from_toml_str(new, "new.toml").unwrap();
        let slice = p.host_slice().unwrap().as_secs_f64();
        assert!((0.0009..0.0011).contains(&slice), "{slice}");
        assert_eq!(p.host_switch_cost_us(), p.host_switch_us.median);
    }

    #[test]
    fn an_old_profile_without_mean_uses_the_median_switch() {
        let p = profile(28.0, 0.0, 0.0, 0.0, 1.0);
        assert_eq!(p.switch_cost_us("fcfs"), 28.0);
    }

    #[test]
    fn scenario_profiles_are_applied_once_and_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, p: &Profile| {
            std::fs::write(dir.path().join(name), p.to_toml_string().unwrap()).unwrap();
        };
        write("p.toml", &profile(25.0, 30.0, 20.0, 5.0, 1.0));
        write("q.toml", &profile(1.0, 1.0, 1.0, 1.0, 1.0));
        let text = TWO_VMS.replace("pcpus = 1\n", "pcpus = 1\nprofile = \"p.toml\"\n");
        let path = dir.path().join("s.toml");
        std::fs::write(&path, &text).unwrap();
        let loaded = Scenario::load(&path).unwrap();
        // Not applied: the simulator refuses it rather than ignore it.
        let e = loaded.sim_config().unwrap_err().to_string();
        assert!(e.contains("hosts.0.profile"), "{e}");
        // From the scenario's folder, whatever the current one.
        let mut s = loaded.clone();
        let used = apply_scenario_profile(&mut s, None).unwrap();
        assert_eq!(used, Some(dir.path().join("p.toml")));
        assert_eq!(s.hosts[0].profile, None);
        assert_eq!(
            (s.cpu.context_switch_us, s.hosts[0].exit_cost_us),
            (30.0, 20.0)
        );
        assert!(s.sim_config().is_ok());
        // --profile wins over the file's key.
        let mut s = loaded.clone();
        let q = dir.path().join("q.toml");
        apply_scenario_profile(&mut s, Some(&q)).unwrap();
        assert_eq!(
            (s.cpu.context_switch_us, s.hosts[0].exit_cost_us),
            (1.0, 1.0)
        );
        // Two groups naming different files: an error naming the second.
        let mut s = loaded.clone();
        let mut g = s.hosts[0].clone();
        g.profile = Some("q.toml".into());
        s.hosts.push(g);
        let e = apply_scenario_profile(&mut s, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("hosts.1.profile"), "{e}");
        // A missing file is named.
        let mut s = loaded.clone();
        s.hosts[0].profile = Some("nope.toml".into());
        let e = apply_scenario_profile(&mut s, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope.toml: cannot read"), "{e}");
    }
}
