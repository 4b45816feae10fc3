//! Live migration (pre-copy) in the model: the settings of the link ([`MigrationSpec`]),
//! the closed form of one migration's rounds ([`precopy`]), the consolidation settings
//! ([`ConsolidationSpec`]), and what a run reports ([`MigrationRecord`],
//! [`MigrationStats`]). Every setting defaults to "off".
//!
//! # The pre-copy model
//!
//! A VM of memory `M` dirties `D` bytes per second (`[workload] memory.dirty_mib_per_s`)
//! of its working set `W`. Over a link of `B` bytes per second:
//!
//! * round 0 sends `M`; round `i ≥ 1` sends what was dirtied during round `i − 1`,
//!   `x_i = min(⌊D × t_{i−1}⌋, W)`, where a round of `x` bytes lasts
//!   `t = ⌈x × 10⁹ / B⌉` ns (integer time: rounded up to the nanosecond; dirtied bytes
//!   rounded down to the byte);
//! * after a round, with `x` dirtied during it, the pre-copy stops when `x ≤` the
//!   stop-copy threshold, or when `max_rounds` rounds were sent, or when `x ≥` the round
//!   just sent (the next round would not shrink);
//! * then the VM is paused and `x` is sent: the **downtime** is `⌈x × 10⁹ / B⌉` ns plus
//!   `resume`. The VM continues on the destination at the end.
//!
//! # The link
//!
//! The link is the source host's first `kind = "nic"` device when it has one: migration
//! data goes through that device's FIFO queue as requests of `[migration] chunk_mib`
//! (default 64 MiB; the last chunk of a round is what is left), one chunk at a time per
//! migration, beside the VMs' own requests to the NIC. A chunk of `c` bytes holds a
//! channel for `L + ⌈c × 10⁹ / B⌉` ns (`L` the NIC's latency, `B` its bandwidth rounded
//! to a whole byte per second), so a round's duration — and with it what is dirtied
//! during the round — includes the time its chunks waited behind other requests. On an
//! otherwise idle NIC a round of `x` bytes lasts [`Link::transfer_time`] and the whole
//! migration follows [`precopy_over`] to the nanosecond (with `L = 0` and `B` dividing
//! `c × 10⁹`, e.g. 1 GB/s, that is the formula above).
//!
//! A source host without a NIC uses `[migration] bandwidth_mbps`, a dedicated migration
//! network: it is not shared with the VMs' own device requests, and migrations at the
//! same time do not slow each other.

use crate::time::SimTime;

/// Bytes per MiB.
pub const MIB: u64 = 1 << 20;

/// The live-migration settings of a run (`[migration]`).
#[derive(Clone, Debug, PartialEq)]
pub struct MigrationSpec {
    /// Bandwidth of the dedicated migration link of hosts without a NIC, bytes per second
    /// (0: none; then every host needs a NIC).
    pub bandwidth_bytes_per_s: u64,
    /// Size of the requests migration data is sent in through a NIC (default 64 MiB, > 0).
    pub chunk_bytes: u64,
    /// The pre-copy stops once what is left is at most this many bytes (default 64 MiB).
    pub stop_copy_bytes: u64,
    /// The most pre-copy rounds, round 0 included (default 30, ≥ 1).
    pub max_rounds: u32,
    /// Time to resume the VM on the destination after the last byte (default 0).
    pub resume: SimTime,
}

impl MigrationSpec {
    /// The defaults over a link of `bandwidth_bytes_per_s`: stop-copy at 64 MiB, 30 rounds,
    /// no resume time.
    pub fn with_bandwidth(bandwidth_bytes_per_s: u64) -> MigrationSpec {
        MigrationSpec {
            bandwidth_bytes_per_s,
            chunk_bytes: 64 * MIB,
            stop_copy_bytes: 64 * MIB,
            max_rounds: 30,
            resume: SimTime::ZERO,
        }
    }

    /// Time to send `bytes` over the link, rounded up to the nanosecond.
    pub fn transfer_time(&self, bytes: u64) -> SimTime {
        let b = u128::from(self.bandwidth_bytes_per_s.max(1));
        let ns = (u128::from(bytes) * 1_000_000_000).div_ceil(b);
        SimTime(u64::try_from(ns).unwrap_or(u64::MAX))
    }
}

