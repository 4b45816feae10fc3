//! Host interference during one replay, and whether it disturbed the measurement.
//!
//! A replay measures real time on a real host: whatever else the host does while it runs
//! (other processes on the pCPU's core, the outer hypervisor stealing the core, the VMM
//! itself faulting or being switched out, the core changing speed) ends up in the measured
//! times as if the model had missed it. Each replay is therefore measured from the outside:
//!
//! * **steal**: the `steal` ticks of the replay's cores in `/proc/stat` (the hypervisor
//!   under this machine ran something else), as a share of the replay's wall time;
//! * **other processes**: busy ticks of the replay's cores (`user + nice + system + irq +
//!   softirq`) minus the CPU time of the threads that run the vCPUs (`getrusage` of each
//!   executor thread), as a share of the wall time; and the same over every CPU of the
//!   machine minus the whole VMM process, in cores;
//! * **the VMM process** (`getrusage(RUSAGE_SELF)`): minor and major page faults,
//!   voluntary and involuntary context switches, and the involuntary switches of the
//!   executor threads alone (each one is another thread taking the pCPU's core);
//! * **loop-rate drift**: the native loop rate on the pCPU's core right before and right
//!   after the replay (the core's speed, or its share, changed during the replay).
//!
//! A replay whose figures pass a [`Thresholds`] value is *flagged*: the report shows it
//! with the reason and leaves it out of the medians over rounds.

use std::fmt::Write as _;

/// Cumulative CPU time of one line of `/proc/stat`, in clock ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuTicks {
    /// Ticks running something (user + nice + system + irq + softirq).
    pub busy: u64,
    /// Ticks idle (idle + iowait).
    pub idle: u64,
    /// Ticks stolen by the hypervisor under this machine.
    pub steal: u64,
}

impl CpuTicks {
    /// Ticks elapsed between `before` and `self`.
    pub fn since(&self, before: &CpuTicks) -> CpuTicks {
        CpuTicks {
            busy: self.busy.saturating_sub(before.busy),
            idle: self.idle.saturating_sub(before.idle),
            steal: self.steal.saturating_sub(before.steal),
        }
    }
}

/// The `cpu` (all CPUs, index `None`) and `cpuN` lines of `/proc/stat`.
pub fn parse_proc_stat(text: &str) -> Vec<(Option<usize>, CpuTicks)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        let Some(name) = f.next() else { continue };
        let Some(rest) = name.strip_prefix("cpu") else {
            continue;
        };
        let cpu = if rest.is_empty() {
            None
        } else {
            match rest.parse() {
                Ok(n) => Some(n),
                Err(_) => continue,
            }
        };
        // user nice system idle iowait irq softirq steal [guest guest_nice: already in user]
        let v: Vec<u64> = f.map(|x| x.parse().unwrap_or(0)).collect();
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        out.push((
            cpu,
            CpuTicks {
                busy: at(0) + at(1) + at(2) + at(5) + at(6),
                idle: at(3) + at(4),
                steal: at(7),
            },
        ));
    }
    out
}

/// Counters of the VMM process (or thread) from `getrusage`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// User + system CPU time (s).
    pub cpu_s: f64,
    /// Minor page faults.
    pub minor_faults: u64,
    /// Major page faults (the VMM waited for a disk read).
    pub major_faults: u64,
    /// Voluntary context switches (the thread blocked).
    pub voluntary_switches: u64,
    /// Involuntary context switches (the kernel gave the core to another thread).
    pub involuntary_switches: u64,
}

impl Usage {
    /// Counts between `before` and `self`.
    pub fn since(&self, before: &Usage) -> Usage {
        Usage {
            cpu_s: (self.cpu_s - before.cpu_s).max(0.0),
            minor_faults: self.minor_faults.saturating_sub(before.minor_faults),
            major_faults: self.major_faults.saturating_sub(before.major_faults),
            voluntary_switches: self
                .voluntary_switches
                .saturating_sub(before.voluntary_switches),
            involuntary_switches: self
                .involuntary_switches
                .saturating_sub(before.involuntary_switches),
        }
    }
}

/// What the host did during one replay.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Interference {
    /// Wall time of the measurement window (s).
    pub wall_s: f64,
    /// Steal time of the pCPUs' cores, percent of the wall time (per core, averaged).
    pub steal_pct: f64,
    /// CPU time other processes got on the pCPUs' cores, percent of the wall time (per
    /// core, averaged).
    pub others_on_pcpus_pct: f64,
    /// CPU time other processes got on the whole machine, in cores (CPU seconds per
    /// second).
    pub others_machine_cores: f64,
    /// The VMM process's counters over the window.
    pub vmm: Usage,
    /// Involuntary context switches of the executor threads (the vCPUs' threads).
    pub executor_involuntary_switches: u64,
    /// CPU time of the executor threads (s).
    pub executor_cpu_s: f64,
    /// Native loop rate after / before − 1, percent.
    pub loop_drift_pct: f64,
}

