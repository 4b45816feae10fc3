//! The order of the replay's queues, from `sim`'s own policies: the admission queue by the
//! admission policy's `queue_key`, the run queue by the CPU policy's `ready_key`, with the
//! engine's tie rules (earlier arrival, then lower VM id, then lower vCPU index). Every
//! policy of the registry, aging included, replays without code of its own here.

use sim::policy::{AdmissionPolicy, CpuPolicy, KeyContext, VcpuView};
use sim::{SimTime, VmRequest};

/// An ordering key: smaller is served first.
pub type Key = (u128, u64, u64, u32);

/// The admission-queue key of a waiting VM.
pub fn admission_key(policy: &dyn AdmissionPolicy, r: &VmRequest) -> Key {
    (policy.queue_key(r), r.arrival.nanos(), r.id, 0)
}

/// What the replay knows about one vCPU when it orders the run queue (times from the
/// start of the replay).
#[derive(Clone, Copy, Debug)]
pub struct VcpuState {
    /// Index of the vCPU in its VM.
    pub index: u32,
    /// Guest work it has done, the current slice included (as the simulator counts it).
    pub attained: SimTime,
    /// When it last became ready; for a running vCPU, when it was dispatched.
    pub ready_since: SimTime,
    /// Whether it became ready because it was kicked out (quantum end or preemption).
    pub preempted: bool,
    /// The CPU policy's state word (0 for policies without one).
    pub state: u64,
}

/// The run-queue key of a vCPU of `r` at the instant `now` (from the start of the replay):
/// the policy's time-aware key ([`CpuPolicy::ready_key_at`]), so policies whose keys change
/// with time (`hrrn`) replay as the engine orders them. Policies with a per-vCPU state word
/// ([`CpuPolicy::uses_state`]) carry it in [`VcpuState::state`], kept by the replay as the
/// engine keeps it.
pub fn cpu_key(policy: &dyn CpuPolicy, r: &VmRequest, v: &VcpuState, now: SimTime) -> Key {
    cpu_key_in(policy, r, v, &KeyContext::at(now))
}

/// The run-queue key of a vCPU of `r` in the context `ctx` of a decision: its instant,
/// and for a policy that uses them the run queue's average state
/// ([`CpuPolicy::uses_queue_average`]) and the host's slice, as the engine gives them.
pub fn cpu_key_in(policy: &dyn CpuPolicy, r: &VmRequest, v: &VcpuState, ctx: &KeyContext) -> Key {
    let view = VcpuView {
        vm: r.id,
        priority: r.priority,
        arrival: r.arrival,
        estimate: r.estimate,
        attained: v.attained,
        ready_since: v.ready_since,
        preempted: v.preempted,
        weight: r.profile.weight,
        state: v.state,
    };
    (
        policy.ready_key_at(&view, ctx),
        r.arrival.nanos(),
        r.id,
        v.index,
    )
}

