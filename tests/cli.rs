//! Integration tests of the `vmsched` binary.

mod common;

use common::{fails, ok, read};

#[test]
fn compare_is_deterministic_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let common = [
        "compare",
        "--vms",
        "3000",
        "--replications",
        "3",
        "--seed",
        "7",
        "--no-plots",
    ];
    let mut args_a: Vec<&str> = common.to_vec();
    args_a.extend(["--threads", "1", "--out", a.to_str().unwrap()]);
    let mut args_b: Vec<&str> = common.to_vec();
    args_b.extend(["--threads", "2", "--out", b.to_str().unwrap()]);
    let table_a = ok(&args_a);
    let table_b = ok(&args_b);
    assert_eq!(table_a, table_b);
    for f in ["summary.csv", "vms.csv"] {
        let (x, y) = (read(&a.join(f)), read(&b.join(f)));
        assert!(!x.is_empty());
        assert!(x == y, "{f} differs between 1 and 2 threads");
    }
    // vms.csv: header + 3 policies × 3 replications × 3000 VMs.
    let rows = String::from_utf8(read(&a.join("vms.csv")))
        .unwrap()
        .lines()
        .count();
    assert_eq!(rows, 1 + 3 * 3 * 3000);
    // run.toml records the seed and the policies.
    let run = String::from_utf8(read(&a.join("run.toml"))).unwrap();
    assert!(run.contains("seed = 7"), "{run}");
    assert!(run.contains("\"sjf\""), "{run}");
}

#[test]
fn default_comparison_lists_each_policy_and_sjf_beats_fcfs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    ok(&[
        "compare",
        "--vms",
        "5000",
        "--replications",
        "2",
        "--no-plots",
        "--out",
        out.to_str().unwrap(),
    ]);
    let summary = String::from_utf8(read(&out.join("summary.csv"))).unwrap();
    let mean_wait = |policy: &str| -> f64 {
        let line = summary
            .lines()
            .find(|l| l.starts_with(&format!("{policy},mean,all,")))
            .unwrap_or_else(|| panic!("no mean row for {policy}:\n{summary}"));
        line.split(',').nth(4).unwrap().parse().unwrap()
    };
    // On the default host (lognormal service, cv 1.5, 85 % load) admitting the shortest
    // estimated job first must cut the mean wait below FCFS's.
    assert!(mean_wait("sjf") < mean_wait("fcfs"));
    assert!(summary.starts_with("policy,replication,class,vms,mean_wait_s,ci95_mean_wait_s,p50_wait_s,p95_wait_s,p99_wait_s,max_wait_s,"));
}

#[test]
fn unknown_policy_lists_the_known_ones() {
    let err = fails(&["compare", "--policies", "fcfs,fifo", "--no-plots"]);
    assert!(err.contains("fifo"), "{err}");
    assert!(
        err.contains("fcfs, sjf, srtf, priority, priority-preemptive, rr"),
        "{err}"
    );
}

#[test]
fn misspelt_key_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(
        &f,
        "[run]\nseed = 1\n\n[[hosts]]\npcpus = 4\nmemory_gib = 16\n\n[workload]\n\
         arrival = { process = \"poisson\", rate_per_s = 1.0 }\n\
         service = { dist = \"exponential\", mean_s = 1.0 }\nvcpu = 2\n",
    )
    .unwrap();
    let err = fails(&["run", f.to_str().unwrap(), "--no-plots"]);
    assert!(err.contains("bad.toml:11"), "{err}");
    assert!(err.contains("vcpu"), "{err}");

    std::fs::write(
        &f,
        "[[hosts]]\npcpus = 4\nmemory_gib = 16\n[workload]\n\
         arrival = { process = \"poisson\", rate_per_s = -2.0 }\n\
         service = { dist = \"exponential\", mean_s = 1.0 }\n",
    )
    .unwrap();
    let err = fails(&["run", f.to_str().unwrap(), "--no-plots"]);
    assert!(err.contains("bad.toml:5"), "{err}");
    assert!(err.contains("rate_per_s"), "{err}");

    let err = fails(&["run", dir.path().join("missing.toml").to_str().unwrap()]);
    assert!(err.contains("missing.toml"), "{err}");
}

#[test]
fn run_with_separate_levels_labels_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.toml");
    std::fs::write(
        &f,
        "[run]\nvms = 500\n[[hosts]]\npcpus = 2\nmemory_gib = 8\novercommit = 4.0\n\
         [admission]\npolicy = \"fcfs\"\n[cpu]\npolicy = \"srtf\"\n[workload]\n\
         arrival = { process = \"poisson\", rate_per_s = 1.5 }\n\
         service = { dist = \"exponential\", mean_s = 1.0 }\n",
    )
    .unwrap();
    let out = dir.path().join("r");
    ok(&[
        "run",
        f.to_str().unwrap(),
        "--no-plots",
        "--out",
        out.to_str().unwrap(),
    ]);
    let summary = String::from_utf8(read(&out.join("summary.csv"))).unwrap();
    assert!(
        summary
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("fcfs/srtf,0,all,500,"),
        "{summary}"
    );
}

