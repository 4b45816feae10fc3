//! The synthetic VM stream of a scenario's `[workload]`.

use std::iter::FusedIterator;

use rand_distr::{Distribution, Exp, LogNormal};
use sim::rng::{SimRng, purpose, stream};
use sim::{SimTime, VmRequest};

use crate::dist::{Picker, ServiceSampler, check_non_negative};
use crate::error::Error;
use crate::scenario::{Arrival, Estimate, WorkloadSpec, gib_to_mib};

/// Streams the VM requests of one replication, in arrival order, ids `0, 1, 2, …`.
///
/// Holds no VMs: each request is drawn when asked for, without allocating. Every quantity
/// has its own random stream (`sim::rng::stream(seed, replication, purpose)`), so changing
/// how one is drawn leaves the others as they were:
///
/// * `arrivals` — inter-arrival times (Poisson; none for deterministic arrivals);
/// * `sizes` — the vCPU count, then the memory size (each only if it is a weighted choice);
/// * `service` — the CPU demand per vCPU;
/// * `priority` — the priority class (only if weighted);
/// * `estimate` — the noise of the user's estimate (only if noisy).
///
/// The first VM arrives one inter-arrival time after 0. Times are rounded to the nearest
/// nanosecond; a draw too large for [`SimTime`] is clamped to [`SimTime::MAX`] (and a
/// negative or NaN one, impossible for valid distributions, to zero).
#[derive(Clone, Debug)]
pub struct Generator {
    remaining: u64,
    next_id: u64,
    arrivals: Arrivals,
    /// Arrival time of the previous VM.
    clock: SimTime,
    vcpus: Picker<u32>,
    memory_gib: Picker<f64>,
    service: ServiceSampler,
    priority: Picker<i32>,
    estimate_noise: Option<LogNormal<f64>>,
    rng_arrivals: SimRng,
    rng_sizes: SimRng,
    rng_service: SimRng,
    rng_priority: SimRng,
    rng_estimate: SimRng,
}

#[derive(Clone, Debug)]
enum Arrivals {
    Poisson(Exp<f64>),
    /// VM `k` (0-based) arrives at `(k + 1) × interval_s`, computed from `k` rather than
    /// summed, so rounding does not drift.
    Deterministic(f64),
}

impl Generator {
    /// A generator of `vms` requests drawn from `spec` for replication `replication` of a
    /// run seeded with `seed`. Fails (naming the `workload.…` key) if `spec` is invalid.
    pub fn new(
        spec: &WorkloadSpec,
        seed: u64,
        replication: u64,
        vms: u64,
    ) -> Result<Generator, Error> {
        spec.arrival.validate("workload.arrival")?;
        let arrivals = match spec.arrival {
            Arrival::Poisson { rate_per_s } => Arrivals::Poisson(
                Exp::new(rate_per_s)
                    .map_err(|e| Error::invalid("workload.arrival.rate_per_s", e.to_string()))?,
            ),
            Arrival::Deterministic { interval_s } => Arrivals::Deterministic(interval_s),
        };
        let vcpus = spec.vcpus.picker("workload.vcpus", "values", |v: u32| {
            if v == 0 {
                Err("must be ≥ 1, got 0".to_string())
            } else {
                Ok(())
            }
        })?;
        let memory_gib = spec
            .memory_gib
            .picker("workload.memory_gib", "values", |v: f64| {
                if v.is_nan() || v < 0.0 {
                    Err(format!("must be ≥ 0, got {v}"))
                } else if gib_to_mib(v).is_none() {
                    Err(format!("too large, got {v}"))
                } else {
                    Ok(())
                }
            })?;
        let service = spec.service.sampler("workload.service")?;
        let priority = spec
            .priority
            .picker("workload.priority", "classes", |_| Ok(()))?;
        let estimate_noise = match spec.estimate {
            Estimate::Exact => None,
            Estimate::Noisy { noise_cv } => {
                let key = "workload.estimate.noise_cv";
                check_non_negative(key, noise_cv)?;
                Some(
                    LogNormal::from_mean_cv(1.0, noise_cv)
                        .map_err(|e| Error::invalid(key, format!("{e} (noise_cv = {noise_cv})")))?,
                )
            }
        };
        Ok(Generator {
            remaining: vms,
            next_id: 0,
            arrivals,
            clock: SimTime::ZERO,
            vcpus,
            memory_gib,
            service,
            priority,
            estimate_noise,
            rng_arrivals: stream(seed, replication, purpose::ARRIVALS),
            rng_sizes: stream(seed, replication, purpose::SIZES),
            rng_service: stream(seed, replication, purpose::SERVICE),
            rng_priority: stream(seed, replication, purpose::PRIORITY),
            rng_estimate: stream(seed, replication, purpose::ESTIMATE),
        })
    }
}

