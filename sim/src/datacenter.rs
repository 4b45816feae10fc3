//! Datacenter operations in the model: how much power a host draws ([`HostPower`]), hosts
//! switched off when idle and booted when admission needs them, and host failures and
//! repairs ([`FailureSpec`]). Every setting defaults to "off" ([`DatacenterSpec::default`]),
//! and then a run is exactly what it was without them.

use crate::time::SimTime;

/// Points of a SPECpower-style curve: the draw at 0 %, 10 %, … 100 % utilisation.
pub const CURVE_POINTS: usize = 11;

/// How a host's draw depends on its utilisation (the share of its pCPUs that are busy).
#[derive(Clone, Debug, PartialEq)]
pub enum PowerCurve {
    /// `idle_w + (max_w − idle_w) × u`.
    Linear {
        /// Watts with no pCPU busy.
        idle_w: f64,
        /// Watts with every pCPU busy.
        max_w: f64,
    },
    /// Watts at 0 %, 10 %, … 100 % utilisation, interpolated linearly between the points
    /// (as SPECpower publishes them).
    Curve([f64; CURVE_POINTS]),
}

impl PowerCurve {
    /// Watts at utilisation `u` in \[0, 1\] (clamped).
    pub fn watts(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        match self {
            PowerCurve::Linear { idle_w, max_w } => idle_w + (max_w - idle_w) * u,
            PowerCurve::Curve(p) => {
                let x = u * (CURVE_POINTS - 1) as f64;
                let i = (x.floor() as usize).min(CURVE_POINTS - 2);
                let f = x - i as f64;
                p[i] + (p[i + 1] - p[i]) * f
            }
        }
    }

    /// Watts of a host switched on with no pCPU busy (also drawn while it boots).
    pub fn idle_w(&self) -> f64 {
        self.watts(0.0)
    }
}

/// A host's power model.
#[derive(Clone, Debug, PartialEq)]
pub struct HostPower {
    /// Draw while on, by utilisation.
    pub curve: PowerCurve,
    /// Draw while switched off or failed.
    pub off_w: f64,
}

/// The distribution of the time between a host's repair and its next failure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UptimeDist {
    /// Exponential (memoryless) with mean MTBF.
    Exponential,
    /// Weibull with this shape parameter, scaled so that its mean is the MTBF.
    Weibull {
        /// Shape `k` (> 0; < 1: infant mortality, > 1: wear-out).
        shape: f64,
    },
}

/// One recorded failure: host `host` fails at `fail` and is repaired at `repair`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedFailure {
    /// Host number.
    pub host: u32,
    /// When it fails.
    pub fail: SimTime,
    /// When it is back (after `fail`).
    pub repair: SimTime,
}

/// Where host failures come from.
#[derive(Clone, Debug, PartialEq)]
pub enum FailureSpec {
    /// Independent per host, each from its own random stream: up for a time drawn from
    /// `dist` with mean `mtbf`, then down for an exponential time with mean `mttr`.
    Random {
        /// Mean time between failures (mean uptime).
        mtbf: SimTime,
        /// Mean time to repair (mean downtime).
        mttr: SimTime,
        /// Distribution of uptimes.
        dist: UptimeDist,
    },
    /// A recorded history, in any order (the intervals of one host must not overlap).
    Recorded(Vec<RecordedFailure>),
}

/// What happens to the VMs of a host that fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// They go back to the admission queue and start again from scratch; their wait keeps
    /// counting from their first arrival.
    #[default]
    Restart,
    /// They are lost: recorded as ended (like a stopped VM) and counted in
    /// [`DatacenterStats::vms_lost`].
    Lose,
}

