//! Service-time distributions: what a scenario says, checked, and their samplers.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Pareto, Uniform, Weibull};
use serde::{Deserialize, Serialize};
use sim::rng::SimRng;

use crate::check::{check_finite, check_non_negative, check_positive};
use crate::error::Error;

/// A service-time distribution as a scenario describes it (all times in seconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ServiceDist {
    /// Exponential with the given mean (cv = 1).
    Exponential {
        /// Mean (s), > 0.
        mean_s: f64,
    },
    /// Always exactly `mean_s`.
    Deterministic {
        /// The value (s), > 0.
        mean_s: f64,
    },
    /// Uniform on `[min_s, max_s]`.
    Uniform {
        /// Lower end (s), ≥ 0.
        min_s: f64,
        /// Upper end (s), ≥ `min_s` and > 0.
        max_s: f64,
    },
    /// Log-normal with the given mean and coefficient of variation.
    Lognormal {
        /// Mean (s), > 0.
        mean_s: f64,
        /// Coefficient of variation (standard deviation / mean), ≥ 0.
        cv: f64,
    },
    /// Two-phase hyper-exponential (H2) with balanced means: phase `i` is chosen with
    /// probability `p_i` and has mean `mean_s / (2 p_i)`, so both phases contribute half of
    /// the mean.
    Hyperexponential {
        /// Mean (s), > 0.
        mean_s: f64,
        /// Coefficient of variation, ≥ 1 (1 gives the exponential).
        cv: f64,
    },
    /// Pareto (type I) with the given mean and shape `α`; scale `x_m = mean (α − 1) / α`.
    Pareto {
        /// Mean (s), > 0.
        mean_s: f64,
        /// Shape `α` > 1 (the mean is infinite for α ≤ 1; the variance for α ≤ 2).
        shape: f64,
    },
    /// Weibull with the given mean and shape `k`; scale `λ = mean / Γ(1 + 1/k)`.
    Weibull {
        /// Mean (s), > 0.
        mean_s: f64,
        /// Shape `k` > 0 (k = 1 gives the exponential; k < 1 is heavier-tailed).
        shape: f64,
    },
    /// An empirical distribution given by equally spaced quantiles (e.g. from a trace):
    /// `quantiles_s[i]` is the `i / (n − 1)` quantile, and draws interpolate linearly
    /// between neighbours (inverse-CDF sampling of a piecewise-uniform distribution).
    Empirical {
        /// At least 2 values ≥ 0, non-decreasing, not all 0 (s).
        quantiles_s: Vec<f64>,
    },
}

