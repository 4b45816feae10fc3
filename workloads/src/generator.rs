//! The synthetic VM stream of a scenario's `[workload]`.

use std::iter::FusedIterator;

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use sim::rng::{SimRng, purpose, stream};
use sim::{SimTime, VmRequest};

use crate::check::{check_non_negative, check_positive};
use crate::dist::{Choice, Picker, ServiceSampler};
use crate::error::Error;
use crate::resources::{io_profile, memory_profile};
use crate::units::{gib_to_mib, secs_to_time};
use crate::workload_spec::{Arrival, Estimate, WorkloadSpec};

/// Streams the VM requests of one replication, in arrival order, ids `0, 1, 2, …`.
///
/// Holds no VMs: each request is drawn when asked for, without allocating. Every quantity
/// has its own random stream (`sim::rng::stream(seed, replication, purpose)`), so changing
/// how one is drawn leaves the others as they were:
///
/// * `arrivals` — inter-arrival times (none for deterministic arrivals), MMPP state
///   changes, diurnal thinning decisions;
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
    /// Memory per VM, converted from GiB to MiB once, when the picker is built.
    memory_mib: Picker<u64>,
    service: ServiceSampler,
    priority: Picker<i32>,
    estimate_noise: Option<LogNormal<f64>>,
    rng_arrivals: SimRng,
    rng_sizes: SimRng,
    rng_service: SimRng,
    rng_priority: SimRng,
    /// CPU weight per VM (a fixed weight draws no random number).
    weight: Picker<u32>,
    rng_weight: SimRng,
    /// CPU cap in millionths of a pCPU (0: none).
    /// CPU cap per VM in millionths of a pCPU (0: none; a fixed cap draws nothing).
    cpu_cap_ppm: Picker<u32>,
    rng_cpu_cap: SimRng,
    rng_estimate: SimRng,
    /// I/O profile and the share of VMs that have it.
    io: Option<(sim::IoProfile, f64)>,
    memory: Option<sim::MemoryProfile>,
    /// MiB written per second (`[workload] memory.dirty_mib_per_s`).
    dirty_mib_per_s: f32,
    /// Draws which VMs do I/O (its own stream: the engine's `io` stream draws bursts).
    rng_io_class: SimRng,
}

#[derive(Clone, Debug)]
enum Arrivals {
    Poisson(Exp<f64>),
    /// VM `k` (0-based) arrives at `(k + 1) × interval_s`, computed from `k` rather than
    /// summed, so rounding does not drift.
    Deterministic(f64),
    /// Two-state MMPP, simulated in continuous time (seconds, `f64`).
    Mmpp {
        /// Arrival rate per state (0 means no arrivals in that state).
        rates: [f64; 2],
        /// Mean dwell per state.
        dwell: [f64; 2],
        /// Current state, or `None` before the first draw (then drawn from the stationary
        /// distribution).
        state: Option<usize>,
        /// When the current state ends.
        switch_at: f64,
        /// Time of the previous arrival.
        t: f64,
    },
    /// Non-homogeneous Poisson by thinning.
    Diurnal {
        /// Candidates at the peak rate.
        peak: Exp<f64>,
        peak_rate: f64,
        rate: f64,
        amplitude: f64,
        period: f64,
        phase: f64,
        t: f64,
    },
    /// Renewal: inter-arrival times from a distribution, divided by `scale`.
    Renewal {
        gaps: ServiceSampler,
        scale: f64,
        t: f64,
    },
}

/// An exponential draw of mean `mean` (`inf` if the mean is infinite).
fn exp_draw(rng: &mut SimRng, mean: f64) -> f64 {
    // 1 − U is in (0, 1], so the logarithm is finite.
    -mean * (1.0 - rng.random::<f64>()).ln()
}