/// The datacenter-operations settings of a run. The default turns everything off.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct DatacenterSpec {
    /// A host with no VM for this long switches off (`None`: hosts stay on). Admission
    /// boots the lowest-numbered switched-off host that can hold the VM at the head of the
    /// queue when no running host can.
    pub power_off_idle: Option<SimTime>,
    /// Host failures (`None`: hosts never fail).
    pub failures: Option<FailureSpec>,
    /// What happens to the VMs of a failed host.
    pub on_failure: OnFailure,
    /// Live migration's link and thresholds (`None`: `migrate` events are refused and
    /// nothing migrates).
    pub migration: Option<crate::migration::MigrationSpec>,
    /// A consolidation policy run every interval (`None`: none; needs `migration`).
    pub consolidation: Option<crate::migration::ConsolidationSpec>,
}

impl DatacenterSpec {
    /// Whether any datacenter operation is on.
    pub fn any(&self) -> bool {
        self.power_off_idle.is_some() || self.failures.is_some()
    }
}

/// What one host did in a run with datacenter operations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostOpsStats {
    /// Energy drawn up to the makespan, J (0 without a power model).
    pub energy_j: f64,
    /// Time switched on (booting included) up to the makespan, ns.
    pub on_ns: u128,
    /// Time failed up to the makespan, ns.
    pub down_ns: u128,
    /// Boots (switch-ons from off).
    pub boots: u64,
    /// Failures.
    pub failures: u64,
    /// VMs running on it when it failed.
    pub vm_interruptions: u64,
}

/// The datacenter counters of a run ([`crate::RunStats::datacenter`]); all zero and
/// `hosts` empty when no power model, power-off or failures are configured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DatacenterStats {
    /// Some host has a power model.
    pub power: bool,
    /// Power-off or failures are configured.
    pub operations: bool,
    /// Per host, in host order.
    pub hosts: Vec<HostOpsStats>,
    /// VMs lost with their host (`on_failure = "lose"`).
    pub vms_lost: u64,
    /// Guest work done by VMs when their host failed (lost: restarted VMs do it again),
    /// ns of reference CPU time summed over vCPUs.
    pub lost_work_ns: u128,
    /// Live migrations (empty unless migration is configured).
    pub migration: crate::migration::MigrationStats,
}

impl DatacenterStats {
    /// Whether anything is tracked.
    pub fn tracked(&self) -> bool {
        self.power || self.operations
    }
    /// Total energy, J.
    pub fn energy_j(&self) -> f64 {
        self.hosts.iter().map(|h| h.energy_j).sum()
    }
    /// Total boots.
    pub fn boots(&self) -> u64 {
        self.hosts.iter().map(|h| h.boots).sum()
    }
    /// Total failures.
    pub fn failures(&self) -> u64 {
        self.hosts.iter().map(|h| h.failures).sum()
    }
    /// Total VM interruptions.
    pub fn vm_interruptions(&self) -> u64 {
        self.hosts.iter().map(|h| h.vm_interruptions).sum()
    }
    /// ∫ hosts on dt, ns.
    pub fn on_ns(&self) -> u128 {
        self.hosts.iter().map(|h| h.on_ns).sum()
    }
    /// ∫ hosts failed dt, ns.
    pub fn down_ns(&self) -> u128 {
        self.hosts.iter().map(|h| h.down_ns).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Linear: 100 + (200 − 100) × 0.25 = 125 W. Curve: at 35 % halfway between the 30 %
    /// and 40 % points, (130 + 150) / 2 = 140 W; the ends are the first and last points.
    #[test]
    fn curves_interpolate() {
        let lin = PowerCurve::Linear {
            idle_w: 100.0,
            max_w: 200.0,
        };
        assert_eq!(lin.watts(0.25), 125.0);
        assert_eq!(lin.idle_w(), 100.0);
        let c = PowerCurve::Curve([
            100.0, 110.0, 120.0, 130.0, 150.0, 160.0, 170.0, 180.0, 190.0, 200.0, 250.0,
        ]);
        assert!((c.watts(0.35) - 140.0).abs() < 1e-9);
        assert_eq!(c.watts(0.0), 100.0);
        assert_eq!(c.watts(1.0), 250.0);
        assert!((c.watts(0.95) - 225.0).abs() < 1e-9);
    }
}
