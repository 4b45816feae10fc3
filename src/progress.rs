//! The progress bar of long commands: an [`experiments::Progress`] drawn with indicatif
//! on the terminal (nothing when stderr is not one).

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar of simulation runs.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar drawn with the indicatif `template`.
    pub fn new(template: &str) -> Bar {
        Bar(ProgressBar::new(0).with_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        ))
    }
}

impl experiments::Progress for Bar {
    fn start(&self, runs: u64) {
        self.0.set_length(runs);
    }
    fn run_done(&self) {
        self.0.inc(1);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
    fn warn(&self, message: &str) {
        self.0.suspend(|| eprintln!("warning: {message}"));
    }
}

/// What `run.toml` records about this program and the command line that ran it.
pub fn provenance() -> experiments::Provenance {
    experiments::Provenance {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        version: env!("CARGO_PKG_VERSION").to_string(),
        git_revision: option_env!("VMSCHED_GIT_REVISION").map(str::to_string),
    }
}

/// Prints the names of the plots drawn, if any.
pub fn say_plots(names: &[String]) {
    if !names.is_empty() {
        eprintln!("plots (SVG and PNG): {}", names.join(", "));
    }
}
