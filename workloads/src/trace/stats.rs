//! Summary statistics of a VM stream, computed in one pass with bounded memory.
//!
//! Counts, sums, extremes and the arrival profile are exact. Quantiles (median, p99) come
//! from a uniform reservoir sample of at most `reservoir` values per quantity (default
//! [`DEFAULT_RESERVOIR`]); they are exact when the trace has no more VMs than that. The
//! reservoir is drawn from a fixed-seed stream, so the output is reproducible.

use std::collections::BTreeMap;

use rand::Rng;
use sim::VmRequest;
use sim::rng::{SimRng, stream};

/// Default reservoir size (values kept per quantity for quantiles and fitting).
pub const DEFAULT_RESERVOIR: usize = 1_000_000;

/// A uniform random sample of at most `cap` values of a stream (Vitter's algorithm R).
#[derive(Clone, Debug)]
pub struct Reservoir {
    cap: usize,
    seen: u64,
    values: Vec<f64>,
    rng: SimRng,
}

impl Reservoir {
    /// An empty reservoir of capacity `cap`, drawing from the stream named `name`.
    pub fn new(cap: usize, name: &str) -> Reservoir {
        Reservoir {
            cap: cap.max(1),
            seen: 0,
            values: Vec::new(),
            rng: stream(0, 0, name),
        }
    }

    /// Offers one value.
    pub fn push(&mut self, x: f64) {
        self.seen += 1;
        if self.values.len() < self.cap {
            self.values.push(x);
        } else {
            let j = self.rng.random_range(0..self.seen);
            if let Ok(j) = usize::try_from(j)
                && j < self.cap
            {
                self.values[j] = x;
            }
        }
    }

    /// Values offered so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// True if every value offered is in the sample.
    pub fn is_complete(&self) -> bool {
        self.seen as usize == self.values.len()
    }

    /// The sample, sorted ascending.
    pub fn sorted(&self) -> Vec<f64> {
        let mut v = self.values.clone();
        v.sort_by(f64::total_cmp);
        v
    }
}

/// The `q` quantile (0 ≤ q ≤ 1) of sorted values, by the nearest-rank rule
/// (`⌈q·n⌉`-th smallest, the smallest for q = 0). NaN if empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let n = sorted.len();
    let rank = (q * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// Mean, standard deviation and extremes of a quantity.
#[derive(Clone, Debug)]
pub struct Moments {
    n: u64,
    sum: f64,
    sum2: f64,
    min: f64,
    max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            n: 0,
            sum: 0.0,
            sum2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Moments {
    /// Adds a value.
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum2 += x * x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }
    /// Number of values.
    pub fn count(&self) -> u64 {
        self.n
    }
    /// Mean (NaN if empty).
    pub fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }
    /// Sum.
    pub fn sum(&self) -> f64 {
        self.sum
    }
    /// Sample standard deviation (n − 1; NaN with fewer than 2 values).
    pub fn sd(&self) -> f64 {
        let n = self.n as f64;
        ((self.sum2 - self.sum * self.sum / n) / (n - 1.0))
            .max(0.0)
            .sqrt()
    }
    /// Coefficient of variation (sd / mean).
    pub fn cv(&self) -> f64 {
        self.sd() / self.mean()
    }
    /// Smallest value.
    pub fn min(&self) -> f64 {
        self.min
    }
    /// Largest value.
    pub fn max(&self) -> f64 {
        self.max
    }
}

/// One quantity's summary: moments and a reservoir for quantiles.
#[derive(Clone, Debug)]
pub struct Quantity {
    /// Exact moments.
    pub moments: Moments,
    /// Sample for quantiles and fitting.
    pub sample: Reservoir,
}

impl Quantity {
    fn new(cap: usize, name: &str) -> Quantity {
        Quantity {
            moments: Moments::default(),
            sample: Reservoir::new(cap, name),
        }
    }
    fn push(&mut self, x: f64) {
        self.moments.push(x);
        self.sample.push(x);
    }
    /// (mean, median, p99, max).
    pub fn summary(&self) -> (f64, f64, f64, f64) {
        let s = self.sample.sorted();
        (
            self.moments.mean(),
            quantile(&s, 0.5),
            quantile(&s, 0.99),
            self.moments.max(),
        )
    }
}

