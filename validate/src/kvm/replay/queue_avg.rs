//! The run queue's average state, for a CPU policy whose order depends on where a vCPU
//! stands relative to the others (`fair`'s average virtual runtime and lag,
//! [`sim::policy::CpuPolicy::uses_queue_average`]), kept as the engine keeps it
//! (`sim/src/engine/queue_avg.rs`) with the same sums ([`sim::policy::QueueSums`]):
//! `Σ weight` and `Σ weight × state` over the ready and running vCPUs, updated when a vCPU
//! joins (admitted, back from I/O, unparked: [`sim::policy::CpuPolicy::on_join`]), leaves
//! (blocks on I/O, is parked: [`sim::policy::CpuPolicy::on_leave`]; finishes) or is
//! charged (`Sched::charge`). A decision reads the average with the running vCPUs charged
//! up to its instant, without charging them.

use std::time::Instant;

use sim::SimTime;
use sim::policy::{Charge, QueueContext};

use super::state::{Sched, Status};

impl Sched<'_> {
    /// The run queue's weighted average state and total weight at `now`, the running
    /// vCPUs charged up to `now` ((0, 0) for a policy that keeps no average).
    pub(super) fn queue_average(&self, now: Instant) -> (u64, u64) {
        let Some(sums) = &self.queue_sums else {
            return (0, 0);
        };
        let at = self.sim_time(now);
        let running = (0..self.vcpus.len()).filter_map(|v| {
            let st = &self.vcpus[v];
            if st.status != Status::Running || !st.in_run_queue {
                return None;
            }
            let used = st.work_done + self.in_burst(v, now);
            let ran = used.saturating_sub(st.charged);
            if ran.is_zero() {
                return None;
            }
            let weight = self.plans[st.vm].request.profile.weight;
            let mut charged = st.policy_state;
            let charge = Charge {
                ran: SimTime::from_nanos(ran.as_nanos() as u64),
                weight,
                now: at,
            };
            self.policies.cpu.on_charged(&mut charged, &charge);
            Some((weight, st.policy_state, charged))
        });
        sums.average(running)
    }

    /// The context vCPU `v` joins or leaves the run queue in at `now`.
    fn queue_context(&self, v: usize, now: Instant) -> QueueContext {
        let (average, total_weight) = self.queue_average(now);
        QueueContext {
            average,
            total_weight,
            weight: self.plans[self.vcpus[v].vm].request.profile.weight,
            slice: self.slice(),
        }
    }

    /// vCPU `v` becomes ready from outside the run queue (admitted, back from I/O,
    /// unparked): the policy places it, then it counts in the sums.
    pub(super) fn join_run_queue(&mut self, v: usize, now: Instant) {
        if self.queue_sums.is_none() || self.vcpus[v].in_run_queue {
            return;
        }
        let ctx = self.queue_context(v, now);
        let st = &mut self.vcpus[v];
        st.in_run_queue = true;
        if let Some(sums) = &mut self.queue_sums {
            sums.join(&*self.policies.cpu, &mut st.policy_state, &ctx);
        }
    }

    /// vCPU `v`, charged for its work, leaves the run queue (for good when `done`).
    pub(super) fn leave_run_queue(&mut self, v: usize, now: Instant, done: bool) {
        if self.queue_sums.is_none() || !self.vcpus[v].in_run_queue {
            return;
        }
        let ctx = self.queue_context(v, now);
        let st = &mut self.vcpus[v];
        st.in_run_queue = false;
        if let Some(sums) = &mut self.queue_sums {
            sums.leave(&*self.policies.cpu, &mut st.policy_state, &ctx, done);
        }
    }
}
