//! A VM's waits, faults and I/O counters, kept beside it (see [`VmCounters`]).

use super::ids::{CountersSlot, OptId};
use super::slab::Slab;
use super::state::Vm;

/// What a VM off the plain path accumulates while it runs (ns, or counts), kept beside
/// the VM rather than in it: a VM on the plain path never waits for a pCPU, faults or
/// does I/O, and at datacenter scale most VMs in flight are such VMs.
#[derive(Clone, Debug)]
pub(super) struct VmCounters {
    pub(super) ready_wait: u64,
    pub(super) io_wait: u64,
    pub(super) io_service: u64,
    pub(super) fault_stall: u64,
    pub(super) fault_service: u64,
    pub(super) io_requests: u64,
    pub(super) minor_faults: u64,
    pub(super) major_faults: u64,
    pub(super) preemptions: u32,
    pub(super) migrations: u32,
}

impl VmCounters {
    /// Nothing counted (what a VM without counters has).
    pub(super) const ZERO: VmCounters = VmCounters {
        ready_wait: 0,
        io_wait: 0,
        io_service: 0,
        fault_stall: 0,
        fault_service: 0,
        io_requests: 0,
        minor_faults: 0,
        major_faults: 0,
        preemptions: 0,
        migrations: 0,
    };

    /// The counters of `vm`, made (zero) on first use.
    #[inline]
    pub(super) fn of<'s>(
        vm: &mut Vm,
        counters: &'s mut Slab<CountersSlot, VmCounters>,
    ) -> &'s mut VmCounters {
        let slot = match vm.counters.get() {
            Some(c) => c,
            None => {
                let c = counters.insert(VmCounters::ZERO);
                vm.counters = OptId::some(c);
                c
            }
        };
        counters.get_mut(slot)
    }
}