impl Arrivals {
    fn new(arrival: &Arrival, load_scale: f64) -> Result<Arrivals, Error> {
        let key = "workload.arrival";
        arrival.validate(key)?;
        check_positive("workload.load_scale", load_scale)?;
        Ok(match arrival {
            Arrival::Poisson { rate_per_s } => Arrivals::Poisson(
                Exp::new(rate_per_s * load_scale)
                    .map_err(|e| Error::invalid("workload.arrival.rate_per_s", e.to_string()))?,
            ),
            Arrival::Deterministic { interval_s } => {
                Arrivals::Deterministic(interval_s / load_scale)
            }
            Arrival::Mmpp {
                rates_per_s,
                mean_dwell_s,
            } => Arrivals::Mmpp {
                rates: rates_per_s.map(|r| r * load_scale),
                dwell: *mean_dwell_s,
                state: None,
                switch_at: 0.0,
                t: 0.0,
            },
            Arrival::Diurnal {
                rate_per_s,
                amplitude,
                period_s,
                peak_s,
            } => {
                let rate = rate_per_s * load_scale;
                let peak_rate = rate * (1.0 + amplitude);
                Arrivals::Diurnal {
                    peak: Exp::new(peak_rate).map_err(|e| {
                        Error::invalid("workload.arrival.rate_per_s", e.to_string())
                    })?,
                    peak_rate,
                    rate,
                    amplitude: *amplitude,
                    period: *period_s,
                    phase: *peak_s,
                    t: 0.0,
                }
            }
            Arrival::Renewal { interarrival } => Arrivals::Renewal {
                gaps: interarrival.sampler("workload.arrival.interarrival")?,
                scale: load_scale,
                t: 0.0,
            },
        })
    }

    /// The next arrival time in seconds after `clock`, for the continuous-time kinds.
    fn next_secs(&mut self, rng: &mut SimRng) -> f64 {
        match self {
            Arrivals::Mmpp {
                rates,
                dwell,
                state,
                switch_at,
                t,
            } => {
                let mut s = match *state {
                    Some(s) => s,
                    None => {
                        let s =
                            usize::from(rng.random::<f64>() * (dwell[0] + dwell[1]) >= dwell[0]);
                        *switch_at = exp_draw(rng, dwell[s]);
                        s
                    }
                };
                // Memorylessness: a candidate beyond the switch is discarded and the clock
                // moves to the switch. Both rates are not 0 (checked), so this ends.
                loop {
                    let gap = if rates[s] > 0.0 {
                        exp_draw(rng, 1.0 / rates[s])
                    } else {
                        f64::INFINITY
                    };
                    if *t + gap < *switch_at {
                        *t += gap;
                        break;
                    }
                    *t = *switch_at;
                    s = 1 - s;
                    *switch_at = *t + exp_draw(rng, dwell[s]);
                }
                *state = Some(s);
                *t
            }
            Arrivals::Diurnal {
                peak,
                peak_rate,
                rate,
                amplitude,
                period,
                phase,
                t,
            } => loop {
                *t += peak.sample(rng);
                let now = *rate
                    * (1.0 + *amplitude * (std::f64::consts::TAU * (*t - *phase) / *period).cos());
                if rng.random::<f64>() * *peak_rate < now || !t.is_finite() {
                    break *t;
                }
            },
            Arrivals::Renewal { gaps, scale, t } => {
                *t += gaps.sample(rng) / *scale;
                *t
            }
            // Handled in `Generator::next`.
            Arrivals::Poisson(_) | Arrivals::Deterministic(_) => 0.0,
        }
    }
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
        let arrival = spec
            .arrival
            .as_ref()
            .ok_or_else(|| Error::invalid("workload", "missing field `arrival`"))?;
        let arrivals = Arrivals::new(arrival, spec.load_scale)?;
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
        let service = spec
            .service
            .as_ref()
            .ok_or_else(|| Error::invalid("workload", "missing field `service`"))?
            .sampler("workload.service")?;
        let priority = spec
            .priority
            .picker("workload.priority", "classes", |_| Ok(()))?;
        let weight = weight_picker(spec)?;
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
            memory_mib: memory_gib.map(|g| gib_to_mib(g).unwrap_or(0)),
            service,
            priority,
            weight,
            estimate_noise,
            rng_arrivals: stream(seed, replication, purpose::ARRIVALS),
            rng_sizes: stream(seed, replication, purpose::SIZES),
            rng_service: stream(seed, replication, purpose::SERVICE),
            rng_priority: stream(seed, replication, purpose::PRIORITY),
            rng_estimate: stream(seed, replication, purpose::ESTIMATE),
            io: match &spec.io {
                Some(io) => Some((io_profile(io)?, io.fraction)),
                None => None,
            },
            memory: match &spec.memory {
                Some(m) => Some(memory_profile(m)?),
                None => None,
            },
            dirty_mib_per_s: spec
                .memory
                .as_ref()
                .map_or(0.0, |m| m.dirty_mib_per_s as f32),
            rng_io_class: stream(seed, replication, "io-class"),
            rng_weight: stream(seed, replication, "weight"),
            cpu_cap_ppm: cap_picker(spec.cpu_cap.as_ref())?,
            rng_cpu_cap: stream(seed, replication, "cpu-cap"),
        })
    }
}

