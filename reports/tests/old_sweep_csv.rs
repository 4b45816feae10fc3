//! `sweep.csv` files written before confidence-interval columns were named
//! `ci95_<metric>` (they were `<metric>_ci95`) are still read: the committed fixture
//! `data/sweep-ci95-suffix.csv` is such a file, from a sweep of `hosts.count=2,3` ×
//! fcfs, sjf × 2 replications of 2,000 VMs.

use std::path::Path;

use reports::plots::params::{SWEEP_CSV, plot_sweep, read_sweep};

fn fixture() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sweep-ci95-suffix.csv"
    ))
}

#[test]
fn old_names_read_as_the_new_ones() {
    let old_text = std::fs::read_to_string(fixture()).unwrap();
    let (header, body) = old_text.split_once('\n').unwrap();
    assert!(header.contains(",mean_wait_s_ci95,"), "{header}");
    // The same file with today's column names.
    let new_header: Vec<String> = header
        .split(',')
        .map(|c| match c.strip_suffix("_ci95") {
            Some(m) => format!("ci95_{m}"),
            None => c.to_string(),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let new_path = dir.path().join("new.csv");
    std::fs::write(&new_path, format!("{}\n{body}", new_header.join(","))).unwrap();

    let old = read_sweep(fixture()).unwrap();
    let new = read_sweep(&new_path).unwrap();
    assert_eq!(old, new);
    assert_eq!(old.axes, ["hosts.count"]);
    assert_eq!(old.replications, 2);
    assert_eq!(old.rows.len(), 4);
    // Row 1 (hosts.count=2, fcfs): mean wait 0.075379 ± 0.162210, read from the
    // `mean_wait_s` and `mean_wait_s_ci95` cells (the first metric drawn).
    assert_eq!(old.rows[0].params, ["2"]);
    assert_eq!(old.rows[0].policy, "fcfs");
    assert_eq!(old.rows[0].values[0], (0.075379, 0.162210));
}

#[test]
fn an_old_sweep_folder_is_still_plotted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture(), dir.path().join(SWEEP_CSV)).unwrap();
    let plots = plot_sweep(dir.path()).unwrap();
    // Mean wait, p95 wait, mean turnaround, CPU utilisation.
    assert_eq!(plots.len(), 4);
    for p in &plots {
        assert!(dir.path().join(format!("{}.svg", p.name)).exists());
    }
}
