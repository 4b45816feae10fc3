//! The queue of VMs waiting for admission, ordered by (policy key, tie).
//!
//! A heap in general. When the policy's key is the same for every VM (FCFS), the order is
//! the engine's tie-break alone — arrival, then id — which is the order VMs join, so a
//! double-ended queue keeps it with O(1) steps: a batch of simultaneous arrivals is sorted
//! by id before it joins, and every later batch arrives strictly later.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::state::QueueEntry;

#[derive(Debug)]
pub(crate) enum AdmissionQueue {
    Heap(BinaryHeap<Reverse<QueueEntry>>),
    Fifo(VecDeque<QueueEntry>),
}

impl AdmissionQueue {
    pub(crate) fn new(arrival_order: bool) -> Self {
        if arrival_order {
            AdmissionQueue::Fifo(VecDeque::new())
        } else {
            AdmissionQueue::Heap(BinaryHeap::new())
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            AdmissionQueue::Heap(h) => h.len(),
            AdmissionQueue::Fifo(q) => q.len(),
        }
    }

    /// Whether the order is arrival order (new VMs join at the back).
    pub(crate) fn arrival_order(&self) -> bool {
        matches!(self, AdmissionQueue::Fifo(_))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds the VMs that arrived at the current instant (all later than those waiting),
    /// leaving `batch` empty.
    #[inline(always)]
    pub(crate) fn join(&mut self, batch: &mut Vec<QueueEntry>) {
        if batch.is_empty() {
            return;
        }
        match self {
            AdmissionQueue::Heap(h) => h.extend(batch.drain(..).map(Reverse)),
            AdmissionQueue::Fifo(q) => {
                if let [one] = batch[..] {
                    q.push_back(one);
                    batch.clear();
                    return;
                }
                batch.sort_unstable();
                debug_assert!(match (q.back(), batch.first()) {
                    (Some(b), Some(f)) => b < f,
                    _ => true,
                });
                q.extend(batch.drain(..));
            }
        }
    }

    /// The head: the first VM in policy order.
    #[inline]
    pub(crate) fn peek(&self) -> Option<QueueEntry> {
        match self {
            AdmissionQueue::Heap(h) => h.peek().map(|r| r.0),
            AdmissionQueue::Fifo(q) => q.front().copied(),
        }
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<QueueEntry> {
        match self {
            AdmissionQueue::Heap(h) => h.pop().map(|r| r.0),
            AdmissionQueue::Fifo(q) => q.pop_front(),
        }
    }

    /// The entry at position `i` in queue order, when the queue is in arrival order (a
    /// deque, read in place); `None` past the end or for a heap.
    #[inline]
    pub(crate) fn fifo_at(&self, i: usize) -> Option<QueueEntry> {
        match self {
            AdmissionQueue::Heap(_) => None,
            AdmissionQueue::Fifo(q) => q.get(i).copied(),
        }
    }

    /// The entries at positions `from..from + n` (as many as there are) of an arrival-order
    /// queue, in order; `None` for a heap.
    #[inline]
    pub(crate) fn fifo_range(
        &self,
        from: usize,
        n: usize,
    ) -> Option<std::collections::vec_deque::Iter<'_, QueueEntry>> {
        match self {
            AdmissionQueue::Heap(_) => None,
            AdmissionQueue::Fifo(q) => {
                let from = from.min(q.len());
                Some(q.range(from..from.saturating_add(n).min(q.len())))
            }
        }
    }

    /// Removes the entry at position `i` of an arrival-order queue (no-op for a heap).
    pub(crate) fn fifo_remove(&mut self, i: usize) {
        if let AdmissionQueue::Fifo(q) = self {
            q.remove(i);
        }
    }

    /// Puts back entries popped in order (the VMs skipped over), ahead of the rest.
    pub(crate) fn put_back(&mut self, popped: &mut Vec<QueueEntry>) {
        match self {
            AdmissionQueue::Heap(h) => h.extend(popped.drain(..).map(Reverse)),
            AdmissionQueue::Fifo(q) => {
                for e in popped.drain(..).rev() {
                    q.push_front(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ids::VmSlot;

    fn e(arrival: u64, id: u64) -> QueueEntry {
        QueueEntry {
            key: 0,
            tie: (u128::from(arrival) << 64) | u128::from(id),
            slot: VmSlot(id as u32),
        }
    }

    /// Both kinds give the same order for equal keys: batches by arrival, ids within one.
    #[test]
    fn fifo_and_heap_agree_on_arrival_order() {
        let mut fifo = AdmissionQueue::new(true);
        let mut heap = AdmissionQueue::new(false);
        for batch in [
            vec![e(0, 3), e(0, 1), e(0, 2)],
            vec![e(5, 0)],
            vec![e(7, 9), e(7, 4)],
        ] {
            fifo.join(&mut batch.clone());
            heap.join(&mut batch.clone());
        }
        // Skip over the first two, put them back: they stay ahead.
        let mut popped = vec![fifo.pop().unwrap(), fifo.pop().unwrap()];
        fifo.put_back(&mut popped);
        let mut popped = vec![heap.pop().unwrap(), heap.pop().unwrap()];
        heap.put_back(&mut popped);
        let order = |q: &mut AdmissionQueue| {
            std::iter::from_fn(|| q.pop())
                .map(|x| x.slot.0)
                .collect::<Vec<_>>()
        };
        assert_eq!(order(&mut fifo), vec![1, 2, 3, 0, 4, 9]);
        assert_eq!(order(&mut heap), vec![1, 2, 3, 0, 4, 9]);
    }
}