impl ServiceDist {
    /// The name used in scenario files (`dist = "…"`).
    pub fn name(&self) -> &'static str {
        match self {
            ServiceDist::Exponential { .. } => "exponential",
            ServiceDist::Deterministic { .. } => "deterministic",
            ServiceDist::Uniform { .. } => "uniform",
            ServiceDist::Lognormal { .. } => "lognormal",
            ServiceDist::Hyperexponential { .. } => "hyperexponential",
            ServiceDist::Pareto { .. } => "pareto",
            ServiceDist::Weibull { .. } => "weibull",
            ServiceDist::Empirical { .. } => "empirical",
        }
    }

    /// The mean in seconds (for `uniform`, `(min_s + max_s) / 2`).
    pub fn mean(&self) -> f64 {
        match *self {
            ServiceDist::Exponential { mean_s }
            | ServiceDist::Deterministic { mean_s }
            | ServiceDist::Lognormal { mean_s, .. }
            | ServiceDist::Hyperexponential { mean_s, .. }
            | ServiceDist::Pareto { mean_s, .. }
            | ServiceDist::Weibull { mean_s, .. } => mean_s,
            ServiceDist::Uniform { min_s, max_s } => (min_s + max_s) / 2.0,
            ServiceDist::Empirical { ref quantiles_s } => empirical_moments(quantiles_s).0,
        }
    }

    /// The theoretical coefficient of variation (`inf` for a Pareto with shape ≤ 2).
    pub fn cv(&self) -> f64 {
        match *self {
            ServiceDist::Exponential { .. } => 1.0,
            ServiceDist::Deterministic { .. } => 0.0,
            // sd of U(a, b) = (b − a) / √12, mean = (a + b) / 2.
            ServiceDist::Uniform { min_s, max_s } => {
                (max_s - min_s) / 12f64.sqrt() / ((min_s + max_s) / 2.0)
            }
            ServiceDist::Lognormal { cv, .. } | ServiceDist::Hyperexponential { cv, .. } => cv,
            // Var = x_m² α / ((α − 1)² (α − 2)), mean = x_m α / (α − 1) ⇒ cv² = 1 / (α (α − 2)).
            ServiceDist::Pareto { shape, .. } => {
                if shape > 2.0 {
                    (1.0 / (shape * (shape - 2.0))).sqrt()
                } else {
                    f64::INFINITY
                }
            }
            // cv² = Γ(1 + 2/k) / Γ(1 + 1/k)² − 1.
            ServiceDist::Weibull { shape, .. } => {
                let g1 = statrs::function::gamma::gamma(1.0 + 1.0 / shape);
                let g2 = statrs::function::gamma::gamma(1.0 + 2.0 / shape);
                (g2 / (g1 * g1) - 1.0).sqrt()
            }
            ServiceDist::Empirical { ref quantiles_s } => {
                let (m, m2) = empirical_moments(quantiles_s);
                (m2 - m * m).max(0.0).sqrt() / m
            }
        }
    }

    /// Checks the parameters (reporting errors under `key`, e.g. `workload.service`) and
    /// builds the sampler.
    pub fn sampler(&self, key: &str) -> Result<ServiceSampler, Error> {
        let field = |name: &str| format!("{key}.{name}");
        let kind = match *self {
            ServiceDist::Exponential { mean_s } => {
                check_positive(&field("mean_s"), mean_s)?;
                Kind::Exponential(exp_with_mean(mean_s, &field("mean_s"))?)
            }
            ServiceDist::Deterministic { mean_s } => {
                check_positive(&field("mean_s"), mean_s)?;
                Kind::Deterministic(mean_s)
            }
            ServiceDist::Uniform { min_s, max_s } => {
                check_non_negative(&field("min_s"), min_s)?;
                check_positive(&field("max_s"), max_s)?;
                if max_s < min_s {
                    return Err(Error::invalid(
                        field("max_s"),
                        format!("must be ≥ min_s ({min_s}), got {max_s}"),
                    ));
                }
                Kind::Uniform(
                    Uniform::new_inclusive(min_s, max_s)
                        .map_err(|e| Error::invalid(field("max_s"), e.to_string()))?,
                )
            }
            ServiceDist::Lognormal { mean_s, cv } => {
                check_positive(&field("mean_s"), mean_s)?;
                check_non_negative(&field("cv"), cv)?;
                Kind::Lognormal(
                    LogNormal::from_mean_cv(mean_s, cv)
                        .map_err(|e| Error::invalid(field("cv"), format!("{e} (cv = {cv})")))?,
                )
            }
            ServiceDist::Hyperexponential { mean_s, cv } => {
                check_positive(&field("mean_s"), mean_s)?;
                if cv.is_nan() || cv < 1.0 {
                    return Err(Error::invalid(
                        field("cv"),
                        format!("must be ≥ 1 for a hyper-exponential, got {cv}"),
                    ));
                }
                check_finite(&field("cv"), cv)?;
                // Balanced means: p1 = (1 + √((c² − 1)/(c² + 1))) / 2, p2 = 1 − p1, and
                // phase i has mean m / (2 p_i), so p_i · mean_i = m/2 for both phases. Then
                // E[X] = m and E[X²] = Σ 2 p_i (m / 2p_i)² = m²/2 · (1/p1 + 1/p2)
                // = m² / (2 p1 p2) = m² (1 + c²) as wanted.
                let c2 = cv * cv;
                let p1 = (1.0 + ((c2 - 1.0) / (c2 + 1.0)).sqrt()) / 2.0;
                let p2 = 1.0 - p1;
                if p2.is_nan() || p2 <= 0.0 {
                    return Err(Error::invalid(
                        field("cv"),
                        format!("too large to represent (cv = {cv})"),
                    ));
                }
                Kind::Hyperexponential {
                    p1,
                    phase1: exp_with_mean(mean_s / (2.0 * p1), &field("mean_s"))?,
                    phase2: exp_with_mean(mean_s / (2.0 * p2), &field("cv"))?,
                }
            }
            ServiceDist::Pareto { mean_s, shape } => {
                check_positive(&field("mean_s"), mean_s)?;
                if shape.is_nan() || shape <= 1.0 {
                    return Err(Error::invalid(
                        field("shape"),
                        format!("must be > 1 (the mean is infinite otherwise), got {shape}"),
                    ));
                }
                check_finite(&field("shape"), shape)?;
                let scale = mean_s * (shape - 1.0) / shape;
                Kind::Pareto(
                    Pareto::new(scale, shape)
                        .map_err(|e| Error::invalid(field("shape"), e.to_string()))?,
                )
            }
            ServiceDist::Weibull { mean_s, shape } => {
                check_positive(&field("mean_s"), mean_s)?;
                check_positive(&field("shape"), shape)?;
                let scale = mean_s / statrs::function::gamma::gamma(1.0 + 1.0 / shape);
                if !(scale.is_finite() && scale > 0.0) {
                    return Err(Error::invalid(
                        field("shape"),
                        format!(
                            "too small: the Weibull scale is not representable (shape = {shape})"
                        ),
                    ));
                }
                Kind::Weibull(
                    Weibull::new(scale, shape)
                        .map_err(|e| Error::invalid(field("shape"), e.to_string()))?,
                )
            }
            ServiceDist::Empirical { ref quantiles_s } => {
                let key = field("quantiles_s");
                crate::limits::check_list_len(&key, quantiles_s.len())?;
                if quantiles_s.len() < 2 {
                    return Err(Error::invalid(
                        key,
                        format!("needs at least 2 values, got {}", quantiles_s.len()),
                    ));
                }
                for (i, q) in quantiles_s.iter().enumerate() {
                    check_non_negative(&key, *q)?;
                    if i > 0 && *q < quantiles_s[i - 1] {
                        return Err(Error::invalid(
                            key,
                            format!("must not decrease, but {q} follows {}", quantiles_s[i - 1]),
                        ));
                    }
                }
                let mean = empirical_moments(quantiles_s).0;
                if !(mean > 0.0 && mean.is_finite()) {
                    return Err(Error::invalid(key, "the mean must be finite and > 0"));
                }
                Kind::Empirical(quantiles_s.clone())
            }
        };
        // The largest time a parameter names (the mean, or the largest value that can be
        // drawn when there is one) must be within the limit on input times.
        let (name, largest) = match *self {
            ServiceDist::Uniform { max_s, .. } => ("max_s", max_s),
            ServiceDist::Empirical { ref quantiles_s } => {
                ("quantiles_s", quantiles_s.last().copied().unwrap_or(0.0))
            }
            _ => ("mean_s", self.mean()),
        };
        crate::limits::check_seconds(&field(name), largest)?;
        Ok(ServiceSampler {
            dist: self.clone(),
            kind,
        })
    }
}

