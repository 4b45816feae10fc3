//! Scheduling exercises for students: a process table generated from a seed (same seed,
//! same exercise), and its answer computed by the simulator.
//!
//! The table: `N` processes `P1…PN` in arrival order; P1 arrives at 0, the others at whole
//! times drawn uniformly from 0 to 2N; bursts from 1 to 10; priorities from 1 to 5 (lower =
//! more urgent). The draws come from the named random stream `exercise` of the seed
//! (`sim::rng::stream(seed, 0, "exercise")`), so they never change with the version of
//! the other generators.

use rand::Rng;
use sim::observer::{Collect, Decision};
use sim::{SimConfig, SimTime, SliceRecord, VmRecord};
use workloads::textbook::Process;

use crate::error::{Result, bail};

/// Largest number of processes in an exercise.
pub const MAX_PROCESSES: usize = 26;

/// The exercise's process table for `processes` processes and `seed` (see the module
/// documentation).
pub fn generate(processes: usize, seed: u64) -> Vec<Process> {
    let mut rng = sim::rng::stream(seed, 0, "exercise");
    let n = processes as u64;
    let mut rows: Vec<(u64, u64, i32)> = (0..processes)
        .map(|i| {
            let arrival = if i == 0 {
                0
            } else {
                rng.random_range(0..=2 * n)
            };
            let burst = rng.random_range(1..=10u64);
            let priority = rng.random_range(1..=5i32);
            (arrival, burst, priority)
        })
        .collect();
    // Stable: processes arriving together keep the order they were drawn in.
    rows.sort_by_key(|r| r.0);
    rows.into_iter()
        .enumerate()
        .map(|(i, (arrival, burst, priority))| Process {
            name: format!("P{}", i + 1),
            arrival: SimTime::from_secs(arrival),
            burst: SimTime::from_secs(burst),
            priority,
            weight: None,
        })
        .collect()
}

/// The exercise's process table for CPU policy `policy`: [`generate`]'s, with a `weight`
/// column when `policy` shares the CPU by weight (see the module documentation).
pub fn generate_for(policy: &str, processes: usize, seed: u64) -> Vec<Process> {
    let mut table = generate(processes, seed);
    if uses_weight(policy) {
        let mut rng = sim::rng::stream(seed, 0, "exercise-weight");
        for p in &mut table {
            p.weight = Some(rng.random_range(1..=3u32));
        }
    }
    table
}

/// Whether `policy`'s order depends on the processes' weights (from its registry entry).
fn uses_weight(policy: &str) -> bool {
    sim::policy::cpu_policy(policy).is_ok_and(|p| p.uses_weight())
}

/// The simulator's answer to an exercise.
#[derive(Clone, Debug)]
pub struct Solution {
    /// One record per process, in table order (VM id = row).
    pub records: Vec<VmRecord>,
    /// The CPU slices.
    pub slices: Vec<SliceRecord>,
    /// The dispatch decisions.
    pub decisions: Vec<Decision>,
}

/// Runs `table` under CPU policy `policy` in the textbook setting (one CPU, no context
/// switch cost) with `quantum` time units for `rr`.
pub fn solve(policy: &str, quantum: u64, table: &[Process]) -> Result<Solution> {
    sim::policy::cpu_policy(policy)?;
    let config = SimConfig::textbook(policy, SimTime::from_secs(quantum));
    let mut c = Collect {
        keep_decisions: true,
        ..Collect::default()
    };
    sim::simulate(&config, Process::to_vm_requests(table), &mut c)?;
    let mut records = c.vms;
    records.sort_by_key(|r| r.id);
    Ok(Solution {
        records,
        slices: c.slices,
        decisions: c.decisions,
    })
}

/// The policy's name in a sentence, from its registry entry.
fn describe(policy: &str) -> &'static str {
    sim::policy::find_cpu(policy)
        .map_or(sim::policy::Teaching::GENERIC, |e| e.teaching)
        .long_name
}