/// Statistics of a VM stream (feed it with [`TraceStats::push`]).
#[derive(Clone, Debug)]
pub struct TraceStats {
    /// VMs seen.
    pub count: u64,
    /// First arrival (s).
    pub first_arrival_s: f64,
    /// Last arrival (s).
    pub last_arrival_s: f64,
    /// Seconds added to arrival times to get the time of day (e.g. the SWF
    /// `UnixStartTime` mod 86 400 for UTC hours).
    pub day_offset_s: f64,
    /// Arrivals by hour of day (0–23, after `day_offset_s`).
    pub by_hour: [u64; 24],
    /// Inter-arrival times (s).
    pub interarrival: Quantity,
    /// Runtimes (s).
    pub runtime: Quantity,
    /// Estimates divided by runtimes.
    pub estimate_ratio: Moments,
    /// vCPUs per VM.
    pub vcpus: Quantity,
    /// Memory per VM (MiB).
    pub memory_mib: Quantity,
    /// VMs by vCPU count.
    pub vcpu_counts: BTreeMap<u32, u64>,
    /// VMs by priority class.
    pub priorities: BTreeMap<i32, u64>,
    /// Σ vCPUs × runtime (vCPU-seconds of work).
    pub vcpu_seconds: f64,
    /// Arrivals per whole hour since the first arrival: (hour index, count) of the
    /// busiest hour.
    pub peak_hour: (u64, u64),
    current_hour: (u64, u64),
}

impl TraceStats {
    /// Empty statistics keeping at most `reservoir` values per quantity.
    pub fn new(reservoir: usize, day_offset_s: f64) -> TraceStats {
        TraceStats {
            count: 0,
            first_arrival_s: f64::NAN,
            last_arrival_s: f64::NAN,
            day_offset_s,
            by_hour: [0; 24],
            interarrival: Quantity::new(reservoir, "stats-interarrival"),
            runtime: Quantity::new(reservoir, "stats-runtime"),
            estimate_ratio: Moments::default(),
            vcpus: Quantity::new(reservoir, "stats-vcpus"),
            memory_mib: Quantity::new(reservoir, "stats-memory"),
            vcpu_counts: BTreeMap::new(),
            priorities: BTreeMap::new(),
            vcpu_seconds: 0.0,
            peak_hour: (0, 0),
            current_hour: (0, 0),
        }
    }

    /// Adds one VM (VMs must come in arrival order).
    pub fn push(&mut self, vm: &VmRequest) {
        let a = vm.arrival.as_secs_f64();
        if self.count == 0 {
            self.first_arrival_s = a;
        } else {
            self.interarrival.push(a - self.last_arrival_s);
        }
        self.last_arrival_s = a;
        self.count += 1;
        let hour_of_day = (((a + self.day_offset_s) / 3600.0).floor() as i64).rem_euclid(24);
        self.by_hour[hour_of_day as usize] += 1;
        let hour = ((a - self.first_arrival_s) / 3600.0).floor() as u64;
        if hour == self.current_hour.0 {
            self.current_hour.1 += 1;
        } else {
            self.current_hour = (hour, 1);
        }
        if self.current_hour.1 > self.peak_hour.1 {
            self.peak_hour = self.current_hour;
        }
        let run = vm.demand.as_secs_f64();
        self.runtime.push(run);
        if run > 0.0 {
            self.estimate_ratio.push(vm.estimate.as_secs_f64() / run);
        }
        self.vcpus.push(f64::from(vm.vcpus));
        self.memory_mib.push(vm.memory_mib as f64);
        *self.vcpu_counts.entry(vm.vcpus).or_insert(0) += 1;
        *self.priorities.entry(vm.priority).or_insert(0) += 1;
        self.vcpu_seconds += f64::from(vm.vcpus) * run;
    }

