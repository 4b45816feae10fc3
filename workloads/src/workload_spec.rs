//! `[workload]`: how the VM requests of a synthetic workload are drawn (arrival process,
//! sizes, service times, priorities, estimates), or the trace they are read from instead.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::check::{check_finite, check_non_negative, check_positive};
use crate::dist::{Choice, ServiceDist};
use crate::error::Error;
use crate::limits::check_seconds;
use crate::resources::{IoSettings, MemorySettings};
use crate::trace::TraceSpec;

/// `[workload]`: how VM requests are generated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// The arrival process (required unless `trace` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<Arrival>,
    /// vCPUs per VM: `1` or `{ values = [1, 2, 4], weights = [0.5, 0.3, 0.2] }` (default 1).
    #[serde(with = "crate::dist::choice_values", default = "one_vcpu")]
    pub vcpus: Choice<u32>,
    /// Memory per VM in GiB, fixed or weighted like `vcpus` (default 0: no memory).
    #[serde(with = "crate::dist::choice_values", default = "no_memory")]
    pub memory_gib: Choice<f64>,
    /// CPU demand per vCPU (the service time; required unless `trace` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceDist>,
    /// Priority class: an integer or `{ classes = [1, 2], weights = [0.5, 0.5] }` (default 0).
    #[serde(with = "crate::dist::choice_classes", default = "priority_zero")]
    pub priority: Choice<i32>,
    /// CPU weight of each VM's vCPUs for proportional-share policies: a whole number > 0
    /// or `{ values = [2048, 1024], weights = [0.5, 0.5] }` (default 1024, Linux's nice 0).
    /// Not with `nice`.
    #[serde(
        with = "crate::dist::choice_values_opt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub weight: Option<Choice<i64>>,
    /// The weight as a Linux nice value, −20 … 19 (Linux's table: nice 0 = 1024, each step
    /// ≈ ×1.25), fixed or weighted like `weight`. Not with `weight`.
    #[serde(
        with = "crate::dist::choice_values_opt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub nice: Option<Choice<i64>>,
    /// CPU cap of each VM, in pCPUs: it may run at most `cpu_cap × [cpu] cap_period_ms` of
    /// CPU time per period, summed over its vCPUs (cgroup `cpu.max`), then is throttled
    /// until the next period; in (0, pCPUs of the largest host] (default none: no cap).
    /// A number, or `{ values, weights }` drawn per VM, where a value of 0 means "no cap"
    /// (so `{ values = [0.5, 0], weights = [1, 1] }` caps about half the VMs).
    /// Generated workloads only.
    #[serde(
        with = "crate::dist::choice_values_opt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_cap: Option<Choice<f64>>,
    /// The users' runtime estimates (default exact).
    #[serde(default)]
    pub estimate: Estimate,
    /// Multiplies the arrival rate (default 1): 1.3 means 30 % more arrivals per second,
    /// with the same sizes and service times. For a trace it compresses the arrival times
    /// (on top of the trace's own `load_scale`).
    #[serde(default = "one_f64", skip_serializing_if = "is_one_f64")]
    pub load_scale: f64,
    /// Read the VMs from a trace instead of drawing them (then `arrival`, `service`,
    /// `vcpus`, `memory_gib`, `priority` and `estimate` are not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceSpec>,
    /// I/O: CPU bursts alternating with device requests (default none: CPU only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io: Option<IoSettings>,
    /// Memory: a working set touched while computing (default none: no paging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemorySettings>,
}

fn one_f64() -> f64 {
    1.0
}
fn is_one_f64(v: &f64) -> bool {
    *v == 1.0
}

fn one_vcpu() -> Choice<u32> {
    Choice::Fixed(1)
}
fn no_memory() -> Choice<f64> {
    Choice::Fixed(0.0)
}
fn priority_zero() -> Choice<i32> {
    Choice::Fixed(0)
}

/// The arrival process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "process", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Arrival {
    /// Exponential inter-arrival times with the given rate.
    Poisson {
        /// Arrivals per second (> 0).
        rate_per_s: f64,
    },
    /// One arrival every `interval_s` seconds.
    Deterministic {
        /// Seconds between arrivals (> 0).
        interval_s: f64,
    },
    /// Bursty arrivals: a two-state Markov-modulated Poisson process. In state `i` VMs
    /// arrive as a Poisson process of rate `rates_per_s[i]`; the process stays in state `i`
    /// for an exponential time of mean `mean_dwell_s[i]`, then switches to the other. The
    /// first state is drawn from the stationary distribution (`dwell_i / Σ dwell`).
    Mmpp {
        /// Arrival rate in each state (≥ 0, not both 0).
        rates_per_s: [f64; 2],
        /// Mean time spent in each state per visit (> 0), seconds.
        mean_dwell_s: [f64; 2],
    },
    /// Diurnal arrivals: a non-homogeneous Poisson process of rate
    /// `λ(t) = rate_per_s · (1 + amplitude · cos(2π (t − peak_s) / period_s))`, drawn by
    /// thinning (candidates at the peak rate, each kept with probability λ(t) / λ_max).
    Diurnal {
        /// Mean arrivals per second over a period (> 0).
        rate_per_s: f64,
        /// Relative swing, in \[0, 1\] (0 is Poisson).
        amplitude: f64,
        /// Length of a cycle, seconds (default 86 400: one day).
        #[serde(default = "one_day")]
        period_s: f64,
        /// When in the cycle the rate peaks, seconds (default 0).
        #[serde(default)]
        peak_s: f64,
    },
    /// A renewal process: independent inter-arrival times from any distribution (e.g. one
    /// fitted to a trace, or the trace's empirical one).
    Renewal {
        /// The inter-arrival time distribution (like `service`).
        interarrival: ServiceDist,
    },
}

