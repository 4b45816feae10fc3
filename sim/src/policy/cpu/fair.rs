//! Weighted fair sharing as Linux applies it to vCPU threads (EEVDF, the fair scheduler
//! since Linux 6.6; Stoica and Abdel-Wahab, 1995).
//!
//! * Each vCPU has a **virtual runtime** `v` that advances by `ran × 1024 / weight` while it
//!   runs (weight 1024 = nice 0; a vCPU of weight 2048 ages half as fast).
//! * The run queue's **average** `V = Σ wᵢ vᵢ / Σ wᵢ` is taken over its ready and running
//!   vCPUs (the running ones charged up to the decision). A vCPU is **eligible** when its
//!   lag `V − v` is ≥ 0, i.e. it has had no more than its share.
//! * Its **virtual deadline** is `d = v + slice × 1024 / weight`. Among eligible vCPUs the
//!   one with the earliest deadline runs (ties: earlier arrival, then lower id); if none is
//!   eligible, the earliest deadline runs.
//! * It runs for at most one **slice** (`[cpu] slice_ms`; by default Linux's base slice,
//!   0.75 ms × (1 + ⌊log₂ min(pCPUs, 8)⌋) per host), then goes back to the queue: at that
//!   point its virtual runtime has reached the deadline it was picked with, and its new
//!   deadline is one slice further (Linux's `update_deadline`).
//!
//! **Joining and leaving** (Linux's `place_entity` and `update_entity_lag`, 6.6):
//! * a vCPU that leaves the queue without finishing (blocks on I/O or a major fault, or is
//!   paused) keeps its lag `V − v`, clamped to ± 2 slices of its virtual time
//!   (`2 × slice × 1024 / weight`; Linux also has a floor of one tick, not modelled);
//! * a vCPU that joins (a new VM's vCPU has lag 0; one back from I/O has the lag it
//!   left with) is placed at `v = V − lag × (W + w) / W`, where `W` is the total weight
//!   already in the queue and `w` its own: the factor makes its lag after the placement,
//!   which moves `V`, equal to the lag it had. Joining an empty queue discards the lag
//!   (`v = V`, the queue's average when its last vCPU left). So a late joiner starts at the
//!   queue's average, not at 0 as under `stride`, and cannot monopolise the pCPU.
//!
//! **Simplifications**, all documented in the guide: a woken vCPU does not preempt the
//! running one before that one's slice ends (Linux's `RUN_TO_PARITY`; wake-up preemption
//! of shorter slices is not modelled); every vCPU's deadline is a full slice past its
//! virtual runtime (Linux gives a brand-new task half a slice); only guest work advances
//! the virtual runtime (switch and VM-exit costs do not); one run queue per host (or per
//! pCPU when pinned), no load balancing between them.
//!
//! State word: the virtual runtime (ns at weight 1024, around [`QUEUE_ORIGIN`]) while the
//! vCPU is in a run queue; its lag (an `i64`'s bits) while it is out of one.
use crate::SimTime;
use crate::model::DEFAULT_WEIGHT;
use crate::policy::{
    Charge, CpuEntry, CpuPolicy, KeyContext, QueueContext, Teaching, TraceQuantity, VcpuView,
};

#[cfg(doc)]
use crate::policy::QUEUE_ORIGIN;

/// Linux's base slice (`sysctl_sched_base_slice`, 0.75 ms) before it is scaled by the
/// number of CPUs.
pub const BASE_SLICE_NS: u64 = 750_000;

/// The default slice on a host of `pcpus` pCPUs: Linux's base slice scaled as
/// `sched_update_scaling` does by default (`SCHED_TUNABLESCALING_LOG`):
/// 0.75 ms × (1 + ⌊log₂ min(pCPUs, 8)⌋): 0.75 ms on 1 pCPU, 1.5 ms on 2, 2.25 ms on 4,
/// 3 ms on 8 or more.
pub fn default_slice(pcpus: u32) -> SimTime {
    let n = pcpus.clamp(1, 8);
    SimTime(BASE_SLICE_NS * u64::from(1 + n.ilog2()))
}

