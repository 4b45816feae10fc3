//! The bookkeeping around a CPU policy that the engine and the KVM replay (crate
//! `validate`) share, so that both feed a policy the same numbers: a host's time slice,
//! the accounting instants of a policy with an [`CpuPolicy::accounting_period`] and the
//! per-vCPU cap of an [`Account`], and the run-queue sums behind
//! [`KeyContext::queue_average`].
//!
//! [`KeyContext::queue_average`]: crate::policy::KeyContext::queue_average

use crate::model::CpuSpec;
use crate::policy::{Account, CpuPolicy, QUEUE_ORIGIN, QueueContext};
use crate::time::SimTime;

/// The time slice of a host of `pcpus` pCPUs under `policy` (none without time slicing):
/// `[cpu] slice_ms` if set, else the policy's default for the host
/// ([`CpuPolicy::default_slice`]), else the quantum.
pub fn host_slice(policy: &dyn CpuPolicy, cpu: &CpuSpec, pcpus: u32) -> Option<SimTime> {
    policy.time_sliced().then(|| {
        cpu.slice
            .or_else(|| policy.default_slice(pcpus))
            .unwrap_or(cpu.quantum)
    })
}

/// The accounting instants reached at `now` since the last accounting (multiples of
/// `period` ns counted from the start, at most one accounting per multiple): 0 when `now`
/// is still in the period of `*last_period`, else the number of multiples crossed, and
/// `*last_period` moves to `now`'s period. Start with `*last_period = 0`: the first
/// accounting falls at `period`.
pub fn accounting_periods(last_period: &mut u64, now: SimTime, period: u64) -> u64 {
    let epoch = now.nanos() / period.max(1);
    if epoch <= *last_period {
        return 0;
    }
    let periods = epoch - *last_period;
    *last_period = epoch;
    periods
}

impl Account {
    /// A vCPU's share of its VM's CPU cap as CPU time per accounting period of
    /// `period` ns: `⌈cap × period / vCPUs⌉` with `cap = cpu_cap_ppm / 10⁶` pCPUs (Xen's
    /// per-vCPU `credit_cap`); 0 without a cap (`cpu_cap_ppm` or `period` 0).
    pub fn cap_share(cpu_cap_ppm: u32, vcpus: u32, period: u64) -> u64 {
        (u128::from(cpu_cap_ppm) * u128::from(period))
            .div_ceil(1_000_000 * u128::from(vcpus.max(1)))
            .try_into()
            .unwrap_or(u64::MAX)
    }
}

/// The sums of one run queue, for a policy that uses queue averages
/// ([`CpuPolicy::uses_queue_average`]): `Σ weight` and `Σ weight × state` over its vCPUs
/// that are ready or running, updated when a vCPU joins, leaves or is charged for work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueSums {
    /// Σ weight of the queue's ready and running vCPUs.
    pub weight: u64,
    /// Σ weight × state word (wrapping arithmetic: exact as long as the true sum fits,
    /// which it does: weights < 2³², states < 2⁶⁴, fewer than 2³² vCPUs).
    pub weighted: u128,
    /// The average when the last vCPU left (the average of an empty queue).
    pub last: u64,
}

impl Default for QueueSums {
    fn default() -> Self {
        QueueSums {
            weight: 0,
            weighted: 0,
            last: QUEUE_ORIGIN,
        }
    }
}

impl QueueSums {
    /// The weighted average state and the total weight, with the running vCPUs charged up
    /// to the decision: `running` yields `(weight, state as charged, state charged up to
    /// now)` for each running vCPU of the queue.
    pub fn average(&self, running: impl Iterator<Item = (u32, u64, u64)>) -> (u64, u64) {
        if self.weight == 0 {
            return (self.last, 0);
        }
        let mut sum = self.weighted;
        for (w, old, now) in running {
            sum = sum
                .wrapping_add(u128::from(w) * u128::from(now))
                .wrapping_sub(u128::from(w) * u128::from(old));
        }
        let avg = u64::try_from(sum / u128::from(self.weight)).unwrap_or(u64::MAX);
        (avg, self.weight)
    }

    /// A vCPU joins the queue (`ctx`: the queue without it): the policy places it
    /// ([`CpuPolicy::on_join`]), then it counts in the sums.
    pub fn join(&mut self, policy: &dyn CpuPolicy, state: &mut u64, ctx: &QueueContext) {
        policy.on_join(state, ctx);
        self.weight += u64::from(ctx.weight);
        self.weighted = self
            .weighted
            .wrapping_add(u128::from(ctx.weight) * u128::from(*state));
    }

    /// A vCPU leaves the queue (`ctx`: the queue with it), for good when `done`: it stops
    /// counting in the sums, and unless `done` the policy keeps what it needs to place it
    /// when it joins again ([`CpuPolicy::on_leave`]).
    pub fn leave(
        &mut self,
        policy: &dyn CpuPolicy,
        state: &mut u64,
        ctx: &QueueContext,
        done: bool,
    ) {
        self.weight -= u64::from(ctx.weight).min(self.weight);
        self.weighted = self
            .weighted
            .wrapping_sub(u128::from(ctx.weight) * u128::from(*state));
        self.last = ctx.average;
        if !done {
            policy.on_leave(state, ctx);
        }
    }

