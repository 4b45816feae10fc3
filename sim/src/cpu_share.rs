//! Per-VM CPU share over time (`[run] cpu_share_s`): an [`Observer`] that adds up, for
//! each VM and each interval `[k × T, (k + 1) × T)`, the guest time its vCPUs spent on
//! pCPUs, exactly (integer nanoseconds, from the slices the engine reports: from the end
//! of the context switch to the end of the slice, the run time a CPU cap charges).
//!
//! A VM has a row for every interval from the one holding its arrival to the one holding
//! its finish (0 while it waits), so a plot of a VM's share drops to 0 where it was not
//! running. The share is in pCPU units: busy time / `T` (a VM with 2 vCPUs both running
//! has share 2). Rows are kept in memory until the end of the run (one per VM and
//! interval of its life): this is for runs small enough to plot VM by VM. Off, it costs
//! nothing (the engine builds slice records only for an observer that wants them).
//!
//! [`CpuShare::auto`] picks the interval itself: it starts at 1 ms and, whenever the run
//! reaches [`AUTO_INTERVALS`] intervals, coarsens to the next of 1, 2, 10, 20, 100, 200 …
//! ms (each a whole multiple of the one before, so the sums stay exact), so a run of any
//! length has between 40 and [`AUTO_INTERVALS`] intervals.

use std::collections::BTreeMap;

use crate::observer::{Observer, SliceRecord, VmRecord, VmTimes};
use crate::time::SimTime;

/// One row: the CPU time VM `vm` received in the interval that ends at `time`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuShareRow {
    /// End of the interval (`(k + 1) × T`); the interval is `[time − T, time)`.
    pub time: SimTime,
    /// VM id.
    pub vm: u64,
    /// Guest time on pCPUs in the interval, summed over the VM's vCPUs.
    pub cpu: SimTime,
    /// `cpu / T`: pCPUs' worth of CPU the VM held on average over the interval.
    pub share: f64,
}

/// The most intervals a run has under [`CpuShare::auto`].
pub const AUTO_INTERVALS: u64 = 400;

/// Adds up per-VM CPU time per interval (see the module's documentation).
#[derive(Clone, Debug)]
pub struct CpuShare {
    interval: u64,
    /// Coarsens the interval as the run grows ([`CpuShare::auto`]).
    auto: bool,
    /// Coarsenings so far.
    coarsened: u32,
    /// `(interval index, VM id)` → guest ns.
    busy: BTreeMap<(u64, u64), u64>,
    /// VM id → arrival and finish (ns).
    life: BTreeMap<u64, (u64, u64)>,
}

impl CpuShare {
    /// An empty account over intervals of `interval` (at least 1 ns).
    pub fn new(interval: SimTime) -> CpuShare {
        CpuShare {
            interval: interval.nanos().max(1),
            auto: false,
            coarsened: 0,
            busy: BTreeMap::new(),
            life: BTreeMap::new(),
        }
    }

    /// An empty account that chooses its interval (see the module's documentation).
    pub fn auto() -> CpuShare {
        CpuShare {
            auto: true,
            ..CpuShare::new(SimTime::from_millis(1))
        }
    }

    /// The interval `T` (so far, for [`CpuShare::auto`]).
    pub fn interval(&self) -> SimTime {
        SimTime(self.interval)
    }

    /// For [`CpuShare::auto`]: coarsens the interval until instant `t` (ns) falls within
    /// the first [`AUTO_INTERVALS`] intervals.
    fn reach(&mut self, t: u64) {
        while self.auto && t > AUTO_INTERVALS.saturating_mul(self.interval) {
            // 1 → 2 → 10 → 20 → 100 …: alternately × 2 and × 5.
            let f = if self.coarsened.is_multiple_of(2) {
                2
            } else {
                5
            };
            self.coarsened += 1;
            self.interval = self.interval.saturating_mul(f);
            let old = std::mem::take(&mut self.busy);
            for ((k, vm), ns) in old {
                *self.busy.entry((k / f, vm)).or_insert(0) += ns;
            }
        }
    }

    fn add(&mut self, vm: u64, from: u64, to: u64) {
        self.reach(to);
        let t = self.interval;
        let mut a = from;
        while a < to {
            let k = a / t;
            let b = to.min((k + 1).saturating_mul(t));
            *self.busy.entry((k, vm)).or_insert(0) += b - a;
            a = b;
        }
    }

    fn lived(&mut self, vm: u64, arrival: SimTime, finish: SimTime) {
        self.reach(finish.nanos());
        self.life.insert(vm, (arrival.nanos(), finish.nanos()));
    }

    /// The rows, by interval then VM id: every interval of each finished VM's life, and
    /// every interval in which a VM that did not finish ran.
    pub fn rows(&self) -> Vec<CpuShareRow> {
        let t = self.interval;
        let mut keys: Vec<(u64, u64)> = self
            .life
            .iter()
            .flat_map(|(&vm, &(arrival, finish))| {
                let first = arrival / t;
                let last = if finish > arrival {
                    (finish - 1) / t
                } else {
                    first
                };
                (first..=last).map(move |k| (k, vm))
            })
            .chain(self.busy.keys().copied())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
            .map(|(k, vm)| {
                let ns = self.busy.get(&(k, vm)).copied().unwrap_or(0);
                CpuShareRow {
                    time: SimTime((k + 1).saturating_mul(t)),
                    vm,
                    cpu: SimTime(ns),
                    share: ns as f64 / t as f64,
                }
            })
            .collect()
    }
}

