//! Scheduling decisions told in plain words, for teaching (`vmsched textbook CASE --trace`).
//!
//! The engine reports every dispatch as a [`Decision`]: the VM chosen and the other ready
//! VMs in the policy's order. [`trace_text`] turns them, with the slices of the run and the
//! process table, into one line per instant at which something happened:
//!
//! ```text
//! t=0: P1, P2, P3, P4 arrive. P4 (burst 3) chosen over P1 (6), P3 (7), P2 (8): shortest next burst.
//! t=3: P4 finishes. P1 (burst 6) chosen over P3 (7), P2 (8): shortest next burst.
//! ```
//!
//! Each line gives the time, the events (finishes, expired quanta, arrivals, preemptions),
//! then for each dispatch the process chosen, the others that were ready in the policy's
//! order with the quantity the policy compares (arrival, burst, remaining time or
//! priority), and the reason. A process that runs alone says so ("runs: no other process
//! is ready"), and a CPU left without work says "CPU idle".

use std::collections::BTreeMap;

use sim::observer::Decision;
use sim::policy::{Teaching, TraceQuantity};
use sim::{SimTime, SliceEnd, SliceRecord};

use crate::gantt::short_secs;

/// A row of the process table, as the trace needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceProcess {
    /// Name (e.g. `P1`); VM id = index in the table.
    pub name: String,
    /// Arrival time.
    pub arrival: SimTime,
    /// CPU burst.
    pub burst: SimTime,
    /// Priority (lower = more urgent).
    pub priority: i32,
}

/// How the trace words `policy`: the registry entry's teaching words (see
/// [`sim::policy::Teaching`]), or generic words for a name the registry does not know.
fn wording(policy: &str) -> Teaching {
    sim::policy::find_cpu(policy).map_or(Teaching::GENERIC, |e| e.teaching)
}

/// The trace of a run (see the module documentation). `policy` is the CPU policy's name;
/// `slices` and `decisions` are those the engine reported (any order); `table[id]`
/// describes VM `id`. VM ids missing from the table are called `VM<id>`.
pub fn trace_text(
    policy: &str,
    table: &[TraceProcess],
    slices: &[SliceRecord],
    decisions: &[Decision],
) -> String {
    let procs: Vec<(u64, TraceProcess)> = (0u64..).zip(table.iter().cloned()).collect();
    trace_text_by_id(policy, &procs, slices, decisions)
}

