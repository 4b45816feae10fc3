//! `vmsched trace stats` and `vmsched trace fit` on the committed excerpts, and `compare`
//! on a trace scenario.

mod common;

use common::{ok, vmsched};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn stats_of_the_gaia_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("stats.csv");
    let gaia = data("gaia-head.swf");
    let text = ok(&[
        "trace",
        "stats",
        gaia.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(text.contains("300 records read, 300 VMs"), "{text}");
    assert!(text.contains("MaxProcs: 2004"), "{text}");
    assert!(
        text.contains("arrivals by hour of day (UTC, from UnixStartTime)"),
        "{text}"
    );
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("section,name,value\n"));
    assert!(csv.contains("summary,count,300\n"), "{csv}");
    // 299 gaps over 472 876 s.
    assert!(
        csv.contains(&format!("summary,rate_per_s,{}\n", 299.0 / 472_876.0)),
        "{csv}"
    );
    // Queues 0, 1, 2: 36, 256 and 8 jobs.
    assert!(
        csv.contains("priority,0,36\npriority,1,256\npriority,2,8\n"),
        "{csv}"
    );
}

#[test]
fn stats_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.csv");
    std::fs::write(&p, "arrival_s,runtime_s\n0,1\n1,one\n").unwrap();
    let out = vmsched(&["trace", "stats", p.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv:3: runtime_s: not a number: `one`"),
        "{err}"
    );
    let text = ok(&["trace", "stats", p.to_str().unwrap(), "--lenient"]);
    assert!(text.contains("skipped 1: 1 malformed line"), "{text}");
}

#[test]
fn fit_writes_a_scenario_that_compare_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fitted.toml");
    let gaia = data("gaia-head.swf");
    let text = ok(&[
        "trace",
        "fit",
        gaia.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--replications",
        "2",
    ]);
    assert!(
        text.contains("candidates by Kolmogorov–Smirnov distance"),
        "{text}"
    );
    let toml = std::fs::read_to_string(&out).unwrap();
    assert!(toml.contains("load_scale = 1.0"), "{toml}");
    let results = dir.path().join("results");
    let table = ok(&[
        "compare",
        out.to_str().unwrap(),
        "--vms",
        "2000",
        "--no-vms",
        "--out",
        results.to_str().unwrap(),
    ]);
    assert!(table.contains("fcfs") && table.contains("sjf"), "{table}");
}

#[test]
fn compare_on_a_trace_scenario() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data("gaia-head.swf"), dir.path().join("gaia.swf")).unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "[[hosts]]\npcpus = 2004\nmemory_gib = 4096\n\
         [workload]\ntrace = { format = \"swf\", path = \"gaia.swf\" }\n",
    )
    .unwrap();
    let results = dir.path().join("results");
    let out = vmsched(&[
        "compare",
        scenario.to_str().unwrap(),
        "--out",
        results.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("  300 "), "{stdout}");
    assert!(stderr.contains("300 records read, 300 VMs"), "{stderr}");
    assert!(results.join("vms.csv").exists());
}