    /// Last arrival − first arrival (s).
    pub fn span_s(&self) -> f64 {
        self.last_arrival_s - self.first_arrival_s
    }

    /// Mean arrival rate: (count − 1) / span, per second (NaN for fewer than 2 VMs).
    pub fn rate_per_s(&self) -> f64 {
        (self.count as f64 - 1.0) / self.span_s()
    }

    /// Offered load in busy vCPUs: Σ vCPUs × runtime / span.
    pub fn mean_busy_vcpus(&self) -> f64 {
        self.vcpu_seconds / self.span_s()
    }

    /// Mean arrivals per hour for each hour of day, over the days the trace spans.
    pub fn hourly_rate(&self) -> [f64; 24] {
        let days = (self.span_s() / 86_400.0).max(1.0 / 24.0);
        self.by_hour.map(|n| n as f64 / days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::SimTime;

    fn vm(arrival: u64, run: u64, vcpus: u32, prio: i32) -> VmRequest {
        VmRequest {
            id: 0,
            arrival: SimTime::from_secs(arrival),
            vcpus,
            memory_mib: 1024 * u64::from(vcpus),
            priority: prio,
            demand: SimTime::from_secs(run),
            estimate: SimTime::from_secs(2 * run),
            tenant: None,
            profile: Default::default(),
        }
    }

    #[test]
    fn hand_worked() {
        let mut s = TraceStats::new(100, 0.0);
        // Arrivals 0, 10, 3600, 7300 s; runtimes 10, 20, 30, 40 s; vCPUs 1, 2, 2, 4.
        for v in [
            vm(0, 10, 1, 1),
            vm(10, 20, 2, 1),
            vm(3600, 30, 2, 2),
            vm(7300, 40, 4, 0),
        ] {
            s.push(&v);
        }
        assert_eq!(s.count, 4);
        assert_eq!(s.span_s(), 7300.0);
        // 3 gaps over 7300 s.
        assert!((s.rate_per_s() - 3.0 / 7300.0).abs() < 1e-15);
        // Gaps 10, 3590, 3700: mean 7300/3 = 2433.33.
        assert!((s.interarrival.moments.mean() - 7300.0 / 3.0).abs() < 1e-9);
        // Hours of day: 0, 0, 1, 2.
        assert_eq!(&s.by_hour[..4], &[2, 1, 1, 0]);
        // Busiest whole hour since the start: hour 0 with 2 arrivals.
        assert_eq!(s.peak_hour, (0, 2));
        // Runtimes 10, 20, 30, 40: mean 25, nearest-rank median = 2nd = 20, p99 = 4th = 40.
        assert_eq!(s.runtime.summary(), (25.0, 20.0, 40.0, 40.0));
        // Σ vcpus × runtime = 10 + 40 + 60 + 160 = 270 vCPU·s.
        assert_eq!(s.vcpu_seconds, 270.0);
        assert_eq!(s.estimate_ratio.mean(), 2.0);
        assert_eq!(s.vcpu_counts.get(&2), Some(&2));
        assert_eq!(s.priorities.get(&1), Some(&2));
        // Runtime sd: deviations −15, −5, 5, 15 → Σ² = 500, /3 = 166.67, sd = 12.91.
        assert!((s.runtime.moments.sd() - (500.0f64 / 3.0).sqrt()).abs() < 1e-9);
    }

    #[test]
    fn reservoir_is_bounded_and_uniform_enough() {
        let mut r = Reservoir::new(1000, "t");
        for i in 0..100_000 {
            r.push(f64::from(i));
        }
        assert_eq!(r.sorted().len(), 1000);
        assert!(!r.is_complete());
        // The sample mean of 1000 uniform draws from 0..1e5: sd = 28 868/√1000 = 913;
        // 4 sd = 3 651 around 49 999.5.
        let m: f64 = r.sorted().iter().sum::<f64>() / 1000.0;
        assert!((m - 49_999.5).abs() < 3_700.0, "{m}");
        assert_eq!(quantile(&[1.0, 2.0, 3.0], 0.5), 2.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0], 0.0), 1.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
