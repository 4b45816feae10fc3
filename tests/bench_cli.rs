//! `vmsched bench --model cluster`: runs on a small cluster and refuses bad sizes clearly.

mod common;

use common::{fails, ok};

/// 20 hosts, 2,000 VMs, each rule: the run prints its VMs per second, events per second and
/// peak memory, and the same seed gives the same event count whatever the rule (every VM
/// arrives once and each of its vCPUs ends once: the count does not depend on placement).
#[test]
fn bench_cluster_runs_on_a_small_cluster() {
    let mut counts = Vec::new();
    for rule in ["first-fit", "best-fit", "worst-fit"] {
        let out = ok(&[
            "bench",
            "--model",
            "cluster",
            "--hosts",
            "20",
            "--vms",
            "2000",
            "--runs",
            "1",
            "--placement",
            rule,
        ]);
        assert!(out.contains("cluster: 20 hosts"), "{out}");
        assert!(out.contains(rule), "{out}");
        assert!(out.contains("VMs/s"), "{out}");
        assert!(out.contains("M events/s"), "{out}");
        assert!(out.contains("peak memory"), "{out}");
        let line = out.lines().find(|l| l.starts_with("run 1:")).unwrap();
        let events: u64 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
        counts.push(events);
    }
    // At least one event per VM (its arrival) plus one per vCPU end (≥ 1 each).
    assert!(counts[0] >= 2 * 2000, "{counts:?}");
    assert!(counts.iter().all(|&c| c == counts[0]), "{counts:?}");
}

/// More hosts than `MAX_HOSTS` (1,000,000): the limit is named; `--hosts` on a one-host
/// model is an error, not ignored.
#[test]
fn bench_cluster_refuses_bad_sizes() {
    let e = fails(&[
        "bench", "--model", "cluster", "--hosts", "1000001", "--vms", "10", "--runs", "1",
    ]);
    assert!(e.contains("1000000"), "{e}");
    let e = fails(&["bench", "--hosts", "5", "--vms", "10", "--runs", "1"]);
    assert!(e.contains("--hosts is for --model cluster"), "{e}");
}

/// A scenario file beyond the datacenter limits is refused when it is read, before any
/// host is built, with the file, line, key and figure: 1,000,001 hosts (`MAX_HOSTS` =
/// 1,000,000), and 1,000,000 hosts of 11 pCPUs = 11,000,000 pCPUs (`MAX_TOTAL_PCPUS` =
/// 10,000,000, which bounds the memory the hosts' state needs).
#[test]
fn run_refuses_clusters_beyond_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = |name: &str, count: u64, pcpus: u32| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "[run]\nvms = 10\n[[hosts]]\ncount = {count}\npcpus = {pcpus}\nmemory_gib = 1\n\
                 [workload]\narrival = {{ process = \"poisson\", rate_per_s = 1 }}\n\
                 service = {{ dist = \"exponential\", mean_s = 1 }}\n"
            ),
        )
        .unwrap();
        path.to_string_lossy().into_owned()
    };
    let out = dir.path().join("out");
    let out = out.to_string_lossy();
    let hosts = scenario("hosts.toml", 1_000_001, 1);
    let e = fails(&["run", &hosts, "--no-vms", "--no-plots", "--out", &out]);
    assert!(
        e.contains(
            "hosts.toml:4: hosts[0].count: the scenario would have 1000001 hosts; at most 1000000"
        ),
        "{e}"
    );
    let pcpus = scenario("pcpus.toml", 1_000_000, 11);
    let e = fails(&["run", &pcpus, "--no-vms", "--no-plots", "--out", &out]);
    assert!(
        e.contains("pcpus.toml:3: hosts: 11000000 pCPUs over all hosts; at most 10000000"),
        "{e}"
    );
}