/// Limits above which a replay counts as disturbed by the host.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Steal on the pCPUs' cores, percent of wall time.
    pub steal_pct: f64,
    /// Other processes on the pCPUs' cores, percent of wall time.
    pub others_on_pcpus_pct: f64,
    /// |loop-rate drift|, percent.
    pub loop_drift_pct: f64,
    /// Major page faults of the VMM.
    pub major_faults: u64,
}

impl Default for Thresholds {
    /// 2 % steal, 2 % other processes on the pCPUs' cores, 5 % loop-rate drift, any major
    /// fault. A replay of 10 s loses at most 0.2 s of core time to the host without a flag:
    /// about the error the model is expected to reach on CPU-bound work.
    fn default() -> Thresholds {
        Thresholds {
            steal_pct: 2.0,
            others_on_pcpus_pct: 2.0,
            loop_drift_pct: 5.0,
            major_faults: 0,
        }
    }
}

impl Thresholds {
    /// The limits for a replay whose CPU demand is spun as TSC time (`loop_demand` false)
    /// or as a calibrated loop count (`loop_demand` true). Only a loop count takes longer
    /// when the core slows down, so the loop-rate drift flags only those replays; a TSC
    /// replay reports it and ignores it.
    pub fn for_demand(
        loop_demand: bool,
        steal_pct: f64,
        others_on_pcpus_pct: f64,
        loop_drift_pct: f64,
    ) -> Thresholds {
        Thresholds {
            steal_pct,
            others_on_pcpus_pct,
            loop_drift_pct: if loop_demand {
                loop_drift_pct
            } else {
                f64::INFINITY
            },
            major_faults: 0,
        }
    }
}

impl Interference {
    /// Builds the figures of one window from `/proc/stat` deltas (`pcpus`: the replay's
    /// cores; `all`: the `cpu` line), the VMM's and the executors' `getrusage` deltas, the
    /// clock tick rate and the loop rates before and after.
    #[allow(clippy::too_many_arguments)]
    pub fn from_counters(
        wall_s: f64,
        ticks_per_s: f64,
        pcpus: &[CpuTicks],
        all: CpuTicks,
        vmm: Usage,
        executors: Usage,
        executors_share_cores: bool,
        rates: (f64, f64),
    ) -> Interference {
        let wall = wall_s.max(1e-9);
        let n = pcpus.len().max(1) as f64;
        let tick = 1.0 / ticks_per_s.max(1e-9);
        let steal: u64 = pcpus.iter().map(|c| c.steal).sum();
        let busy: u64 = pcpus.iter().map(|c| c.busy).sum();
        // Our own time on the pCPUs' cores: the executors', or the whole process when its
        // other threads share those cores.
        let own = if executors_share_cores {
            vmm.cpu_s
        } else {
            executors.cpu_s
        };
        let others = (busy as f64 * tick - own).max(0.0);
        let machine_others = (all.busy as f64 * tick - vmm.cpu_s).max(0.0);
        Interference {
            wall_s,
            steal_pct: 100.0 * steal as f64 * tick / (wall * n),
            others_on_pcpus_pct: 100.0 * others / (wall * n),
            others_machine_cores: machine_others / wall,
            vmm,
            executor_involuntary_switches: executors.involuntary_switches,
            executor_cpu_s: executors.cpu_s,
            loop_drift_pct: if rates.0 > 0.0 {
                100.0 * (rates.1 - rates.0) / rates.0
            } else {
                0.0
            },
        }
    }

    /// Why this replay counts as disturbed (empty: it does not).
    pub fn reasons(&self, t: &Thresholds) -> Vec<String> {
        let mut r = Vec::new();
        if self.steal_pct > t.steal_pct {
            r.push(format!(
                "steal {:.1} % > {:.1} %",
                self.steal_pct, t.steal_pct
            ));
        }
        if self.others_on_pcpus_pct > t.others_on_pcpus_pct {
            r.push(format!(
                "other processes {:.1} % of the pCPU core > {:.1} %",
                self.others_on_pcpus_pct, t.others_on_pcpus_pct
            ));
        }
        if self.loop_drift_pct.abs() > t.loop_drift_pct {
            r.push(format!(
                "loop rate drift {:+.1} % beyond ±{:.1} %",
                self.loop_drift_pct, t.loop_drift_pct
            ));
        }
        if self.vmm.major_faults > t.major_faults {
            r.push(format!(
                "{} major faults of the VMM > {}",
                self.vmm.major_faults, t.major_faults
            ));
        }
        r
    }

