//! The future-event list: a binary heap ordered by `(time, insertion sequence)`, so events
//! at the same instant come out in the order they were scheduled.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::error::SimError;
use crate::time::SimTime;

/// A queue of events of type `E`.
#[derive(Debug, Clone)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    seq: u64,
}

/// A pending event. Ordered by `key = time << 64 | sequence` alone: one integer comparison
/// per heap step.
#[derive(Debug, Clone)]
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `at`; `now` is the current time, and scheduling before it is an
    /// error.
    #[inline]
    pub fn schedule(&mut self, now: SimTime, at: SimTime, event: E) -> Result<(), SimError> {
        if at < now {
            return Err(SimError::PastEvent {
                at: at.to_string(),
                now: now.to_string(),
            });
        }
        self.heap.push(Reverse(Entry {
            key: (u128::from(at.nanos()) << 64) | u128::from(self.seq),
            event,
        }));
        self.seq += 1;
        Ok(())
    }

    /// Time of the next event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap
            .peek()
            .map(|Reverse(e)| SimTime((e.key >> 64) as u64))
    }

    /// Removes and returns the next event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap
            .pop()
            .map(|Reverse(e)| (SimTime((e.key >> 64) as u64), e.event))
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
}
