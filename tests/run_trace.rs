//! `vmsched run SCENARIO --trace`: every scheduling decision in plain words.

use std::path::Path;
use std::process::{Command, Output};

/// A tiny scenario: 3 VMs arriving at t = 1, 2, 3 s, each needing 4 s of CPU, on one
/// pCPU that admits them all at once, scheduled by SJF.
const TINY: &str = r#"[run]
vms = 3
[[hosts]]
pcpus = 1
memory_gib = 8
overcommit = "unlimited"
[cpu]
policy = "sjf"
[workload]
arrival = { process = "deterministic", interval_s = 1.0 }
service = { dist = "deterministic", mean_s = 4.0 }
"#;

/// Writes the tiny scenario in `dir` and runs `vmsched run` on it with `extra` arguments.
fn run_tiny(dir: &Path, extra: &[&str]) -> Output {
    let scenario = dir.join("tiny.toml");
    std::fs::write(&scenario, TINY).expect("the scenario file can be written");
    let out = dir.join("results");
    Command::new(env!("CARGO_BIN_EXE_vmsched"))
        .arg("run")
        .arg(&scenario)
        .args(["--trace", "--no-plots", "--out"])
        .arg(&out)
        .args(extra)
        .output()
        .expect("the vmsched binary runs")
}

#[test]
fn run_trace_tells_the_sjf_schedule_by_hand() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = run_tiny(dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // By hand: VM0 arrives at 1 to an idle pCPU and runs to 5; VM1 (t=2) and VM2 (t=3)
    // wait. At 5 both have burst 4: the earlier arrival, VM1, runs to 9; then VM2 to 13.
    let expected = "\
t=1: VM0 arrives. VM0 (burst 4) runs: no other process is ready.
t=2: VM1 arrives.
t=3: VM2 arrives.
t=5: VM0 finishes. VM1 (burst 4) chosen over VM2 (4): shortest next burst (tie broken by earlier arrival).
t=9: VM1 finishes. VM2 (burst 4) runs: no other process is ready.
t=13: VM2 finishes. CPU idle.

";
    assert!(stdout.starts_with(expected), "{stdout}");
    // The usual table follows, for the single policy and one replication.
    let table = &stdout[expected.len()..];
    assert!(table.contains("fcfs/sjf    3"), "{stdout}");
    assert!(stdout.contains("mean wait"), "{stdout}");
    // Only replication 0 ran, even when more are asked for.
    let out = run_tiny(dir.path(), &["--replications", "3"]);
    assert!(out.status.success());
    let again = String::from_utf8_lossy(&out.stdout);
    assert!(again.starts_with(expected), "{again}");
    let vms = std::fs::read_to_string(dir.path().join("results").join("vms.csv"))
        .expect("vms.csv is written");
    assert_eq!(vms.lines().count(), 1 + 3, "{vms}");
}

#[test]
fn run_trace_refuses_more_than_200_vms() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = run_tiny(dir.path(), &["--vms", "201"]);
    assert!(!out.status.success(), "--trace on 201 VMs should fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("more than 200 VMs"), "{stderr}");
    assert!(stderr.contains("--vms"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing is printed on refusal");
    // 200 is still fine.
    let out = run_tiny(dir.path(), &["--vms", "200"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