/// A NIC as a migration link: chunks of `chunk_bytes`, each holding a channel for
/// `latency + ⌈c × 10⁹ / bandwidth⌉` ns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// Bytes per second (≥ 1).
    pub bandwidth_bytes_per_s: u64,
    /// Fixed time per request.
    pub latency: SimTime,
    /// Bytes per request (≥ 1).
    pub chunk_bytes: u64,
}

impl Link {
    /// The link of a NIC of `nic` under `spec`'s chunk size (the NIC's bandwidth rounded
    /// to a whole byte per second, at least 1).
    pub fn nic(spec: &MigrationSpec, nic: &crate::model::DeviceSpec) -> Link {
        let bw = nic.bandwidth_bytes_per_s;
        let bw = if bw.is_finite() && bw >= 1.0 {
            bw.round().min(u64::MAX as f64) as u64
        } else {
            1
        };
        Link {
            bandwidth_bytes_per_s: bw,
            latency: nic.latency,
            chunk_bytes: spec.chunk_bytes.max(1),
        }
    }

    /// Service time of one chunk of `bytes`.
    pub fn chunk_time(&self, bytes: u64) -> SimTime {
        let b = u128::from(self.bandwidth_bytes_per_s.max(1));
        let ns = (u128::from(bytes) * 1_000_000_000).div_ceil(b);
        self.latency
            .saturating_add(SimTime(u64::try_from(ns).unwrap_or(u64::MAX)))
    }

    /// Time to send `bytes` in chunks one after the other on an idle NIC: `⌊x / c⌋` full
    /// chunks and one of `x mod c` bytes if that is not 0.
    pub fn transfer_time(&self, bytes: u64) -> SimTime {
        let c = self.chunk_bytes.max(1);
        let full = SimTime(self.chunk_time(c).nanos().saturating_mul(bytes / c));
        match bytes % c {
            0 => full,
            r => full.saturating_add(self.chunk_time(r)),
        }
    }
}

/// One migration's schedule on an otherwise idle link (see the module's model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrecopyPlan {
    /// Pre-copy rounds sent (round 0 included).
    pub rounds: u32,
    /// Duration of the pre-copy rounds together: the VM runs on the source meanwhile.
    pub precopy: SimTime,
    /// Bytes sent during the pre-copy.
    pub precopy_bytes: u64,
    /// Bytes sent while the VM is paused.
    pub stop_copy_bytes: u64,
    /// The pause: the stop-copy transfer plus the resume time.
    pub downtime: SimTime,
}

impl PrecopyPlan {
    /// Everything sent, bytes.
    pub fn transferred_bytes(&self) -> u64 {
        self.precopy_bytes.saturating_add(self.stop_copy_bytes)
    }
    /// From the start to the VM's resumption on the destination.
    pub fn total(&self) -> SimTime {
        self.precopy.saturating_add(self.downtime)
    }
}

/// The rounds of migrating a VM of `memory_bytes`, dirtying `dirty_bytes_per_s` of its
/// working set of `working_set_bytes`, under `spec` (see the module's model).
pub fn precopy(
    spec: &MigrationSpec,
    memory_bytes: u64,
    working_set_bytes: u64,
    dirty_bytes_per_s: u64,
) -> PrecopyPlan {
    precopy_with(
        spec,
        |x| spec.transfer_time(x),
        memory_bytes,
        working_set_bytes,
        dirty_bytes_per_s,
    )
}

/// [`precopy`] through an otherwise idle NIC `link` (rounds sent in chunks).
pub fn precopy_over(
    spec: &MigrationSpec,
    link: &Link,
    memory_bytes: u64,
    working_set_bytes: u64,
    dirty_bytes_per_s: u64,
) -> PrecopyPlan {
    precopy_with(
        spec,
        |x| link.transfer_time(x),
        memory_bytes,
        working_set_bytes,
        dirty_bytes_per_s,
    )
}

/// Bytes dirtied in `t` at `dirty_bytes_per_s`, rounded down, at most `working_set_bytes`.
pub fn dirtied(dirty_bytes_per_s: u64, working_set_bytes: u64, t: SimTime) -> u64 {
    let x = u128::from(dirty_bytes_per_s) * u128::from(t.nanos()) / 1_000_000_000;
    u64::try_from(x).unwrap_or(u64::MAX).min(working_set_bytes)
}

/// Whether the pre-copy stops after round `rounds` (1 = round 0) that sent `sent` bytes
/// and during which `left` bytes were dirtied.
pub fn precopy_stops(spec: &MigrationSpec, rounds: u32, sent: u64, left: u64) -> bool {
    left <= spec.stop_copy_bytes || rounds >= spec.max_rounds.max(1) || left >= sent
}

