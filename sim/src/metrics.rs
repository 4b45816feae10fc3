//! Per-run metrics: the observer that summarises finished VMs, overall and per priority
//! class, in memory bounded by the number of classes (not the number of VMs).
//!
//! Means are exact (running sums of integer nanoseconds). Quantiles come from an HDR
//! histogram with 3 significant digits: a reported quantile is within 0.1 % of the true
//! sample quantile (relative), plus at most 1 ns.

use std::borrow::Cow;

use hdrhistogram::Histogram;

use crate::engine::RunStats;
use crate::observer::{Observer, VmRecord, VmTimes};
use crate::stats::jain_index;
use crate::time::SimTime;

/// Which VMs a summary row covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Every VM.
    All,
    /// VMs of one priority class.
    Priority(i32),
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Class::All => write!(f, "all"),
            Class::Priority(p) => write!(f, "{p}"),
        }
    }
}

#[derive(Clone, Debug)]
struct Acc {
    n: u64,
    sum_wait: u128,
    sum_queue_wait: u128,
    sum_ready_wait: u128,
    sum_response: u128,
    sum_turnaround: u128,
    sum_service: u128,
    sum_slowdown: f64,
    fair_sum: f64,
    fair_sum_sq: f64,
    max_wait: u64,
    /// Waits above 0. The commonest wait, 0 (a VM that never waited), is only counted
    /// (`zero_waits`) and added when the histogram is read ([`Acc::wait_histogram`]): a
    /// counter is a cheaper step than a histogram record, and the counts are the same.
    wait: Histogram<u64>,
    zero_waits: u64,
    turnaround: Histogram<u64>,
}

impl Acc {
    fn new() -> Acc {
        // `Histogram::new` fails only for a precision outside 0..=5; 3 is a constant.
        #[allow(clippy::expect_used)]
        let h = || Histogram::<u64>::new(3).expect("3 significant digits is a valid precision");
        Acc {
            n: 0,
            sum_wait: 0,
            sum_queue_wait: 0,
            sum_ready_wait: 0,
            sum_response: 0,
            sum_turnaround: 0,
            sum_service: 0,
            sum_slowdown: 0.0,
            fair_sum: 0.0,
            fair_sum_sq: 0.0,
            max_wait: 0,
            wait: h(),
            zero_waits: 0,
            turnaround: h(),
        }
    }

    #[inline]
    fn add(&mut self, r: &VmTimes) {
        let wait = r.wait().nanos();
        let turnaround = r.turnaround().nanos();
        self.n += 1;
        self.sum_wait += u128::from(wait);
        self.sum_queue_wait += u128::from(r.queue_wait().nanos());
        self.sum_ready_wait += u128::from(r.ready_wait.nanos());
        self.sum_response += u128::from(r.response().nanos());
        self.sum_turnaround += u128::from(turnaround);
        self.sum_service += u128::from(r.service.nanos());
        let slowdown = r.slowdown();
        self.sum_slowdown += slowdown;
        // Fairness of progress: each VM's share x = service / turnaround ∈ (0, 1].
        let x = if slowdown.is_finite() && slowdown > 0.0 {
            1.0 / slowdown
        } else {
            0.0
        };
        self.fair_sum += x;
        self.fair_sum_sq += x * x;
        self.max_wait = self.max_wait.max(wait);
        // Auto-resizing histograms only fail on values beyond u64 range, which a SimTime
        // cannot exceed; a failed record would only lose one quantile sample.
        if wait == 0 {
            self.zero_waits += 1;
        } else {
            let _ = self.wait.record(wait);
        }
        let _ = self.turnaround.record(turnaround);
    }

    fn merge(&mut self, o: &Acc) {
        self.n += o.n;
        self.sum_wait += o.sum_wait;
        self.sum_queue_wait += o.sum_queue_wait;
        self.sum_ready_wait += o.sum_ready_wait;
        self.sum_response += o.sum_response;
        self.sum_turnaround += o.sum_turnaround;
        self.sum_service += o.sum_service;
        self.sum_slowdown += o.sum_slowdown;
        self.fair_sum += o.fair_sum;
        self.fair_sum_sq += o.fair_sum_sq;
        self.max_wait = self.max_wait.max(o.max_wait);
        // Same precision, auto-resizing: adding cannot fail.
        let _ = self.wait.add(&o.wait);
        self.zero_waits += o.zero_waits;
        let _ = self.turnaround.add(&o.turnaround);
    }

