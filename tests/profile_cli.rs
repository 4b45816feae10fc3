//! `vmsched run --profile` and `[[hosts]] profile`: a calibration profile changes the
//! simulator's predictions by the costs it calibrates (no KVM needed).

mod common;

use common::{fails, ok};

/// Two VMs on one pCPU, one admitted at a time; each maps a 4 MiB working set (1,024 pages
/// of 4 KiB), computes 50 ms, makes one 10 ms disk request (virtio: one exit) and computes
/// 50 ms more.
const TWO_VMS: &str = r#"
[run]
vms = 2
[[hosts]]
pcpus = 1
memory_gib = 4
[[hosts.devices]]
kind = "disk"
bandwidth_mbps = 1000
latency_us = 10000
[workload]
arrival = { process = "deterministic", interval_s = 0.001 }
service = { dist = "deterministic", mean_s = 0.1 }
memory_gib = 1
memory = { working_set_gib = 0.00390625 }
io = { requests = 1, size_kib = 0 }
"#;

/// A profile: switch median 25 µs and mean 30 µs, exit 20 µs, first touch 5 µs per page,
/// guest as fast as native.
const PROFILE: &str = r#"
device_nominal_us = 500.0
[host]
hostname = "test"
cpu_model = ""
kernel = ""
core = 0
boost = false
measured_at = 0
version = "0"
[native_loop_rate]
median = 1e9
p10 = 1e9
p90 = 1e9
min = 1e9
max = 1e9
n = 1
[guest_loop_rate]
median = 1e9
p10 = 1e9
p90 = 1e9
min = 1e9
max = 1e9
n = 1
[cpu_speed]
median = 1.0
p10 = 1.0
p90 = 1.0
min = 1.0
max = 1.0
n = 1
[exit_round_trip_us]
median = 20.0
p10 = 20.0
p90 = 20.0
min = 20.0
max = 20.0
n = 1
[first_touch_us]
median = 5.0
p10 = 5.0
p90 = 5.0
min = 5.0
max = 5.0
n = 1
[first_touch_prefaulted_us]
median = 1.0
p10 = 1.0
p90 = 1.0
min = 1.0
max = 1.0
n = 1
[vcpu_switch_us]
median = 25.0
p10 = 20.0
p90 = 40.0
p99 = 90.0
mean = 30.0
min = 20.0
max = 100.0
n = 100
[kick_latency_us]
median = 15.0
p10 = 15.0
p90 = 15.0
min = 15.0
max = 15.0
n = 1
[vm_create_us]
median = 400.0
p10 = 400.0
p90 = 400.0
min = 400.0
max = 400.0
n = 1
[vm_destroy_us]
median = 300.0
p10 = 300.0
p90 = 300.0
min = 300.0
max = 300.0
n = 1
[device_sleep_us]
median = 580.0
p10 = 580.0
p90 = 580.0
min = 580.0
max = 580.0
n = 1
[device_file_us]
median = 4000.0
p10 = 4000.0
p90 = 4000.0
min = 4000.0
max = 4000.0
n = 1
"#;

/// `finish_s` of each VM in `vms.csv`, by id.
fn finishes(dir: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("vms.csv")).expect("vms.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (id, finish) = (col("id"), col("finish_s"));
    let mut rows: Vec<(u64, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[id].parse().expect("id"), f[finish].to_string())
        })
        .collect();
    rows.sort();
    rows.into_iter().map(|(_, f)| f).collect()
}

#[test]
fn a_profile_sets_the_costs_it_calibrates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("two.toml"), TWO_VMS).unwrap();
    std::fs::write(d.join("p.toml"), PROFILE).unwrap();
    let run = |scenario: &str, extra: &[&str], out: &str| {
        let s = d.join(scenario);
        let o = d.join(out);
        let mut args = vec!["run", s.to_str().unwrap(), "--no-plots", "--out"];
        args.push(o.to_str().unwrap());
        args.extend_from_slice(extra);
        ok(&args);
        o
    };
    // Without a profile: VM 0 arrives at 1 ms, runs 50 ms, waits 10 ms for the disk, runs
    // 50 ms (done at 0.111 s); VM 1 is admitted then and takes 0.110 s (0.221 s).
    assert_eq!(
        finishes(&run("two.toml", &[], "plain")),
        ["0.111000000", "0.221000000"]
    );
    // With it: each VM pays a 30 µs switch (the mean) at its first dispatch, 1,024 first
    // touches of 5 µs (5.12 ms) and one 20 µs exit when it resumes after its request:
    // 0.111 + 0.00517 = 0.11617 s, then 0.11617 + 0.11517 = 0.23134 s.
    let p = d.join("p.toml");
    let o = run("two.toml", &["--profile", p.to_str().unwrap()], "prof");
    assert_eq!(finishes(&o), ["0.116170000", "0.231340000"]);
    // run.toml carries the numbers applied, not the profile file.
    let run_toml = std::fs::read_to_string(o.join("run.toml")).unwrap();
    assert!(run_toml.contains("context_switch_us = 30.0"), "{run_toml}");
    assert!(run_toml.contains("first_touch_us = 5.0"), "{run_toml}");
    assert!(!run_toml.contains("profile ="), "{run_toml}");
    // The same from the scenario's own `[[hosts]] profile` key (relative to its folder).
    let keyed = TWO_VMS.replace("pcpus = 1\n", "pcpus = 1\nprofile = \"p.toml\"\n");
    std::fs::write(d.join("keyed.toml"), keyed).unwrap();
    assert_eq!(
        finishes(&run("keyed.toml", &[], "keyed")),
        ["0.116170000", "0.231340000"]
    );
    // A broken profile is named with its line.
    std::fs::write(
        d.join("bad.toml"),
        PROFILE.replace("median = 20.0", "median = \"x\""),
    )
    .unwrap();
    let bad = d.join("bad.toml");
    let e = fails(&[
        "run",
        d.join("two.toml").to_str().unwrap(),
        "--profile",
        bad.to_str().unwrap(),
        "--out",
        d.join("bad").to_str().unwrap(),
    ]);
    assert!(e.contains("bad.toml") && e.contains("line"), "{e}");
}