/// Mean and second moment of the piecewise-uniform distribution with equally spaced
/// quantiles `q`: each of the `n − 1` segments has probability `1/(n − 1)`, mean
/// `(a + b)/2` and second moment `(a² + ab + b²)/3`.
fn empirical_moments(q: &[f64]) -> (f64, f64) {
    if q.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let segs = (q.len() - 1) as f64;
    let (mut m, mut m2) = (0.0, 0.0);
    for w in q.windows(2) {
        let (a, b) = (w[0], w[1]);
        m += (a + b) / 2.0;
        m2 += (a * a + a * b + b * b) / 3.0;
    }
    (m / segs, m2 / segs)
}

fn exp_with_mean(mean: f64, key: &str) -> Result<Exp<f64>, Error> {
    Exp::new(1.0 / mean).map_err(|e| Error::invalid(key, format!("{e} (mean = {mean})")))
}

/// A checked [`ServiceDist`], ready to draw from. Sampling allocates nothing.
#[derive(Clone, Debug)]
pub struct ServiceSampler {
    dist: ServiceDist,
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Exponential(Exp<f64>),
    Deterministic(f64),
    Uniform(Uniform<f64>),
    Lognormal(LogNormal<f64>),
    Hyperexponential {
        p1: f64,
        phase1: Exp<f64>,
        phase2: Exp<f64>,
    },
    Pareto(Pareto<f64>),
    Weibull(Weibull<f64>),
    Empirical(Vec<f64>),
}

