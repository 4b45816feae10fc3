//! The error catalogue of the README ("Error messages"), produced: every row `E..` of its
//! table is a case here that runs the binary on a bad input and checks the exit status and
//! that the message appears in standard error. The test also checks that the README's
//! rows and these cases are the same set, so neither can drift from the other.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

/// A scenario that runs (50 VMs on one host).
const OK: &str = "[run]
vms = 50
[[hosts]]
pcpus = 4
memory_gib = 16
[workload]
arrival = { process = \"poisson\", rate_per_s = 1.0 }
service = { dist = \"exponential\", mean_s = 2.0 }
";

/// Input files of the cases, written into the test's folder.
fn inputs() -> Vec<(&'static str, String)> {
    let trace = |body: &str| {
        OK.replace(
            "arrival = { process = \"poisson\", rate_per_s = 1.0 }\nservice = { dist = \"exponential\", mean_s = 2.0 }\n",
            body,
        )
    };
    vec![
        ("ok.toml", OK.to_string()),
        ("syntax.toml", "[run\nvms = 1\n".to_string()),
        // Line 5 is the misspelt key.
        (
            "unknown.toml",
            OK.replace("pcpus = 4", "pcpus = 4\novercomit = 2"),
        ),
        // `service` left out: the error points at the [workload] table (line 6).
        (
            "nosvc.toml",
            OK.replace("service = { dist = \"exponential\", mean_s = 2.0 }\n", ""),
        ),
        // Line 7 holds the rate.
        (
            "neg.toml",
            OK.replace("rate_per_s = 1.0", "rate_per_s = -3"),
        ),
        ("nan.toml", OK.replace("mean_s = 2.0", "mean_s = nan")),
        // The second device's `kind` is on line 14.
        (
            "dev.toml",
            "[run]\nvms = 50\n[workload]\n\
             arrival = { process = \"poisson\", rate_per_s = 1.0 }\n\
             service = { dist = \"exponential\", mean_s = 2.0 }\n\
             [[hosts]]\npcpus = 4\nmemory_gib = 16\n\
             [[hosts.devices]]\nkind = \"disk\"\nbandwidth_mbps = 100\nlatency_us = 10\n\
             [[hosts.devices]]\nkind = \"tape\"\nbandwidth_mbps = 100\nlatency_us = 10\n"
                .to_string(),
        ),
        (
            "notrace.toml",
            trace("[workload.trace]\nformat = \"csv\"\npath = \"nofile.csv\"\n"),
        ),
        (
            "late.toml",
            trace("[workload.trace]\nformat = \"csv\"\npath = \"late.csv\"\nreorder_window = 0\n"),
        ),
        ("late.csv", "arrival_s,runtime_s\n5,1\n3,1\n".to_string()),
        (
            "bad.swf",
            "1 0 0 abc 1 -1 -1 1 10 -1 1 1 1 1 1 -1 -1 -1\n".to_string(),
        ),
        ("bad.csv", "arrival_s,runtime_s\n0,abc\n".to_string()),
        ("nocol.csv", "arrival_s\n0\n".to_string()),
        (
            "t.csv",
            "name,arrival,burst,priority\nP1,0,-5,1\n".to_string(),
        ),
        ("t2.csv", "name,arrival,priority\nP1,0,1\n".to_string()),
        ("badprof.toml", "[host]\nbogus = 1\n".to_string()),
        ("inc/summary.csv", "policy\n".to_string()),
        ("empty/notes.txt", "not results\n".to_string()),
    ]
}

/// `vmsched` commands run before the cases (they must succeed): sweep folders for the
/// `merge` and sweep cases.
const SETUP: &[&[&str]] = &[
    &[
        "sweep",
        "ok.toml",
        "--set",
        "hosts.count=1,2",
        "--vms",
        "20",
        "--out",
        "sw",
    ],
    &[
        "sweep",
        "ok.toml",
        "--set",
        "hosts.count=1,3",
        "--vms",
        "20",
        "--out",
        "sw2",
    ],
    &[
        "sweep",
        "ok.toml",
        "--set",
        "hosts.count=1,2",
        "--vms",
        "20",
        "--out",
        "shard",
        "--shard",
        "0/2",
    ],
];

struct Case {
    id: &'static str,
    args: &'static [&'static str],
    /// Expected exit status.
    code: i32,
    /// Text that must appear in standard error.
    expect: &'static str,
}

const CASES: &[Case] = &[
    Case {
        id: "E01",
        args: &["compare", "missing.toml"],
        code: 1,
        expect: "error: missing.toml: cannot read: No such file or directory (os error 2)",
    },
    Case {
        id: "E02",
        args: &["compare", "syntax.toml"],
        code: 1,
        expect: "error: syntax.toml:1: unclosed table, expected `]`",
    },
    Case {
        id: "E03",
        args: &["compare", "unknown.toml"],
        code: 1,
        expect: "error: unknown.toml:5: hosts[0].overcomit: unknown field `overcomit`, expected one of `count`, `pcpus`",
    },
    Case {
        id: "E04",
        args: &["compare", "nosvc.toml"],
        code: 1,
        expect: "error: nosvc.toml:6: workload: missing field `service`",
    },
    Case {
        id: "E05",
        args: &["compare", "neg.toml"],
        code: 1,
        expect: "error: neg.toml:7: workload.arrival.rate_per_s: must be > 0, got -3",
    },
    Case {
        id: "E06",
        args: &["compare", "nan.toml"],
        code: 1,
        expect: "error: nan.toml:8: workload.service.mean_s: must be > 0, got NaN",
    },
    Case {
        id: "E07",
        args: &["compare", "dev.toml"],
        code: 1,
        expect: "error: dev.toml:14: hosts.0.devices.1.kind: must be \"disk\" or \"nic\", got \"tape\"",
    },
    Case {
        id: "E08",
        args: &["compare", "ok.toml", "--policies", "fcfs,fifo"],
        code: 1,
        expect: "error: unknown cpu policy `fifo`; known: fcfs, sjf, srtf, priority, priority-preemptive, rr",
    },
    Case {
        id: "E09",
        args: &["compare", "ok.toml", "--replications", "0"],
        code: 1,
        expect: "error: run.replications: must be ≥ 1, got 0",
    },
    Case {
        id: "E10",
        args: &["compare", "notrace.toml"],
        code: 1,
        expect: "error: nofile.csv: cannot read: No such file or directory (os error 2)",
    },
    Case {
        id: "E11",
        args: &["trace", "stats", "bad.swf"],
        code: 1,
        expect: "error: bad.swf:1: field 4 (run time): not a number: `abc`",
    },
    Case {
        id: "E12",
        args: &["trace", "stats", "nocol.csv", "--format", "csv"],
        code: 1,
        expect: "error: nocol.csv:1: runtime_s: missing column `runtime_s` in the header",
    },
    Case {
        id: "E13",
        args: &["trace", "stats", "bad.csv", "--format", "csv"],
        code: 1,
        expect: "error: bad.csv:2: runtime_s: not a number: `abc`",
    },
    Case {
        id: "E14",
        args: &["compare", "late.toml"],
        code: 1,
        expect: "late.csv:3: arrival: out of order by more than the reorder window (0 records)",
    },
    Case {
        id: "E15",
        args: &["textbook", "nosuch"],
        code: 1,
        expect: "error: unknown textbook case `nosuch`; known: fcfs-convoy, fcfs-reordered, sjf, priority, srtf, rr, hrrn, mlfq, mlfq-doubling (and no file called nosuch exists)",
    },
    Case {
        id: "E16",
        args: &["textbook", "t.csv"],
        code: 1,
        expect: "error: t.csv:2: burst: must be a non-negative number, got `-5`",
    },
    Case {
        id: "E17",
        args: &["textbook", "t2.csv"],
        code: 1,
        expect: "error: t2.csv:1: burst: missing column (the header must be name,arrival,burst[,priority])",
    },
    Case {
        id: "E18",
        args: &["compare", "--frobnicate"],
        code: 2,
        expect: "error: unexpected argument '--frobnicate' found",
    },
    Case {
        id: "E19",
        args: &["trace", "stats", "bad.swf", "--format", "foo"],
        code: 2,
        expect: "error: invalid value 'foo' for '--format <FORMAT>'",
    },
    Case {
        id: "E20",
        args: &[
            "exercise",
            "--policy",
            "fcfs",
            "--processes",
            "0",
            "--seed",
            "1",
        ],
        code: 1,
        expect: "error: --processes must be between 1 and 26, got 0",
    },
    Case {
        id: "E21",
        args: &["sweep", "ok.toml", "--set", "hosts.pcpus", "--out", "sw9"],
        code: 1,
        expect: "error: --set hosts.pcpus: expected KEY=V1,V2,…",
    },
    Case {
        id: "E22",
        args: &["sweep", "ok.toml", "--set", "nokey=1,2", "--out", "sw9"],
        code: 1,
        expect: "error: sweep cell nokey=1: nokey: unknown field `nokey`, expected one of `run`, `hosts`",
    },
    Case {
        id: "E23",
        args: &["sweep", "ok.toml", "--shard", "3/2", "--out", "sw9"],
        code: 1,
        expect: "error: --shard 3/2: expected I/N with 0 ≤ I < N, e.g. 0/4",
    },
    Case {
        id: "E24",
        args: &[
            "capacity",
            "ok.toml",
            "--slo",
            "bogus",
            "--vary",
            "hosts.count",
            "--max",
            "4",
        ],
        code: 1,
        expect: "error: --slo bogus: expected METRIC<=X, METRIC<X, METRIC>=X or METRIC>X",
    },
    Case {
        id: "E25",
        args: &[
            "capacity",
            "ok.toml",
            "--slo",
            "p95_wait<=30",
            "--vary",
            "hosts.count",
            "--max",
            "4",
        ],
        code: 1,
        expect: "error: --slo p95_wait<=30: unknown metric `p95_wait`; known: vms, mean_wait_s",
    },
    Case {
        id: "E26",
        args: &["report", "empty"],
        code: 1,
        expect: "error: empty is not a vmsched results folder: it has no run.toml (write one with `vmsched compare --out DIR`",
    },
    Case {
        id: "E27",
        args: &["report", "nope"],
        code: 1,
        expect: "error: nope is not a vmsched results folder: no such folder",
    },
    Case {
        id: "E28",
        args: &["report", "inc"],
        code: 1,
        expect: "error: inc holds incomplete results: it has no run.toml, which a run writes last",
    },
    Case {
        id: "E29",
        args: &["merge", "empty", "--out", "m9"],
        code: 1,
        expect: "error: empty: no sweep.toml: not a sweep folder",
    },
    Case {
        id: "E30",
        args: &["merge", "sw", "sw2", "--out", "m9"],
        code: 1,
        expect: "error: sw and sw2 hold different sweeps (their sweep.toml differ)",
    },
    Case {
        id: "E31",
        args: &[
            "sweep",
            "ok.toml",
            "--set",
            "hosts.count=1,3",
            "--vms",
            "20",
            "--out",
            "sw",
        ],
        code: 1,
        expect: "error: sw holds another sweep (its sweep.toml differs from this command's); use another --out, or remove the folder",
    },
    Case {
        id: "E32",
        args: &["merge", "shard", "--out", "m1"],
        code: 1,
        expect: "error: 1 of 2 runs are missing from m1/runs (e.g. [hosts.count=2] policy #0 replication 0); run the missing shards",
    },
    Case {
        id: "E33",
        args: &["compare", "ok.toml", "--out", "ok.toml/sub"],
        code: 1,
        expect: "error: cannot create ok.toml/sub: Not a directory (os error 20)",
    },
];

/// `E34`, the calibration profile, needs KVM (the profile is read after the KVM check).
const PROFILE: Case = Case {
    id: "E34",
    args: &["validate", "--profile", "badprof.toml"],
    code: 1,
    expect: "error: badprof.toml: TOML parse error at line 2, column 1",
};
/// `E35`: KVM unavailable, see [`kvm_unavailable_exits_2`].
const KVM_ID: &str = "E35";

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmsched"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the vmsched binary runs")
}

