//! Absurd inputs give a clear error at once, never a run of hours or an out-of-memory kill
//! (the limits are in `workloads::limits` and the README's "Limits"; docs/hardening.md
//! has the full table). Each case runs the binary with a deadline: a limit that stops
//! working shows up as a killed run, not as a test that hangs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `vmsched ARGS` in `dir`, asserts it fails (status 1) within 60 s, and returns its
/// standard error.
fn fails_fast(dir: &Path, args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmsched"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the vmsched binary runs");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for vmsched") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("vmsched {args:?} still running after 60 s: the limit did not apply");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("vmsched's output");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(status.code(), Some(1), "vmsched {args:?}: {err}");
    err
}

const BASE: &str = "[run]
seed = 1
vms = 200
replications = 1

[[hosts]]
count = 1
pcpus = 4
memory_gib = 64

[cpu]
policy = \"fcfs\"
quantum_ms = 100

[workload]
arrival = { process = \"poisson\", rate_per_s = 2.0 }
service = { dist = \"exponential\", mean_s = 1.0 }
vcpus = 1
memory_gib = 1
";

/// Writes `BASE` with `from` replaced by `to` as `name` in `dir`.
fn variant(dir: &Path, name: &str, from: &str, to: &str) {
    assert!(BASE.contains(from), "{from}");
    std::fs::write(dir.join(name), BASE.replace(from, to)).unwrap();
}

#[test]
fn absurd_scenarios_are_refused_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 10^12 VMs: an arrival and two vCPU events each → 3·10^12 events > 10^10.
    variant(d, "vms.toml", "vms = 200", "vms = 1000000000000");
    assert!(
        fails_fast(d, &["run", "vms.toml", "--out", "o"]).contains(
            "vms.toml:3: run.vms: this run would take about 3.0e12 events per replication"
        )
    );
    // The same through the command line (no file line to name).
    assert!(
        fails_fast(
            d,
            &["run", "vms.toml", "--vms", "1000000000000", "--out", "o"]
        )
        .contains("run.vms: this run would take about 3.0e12 events")
    );
    // Round robin with a 1 ns quantum on 10^6 s of work: 2 VMs × 10^15 expiries.
    let rr = BASE
        .replace("policy = \"fcfs\"", "policy = \"rr\"")
        .replace("quantum_ms = 100", "quantum_ms = 0.000001")
        .replace("vms = 200", "vms = 2")
        .replace("mean_s = 1.0", "mean_s = 1e6");
    std::fs::write(d.join("rr.toml"), rr).unwrap();
    assert!(
        fails_fast(d, &["run", "rr.toml", "--out", "o"])
            .contains("rr.toml:13: cpu.quantum_ms: this run would take about 2.0e15 events")
    );
    variant(
        d,
        "reps.toml",
        "replications = 1",
        "replications = 1000000000",
    );
    assert!(
        fails_fast(d, &["run", "reps.toml", "--out", "o"])
            .contains("reps.toml:4: run.replications: at most 10000 are supported")
    );
    variant(d, "pcpus.toml", "pcpus = 4", "pcpus = 4000000000");
    assert!(
        fails_fast(d, &["run", "pcpus.toml", "--out", "o"])
            .contains("4000000000 pCPUs over all hosts; at most 10000000 are supported")
    );
    variant(d, "far.toml", "mean_s = 1.0", "mean_s = 1e15");
    assert!(
        fails_fast(d, &["run", "far.toml", "--out", "o"]).contains(
            "far.toml:17: workload.service.mean_s: 1e15 s is beyond the 5e9 s (158 years)"
        )
    );
    // TOML allows nan and inf; both are refused where they stand.
    variant(d, "nan.toml", "rate_per_s = 2.0", "rate_per_s = nan");
    assert!(
        fails_fast(d, &["run", "nan.toml", "--out", "o"])
            .contains("nan.toml:16: workload.arrival.rate_per_s: must be > 0, got NaN")
    );
    variant(d, "inf.toml", "quantum_ms = 100", "quantum_ms = inf");
    assert!(
        fails_fast(d, &["run", "inf.toml", "--out", "o"])
            .contains("inf.toml:13: cpu.quantum_ms: must be finite, got inf")
    );
    // A file beyond 4 MiB is not read at all (a 10^6-entry list would take ~0.9 GB).
    let mut big = BASE.to_string();
    big.push_str(&format!("# {}\n", "x".repeat(5 << 20)));
    std::fs::write(d.join("big.toml"), big).unwrap();
    assert!(
        fails_fast(d, &["run", "big.toml", "--out", "o"])
            .contains("big.toml: larger than 4 MiB: not read")
    );
    assert!(!d.join("o").join("run.toml").exists());
}

#[test]
fn traces_refuse_far_times_and_quote_long_cells_briefly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A Unix timestamp (1.7e9 s) is fine; 10^15 s is not.
    std::fs::write(
        d.join("far.csv"),
        "arrival_s,runtime_s\n1700000000,10\n1e15,10\n",
    )
    .unwrap();
    assert!(
        fails_fast(d, &["trace", "stats", "far.csv", "--format", "csv"])
            .contains("far.csv:3: arrival: 1e15 s is beyond the 5e9 s (158 years)")
    );
    // A runtime that overflows the engine's clock (u64 ns: 1.8e10 s) once scaled.
    std::fs::write(d.join("scaled.csv"), "arrival_s,runtime_s\n0,6e6\n").unwrap();
    assert!(
        fails_fast(
            d,
            &[
                "trace",
                "stats",
                "scaled.csv",
                "--format",
                "csv",
                "--time-scale",
                "1000"
            ]
        )
        .contains("scaled.csv:2: runtime: 6e9 s is beyond")
    );
    // A 10 MB cell: the message quotes 200 bytes of it, not 10 MB.
    let long = format!(
        "arrival_s,runtime_s,tenant\n0,10,{}\n",
        "x".repeat(10 << 20)
    );
    std::fs::write(d.join("long.csv"), long).unwrap();
    let e = fails_fast(d, &["trace", "stats", "long.csv", "--format", "csv"]);
    assert!(
        e.contains("long.csv:2: tenant: not a number") && e.contains("(cut)"),
        "{e}"
    );
    assert!(e.len() < 1000, "{} bytes of message", e.len());
}