/// `[workload] cpu_cap` in millionths of a pCPU (0: none); > 0 and at most 4294 pCPUs
/// here (the scenario checks it against its hosts).
fn cap_ppm(cap: Option<f64>) -> Result<u32, Error> {
    let Some(c) = cap else {
        return Ok(0);
    };
    let ppm = (c * 1e6).round();
    if !(c > 0.0 && ppm >= 1.0 && ppm <= f64::from(u32::MAX)) {
        return Err(Error::invalid(
            "workload.cpu_cap",
            format!("must be > 0 (in pCPUs, at least 1e-6) and at most 4294, got {c}"),
        ));
    }
    Ok(ppm as u32)
}

/// The cap picker of `[workload] cpu_cap`: a fixed cap (> 0), or a choice whose 0 values
/// mean "no cap"; none: 0 for every VM.
fn cap_picker(cap: Option<&Choice<f64>>) -> Result<Picker<u32>, Error> {
    let choice = match cap {
        None => Choice::Fixed(0),
        Some(Choice::Fixed(c)) => Choice::Fixed(cap_ppm(Some(*c))?),
        Some(Choice::Weighted { values, weights }) => Choice::Weighted {
            values: values
                .iter()
                .map(|&v| if v == 0.0 { Ok(0) } else { cap_ppm(Some(v)) })
                .collect::<Result<Vec<u32>, Error>>()?,
            weights: weights.clone(),
        },
    };
    choice.picker("workload.cpu_cap", "values", |_| Ok(()))
}