    /// Every wait: the histogram of waits above 0 with the zero waits added.
    fn wait_histogram(&self) -> Cow<'_, Histogram<u64>> {
        if self.zero_waits == 0 {
            return Cow::Borrowed(&self.wait);
        }
        let mut all = self.wait.clone();
        // Recording 0 never resizes the histogram, so it cannot fail.
        let _ = all.record_n(0, self.zero_waits);
        Cow::Owned(all)
    }

    fn summary(&self, class: Class) -> ClassSummary {
        let wait = self.wait_histogram();
        let n = self.n.max(1) as f64;
        let mean = |s: u128| s as f64 / n / 1e9;
        let q = |h: &Histogram<u64>, q: f64| {
            if self.n == 0 {
                f64::NAN
            } else {
                h.value_at_quantile(q) as f64 / 1e9
            }
        };
        let nan_if_empty = |x: f64| if self.n == 0 { f64::NAN } else { x };
        ClassSummary {
            class,
            vms: self.n,
            mean_wait_s: nan_if_empty(mean(self.sum_wait)),
            p50_wait_s: q(&wait, 0.50),
            p95_wait_s: q(&wait, 0.95),
            p99_wait_s: q(&wait, 0.99),
            max_wait_s: nan_if_empty(self.max_wait as f64 / 1e9),
            mean_queue_wait_s: nan_if_empty(mean(self.sum_queue_wait)),
            mean_ready_wait_s: nan_if_empty(mean(self.sum_ready_wait)),
            mean_response_s: nan_if_empty(mean(self.sum_response)),
            mean_turnaround_s: nan_if_empty(mean(self.sum_turnaround)),
            p95_turnaround_s: q(&self.turnaround, 0.95),
            mean_service_s: nan_if_empty(mean(self.sum_service)),
            mean_slowdown: nan_if_empty(self.sum_slowdown / n),
            jain_fairness: jain_index(self.n, self.fair_sum, self.fair_sum_sq),
        }
    }
}

/// Summary of the VMs of one class in one run. Times in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassSummary {
    /// The class.
    pub class: Class,
    /// VMs counted (warm-up VMs excluded).
    pub vms: u64,
    /// Mean of `wait` = turnaround − service.
    pub mean_wait_s: f64,
    /// Median wait.
    pub p50_wait_s: f64,
    /// 95th percentile of wait.
    pub p95_wait_s: f64,
    /// 99th percentile of wait.
    pub p99_wait_s: f64,
    /// Largest wait.
    pub max_wait_s: f64,
    /// Mean of admission − arrival.
    pub mean_queue_wait_s: f64,
    /// Mean of the time vCPUs were runnable but not running (summed over a VM's vCPUs).
    pub mean_ready_wait_s: f64,
    /// Mean of first run − arrival.
    pub mean_response_s: f64,
    /// Mean of finish − arrival.
    pub mean_turnaround_s: f64,
    /// 95th percentile of turnaround.
    pub p95_turnaround_s: f64,
    /// Mean service time.
    pub mean_service_s: f64,
    /// Mean of turnaround / service.
    pub mean_slowdown: f64,
    /// Jain's index of the VMs' progress rates service / turnaround.
    pub jain_fairness: f64,
}

/// Summary of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// `all` first, then each priority class in increasing order.
    pub classes: Vec<ClassSummary>,
    /// Engine counters.
    pub stats: RunStats,
    /// Busy pCPU time / (pCPUs × makespan), context switches included.
    pub cpu_utilization: f64,
    /// Finished VMs per second of makespan.
    pub throughput_per_s: f64,
    /// Time-average number of VMs in the system, from the engine's own count (Little's L).
    pub mean_in_system: f64,
}

/// The names of [`RunSummary::metric_values`], in order: the `all` class's metrics, then
/// the run-level ones (the column names of `summary.csv` and `sweep.csv`).
pub const RUN_METRICS: [&str; 18] = [
    "vms",
    "mean_wait_s",
    "p50_wait_s",
    "p95_wait_s",
    "p99_wait_s",
    "max_wait_s",
    "mean_queue_wait_s",
    "mean_ready_wait_s",
    "mean_response_s",
    "mean_turnaround_s",
    "p95_turnaround_s",
    "mean_slowdown",
    "jain_fairness",
    "cpu_utilization",
    "throughput_per_s",
    "mean_in_system",
    "events",
    "rejected",
];

impl RunSummary {
    /// The `all` row.
    pub fn all(&self) -> &ClassSummary {
        &self.classes[0]
    }

    /// The values of [`RUN_METRICS`] for this run.
    pub fn metric_values(&self) -> [f64; 18] {
        let a = self.all();
        [
            a.vms as f64,
            a.mean_wait_s,
            a.p50_wait_s,
            a.p95_wait_s,
            a.p99_wait_s,
            a.max_wait_s,
            a.mean_queue_wait_s,
            a.mean_ready_wait_s,
            a.mean_response_s,
            a.mean_turnaround_s,
            a.p95_turnaround_s,
            a.mean_slowdown,
            a.jain_fairness,
            self.cpu_utilization,
            self.throughput_per_s,
            self.mean_in_system,
            self.stats.events as f64,
            self.stats.rejected as f64,
        ]
    }
}

