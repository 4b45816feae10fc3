//! A host's pCPUs: the first [`INLINE_PCPUS`] kept in the host itself, the rest beside it.

use std::ops::{Index, IndexMut};

use crate::time::SimTime;

use super::ids::{PcpuId, Running};

/// A pCPU: what it runs and the slice's instants (32 bytes; the segment of a running vCPU's
/// slice is in its `Vcpu`, the count of vCPUs pinned to it in `Engine::pinned`).
#[derive(Clone, Debug)]
pub(super) struct Pcpu {
    /// What it runs; on the plain path, also the next pCPU of the same VM.
    pub(super) running: Running,
    pub(super) generation: u32,
    /// When the pCPU was given to the vCPU (switch costs start here).
    pub(super) dispatch: SimTime,
    /// When guest code of this slice started.
    pub(super) start: SimTime,
    pub(super) last_uid: u64,
}

impl Pcpu {
    /// An idle pCPU that has run nothing.
    pub(super) const NEW: Pcpu = Pcpu {
        running: Running::IDLE,
        generation: 0,
        dispatch: SimTime::ZERO,
        start: SimTime::ZERO,
        last_uid: u64::MAX,
    };
}

/// pCPUs kept in the host itself.
pub(super) const INLINE_PCPUS: usize = 16;

/// A host's pCPUs, the first [`INLINE_PCPUS`] in the host itself: where a pCPU lies follows
/// from the host's number alone, so that reading it need not wait for the host's state
/// to arrive from memory (with many hosts, a departure reads the host and the pCPU at
/// once rather than one after the other).
#[derive(Debug)]
#[repr(C, align(32))]
pub(super) struct Pcpus {
    first: [Pcpu; INLINE_PCPUS],
    rest: Box<[Pcpu]>,
    len: u32,
}

impl Pcpus {
    /// `n` idle pCPUs.
    pub(super) fn new(n: u32) -> Self {
        Pcpus {
            first: [const { Pcpu::NEW }; INLINE_PCPUS],
            rest: (INLINE_PCPUS as u32..n).map(|_| Pcpu::NEW).collect(),
            len: n,
        }
    }

    /// How many.
    #[inline(always)]
    pub(super) fn len(&self) -> usize {
        self.len as usize
    }

    /// The pCPUs in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Pcpu> {
        self.first[..self.len().min(INLINE_PCPUS)]
            .iter()
            .chain(self.rest.iter())
    }
}

impl<'a> IntoIterator for &'a Pcpus {
    type Item = &'a Pcpu;
    type IntoIter = std::iter::Chain<std::slice::Iter<'a, Pcpu>, std::slice::Iter<'a, Pcpu>>;
    fn into_iter(self) -> Self::IntoIter {
        self.first[..self.len().min(INLINE_PCPUS)]
            .iter()
            .chain(self.rest.iter())
    }
}

impl Index<PcpuId> for Pcpus {
    type Output = Pcpu;
    #[inline(always)]
    fn index(&self, p: PcpuId) -> &Pcpu {
        let i = p.0 as usize;
        debug_assert!(i < self.len());
        match self.first.get(i) {
            Some(pc) => pc,
            None => &self.rest[i - INLINE_PCPUS],
        }
    }
}

impl IndexMut<PcpuId> for Pcpus {
    #[inline(always)]
    fn index_mut(&mut self, p: PcpuId) -> &mut Pcpu {
        let i = p.0 as usize;
        debug_assert!(i < self.len());
        match self.first.get_mut(i) {
            Some(pc) => pc,
            None => &mut self.rest[i - INLINE_PCPUS],
        }
    }
}
