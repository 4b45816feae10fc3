//! The future-event list: a 4-ary min-heap ordered by `(time, insertion sequence)`, so
//! events at the same instant come out in the order they were scheduled.
//!
//! Four children per node halve the depth of a binary heap (two levels hold 20 events),
//! and a pop moves the last entry down a hole instead of swapping at every level: a
//! discrete-event simulation pops and pushes once per event, so this is its hot loop.

use crate::error::SimError;
use crate::time::SimTime;

/// Children per heap node.
const ARITY: usize = 4;

/// Entries at the top of the heap that a deep heap's pops keep in the caches (five
/// levels: 1,365 entries, 43 KiB); below them a pop asks for the next level ahead.
const CACHED_TOP: usize = 1365;

/// A queue of events of type `E`.
#[derive(Debug, Clone)]
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    seq: u64,
}

/// A pending event. Ordered by `key = time << 64 | sequence` alone: one integer comparison
/// per heap step, and keys are unique.
#[derive(Debug, Clone, Copy)]
struct Entry<E> {
    key: u128,
    event: E,
}

/// The error for scheduling into the past (out of line: it never happens in a correct run).
#[cold]
#[inline(never)]
fn past_event(at: SimTime, now: SimTime) -> SimError {
    SimError::PastEvent {
        at: at.to_string(),
        now: now.to_string(),
    }
}

/// The smaller of two keys, with its index.
#[inline(always)]
fn min_of(i: usize, ki: u128, j: usize, kj: u128) -> (usize, u128) {
    let lt = kj < ki;
    (if lt { j } else { i }, if lt { kj } else { ki })
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: Vec::new(),
            seq: 0,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `at`; `now` is the current time, and scheduling before it is an
    /// error.
    #[inline(always)]
    pub fn schedule(&mut self, now: SimTime, at: SimTime, event: E) -> Result<(), SimError> {
        if at < now {
            return Err(past_event(at, now));
        }
        let entry = Entry {
            key: (u128::from(at.nanos()) << 64) | u128::from(self.seq),
            event,
        };
        self.seq += 1;
        // Sift up: move parents down into the hole until the entry's place is found.
        let mut i = self.heap.len();
        self.heap.push(entry);
        while i > 0 {
            let parent = (i - 1) / ARITY;
            let p = self.heap[parent];
            if p.key < entry.key {
                break;
            }
            self.heap[i] = p;
            i = parent;
        }
        self.heap[i] = entry;
        Ok(())
    }

    /// Time of the next event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|e| SimTime((e.key >> 64) as u64))
    }

    /// The next event, without removing it.
    #[inline(always)]
    pub fn peek(&self) -> Option<&E> {
        self.heap.first().map(|e| &e.event)
    }

    /// Removes and returns the next event.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let last = self.heap.pop()?;
        let n = self.heap.len();
        if n == 0 {
            return Some((SimTime((last.key >> 64) as u64), last.event));
        }
        let top = self.heap[0];
        // Sift down: move the smallest child up into the hole until `last` fits.
        let mut i = 0;
        loop {
            let first = ARITY * i + 1;
            if first >= n {
                break;
            }
            // The children's children (16 entries, side by side) are the next level's
            // candidates: ask for them now, so that a deep heap's cache misses overlap
            // this level's comparisons instead of following them.
            // (The top levels, a few thousand entries, stay in the caches.)
            if ARITY * first + 1 >= CACHED_TOP
                && let Some(next) = self.heap.get(ARITY * first + 1..)
                && let Some(next) = next.get(..ARITY * ARITY).or(Some(next))
            {
                crate::prefetch::prefetch_slice(next);
            }
            let (m, m_key) = if first + ARITY <= n {
                // All four children: a tournament of two pairs, without data-dependent
                // branches (the comparisons are unpredictable).
                let c = &self.heap[first..first + ARITY];
                let (a, ka) = min_of(0, c[0].key, 1, c[1].key);
                let (b, kb) = min_of(2, c[2].key, 3, c[3].key);
                let (w, kw) = min_of(a, ka, b, kb);
                (first + w, kw)
            } else {
                let mut m = first;
                let mut m_key = self.heap[first].key;
                for c in first + 1..n {
                    let k = self.heap[c].key;
                    if k < m_key {
                        m = c;
                        m_key = k;
                    }
                }
                (m, m_key)
            };
            if last.key < m_key {
                break;
            }
            self.heap[i] = self.heap[m];
            i = m;
        }
        self.heap[i] = last;
        Some((SimTime((top.key >> 64) as u64), top.event))
    }

    /// Number of pending events (cancelled ones included until popped).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_keeps_insertion_order_and_past_is_an_error() {
        let mut q = EventQueue::new();
        let t = SimTime::from_secs;
        q.schedule(t(0), t(5), 'b').unwrap();
        q.schedule(t(0), t(5), 'a').unwrap(); // later insertion, same time: after 'b'
        q.schedule(t(0), t(1), 'z').unwrap();
        assert_eq!(q.pop(), Some((t(1), 'z')));
        assert_eq!(q.pop(), Some((t(5), 'b')));
        assert_eq!(q.pop(), Some((t(5), 'a')));
        assert!(q.schedule(t(5), t(4), 'x').is_err());
    }

    /// Pops come out in (time, insertion) order for any mix of pushes and pops: the heap
    /// against a sorted list, over pseudo-random times with many ties.
    #[test]
    fn matches_a_sorted_list() {
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64)> = Vec::new(); // (time, sequence)
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut seq = 0u64;
        let mut now = 0u64;
        for step in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Bursts of pushes, then pops, so the heap grows to hundreds and drains.
            if (step / 300) % 2 == 0 || reference.is_empty() {
                let at = now + x % 50;
                q.schedule(SimTime(now), SimTime(at), seq).unwrap();
                reference.push((at, seq));
                seq += 1;
            } else {
                reference.sort_unstable();
                let (at, s) = reference.remove(0);
                assert_eq!(q.pop(), Some((SimTime(at), s)));
                now = at;
            }
            assert_eq!(q.len(), reference.len());
        }
        reference.sort_unstable();
        for (at, s) in reference {
            assert_eq!(q.pop(), Some((SimTime(at), s)));
        }
        assert!(q.is_empty());
    }
}
