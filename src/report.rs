//! `vmsched report DIR`: the self-contained report.html of a results folder.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

/// `vmsched report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A results folder (written by `vmsched compare` or `vmsched run`; it has a run.toml).
    dir: PathBuf,
}

pub fn report(args: ReportArgs) -> Result<()> {
    let path = reports::html::write_report(&args.dir)?;
    outln!("{}", path.display());
    Ok(())
}
