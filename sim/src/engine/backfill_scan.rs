//! The EASY scan's quick rejection (a fast path of [`super::backfill`], on by default; see
//! [`crate::FastPaths::backfill`]).
//!
//! Whether a waiting VM may pass the blocked head now depends on its size (vCPUs, MiB) and
//! its planned duration alone: the placement rule's host for that size, the head's host and
//! spare capacity, and whether it ends, by its estimate, by the shadow time. Between two
//! admissions nothing of that changes, so each size *class* gets, once, the longest planned
//! duration with which a VM of that size starts now (0: none starts; `u64::MAX`: any
//! does), and a VM whose planned duration is longer is passed over at the cost of two
//! loads and a compare. A VM that passes the test is tried as before, which starts it and
//! writes the same trace words. Each VM's planned duration and class are worked out once,
//! at arrival, into a table by VM slot (as large as the most VMs in flight).
//!
//! Sizes get a class in the order they first arrive, up to [`MAX_CLASSES`]; a VM of a
//! later new size has none and is tried as before (traces with many sizes stay correct,
//! only less quick).

use std::collections::HashMap;

use crate::observer::Observer;
use crate::time::SimTime;

use super::backfill::Head;
use super::ids::VmSlot;
use super::state::Engine;

/// The most size classes kept (more only costs speed).
pub(super) const MAX_CLASSES: usize = 256;

/// A waiting VM as the quick test sees it.
#[derive(Clone, Copy, Debug, Default)]
struct Cand {
    /// Planned duration in ns (at least 1).
    d: u64,
    /// Size class, or `None` past [`MAX_CLASSES`].
    class: Option<u16>,
}

/// Size classes, each VM's class and planned duration, and the classes' limits.
#[derive(Debug, Default)]
pub(super) struct SizeClasses {
    /// Per VM slot (of a waiting VM), its planned duration and class.
    cands: Vec<Cand>,
    /// Class number by size (vCPUs, MiB).
    index: HashMap<(u64, u64), u16>,
    /// Per class: its size, and (the epoch it was worked out at, its limit).
    classes: Vec<((u64, u64), (u64, u64))>,
    /// Bumped at every admission and at the start of every pass: a limit worked out at an
    /// older epoch is stale.
    epoch: u64,
}

impl SizeClasses {
    /// The state the limits depend on may have changed (an admission, a new pass).
    #[inline(always)]
    pub(super) fn changed(&mut self) {
        self.epoch += 1;
    }
}

impl<'a, O: Observer> Engine<'a, O> {
    /// EASY with the quick test: VM `slot` arrived (its class and planned duration).
    #[cold]
    pub(super) fn backfill_arrived(&mut self, slot: VmSlot) {
        let d = self.planned_of(slot);
        let vm = &self.vms.get(slot).req;
        let (vcpus, mem) = (u64::from(vm.vcpus), vm.memory_mib);
        let sc = &mut self.backfill.classes;
        let class = match sc.index.get(&(vcpus, mem)) {
            Some(&c) => Some(c),
            None if sc.classes.len() < MAX_CLASSES => {
                let c = sc.classes.len() as u16;
                sc.index.insert((vcpus, mem), c);
                // (Epoch 0 is never current: a pass bumps it first.)
                sc.classes.push(((vcpus, mem), (0, 0)));
                Some(c)
            }
            None => None,
        };
        let i = slot.0 as usize;
        if i >= sc.cands.len() {
            sc.cands.resize(i + 1, Cand::default());
        }
        sc.cands[i] = Cand {
            d: d.nanos(),
            class,
        };
    }

    /// Whether waiting VM `slot` certainly cannot pass head `hd` now (EASY's rule, as
    /// `easy_try` applies it, worked out per size class); `false` when not sure.
    #[inline]
    pub(super) fn easy_rejects(&mut self, slot: VmSlot, hd: &Head) -> bool {
        if !self.backfill.quick {
            return false;
        }
        let sc = &self.backfill.classes;
        let Some(&Cand { d, class: Some(c) }) = sc.cands.get(slot.0 as usize) else {
            return false;
        };
        let ((v, m), (at_epoch, limit)) = sc.classes[c as usize];
        if at_epoch == sc.epoch {
            return d > limit;
        }
        let limit = self.class_limit(v, m, hd);
        let sc = &mut self.backfill.classes;
        sc.classes[c as usize].1 = (sc.epoch, limit);
        d > limit
    }

    /// How many waiting VMs in a row, from position `i` of an arrival-order queue on and at
    /// most `max`, the quick test rejects from limits already worked out (it stops at the
    /// first it cannot judge so, or that may start).
    #[inline]
    pub(super) fn easy_skip(&self, i: usize, max: usize) -> usize {
        if !self.backfill.quick || self.stats.stopped > 0 {
            return 0;
        }
        let sc = &self.backfill.classes;
        let mut n = 0;
        for e in self.queue.fifo_range(i, max).into_iter().flatten() {
            let Some(&Cand { d, class: Some(c) }) = sc.cands.get(e.slot.0 as usize) else {
                break;
            };
            let (_, (at_epoch, limit)) = sc.classes[c as usize];
            if at_epoch != sc.epoch || d <= limit {
                break;
            }
            n += 1;
        }
        n
    }

    /// The longest planned duration (ns) with which a VM of `v` vCPUs and `m` MiB starts
    /// now ahead of head `hd`: 0 when it fits nowhere now; `u64::MAX` when it starts
    /// whatever its duration (the placement rule puts it on another host than the head's,
    /// or it fits in the head's spare capacity); else the time left to the shadow time (it
    /// starts if it ends by then).
    #[cold]
    fn class_limit(&self, v: u64, m: u64, hd: &Head) -> u64 {
        let (top_v, top_m) = self.max_free();
        if v > top_v || m > top_m {
            return 0;
        }
        match self.place(v, m) {
            None => 0,
            Some(h) if h != hd.host => u64::MAX,
            Some(_) if v <= hd.spare_v && m <= hd.spare_m => u64::MAX,
            // It ends by the shadow time: now + d ≤ at (a saturated end only at an
            // unbounded shadow time).
            Some(_) if hd.at == SimTime::MAX => u64::MAX,
            Some(_) => hd.at.nanos().saturating_sub(self.now.nanos()),
        }
    }
}
