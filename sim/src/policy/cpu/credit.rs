//! Xen's Credit scheduler (`xen/common/sched/credit.c`), as far as it decides who runs on
//! one host: weighted fair share by credits, with the UNDER / OVER priorities and BOOST.
//!
//! * **Slices.** A vCPU runs for at most one time slice, the quantum (`[cpu] quantum_ms`;
//!   Xen's default `tslice_ms` is 30, so set `quantum_ms = 30` to follow it).
//! * **Debits.** A running vCPU pays one credit per unit of CPU time it uses (Xen pays
//!   10 credits per ms, measured from the elapsed time at every 10 ms tick and at every
//!   scheduling decision: the same total). Credits are kept in nanoseconds of CPU here.
//! * **Accounting.** Every time slice (Xen: every 3 ticks = `tslice`), at the first
//!   decision on the host after it, every runnable (ready or running) vCPU of the host
//!   earns `ceil(tslice × pCPUs × weight / Σ weights of the runnable vCPUs)` credits, at
//!   most one slice's worth (Xen's `credit_peak` for one vCPU). Then a vCPU with credit
//!   < 0 is OVER (its credit floored at −tslice), else UNDER; a vCPU with more than one
//!   slice's credit has it halved (Xen also takes it off the active list until it runs
//!   again).
//! * **Order.** BOOST before UNDER before OVER, first come first served within a
//!   priority (Xen's `runq_insert`); a vCPU whose slice ended goes to the back of its
//!   priority.
//! * **BOOST.** A vCPU that becomes ready by waking (from I/O, a page fault or a resume)
//!   while UNDER competes as BOOST until it runs (Xen resets BOOST at the first tick it
//!   is found running, so a short waker stays boosted).
//!
//! * **Caps** (`[workload] cpu_cap`, Xen's `cap`, in pCPUs here where Xen says percent):
//!   a capped vCPU earns at most its share of the cap per period, `⌈cap × tslice /
//!   vCPUs⌉` (Xen's per-vCPU `credit_cap`). When an accounting leaves its credit below
//!   minus that amount it is **parked** (Xen's `CSCHED_FLAG_VCPU_PARKED`, a pause): taken
//!   off its pCPU or out of the run queue, it still earns credits at each accounting (the
//!   engine keeps accounting a host with parked vCPUs at every period, even an idle one)
//!   and is unparked by the first accounting that finds its credit ≥ 0, without BOOST.
//!   Over a long run a vCPU gets its cap; a vCPU capped at 0.5 alone on a pCPU runs 60 ms
//!   and is parked 60 ms with 30 ms slices. Under `credit` the engine's own bandwidth
//!   control (`[cpu] cap_period_ms`) is off; parked time is the VM's `throttled_s`.
//!
//! Not modelled: BOOST preempting a running vCPU (Xen's tickle; here the woken vCPU goes
//! to the head of the run queue and runs at the next decision), the redistribution of
//! the unused part of a capped share among the other domains (`credit_xtra`), the active
//! list (a blocked vCPU earns nothing here, as in Xen once it left the active list; a
//! parked vCPU keeps earning), load balancing between pCPUs (one run queue per host, or
//! per pCPU when pinned), and the rate limit. Weights are the VM's `[workload] weight` (Xen's
//! default 256 is 1024 here: only ratios matter).
use crate::error::SimError;
use crate::policy::{
    Account, Charge, CpuEntry, CpuParams, CpuPolicy, Teaching, TraceQuantity, VcpuView,
};
use crate::time::SimTime;

/// Credits are a signed 48-bit number of ns in the low bits of the state word.
const CREDIT_BITS: u32 = 48;
const CREDIT_MASK: u64 = (1 << CREDIT_BITS) - 1;
const CREDIT_MIN: i64 = -(1 << (CREDIT_BITS - 2));
/// Set when the last accounting found the credit negative.
const OVER: u64 = 1 << CREDIT_BITS;
/// Set while the vCPU is parked by its cap.
const PARKED: u64 = 1 << (CREDIT_BITS + 1);

/// The priority classes, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pri {
    /// Woken while UNDER.
    Boost = 0,
    /// Credit ≥ 0 at the last accounting.
    Under = 1,
    /// Credit < 0 at the last accounting.
    Over = 2,
}

/// The credit a state word holds (ns of CPU).
pub fn credit_of(state: u64) -> i64 {
    // Sign-extend the low 48 bits.
    (((state & CREDIT_MASK) << (64 - CREDIT_BITS)) as i64) >> (64 - CREDIT_BITS)
}