/// [`trace_text`] for VMs given by id rather than by position: each `(id, process)` pair
/// describes VM `id` (its `burst` is what the policy compares, e.g. the user's estimate).
/// Ids need not be contiguous; VM ids missing from `procs` are called `VM<id>`, and when
/// an id appears twice the last pair wins.
pub fn trace_text_by_id(
    policy: &str,
    procs: &[(u64, TraceProcess)],
    slices: &[SliceRecord],
    decisions: &[Decision],
) -> String {
    let w = wording(policy);
    let by_id: BTreeMap<u64, &TraceProcess> = procs.iter().map(|(id, p)| (*id, p)).collect();
    let proc_of = |id: u64| by_id.get(&id).copied();
    let name = |id: u64| proc_of(id).map_or_else(|| format!("VM{id}"), |p| p.name.clone());
    let multi_cpu = slices
        .iter()
        .map(|s| (s.host, s.pcpu))
        .chain(decisions.iter().map(|d| (d.host, d.pcpu)))
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        > 1;
    // Work done by VM `id` up to time `t` (slices that ended by then).
    let attained = |id: u64, t: SimTime| -> SimTime {
        SimTime(
            slices
                .iter()
                .filter(|s| s.vm == id && s.end <= t)
                .map(|s| s.end.nanos() - s.start.nanos())
                .sum(),
        )
    };
    let remaining = |id: u64, t: SimTime| {
        proc_of(id).map_or(SimTime::ZERO, |p| p.burst.saturating_sub(attained(id, t)))
    };
    let value = |id: u64, t: SimTime| -> String {
        match w.quantity {
            TraceQuantity::Arrival => proc_of(id).map_or("?".into(), |p| short_secs(p.arrival)),
            TraceQuantity::Burst => proc_of(id).map_or("?".into(), |p| short_secs(p.burst)),
            TraceQuantity::Priority => proc_of(id).map_or("?".into(), |p| p.priority.to_string()),
            TraceQuantity::Remaining => short_secs(remaining(id, t)),
            TraceQuantity::Received => short_secs(attained(id, t)),
            // (wait + burst) / burst, the wait counted from arrival: a textbook process
            // never blocks, and under a non-preemptive policy it waits from its arrival.
            TraceQuantity::ResponseRatio => proc_of(id).map_or("?".into(), |p| {
                let burst = p.burst.nanos().max(1) as f64;
                let wait = t.nanos().saturating_sub(p.arrival.nanos()) as f64;
                sim::numbers::decimals_trimmed((wait + burst) / burst, 2)
            }),
        }
    };

    // Everything that happens, by time.
    #[derive(Default)]
    struct Instant<'a> {
        finished: Vec<u64>,
        expired: Vec<u64>,
        arrived: Vec<u64>,
        preempted: Vec<u64>,
        freed: Vec<(u32, u32)>,
        decisions: Vec<&'a Decision>,
    }
    let mut at: BTreeMap<SimTime, Instant> = BTreeMap::new();
    for (&id, p) in &by_id {
        at.entry(p.arrival).or_default().arrived.push(id);
    }
    for s in slices {
        let e = at.entry(s.end).or_default();
        match s.reason {
            SliceEnd::Finished => e.finished.push(s.vm),
            SliceEnd::Quantum => e.expired.push(s.vm),
            // Blocking, pausing, stopping and host failures do not occur in textbook
            // process tables.
            SliceEnd::Preempted
            | SliceEnd::Blocked
            | SliceEnd::Paused
            | SliceEnd::Stopped
            | SliceEnd::HostFailed
            | SliceEnd::Throttled
            | SliceEnd::Migrated => e.preempted.push(s.vm),
        }
        e.freed.push((s.host, s.pcpu));
    }
    for d in decisions {
        at.entry(d.time).or_default().decisions.push(d);
    }

    let list = |ids: &[u64]| ids.iter().map(|&i| name(i)).collect::<Vec<_>>().join(", ");
    let mut out = String::new();
    for (t, inst) in &at {
        let mut parts: Vec<String> = Vec::new();
        if !inst.finished.is_empty() {
            let verb = if inst.finished.len() == 1 {
                "finishes"
            } else {
                "finish"
            };
            parts.push(format!("{} {verb}", list(&inst.finished)));
        }
        for &id in &inst.expired {
            parts.push(format!(
                "{}'s quantum expires ({} left)",
                name(id),
                short_secs(remaining(id, *t))
            ));
        }
        if !inst.arrived.is_empty() {
            let verb = if inst.arrived.len() == 1 {
                "arrives"
            } else {
                "arrive"
            };
            parts.push(format!("{} {verb}", list(&inst.arrived)));
        }
        for &id in &inst.preempted {
            parts.push(format!(
                "{} is preempted ({} left)",
                name(id),
                short_secs(remaining(id, *t))
            ));
        }
        let mut sentences: Vec<String> = Vec::new();
        if !parts.is_empty() {
            sentences.push(parts.join("; "));
        }
        for d in &inst.decisions {
            let cpu = if multi_cpu {
                format!("h{} pCPU{}: ", d.host, d.pcpu)
            } else {
                String::new()
            };
            let chosen = format!(
                "{} ({} {})",
                name(d.chosen),
                w.quantity.word(),
                value(d.chosen, *t)
            );
            if d.passed_over.is_empty() {
                sentences.push(format!("{cpu}{chosen} runs: no other process is ready"));
            } else {
                let others = d
                    .passed_over
                    .iter()
                    .map(|&o| format!("{} ({})", name(o), value(o, *t)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let tie = if value(d.passed_over[0], *t) == value(d.chosen, *t) && w.ties_by_arrival
                {
                    let (a, b) = (proc_of(d.chosen), proc_of(d.passed_over[0]));
                    match (a, b) {
                        (Some(a), Some(b)) if a.arrival < b.arrival => {
                            " (tie broken by earlier arrival)"
                        }
                        _ => " (tie broken by table order)",
                    }
                } else {
                    ""
                };
                sentences.push(format!(
                    "{cpu}{chosen} chosen over {others}: {}{tie}",
                    w.reason
                ));
            }
        }
        for &(h, p) in &inst.freed {
            let taken = inst.decisions.iter().any(|d| d.host == h && d.pcpu == p);
            if !taken {
                if multi_cpu {
                    sentences.push(format!("h{h} pCPU{p} idle"));
                } else {
                    sentences.push("CPU idle".to_string());
                }
            }
        }
        if sentences.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "t={}: {}.\n",
            short_secs(*t),
            sentences.join(". ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, arrival: u64, burst: u64, priority: i32) -> TraceProcess {
        TraceProcess {
            name: name.into(),
            arrival: SimTime::from_secs(arrival),
            burst: SimTime::from_secs(burst),
            priority,
        }
    }

    fn slice(vm: u64, start: u64, end: u64, reason: SliceEnd) -> SliceRecord {
        SliceRecord {
            host: 0,
            pcpu: 0,
            vm,
            vcpu: 0,
            dispatch: SimTime::from_secs(start),
            start: SimTime::from_secs(start),
            end: SimTime::from_secs(end),
            reason,
        }
    }

    fn decision(t: u64, chosen: u64, passed: &[u64]) -> Decision {
        Decision {
            time: SimTime::from_secs(t),
            host: 0,
            pcpu: 0,
            chosen,
            vcpu: 0,
            passed_over: passed.to_vec(),
            preempted: None,
        }
    }

    #[test]
    fn srtf_by_hand() {
        // The SRTF textbook case: P1 0–1, P2 1–5, P4 5–10, P1 10–17, P3 17–26.
        let table = [
            p("P1", 0, 8, 0),
            p("P2", 1, 4, 0),
            p("P3", 2, 9, 0),
            p("P4", 3, 5, 0),
        ];
        let slices = [
            slice(0, 0, 1, SliceEnd::Preempted),
            slice(1, 1, 5, SliceEnd::Finished),
            slice(3, 5, 10, SliceEnd::Finished),
            slice(0, 10, 17, SliceEnd::Finished),
            slice(2, 17, 26, SliceEnd::Finished),
        ];
        let decisions = [
            decision(0, 0, &[]),
            decision(1, 1, &[0]),
            decision(5, 3, &[0, 2]),
            decision(10, 0, &[2]),
            decision(17, 2, &[]),
        ];
        // At t=1 P1 has run 1 of 8: 7 left. At t=5: P4 5, P1 7, P3 9.
        let expected = "\
t=0: P1 arrives. P1 (remaining 8) runs: no other process is ready.
t=1: P2 arrives; P1 is preempted (7 left). P2 (remaining 4) chosen over P1 (7): shortest remaining time.
t=2: P3 arrives.
t=3: P4 arrives.
t=5: P2 finishes. P4 (remaining 5) chosen over P1 (7), P3 (9): shortest remaining time.
t=10: P4 finishes. P1 (remaining 7) chosen over P3 (9): shortest remaining time.
t=17: P1 finishes. P3 (remaining 9) runs: no other process is ready.
t=26: P3 finishes. CPU idle.
";
        assert_eq!(trace_text("srtf", &table, &slices, &decisions), expected);
    }

    #[test]
    fn fcfs_ties_and_rr_quanta() {
        let table = [p("A", 0, 2, 0), p("B", 0, 1, 0)];
        let slices = [
            slice(0, 0, 2, SliceEnd::Finished),
            slice(1, 2, 3, SliceEnd::Finished),
        ];
        let decisions = [decision(0, 0, &[1]), decision(2, 1, &[])];
        let text = trace_text("fcfs", &table, &slices, &decisions);
        assert!(
            text.starts_with(
                "t=0: A, B arrive. A (arrived 0) chosen over B (0): first come, first served \
                 (tie broken by table order).\n"
            ),
            "{text}"
        );
        // Round robin, quantum 1: A 0–1 (expires, 1 left), B 1–2, A 2–3.
        let slices = [
            slice(0, 0, 1, SliceEnd::Quantum),
            slice(1, 1, 2, SliceEnd::Finished),
            slice(0, 2, 3, SliceEnd::Finished),
        ];
        let decisions = [
            decision(0, 0, &[1]),
            decision(1, 1, &[0]),
            decision(2, 0, &[]),
        ];
        let text = trace_text("rr", &table, &slices, &decisions);
        assert!(
            text.contains(
                "t=1: A's quantum expires (1 left). B (remaining 1) chosen over A (1): next in \
                 the round-robin queue.\n"
            ),
            "{text}"
        );
    }
}
