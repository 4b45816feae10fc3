//! Periodic accounting of a CPU policy that has an accounting period (Xen Credit's credit
//! refill, [`sim::policy::CpuPolicy::accounting_period`]) and the parking of capped vCPUs
//! ([`sim::policy::CpuPolicy::parks_capped`]), as methods of `Sched`, mirroring the
//! engine (`sim/src/engine/account.rs`, `park.rs`).
//!
//! The accounting instants are the multiples of the period on the replay's clock (from
//! `t0`); the first look at the scheduler at or after one (the coordinator wakes up for
//! it) accounts, once however many multiples passed ([`sim::policy::accounting_periods`]).
//! There, as the engine does at an instant where slices end:
//! 1. the running vCPUs are charged for their guest work up to the instant (in the engine
//!    a slice of the policy's length that started at an accounting instant ends at the
//!    next one, and is charged just before it; here the kick lands a few microseconds
//!    after the instant);
//! 2. every ready, running or parked vCPU is accounted ([`sim::policy::CpuPolicy::on_account`])
//!    with the sum of their weights, the host's pCPUs and its share of its VM's cap
//!    ([`sim::policy::Account::cap_share`]);
//! 3. a running vCPU now parked is kicked out and parked when its slice ends; a parked one
//!    now cleared becomes ready, as if preempted (no BOOST). A ready vCPU the accounting
//!    parked is parked when it reaches the head of the run queue with a pCPU idle (see
//!    `Sched::dispatch`), as the engine does.
//!
//! The run queue's keys are computed at each decision, so nothing needs re-keying.

use std::time::{Duration, Instant};

use sim::SliceEnd;
use sim::policy::{Account, accounting_periods};

use super::state::{Sched, Status};

impl Sched<'_> {
    /// Accounts the runnable vCPUs if an accounting instant passed since the last one
    /// (only for a policy with an accounting period).
    pub(super) fn account(&mut self, now: Instant) {
        let Some(period) = self.account_period else {
            return;
        };
        let at = self.sim_time(now);
        let periods = accounting_periods(&mut self.account_last, at, period);
        if periods == 0 {
            return;
        }
        let runnable = |s: Status| matches!(s, Status::Ready | Status::Running | Status::Parked);
        for v in 0..self.vcpus.len() {
            if self.vcpus[v].status == Status::Running {
                self.charge(v, now);
            }
        }
        let mut a = Account {
            weight: 0,
            total_weight: 0,
            pcpus: self.pcpus.len() as u32,
            periods,
            cap: 0,
        };
        a.total_weight = self
            .vcpus
            .iter()
            .filter(|v| runnable(v.status))
            .map(|v| u64::from(self.plans[v.vm].request.profile.weight))
            .sum();
        let cap_period = if self.parks { period } else { 0 };
        for v in 0..self.vcpus.len() {
            if !runnable(self.vcpus[v].status) {
                continue;
            }
            let r = &self.plans[self.vcpus[v].vm].request;
            a.weight = r.profile.weight;
            a.cap = Account::cap_share(r.profile.cpu_cap_ppm, r.vcpus, cap_period);
            self.policies
                .cpu
                .on_account(&mut self.vcpus[v].policy_state, &a);
        }
        if self.parks {
            self.settle_parking(now);
        }
    }

    /// After an accounting: running vCPUs now parked are kicked out (parked when their
    /// slice ends), parked vCPUs now cleared become ready.
    fn settle_parking(&mut self, now: Instant) {
        for v in 0..self.vcpus.len() {
            let parked = self.policies.cpu.parked(self.vcpus[v].policy_state);
            match self.vcpus[v].status {
                Status::Running if parked => self.kick(v, SliceEnd::Throttled),
                Status::Parked if !parked => {
                    self.set_parked(v, false, now);
                    // Unparked vCPUs get no BOOST (Xen's `csched_vcpu_wake`).
                    self.make_ready(v, now, true);
                }
                _ => {}
            }
        }
    }

    /// Whether ready or running vCPU `v` is parked by the policy's state word.
    pub(super) fn is_parked(&self, v: usize) -> bool {
        self.parks && self.policies.cpu.parked(self.vcpus[v].policy_state)
    }

    /// Parks vCPU `v` (ready, or just off its pCPU) at `at`.
    pub(super) fn park(&mut self, v: usize, at: Instant) {
        // (Like a paused vCPU in the engine, it leaves the run queue.)
        self.leave_run_queue(v, at, false);
        self.vcpus[v].status = Status::Parked;
        self.vcpus[v].ready_since = at;
        self.set_parked(v, true, at);
    }

    /// Counts vCPU `v` in (or out of) its VM's parked vCPUs, and the VM's throttled time:
    /// the time it has at least one parked vCPU.
    fn set_parked(&mut self, v: usize, on: bool, at: Instant) {
        let vm = &mut self.vms[self.vcpus[v].vm];
        if on {
            if vm.parked == 0 {
                vm.parked_since = Some(at);
            }
            vm.parked += 1;
        } else if vm.parked > 0 {
            vm.parked -= 1;
            if vm.parked == 0
                && let Some(since) = vm.parked_since.take()
            {
                vm.throttled += at.saturating_duration_since(since);
            }
        }
    }

    /// The next accounting instant after `now` (none without an accounting period).
    pub(super) fn next_accounting(&self, now: Instant) -> Option<Instant> {
        let period = self.account_period?;
        let k = self.sim_time(now).nanos() / period + 1;
        Some(self.t0 + Duration::from_nanos(k.saturating_mul(period)))
    }
}
