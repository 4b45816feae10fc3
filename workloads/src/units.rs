//! Unit conversions of input values: seconds, milliseconds and microseconds to the engine's
//! nanosecond clock, GiB to MiB, fractional CPUs to whole vCPUs, and page sizes.
//!
//! A leaf module: it depends on nothing in the crate. Conversions here never fail; a
//! value out of range is clamped or reported as `None`, and the caller's check names the
//! key.

use sim::SimTime;

/// Seconds to [`SimTime`], rounded to the nanosecond and clamped instead of failing.
pub(crate) fn secs_to_time(s: f64) -> SimTime {
    match SimTime::from_secs_f64(s) {
        Some(t) => t,
        None if s > 0.0 => SimTime::MAX,
        None => SimTime::ZERO,
    }
}

/// Microseconds as a [`SimTime`] (for values already checked).
pub fn us(v: f64) -> SimTime {
    SimTime::from_secs_f64(v / 1e6).unwrap_or(SimTime::MAX)
}

/// `value × ns_per_unit` nanoseconds, rounded; `None` if negative, NaN or too large.
pub(crate) fn scaled_time(value: f64, ns_per_unit: f64) -> Option<SimTime> {
    let ns = (value * ns_per_unit).round();
    (ns >= 0.0 && ns < u64::MAX as f64).then_some(SimTime(ns as u64))
}

/// `round(gib × 1024)` MiB; `None` if negative, NaN or beyond `u64`.
pub(crate) fn gib_to_mib(gib: f64) -> Option<u64> {
    let mib = (gib * 1024.0).round();
    (mib >= 0.0 && mib < u64::MAX as f64).then_some(mib as u64)
}

/// Whole vCPUs for a fractional request: rounded up, at least 1.
pub(crate) fn whole_vcpus(cpus: f64) -> u32 {
    let c = cpus.ceil();
    if c.is_nan() || c < 1.0 {
        1
    } else if c >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        c as u32
    }
}

/// The page size backing guest memory (`[[hosts]] page_size`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum PageSize {
    /// `"4k"` (default): 4 KiB pages.
    #[default]
    Kib4,
    /// `"2m"`: 2 MiB huge pages.
    Mib2,
    /// `"1g"`: 1 GiB huge pages.
    Gib1,
}

impl PageSize {
    /// The names written in scenario files, in order.
    pub const NAMES: [&'static str; 3] = ["4k", "2m", "1g"];

    /// The page size called `name`: `"4k"`, `"2m"` or `"1g"`, in any case, also written
    /// `"4KiB"`, `"2MiB"`, `"1GiB"`.
    pub fn from_name(name: &str) -> Option<PageSize> {
        match name.to_ascii_lowercase().as_str() {
            "4k" | "4kib" => Some(PageSize::Kib4),
            "2m" | "2mib" => Some(PageSize::Mib2),
            "1g" | "1gib" => Some(PageSize::Gib1),
            _ => None,
        }
    }

    /// The name written in scenario files: `"4k"`, `"2m"` or `"1g"`.
    pub fn name(self) -> &'static str {
        match self {
            PageSize::Kib4 => "4k",
            PageSize::Mib2 => "2m",
            PageSize::Gib1 => "1g",
        }
    }

    /// The size in bytes: 4096, 2 MiB or 1 GiB.
    pub fn bytes(self) -> u64 {
        match self {
            PageSize::Kib4 => 4096,
            PageSize::Mib2 => 2 << 20,
            PageSize::Gib1 => 1 << 30,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_by_hand() {
        // ceil, at least 1: 3.152 → 4, 0.5 → 1, 0 → 1.
        assert_eq!(whole_vcpus(3.152), 4);
        assert_eq!(whole_vcpus(0.5), 1);
        assert_eq!(whole_vcpus(0.0), 1);
        // 1.5 GiB × 1024 = 1536 MiB.
        assert_eq!(gib_to_mib(1.5), Some(1536));
        assert_eq!(gib_to_mib(-1.0), None);
        // 2.5 ms × 10⁶ ns/ms = 2 500 000 ns.
        assert_eq!(scaled_time(2.5, 1e6), Some(SimTime(2_500_000)));
        assert_eq!(secs_to_time(-1.0), SimTime::ZERO);
        assert_eq!(secs_to_time(1e30), SimTime::MAX);
    }

    #[test]
    fn page_sizes_by_name() {
        assert_eq!(PageSize::from_name("2MiB"), Some(PageSize::Mib2));
        assert_eq!(PageSize::from_name("4K").map(PageSize::bytes), Some(4096));
        assert_eq!(
            PageSize::from_name("1g").map(PageSize::bytes),
            Some(1 << 30)
        );
        assert_eq!(PageSize::from_name("8k"), None);
        for name in PageSize::NAMES {
            assert_eq!(PageSize::from_name(name).map(PageSize::name), Some(name));
        }
    }
}