/// Seconds to [`SimTime`], rounded to the nanosecond and clamped instead of failing.
pub(crate) fn secs_to_time(s: f64) -> SimTime {
    match SimTime::from_secs_f64(s) {
        Some(t) => t,
        None if s > 0.0 => SimTime::MAX,
        None => SimTime::ZERO,
    }
}

impl Iterator for Generator {
    type Item = VmRequest;

    fn next(&mut self) -> Option<VmRequest> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let id = self.next_id;
        self.next_id += 1;

        let arrival = match &self.arrivals {
            Arrivals::Poisson(exp) => self
                .clock
                .saturating_add(secs_to_time(exp.sample(&mut self.rng_arrivals))),
            // (id + 1) as f64 is exact up to 2⁵³ VMs; `max` keeps the order non-decreasing
            // even where the product rounds.
            Arrivals::Deterministic(interval) => {
                secs_to_time((id as f64 + 1.0) * interval).max(self.clock)
            }
        };
        self.clock = arrival;

        let vcpus = self.vcpus.sample(&mut self.rng_sizes);
        let memory_mib = gib_to_mib(self.memory_gib.sample(&mut self.rng_sizes)).unwrap_or(0);
        let service_s = self.service.sample(&mut self.rng_service);
        let priority = self.priority.sample(&mut self.rng_priority);
        let estimate_s = match &self.estimate_noise {
            Some(noise) => service_s * noise.sample(&mut self.rng_estimate),
            None => service_s,
        };

        Some(VmRequest {
            id,
            arrival,
            vcpus,
            memory_mib,
            priority,
            demand: secs_to_time(service_s),
            estimate: secs_to_time(estimate_s),
            tenant: None,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match usize::try_from(self.remaining) {
            Ok(n) => (n, Some(n)),
            Err(_) => (usize::MAX, None),
        }
    }
}

impl FusedIterator for Generator {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::{Choice, ServiceDist};

    fn spec(arrival: Arrival, estimate: Estimate) -> WorkloadSpec {
        WorkloadSpec {
            arrival,
            vcpus: Choice::Weighted {
                values: vec![1, 2, 4],
                weights: vec![0.5, 0.3, 0.2],
            },
            memory_gib: Choice::Fixed(1.5),
            service: ServiceDist::Exponential { mean_s: 10.0 },
            priority: Choice::Weighted {
                values: vec![1, 2],
                weights: vec![1.0, 1.0],
            },
            estimate,
        }
    }

    #[test]
    fn deterministic_arrivals_are_exact() {
        let s = spec(Arrival::Deterministic { interval_s: 2.0 }, Estimate::Exact);
        let vms: Vec<_> = Generator::new(&s, 1, 0, 4).unwrap().collect();
        // VM k arrives at (k + 1) × 2 s.
        let arrivals: Vec<u64> = vms.iter().map(|v| v.arrival.nanos()).collect();
        assert_eq!(arrivals, [2, 4, 6, 8].map(|s| s * 1_000_000_000));
        assert_eq!(vms.iter().map(|v| v.id).collect::<Vec<_>>(), [0, 1, 2, 3]);
        for v in &vms {
            // 1.5 GiB = 1536 MiB; exact estimates equal the demand.
            assert_eq!(v.memory_mib, 1536);
            assert_eq!(v.estimate, v.demand);
            assert!([1, 2, 4].contains(&v.vcpus));
            assert!([1, 2].contains(&v.priority));
            assert_eq!(v.tenant, None);
        }
    }

