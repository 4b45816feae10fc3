//! `vmsched textbook`: the classic process-scheduling exercises, solved exactly.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use sim::observer::Collect;
use sim::{Demote, MlfqSpec, SimConfig, SimTime};
use workloads::textbook::{self, CASES, Process};

/// `vmsched textbook`.
#[derive(Args, Debug)]
pub struct TextbookArgs {
    /// A case name (see `vmsched textbook`) or a CSV file with columns
    /// `name,arrival,burst,priority` (and optionally `weight`, for `fair` and `stride`). Without it,
    /// lists the cases.
    case: Option<String>,
    /// CPU policy (default: the case's own; `fcfs` for a file).
    #[arg(long)]
    policy: Option<String>,
    /// Quantum for `rr`, `stride` and the top level of `mlfq`, the slice of `fair`, in time
    /// units (default: the case's, else 4).
    #[arg(long)]
    quantum: Option<f64>,
    /// `mlfq`: level i has the quantum Q × G^i (1 equal quanta, 2 doubling; default: the
    /// case's, else 1).
    #[arg(long, value_name = "G")]
    quantum_growth: Option<f64>,
    /// `mlfq`: number of levels (default: the case's, else 3).
    #[arg(long, value_name = "L")]
    levels: Option<u32>,
    /// `mlfq`: demote for a used-up quantum only when another process waits (`contended`,
    /// the textbooks' feedback) or `always` (OSTEP's allotment rule).
    #[arg(long, value_name = "RULE")]
    demote: Option<String>,
    /// `mlfq`: every this-many time units every process goes back to the top level.
    #[arg(long, value_name = "S")]
    boost: Option<f64>,
    /// Context-switch cost, in time units (default 0).
    #[arg(long, default_value_t = 0.0)]
    context_switch: f64,
    /// Output: the Gantt chart and table, or the per-process result as CSV.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print every scheduling decision in plain words (time, events, ready processes,
    /// the choice and the reason) before the chart.
    #[arg(long)]
    trace: bool,
    /// Also draw the Gantt chart as a picture for slides: SVG, or PNG if FILE ends in .png.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Csv,
}

pub fn textbook(args: TextbookArgs) -> Result<()> {
    let Some(name) = args.case.as_deref() else {
        outln!("Textbook cases (vmsched textbook CASE [--policy P] [--quantum Q]):");
        for c in CASES {
            outln!(
                "  {:<16}{} [{}; average wait {}]",
                c.name,
                c.description,
                c.policy,
                trim(c.avg_wait)
            );
        }
        outln!("\nOr give your own CSV table: name,arrival,burst,priority");
        return Ok(());
    };
    let (table, default_policy, default_quantum, case_mlfq) = match textbook::case(name) {
        Ok(c) => (c.processes(), c.policy.to_string(), c.quantum, c.mlfq()),
        Err(case_error) => {
            let path = Path::new(name);
            if !path.exists() {
                bail!("{case_error} (and no file called {name} exists)");
            }
            (
                textbook::load_table(path)?,
                "fcfs".to_string(),
                None,
                MlfqSpec::default(),
            )
        }
    };
    if table.is_empty() {
        bail!("{name}: the process table is empty");
    }
    let policy = args.policy.unwrap_or(default_policy);
    let quantum = match args.quantum {
        Some(q) => units(q, "--quantum")?,
        None => default_quantum.unwrap_or(SimTime::from_secs(4)),
    };
    textbook::check_weights(&table, &policy, name)?;
    textbook::check_slices(&table, &policy, quantum).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let mut config = SimConfig::textbook(&policy, quantum);
    config.cpu.context_switch = units(args.context_switch, "--context-switch")?;
    config.cpu.mlfq = mlfq_options(
        &policy,
        case_mlfq,
        args.quantum_growth,
        args.levels,
        args.demote.as_deref(),
        args.boost,
    )?;
    let mut collected = Collect {
        keep_decisions: args.trace,
        ..Collect::default()
    };
    sim::simulate(&config, Process::to_vm_requests(&table), &mut collected)?;
    let names = |id: u64| {
        table
            .get(id as usize)
            .map_or_else(|| format!("VM{id}"), |p| p.name.clone())
    };
    let mut records = collected.vms;
    records.sort_by_key(|r| r.id);
    let title = format!("{name} under {policy}");
    if let Some(path) = &args.svg {
        write_picture(path, &title, &collected.slices, &names)?;
    }
    if args.trace {
        out!(
            "{}",
            trace(&policy, &table, &collected.slices, &collected.decisions)
        );
        outln!();
    }
    match args.format {
        Format::Csv => out!("{}", reports::process_csv(&records, &names)),
        Format::Text => {
            let q = if policy == sim::policy::cpu::mlfq::ENTRY.name {
                let m = &config.cpu.mlfq;
                format!(
                    ", quantum {quantum} × {}^level, {} levels, demote {}",
                    m.quantum_growth,
                    m.levels,
                    m.demote.name()
                )
            } else if sim::policy::cpu_policy(&policy)?.time_sliced() {
                format!(", quantum {quantum}")
            } else {
                String::new()
            };
            outln!("{name} under {policy}{q}\n");
            outln!("{}", reports::ascii_gantt(&collected.slices, &names));
            out!("{}", reports::process_table(&records, &names));
        }
    }
    Ok(())
}