impl Observer for CpuShare {
    fn wants_times_only(&self) -> bool {
        false
    }
    fn on_vm_finished(&mut self, r: &VmRecord) {
        self.lived(r.id, r.arrival, r.finish);
    }
    fn on_vm_times(&mut self, _t: &VmTimes) {
        // (Never called: this observer wants whole records, which carry the VM id.)
    }
    fn wants_slices(&self) -> bool {
        true
    }
    fn on_slice(&mut self, s: &SliceRecord) {
        self.add(s.vm, s.start.nanos(), s.end.nanos());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observer::SliceEnd;

    fn slice(vm: u64, start_ms: u64, end_ms: u64) -> SliceRecord {
        SliceRecord {
            host: 0,
            pcpu: 0,
            vm,
            vcpu: 0,
            dispatch: SimTime::from_millis(start_ms),
            start: SimTime::from_millis(start_ms),
            end: SimTime::from_millis(end_ms),
            reason: SliceEnd::Quantum,
        }
    }

    #[test]
    fn slices_are_split_at_interval_boundaries_and_idle_intervals_are_zero() {
        let mut c = CpuShare::new(SimTime::from_secs(1));
        // VM 1 runs 0.5–1.75 s and 3.25–3.5 s; lives 0.5–3.5 s.
        c.on_slice(&slice(1, 500, 1750));
        c.on_slice(&slice(1, 3250, 3500));
        c.on_vm_finished(&VmRecord {
            id: 1,
            arrival: SimTime::from_millis(500),
            finish: SimTime::from_millis(3500),
            ..VmRecord::default()
        });
        let rows = c.rows();
        let got: Vec<(u64, u64, f64)> = rows
            .iter()
            .map(|r| {
                (
                    r.time.nanos() / 1_000_000,
                    r.cpu.nanos() / 1_000_000,
                    r.share,
                )
            })
            .collect();
        // [0,1): 1 − 0.5 = 0.5 s; [1,2): 1.75 − 1 = 0.75 s; [2,3): nothing (it waited);
        // [3,4): 3.5 − 3.25 = 0.25 s. Rows are stamped with the interval's end.
        assert_eq!(
            got,
            vec![
                (1000, 500, 0.5),
                (2000, 750, 0.75),
                (3000, 0, 0.0),
                (4000, 250, 0.25)
            ]
        );
    }

    #[test]
    fn two_vcpus_add_up_and_rows_come_by_time_then_vm() {
        let mut c = CpuShare::new(SimTime::from_millis(100));
        // VM 7: two vCPUs over the whole of [0, 100 ms): share 2. VM 3 never finishes but
        // ran 20 ms in [100, 200 ms): one row, share 0.2.
        c.on_slice(&slice(7, 0, 100));
        c.on_slice(&slice(7, 0, 100));
        c.on_slice(&slice(3, 120, 140));
        let rows = c.rows();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].vm, rows[0].share), (7, 2.0));
        assert_eq!((rows[1].vm, rows[1].time), (3, SimTime::from_millis(200)));
        assert!((rows[1].share - 0.2).abs() < 1e-12);
    }

    #[test]
    fn auto_coarsens_by_two_and_five_and_keeps_the_sums() {
        let mut c = CpuShare::auto();
        assert_eq!(c.interval(), SimTime::from_millis(1));
        // A VM runs 0–3 s and lives 0–3 s: 3,000 intervals of 1 ms are too many; 1 → 2 →
        // 10 ms still gives 300 ≤ 400 intervals.
        c.on_slice(&slice(1, 0, 3000));
        c.on_vm_finished(&VmRecord {
            id: 1,
            finish: SimTime::from_secs(3),
            ..VmRecord::default()
        });
        assert_eq!(c.interval(), SimTime::from_millis(10));
        let rows = c.rows();
        assert_eq!(rows.len(), 300);
        assert!(rows.iter().all(|r| r.share == 1.0));
        // Another slice at 9.5–10 s: 10,000 ms / 400 = 25 ms > 20 ms, so 100 ms intervals;
        // the earlier sums merge exactly (10 × 10 ms = 100 ms busy per interval).
        c.on_slice(&slice(2, 9500, 10_000));
        assert_eq!(c.interval(), SimTime::from_millis(100));
        let rows = c.rows();
        let total: u64 = rows.iter().map(|r| r.cpu.nanos()).sum();
        assert_eq!(total, 3_500_000_000); // 3 s + 0.5 s
        assert!(rows.iter().filter(|r| r.vm == 1).all(|r| r.share == 1.0));
        assert_eq!(rows.iter().filter(|r| r.vm == 1).count(), 30);
        assert_eq!(rows.iter().filter(|r| r.vm == 2).count(), 5);
    }
}
