//! Integration tests of `vmsched sweep`, `vmsched merge` and `vmsched capacity`: the same
//! `sweep.csv` whatever the threads, the shards or the interruptions, and a capacity answer
//! that meets the SLO while one host fewer does not.

mod common;

use common::{fails, ok, read, vmsched};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Two small hosts, Poisson arrivals, mixed VM sizes: a run takes milliseconds.
const SMALL: &str = r#"
[run]
seed = 11
vms = 1500
replications = 3

[[hosts]]
count = 2
pcpus = 4
memory_gib = 64

[workload]
arrival = { process = "poisson", rate_per_s = 1.0 }
service = { dist = "exponential", mean_s = 5.0 }
vcpus = { values = [1, 2], weights = [0.5, 0.5] }
"#;

fn scenario(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// The grid of the determinism tests: 3 × 2 cells × 2 policies × 3 replications = 36 runs.
fn grid_args<'a>(scenario: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "sweep",
        scenario,
        "--set",
        "hosts.count=1,2,3",
        "--set",
        "workload.arrival.rate_per_s=0.5,1.0",
        "--policies",
        "fcfs,sjf",
        "--out",
        out,
    ]
}

#[test]
fn sweep_csv_is_the_same_for_1_or_2_threads_and_4_merged_shards() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path(), SMALL);
    let one = dir.path().join("one");
    let two = dir.path().join("two");
    let mut a = grid_args(s(&sc), s(&one));
    a.extend(["--threads", "1"]);
    let table = ok(&a);
    let mut b = grid_args(s(&sc), s(&two));
    b.extend(["--threads", "2"]);
    assert_eq!(ok(&b), table);
    let reference = read(&one.join("sweep.csv"));
    assert!(
        reference == read(&two.join("sweep.csv")),
        "1 and 2 threads differ"
    );

    // 6 cells × 2 policies, one row each, after the header.
    let text = String::from_utf8(reference.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 12);
    assert!(lines[0].starts_with(
        "hosts.count,workload.arrival.rate_per_s,policy,seed,replications,vms,ci95_vms,mean_wait_s,ci95_mean_wait_s,"
    ));
    assert!(lines[1].starts_with("1,0.5,fcfs,"), "{}", lines[1]);
    assert!(lines[12].starts_with("3,1.0,sjf,"), "{}", lines[12]);
    // Both policies of a cell share the cell's seed; cells have their own.
    let seed = |l: &str| l.split(',').nth(3).unwrap().to_string();
    assert_eq!(seed(lines[1]), seed(lines[2]));
    assert_ne!(seed(lines[1]), seed(lines[3]));
    assert_eq!(std::fs::read_dir(one.join("runs")).unwrap().count(), 36);

    // Four shards, each alone, then merged.
    let mut shard_dirs = Vec::new();
    for i in 0..4 {
        let d = dir.path().join(format!("shard-{i}"));
        let shard = format!("{i}/4");
        let mut a = grid_args(s(&sc), s(&d));
        a.extend(["--shard", &shard, "--threads", "1"]);
        ok(&a);
        assert!(!d.join("sweep.csv").exists(), "a shard writes no sweep.csv");
        // 36 runs dealt round-robin: 9 each.
        assert_eq!(std::fs::read_dir(d.join("runs")).unwrap().count(), 9);
        shard_dirs.push(d);
    }
    let merged = dir.path().join("merged");
    let mut m = vec!["merge"];
    m.extend(shard_dirs.iter().map(|d| s(d)));
    m.extend(["--out", s(&merged)]);
    ok(&m);
    assert!(
        reference == read(&merged.join("sweep.csv")),
        "merged shards differ"
    );
    assert!(merged.join("run.toml").exists());

    // Three shards of four are not the whole sweep: the error says how much is missing.
    let mut m = vec!["merge"];
    m.extend(shard_dirs[..3].iter().map(|d| s(d)));
    let partial = dir.path().join("partial");
    m.extend(["--out", s(&partial)]);
    let err = fails(&m);
    assert!(err.contains("9 of 36 runs are missing"), "{err}");
}