impl ServiceSampler {
    /// One service time in seconds (finite and ≥ 0 for every valid distribution, though a
    /// Pareto draw can be very large).
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        match &self.kind {
            Kind::Exponential(d) => d.sample(rng),
            Kind::Deterministic(v) => *v,
            Kind::Uniform(d) => d.sample(rng),
            Kind::Lognormal(d) => d.sample(rng),
            Kind::Hyperexponential { p1, phase1, phase2 } => {
                if rng.random::<f64>() < *p1 {
                    phase1.sample(rng)
                } else {
                    phase2.sample(rng)
                }
            }
            Kind::Pareto(d) => d.sample(rng),
            Kind::Weibull(d) => d.sample(rng),
            Kind::Empirical(q) => {
                // Position u·(n − 1) in the table, then linear between neighbours.
                let x = rng.random::<f64>() * (q.len() - 1) as f64;
                let i = (x.floor() as usize).min(q.len() - 2);
                let f = x - i as f64;
                q[i] + f * (q[i + 1] - q[i])
            }
        }
    }

    /// The distribution's mean in seconds.
    pub fn mean(&self) -> f64 {
        self.dist.mean()
    }

    /// The distribution this sampler draws from.
    pub fn dist(&self) -> &ServiceDist {
        &self.dist
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::rng::{purpose, stream};

    const N: usize = 200_000;

    /// Sample mean and sample coefficient of variation of `N` draws.
    fn moments(d: &ServiceDist, seed: u64) -> (f64, f64) {
        let s = d.sampler("service").unwrap();
        let mut rng = stream(seed, 0, purpose::SERVICE);
        let (mut sum, mut sum2) = (0.0, 0.0);
        for _ in 0..N {
            let x = s.sample(&mut rng);
            assert!(x.is_finite() && x >= 0.0, "{d:?} drew {x}");
            sum += x;
            sum2 += x * x;
        }
        let n = N as f64;
        let mean = sum / n;
        let var = (sum2 - n * mean * mean) / (n - 1.0);
        (mean, var.sqrt() / mean)
    }

    /// Asserts the sample mean is within `tol` (relative) of the configured mean. Each
    /// caller's `tol` is ≥ 4 standard errors of the mean: SE/mean = cv / √N, and
    /// √200 000 = 447.2.
    fn assert_mean(d: ServiceDist, tol: f64) -> f64 {
        let (mean, cv) = moments(&d, 7);
        let rel = (mean - d.mean()).abs() / d.mean();
        assert!(
            rel < tol,
            "{d:?}: sample mean {mean}, off by {rel:.4} > {tol}"
        );
        cv
    }

    #[test]
    fn exponential_mean() {
        // cv = 1: SE = 1/447.2 = 0.224 %; 4 SE = 0.89 % → tol 1 %.
        let cv = assert_mean(ServiceDist::Exponential { mean_s: 2.0 }, 0.010);
        assert!((cv - 1.0).abs() < 0.02, "cv {cv}");
    }

    #[test]
    fn deterministic_is_constant() {
        let (mean, cv) = moments(&ServiceDist::Deterministic { mean_s: 3.5 }, 1);
        assert_eq!(mean, 3.5);
        assert!(cv.abs() < 1e-6);
    }

    #[test]
    fn uniform_mean() {
        // U(1, 3): mean 2, sd 2/√12 = 0.577, cv 0.289: SE = 0.289/447.2 = 0.065 %;
        // 4 SE = 0.26 % → tol 0.3 %.
        let d = ServiceDist::Uniform {
            min_s: 1.0,
            max_s: 3.0,
        };
        assert!((d.cv() - 0.288_675).abs() < 1e-6);
        assert_mean(d, 0.003);
    }

    #[test]
    fn lognormal_mean_and_cv() {
        // cv 1.5: SE = 1.5/447.2 = 0.335 %; 4 SE = 1.34 % → tol 1.4 %.
        let cv = assert_mean(
            ServiceDist::Lognormal {
                mean_s: 60.0,
                cv: 1.5,
            },
            0.014,
        );
        // Sample cv: with m = 1, σ² = ln(1 + 1.5²) = ln 3.25 and E[Xᵏ] = 3.25^(k(k−1)/2):
        // E[X²] = 3.25, E[X³] = 34.33, E[X⁴] = 1178.4, central μ4 = 1178.4 − 4·34.33 + 6·3.25
        // − 3 = 1057.6, Var(S²) ≈ (μ4 − σ⁴)/N = (1057.6 − 5.06)/2e5 = 0.00526, sd(S²) = 0.0725
        // = 3.2 % of S² = 2.25, so sd(cv) ≈ 1.6 % · 1.5 = 0.024 (plus the mean's 0.34 %);
        // 4 SE ≈ 0.1.
        assert!((cv - 1.5).abs() < 0.1, "sample cv {cv}");
    }

    #[test]
    fn hyperexponential_mean_and_cv() {
        // cv 2: SE = 2/447.2 = 0.447 %; 4 SE = 1.79 % → tol 1.8 %.
        let cv = assert_mean(
            ServiceDist::Hyperexponential {
                mean_s: 1.0,
                cv: 2.0,
            },
            0.018,
        );
        // Sample cv: p1 = (1 + √(3/5))/2 = 0.8873, means m1 = 0.5635, m2 = 4.436;
        // E[X³] = 6 Σ p m³ = 59.99, E[X⁴] = 24 Σ p m⁴ = 1049.8, μ4 = 1049.8 − 4·59.99 + 6·5 − 3
        // = 836.8, Var(S²) ≈ (836.8 − 16)/2e5 = 0.0041, sd(S²) = 0.064 = 1.6 % of 4, so
        // sd(cv) ≈ 0.8 % · 2 = 0.016 (plus the mean's 0.45 %); 4 SE ≈ 0.07.
        assert!((cv - 2.0).abs() < 0.07, "sample cv {cv}");
    }

    #[test]
    fn hyperexponential_with_cv_1_is_exponential() {
        // c = 1 ⇒ p1 = 1/2 and both phases have mean m / (2 · 1/2) = m.
        let d = ServiceDist::Hyperexponential {
            mean_s: 5.0,
            cv: 1.0,
        };
        let s = d.sampler("s").unwrap();
        match s.kind {
            Kind::Hyperexponential { p1, .. } => assert_eq!(p1, 0.5),
            _ => panic!("wrong kind"),
        }
    }

    #[test]
    fn pareto_mean() {
        // shape 3: cv = 1/√(3·1) = 0.577 (variance finite); SE = 0.577/447.2 = 0.129 %;
        // 4 SE = 0.52 % → tol 0.6 %.
        let d = ServiceDist::Pareto {
            mean_s: 10.0,
            shape: 3.0,
        };
        assert!((d.cv() - 0.577_350).abs() < 1e-6);
        assert_mean(d, 0.006);
    }

    #[test]
    fn weibull_mean() {
        // k = 2: Γ(1.5) = 0.886 227, Γ(2) = 1, cv = √(1/0.785 398 − 1) = 0.5227;
        // SE = 0.5227/447.2 = 0.117 %; 4 SE = 0.47 % → tol 0.5 %.
        let d = ServiceDist::Weibull {
            mean_s: 4.0,
            shape: 2.0,
        };
        assert!((d.cv() - 0.522_723).abs() < 1e-5, "{}", d.cv());
        assert_mean(d, 0.005);
        // k = 0.5: Γ(3) = 2, Γ(5) = 24, cv = √(24/4 − 1) = √5 = 2.236; SE = 0.5 %;
        // 4 SE = 2.0 % → tol 2.1 %.
        let d = ServiceDist::Weibull {
            mean_s: 4.0,
            shape: 0.5,
        };
        assert!((d.cv() - 5f64.sqrt()).abs() < 1e-9);
        assert_mean(d, 0.021);
    }

    #[test]
    fn empirical_mean_cv_and_draws() {
        // Quantiles {0, 1, 5}: segments U(0,1) and U(1,5), each with probability ½.
        // Mean = (0.5 + 3)/2 = 1.75; E[X²] = ((0+0+1)/3 + (1+5+25)/3)/2 = (1/3 + 31/3)/2
        // = 16/3; var = 5.3333 − 3.0625 = 2.2708; cv = 1.5069/1.75 = 0.86110.
        let d = ServiceDist::Empirical {
            quantiles_s: vec![0.0, 1.0, 5.0],
        };
        assert!((d.mean() - 1.75).abs() < 1e-12);
        assert!((d.cv() - (16.0f64 / 3.0 - 1.75 * 1.75).sqrt() / 1.75).abs() < 1e-12);
        // cv 0.861: SE = 0.861/447.2 = 0.19 %; 4 SE = 0.77 % → tol 0.8 %.
        assert_mean(d, 0.008);
        let bad = |q: Vec<f64>| {
            ServiceDist::Empirical { quantiles_s: q }
                .sampler("s")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad(vec![1.0]),
            "s.quantiles_s: needs at least 2 values, got 1"
        );
        assert_eq!(
            bad(vec![2.0, 1.0]),
            "s.quantiles_s: must not decrease, but 1 follows 2"
        );
        assert_eq!(
            bad(vec![0.0, 0.0]),
            "s.quantiles_s: the mean must be finite and > 0"
        );
    }

    #[test]
    fn invalid_parameters_are_named() {
        let e = |d: ServiceDist| d.sampler("workload.service").unwrap_err().to_string();
        assert_eq!(
            e(ServiceDist::Exponential { mean_s: -3.0 }),
            "workload.service.mean_s: must be > 0, got -3"
        );
        assert_eq!(
            e(ServiceDist::Lognormal {
                mean_s: f64::NAN,
                cv: 1.0
            }),
            "workload.service.mean_s: must be > 0, got NaN"
        );
        assert_eq!(
            e(ServiceDist::Deterministic {
                mean_s: f64::INFINITY
            }),
            "workload.service.mean_s: must be finite, got inf"
        );
        assert!(
            e(ServiceDist::Hyperexponential {
                mean_s: 1.0,
                cv: 0.5
            })
            .starts_with("workload.service.cv: must be ≥ 1")
        );
        assert!(
            e(ServiceDist::Pareto {
                mean_s: 1.0,
                shape: 1.0
            })
            .starts_with("workload.service.shape: must be > 1")
        );
        assert!(
            e(ServiceDist::Uniform {
                min_s: 3.0,
                max_s: 2.0
            })
            .starts_with("workload.service.max_s: must be ≥ min_s")
        );
        assert!(
            e(ServiceDist::Weibull {
                mean_s: 1.0,
                shape: 0.001
            })
            .starts_with("workload.service.shape: too small")
        );
        assert!(
            e(ServiceDist::Lognormal {
                mean_s: 1.0,
                cv: 1e200
            })
            .starts_with("workload.service.cv:")
        );
    }
}