/// The CPU weight picker of `[workload]`: from `weight` (> 0, at most 2³² − 1) or `nice`
/// (−20 … 19, through Linux's table), not both; 1024 when neither is set.
fn weight_picker(spec: &WorkloadSpec) -> Result<Picker<u32>, Error> {
    match (&spec.weight, &spec.nice) {
        (Some(_), Some(_)) => Err(Error::invalid(
            "workload.nice",
            "set either `weight` or `nice`, not both",
        )),
        (Some(w), None) => Ok(w
            .picker("workload.weight", "values", |v| {
                if v <= 0 || u32::try_from(v).is_err() {
                    Err(format!(
                        "must be a whole number from 1 to {}, got {v}",
                        u32::MAX
                    ))
                } else {
                    Ok(())
                }
            })?
            .map(|v| u32::try_from(v).unwrap_or(sim::DEFAULT_WEIGHT))),
        (None, Some(n)) => Ok(n
            .picker("workload.nice", "values", |v| {
                match sim::nice_to_weight(v) {
                    Some(_) => Ok(()),
                    None => Err(format!("must be from -20 to 19, got {v}")),
                }
            })?
            .map(|v| sim::nice_to_weight(v).unwrap_or(sim::DEFAULT_WEIGHT))),
        (None, None) => {
            Choice::Fixed(sim::DEFAULT_WEIGHT).picker("workload.weight", "values", |_| Ok(()))
        }
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

        let arrival = match &mut self.arrivals {
            Arrivals::Poisson(exp) => self
                .clock
                .saturating_add(secs_to_time(exp.sample(&mut self.rng_arrivals))),
            // (id + 1) as f64 is exact up to 2⁵³ VMs; `max` keeps the order non-decreasing
            // even where the product rounds.
            Arrivals::Deterministic(interval) => {
                secs_to_time((id as f64 + 1.0) * *interval).max(self.clock)
            }
            other => secs_to_time(other.next_secs(&mut self.rng_arrivals)).max(self.clock),
        };
        self.clock = arrival;

        let vcpus = self.vcpus.sample(&mut self.rng_sizes);
        let memory_mib = self.memory_mib.sample(&mut self.rng_sizes);
        let service_s = self.service.sample(&mut self.rng_service);
        let priority = self.priority.sample(&mut self.rng_priority);
        let demand = secs_to_time(service_s);
        let estimate = match &self.estimate_noise {
            Some(noise) => secs_to_time(service_s * noise.sample(&mut self.rng_estimate)),
            None => demand,
        };

        Some(VmRequest {
            id,
            arrival,
            vcpus,
            memory_mib,
            priority,
            demand,
            estimate,
            tenant: None,
            profile: sim::VmProfile {
                weight: self.weight.sample(&mut self.rng_weight),
                cpu_cap_ppm: self.cpu_cap_ppm.sample(&mut self.rng_cpu_cap),
                io: match self.io {
                    Some((p, f)) if f >= 1.0 || self.rng_io_class.random::<f64>() < f => Some(p),
                    _ => None,
                },
                // The working set cannot exceed the VM's memory (when it has any).
                memory: self.memory.map(|m| sim::MemoryProfile {
                    working_set_mib: if memory_mib > 0 {
                        m.working_set_mib.min(memory_mib)
                    } else {
                        m.working_set_mib
                    },
                    ..m
                }),
                dirty_mib_per_s: self.dirty_mib_per_s,
            },
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
            weight: None,
            nice: None,
            cpu_cap: None,
            arrival: Some(arrival),
            vcpus: Choice::Weighted {
                values: vec![1, 2, 4],
                weights: vec![0.5, 0.3, 0.2],
            },
            memory_gib: Choice::Fixed(1.5),
            service: Some(ServiceDist::Exponential { mean_s: 10.0 }),
            priority: Choice::Weighted {
                values: vec![1, 2],
                weights: vec![1.0, 1.0],
            },
            estimate,
            load_scale: 1.0,
            trace: None,
            io: None,
            memory: None,
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
        s2.service = Some(ServiceDist::Lognormal {
            mean_s: 10.0,
            cv: 2.0,
        });
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
        s.arrival = Some(Arrival::Poisson { rate_per_s: 1.0 });
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

    /// Arrival times (s) of `n` VMs from `arrival` with the given load scale.
    fn arrival_times(arrival: Arrival, load_scale: f64, n: u64) -> Vec<f64> {
        let mut s = spec(arrival, Estimate::Exact);
        s.load_scale = load_scale;
        let v: Vec<f64> = Generator::new(&s, 21, 0, n)
            .unwrap()
            .map(|v| v.arrival.as_secs_f64())
            .collect();
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
        v
    }

    fn gap_cv(t: &[f64]) -> f64 {
        let gaps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
        let n = gaps.len() as f64;
        let m = gaps.iter().sum::<f64>() / n;
        let var = gaps.iter().map(|g| (g - m) * (g - m)).sum::<f64>() / (n - 1.0);
        var.sqrt() / m
    }

    #[test]
    fn mmpp_rate_and_burstiness() {
        // States: 10 /s for a mean 1 s, 0.5 /s for a mean 9 s. Mean rate
        // (10·1 + 0.5·9) / (1 + 9) = 1.45 /s.
        let a = Arrival::Mmpp {
            rates_per_s: [10.0, 0.5],
            mean_dwell_s: [1.0, 9.0],
        };
        assert!((a.rate_per_s() - 1.45).abs() < 1e-12);
        let n = 200_000u64;
        let t = arrival_times(a, 1.0, n);
        // Count variance rate λ̄ + 2(r1 − r2)² π1 π2 / (q1 + q2) = 1.45 + 2·90.25·0.09/1.111
        // = 16.07 /s; over T = n/1.45 = 137 931 s, sd(N) = √(16.07 T) = 1 489 = 0.74 % of n;
        // 5 sd = 3.7 % → tol 4 %.
        let rate = n as f64 / t[t.len() - 1];
        assert!((rate / 1.45 - 1.0).abs() < 0.04, "rate {rate}");
        // Bursty: inter-arrival cv well above the Poisson 1.
        let cv = gap_cv(&t);
        assert!(cv > 1.5, "cv {cv}");
    }

    #[test]
    fn diurnal_rate_and_phase() {
        // λ(t) = 2 (1 + 0.8 cos(2π (t − 250) / 1000)).
        let a = Arrival::Diurnal {
            rate_per_s: 2.0,
            amplitude: 0.8,
            period_s: 1000.0,
            peak_s: 250.0,
        };
        let n = 200_000u64;
        let t = arrival_times(a, 1.0, n);
        // Poisson count: sd = √n = 0.22 % of n; tol 1.5 % (the last arrival may end
        // anywhere in a cycle: at most ½ cycle of 1000 arrivals = 0.5 %).
        let rate = n as f64 / t[t.len() - 1];
        assert!((rate / 2.0 - 1.0).abs() < 0.015, "rate {rate}");
        // The quarter-cycle around the peak holds (250 + 0.8 · (1000/2π) · 2 sin(π/4)) / 1000
        // = (250 + 180.06) / 1000 = 0.430 of the arrivals, the one around the trough
        // 0.070; binomial sd ≤ 0.0011 → tol 0.006.
        let frac = |lo: f64| {
            t.iter()
                .filter(|x| (lo..lo + 250.0).contains(&x.rem_euclid(1000.0)))
                .count() as f64
                / n as f64
        };
        assert!((frac(125.0) - 0.430_06).abs() < 0.006, "{}", frac(125.0));
        assert!((frac(625.0) - 0.069_94).abs() < 0.006, "{}", frac(625.0));
    }

    #[test]
    fn renewal_and_load_scale() {
        // Weibull gaps of mean 2 s (cv 2.24 for k = 0.5): rate 0.5 /s; with load_scale 2,
        // 1 /s. SE of the mean gap = 2.24/√200 000 = 0.5 %; tol 2.5 %.
        let a = Arrival::Renewal {
            interarrival: ServiceDist::Weibull {
                mean_s: 2.0,
                shape: 0.5,
            },
        };
        assert!((a.rate_per_s() - 0.5).abs() < 1e-12);
        let n = 200_000u64;
        let t = arrival_times(a, 2.0, n);
        let rate = n as f64 / t[t.len() - 1];
        assert!((rate - 1.0).abs() < 0.025, "rate {rate}");
        // Poisson at 1 /s with load_scale 3: 3 /s (sd 0.22 %; tol 1 %).
        let t = arrival_times(Arrival::Poisson { rate_per_s: 1.0 }, 3.0, n);
        let rate = n as f64 / t[t.len() - 1];
        assert!((rate / 3.0 - 1.0).abs() < 0.01, "rate {rate}");
        // Deterministic every 2 s with load_scale 4: every 0.5 s.
        let t = arrival_times(Arrival::Deterministic { interval_s: 2.0 }, 4.0, 3);
        assert_eq!(t, [0.5, 1.0, 1.5]);
    }

    #[test]
    fn new_arrival_parameters_are_checked() {
        let e = |a: Arrival| {
            Generator::new(&spec(a, Estimate::Exact), 1, 0, 1)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e(Arrival::Mmpp {
                rates_per_s: [0.0, 0.0],
                mean_dwell_s: [1.0, 1.0]
            }),
            "workload.arrival.rates_per_s: must not both be 0"
        );
        assert_eq!(
            e(Arrival::Diurnal {
                rate_per_s: 1.0,
                amplitude: 1.5,
                period_s: 10.0,
                peak_s: 0.0
            }),
            "workload.arrival.amplitude: must be in [0, 1], got 1.5"
        );
        assert_eq!(
            e(Arrival::Renewal {
                interarrival: ServiceDist::Exponential { mean_s: 0.0 }
            }),
            "workload.arrival.interarrival.mean_s: must be > 0, got 0"
        );
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