/// A VM's CPU key when it arrives (no work done, ready at its arrival): the key that
/// [`crate::distribution::order_flips`] measures the closeness of two VMs with.
pub fn key_at_arrival(policy: &dyn CpuPolicy, r: &VmRequest) -> u128 {
    cpu_key(
        policy,
        r,
        &VcpuState {
            index: 0,
            attained: SimTime::ZERO,
            ready_since: r.arrival,
            preempted: false,
            state: 0,
        },
        r.arrival,
    )
    .0
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::policy::{AdmissionParams, admission_policy, cpu_policy};

    /// The keys the replay used before it took them from `sim` (one `match` per policy
    /// name), kept here as the reference the registry's keys must order alike.
    fn old_admission_key(name: &str, r: &VmRequest) -> (i128, u64, u64, u32) {
        let primary = match name {
            "sjf" => i128::from(r.estimate.nanos()),
            "priority" => i128::from(r.priority),
            _ => 0,
        };
        (primary, r.arrival.nanos(), r.id, 0)
    }

    fn old_cpu_key(name: &str, r: &VmRequest, v: &VcpuState, seq: u64) -> (i128, u64, u64, u32) {
        let primary = match name {
            "sjf" | "srtf" => i128::from(r.estimate.nanos()) - i128::from(v.attained.nanos()),
            "priority" | "priority-preemptive" => i128::from(r.priority),
            "rr" => i128::from(seq),
            _ => i128::from(v.ready_since.nanos()),
        };
        if name == "rr" {
            (primary, 0, 0, 0)
        } else {
            (primary, r.arrival.nanos(), r.id, v.index)
        }
    }

    /// A small deterministic generator (no RNG crate needed for a test).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn registry_keys_order_as_the_old_replay_keys() {
        let mut g = Lcg(42);
        for trial in 0..200 {
            // Eight vCPUs of up to eight VMs, ready in `seq` order at distinct increasing
            // instants, as the replay's clock gives them (equal instants occur only for the
            // vCPUs of one VM admitted together, in index order: tested below); attained
            // work below the estimate (where both keys are defined alike).
            let mut t = 0u64;
            let mut items = Vec::new();
            for seq in 0..8u64 {
                let id = g.next(8);
                let estimate = 1 + g.next(5) * 1_000;
                let r = VmRequest {
                    id,
                    arrival: SimTime::from_nanos(id * 10 + g.next(3)),
                    vcpus: 2,
                    memory_mib: 0,
                    priority: g.next(3) as i32 + 1,
                    demand: SimTime::from_nanos(estimate),
                    estimate: SimTime::from_nanos(estimate),
                    tenant: None,
                    profile: Default::default(),
                };
                t += 1 + g.next(100);
                let v = VcpuState {
                    index: seq as u32 % 2,
                    attained: SimTime::from_nanos(g.next(estimate)),
                    ready_since: SimTime::from_nanos(t),
                    preempted: false,
                    state: 0,
                };
                items.push((r, v, seq));
            }
            // Two vCPUs with the same (VM, index) cannot both be queued: keep the first.
            items.sort_by_key(|x| x.2);
            let mut seen = Vec::new();
            items.retain(|x| {
                let k = (x.0.id, x.1.index);
                let new = !seen.contains(&k);
                seen.push(k);
                new
            });
            for name in [
                "fcfs",
                "sjf",
                "srtf",
                "priority",
                "priority-preemptive",
                "rr",
            ] {
                let p = cpu_policy(name).unwrap();
                let new = items
                    .iter()
                    .min_by_key(|x| cpu_key(&*p, &x.0, &x.1, SimTime::ZERO))
                    .unwrap();
                let old = items
                    .iter()
                    .min_by_key(|x| old_cpu_key(name, &x.0, &x.1, x.2))
                    .unwrap();
                assert_eq!(
                    (new.0.id, new.1.index),
                    (old.0.id, old.1.index),
                    "{name}, trial {trial}"
                );
            }
            for name in ["fcfs", "sjf", "priority"] {
                let p = admission_policy(name, &AdmissionParams { aging_per_s: 0.0 }).unwrap();
                let new = items
                    .iter()
                    .min_by_key(|x| admission_key(&*p, &x.0))
                    .unwrap();
                let old = items
                    .iter()
                    .min_by_key(|x| old_admission_key(name, &x.0))
                    .unwrap();
                assert_eq!(new.0.id, old.0.id, "{name}, trial {trial}");
            }
        }
    }

    #[test]
    fn vcpus_of_one_admission_go_in_index_order() {
        // Both vCPUs of VM 5 ready at the same instant (index 0 first, as the replay makes
        // them ready): the tie goes to index 0 under every policy, as the old keys did.
        let r = VmRequest {
            id: 5,
            arrival: SimTime::from_millis(1),
            vcpus: 2,
            memory_mib: 0,
            priority: 1,
            demand: SimTime::from_millis(9),
            estimate: SimTime::from_millis(9),
            tenant: None,
            profile: Default::default(),
        };
        let v = |index| VcpuState {
            index,
            attained: SimTime::ZERO,
            ready_since: SimTime::from_millis(2),
            preempted: false,
            state: 0,
        };
        for e in sim::policy::CPU_POLICIES {
            let p = (e.build)();
            assert!(
                cpu_key(&*p, &r, &v(0), SimTime::ZERO) < cpu_key(&*p, &r, &v(1), SimTime::ZERO),
                "{}",
                e.name
            );
        }
    }

    #[test]
    fn aging_reaches_the_replay() {
        // Aging 1 level/s: priority 3 arriving at 0 s beats priority 1 arriving at 3 s
        // (3 + 0 < 1 + 3), which without aging it does not.
        let vm = |id: u64, p: i32, at_s: u64| VmRequest {
            id,
            arrival: SimTime::from_secs(at_s),
            vcpus: 1,
            memory_mib: 0,
            priority: p,
            demand: SimTime::from_secs(1),
            estimate: SimTime::from_secs(1),
            tenant: None,
            profile: Default::default(),
        };
        let aged = admission_policy("priority", &AdmissionParams { aging_per_s: 1.0 }).unwrap();
        assert!(admission_key(&*aged, &vm(0, 3, 0)) < admission_key(&*aged, &vm(1, 1, 3)));
        let plain = admission_policy("priority", &AdmissionParams { aging_per_s: 0.0 }).unwrap();
        assert!(admission_key(&*plain, &vm(0, 3, 0)) > admission_key(&*plain, &vm(1, 1, 3)));
    }
}