fn with_credit(state: u64, credit: i64) -> u64 {
    let c = credit.clamp(CREDIT_MIN, -CREDIT_MIN) as u64 & CREDIT_MASK;
    (state & !CREDIT_MASK) | c
}

/// Xen's Credit scheduler (time-sliced, weights from the VM profile).
pub struct Credit {
    /// The time slice and accounting period (ns).
    tslice: u64,
}

impl Default for Credit {
    fn default() -> Self {
        Credit { tslice: 30_000_000 }
    }
}

impl Credit {
    /// The priority a vCPU competes at.
    pub fn priority(v: &VcpuView) -> Pri {
        if v.state & OVER != 0 {
            Pri::Over
        } else if !v.preempted && v.attained > SimTime::ZERO {
            // Ready again without having been preempted or sliced, after running: woken.
            Pri::Boost
        } else {
            Pri::Under
        }
    }
}

impl CpuPolicy for Credit {
    fn uses_weight(&self) -> bool {
        true
    }
    fn ready_key(&self, v: &VcpuView) -> u128 {
        (u128::from(Credit::priority(v) as u8) << 66)
            | (u128::from(v.ready_since.nanos()) << 1)
            | u128::from(v.preempted)
    }
    fn time_sliced(&self) -> bool {
        true
    }
    fn uses_state(&self) -> bool {
        true
    }
    fn configure(&mut self, params: &CpuParams) -> Result<(), SimError> {
        let q = params.cpu.quantum.nanos();
        if q >= (1 << (CREDIT_BITS - 3)) {
            return Err(SimError::InvalidConfig(format!(
                "cpu.quantum_ms: the credit scheduler's slice must be under {} s, got {} s",
                (1u64 << (CREDIT_BITS - 3)) / 1_000_000_000,
                params.cpu.quantum
            )));
        }
        self.tslice = q.max(1);
        Ok(())
    }
    fn on_charged(&self, state: &mut u64, c: &Charge) {
        let ran = i64::try_from(c.ran.nanos()).unwrap_or(i64::MAX);
        *state = with_credit(*state, credit_of(*state).saturating_sub(ran));
    }
    fn accounting_period(&self) -> Option<SimTime> {
        Some(SimTime(self.tslice))
    }
    fn parks_capped(&self) -> bool {
        true
    }
    fn parked(&self, state: u64) -> bool {
        state & PARKED != 0
    }
    fn on_account(&self, state: &mut u64, a: &Account) {
        let tslice = i64::try_from(self.tslice).unwrap_or(i64::MAX);
        let total = u128::from(self.tslice) * u128::from(a.pcpus);
        let w = u128::from(a.weight.max(1));
        let sum = u128::from(a.total_weight.max(1));
        let cap = i64::try_from(a.cap).unwrap_or(i64::MAX);
        let mut fair = i64::try_from((total * w).div_ceil(sum))
            .unwrap_or(i64::MAX)
            .min(tslice);
        if cap > 0 {
            fair = fair.min(cap);
        }
        let mut credit = credit_of(*state);
        let mut over = false;
        let mut parked = *state & PARKED != 0;
        // Several periods since the last decision: each one refills (the runnable set is
        // taken as unchanged); the bounds settle it within a few.
        for _ in 0..a.periods.min(4) {
            credit = credit.saturating_add(fair);
            over = credit < 0;
            if over {
                // Xen parks a capped vCPU below −credit_cap, before the floor.
                parked |= cap > 0 && credit < -cap;
                credit = credit.max(-tslice);
            } else {
                parked = false;
                if credit > tslice {
                    credit /= 2;
                }
            }
        }
        let mut s = if over { *state | OVER } else { *state & !OVER };
        s = if parked { s | PARKED } else { s & !PARKED };
        *state = with_credit(s, credit);
    }
}

/// Registry entry.
pub const ENTRY: CpuEntry = CpuEntry {
    name: "credit",
    description: "Xen's Credit scheduler: credits refilled by weight every slice, UNDER before OVER, BOOST on wake-up",
    admission_counterpart: "fcfs",
    time_sliced: true,
    preemptive: false,
    needs_estimates: false,
    // (Keys change only at accounting instants, where the engine re-keys the queue.)
    key_depends_on_time: false,
    teaching: Teaching {
        long_name: "Xen Credit (credits by weight; BOOST, UNDER, then OVER)",
        quantity: TraceQuantity::Remaining,
        reason: "first of the best priority (BOOST, UNDER, OVER), FIFO within it",
        ties_by_arrival: false,
    },
    build: || Box::new(Credit::default()),
};

#[cfg(test)]
mod tests {
    use super::*;