/// A folder written before `sweep.csv` named its confidence intervals `ci95_<metric>`
/// (it had `<metric>_ci95`) is still merged and resumed: both rebuild `sweep.csv` from the
/// run files, with today's names and the same numbers.
#[test]
fn folders_with_old_ci95_column_names_merge_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path(), SMALL);
    let fresh = dir.path().join("fresh");
    let args = |out: &Path| -> Vec<String> {
        [
            "sweep",
            s(&sc),
            "--set",
            "hosts.count=1,2",
            "--replications",
            "2",
            "--policies",
            "fcfs",
            "--threads",
            "1",
            "--out",
            s(out),
        ]
        .map(String::from)
        .to_vec()
    };
    let a = args(&fresh);
    ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let reference = String::from_utf8(read(&fresh.join("sweep.csv"))).unwrap();
    let (header, body) = reference.split_once('\n').unwrap();
    assert!(
        header.contains(",mean_wait_s,ci95_mean_wait_s,"),
        "{header}"
    );
    // The same folder as the older version wrote it.
    let old_header: Vec<String> = header
        .split(',')
        .map(|c| match c.strip_prefix("ci95_") {
            Some(m) => format!("{m}_ci95"),
            None => c.to_string(),
        })
        .collect();
    std::fs::write(
        fresh.join("sweep.csv"),
        format!("{}\n{body}", old_header.join(",")),
    )
    .unwrap();
    let merged = dir.path().join("merged");
    ok(&["merge", s(&fresh), "--out", s(&merged)]);
    assert_eq!(read(&merged.join("sweep.csv")), reference.as_bytes());
    // Resuming into the old folder: nothing to run, sweep.csv rewritten with new names.
    ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(read(&fresh.join("sweep.csv")), reference.as_bytes());
}

#[test]
fn a_killed_sweep_resumes_to_the_same_sweep_csv() {
    let dir = tempfile::tempdir().unwrap();
    // Longer runs (tens of milliseconds each) so the sweep can be caught halfway.
    let sc = scenario(dir.path(), &SMALL.replace("vms = 1500", "vms = 40000"));
    let reference = dir.path().join("reference");
    let resumed = dir.path().join("resumed");
    let args = |out: &Path| -> Vec<String> {
        [
            "sweep",
            s(&sc),
            "--set",
            "workload.arrival.rate_per_s=0.6,0.9",
            "--set",
            "cpu.policy=fcfs,sjf,rr",
            "--replications",
            "4",
            "--out",
            s(out),
        ]
        .map(String::from)
        .to_vec()
    };
    let mut full = args(&reference);
    full.extend(["--threads", "2"].map(String::from));
    ok(&full.iter().map(String::as_str).collect::<Vec<_>>());
    let total = 2 * 3 * 4;

    let runs = resumed.join("runs");
    let finished = || -> usize {
        std::fs::read_dir(&runs)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .count()
            })
            .unwrap_or(0)
    };
    let mut partial = args(&resumed);
    partial.extend(["--threads", "1"].map(String::from));
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmsched"))
        .args(&partial)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while finished() < 3 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = finished();
    assert!(
        (3..total).contains(&done),
        "the sweep was to be killed halfway, but {done} of {total} runs were done"
    );
    assert!(!resumed.join("sweep.csv").exists());
    // Every run file left behind is whole (written under a temporary name, then renamed).
    for e in std::fs::read_dir(&runs).unwrap() {
        let e = e.unwrap();
        if !e.file_name().to_string_lossy().starts_with('.') {
            let text = std::fs::read_to_string(e.path()).unwrap();
            assert!(
                text.contains("[metrics]") && text.contains("vms = "),
                "{text}"
            );
        }
    }

    let out = vmsched(&partial.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains(&format!("{done} already done, {} to run", total - done)),
        "{log}"
    );
    assert!(
        read(&reference.join("sweep.csv")) == read(&resumed.join("sweep.csv")),
        "the resumed sweep differs from the uninterrupted one"
    );
    // A third run finds everything done and rewrites the same file.
    let log = String::from_utf8_lossy(
        &vmsched(&partial.iter().map(String::as_str).collect::<Vec<_>>()).stderr,
    )
    .into_owned();
    assert!(
        log.contains(&format!("{total} already done, 0 to run")),
        "{log}"
    );
    assert!(read(&reference.join("sweep.csv")) == read(&resumed.join("sweep.csv")));
}

