//! `vmsched exercise`: flags, the exercise ([`experiments::exercise`]), the picture.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use experiments::exercise::{check, exercise_text, generate_for, process_name, solve};

/// `vmsched exercise`.
#[derive(Args, Debug)]
pub struct ExerciseArgs {
    /// CPU policy: any of `vmsched policies` (fcfs, sjf, srtf, priority, rr, hrrn, mlfq,
    /// stride, lottery, fair, credit, …); the weighted ones get a weight column.
    #[arg(long)]
    policy: String,
    /// Number of processes (1 to 26).
    #[arg(long, default_value_t = 5)]
    processes: usize,
    /// Seed: the same seed gives the same exercise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Quantum of the time-sliced policies (rr, mlfq's top level, the slice of stride,
    /// lottery, fair and credit), in time units.
    #[arg(long, default_value_t = 2)]
    quantum: u64,
    /// Print the answer: the schedule in words, the Gantt chart and the waiting times.
    #[arg(long)]
    answer: bool,
    /// With --answer: also draw the Gantt chart (SVG, or PNG if FILE ends in .png).
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

pub fn exercise(a: ExerciseArgs) -> Result<()> {
    check(&a.policy, a.processes, a.quantum)?;
    if a.svg.is_some() && !a.answer {
        bail!("--svg draws the answer's Gantt chart: give --answer too");
    }
    sim::policy::cpu_policy(&a.policy)?;
    let sol = if a.answer {
        Some(solve(
            &a.policy,
            a.quantum,
            &generate_for(&a.policy, a.processes, a.seed),
        )?)
    } else {
        None
    };
    out!(
        "{}",
        exercise_text(&a.policy, a.processes, a.seed, a.quantum, sol.as_ref())?
    );
    if let (Some(path), Some(sol)) = (&a.svg, &sol) {
        let table = generate_for(&a.policy, a.processes, a.seed);
        let names = |id: u64| process_name(&table, id);
        reports::plots::write_gantt_picture(
            path,
            &format!("exercise {} under {}", a.seed, a.policy),
            &sol.slices,
            &names,
        )
        .with_context(|| format!("cannot write the Gantt chart to {}", path.display()))?;
    }
    Ok(())
}
