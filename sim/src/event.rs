//! The future-event list: a 4-ary min-heap ordered by `(time, insertion sequence)`, so
//! events at the same instant come out in the order they were scheduled.
//!
//! Four children per node halve the depth of a binary heap (two levels hold 20 events),
//! and a pop moves the last entry down a hole instead of swapping at every level: a
//! discrete-event simulation pops and pushes once per event, so this is its hot loop.
//!
//! When the heap grows past `SPILL_AT` events (a datacenter's VMs in flight, say), the
//! events beyond a horizon move to a ladder of time buckets (`ladder.rs`), and enter the
//! heap a bucket at a time: the heap stays small enough for the caches.

mod ladder;

use crate::error::SimError;
use crate::time::SimTime;

use ladder::Ladder;

/// From how many pending events the far ones go to a ladder (128 KiB of heap).
const SPILL_AT: usize = 4096;

/// Children per heap node.
const ARITY: usize = 4;

/// A queue of events of type `E`.
#[derive(Debug, Clone)]
pub struct EventQueue<E> {
    /// The events before the ladder's horizon (all of them without a ladder).
    heap: Vec<Entry<E>>,
    seq: u64,
    /// The events at or after the horizon, once the heap has grown past `spill_at`.
    ladder: Option<Box<Ladder<E>>>,
    spill_at: usize,
    /// From how many events in the heap a schedule takes the long way: `spill_at`
    /// without a ladder, 0 with one (one comparison on the short way).
    large_at: usize,
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
            ladder: None,
            spill_at: SPILL_AT,
            large_at: SPILL_AT,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty queue that moves far events to a ladder from `spill_at` pending events
    /// (for tests of the ladder with few events).
    #[cfg(test)]
    fn with_spill_at(spill_at: usize) -> Self {
        EventQueue {
            spill_at: spill_at.max(1),
            large_at: spill_at.max(1),
            ..Self::default()
        }
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
        if self.heap.len() >= self.large_at {
            self.schedule_large(entry);
        } else {
            self.push(entry);
        }
        Ok(())
    }

    /// Schedules `entry` in a queue with a ladder, or one about to get it (out of line, so
    /// that the small queue's path stays short where it is inlined).
    #[inline(never)]
    fn schedule_large(&mut self, entry: Entry<E>) {
        if let Some(ladder) = &mut self.ladder {
            if ladder.takes((entry.key >> 64) as u64) {
                ladder.insert(entry);
            } else {
                self.push(entry);
            }
            return;
        }
        self.push(entry);
        self.spill();
    }

    /// Moves the ladder's next bucket into the empty heap, or drops the ladder when it is
    /// empty too.
    #[cold]
    #[inline(never)]
    fn refill(&mut self) {
        if let Some(ladder) = &mut self.ladder
            && !ladder.refill(&mut self.heap)
        {
            self.ladder = None;
            self.large_at = self.spill_at;
        }
    }

    /// Moves every event to a new ladder, then its first bucket back into the heap.
    #[cold]
    #[inline(never)]
    fn spill(&mut self) {
        let mut ladder = Box::new(Ladder::new(self.heap.drain(..)));
        ladder.refill(&mut self.heap);
        self.ladder = Some(ladder);
        self.large_at = 0;
    }

    /// Adds `entry` to the heap.
    #[inline(always)]
    fn push(&mut self, entry: Entry<E>) {
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
            if self.ladder.is_some() {
                self.refill();
            }
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
        self.heap.len() + self.ladder.as_ref().map_or(0, |l| l.len())
    }

    /// Whether no event is pending (the heap is empty only when the ladder is).
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

    /// Replays a pseudo-random mix of schedules and pops on `q` and on a sorted list, and
    /// checks every pop and length against the list. `delay(x, now)` draws an event's
    /// delay from a random word; `burst` pushes alternate with `burst` pops.
    fn check_against_sorted_list(
        mut q: EventQueue<u64>,
        steps: u64,
        burst: u64,
        delay: impl Fn(u64, u64) -> u64,
    ) {
        let mut reference: std::collections::BTreeSet<(u64, u64)> = Default::default();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut seq = 0u64;
        let mut now = 0u64;
        for step in 0..steps {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Bursts of pushes, then pops, so the queue grows and drains.
            if (step / burst).is_multiple_of(2) || reference.is_empty() {
                let at = now.saturating_add(delay(x, now));
                q.schedule(SimTime(now), SimTime(at), seq).unwrap();
                reference.insert((at, seq));
                seq += 1;
            } else {
                let (at, s) = reference.pop_first().unwrap();
                assert_eq!(q.pop(), Some((SimTime(at), s)), "step {step}");
                now = at;
            }
            assert_eq!(q.len(), reference.len());
            assert_eq!(q.peek_time(), reference.first().map(|&(t, _)| SimTime(t)));
        }
        while let Some((at, s)) = reference.pop_first() {
            assert_eq!(q.pop(), Some((SimTime(at), s)));
        }
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
    }

    /// Pops come out in (time, insertion) order for any mix of pushes and pops: the heap
    /// against a sorted list, over pseudo-random times with many ties.
    #[test]
    fn matches_a_sorted_list() {
        check_against_sorted_list(EventQueue::new(), 20_000, 300, |x, _| x % 50);
    }

    /// The same with the far events in a ladder from eight pending events on: short and
    /// long delays, many ties (delays of 0 to 49), bursts that grow the queue past several
    /// rungs and drain it again (the ladder is dropped and rebuilt).
    #[test]
    fn the_ladder_keeps_the_heaps_order() {
        for spill_at in [1, 8, 100] {
            check_against_sorted_list(
                EventQueue::with_spill_at(spill_at),
                50_000,
                3_000,
                |x, _| x % 50,
            );
            check_against_sorted_list(EventQueue::with_spill_at(spill_at), 50_000, 700, |x, _| {
                // Log-uniform over 1 ns … 2⁴⁰ ns, so rungs are uneven.
                (x >> 24) % (1 << ((x % 41) as u32))
            });
        }
    }

    /// Extreme times: every event at one instant (one bucket holds them all), and events
    /// at the end of time (`u64::MAX` ns) beside early ones (the widest span).
    #[test]
    fn the_ladder_handles_one_instant_and_the_end_of_time() {
        check_against_sorted_list(EventQueue::with_spill_at(4), 10_000, 2_000, |_, _| 0);
        check_against_sorted_list(EventQueue::with_spill_at(4), 10_000, 500, |x, now| {
            if x % 3 == 0 { u64::MAX - now } else { x % 1000 }
        });
    }
}