    #[test]
    fn same_seed_same_stream_other_replication_other_stream() {
        let s = spec(
            Arrival::Poisson { rate_per_s: 3.0 },
            Estimate::Noisy { noise_cv: 0.5 },
        );
        let a: Vec<_> = Generator::new(&s, 9, 0, 100).unwrap().collect();
        let b: Vec<_> = Generator::new(&s, 9, 0, 100).unwrap().collect();
        let c: Vec<_> = Generator::new(&s, 9, 1, 100).unwrap().collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn streams_are_independent_per_purpose() {
        // Changing the service distribution must not move arrivals, sizes or priorities.
        let s1 = spec(Arrival::Poisson { rate_per_s: 3.0 }, Estimate::Exact);
        let mut s2 = s1.clone();
        s2.service = ServiceDist::Lognormal {
            mean_s: 10.0,
            cv: 2.0,
        };
        let key = |v: &VmRequest| (v.arrival, v.vcpus, v.memory_mib, v.priority);
        let a: Vec<_> = Generator::new(&s1, 5, 0, 200)
            .unwrap()
            .map(|v| key(&v))
            .collect();
        let b: Vec<_> = Generator::new(&s2, 5, 0, 200)
            .unwrap()
            .map(|v| key(&v))
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn poisson_rate_and_estimate_noise() {
        let s = spec(
            Arrival::Poisson { rate_per_s: 4.0 },
            Estimate::Noisy { noise_cv: 0.5 },
        );
        let n = 200_000u64;
        let mut g = Generator::new(&s, 11, 0, n).unwrap();
        assert_eq!(g.size_hint(), (200_000, Some(200_000)));
        let (mut last, mut ratio_sum) = (SimTime::ZERO, 0.0);
        let mut count = 0u64;
        for v in g.by_ref() {
            assert!(v.arrival >= last);
            last = v.arrival;
            ratio_sum += v.estimate.as_secs_f64() / v.demand.as_secs_f64();
            count += 1;
        }
        assert_eq!(count, n);
        assert_eq!(g.next(), None);
        // The last arrival is a sum of n exponentials of mean 0.25 s: mean n/4 = 50 000 s,
        // sd √n · 0.25 = 111.8 s = 0.224 %; 4 sd = 0.9 % → tol 1 %.
        let t = last.as_secs_f64();
        assert!((t / 50_000.0 - 1.0).abs() < 0.01, "last arrival {t}");
        // Noise has mean 1 and cv 0.5: SE = 0.5/447.2 = 0.112 %; 4 SE = 0.45 % → tol 0.5 %.
        let m = ratio_sum / n as f64;
        assert!((m - 1.0).abs() < 0.005, "mean estimate/demand {m}");
    }

    #[test]
    fn invalid_specs_name_the_key() {
        let mut s = spec(Arrival::Poisson { rate_per_s: -3.0 }, Estimate::Exact);
        let e = |s: &WorkloadSpec| Generator::new(s, 1, 0, 1).unwrap_err().to_string();
        assert_eq!(e(&s), "workload.arrival.rate_per_s: must be > 0, got -3");
        s.arrival = Arrival::Poisson { rate_per_s: 1.0 };
        s.vcpus = Choice::Fixed(0);
        assert_eq!(e(&s), "workload.vcpus: must be ≥ 1, got 0");
        s.vcpus = Choice::Fixed(1);
        s.memory_gib = Choice::Weighted {
            values: vec![1.0, -2.0],
            weights: vec![1.0, 1.0],
        };
        assert_eq!(e(&s), "workload.memory_gib.values: must be ≥ 0, got -2");
        s.memory_gib = Choice::Fixed(1.0);
        s.estimate = Estimate::Noisy { noise_cv: f64::NAN };
        assert_eq!(e(&s), "workload.estimate.noise_cv: must be ≥ 0, got NaN");
    }

    #[test]
    fn huge_draws_are_clamped() {
        assert_eq!(secs_to_time(1e30), SimTime::MAX);
        assert_eq!(secs_to_time(f64::INFINITY), SimTime::MAX);
        assert_eq!(secs_to_time(f64::NAN), SimTime::ZERO);
        assert_eq!(secs_to_time(-1.0), SimTime::ZERO);
        // 1.5 s = 1 500 000 000 ns; 1e-10 s rounds to 0 ns.
        assert_eq!(secs_to_time(1.5), SimTime(1_500_000_000));
        assert_eq!(secs_to_time(1e-10), SimTime::ZERO);
    }
}
