//! A physical device: a FIFO queue in front of `channels` identical servers.

use std::collections::VecDeque;

use crate::model::DeviceSpec;
use crate::time::SimTime;

/// A request waiting for or in service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    /// vCPU slot and uid (the uid guards against a reused slot).
    pub vcpu: u32,
    pub uid: u64,
    /// Service time.
    pub service: SimTime,
}

#[derive(Debug)]
pub(crate) struct Device {
    pub spec: DeviceSpec,
    pub kind_name: &'static str,
    pub busy: u32,
    pub queue: VecDeque<Request>,
    /// ∫ busy channels dt (ns), for utilisation.
    pub busy_area: u128,
    pub last_change: SimTime,
    pub completed: u64,
    /// Values at the previous timeline sample.
    pub sampled_area: u128,
    pub sampled_completed: u64,
}

impl Device {
    pub(crate) fn new(spec: DeviceSpec, kind_name: &'static str) -> Device {
        Device {
            spec,
            kind_name,
            busy: 0,
            queue: VecDeque::new(),
            busy_area: 0,
            last_change: SimTime::ZERO,
            completed: 0,
            sampled_area: 0,
            sampled_completed: 0,
        }
    }

    fn account(&mut self, now: SimTime) {
        self.busy_area += u128::from(self.busy) * u128::from(now.0 - self.last_change.0);
        self.last_change = now;
    }

    /// A request arrives. Returns it if a channel is free (the caller schedules its
    /// completion at `now + service`); otherwise it waits in FIFO order.
    pub(crate) fn submit(&mut self, now: SimTime, r: Request) -> Option<Request> {
        self.account(now);
        if self.busy < self.spec.channels.max(1) {
            self.busy += 1;
            Some(r)
        } else {
            self.queue.push_back(r);
            None
        }
    }

    /// A request completes. Returns the next one to start, if any (its channel stays busy).
    pub(crate) fn complete(&mut self, now: SimTime) -> Option<Request> {
        self.account(now);
        self.completed += 1;
        match self.queue.pop_front() {
            Some(next) => Some(next),
            None => {
                self.busy = self.busy.saturating_sub(1);
                None
            }
        }
    }

    /// Utilisation and completions since the previous sample, then resets the window.
    pub(crate) fn sample(&mut self, now: SimTime, interval: SimTime) -> (f64, u64) {
        self.account(now);
        let area = self.busy_area - self.sampled_area;
        let done = self.completed - self.sampled_completed;
        self.sampled_area = self.busy_area;
        self.sampled_completed = self.completed;
        let cap = f64::from(self.spec.channels.max(1)) * interval.0 as f64;
        (if cap > 0.0 { area as f64 / cap } else { 0.0 }, done)
    }
}
