//! Statistics over replications: mean with a Student-t confidence interval.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean, sample standard deviation and the half-width of a 95 % confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanCi {
    /// Number of samples.
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator); 0 when n < 2.
    pub std_dev: f64,
    /// Half-width of the 95 % CI, `t(0.975, n−1) · s / √n`; NaN when n < 2.
    pub half_width: f64,
}

/// The 95 % Student-t interval of the mean of `xs`.
pub fn mean_ci95(xs: &[f64]) -> MeanCi {
    mean_ci(xs, 0.95)
}

/// The two-sided `level` Student-t interval of the mean of `xs` (`level` in (0, 1)).
pub fn mean_ci(xs: &[f64], level: f64) -> MeanCi {
    let n = xs.len();
    if n == 0 {
        return MeanCi {
            n,
            mean: f64::NAN,
            std_dev: f64::NAN,
            half_width: f64::NAN,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return MeanCi {
            n,
            mean,
            std_dev: 0.0,
            half_width: f64::NAN,
        };
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|d| d.inverse_cdf(0.5 + level / 2.0))
        .unwrap_or(f64::NAN);
    MeanCi {
        n,
        mean,
        std_dev: sd,
        half_width: t * sd / (n as f64).sqrt(),
    }
}

/// Jain's fairness index `(Σx)² / (n·Σx²)` from running sums: 1 when all equal, 1/n when
/// one value takes everything.
pub fn jain_index(n: u64, sum: f64, sum_sq: f64) -> f64 {
    if n == 0 || sum_sq == 0.0 {
        return f64::NAN;
    }
    sum * sum / (n as f64 * sum_sq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_matches_hand_calculation() {
        // xs = 1..=5: mean 3, s² = 10/4 = 2.5, s = 1.5811; t(0.975, 4) = 2.7764;
        // half-width = 2.7764 · 1.5811 / √5 = 1.9632.
        let c = mean_ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(c.mean, 3.0);
        assert!((c.std_dev - 1.581_139).abs() < 1e-6);
        assert!((c.half_width - 1.963_2).abs() < 1e-3, "{}", c.half_width);
        assert!(mean_ci95(&[2.0]).half_width.is_nan());
    }

    #[test]
    fn jain_extremes() {
        // equal shares: (4·1)² / (4·4·1) = 1; one of four takes all: 1 / (4·1) = 0.25.
        assert_eq!(jain_index(4, 4.0, 4.0), 1.0);
        assert_eq!(jain_index(4, 1.0, 1.0), 0.25);
    }
}