/// The observer that builds a [`RunSummary`].
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Per priority class, sorted by class (few classes: a linear scan beats a map).
    by_class: Vec<(i32, Acc)>,
    /// Sum of turnarounds of every finished VM, warm-up included (for Little's law).
    pub total_turnaround: u128,
    /// Finished VMs, warm-up included.
    pub finished: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// An empty accumulator.
    pub fn new() -> Metrics {
        Metrics {
            by_class: Vec::new(),
            total_turnaround: 0,
            finished: 0,
        }
    }

    /// The summary, given the engine's counters for the same run.
    pub fn summary(&self, stats: &RunStats) -> RunSummary {
        // The `all` row merges the classes (sums add; histograms add exactly).
        let mut all = Acc::new();
        for (_, a) in &self.by_class {
            all.merge(a);
        }
        let mut classes = vec![all.summary(Class::All)];
        classes.extend(
            self.by_class
                .iter()
                .map(|(p, a)| a.summary(Class::Priority(*p))),
        );
        let makespan = stats.makespan.as_secs_f64();
        let capacity = makespan * stats.total_pcpus as f64;
        RunSummary {
            classes,
            cpu_utilization: if capacity > 0.0 {
                stats.busy_ns as f64 / 1e9 / capacity
            } else {
                0.0
            },
            throughput_per_s: if makespan > 0.0 {
                self.finished as f64 / makespan
            } else {
                0.0
            },
            mean_in_system: if makespan > 0.0 {
                stats.vm_time_area_ns as f64 / 1e9 / makespan
            } else {
                0.0
            },
            stats: stats.clone(),
        }
    }
}

impl Metrics {
    #[inline]
    fn add(&mut self, r: &VmTimes) {
        self.finished += 1;
        self.total_turnaround += u128::from(r.turnaround().nanos());
        if r.warmup {
            return;
        }
        let i = match self.by_class.iter().position(|(p, _)| *p >= r.priority) {
            Some(i) if self.by_class[i].0 == r.priority => i,
            Some(i) => {
                self.by_class.insert(i, (r.priority, Acc::new()));
                i
            }
            None => {
                self.by_class.push((r.priority, Acc::new()));
                self.by_class.len() - 1
            }
        };
        self.by_class[i].1.add(r);
    }
}

/// Summaries read only the VMs' times: a write-behind hands over just those.
impl Observer for Metrics {
    #[inline]
    fn on_vm_finished(&mut self, r: &VmRecord) {
        self.add(&r.times());
    }
    fn wants_times_only(&self) -> bool {
        true
    }
    #[inline]
    fn on_vm_times(&mut self, t: &VmTimes) {
        self.add(t);
    }
}

/// Convenience: seconds of a [`SimTime`] as `f64`.
pub fn secs(t: SimTime) -> f64 {
    t.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Zero waits kept as a count give the quantiles of a histogram that recorded every
    /// wait, including after a merge: 400 VMs that never waited and 600 that waited
    /// 1..600 ms, split over two accumulators.
    #[test]
    fn zero_waits_counted_apart_give_the_same_quantiles() {
        let record = |i: u64| {
            let wait = if i % 5 < 2 { 0 } else { i * 1_000_000 };
            VmRecord {
                arrival: SimTime(0),
                admission: SimTime(wait),
                first_run: SimTime(wait),
                service: SimTime::from_secs(1),
                finish: SimTime(wait + 1_000_000_000),
                ..Default::default()
            }
        };
        let (mut a, mut b) = (Acc::new(), Acc::new());
        let mut every = Histogram::<u64>::new(3).unwrap();
        for i in 0..1000 {
            let r = record(i);
            every.record(r.wait().nanos()).unwrap();
            if i < 500 {
                a.add(&r.times())
            } else {
                b.add(&r.times())
            }
        }
        a.merge(&b);
        assert_eq!(a.zero_waits, 400);
        let all = a.wait_histogram();
        assert_eq!(all.len(), 1000);
        for q in [0.1, 0.39, 0.4, 0.41, 0.5, 0.95, 0.99, 1.0] {
            assert_eq!(
                all.value_at_quantile(q),
                every.value_at_quantile(q),
                "q = {q}"
            );
        }
        assert_eq!(
            a.summary(Class::All).p50_wait_s,
            every.value_at_quantile(0.5) as f64 / 1e9
        );
    }
}