#[test]
fn sweep_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path(), SMALL);
    let out = dir.path().join("o");
    let e = fails(&[
        "sweep",
        s(&sc),
        "--set",
        "workload.load_scael=1,2",
        "--out",
        s(&out),
    ]);
    assert!(
        e.contains("workload.load_scael: unknown field `load_scael`"),
        "{e}"
    );
    let e = fails(&[
        "sweep",
        s(&sc),
        "--set",
        "hosts.pcpus=4,0",
        "--out",
        s(&out),
    ]);
    assert!(
        e.contains("hosts.pcpus=0") && e.contains("must be ≥ 1"),
        "{e}"
    );
    let e = fails(&[
        "sweep",
        s(&sc),
        "--set",
        "hosts.3.pcpus=4",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("index 3 is out of range"), "{e}");
    let e = fails(&["sweep", s(&sc), "--set", "hosts.count", "--out", s(&out)]);
    assert!(e.contains("expected KEY=V1,V2"), "{e}");
    let e = fails(&["sweep", s(&sc), "--shard", "4/4", "--out", s(&out)]);
    assert!(e.contains("--shard 4/4"), "{e}");
    let e = fails(&["sweep", s(&sc), "--policies", "ouija", "--out", s(&out)]);
    assert!(e.contains("ouija"), "{e}");

    // A folder holds one sweep: a different one is refused, not mixed in.
    ok(&[
        "sweep",
        s(&sc),
        "--set",
        "hosts.count=1,2",
        "--vms",
        "300",
        "--out",
        s(&out),
    ]);
    let e = fails(&[
        "sweep",
        s(&sc),
        "--set",
        "hosts.count=1,3",
        "--vms",
        "300",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("holds another sweep"), "{e}");
    let other = dir.path().join("other");
    ok(&[
        "sweep",
        s(&sc),
        "--set",
        "hosts.count=1,3",
        "--vms",
        "300",
        "--out",
        s(&other),
    ]);
    let e = fails(&[
        "merge",
        s(&out),
        s(&other),
        "--out",
        s(&dir.path().join("m")),
    ]);
    assert!(e.contains("hold different sweeps"), "{e}");
    let e = fails(&[
        "merge",
        s(&dir.path().join("nothing")),
        "--out",
        s(&dir.path().join("m")),
    ]);
    assert!(e.contains("not a sweep folder"), "{e}");
}

#[test]
fn string_values_and_the_scenarios_own_policy_make_axes() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path(), SMALL);
    let out = dir.path().join("o");
    ok(&[
        "sweep",
        s(&sc),
        "--set",
        "cluster.placement=first-fit,worst-fit",
        "--set",
        "cpu.policy=fcfs,rr",
        "--vms",
        "300",
        "--out",
        s(&out),
    ]);
    let text = String::from_utf8(read(&out.join("sweep.csv"))).unwrap();
    let firsts: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect();
    // Without --policies each cell runs its own levels: cpu.policy = rr with the
    // default admission fcfs is labelled fcfs/rr.
    assert_eq!(
        firsts,
        [
            "first-fit,fcfs,fcfs",
            "first-fit,rr,fcfs/rr",
            "worst-fit,fcfs,fcfs",
            "worst-fit,rr,fcfs/rr"
        ]
    );
    // The plots: placement names as categories, one panel per cpu.policy value, one line
    // (each cell runs its own policy, so policies do not split lines).
    let svg = String::from_utf8(read(&out.join("sweep_mean_wait_s.svg"))).unwrap();
    for label in [
        "first-fit",
        "worst-fit",
        "cpu.policy = fcfs",
        "cpu.policy = rr",
        "own policy",
    ] {
        assert!(svg.contains(label), "{label} not in the plot");
    }
}

#[test]
fn sweep_draws_metric_plots_with_bands_and_report_embeds_them() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path(), SMALL);
    let out = dir.path().join("o");
    ok(&[
        "sweep",
        s(&sc),
        "--set",
        "hosts.count=1,2,3",
        "--policies",
        "fcfs,sjf",
        "--vms",
        "400",
        "--out",
        s(&out),
    ]);
    for m in [
        "mean_wait_s",
        "p95_wait_s",
        "mean_turnaround_s",
        "cpu_utilization",
    ] {
        let png = read(&out.join(format!("sweep_{m}.png")));
        assert_eq!(&png[..4], b"\x89PNG", "{m}");
        let svg = String::from_utf8(read(&out.join(format!("sweep_{m}.svg")))).unwrap();
        // Two policies, each a line and a legend entry, and (3 replications) a band.
        assert!(svg.contains("hosts.count") && svg.contains("fcfs") && svg.contains("sjf"));
        let polygons = svg.lines().filter(|l| l.starts_with("<polygon")).count();
        assert_eq!(polygons, 2, "{m}: one band per policy");
    }
    ok(&["report", s(&out)]);
    let html = String::from_utf8(read(&out.join("report.html"))).unwrap();
    assert_eq!(html.matches("<img ").count(), 4);
    assert!(html.contains("<figure id=\"sweep_mean_wait_s\">"));
    // The summary is sweep.csv's table: 3 cells × 2 policies.
    assert!(html.contains("<th>hosts.count</th><th>policy</th><th>mean wait (s)</th>"));
    assert_eq!(html.matches("<tr><td>").count(), 6);
    assert!(!html.contains("No summary.csv"));
}

