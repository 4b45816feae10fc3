//! `profile.toml`: what calibration measured on a host, and how the simulator uses it.
//!
//! Each figure is a [`Stat`] over repetitions (median with its spread). The simulator side
//! uses the profile through [`Profile::apply_to_scenario`] (the context-switch cost) and
//! [`Profile::map_request`] (CPU speed: the guest's loop rate relative to the native one,
//! and the fixed cost a VM pays to start and finish).

use std::path::Path;

use serde::{Deserialize, Serialize};
use sim::{SimTime, VmRequest};
use workloads::Scenario;

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
    /// Whether the vCPU threads ran under nice −20.
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
    /// through the user-space scheduler, µs: the context-switch cost.
    pub vcpu_switch_us: Stat,
    /// From the kick signal to `KVM_RUN` returning, µs.
    pub kick_latency_us: Stat,
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

    /// The context-switch cost the simulator should charge (the median vCPU switch).
    pub fn context_switch(&self) -> SimTime {
        SimTime::from_secs_f64(self.vcpu_switch_us.median.max(0.0) * 1e-6).unwrap_or(SimTime::ZERO)
    }

    /// Guest speed relative to native (1 when not measured).
    pub fn speed(&self) -> f64 {
        let s = self.cpu_speed.median;
        if s.is_finite() && s > 0.0 { s } else { 1.0 }
    }

    /// The fixed cost of a VM on the pCPU that is not its CPU work: its first entry and
    /// its final exit (two exit round trips).
    pub fn per_vm_overhead(&self) -> SimTime {
        SimTime::from_secs_f64(2.0 * self.exit_round_trip_us.median.max(0.0) * 1e-6)
            .unwrap_or(SimTime::ZERO)
    }

    /// Sets the scenario's overhead parameters from the profile: `[cpu] context_switch_us`.
    pub fn apply_to_scenario(&self, scenario: &mut Scenario) {
        scenario.cpu.context_switch_us = self.vcpu_switch_us.median.max(0.0);
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
        }])
        .remove(0);
        r.estimate = SimTime::from_millis(50);
        p.map_request(&mut r);
        // 100 ms at half speed = 200 ms, + 2 × 10 µs.
        assert_eq!(r.demand, SimTime::from_micros(200_020));
        assert_eq!(r.estimate, SimTime::from_micros(100_020));
        assert_eq!(p.context_switch(), SimTime::from_micros(28));
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
}
