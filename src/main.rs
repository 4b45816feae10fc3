//! `vmsched`: the command-line front end. Argument parsing, wiring, progress and exit
//! codes only; the model lives in the `sim` and `workloads` crates, the experiments in
//! `experiments`, the outputs in `reports`.
#![forbid(unsafe_code)]

#[macro_use]
mod stdout;

mod bench;
mod capacity;
mod compare;
mod exercise;
mod progress;
mod report;
mod sweep;
mod textbook;
mod trace_cmd;
mod validate_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Discrete-event simulator of virtual machines sharing physical hosts.
#[derive(Parser, Debug)]
#[command(name = "vmsched", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compare scheduling policies on a scenario (the built-in default when none is given):
    /// prints a table and writes summary.csv, vms.csv and run.toml.
    Compare(compare::CompareArgs),
    /// Run one policy (or the policies set in the scenario file) and write the results.
    Run(compare::RunArgs),
    /// List the admission and CPU policies.
    Policies,
    /// Classic textbook scheduling exercises: list them, or solve one (or your own table).
    Textbook(textbook::TextbookArgs),
    /// Print the built-in default scenario as TOML (a starting point for your own).
    Scenario,
    /// Measure the engine's speed on M/M/c (events per second, peak memory).
    Bench(bench::BenchArgs),
    /// Build a self-contained report.html (plots, tables, scenario) from a results folder.
    Report(report::ReportArgs),
    /// A fresh scheduling exercise for a student (same seed, same exercise); --answer solves it.
    Exercise(exercise::ExerciseArgs),
    /// Run a grid of scenario parameters × policies × replications in parallel (resumable,
    /// shardable) and write sweep.csv with means and 95 % confidence intervals.
    Sweep(sweep::SweepArgs),
    /// Combine the folders of a sharded sweep into one sweep.csv.
    Merge(sweep::MergeArgs),
    /// Find the smallest host count (or other integer key) that meets an SLO, per policy
    /// and load level, by bisection.
    Capacity(capacity::CapacityArgs),
    /// Real traces (SWF, Alibaba, Azure, CSV): `trace stats FILE` summarises one,
    /// `trace fit FILE --out scenario.toml` fits a synthetic model of it.
    Trace(trace_cmd::TraceArgs),
    /// Measure this host's KVM (loop rate, exit, first-touch, switch, kick, VM create/destroy,
    /// device costs) into profile.toml. Exit status 2 when KVM is not available.
    Calibrate(validate_cmd::CalibrateArgs),
    /// Replay a scenario on real KVM vCPUs and compare with the simulator: validation.csv and
    /// a summary. Exit status 2 when KVM is not available.
    Validate(validate_cmd::ValidateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compare(a) => compare::compare(a),
        Command::Run(a) => compare::run(a),
        Command::Policies => {
            out!("{}", policies_text());
            Ok(())
        }
        Command::Textbook(a) => textbook::textbook(a),
        Command::Scenario => {
            out!("{}", workloads::scenario::Scenario::builtin_default_toml());
            Ok(())
        }
        Command::Bench(a) => bench::bench(a),
        Command::Report(a) => report::report(a),
        Command::Exercise(a) => exercise::exercise(a),
        Command::Calibrate(a) => validate_cmd::calibrate(a),
        Command::Validate(a) => validate_cmd::validate(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Merge(a) => sweep::merge(a),
        Command::Capacity(a) => capacity::capacity(a),
        Command::Trace(a) => trace_cmd::trace(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn policies_text() -> String {
    use std::fmt::Write;
    let mut s = String::from("Admission policies (order of the VM queue):\n");
    for e in sim::policy::ADMISSION_POLICIES {
        let _ = writeln!(s, "  {:<22}{}", e.name, e.description);
    }
    s.push_str("\nCPU policies (order of each host's vCPU run queue):\n");
    for e in sim::policy::CPU_POLICIES {
        let _ = writeln!(s, "  {:<22}{}", e.name, e.description);
    }
    s.push_str(
        "\nOn the command line one name sets both levels; the admission level takes the\n\
         non-preemptive counterpart (srtf → sjf/srtf, priority-preemptive →\n\
         priority/priority-preemptive, rr → fcfs/rr). ADMISSION/CPU sets them separately.\n",
    );
    s
}

/// The folder results go to when `--out` is not given.
pub(crate) fn default_out() -> PathBuf {
    PathBuf::from("results")
}