/// `x × 1024 / weight`: nanoseconds at `weight` as virtual nanoseconds (saturating).
pub fn to_virtual(ns: u64, weight: u32) -> u64 {
    let w = u64::from(weight.max(1));
    // Below 2⁵⁴ ns (208 days) the product fits in 64 bits: the same quotient without a
    // 128-bit division (a slice's charge is always there).
    if let Some(x) = ns.checked_mul(u64::from(DEFAULT_WEIGHT)) {
        return x / w;
    }
    let v = u128::from(ns) * u128::from(DEFAULT_WEIGHT) / u128::from(w);
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// The virtual deadline of a vCPU with virtual runtime `v`.
pub fn deadline(v: u64, weight: u32, slice: SimTime) -> u64 {
    v.saturating_add(to_virtual(slice.nanos(), weight))
}

/// Weighted fair sharing (EEVDF).
pub struct Fair;

impl CpuPolicy for Fair {
    fn ready_key(&self, v: &VcpuView) -> u128 {
        self.ready_key_at(v, &KeyContext::at(v.ready_since))
    }
    /// `(not eligible, virtual deadline)` packed in one integer: every eligible vCPU
    /// comes before every ineligible one, each group by deadline.
    fn ready_key_at(&self, v: &VcpuView, ctx: &KeyContext) -> u128 {
        let eligible = v.state <= ctx.queue_average;
        (u128::from(!eligible) << 64) | u128::from(deadline(v.state, v.weight, ctx.slice))
    }
    fn key_depends_on_time(&self) -> bool {
        true
    }
    fn time_sliced(&self) -> bool {
        true
    }
    fn uses_state(&self) -> bool {
        true
    }
    fn uses_queue_average(&self) -> bool {
        true
    }
    fn uses_weight(&self) -> bool {
        true
    }
    fn on_charged(&self, vruntime: &mut u64, c: &Charge) {
        *vruntime = vruntime.saturating_add(to_virtual(c.ran.nanos(), c.weight));
    }
    fn on_join(&self, state: &mut u64, ctx: &QueueContext) {
        let lag = *state as i64;
        let placed = if ctx.total_weight == 0 {
            i128::from(ctx.average)
        } else {
            let w = i128::from(ctx.total_weight);
            let scaled = i128::from(lag) * (w + i128::from(ctx.weight)) / w;
            i128::from(ctx.average) - scaled
        };
        *state = u64::try_from(placed.max(0)).unwrap_or(u64::MAX);
    }
    fn on_leave(&self, state: &mut u64, ctx: &QueueContext) {
        let limit = i128::from(to_virtual(ctx.slice.nanos().saturating_mul(2), ctx.weight));
        let lag = (i128::from(ctx.average) - i128::from(*state)).clamp(-limit, limit);
        // |lag| ≤ 2⁶⁴ × 2 / 1: clamp again to the i64 range.
        let lag = lag.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        *state = lag as u64;
    }
    fn default_slice(&self, pcpus: u32) -> Option<SimTime> {
        Some(default_slice(pcpus))
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "fair",
    description: "weighted fair share as Linux EEVDF: earliest virtual deadline among eligible vCPUs, slice_ms",
    admission_counterpart: "fcfs",
    time_sliced: true,
    preemptive: false,
    needs_estimates: false,
    key_depends_on_time: true,
    teaching: Teaching {
        long_name: "weighted fair sharing (Linux EEVDF)",
        quantity: TraceQuantity::Received,
        reason: "earliest virtual deadline (vruntime + slice x 1024 / weight) among eligible vCPUs (lag >= 0)",
        // (Equal CPU received is no tie when weights differ.)
        ties_by_arrival: false,
    },
    build: || Box::new(Fair),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::QUEUE_ORIGIN;

    #[test]
    fn to_virtual_is_the_exact_floor_on_both_sides_of_its_64_bit_path() {
        // floor(ns × 1024 / weight), saturated to u64::MAX, by 128-bit arithmetic.
        let exact = |ns: u64, w: u32| {
            let v = u128::from(ns) * 1024 / u128::from(w.max(1));
            u64::try_from(v).unwrap_or(u64::MAX)
        };
        let edge = u64::MAX / 1024; // the largest ns whose product fits in 64 bits
        for ns in [
            0,
            1,
            999,
            100_000_000,
            edge - 1,
            edge,
            edge + 1,
            u64::MAX / 3,
            u64::MAX,
        ] {
            for w in [0, 1, 3, 15, 1024, 2048, 88_761, u32::MAX] {
                assert_eq!(to_virtual(ns, w), exact(ns, w), "ns {ns}, weight {w}");
            }
        }
        // By hand: 1 ms at weight 3 is 1,000,000 × 1024 / 3 = 341,333,333.3 → 341,333,333.
        assert_eq!(to_virtual(1_000_000, 3), 341_333_333);
    }

    fn view(state: u64, weight: u32) -> VcpuView {
        VcpuView {
            vm: 0,
            priority: 0,
            arrival: SimTime::ZERO,
            estimate: SimTime::ZERO,
            attained: SimTime::ZERO,
            ready_since: SimTime::ZERO,
            preempted: false,
            weight,
            state,
        }
    }

    #[test]
    fn default_slice_follows_linux_log_scaling() {
        // 0.75 ms × (1 + ⌊log₂ n⌋): n = 1 → 0.75, 2 → 1.5, 3 → 1.5, 4 → 2.25, 8 and
        // 64 (capped at 8) → 3 ms.
        let ms = |n| default_slice(n).as_secs_f64() * 1e3;
        assert_eq!(ms(1), 0.75);
        assert_eq!(ms(2), 1.5);
        assert_eq!(ms(3), 1.5);
        assert_eq!(ms(4), 2.25);
        assert_eq!(ms(8), 3.0);
        assert_eq!(ms(64), 3.0);
    }

    #[test]
    fn virtual_runtime_advances_by_ran_times_1024_over_weight() {
        let mut v = 0;
        let c = |w| Charge {
            ran: SimTime::from_millis(3),
            weight: w,
            now: SimTime::ZERO,
        };
        // 3 ms at weight 2048 is 1.5 virtual ms; at 512, 6 virtual ms.
        Fair.on_charged(&mut v, &c(2048));
        assert_eq!(v, 1_500_000);
        Fair.on_charged(&mut v, &c(512));
        assert_eq!(v, 7_500_000);
    }

    #[test]
    fn eligible_earliest_deadline_first() {
        let ctx = KeyContext {
            now: SimTime::ZERO,
            queue_average: QUEUE_ORIGIN + 10_000_000,
            slice: SimTime::from_millis(4),
        };
        // A: v = V − 1 ms, weight 1024: deadline V + 3 ms, eligible.
        // B: v = V − 2 ms, weight 512: deadline V − 2 + 8 = V + 6 ms, eligible.
        // C: v = V + 1 ms, weight 4096: deadline V + 2 ms, but not eligible.
        let k = |dv: i64, w| {
            let v = (ctx.queue_average as i64 + dv * 1_000_000) as u64;
            Fair.ready_key_at(&view(v, w), &ctx)
        };
        let (a, b, c) = (k(-1, 1024), k(-2, 512), k(1, 4096));
        assert!(a < b && b < c, "{a} {b} {c}");
        // At lag exactly 0 a vCPU is eligible.
        assert!(k(0, 1024) < c);
    }

    #[test]
    fn lag_is_kept_from_leave_to_join() {
        let slice = SimTime::from_millis(1);
        let leave = QueueContext {
            average: QUEUE_ORIGIN + 5_000_000,
            total_weight: 3072,
            weight: 1024,
            slice,
        };
        // It leaves 1.5 virtual ms behind the average: lag +1.5 ms (within ±2 ms).
        let mut s = QUEUE_ORIGIN + 3_500_000;
        Fair.on_leave(&mut s, &leave);
        assert_eq!(s as i64, 1_500_000);
        // It joins a queue of total weight 2048 at average A: placed at
        // A − 1.5 ms × (2048 + 1024) / 2048 = A − 2.25 ms. The new average is
        // (2048 A + 1024 (A − 2.25)) / 3072 = A − 0.75 ms, and its lag is
        // (A − 0.75) − (A − 2.25) = 1.5 ms again.
        let join = QueueContext {
            average: QUEUE_ORIGIN,
            total_weight: 2048,
            weight: 1024,
            slice,
        };
        Fair.on_join(&mut s, &join);
        assert_eq!(s, QUEUE_ORIGIN - 2_250_000);
        // A lag beyond 2 slices (2 virtual ms at weight 1024) is clamped; a vCPU ahead of
        // the average keeps its negative lag.
        let mut s = QUEUE_ORIGIN;
        Fair.on_leave(&mut s, &leave);
        assert_eq!(s as i64, 2_000_000);
        let mut s = QUEUE_ORIGIN + 6_000_000;
        Fair.on_leave(&mut s, &leave);
        assert_eq!(s as i64, -1_000_000);
        // A new vCPU (state 0 = lag 0) joins at the average; an empty queue drops the lag.
        let mut s = 0;
        Fair.on_join(&mut s, &join);
        assert_eq!(s, QUEUE_ORIGIN);
        let mut s = 1_500_000u64;
        let empty = QueueContext {
            total_weight: 0,
            ..join
        };
        Fair.on_join(&mut s, &empty);
        assert_eq!(s, QUEUE_ORIGIN);
    }
}
