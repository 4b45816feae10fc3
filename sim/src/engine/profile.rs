//! A host's free capacity over time, as conservative backfilling plans it: a step function
//! of (free vCPU slots, free MiB) from the current instant on.
//!
//! Steps are kept in a vector sorted by time; the first starts at the planning origin (the
//! current instant) and the last lasts for ever. Adding or taking capacity over an interval
//! splits at most two steps and merges equal neighbours again, so the vector holds about
//! two steps per reservation and running VM; once it has grown, nothing is allocated.

use crate::time::SimTime;

/// One step: from `at` to the next step's `at`, this much is free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Step {
    at: SimTime,
    vcpus: i128,
    mem: i128,
}

/// Free capacity of one host over time (see the module documentation).
#[derive(Clone, Debug, Default)]
pub(super) struct Profile {
    steps: Vec<Step>,
}

impl Profile {
    /// Everything free from `now` on: `vcpus` slots and `mem` MiB.
    pub(super) fn reset(&mut self, now: SimTime, vcpus: u64, mem: u64) {
        self.steps.clear();
        self.steps.push(Step {
            at: now,
            vcpus: i128::from(vcpus),
            mem: i128::from(mem),
        });
    }

    /// Moves the origin to `now`, dropping the steps that ended by then.
    pub(super) fn advance(&mut self, now: SimTime) {
        // The last step that starts at or before `now` becomes the first.
        let keep = self.steps.partition_point(|s| s.at <= now);
        if keep > 1 {
            self.steps.drain(..keep - 1);
        }
        if let Some(first) = self.steps.first_mut() {
            first.at = first.at.max(now);
        }
    }

    /// Index of the step that starts at `t`, splitting the one that covers it if needed.
    fn split_at(&mut self, t: SimTime) -> usize {
        let i = self.steps.partition_point(|s| s.at <= t);
        // (`t` is never before the origin: step i − 1 covers it.)
        let covering = i.saturating_sub(1);
        if self.steps[covering].at == t {
            return covering;
        }
        let copy = Step {
            at: t,
            ..self.steps[covering]
        };
        self.steps.insert(i, copy);
        i
    }

    /// Adds `vcpus` slots and `mem` MiB (negative: takes them) over `[from, to)`;
    /// `to = SimTime::MAX` is for ever. `from` is clamped to the origin.
    pub(super) fn add(&mut self, from: SimTime, to: SimTime, vcpus: i128, mem: i128) {
        let Some(origin) = self.steps.first().map(|s| s.at) else {
            return;
        };
        let from = from.max(origin);
        if to <= from {
            return;
        }
        let a = self.split_at(from);
        let b = if to == SimTime::MAX {
            self.steps.len()
        } else {
            self.split_at(to)
        };
        for s in &mut self.steps[a..b] {
            s.vcpus += vcpus;
            s.mem += mem;
        }
        // Merge equal neighbours at the two edges (b first: removing it keeps a valid).
        for edge in [b, a] {
            if edge > 0 && edge < self.steps.len() {
                let (p, q) = (self.steps[edge - 1], self.steps[edge]);
                if p.vcpus == q.vcpus && p.mem == q.mem {
                    self.steps.remove(edge);
                }
            }
        }
    }

    /// The earliest start `t ≥ from` such that `vcpus` slots and `mem` MiB are free
    /// throughout `[t, t + duration)`; `None` if that never happens.
    pub(super) fn earliest(
        &self,
        from: SimTime,
        duration: SimTime,
        vcpus: u64,
        mem: u64,
    ) -> Option<SimTime> {
        let (v, m) = (i128::from(vcpus), i128::from(mem));
        let n = self.steps.len();
        let origin = self.steps.first()?.at;
        let mut start = from.max(origin);
        let mut i = self.steps.partition_point(|s| s.at <= start) - 1;
        loop {
            let end = SimTime(start.nanos().saturating_add(duration.nanos()));
            let mut j = i;
            let mut failed = None;
            while j < n && (j == i || self.steps[j].at < end) {
                let s = self.steps[j];
                if s.vcpus < v || s.mem < m {
                    failed = Some(j);
                    break;
                }
                j += 1;
            }
            match failed {
                None => return Some(start),
                Some(j) if j + 1 < n => {
                    i = j + 1;
                    start = self.steps[i].at;
                }
                Some(_) => return None,
            }
        }
    }

    /// Free (vCPU slots, MiB) at `t` (for tests and checks).
    #[cfg(test)]
    pub(super) fn free_at(&self, t: SimTime) -> (i128, i128) {
        let i = self.steps.partition_point(|s| s.at <= t).saturating_sub(1);
        (self.steps[i].vcpus, self.steps[i].mem)
    }

    /// Number of steps (for tests).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.steps.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> SimTime {
        SimTime::from_secs(x)
    }

    /// 4 slots. A running VM holds 2 until 10 s, a reservation 3 over [10, 15): free is 2
    /// over [0, 10), 1 over [10, 15), 4 after. A 2-slot VM of 4 s fits at 0 (2 free until
    /// 10); a 3-slot VM of 4 s needs 3 free for 4 s: not before 15; a 1-slot VM of 20 s
    /// fits at 0 (at least 1 free everywhere).
    #[test]
    fn earliest_slots_by_hand() {
        let mut p = Profile::default();
        p.reset(s(0), 4, 100);
        p.add(s(0), s(10), -2, 0);
        p.add(s(10), s(15), -3, 0);
        assert_eq!(p.free_at(s(5)), (2, 100));
        assert_eq!(p.free_at(s(12)), (1, 100));
        assert_eq!(p.free_at(s(20)), (4, 100));
        assert_eq!(p.earliest(s(0), s(4), 2, 0), Some(s(0)));
        assert_eq!(p.earliest(s(0), s(4), 3, 0), Some(s(15)));
        assert_eq!(p.earliest(s(0), s(20), 1, 0), Some(s(0)));
        // More memory than the host has: never.
        assert_eq!(p.earliest(s(0), s(1), 1, 101), None);
        // Giving the reservation back merges the steps again: [0,10) 2, then 4.
        p.add(s(10), s(15), 3, 0);
        assert_eq!(p.len(), 2);
        // Moving the origin to 12 s drops the step that ended at 10 s.
        p.advance(s(12));
        assert_eq!(p.len(), 1);
        assert_eq!(p.free_at(s(12)), (4, 100));
    }
}