#[test]
fn textbook_tables_are_hand_sized() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("rr.csv"),
        "name,arrival,burst,priority\nP1,0,1000000,1\nP2,0,1000000,1\n",
    )
    .unwrap();
    // 2 × 10^6 s / 10^-9 s = 2·10^15 slices, each kept for the chart.
    assert!(
        fails_fast(
            d,
            &[
                "textbook",
                "rr.csv",
                "--policy",
                "rr",
                "--quantum",
                "0.000000001"
            ]
        )
        .contains("--quantum: 0.000000001 s makes about 2.0e15 slices; at most 1e6")
    );
    let mut rows = String::from("name,arrival,burst\n");
    for i in 0..10_001 {
        rows.push_str(&format!("P{i},0,1\n"));
    }
    std::fs::write(d.join("many.csv"), rows).unwrap();
    // Row 10 001 is on line 10 002 (after the header).
    assert!(
        fails_fast(d, &["textbook", "many.csv"])
            .contains("many.csv:10002: more than 10000 processes")
    );
    std::fs::write(d.join("far.csv"), "name,arrival,burst\nP1,1e15,3\n").unwrap();
    assert!(
        fails_fast(d, &["textbook", "far.csv"])
            .contains("far.csv:2: arrival: too large (at most 5e9), got `1e15`")
    );
}

#[test]
fn command_line_limits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("s.toml"), BASE).unwrap();
    assert!(
        fails_fast(d, &["run", "s.toml", "--threads", "100000", "--out", "o"])
            .contains("--threads must be between 1 and 1024, got 100000")
    );
    assert!(
        fails_fast(d, &["run", "s.toml", "--threads", "0", "--out", "o"])
            .contains("--threads must be between 1 and 1024, got 0")
    );
    // 400 × 400 cells is over the 10^5 cells a sweep builds up front.
    let values = (1..=400)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let e = fails_fast(
        d,
        &[
            "sweep",
            "s.toml",
            "--set",
            &format!("hosts.pcpus={values}"),
            "--set",
            &format!("run.seed={values}"),
            "--out",
            "sw",
        ],
    );
    assert!(
        e.contains("the grid has 160000 cells and 160000 runs; at most 100000 cells"),
        "{e}"
    );
    assert!(
        fails_fast(
            d,
            &[
                "capacity",
                "s.toml",
                "--slo",
                "p95_wait_s<=30",
                "--max",
                "4",
                "--replications",
                "3000",
                "--out",
                "c"
            ]
        )
        .contains("at most 10000 replications are supported, got 12000")
    );
    // 4 × 2^63 would wrap around; it saturates and is refused.
    assert!(
        fails_fast(
            d,
            &[
                "capacity",
                "s.toml",
                "--slo",
                "p95_wait_s<=30",
                "--max",
                "4",
                "--replications",
                "9223372036854775807",
                "--out",
                "c"
            ]
        )
        .contains("at most 10000 replications are supported, got 18446744073709551615")
    );
    std::fs::write(d.join("t.csv"), "arrival_s,runtime_s\n0,1\n1,2\n2,3\n3,4\n").unwrap();
    assert!(
        fails_fast(
            d,
            &[
                "trace",
                "fit",
                "t.csv",
                "--format",
                "csv",
                "--points",
                "1000000000",
                "--out",
                "f.toml"
            ]
        )
        .contains("--points must be between 2 and 100000, got 1000000000")
    );
    assert!(
        fails_fast(d, &["bench", "--vms", "1000000000000"])
            .contains("run.vms: this run would take about 3.0e12 events")
    );
}
