//! Closed-form results of queueing theory that the engine is checked against (and that
//! `vmsched bench` prints next to its measurement).

/// Erlang C: the probability that an arrival waits in M/M/c with offered load `a = λ/μ`
/// (requires `a < c`; returns 1 otherwise).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if a >= f64::from(c) {
        return 1.0;
    }
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / f64::from(k);
        }
        sum += term;
    }
    let last = term * a / f64::from(c); // a^c / c!
    let top = last * f64::from(c) / (f64::from(c) - a);
    top / (sum + top)
}

/// Mean wait in queue of M/M/c: `C(c, a) / (cμ − λ)`, with `λ` per second and mean service
/// `1/μ` seconds. Infinite when the queue is unstable.
pub fn mmc_mean_wait(c: u32, lambda: f64, mean_service: f64) -> f64 {
    let mu = 1.0 / mean_service;
    let capacity = f64::from(c) * mu;
    if lambda >= capacity {
        return f64::INFINITY;
    }
    erlang_c(c, lambda / mu) / (capacity - lambda)
}

/// Pollaczek–Khinchine mean wait of M/G/1: `λ E[S²] / (2 (1 − ρ))`, `E[S²] = (1 + cv²) E[S]²`.
pub fn mg1_mean_wait(lambda: f64, mean_service: f64, cv: f64) -> f64 {
    let rho = lambda * mean_service;
    if rho >= 1.0 {
        return f64::INFINITY;
    }
    lambda * (1.0 + cv * cv) * mean_service * mean_service / (2.0 * (1.0 - rho))
}

/// Cobham's mean waits of non-preemptive priority M/G/1, classes in order of urgency,
/// each `(λ_k, E[S_k], E[S_k²])`: `W_k = W0 / ((1 − σ_{k−1})(1 − σ_k))`,
/// `W0 = Σ λ_i E[S_i²] / 2`, `σ_k = Σ_{i≤k} ρ_i`.
pub fn cobham_waits(classes: &[(f64, f64, f64)]) -> Vec<f64> {
    let w0: f64 = classes.iter().map(|(l, _, s2)| l * s2).sum::<f64>() / 2.0;
    let mut sigma = 0.0;
    classes
        .iter()
        .map(|(l, s, _)| {
            let before = sigma;
            sigma += l * s;
            if sigma >= 1.0 {
                f64::INFINITY
            } else {
                w0 / ((1.0 - before) * (1.0 - sigma))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_values() {
        // M/M/1 (c = 1): C = ρ, Wq = ρ / (μ − λ); λ = 0.8, μ = 1 → 0.8 / 0.2 = 4.
        assert!((mmc_mean_wait(1, 0.8, 1.0) - 4.0).abs() < 1e-12);
        // M/M/2, a = 1: C = (1/2 · 2) / (1 + 1 + 1) = 1/3; Wq = (1/3) / (2 − 1) = 1/3.
        assert!((mmc_mean_wait(2, 1.0, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // M/M/16, λ = 14.4: ≈ 0.3696 s (the core issue's reference value).
        assert!((mmc_mean_wait(16, 14.4, 1.0) - 0.3696).abs() < 5e-4);
        // M/D/1 (cv 0), ρ = 0.5: 0.5 · 1 / (2 · 0.5) = 0.5.
        assert!((mg1_mean_wait(0.5, 1.0, 0.0) - 0.5).abs() < 1e-12);
        // Two classes λ = 0.35 each, exp(1): W0 = 0.7, W1 = 0.7/0.65, W2 = 0.7/(0.65·0.3).
        let w = cobham_waits(&[(0.35, 1.0, 2.0), (0.35, 1.0, 2.0)]);
        assert!((w[0] - 1.076_923).abs() < 1e-6 && (w[1] - 3.589_744).abs() < 1e-6);
        assert!(mmc_mean_wait(2, 2.0, 1.0).is_infinite());
    }
}
