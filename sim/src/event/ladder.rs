//! The far part of a large future-event list: events at or after a horizon, kept in
//! buckets of equal time width rather than in the heap.
//!
//! A simulation of a datacenter holds one pending end per VM in flight (hundreds of
//! thousands), almost all of them far in the future. In one heap, every pop walks a
//! dozen levels whose lower ones are not in the caches. Here an event beyond the horizon
//! is appended to its bucket (no ordering work), and a bucket enters the heap, sorted,
//! only when the simulation reaches its time: the heap holds what lies before the
//! horizon, a few dozen events, and stays in the caches. (A ladder queue, simplified: one
//! rung of buckets over the span of the far events, rebuilt from the overflow when the
//! rung is used up.)
//!
//! The order is the heap's: by key (time, then insertion sequence). Every event in the
//! heap lies before the horizon and every event here at or after it, and a bucket moves
//! whole, so the heap's minimum is always the queue's.

use super::Entry;

/// Events per bucket a rung is sized for.
const PER_BUCKET: usize = 64;

/// The most buckets of a rung.
const MAX_BUCKETS: usize = 1 << 16;

#[derive(Debug, Clone)]
pub(super) struct Ladder<E> {
    /// Events at or after this time (ns) go here; earlier ones go to the heap.
    horizon: u128,
    /// Where bucket 0 starts (ns).
    start: u64,
    /// The time each bucket covers (ns, ≥ 1).
    width: u64,
    /// Where the buckets end (ns): later events go to `overflow`.
    end: u128,
    /// The next bucket to move into the heap.
    next: usize,
    buckets: Vec<Vec<Entry<E>>>,
    /// Events at or after `end`, in no order.
    overflow: Vec<Entry<E>>,
    len: usize,
}

/// An entry's time (ns).
#[inline(always)]
fn time<E>(e: &Entry<E>) -> u64 {
    (e.key >> 64) as u64
}

impl<E: Copy> Ladder<E> {
    /// A ladder holding `entries`, all of them at or after the horizon it starts with.
    pub(super) fn new(entries: impl IntoIterator<Item = Entry<E>>) -> Self {
        let overflow: Vec<Entry<E>> = entries.into_iter().collect();
        Ladder {
            horizon: 0,
            start: 0,
            width: 1,
            end: 0,
            next: 0,
            buckets: Vec::new(),
            len: overflow.len(),
            overflow,
        }
    }

    /// Events held.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether an event at `t` (ns) belongs here rather than in the heap.
    #[inline(always)]
    pub(super) fn takes(&self, t: u64) -> bool {
        u128::from(t) >= self.horizon
    }

    /// Adds an event at or after the horizon.
    #[inline(always)]
    pub(super) fn insert(&mut self, e: Entry<E>) {
        let t = time(&e);
        debug_assert!(self.takes(t));
        self.len += 1;
        if u128::from(t) < self.end {
            // (t ≥ horizon ≥ start.)
            let i = ((t - self.start) / self.width) as usize;
            self.buckets[i].push(e);
        } else {
            self.overflow.push(e);
        }
    }

    /// Moves the earliest non-empty bucket, sorted by key, into `heap` (which is empty)
    /// and advances the horizon past it; builds a new rung from the overflow when the
    /// buckets are used up. False when nothing is left.
    pub(super) fn refill(&mut self, heap: &mut Vec<Entry<E>>) -> bool {
        debug_assert!(heap.is_empty());
        loop {
            while let Some(bucket) = self.buckets.get_mut(self.next) {
                let i = self.next;
                self.next += 1;
                if bucket.is_empty() {
                    continue;
                }
                // A sorted array is a heap (every parent comes before its children). The
                // bucket's allocation goes with it: memory follows the events pending.
                let mut bucket = std::mem::take(bucket);
                bucket.sort_unstable_by_key(|e| e.key);
                self.len -= bucket.len();
                heap.extend_from_slice(&bucket);
                self.horizon = u128::from(self.start) + (i as u128 + 1) * u128::from(self.width);
                return true;
            }
            if self.overflow.is_empty() {
                return false;
            }
            self.rebuild();
        }
    }

    /// Spreads the overflow over a new rung of buckets covering its span.
    fn rebuild(&mut self) {
        let (mut lo, mut hi) = (u64::MAX, 0u64);
        for e in &self.overflow {
            lo = lo.min(time(e));
            hi = hi.max(time(e));
        }
        let n = (self.overflow.len() / PER_BUCKET).clamp(1, MAX_BUCKETS);
        let span = hi - lo;
        // (span / width < n: every event of the overflow lands in a bucket.)
        self.width = span / n as u64 + 1;
        self.start = lo;
        self.end = u128::from(lo) + n as u128 * u128::from(self.width);
        self.horizon = u128::from(lo);
        self.next = 0;
        // Each bucket sized for what it gets (a count first), and the overflow given back as
        // it empties: the events are held about once, not twice, while they move.
        let (start, width) = (self.start, self.width);
        let bucket_of = |e: &Entry<E>| ((time(e) - start) / width) as usize;
        let mut counts = vec![0usize; n];
        for e in &self.overflow {
            counts[bucket_of(e)] += 1;
        }
        self.buckets.clear();
        self.buckets
            .extend(counts.iter().map(|&c| Vec::with_capacity(c + c / 8)));
        while let Some(e) = self.overflow.pop() {
            self.buckets[bucket_of(&e)].push(e);
            if self.overflow.len() < self.overflow.capacity() / 4 {
                self.overflow.shrink_to(self.overflow.len() * 2);
            }
        }
    }
}
