//! Reading host interference around a replay: `/proc/stat` and `getrusage` snapshots
//! (the figures and thresholds are in [`crate::interference`]).

use std::time::Instant;

use crate::interference::{CpuTicks, Interference, Usage, parse_proc_stat};

/// `/proc/stat` and the VMM's `getrusage` at one instant.
#[derive(Clone, Debug)]
pub struct Snapshot {
    at: Instant,
    stat: Vec<(Option<usize>, CpuTicks)>,
    usage: Usage,
}

/// Takes a snapshot (an unreadable `/proc/stat` gives no CPU lines: zero figures).
pub fn snapshot() -> Snapshot {
    let stat = std::fs::read_to_string("/proc/stat")
        .map(|t| parse_proc_stat(&t))
        .unwrap_or_default();
    Snapshot {
        at: Instant::now(),
        stat,
        usage: usage(libc::RUSAGE_SELF),
    }
}

/// `getrusage(who)` as [`Usage`] (zeros if the call fails).
pub fn usage(who: libc::c_int) -> Usage {
    // SAFETY: a zeroed rusage is valid plain data; getrusage writes into it.
    let (rc, ru) = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        (libc::getrusage(who, &mut ru), ru)
    };
    if rc != 0 {
        return Usage::default();
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    Usage {
        cpu_s: tv(ru.ru_utime) + tv(ru.ru_stime),
        minor_faults: ru.ru_minflt as u64,
        major_faults: ru.ru_majflt as u64,
        voluntary_switches: ru.ru_nvcsw as u64,
        involuntary_switches: ru.ru_nivcsw as u64,
    }
}

/// The calling thread's [`Usage`] so far.
pub fn thread_usage() -> Usage {
    usage(libc::RUSAGE_THREAD)
}

/// Clock ticks per second of `/proc/stat`.
fn ticks_per_s() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// The interference between two snapshots, on the replay's `cores`, given the executors'
/// usage over the window, whether other threads of the VMM share those cores, and the loop
/// rates before and after.
pub fn interference(
    before: &Snapshot,
    after: &Snapshot,
    cores: &[usize],
    executors: Usage,
    share_cores: bool,
    rates: (f64, f64),
) -> Interference {
    let line = |s: &Snapshot, cpu: Option<usize>| {
        s.stat
            .iter()
            .find(|(c, _)| *c == cpu)
            .map(|x| x.1)
            .unwrap_or_default()
    };
    let pcpus: Vec<CpuTicks> = cores
        .iter()
        .map(|&c| line(after, Some(c)).since(&line(before, Some(c))))
        .collect();
    Interference::from_counters(
        after.at.saturating_duration_since(before.at).as_secs_f64(),
        ticks_per_s(),
        &pcpus,
        line(after, None).since(&line(before, None)),
        after.usage.since(&before.usage),
        executors,
        share_cores,
        rates,
    )
}
