//! The host scheduler's effective slice and switch cost, for `--host-scheduler`: two
//! threads pinned to one core spin on the TSC at the same weight, each recording the
//! stalls of its TSC longer than [`GAP_NS`] (the other thread ran then).
//!
//! * A **slice** is a run of one thread between two of its stalls (the first and last run
//!   of each thread, cut by the start and end, are left out). Linux preempts a running
//!   thread when its slice is used up, which it checks at the scheduler tick (or with a
//!   high-resolution timer): the effective slice is the base slice rounded up to what the
//!   tick can see.
//! * A **switch** is the time between one thread's last TSC reading and the other's first
//!   one: inside a stall `[s, e]` of thread A, thread B ran `[b₀, b₁]`; the two switches
//!   are `b₀ − s` and `e − b₁`. Stalls in which B did not run (another process took the
//!   core) are left out.

use std::sync::Barrier;
use std::time::Duration;

use super::cgroup::HostGroups;
use super::{pin_current_thread, rdtsc};
use crate::error::Error;
use crate::host_sched::GroupSettings;

/// A TSC increment longer than this (ns) is a stall.
pub const GAP_NS: f64 = 2_000.0;

/// The stalls `(last reading before, first reading after)` of one spinning thread.
type Stalls = Vec<(u64, u64)>;

/// Spins on `core` for `window`, recording stalls longer than `gap` ticks (at most
/// 65 536). Starts when `start` opens. In `group` when given (else at nice −20 with
/// `boost`).
fn spin(
    core: usize,
    boost: bool,
    group: Option<&HostGroups>,
    window_ticks: u64,
    gap: u64,
    start: &Barrier,
) -> Result<(u64, u64, Stalls), Error> {
    pin_current_thread(core)?;
    match group {
        // SAFETY: gettid has no preconditions.
        Some(g) => g.add_thread(0, unsafe { libc::gettid() })?,
        None if boost => super::boost_current_thread()?,
        None => {}
    }
    let mut stalls = Vec::with_capacity(1 << 16);
    start.wait();
    let begin = rdtsc();
    let mut last = begin;
    loop {
        let now = rdtsc();
        if now.wrapping_sub(last) > gap && stalls.len() < stalls.capacity() {
            stalls.push((last, now));
        }
        last = now;
        if now.wrapping_sub(begin) > window_ticks {
            return Ok((begin, now, stalls));
        }
    }
}

/// Slices (µs) and switches (µs) of one measurement of `window` on `core`.
pub fn measure_once(
    core: usize,
    boost: bool,
    window: Duration,
) -> Result<(Vec<f64>, Vec<f64>), Error> {
    let hz = super::tsc_hz(Duration::from_millis(20));
    let gap = (hz * GAP_NS * 1e-9) as u64;
    let window_ticks = (hz * window.as_secs_f64()) as u64;
    // With `boost`, both threads in one cgroup of the largest weight (as the host
    // replay's vCPU threads with --boost), so that other processes, whose autogroups nice
    // does not outweigh, take little of the core; nice −20 when no cgroup is writable.
    let group = if boost {
        HostGroups::create(
            &[GroupSettings {
                weight: sim::DEFAULT_WEIGHT,
                vcpus: 2,
                cap_ppm: 0,
                period_us: 100_000,
            }],
            true,
        )
        .ok()
    } else {
        None
    };
    let barrier = Barrier::new(2);
    let (ra, rb) = std::thread::scope(|scope| {
        let spawn = || {
            std::thread::Builder::new()
                .name("vmsched-slice".into())
                .spawn_scoped(scope, || {
                    spin(core, boost, group.as_ref(), window_ticks, gap, &barrier)
                })
                .map_err(|e| Error::Host(format!("cannot start a slice thread: {e}")))
        };
        let a = spawn()?;
        let b = spawn()?;
        let join = |h: std::thread::ScopedJoinHandle<'_, Result<(u64, u64, Stalls), Error>>| {
            h.join()
                .map_err(|_| Error::Host("a slice thread panicked".into()))?
        };
        Ok::<_, Error>((join(a)?, join(b)?))
    })?;
    drop(group);
    let us = |t: u64| t as f64 / hz * 1e6;
    let (slices, switches) = analyse(&ra, &rb);
    Ok((
        slices.into_iter().map(us).collect(),
        switches.into_iter().map(us).collect(),
    ))
}

/// Slices and switches in TSC ticks from the two threads' `(begin, end, stalls)`.
pub fn analyse(a: &(u64, u64, Stalls), b: &(u64, u64, Stalls)) -> (Vec<u64>, Vec<u64>) {
    let mut slices = Vec::new();
    for (_, _, stalls) in [a, b] {
        // Runs between consecutive stalls: from one stall's end to the next one's start.
        for w in stalls.windows(2) {
            slices.push(w[1].0.saturating_sub(w[0].1));
        }
    }
    let mut switches = Vec::new();
    for (x, y) in [(a, b), (b, a)] {
        for &(s, e) in &x.2 {
            // y's run inside x's stall: y resumed (a stall of y ended) after s, and
            // stopped (a stall of y began) before e.
            let resumed = y.2.iter().map(|st| st.1).find(|&t| t > s && t < e);
            let stopped = y.2.iter().rev().map(|st| st.0).find(|&t| t > s && t < e);
            if let (Some(b0), Some(b1)) = (resumed, stopped)
                && b1 > b0
            {
                switches.push(b0 - s);
                switches.push(e - b1);
            }
        }
    }
    (slices, switches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_and_switches_of_two_threads() {
        // B is first stalled until 103 (A ran), A runs to 99, B [103, 199], A [204, 299],
        // B from 305: A stalls (99, 204) and (299, 405); B stalls (0, 103) and (199, 305).
        let a = (0, 500, vec![(99, 204), (299, 405)]);
        let b = (0, 500, vec![(0, 103), (199, 305)]);
        let (slices, switches) = analyse(&a, &b);
        // A: 299 − 204 = 95; B: 199 − 103 = 96.
        assert_eq!(slices, vec![95, 96]);
        // A's stall (99, 204): B resumed at 103 (4 after), stopped at 199 (5 before).
        // A's stall (299, 405): B resumed at 305 but did not stop before 405: left out.
        // B's stall (0, 103): A did not resume in it: left out.
        // B's stall (199, 305): A resumed at 204 (5), stopped at 299 (6).
        assert_eq!(switches, vec![4, 5, 5, 6]);
    }
}