/// The `mlfq` options: the case's, changed by the flags given. The flags are refused with
/// another policy (they would change nothing).
fn mlfq_options(
    policy: &str,
    mut spec: MlfqSpec,
    growth: Option<f64>,
    levels: Option<u32>,
    demote: Option<&str>,
    boost: Option<f64>,
) -> Result<MlfqSpec> {
    let given = [
        ("--quantum-growth", growth.is_some()),
        ("--levels", levels.is_some()),
        ("--demote", demote.is_some()),
        ("--boost", boost.is_some()),
    ];
    if policy != sim::policy::cpu::mlfq::ENTRY.name
        && let Some((flag, _)) = given.iter().find(|(_, set)| *set)
    {
        bail!("{flag} applies to --policy mlfq only, not `{policy}`");
    }
    if let Some(g) = growth {
        if !(g.is_finite() && g >= 1.0) {
            bail!("--quantum-growth must be a number ≥ 1 (1 equal quanta, 2 doubling), got {g}");
        }
        spec.quantum_growth = g;
    }
    if let Some(l) = levels {
        if !(1..=MlfqSpec::MAX_LEVELS).contains(&l) {
            bail!("--levels must be 1 ..= {}, got {l}", MlfqSpec::MAX_LEVELS);
        }
        spec.levels = l;
    }
    if let Some(d) = demote {
        spec.demote = Demote::from_name(d).with_context(|| {
            format!("--demote must be \"contended\" or \"always\", got \"{d}\"")
        })?;
    }
    if let Some(b) = boost {
        if !(b.is_finite() && b > 0.0) {
            bail!("--boost must be a number > 0, got {b}");
        }
        spec.boost = Some(units(b, "--boost")?);
    }
    Ok(spec)
}

/// The plain-words trace of a textbook run.
pub(crate) fn trace(
    policy: &str,
    table: &[Process],
    slices: &[sim::SliceRecord],
    decisions: &[sim::observer::Decision],
) -> String {
    let t = experiments::exercise::trace_processes(table);
    reports::trace::trace_text(policy, &t, slices, decisions)
}

/// Writes the Gantt chart of `slices` to `path`: PNG if it ends in `.png`, else SVG.
pub(crate) fn write_picture(
    path: &Path,
    title: &str,
    slices: &[sim::SliceRecord],
    names: &dyn Fn(u64) -> String,
) -> Result<()> {
    reports::plots::write_gantt_picture(path, title, slices, names)
        .with_context(|| format!("cannot write the Gantt chart to {}", path.display()))?;
    eprintln!("Gantt chart written to {}", path.display());
    Ok(())
}

fn units(x: f64, flag: &str) -> Result<SimTime> {
    match SimTime::from_secs_f64(x) {
        Some(t) => Ok(t),
        None => bail!("{flag} must be a finite number ≥ 0, got {x}"),
    }
}

fn trim(x: f64) -> String {
    reports::numbers::decimals_trimmed(x, 4)
}