#[test]
fn textbook_cases_print_the_textbook_average() {
    for (case, avg) in [
        ("fcfs-convoy", "17"),
        ("fcfs-reordered", "3"),
        ("sjf", "7"),
        ("priority", "8.2"),
        ("srtf", "6.5"),
        ("rr", "5.667"),
    ] {
        let out = ok(&["textbook", case]);
        let line = out
            .lines()
            .find(|l| l.starts_with("average waiting time"))
            .unwrap_or_else(|| panic!("{case}: no average line\n{out}"));
        assert!(line.ends_with(avg), "{case}: {line}");
    }
    let csv = ok(&["textbook", "rr", "--format", "csv"]);
    assert_eq!(
        csv,
        "name,arrival,burst,priority,start,finish,waiting,turnaround,response\n\
         P1,0,24,0,0,30,6,30,0\nP2,0,3,0,4,7,4,7,4\nP3,0,3,0,7,10,7,10,7\n"
    );
}

#[test]
fn teachers_table_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.csv");
    std::fs::write(
        &f,
        "name,arrival,burst,priority\nA,0,5,2\nB,1,3,1\nC,2,1,3\n",
    )
    .unwrap();
    // Non-preemptive priority: A 0–5, then B (prio 1) 5–8, C 8–9.
    // Waits: A 0, B 5−1 = 4, C 8−2 = 6 → 10/3.
    let out = ok(&[
        "textbook",
        f.to_str().unwrap(),
        "--policy",
        "priority",
        "--format",
        "csv",
    ]);
    assert!(out.contains("A,0,5,2,0,5,0,5,0"), "{out}");
    assert!(out.contains("B,1,3,1,5,8,4,7,4"), "{out}");
    assert!(out.contains("C,2,1,3,8,9,6,7,6"), "{out}");
    std::fs::write(&f, "name,arrival,burst,priority\nA,0,-5,2\n").unwrap();
    let err = fails(&["textbook", f.to_str().unwrap()]);
    assert!(err.contains("t.csv:2") && err.contains("burst"), "{err}");
}

#[test]
fn policies_lists_both_levels() {
    let out = ok(&["policies"]);
    for name in [
        "fcfs",
        "sjf",
        "srtf",
        "priority",
        "priority-preemptive",
        "rr",
        "hrrn",
        "stride",
        "fair",
        "mlfq",
        "lottery",
        "credit",
    ] {
        assert!(
            out.contains(&format!("  {name} ")),
            "{name} missing:\n{out}"
        );
    }
}

/// `vmsched textbook | head -0`: the reader is gone before the first line; the command
/// ends with status 0 and no panic message (a `print!` would panic on the broken pipe).
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    for args in [&["textbook"][..], &["policies"], &["scenario"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vmsched"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// The columns of datacenter operations appear only when their feature is configured:
/// the default scenario keeps the plain headers; `consolidation.toml` (power, power-off,
/// migration) gets `downtime_s` at the end of `vms.csv` and the energy and migration
/// columns at the end of `summary.csv`; `energy.toml` (power and a timeline, no
/// migration) gets the energy columns and `timeline.csv`'s `power_w`, `hosts_on`, and no
/// `downtime_s`.
#[test]
fn datacenter_columns_only_with_their_features() {
    let dir = tempfile::tempdir().unwrap();
    let header = |path: std::path::PathBuf| {
        let text = String::from_utf8(read(&path)).unwrap();
        text.lines().next().unwrap().to_string()
    };
    let run = |name: &str, scenario: Option<&str>| {
        let out = dir.path().join(name);
        let mut args = vec!["compare"];
        if let Some(s) = scenario {
            args.push(s);
        }
        args.extend([
            "--vms",
            "300",
            "--replications",
            "1",
            "--policies",
            "fcfs",
            "--no-plots",
            "--out",
            out.to_str().unwrap(),
        ]);
        ok(&args);
        out
    };
    let plain = run("plain", None);
    assert!(header(plain.join("vms.csv")).ends_with(",migrations,stopped"));
    assert!(header(plain.join("summary.csv")).ends_with(",events,rejected"));

    let ex = |f: &str| format!("{}/workloads/examples/{f}", env!("CARGO_MANIFEST_DIR"));
    let cons = ex("consolidation.toml");
    let c = run("consolidation", Some(&cons));
    assert!(header(c.join("vms.csv")).ends_with(",migrations,stopped,downtime_s"));
    assert!(header(c.join("summary.csv")).ends_with(
        ",rejected,energy_kwh,mean_power_w,hosts_on_mean,migrations,mean_migration_downtime_s"
    ));
    let energy = ex("energy.toml");
    let e = run("energy", Some(&energy));
    assert!(header(e.join("vms.csv")).ends_with(",migrations,stopped"));
    assert!(
        header(e.join("summary.csv")).ends_with(",rejected,energy_kwh,mean_power_w,hosts_on_mean")
    );
    assert!(header(e.join("timeline.csv")).ends_with(",swap_ins,power_w,hosts_on"));
}