fn check(dir: &Path, c: &Case) -> Output {
    let out = run_in(dir, c.args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(c.code),
        "{} vmsched {:?}: exit status; stderr:\n{err}",
        c.id,
        c.args
    );
    assert!(
        err.contains(c.expect),
        "{} vmsched {:?}: expected\n  {}\nin stderr:\n{err}",
        c.id,
        c.args,
        c.expect
    );
    // A cause is printed once (a missing file used to print it twice).
    assert!(
        err.matches("(os error").count() <= 1,
        "{}: cause repeated:\n{err}",
        c.id
    );
    out
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in inputs() {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    for args in SETUP {
        let o = run_in(dir.path(), args);
        assert!(
            o.status.success(),
            "setup {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    dir
}

#[test]
fn every_catalogued_error_is_produced() {
    let dir = setup();
    for c in CASES {
        check(dir.path(), c);
    }
    // Refusals change nothing: the incomplete folder is as it was, no merge folder holds
    // a sweep.csv.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("inc/summary.csv")).unwrap(),
        "policy\n"
    );
    assert!(!dir.path().join("inc/report.html").exists());
    assert!(!dir.path().join("m1/sweep.csv").exists());
}

/// Whether this process can open /dev/kvm.
fn kvm_opens() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
}

#[test]
fn bad_calibration_profile() {
    let dir = setup();
    let out = run_in(dir.path(), PROFILE.args);
    if out.status.code() == Some(2) {
        eprintln!(
            "skipping {}: KVM not available here: {}",
            PROFILE.id,
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    check(dir.path(), &PROFILE);
}

#[cfg(unix)]
#[test]
fn kvm_unavailable_exits_2() {
    use std::os::unix::process::CommandExt;
    // As root, run as `nobody` (uid 65534), who may not open /dev/kvm; otherwise test
    // the plain run when KVM is unavailable to this user.
    // Effective uid from /proc (no libc dependency).
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vmsched"));
    cmd.arg("calibrate").current_dir(std::env::temp_dir());
    if root {
        cmd.uid(65534).gid(65534);
    } else if kvm_opens() {
        eprintln!(
            "skipping {KVM_ID}: this user can open /dev/kvm and is not root (cannot drop it)"
        );
        return;
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipping {KVM_ID}: cannot run vmsched as uid 65534: {e}");
            return;
        }
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let known = [
        "error: /dev/kvm does not exist: this machine (or container) offers no KVM",
        "error: no permission to open /dev/kvm (run as a member of its group, usually `kvm`)",
        "error: this vmsched was built without the `kvm` feature",
    ];
    assert!(known.iter().any(|k| err.contains(k)), "{err}");
}

#[test]
fn readme_lists_exactly_these_errors() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Error messages\n")
        .nth(1)
        .expect("README has a section `## Error messages`");
    let section = section.split("\n## ").next().unwrap_or(section);
    let in_readme: BTreeSet<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| E"))
        .map(|l| &l[..2])
        .collect();
    let ids: BTreeSet<&str> = CASES
        .iter()
        .map(|c| &c.id[1..])
        .chain([&PROFILE.id[1..], &KVM_ID[1..]])
        .collect();
    assert_eq!(in_readme, ids, "README rows vs test cases");
}