fn precopy_with(
    spec: &MigrationSpec,
    transfer: impl Fn(u64) -> SimTime,
    memory_bytes: u64,
    working_set_bytes: u64,
    dirty_bytes_per_s: u64,
) -> PrecopyPlan {
    let mut send = memory_bytes;
    let mut plan = PrecopyPlan {
        rounds: 0,
        precopy: SimTime::ZERO,
        precopy_bytes: 0,
        stop_copy_bytes: 0,
        downtime: SimTime::ZERO,
    };
    loop {
        let t = transfer(send);
        plan.rounds += 1;
        plan.precopy = plan.precopy.saturating_add(t);
        plan.precopy_bytes = plan.precopy_bytes.saturating_add(send);
        let left = dirtied(dirty_bytes_per_s, working_set_bytes, t);
        if precopy_stops(spec, plan.rounds, send, left) {
            plan.stop_copy_bytes = left;
            plan.downtime = transfer(left).saturating_add(spec.resume);
            return plan;
        }
        send = left;
    }
}

/// Why a VM was migrated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrationReason {
    /// A `migrate` lifecycle event.
    Manual,
    /// Consolidation emptied an under-used host.
    Underload,
    /// Consolidation relieved an over-used host.
    Overload,
}

impl MigrationReason {
    /// Name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            MigrationReason::Manual => "manual",
            MigrationReason::Underload => "underload",
            MigrationReason::Overload => "overload",
        }
    }
}

/// One completed migration (a row of `migrations.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct MigrationRecord {
    /// VM id.
    pub vm: u64,
    /// Source host.
    pub from: u32,
    /// Destination host.
    pub to: u32,
    /// When it started.
    pub start: SimTime,
    /// When the VM resumed on the destination.
    pub end: SimTime,
    /// Pre-copy rounds (round 0 included).
    pub rounds: u32,
    /// Bytes sent in all.
    pub transferred_bytes: u64,
    /// Time the VM was paused (stop-copy and resume).
    pub downtime: SimTime,
    /// Why.
    pub reason: MigrationReason,
}

/// The migration counters of a run ([`crate::DatacenterStats::migration`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MigrationStats {
    /// Live migration was configured (`[migration]` or migrate events).
    pub configured: bool,
    /// Completed migrations, in the order they ended.
    pub records: Vec<MigrationRecord>,
    /// Migrations refused: the destination could not hold the VM (full, off or failed),
    /// is its own host, or the VM was not running or already migrating.
    pub refused: u64,
    /// Migrations abandoned: the VM ended, or the source or destination failed, first.
    pub aborted: u64,
}

impl MigrationStats {
    /// Mean downtime of the completed migrations, seconds (NaN without any).
    pub fn mean_downtime_s(&self) -> f64 {
        if self.records.is_empty() {
            return f64::NAN;
        }
        let sum: u128 = self
            .records
            .iter()
            .map(|r| u128::from(r.downtime.nanos()))
            .sum();
        sum as f64 / self.records.len() as f64 / 1e9
    }
}