fn one_day() -> f64 {
    86_400.0
}

impl Arrival {
    /// Mean arrivals per second.
    pub fn rate_per_s(&self) -> f64 {
        match self {
            Arrival::Poisson { rate_per_s } => *rate_per_s,
            Arrival::Deterministic { interval_s } => 1.0 / interval_s,
            // Time-average: state i holds a fraction d_i / (d_1 + d_2) of the time.
            Arrival::Mmpp {
                rates_per_s: r,
                mean_dwell_s: d,
            } => (r[0] * d[0] + r[1] * d[1]) / (d[0] + d[1]),
            // The cosine averages to 0 over a period.
            Arrival::Diurnal { rate_per_s, .. } => *rate_per_s,
            Arrival::Renewal { interarrival } => 1.0 / interarrival.mean(),
        }
    }

    pub(crate) fn validate(&self, key: &str) -> Result<(), Error> {
        let k = |name: &str| format!("{key}.{name}");
        match self {
            // A mean inter-arrival time beyond the limit on input times is refused.
            Arrival::Poisson { rate_per_s } => {
                check_positive(&k("rate_per_s"), *rate_per_s)?;
                check_seconds(&k("rate_per_s"), 1.0 / rate_per_s)
            }
            Arrival::Deterministic { interval_s } => {
                check_positive(&k("interval_s"), *interval_s)?;
                check_seconds(&k("interval_s"), *interval_s)
            }
            Arrival::Mmpp {
                rates_per_s,
                mean_dwell_s,
            } => {
                for r in rates_per_s {
                    check_non_negative(&k("rates_per_s"), *r)?;
                }
                if rates_per_s.iter().all(|r| *r == 0.0) {
                    return Err(Error::invalid(k("rates_per_s"), "must not both be 0"));
                }
                for d in mean_dwell_s {
                    check_positive(&k("mean_dwell_s"), *d)?;
                    check_seconds(&k("mean_dwell_s"), *d)?;
                }
                Ok(())
            }
            Arrival::Diurnal {
                rate_per_s,
                amplitude,
                period_s,
                peak_s,
            } => {
                check_positive(&k("rate_per_s"), *rate_per_s)?;
                if !(0.0..=1.0).contains(amplitude) {
                    return Err(Error::invalid(
                        k("amplitude"),
                        format!("must be in [0, 1], got {amplitude}"),
                    ));
                }
                check_positive(&k("period_s"), *period_s)?;
                check_seconds(&k("period_s"), *period_s)?;
                check_seconds(&k("rate_per_s"), 1.0 / rate_per_s)?;
                check_finite(&k("peak_s"), *peak_s)
            }
            Arrival::Renewal { interarrival } => {
                interarrival.sampler(&k("interarrival")).map(|_| ())
            }
        }
    }
}

/// How the users' runtime estimates relate to the true service times.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub enum Estimate {
    /// `"exact"`: estimate = service.
    #[default]
    Exact,
    /// `{ noise_cv = c }`: estimate = service × N, N log-normal with mean 1 and cv `c`.
    Noisy {
        /// Coefficient of variation of the multiplicative noise (≥ 0).
        noise_cv: f64,
    },
}

impl Serialize for Estimate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Estimate::Exact => s.serialize_str("exact"),
            Estimate::Noisy { noise_cv } => {
                let mut st = s.serialize_struct("Estimate", 1)?;
                st.serialize_field("noise_cv", noise_cv)?;
                st.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Estimate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Estimate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"exact\" or a table { noise_cv = … }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Estimate, E> {
                if v == "exact" {
                    Ok(Estimate::Exact)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Estimate, A::Error> {
                let mut noise_cv = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "noise_cv" if noise_cv.is_some() => {
                            return Err(de::Error::duplicate_field("noise_cv"));
                        }
                        "noise_cv" => noise_cv = Some(map.next_value::<f64>()?),
                        _ => return Err(de::Error::unknown_field(&key, &["noise_cv"])),
                    }
                }
                let noise_cv = noise_cv.ok_or_else(|| de::Error::missing_field("noise_cv"))?;
                Ok(Estimate::Noisy { noise_cv })
            }
        }
        d.deserialize_any(V)
    }
}