/// Whether `policy` interrupts running processes when their quantum expires (from its
/// registry entry), so that the exercise states a quantum.
fn time_sliced(policy: &str) -> bool {
    sim::policy::find_cpu(policy).is_ok_and(|e| e.time_sliced)
}

/// The exercise as text (the question, and the answer when `answer` is set).
pub fn exercise_text(
    policy: &str,
    processes: usize,
    seed: u64,
    quantum: u64,
    answer: Option<&Solution>,
) -> Result<String> {
    let table = generate_for(policy, processes, seed);
    let weighted = uses_weight(policy);
    let q = if time_sliced(policy) {
        format!(", quantum {quantum}")
    } else {
        String::new()
    };
    let mut s = format!(
        "Exercise (seed {seed}): schedule these {processes} processes on one CPU with {policy} \
         ({}{q}).\nDraw the Gantt chart and give each process's waiting time \
         (finish − arrival − burst) and the average waiting time. Ties go to the earlier \
         arrival, then the lower number.{}\n\n",
        describe(policy),
        if weighted {
            " The CPU is shared in proportion to the weights."
        } else {
            ""
        }
    );
    s.push_str("name  arrival  burst  priority");
    s.push_str(if weighted { "  weight\n" } else { "\n" });
    for p in &table {
        s.push_str(&format!(
            "{:<4}  {:>7}  {:>5}  {:>8}",
            p.name,
            p.arrival.nanos() / 1_000_000_000,
            p.burst.nanos() / 1_000_000_000,
            p.priority
        ));
        match p.weight {
            Some(w) if weighted => s.push_str(&format!("  {w:>6}\n")),
            _ => s.push('\n'),
        }
    }
    match answer {
        None => s.push_str(&format!(
            "\nAnswer: vmsched exercise --policy {policy} --processes {processes} --seed {seed}{} --answer\n",
            if time_sliced(policy) {
                format!(" --quantum {quantum}")
            } else {
                String::new()
            }
        )),
        Some(sol) => {
            let names = |id: u64| process_name(&table, id);
            let trace = trace_processes(&table);
            s.push_str("\nAnswer\n\nStep by step:\n");
            s.push_str(&reports::trace::trace_text(
                policy,
                &trace,
                &sol.slices,
                &sol.decisions,
            ));
            s.push_str("\nGantt chart:\n");
            s.push_str(&reports::ascii_gantt(&sol.slices, &names));
            s.push('\n');
            s.push_str(&reports::process_table(&sol.records, &names));
        }
    }
    Ok(s)
}

/// Checks the sizes of an exercise: 1 to [`MAX_PROCESSES`] processes, and a quantum of at
/// least 1 for a time-sliced policy (the policy name itself is checked by [`solve`], or by
/// `sim::policy::cpu_policy`).
pub fn check(policy: &str, processes: usize, quantum: u64) -> Result<()> {
    if processes == 0 || processes > MAX_PROCESSES {
        bail!("--processes must be between 1 and {MAX_PROCESSES}, got {processes}");
    }
    if time_sliced(policy) && quantum == 0 {
        bail!("--quantum must be at least 1");
    }
    Ok(())
}

/// The name of process `id` (a VM id is its row in `table`): `P3`, or `VM<id>` beyond
/// the table.
pub fn process_name(table: &[Process], id: u64) -> String {
    table
        .get(id as usize)
        .map_or_else(|| format!("VM{id}"), |p| p.name.clone())
}

/// The processes of a textbook table, as the step-by-step trace names and describes them.
pub fn trace_processes(table: &[Process]) -> Vec<reports::trace::TraceProcess> {
    table
        .iter()
        .map(|p| reports::trace::TraceProcess {
            name: p.name.clone(),
            arrival: p.arrival,
            burst: p.burst,
            priority: p.priority,
        })
        .collect()
}