/// `[consolidation]`: a policy looked at every `interval`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsolidationSpec {
    /// Policy name (see [`crate::policy::consolidation::CONSOLIDATION_POLICIES`]).
    pub policy: String,
    /// Time between decisions (> 0).
    pub interval: SimTime,
    /// Hosts below this utilisation are emptied (in \[0, 1\], < `high`).
    pub low: f64,
    /// Hosts above this utilisation shed a VM (in (0, 1\]).
    pub high: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked case of the guide: M = 4096 MiB = 4 294 967 296 B, D = 200 MiB/s =
    /// 209 715 200 B/s, B = 1 GB/s = 10⁹ B/s (so a round of x bytes lasts x ns), stop-copy
    /// at 64 MiB = 67 108 864 B, working set 4096 MiB (never the cap here).
    ///
    /// * round 0: 4 294 967 296 B in 4 294 967 296 ns; dirtied ⌊0.2097152 × 4 294 967 296⌋
    ///   = 900 719 925 B (> 64 MiB, < round 0: go on);
    /// * round 1: 900 719 925 B in 900 719 925 ns; dirtied ⌊0.2097152 × 900 719 925⌋ =
    ///   188 894 659 B (> 64 MiB);
    /// * round 2: 188 894 659 B in 188 894 659 ns; dirtied ⌊0.2097152 × 188 894 659⌋ =
    ///   39 614 081 B ≤ 67 108 864: stop.
    ///
    /// Pre-copy: 3 rounds, 4 294 967 296 + 900 719 925 + 188 894 659 = 5 384 581 880 ns
    /// and as many bytes; stop-copy 39 614 081 B, downtime 39 614 081 ns (≈ 39.6 ms); in
    /// all 5 424 195 961 B and 5 424 195 961 ns.
    #[test]
    fn precopy_by_hand() {
        let spec = MigrationSpec::with_bandwidth(1_000_000_000);
        let plan = precopy(&spec, 4096 * MIB, 4096 * MIB, 200 * MIB);
        assert_eq!(plan.rounds, 3);
        assert_eq!(plan.precopy, SimTime(5_384_581_880));
        assert_eq!(plan.precopy_bytes, 5_384_581_880);
        assert_eq!(plan.stop_copy_bytes, 39_614_081);
        assert_eq!(plan.downtime, SimTime(39_614_081));
        assert_eq!(plan.total(), SimTime(5_424_195_961));
        assert_eq!(plan.transferred_bytes(), 5_424_195_961);
    }

    /// The three ways the pre-copy stops. Dirtying faster than the link (D = 2 B/ns,
    /// B = 1 B/ns) never shrinks: one round of M, then M dirtied... capped at the working
    /// set W = 1000 MiB < M = 2000 MiB, which is smaller than round 0, so round 1 sends W;
    /// round 2 would send W again (no shrink): stop after 2 rounds with W left. With
    /// `max_rounds = 1` it stops after round 0 with min(2 M, W) = W left.
    #[test]
    fn precopy_stops_on_no_shrink_and_max_rounds() {
        let mut spec = MigrationSpec::with_bandwidth(1_000_000_000);
        let (m, w) = (2000 * MIB, 1000 * MIB);
        let plan = precopy(&spec, m, w, 2_000_000_000);
        assert_eq!(plan.rounds, 2);
        assert_eq!(plan.precopy_bytes, m + w);
        assert_eq!(plan.stop_copy_bytes, w);
        assert_eq!(plan.downtime, SimTime(w));
        spec.max_rounds = 1;
        spec.resume = SimTime::from_millis(5);
        let plan = precopy(&spec, m, w, 2_000_000_000);
        assert_eq!(plan.rounds, 1);
        assert_eq!(plan.stop_copy_bytes, w);
        assert_eq!(plan.downtime, SimTime(w + 5_000_000));
        // Nothing dirtied: round 0 only, no downtime but the resume time.
        let plan = precopy(&spec, m, w, 0);
        assert_eq!((plan.rounds, plan.stop_copy_bytes), (1, 0));
        assert_eq!(plan.downtime, SimTime::from_millis(5));
    }

    /// A NIC link by hand: 1 GB/s with 1 ms latency, chunks of 1 GiB = 1 073 741 824 B.
    /// A full chunk holds it 1 000 000 + 1 073 741 824 = 1 074 741 824 ns; one more byte is
    /// a second chunk of 1 000 000 + 1 ns; nothing takes no time. At 3 B/s one byte takes
    /// ⌈10⁹ / 3⌉ = 333 333 334 ns (rounded up).
    #[test]
    fn nic_link_by_hand() {
        let link = Link {
            bandwidth_bytes_per_s: 1_000_000_000,
            latency: SimTime::from_millis(1),
            chunk_bytes: 1 << 30,
        };
        assert_eq!(link.transfer_time(0), SimTime::ZERO);
        assert_eq!(link.transfer_time(1 << 30), SimTime(1_074_741_824));
        assert_eq!(
            link.transfer_time((1 << 30) + 1),
            SimTime(1_074_741_824 + 1_000_001)
        );
        let slow = Link {
            bandwidth_bytes_per_s: 3,
            latency: SimTime::ZERO,
            chunk_bytes: 1,
        };
        assert_eq!(slow.chunk_time(1), SimTime(333_333_334));
        // Without latency at 1 GB/s, the chunked times are the dedicated link's.
        let spec = MigrationSpec::with_bandwidth(1_000_000_000);
        let nic = Link {
            bandwidth_bytes_per_s: 1_000_000_000,
            latency: SimTime::ZERO,
            chunk_bytes: spec.chunk_bytes,
        };
        assert_eq!(
            precopy_over(&spec, &nic, 4096 * MIB, 4096 * MIB, 200 * MIB),
            precopy(&spec, 4096 * MIB, 4096 * MIB, 200 * MIB)
        );
    }
}
