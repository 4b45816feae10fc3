//! Simulated time: an integer count of nanoseconds.

use std::fmt;

/// A point in simulated time, or a duration, in nanoseconds.
///
/// Never a float: arithmetic is exact and runs are reproducible. Output files show
/// seconds as decimals (see the `Display` impl).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    /// Time zero.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable time (about 584 years).
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// From whole nanoseconds.
    pub const fn from_nanos(ns: u64) -> SimTime {
        SimTime(ns)
    }

    /// From whole seconds (saturating).
    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s.saturating_mul(NANOS_PER_SEC))
    }

    /// From microseconds (saturating).
    pub const fn from_micros(us: u64) -> SimTime {
        SimTime(us.saturating_mul(1_000))
    }

    /// From milliseconds (saturating).
    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms.saturating_mul(1_000_000))
    }

    /// From a number of seconds, rounded to the nearest nanosecond.
    ///
    /// Returns `None` for NaN, negative values and values beyond [`SimTime::MAX`].
    pub fn from_secs_f64(s: f64) -> Option<SimTime> {
        // `x + 0.5` then truncation rounds half up for x ≥ 0, without the slow software
        // `round` that baseline x86-64 gets. The range test also rejects NaN and ±∞.
        let ns = s * NANOS_PER_SEC as f64 + 0.5;
        if !(s >= 0.0 && ns < u64::MAX as f64) {
            return None;
        }
        Some(SimTime(ns as u64))
    }

    /// Nanoseconds.
    pub const fn nanos(self) -> u64 {
        self.0
    }

    /// Seconds as a float (for statistics and display only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// `self + d`, or `None` on overflow.
    pub fn checked_add(self, d: SimTime) -> Option<SimTime> {
        self.0.checked_add(d.0).map(SimTime)
    }

    /// `self + d`, clamped to [`SimTime::MAX`].
    pub fn saturating_add(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// `self - d`, clamped to zero.
    pub fn saturating_sub(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }
}

impl fmt::Display for SimTime {
    /// Seconds with exactly nine decimals, e.g. `12.000000500` (exact, no float rounding).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:09}",
            self.0 / NANOS_PER_SEC,
            self.0 % NANOS_PER_SEC
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_and_display() {
        assert_eq!(SimTime::from_secs_f64(1.5), Some(SimTime(1_500_000_000)));
        assert_eq!(SimTime::from_secs_f64(-1.0), None);
        assert_eq!(SimTime::from_secs_f64(f64::NAN), None);
        assert_eq!(SimTime::from_secs_f64(1e30), None);
        assert_eq!(SimTime(12_000_000_500).to_string(), "12.000000500");
        assert_eq!(SimTime::ZERO.to_string(), "0.000000000");
    }
}
