//! `vmsched validate` end to end: a small replay in two rounds where KVM is available, exit
//! status 2 and a one-line reason where it is not (a failure instead when
//! `VMSCHED_REQUIRE_KVM=1`, which CI sets where `/dev/kvm` opens).

use std::process::Command;

fn vmsched(args: &[&str], out: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vmsched"))
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run vmsched")
}

/// Whether `o` is `validate`'s exit 2 for "KVM is not available": then the test is
/// skipped with the reason printed, or fails when `VMSCHED_REQUIRE_KVM=1`.
fn skipped_without_kvm(test: &str, o: &std::process::Output) -> bool {
    if o.status.code() != Some(2) {
        return false;
    }
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        std::env::var("VMSCHED_REQUIRE_KVM").map_or(true, |v| v != "1"),
        "VMSCHED_REQUIRE_KVM=1 but KVM is not available: {stderr}"
    );
    eprintln!("SKIPPED: {test}: {stderr}");
    true
}

#[test]
fn validate_small_scenario_in_rounds_or_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("v");
    let o = vmsched(
        &[
            "validate",
            "--vms",
            "4",
            "--target-s",
            "0.5",
            "--policies",
            "fcfs,sjf",
            "--rounds",
            "2",
        ],
        &out,
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    if skipped_without_kvm("validate_small_scenario_in_rounds_or_exit_2", &o) {
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        return;
    }
    assert!(o.status.success(), "{stderr}");
    let csv = std::fs::read_to_string(out.join("validation.csv")).expect("validation.csv");
    // Header + 4 VMs × 2 policies × 2 rounds.
    assert_eq!(csv.lines().count(), 17, "{csv}");
    assert!(csv.starts_with("round,policy,id,"), "{csv}");
    let summary = std::fs::read_to_string(out.join("validation-summary.csv")).expect("summary csv");
    // One row per round and policy, then median, min and max per policy and for `all`
    // (a round's `all` row is left out when the host disturbed both of its replays).
    for prefix in [
        "round,policy,kept,excluded,",
        "1,fcfs,",
        "1,sjf,",
        "2,fcfs,",
        "2,sjf,",
        "median,fcfs,",
        "min,sjf,",
        "max,all,",
    ] {
        assert!(
            summary.lines().any(|l| l.starts_with(prefix)),
            "{prefix}: {summary}"
        );
    }
    for f in [
        "run.toml",
        "measured-vms.csv",
        "predicted-vms.csv",
        "measured-slices.csv",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("medians over the kept rounds of 2"),
        "{stdout}"
    );
    assert!(stdout.contains("policy order by mean wait"), "{stdout}");
    assert!(stdout.contains("host: window"), "{stdout}");
}

#[test]
fn zero_rounds_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = vmsched(&["validate", "--rounds", "0"], &dir.path().join("v"));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--rounds must be at least 1"), "{stderr}");
}

/// `--host-scheduler` end to end on the shipped scenario cut to 4 VMs: Linux shares a core
/// among their threads, `host-scheduler.csv` has one row per VM; a `--policies` list
/// without `fair` is refused. Exit 2 with the reason where KVM is not available.
#[test]
fn host_scheduler_small_run_or_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("h");
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/validate/scenarios/host-weights.toml"
    );
    let o = vmsched(
        &[
            "validate",
            scenario,
            "--host-scheduler",
            "--vms",
            "4",
            "--target-s",
            "0.4",
            "--tsc-gap-us",
            "200",
        ],
        &out,
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    if skipped_without_kvm("host_scheduler_small_run_or_exit_2", &o) {
        return;
    }
    assert!(o.status.success(), "{stderr}");
    let csv = std::fs::read_to_string(out.join("host-scheduler.csv")).expect("host csv");
    assert!(csv.starts_with(validate::host_sched::HOST_HEADER));
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
    let text = std::fs::read_to_string(out.join("validation.txt")).expect("text");
    assert!(text.contains("Linux's scheduler with"), "{text}");
    let o = vmsched(
        &[
            "validate",
            scenario,
            "--host-scheduler",
            "--policies",
            "fcfs",
        ],
        &out,
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no `fair`"), "{stderr}");
}

/// `credit` and `fair` replay in user space: `credit` on the capped scenario (it parks
/// capped vCPUs itself), `fair` and `credit` on the weighted one; `fair` with capped VMs
/// is refused, naming `workload.cpu_cap` and `credit`. Exit 2 with the reason where KVM is
/// not available.
#[test]
fn credit_and_fair_replay_or_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = |name: &str| {
        format!(
            "{}/validate/scenarios/{name}.toml",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let (caps, weights) = (scenario("host-caps"), scenario("host-weights"));
    let runs = [
        (caps.as_str(), "credit", 4, "c"),
        (weights.as_str(), "fair,credit", 3, "w"),
    ];
    for (sc, policies, vms, out) in runs {
        let out = dir.path().join(out);
        let n = vms.to_string();
        let o = vmsched(
            &[
                "validate",
                sc,
                "--policies",
                policies,
                "--vms",
                &n,
                "--target-s",
                "0.4",
            ],
            &out,
        );
        let stderr = String::from_utf8_lossy(&o.stderr);
        if skipped_without_kvm("credit_and_fair_replay_or_exit_2", &o) {
            return;
        }
        assert!(o.status.success(), "{policies}: {stderr}");
        let csv = std::fs::read_to_string(out.join("validation.csv")).expect("validation.csv");
        // Header + one row per VM and policy.
        let rows = vms * policies.split(',').count();
        assert_eq!(csv.lines().count(), 1 + rows, "{csv}");
    }
    let o = vmsched(
        &[
            "validate",
            &caps,
            "--policies",
            "fair",
            "--vms",
            "8",
            "--target-s",
            "0.4",
        ],
        &dir.path().join("f"),
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("workload.cpu_cap") && stderr.contains("`credit`"),
        "{stderr}"
    );
}
