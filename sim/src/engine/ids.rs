//! Typed indices of the engine: a host, a pCPU of a host, a VM's or a vCPU's slot in its
//! slab, a device request in flight. Each is a `u32` underneath (so the hot structs and
//! events keep their size) that cannot be mixed up with another kind of index.
//!
//! An absent index is an [`OptId`], a `u32` whose largest value means "none": as small as
//! the index itself, where `Option<u32>` would take twice the room.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

use super::state::Host;

/// An index that is a `u32` underneath.
pub(super) trait Id: Copy {
    /// The index of `raw`.
    fn from_raw(raw: u32) -> Self;
    /// The `u32` underneath.
    fn raw(self) -> u32;
    /// As a position in a vector.
    #[inline(always)]
    fn index(self) -> usize {
        self.raw() as usize
    }
}

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(transparent)]
        pub(super) struct $name(pub(super) u32);

        impl Id for $name {
            #[inline(always)]
            fn from_raw(raw: u32) -> Self {
                $name(raw)
            }
            #[inline(always)]
            fn raw(self) -> u32 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id!(
    /// A host: its number in the cluster (`Engine::hosts`).
    HostId
);
id!(
    /// A pCPU of a host: its number on the host (`Host::pcpus`).
    PcpuId
);
id!(
    /// A VM's slot in `Engine::vms` (reused after the VM leaves).
    VmSlot
);
id!(
    /// A vCPU's slot in `Engine::vcpus` (reused after its VM leaves).
    VcpuSlot
);
id!(
    /// A device request's slot in `Engine::io_in_flight`.
    RequestSlot
);
id!(
    /// A VM's counters' slot in `Engine::vm_counters`.
    CountersSlot
);

/// An index of type `I`, or none (`u32::MAX` underneath).
#[repr(transparent)]
pub(super) struct OptId<I>(u32, PhantomData<I>);

impl<I> Clone for OptId<I> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<I> Copy for OptId<I> {}

impl<I> PartialEq for OptId<I> {
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<I> Eq for OptId<I> {}

impl<I: Id + fmt::Debug> fmt::Debug for OptId<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl<I: Id> OptId<I> {
    /// No index.
    pub(super) const NONE: Self = OptId(u32::MAX, PhantomData);

    /// The index `i` (which is never `u32::MAX`: slabs and hosts stay far below).
    #[inline(always)]
    pub(super) fn some(i: I) -> Self {
        OptId(i.raw(), PhantomData)
    }

    /// The index, if any.
    #[inline(always)]
    pub(super) fn get(self) -> Option<I> {
        (self.0 != u32::MAX).then(|| I::from_raw(self.0))
    }

    /// The index, where the engine knows there is one (a host of an admitted VM, say):
    /// indexing with it fails loudly if there is none.
    #[inline(always)]
    pub(super) fn known(self) -> I {
        I::from_raw(self.0)
    }

    /// Whether there is no index.
    #[inline(always)]
    pub(super) fn is_none(self) -> bool {
        self.0 == u32::MAX
    }

    /// The `u32` underneath (`u32::MAX` for none), as the observer's records show it.
    #[inline(always)]
    pub(super) fn raw(self) -> u32 {
        self.0
    }
}

/// What a pCPU runs: nothing, a vCPU (its slot), or a vCPU of a VM on the plain path (see
/// `Engine::admit_plain`), which has no vCPU slot; the plain path's pCPUs also name the
/// next pCPU of the same VM, so that a pCPU needs no field for the chain.
///
/// Encoding: a vCPU slot is below 2³¹ (a slab of 2³¹ vCPUs would take over 200 GB); a
/// plain-path pCPU with a next pCPU `q` is `2³¹ | q` (`q` below 2³¹ − 2: a host of 2³¹
/// pCPUs would take 64 GB), without one `u32::MAX − 1`; an idle pCPU `u32::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub(super) struct Running(u32);

/// The bit that marks a plain-path pCPU (and idle).
const PLAIN_BIT: u32 = 1 << 31;

impl Running {
    /// An idle pCPU.
    pub(super) const IDLE: Running = Running(u32::MAX);
    /// A pCPU held by the last vCPU of a VM on the plain path.
    pub(super) const PLAIN_LAST: Running = Running(u32::MAX - 1);

    /// A pCPU running vCPU `v`.
    #[inline(always)]
    pub(super) fn vcpu(v: VcpuSlot) -> Running {
        debug_assert!(v.0 < PLAIN_BIT);
        Running(v.0)
    }

    /// A pCPU held by a vCPU on the plain path whose VM's next vCPU holds `next`.
    #[inline(always)]
    pub(super) fn plain_then(next: PcpuId) -> Running {
        debug_assert!(next.0 < u32::MAX - 1 - PLAIN_BIT);
        Running(PLAIN_BIT | next.0)
    }

    /// On a plain-path pCPU: the pCPU of the VM's next vCPU (none for the last).
    #[inline(always)]
    pub(super) fn plain_next(self) -> Option<PcpuId> {
        debug_assert!(self.0 >= PLAIN_BIT && self != Running::IDLE);
        (self != Running::PLAIN_LAST).then_some(PcpuId(self.0 & !PLAIN_BIT))
    }

    /// Whether the pCPU is idle.
    #[inline(always)]
    pub(super) fn is_idle(self) -> bool {
        self == Running::IDLE
    }

    /// The vCPU running, if the pCPU runs one that has a slot (not idle, not plain).
    #[inline(always)]
    pub(super) fn slot(self) -> Option<VcpuSlot> {
        (self.0 < PLAIN_BIT).then_some(VcpuSlot(self.0))
    }

    /// The vCPU running, on a pCPU known to run one off the plain path.
    #[inline(always)]
    pub(super) fn known_slot(self) -> VcpuSlot {
        VcpuSlot(self.0)
    }
}

impl Index<HostId> for Vec<Host> {
    type Output = Host;
    #[inline(always)]
    fn index(&self, h: HostId) -> &Host {
        &self[h.index()]
    }
}

impl IndexMut<HostId> for Vec<Host> {
    #[inline(always)]
    fn index_mut(&mut self, h: HostId) -> &mut Host {
        &mut self[h.index()]
    }
}
