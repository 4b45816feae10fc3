//! `vmsched report DIR` and the plots that `compare` and `run` draw after writing their
//! CSV files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

/// `vmsched report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results folder (written by `vmsched compare` or `vmsched run`; it has a run.toml).
    dir: PathBuf,
}

/// Draws the plots of a results folder next to its CSV files and says where they are.
/// `pcpus` (the scenario's total) scales the occupancy plot.
pub fn plots(dir: &Path, pcpus: Option<u64>) -> Result<()> {
    let files = reports::plots::plot_results_dir_with(dir, pcpus)
        .with_context(|| format!("cannot draw the plots of {}", dir.display()))?;
    if !files.is_empty() {
        let names: Vec<&str> = files.iter().map(|p| p.name.as_str()).collect();
        eprintln!("plots (SVG and PNG): {}", names.join(", "));
    }
    Ok(())
}

pub fn report(args: ReportArgs) -> Result<()> {
    let path = reports::html::write_report(&args.dir)?;
    println!("{}", path.display());
    Ok(())
}