    fn view(state: u64, preempted: bool, attained: u64) -> VcpuView {
        VcpuView {
            vm: 0,
            priority: 0,
            arrival: SimTime::ZERO,
            estimate: SimTime::ZERO,
            attained: SimTime(attained),
            ready_since: SimTime::ZERO,
            preempted,
            weight: 1024,
            state,
        }
    }

    #[test]
    fn credits_are_signed_and_bounded() {
        for c in [0, 1, -1, 30_000_000, -30_000_000, CREDIT_MIN, -CREDIT_MIN] {
            assert_eq!(credit_of(with_credit(OVER, c)), c);
        }
        assert_eq!(credit_of(with_credit(0, i64::MIN)), CREDIT_MIN);
    }

    /// One pCPU, weights 2 : 1, a 30 ms slice: the heavy vCPU earns ⌈30 × 2/3⌉ = 20 ms
    /// per period, the light one 10 ms.
    #[test]
    fn accounting_refills_by_weight_and_sets_the_priority() {
        let c = Credit::default();
        let ms = 1_000_000i64;
        let acct = |w| Account {
            weight: w,
            total_weight: 3072,
            pcpus: 1,
            periods: 1,
            cap: 0,
        };
        // Ran a whole slice: −30 + 20 = −10 → OVER.
        let mut s = with_credit(0, -30 * ms);
        c.on_account(&mut s, &acct(2048));
        assert_eq!((credit_of(s), s & OVER != 0), (-10 * ms, true));
        // Waited: 0 + 10 → UNDER.
        let mut s = 0;
        c.on_account(&mut s, &acct(1024));
        assert_eq!((credit_of(s), s & OVER != 0), (10 * ms, false));
        // More than a slice's worth is halved: 25 + 20 = 45 → 22.5 ms.
        let mut s = with_credit(0, 25 * ms);
        c.on_account(&mut s, &acct(2048));
        assert_eq!(credit_of(s), 45 * ms / 2);
    }

    /// A vCPU capped at 0.5 alone on one pCPU, 30 ms slices: it earns min(30, ⌈0.5 × 30⌉)
    /// = 15 ms per period, is parked when an accounting leaves it below −15 ms, and
    /// unparked when one finds it ≥ 0.
    #[test]
    fn a_capped_vcpu_is_parked_below_minus_its_cap_and_unparked_at_zero() {
        let c = Credit::default();
        let ms = 1_000_000i64;
        let acct = Account {
            weight: 1024,
            total_weight: 1024,
            pcpus: 1,
            periods: 1,
            cap: 15_000_000,
        };
        let parked = |s: u64| c.parked(s);
        // Ran 0–30 ms: −30 + 15 = −15, not below −15: OVER, not parked.
        let mut s = with_credit(0, -30 * ms);
        c.on_account(&mut s, &acct);
        assert_eq!(
            (credit_of(s), s & OVER != 0, parked(s)),
            (-15 * ms, true, false)
        );
        // Ran 30–60 ms too: −45 + 15 = −30 < −15: parked.
        s = with_credit(s, -45 * ms);
        c.on_account(&mut s, &acct);
        assert_eq!((credit_of(s), parked(s)), (-30 * ms, true));
        // Parked, it earns: −30 + 15 = −15 (still parked: not yet ≥ 0), then 0: unparked.
        c.on_account(&mut s, &acct);
        assert_eq!((credit_of(s), parked(s)), (-15 * ms, true));
        c.on_account(&mut s, &acct);
        assert_eq!((credit_of(s), s & OVER != 0, parked(s)), (0, false, false));
        // Uncapped, it earns a whole slice: −45 + 30 = −15, only OVER.
        let mut s = with_credit(0, -45 * ms);
        c.on_account(&mut s, &Account { cap: 0, ..acct });
        assert_eq!(
            (credit_of(s), s & OVER != 0, parked(s)),
            (-15 * ms, true, false)
        );
    }

    #[test]
    fn boost_then_under_then_over() {
        // Woken after running, UNDER: BOOST. Sliced: UNDER. New: UNDER. OVER stays OVER.
        assert_eq!(Credit::priority(&view(0, false, 5)), Pri::Boost);
        assert_eq!(Credit::priority(&view(0, true, 5)), Pri::Under);
        assert_eq!(Credit::priority(&view(0, false, 0)), Pri::Under);
        assert_eq!(Credit::priority(&view(OVER, false, 5)), Pri::Over);
        let c = Credit::default();
        assert!(c.ready_key(&view(0, false, 5)) < c.ready_key(&view(0, true, 5)));
        assert!(c.ready_key(&view(0, true, 5)) < c.ready_key(&view(OVER, true, 5)));
    }
}