    /// A vCPU of weight `w` in the queue was charged: its state went from `old` to `new`.
    #[inline]
    pub fn charged(&mut self, w: u32, old: u64, new: u64) {
        self.weighted = self
            .weighted
            .wrapping_add(u128::from(w) * u128::from(new))
            .wrapping_sub(u128::from(w) * u128::from(old));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::cpu_policy;

    #[test]
    fn accounting_falls_once_per_multiple_of_the_period() {
        let mut last = 0;
        let ms = SimTime::from_millis;
        // Period 30 ms: nothing before 30, one at 30, none again in [30, 60), two when the
        // next look is at 95 (60 and 90 crossed).
        assert_eq!(accounting_periods(&mut last, ms(29), 30_000_000), 0);
        assert_eq!(accounting_periods(&mut last, ms(30), 30_000_000), 1);
        assert_eq!(accounting_periods(&mut last, ms(59), 30_000_000), 0);
        assert_eq!(accounting_periods(&mut last, ms(95), 30_000_000), 2);
        assert_eq!(last, 3);
    }

    #[test]
    fn cap_share_is_the_ceiling_of_cap_times_period_over_vcpus() {
        // 0.5 pCPU over 30 ms, one vCPU: 15 ms; two vCPUs: 7.5 ms each; 1/3 pCPU
        // (333,333 ppm) over 30 ms = 9,999,990 ns exactly; over 100 ns: ⌈33.33⌉ = 34.
        assert_eq!(Account::cap_share(500_000, 1, 30_000_000), 15_000_000);
        assert_eq!(Account::cap_share(500_000, 2, 30_000_000), 7_500_000);
        assert_eq!(Account::cap_share(333_333, 1, 30_000_000), 9_999_990);
        assert_eq!(Account::cap_share(333_333, 1, 100), 34);
        assert_eq!(Account::cap_share(0, 1, 30_000_000), 0);
        assert_eq!(Account::cap_share(500_000, 1, 0), 0);
    }

    #[test]
    fn host_slice_prefers_slice_then_the_policy_default_then_the_quantum() {
        let mut cpu = crate::model::SimConfig::single_host(1, 0).cpu;
        cpu.quantum = SimTime::from_millis(10);
        let fair = cpu_policy("fair").unwrap();
        let rr = cpu_policy("rr").unwrap();
        let fcfs = cpu_policy("fcfs").unwrap();
        // fair on 2 pCPUs: 0.75 ms × (1 + log₂ 2) = 1.5 ms.
        assert_eq!(
            host_slice(&*fair, &cpu, 2),
            Some(SimTime::from_micros(1500))
        );
        assert_eq!(host_slice(&*rr, &cpu, 2), Some(SimTime::from_millis(10)));
        assert_eq!(host_slice(&*fcfs, &cpu, 2), None);
        cpu.slice = Some(SimTime::from_millis(4));
        assert_eq!(host_slice(&*fair, &cpu, 2), Some(SimTime::from_millis(4)));
    }

    /// Weights 2048 and 1024 at states 100 and 400: average (2048 × 100 + 1024 × 400) /
    /// 3072 = 200; with the first running and charged up to 160 since: (2048 × 160 +
    /// 409,600) / 3072 = 240. When the second leaves the sums hold the first alone, and
    /// the average it left (200) is the empty queue's once the first leaves too.
    #[test]
    fn queue_sums_average_join_and_leave() {
        let fair = cpu_policy("fair").unwrap();
        let mut q = QueueSums::default();
        assert_eq!(q.average(std::iter::empty()), (QUEUE_ORIGIN, 0));
        let ctx = |average, total_weight, weight| QueueContext {
            average,
            total_weight,
            weight,
            slice: SimTime::from_millis(3),
        };
        // Joining an empty queue: fair places the vCPU at the queue's average.
        let mut a = 0u64;
        q.join(&*fair, &mut a, &ctx(100, 0, 2048));
        assert_eq!(a, 100);
        // The second joins with lag −200 (it had run ahead): 100 + 200 × 3072 / 2048 = 400.
        let mut b = (-200i64) as u64;
        q.join(&*fair, &mut b, &ctx(100, 2048, 1024));
        assert_eq!(b, 400);
        assert_eq!(q.average(std::iter::empty()), (200, 3072));
        assert_eq!(q.average([(2048, 100, 160)].into_iter()), (240, 3072));
        a = 160;
        q.charged(2048, 100, a);
        assert_eq!(q.average(std::iter::empty()), (240, 3072));
        // B leaves at average 240: its lag 240 − 400 = −160 is kept.
        q.leave(&*fair, &mut b, &ctx(240, 3072, 1024), false);
        assert_eq!(b as i64, -160);
        assert_eq!(q.average(std::iter::empty()), (160, 2048));
        q.leave(&*fair, &mut a, &ctx(160, 2048, 2048), true);
        assert_eq!((a, q.average(std::iter::empty())), (160, (160, 0)));
    }
}