/// Reads `capacity.csv` into (header, rows).
fn csv_rows(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = String::from_utf8(read(p)).unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(String::from).collect::<Vec<_>>());
    let header = lines.next().unwrap();
    (header, lines.collect())
}

#[test]
fn capacity_finds_the_fewest_hosts_that_meet_the_slo() {
    // The built-in default (one 16-pCPU host at 85 % load) with 4 times the arrivals: a
    // cluster of 16-pCPU hosts, at least 4 × 0.85 = 3.4 hosts of work.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cap");
    let table = ok(&[
        "capacity",
        "--slo",
        "p95_wait_s<=30",
        "--vary",
        "hosts.count",
        "--min",
        "1",
        "--max",
        "32",
        "--load-scale",
        "4",
        "--policies",
        "sjf",
        "--vms",
        "10000",
        "--replications",
        "5",
        "--out",
        s(&out),
    ]);
    assert!(table.contains("SLO p95_wait_s<=30"), "{table}");
    let (h, rows) = csv_rows(&out.join("capacity.csv"));
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    let num = |name: &str| -> f64 { r[col(name)].parse().unwrap() };
    let needed: u64 = r[col("needed")].parse().unwrap();
    assert!(needed >= 4, "less than the work itself: {needed}");
    assert_eq!(r[col("status")], "ok", "{r:?}");
    assert_eq!(r[col("monotone")], "yes", "{r:?}");
    // With `needed` hosts the whole 95 % interval of the p95 wait is within 30 s; with one
    // host fewer it is wholly above.
    let (at, at_ci) = (num("value_at_needed"), num("ci95_at_needed"));
    let (below, below_ci) = (num("value_below"), num("ci95_below"));
    assert!(at + at_ci <= 30.0, "{at} ± {at_ci}");
    assert!(below - below_ci > 30.0, "{below} ± {below_ci}");
    assert!(num("replications") >= 5.0);
    assert!(out.join("capacity.svg").exists() && out.join("capacity.png").exists());

    // And the same on 1 or 2 threads.
    let out1 = dir.path().join("cap1");
    let mut a: Vec<&str> = vec![
        "capacity",
        "--slo",
        "p95_wait_s<=30",
        "--max",
        "32",
        "--load-scale",
        "4",
        "--policies",
        "sjf",
        "--vms",
        "10000",
        "--replications",
        "5",
        "--no-plots",
        "--threads",
        "1",
        "--out",
    ];
    a.push(s(&out1));
    ok(&a);
    assert!(read(&out.join("capacity.csv")) == read(&out1.join("capacity.csv")));
}

#[test]
fn capacity_reports_an_slo_out_of_reach() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path(), SMALL);
    let out = dir.path().join("cap");
    // Waiting less than nothing is impossible at any host count.
    ok(&[
        "capacity",
        s(&sc),
        "--slo",
        "mean_turnaround_s<1",
        "--max",
        "4",
        "--vms",
        "300",
        "--no-plots",
        "--out",
        s(&out),
    ]);
    let (h, rows) = csv_rows(&out.join("capacity.csv"));
    let status = h.iter().position(|c| c == "status").unwrap();
    assert_eq!(rows[0][status], "not-met");
    let e = fails(&["capacity", s(&sc), "--slo", "p95_wait<=3", "--max", "4"]);
    assert!(e.contains("unknown metric `p95_wait`"), "{e}");
    let e = fails(&[
        "capacity",
        s(&sc),
        "--slo",
        "p95_wait_s<=3",
        "--min",
        "5",
        "--max",
        "4",
    ]);
    assert!(e.contains("--min 5 is larger than --max 4"), "{e}");
}