    /// One line for the report.
    pub fn line(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "window {:.2} s, executors' CPU {:.2} s, steal {:.2} %, others on pCPU core {:.2} % (machine {:.2} cores), loop drift {:+.2} %, \
             VMM faults {} minor / {} major, switches {} vol / {} invol (executors {})",
            self.wall_s,
            self.executor_cpu_s,
            self.steal_pct,
            self.others_on_pcpus_pct,
            self.others_machine_cores,
            self.loop_drift_pct,
            self.vmm.minor_faults,
            self.vmm.major_faults,
            self.vmm.voluntary_switches,
            self.vmm.involuntary_switches,
            self.executor_involuntary_switches
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  100 5 50 1000 10 1 2 7 0 0\n\
cpu0 60 0 30 400 5 1 1 4 0 0\n\
cpu1 40 5 20 600 5 0 1 3 0 0\n\
intr 12345\n\
ctxt 999\n";

    #[test]
    fn proc_stat_lines() {
        let v = parse_proc_stat(STAT);
        assert_eq!(v.len(), 3);
        // cpu: busy 100 + 5 + 50 + 1 + 2 = 158; idle 1000 + 10; steal 7.
        assert_eq!(
            v[0],
            (
                None,
                CpuTicks {
                    busy: 158,
                    idle: 1010,
                    steal: 7
                }
            )
        );
        assert_eq!(v[1].0, Some(0));
        assert_eq!(v[1].1.busy, 60 + 30 + 1 + 1);
        assert_eq!(v[2].1.steal, 3);
    }

    #[test]
    fn thresholds() {
        // 10 s window, 100 ticks/s, one pCPU core: 1,000 ticks. Busy 1,000 ticks = 10 s,
        // executors 9.9 s → others 0.1 s = 1 %; steal 10 ticks = 0.1 s = 1 %.
        let core = CpuTicks {
            busy: 1000,
            idle: 0,
            steal: 10,
        };
        let all = CpuTicks {
            busy: 1600,
            idle: 400,
            steal: 10,
        };
        let vmm = Usage {
            cpu_s: 12.0,
            ..Usage::default()
        };
        let exec = Usage {
            cpu_s: 9.9,
            involuntary_switches: 3,
            ..Usage::default()
        };
        let i =
            Interference::from_counters(10.0, 100.0, &[core], all, vmm, exec, false, (1e9, 1.02e9));
        assert!((i.steal_pct - 1.0).abs() < 1e-9);
        assert!((i.others_on_pcpus_pct - 1.0).abs() < 1e-9);
        // Machine: 16 s busy − 12 s of the VMM = 4 s over 10 s = 0.4 cores.
        assert!((i.others_machine_cores - 0.4).abs() < 1e-9);
        assert!((i.loop_drift_pct - 2.0).abs() < 1e-9);
        let t = Thresholds::default();
        assert!(i.reasons(&t).is_empty(), "{:?}", i.reasons(&t));
        // Executors got 9.0 s: others 1.0 s = 10 % > 2 %, flagged with the figure.
        let exec = Usage { cpu_s: 9.0, ..exec };
        let i =
            Interference::from_counters(10.0, 100.0, &[core], all, vmm, exec, false, (1e9, 0.9e9));
        let r = i.reasons(&t);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].contains("other processes 10.0 %"), "{r:?}");
        assert!(r[1].contains("-10.0 %"), "{r:?}");
        // Sharing the cores, the whole process counts as ours: 10 s − 12 s → 0, not < 0.
        let i = Interference::from_counters(10.0, 100.0, &[core], all, vmm, exec, true, (1.0, 1.0));
        assert_eq!(i.others_on_pcpus_pct, 0.0);
        assert!(i.reasons(&t).is_empty());
        // The loop rate halved (−50 %): a loop-count replay is flagged for it, a TSC one not.
        let i = Interference::from_counters(10.0, 100.0, &[core], all, vmm, exec, true, (2e9, 1e9));
        let loops = Thresholds::for_demand(true, 2.0, 2.0, 5.0);
        let tsc = Thresholds::for_demand(false, 2.0, 2.0, 5.0);
        assert_eq!(
            i.reasons(&loops),
            vec!["loop rate drift -50.0 % beyond ±5.0 %"]
        );
        assert!(i.reasons(&tsc).is_empty(), "{:?}", i.reasons(&tsc));
    }
}
