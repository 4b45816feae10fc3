//! Tests of scenario files: parsing, checks, errors with file, line and key.

use super::*;
use crate::dist::{Choice, ServiceDist};
use proptest::prelude::*;
use sim::{HeadOfLine, Placement, SimTime};

const MINIMAL: &str = r#"
[[hosts]]
pcpus = 4
memory_gib = 16

[workload]
arrival = { process = "poisson", rate_per_s = 2.0 }
service = { dist = "exponential", mean_s = 1.5 }
"#;

fn parse(text: &str) -> Result<Scenario, Error> {
    Scenario::from_toml_str(text, "s.toml")
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn default_toml_is_the_builtin_default() {
    let parsed = Scenario::from_toml_str(Scenario::builtin_default_toml(), "default.toml").unwrap();
    assert_eq!(parsed, Scenario::builtin_default());
    // λ · E[vcpus] · E[service] / pCPUs = (13.6/114) · 1.9 · 60 / 16 = 0.85.
    let load = parsed.offered_load().unwrap();
    assert!((load - 0.85).abs() < 1e-12, "{load}");
}

#[test]
fn minimal_file_takes_the_defaults() {
    let s = parse(MINIMAL).unwrap();
    assert_eq!(s.run, RunSettings::default());
    assert_eq!(s.run.seed, 1);
    assert_eq!(s.run.vms, 10_000);
    assert_eq!(s.hosts[0].count, 1);
    assert_eq!(s.hosts[0].overcommit, Overcommit::Ratio(1.0));
    assert_eq!(s.cluster.placement, Placement::FirstFit);
    assert_eq!(s.admission, AdmissionSettings::default());
    assert_eq!(s.cpu.quantum_ms, 100.0);
    assert_eq!(s.workload.vcpus, Choice::Fixed(1));
    assert_eq!(s.workload.memory_gib, Choice::Fixed(0.0));
    assert_eq!(s.workload.priority, Choice::Fixed(0));
    assert_eq!(s.workload.estimate, Estimate::Exact);
    // 2/s · 1 vCPU · 1.5 s / 4 pCPUs = 0.75.
    assert_eq!(s.offered_load(), Some(0.75));
}

#[test]
fn every_form_of_every_key_parses() {
    let text = r#"
[run]
seed = 42
vms = 50
warmup_vms = 5
replications = 3

[[hosts]]
count = 3
pcpus = 8
memory_gib = 1.5
overcommit = "unlimited"
memory_overcommit = 2

[[hosts]]
pcpus = 2
memory_gib = 4
overcommit = 1.5

[cluster]
placement = "best-fit"

[admission]
policy = "priority"
aging_per_s = 0.5
head_of_line = "skip"

[cpu]
policy = "rr"
quantum_ms = 2.5
context_switch_us = 5

[workload]
arrival = { process = "deterministic", interval_s = 2.0 }
vcpus = 2
memory_gib = { values = [0.5, 1], weights = [1, 3] }
service = { dist = "weibull", mean_s = 3, shape = 0.7 }
priority = -1
estimate = "exact"
"#;
    let s = parse(text).unwrap();
    assert_eq!(s.hosts[0].overcommit, Overcommit::Unlimited);
    assert_eq!(s.hosts[0].memory_overcommit, Overcommit::Ratio(2.0));
    assert_eq!(s.admission.head_of_line, HeadOfLine::SkipAhead);
    assert_eq!(s.workload.priority, Choice::Fixed(-1));
    assert_eq!(
        s.workload.service,
        Some(ServiceDist::Weibull {
            mean_s: 3.0,
            shape: 0.7
        })
    );
    // 4 hosts: 3 × 8 + 2 = 26 pCPUs; load = 0.5/s · 2 · 3 s / 26 = 3/26.
    assert_eq!(s.total_pcpus(), 26);
    assert!((s.offered_load().unwrap() - 3.0 / 26.0).abs() < 1e-15);

    let c = s.sim_config().unwrap();
    assert_eq!(c.cluster.hosts.len(), 4);
    // One group per `[[hosts]]` entry (3 hosts, then 1), not one spec per host.
    let counts: Vec<usize> = c.cluster.hosts.groups().map(|(_, n)| n).collect();
    assert_eq!(counts, [3, 1]);
    // 1.5 GiB × 1024 = 1536 MiB; 4 GiB = 4096 MiB.
    assert_eq!(c.cluster.hosts[2].memory_mib, 1536);
    assert_eq!(c.cluster.hosts[3].memory_mib, 4096);
    assert_eq!(c.cluster.hosts[0].overcommit, f64::INFINITY);
    assert_eq!(c.cluster.hosts[0].memory_overcommit, 2.0);
    assert_eq!(c.cluster.hosts[3].overcommit, 1.5);
    assert_eq!(c.cluster.placement, Placement::BestFit);
    assert_eq!(c.admission.policy, "priority");
    assert_eq!(c.admission.aging_per_s, 0.5);
    // 2.5 ms = 2 500 000 ns; 5 µs = 5 000 ns.
    assert_eq!(c.cpu.quantum, SimTime(2_500_000));
    assert_eq!(c.cpu.context_switch, SimTime(5_000));
    assert_eq!(c.warmup_vms, 5);

    let vms: Vec<_> = s.workload(0).unwrap().collect();
    assert_eq!(vms.len(), 50);
    assert!(vms.iter().enumerate().all(|(i, v)| v.id == i as u64));
    // 0.5 GiB = 512 MiB, 1 GiB = 1024 MiB.
    assert!(
        vms.iter()
            .all(|v| v.vcpus == 2 && [512, 1024].contains(&v.memory_mib))
    );

    // And it survives a round trip.
    assert_eq!(parse(&s.to_toml_string()).unwrap(), s);
}

#[test]
fn round_trip_of_the_default() {
    let s = Scenario::builtin_default();
    let text = s.to_toml_string();
    assert_eq!(parse(&text).unwrap(), s, "{text}");
}

#[test]
fn validation_errors_name_file_line_and_key() {
    let bad_rate = MINIMAL.replace("rate_per_s = 2.0", "rate_per_s = -3");
    // Line 1 is empty (the text starts with a newline); `arrival` is on line 7.
    assert_eq!(
        err(&bad_rate),
        "s.toml:7: workload.arrival.rate_per_s: must be > 0, got -3"
    );
    assert_eq!(
        err(&MINIMAL.replace("rate_per_s = 2.0", "rate_per_s = nan")),
        "s.toml:7: workload.arrival.rate_per_s: must be > 0, got NaN"
    );
    assert_eq!(
        err(&MINIMAL.replace("mean_s = 1.5", "mean_s = inf")),
        "s.toml:8: workload.service.mean_s: must be finite, got inf"
    );
    assert_eq!(
        err(&MINIMAL.replace("pcpus = 4", "pcpus = 0")),
        "s.toml:3: hosts[0].pcpus: must be ≥ 1, got 0"
    );
    let hyper = MINIMAL.replace(
        "{ dist = \"exponential\", mean_s = 1.5 }",
        "{ dist = \"hyperexponential\", mean_s = 1.5, cv = 0.5 }",
    );
    assert_eq!(
        err(&hyper),
        "s.toml:8: workload.service.cv: must be ≥ 1 for a hyper-exponential, got 0.5"
    );
    let pareto = MINIMAL.replace(
        "{ dist = \"exponential\", mean_s = 1.5 }",
        "{ dist = \"pareto\", mean_s = 1.5, shape = 1 }",
    );
    assert_eq!(
        err(&pareto),
        "s.toml:8: workload.service.shape: must be > 1 (the mean is infinite otherwise), got 1"
    );
    let weights = format!("{MINIMAL}vcpus = {{ values = [1, 2], weights = [1.0] }}\n");
    assert_eq!(
        err(&weights),
        "s.toml:9: workload.vcpus.weights: has 1 entries but values has 2"
    );
    let zero = format!("{MINIMAL}priority = {{ classes = [1, 2], weights = [0, 0] }}\n");
    assert_eq!(
        err(&zero),
        "s.toml:9: workload.priority.weights: must sum to a finite number > 0, got 0"
    );
    let warm = format!("[run]\nvms = 10\nwarmup_vms = 10\n{MINIMAL}");
    assert_eq!(
        err(&warm),
        "s.toml:3: run.warmup_vms: must be less than run.vms (10), got 10"
    );
    let second = format!("{MINIMAL}\n[[hosts]]\npcpus = 2\nmemory_gib = -1\n");
    assert_eq!(
        err(&second),
        "s.toml:12: hosts[1].memory_gib: must be ≥ 0, got -1"
    );
}

#[test]
fn policy_names_are_checked() {
    // The message lists every registered CPU policy, in registry order.
    let e = err(&format!("{MINIMAL}[cpu]\npolicy = \"nosuch\"\n"));
    let known: Vec<&str> = sim::policy::CPU_POLICIES.iter().map(|p| p.name).collect();
    assert_eq!(
        e,
        format!(
            "s.toml:10: cpu.policy: unknown cpu policy `nosuch`; known: {}",
            known.join(", ")
        )
    );
    assert!(e.contains("known: fcfs, sjf, srtf, priority, priority-preemptive, rr"));
    let e = err(&format!("[admission]\npolicy = \"edf\"\n{MINIMAL}"));
    assert!(
        e.starts_with("s.toml:2: admission.policy: unknown admission policy `edf`; known: fcfs"),
        "{e}"
    );
    let mut s = parse(MINIMAL).unwrap();
    s.set_policy("sjf", "srtf");
    assert!(s.validate().is_ok());
    assert_eq!(s.sim_config().unwrap().cpu.policy, "srtf");
    s.set_policy("sjf", "nope");
    assert!(
        s.sim_config()
            .unwrap_err()
            .to_string()
            .starts_with("cpu.policy: unknown cpu policy")
    );
}

#[test]
fn serde_errors_name_file_line_and_key() {
    assert_eq!(
        err(&format!("[run]\nsed = 3\n{MINIMAL}")),
        "s.toml:2: run.sed: unknown field `sed`, expected one of `seed`, `vms`, `warmup_vms`, `replications`, `timeline_s`, `cpu_share_s`, `max_events`"
    );
    assert_eq!(
        err(&format!("{MINIMAL}vcpus = 1.5\n")),
        "s.toml:9: workload.vcpus: invalid type: floating point `1.5`, expected u32"
    );
    assert_eq!(
        err(&MINIMAL.replace("pcpus = 4", "pcpus = -4")),
        "s.toml:3: hosts[0].pcpus: invalid value: integer `-4`, expected u32"
    );
    let e = err(&MINIMAL.replace("\"exponential\"", "\"gamma\""));
    assert!(
        e.starts_with("s.toml:8: workload.service.dist: unknown variant `gamma`, expected one of"),
        "{e}"
    );
    let e = err(&MINIMAL.replace("mean_s = 1.5", "mean_s = 1.5, cv = 2"));
    assert!(
        e.starts_with("s.toml:8: workload.service: unknown field `cv`"),
        "{e}"
    );
    assert_eq!(
        err(&MINIMAL.replace("memory_gib = 16", "memory_gib = 16\noverommit = 2")),
        "s.toml:5: hosts[0].overommit: unknown field `overommit`, expected one of `count`, `pcpus`, `memory_gib`, `overcommit`, `memory_overcommit`, `threads_per_core`, `smt_slowdown`, `numa_nodes`, `numa_remote_slowdown`, `page_size`, `translation_overhead`, `first_touch_us`, `exit_cost_us`, `resident_gib`, `balloon`, `devices`, `profile`, `power`, `boot_s`"
    );
    let e = err(&MINIMAL.replace("memory_gib = 16", "memory_gib = 16\novercommit = \"lots\""));
    assert!(
        e.starts_with("s.toml:5: hosts[0].overcommit: invalid value: string \"lots\""),
        "{e}"
    );
    assert_eq!(
        err("[[hosts]]\npcpus = 1\nmemory_gib = 1\n"),
        "s.toml: missing field `workload`"
    );
    let e = err(&MINIMAL.replace("pcpus = 4\n", ""));
    assert_eq!(e, "s.toml:2: hosts[0]: missing field `pcpus`");
    let e = err(&format!("{MINIMAL}estimate = {{ noise = 1 }}\n"));
    assert!(
        e.starts_with("s.toml:9: workload.estimate: unknown field `noise`"),
        "{e}"
    );
    let e = err(&format!("{MINIMAL}[cluster]\nplacement = \"random\"\n"));
    assert!(
        e.starts_with("s.toml:10: cluster.placement: unknown variant `random`"),
        "{e}"
    );
}

#[test]
fn structural_errors() {
    let e = err(&MINIMAL.replace("[[hosts]]\npcpus = 4\nmemory_gib = 16\n", ""));
    assert_eq!(e, "s.toml: hosts: at least one [[hosts]] table is needed");
    // Syntax errors still give a line.
    let e = err("[run\nseed = 1\n");
    assert!(e.starts_with("s.toml:1: "), "{e}");
    let e = err(&format!("[run]\nseed = 1\nseed = 2\n{MINIMAL}"));
    assert!(e.starts_with("s.toml:3: run.seed: duplicate key"), "{e}");
}

#[test]
fn load_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.toml");
    let missing = dir.path().join("missing.toml");
    let e = Scenario::load(&missing).unwrap_err().to_string();
    assert!(e.starts_with(&missing.display().to_string()), "{e}");
    std::fs::write(&path, MINIMAL.replace("pcpus = 4", "pcpus = 0")).unwrap();
    let e = Scenario::load(&path).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("{}:3: hosts[0].pcpus: must be ≥ 1, got 0", path.display())
    );
    std::fs::write(&path, MINIMAL).unwrap();
    assert_eq!(Scenario::load(&path).unwrap(), parse(MINIMAL).unwrap());
}

#[test]
fn overrides_are_revalidated() {
    let mut s = parse(MINIMAL).unwrap();
    s.run.vms = 0;
    assert_eq!(
        s.validate().unwrap_err().to_string(),
        "run.vms: must be ≥ 1, got 0"
    );
    assert!(s.workload(0).is_err());
    s.run.vms = 7;
    s.run.replications = 2;
    assert_eq!(s.workload(1).unwrap().count(), 7);
    s.hosts[0].count = u32::MAX;
    assert!(
        s.validate()
            .unwrap_err()
            .to_string()
            .starts_with("hosts[0].count: the scenario would have")
    );
}

fn arb_choice_u32() -> impl Strategy<Value = Choice<u32>> {
    prop_oneof![
        (1u32..64).prop_map(Choice::Fixed),
        prop::collection::vec((1u32..64, 0.01f64..10.0), 1..5).prop_map(|v| {
            let (values, weights) = v.into_iter().unzip();
            Choice::Weighted { values, weights }
        }),
    ]
}

fn arb_service() -> impl Strategy<Value = ServiceDist> {
    let m = 0.001f64..1e4;
    prop_oneof![
        m.clone()
            .prop_map(|mean_s| ServiceDist::Exponential { mean_s }),
        m.clone()
            .prop_map(|mean_s| ServiceDist::Deterministic { mean_s }),
        (0.0f64..10.0, 0.001f64..10.0).prop_map(|(a, w)| ServiceDist::Uniform {
            min_s: a,
            max_s: a + w
        }),
        (m.clone(), 0.0f64..5.0).prop_map(|(mean_s, cv)| ServiceDist::Lognormal { mean_s, cv }),
        (m.clone(), 1.0f64..5.0)
            .prop_map(|(mean_s, cv)| ServiceDist::Hyperexponential { mean_s, cv }),
        (m.clone(), 1.05f64..5.0).prop_map(|(mean_s, shape)| ServiceDist::Pareto { mean_s, shape }),
        (m, 0.2f64..5.0).prop_map(|(mean_s, shape)| ServiceDist::Weibull { mean_s, shape }),
    ]
}

fn arb_scenario() -> impl Strategy<Value = Scenario> {
    (
        any::<u32>(),
        1u64..50,
        prop::collection::vec((1u32..4, 1u32..128, 0.0f64..1024.0, prop::bool::ANY), 1..4),
        arb_choice_u32(),
        arb_service(),
        prop_oneof![
            (0.001f64..100.0).prop_map(|rate_per_s| Arrival::Poisson { rate_per_s }),
            (0.001f64..100.0).prop_map(|interval_s| Arrival::Deterministic { interval_s }),
        ],
        prop_oneof![
            Just(Estimate::Exact),
            (0.0f64..3.0).prop_map(|noise_cv| Estimate::Noisy { noise_cv })
        ],
        -5i32..5,
    )
        .prop_map(
            |(seed, vms, hosts, vcpus, service, arrival, estimate, prio)| {
                let mut s = Scenario::builtin_default();
                s.run = RunSettings {
                    seed: u64::from(seed),
                    vms,
                    warmup_vms: vms / 2,
                    replications: 2,
                    timeline_s: None,
                    cpu_share_s: None,
                    max_events: None,
                };
                s.hosts = hosts
                    .into_iter()
                    .map(|(count, pcpus, memory_gib, unlimited)| HostGroup {
                        count,
                        pcpus,
                        memory_gib,
                        overcommit: if unlimited {
                            Overcommit::Unlimited
                        } else {
                            Overcommit::Ratio(1.25)
                        },
                        memory_overcommit: Overcommit::Ratio(1.0),
                        ..HostGroup::new(pcpus, memory_gib)
                    })
                    .collect();
                s.workload.vcpus = vcpus;
                s.workload.service = Some(service);
                s.workload.arrival = Some(arrival);
                s.workload.estimate = estimate;
                s.workload.priority = Choice::Fixed(prio);
                s
            },
        )
}

proptest! {
    #[test]
    fn toml_round_trips(s in arb_scenario()) {
        let text = s.to_toml_string();
        let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, s);
    }

    #[test]
    fn workloads_are_in_arrival_order_with_dense_ids(s in arb_scenario(), rep in 0u64..3) {
        let mut last = SimTime::ZERO;
        let mut n = 0u64;
        for (i, v) in s.workload(rep).unwrap().enumerate() {
            prop_assert_eq!(v.id, i as u64);
            prop_assert!(v.arrival >= last);
            prop_assert!(v.vcpus >= 1);
            last = v.arrival;
            n += 1;
        }
        prop_assert_eq!(n, s.run.vms);
    }
}

#[test]
fn closed_sets_are_parsed_into_enums_and_list_their_names() {
    // MINIMAL: line 2 `[[hosts]]`, 3 pcpus, 4 memory_gib, 6 `[workload]`, 7 arrival,
    // 8 service; what is appended starts at line 9.
    let with = |extra: &str| format!("{MINIMAL}{extra}");
    let host =
        |extra: &str| MINIMAL.replace("memory_gib = 16", &format!("memory_gib = 16\n{extra}"));
    assert_eq!(
        err(&host("page_size = \"8k\"")),
        "s.toml:5: hosts.0.page_size: must be \"4k\", \"2m\" or \"1g\", got \"8k\""
    );
    assert_eq!(
        err(&host(
            "[[hosts.devices]]\nkind = \"tape\"\nbandwidth_mbps = 100"
        )),
        "s.toml:6: hosts.0.devices.0.kind: must be \"disk\" or \"nic\", got \"tape\""
    );
    assert_eq!(
        err(&with("[cpu]\nmapping = \"sticky\"\n")),
        "s.toml:10: cpu.mapping: must be \"floating\" or \"pinned\", got \"sticky\""
    );
    assert_eq!(
        err(&with("io = { requests = 1, device = \"gpu\" }\n")),
        "s.toml:9: workload.io.device: must be \"disk\" or \"nic\", got \"gpu\""
    );
    assert_eq!(
        err(&with("io = { requests = 1, virtual = \"sr-iov\" }\n")),
        "s.toml:9: workload.io.virtual: must be \"emulated\", \"virtio\" or \"passthrough\", \
         got \"sr-iov\""
    );
    assert_eq!(
        err(&with("[[events]]\nat_s = 1\nvm = 0\naction = \"kill\"\n")),
        "s.toml:12: events.0.action: must be \"pause\", \"resume\", \"stop\" or \"migrate\", got \"kill\""
    );
    // Accepted spellings: page sizes in any case, also as KiB/MiB/GiB; written back
    // under their canonical names, and parsed back to the same values.
    let s = parse(&host("page_size = \"2MiB\"")).unwrap();
    assert_eq!(s.hosts[0].page_size, PageSize::Mib2);
    assert!(s.to_toml_string().contains("page_size = \"2m\""));
    let s = parse(&with(
        "io = { requests = 1, device = \"nic\", virtual = \"passthrough\" }\n\
         [cpu]\nmapping = \"pinned\"\n[[hosts.devices]]\nkind = \"nic\"\nbandwidth_mbps = 100\n",
    ));
    let s = s.unwrap();
    assert_eq!(s.cpu.mapping, sim::Mapping::Pinned);
    let io = s.workload.io.as_ref().unwrap();
    assert_eq!(io.device, sim::DeviceKind::Nic);
    assert_eq!(io.virtual_device, sim::VirtualDevice::Passthrough);
    assert_eq!(parse(&s.to_toml_string()).unwrap(), s);
}

#[test]
fn caps_and_slices_are_read_and_checked() {
    let text = format!(
        "{MINIMAL}cpu_cap = 0.5\n[cpu]\npolicy = \"fair\"\nslice_ms = 2\ncap_period_ms = 50\n"
    );
    let s = parse(&text).unwrap();
    let c = s.sim_config().unwrap();
    assert_eq!(c.cpu.slice, Some(SimTime::from_millis(2)));
    assert_eq!(c.cpu.cap_period, SimTime::from_millis(50));
    let vm = s.workload(0).unwrap().next().unwrap();
    assert_eq!(vm.profile.cpu_cap_ppm, 500_000);
    // Defaults: no slice (fair takes Linux's), a 100 ms period, no cap.
    let c = parse(MINIMAL).unwrap().sim_config().unwrap();
    assert_eq!(
        (c.cpu.slice, c.cpu.cap_period),
        (None, SimTime::from_millis(100))
    );
    // Caps lie in (0, pCPUs of the largest host] = (0, 4].
    for bad in ["0", "-1", "4.5"] {
        let e = err(&format!("{MINIMAL}cpu_cap = {bad}\n"));
        assert_eq!(
            e,
            format!(
                "s.toml:9: workload.cpu_cap: must be in (0, 4] (pCPUs of the largest host), got {bad}"
            )
        );
    }
    assert!(parse(&format!("{MINIMAL}cpu_cap = 4\n")).is_ok());
    // A choice: 0 is "no cap" there; the other values are checked alike.
    let half = format!("{MINIMAL}cpu_cap = {{ values = [0.5, 0], weights = [1, 1] }}\n");
    let s = parse(&half).unwrap();
    let caps: Vec<u32> = s
        .workload(0)
        .unwrap()
        .take(200)
        .map(|r| r.profile.cpu_cap_ppm)
        .collect();
    assert!(caps.iter().all(|&c| c == 0 || c == 500_000));
    // 200 fair draws: capped ones number 100 ± 3 σ (σ = √(200 · ¼) ≈ 7).
    let capped = caps.iter().filter(|&&c| c > 0).count();
    assert!((79..=121).contains(&capped), "{capped} capped of 200");
    let e = err(&format!(
        "{MINIMAL}cpu_cap = {{ values = [5, 0], weights = [1, 1] }}\n"
    ));
    assert!(
        e.ends_with("workload.cpu_cap: must be in (0, 4] (pCPUs of the largest host), got 5"),
        "{e}"
    );
    let e = err(&format!("{MINIMAL}[cpu]\nslice_ms = 0\n"));
    assert_eq!(e, "s.toml:10: cpu.slice_ms: must be > 0, got 0");
    let e = err(&format!("{MINIMAL}[cpu]\ncap_period_ms = 0.5\n"));
    assert_eq!(
        e,
        "s.toml:10: cpu.cap_period_ms: must be from 1 ms to 1e12 ms, got 0.5"
    );
}

/// The options of `mlfq` are read into the engine's settings and checked with the file,
/// the line and the key; left at their defaults they are not written back.
#[test]
fn mlfq_options_are_read_and_checked() {
    let cpu = |extra: &str| format!("{MINIMAL}\n[cpu]\npolicy = \"mlfq\"\n{extra}\n");
    let s = parse(&cpu(
        "levels = 4\nquantum_growth = 2\ndemote = \"always\"\nboost_s = 1.5",
    ))
    .unwrap();
    let m = s.sim_config().unwrap().cpu.mlfq;
    assert_eq!(
        m,
        sim::MlfqSpec {
            levels: 4,
            quantum_growth: 2.0,
            demote: sim::Demote::Always,
            boost: Some(SimTime(1_500_000_000)),
        }
    );
    // MINIMAL ends on line 8; a blank line, [cpu] and policy: the option is on line 12.
    assert_eq!(
        err(&cpu("levels = 0")),
        "s.toml:12: cpu.levels: must be 1 ..= 64, got 0"
    );
    assert_eq!(
        err(&cpu("quantum_growth = 0.5")),
        "s.toml:12: cpu.quantum_growth: must be a number ≥ 1 (1 equal quanta, 2 doubling), got 0.5"
    );
    assert_eq!(
        err(&cpu("demote = \"sometimes\"")),
        "s.toml:12: cpu.demote: must be \"contended\" or \"always\", got \"sometimes\""
    );
    assert_eq!(
        err(&cpu("boost_s = 0")),
        "s.toml:12: cpu.boost_s: must be > 0, got 0"
    );
    let defaults = parse(&cpu("")).unwrap();
    assert_eq!(defaults.cpu.levels, 3);
    let written = toml::to_string(&defaults).unwrap();
    assert!(
        !written.contains("levels") && !written.contains("demote"),
        "{written}"
    );
}

/// `[admission] backfill`: the three names, the default "none" not written back, and the
/// errors (unknown name; a trace format without estimates; hosts that switch off).
#[test]
fn backfill_names_and_errors() {
    let with = |extra: &str| format!("{MINIMAL}\n[admission]\n{extra}\n");
    for (name, b) in [
        ("none", sim::Backfill::None),
        ("easy", sim::Backfill::Easy),
        ("conservative", sim::Backfill::Conservative),
    ] {
        let s = parse(&with(&format!("backfill = \"{name}\""))).unwrap();
        assert_eq!(s.admission.backfill, b);
        assert_eq!(s.sim_config_for(0).unwrap().admission.backfill, b);
        assert_eq!(
            s.to_toml_string().contains("backfill"),
            b != sim::Backfill::None
        );
    }
    assert_eq!(
        parse(MINIMAL).unwrap().admission.backfill,
        sim::Backfill::None
    );
    let e = err(&with("backfill = \"eazy\""));
    assert!(
        e.starts_with("s.toml:11: admission.backfill:") && e.contains("\"conservative\""),
        "{e}"
    );
    let alibaba = r#"
[[hosts]]
pcpus = 4
memory_gib = 16

[admission]
backfill = "easy"

[workload.trace]
format = "alibaba"
path = "pods.csv"
"#;
    let e = err(alibaba);
    assert!(
        e.starts_with("s.toml:7: admission.backfill:") && e.contains("estimate = \"exact\""),
        "{e}"
    );
    let exact = alibaba.replace(
        "path = \"pods.csv\"",
        "path = \"pods.csv\"\nestimate = \"exact\"",
    );
    let e = parse(&exact).map(|_| ()).map_err(|e| e.to_string());
    assert!(
        e.as_ref().is_ok() || !e.as_ref().unwrap_err().contains("admission.backfill"),
        "{e:?}"
    );
    let e = err(&format!(
        "{MINIMAL}\n[cluster]\npower_off_idle_s = 60\n\n[admission]\nbackfill = \"easy\"\n"
    ));
    assert!(
        e.contains("admission.backfill:") && e.contains("switched off"),
        "{e}"
    );
}

/// `[migration]`, `[consolidation]` and migrate events: parsed into the engine's
/// settings; a `to_host` beyond the hosts, `low` ≥ `high` and a migrate event without
/// `[migration]` are errors naming the file, the line and the key.
#[test]
fn migration_settings_and_their_errors() {
    let two = MINIMAL.replace("pcpus = 4", "count = 2\npcpus = 4");
    let ok = format!(
        "{two}memory = {{ working_set_gib = 1, dirty_mib_per_s = 200 }}\n\n[migration]\n\
         bandwidth_mbps = 1000\n\n[consolidation]\npolicy = \"threshold\"\ninterval_s = 60\n\
         low = 0.2\nhigh = 0.9\n\n[[events]]\nat_s = 5\nvm = 3\naction = \"migrate\"\nto_host = 1\n"
    );
    let s = parse(&ok).unwrap();
    let c = s.sim_config().unwrap();
    let m = c.datacenter.migration.as_ref().unwrap();
    assert_eq!(m.bandwidth_bytes_per_s, 1_000_000_000);
    assert_eq!(m.stop_copy_bytes, 64 << 20);
    assert_eq!(m.max_rounds, 30);
    let k = c.datacenter.consolidation.as_ref().unwrap();
    assert_eq!(
        (k.interval, k.low, k.high),
        (SimTime::from_secs(60), 0.2, 0.9)
    );
    assert_eq!(
        c.events[0].action,
        sim::LifecycleAction::Migrate { to_host: 1 }
    );
    let vm = s.workload(0).unwrap().next().unwrap();
    assert_eq!(vm.profile.dirty_mib_per_s, 200.0);
    // Round trip.
    assert_eq!(parse(&s.to_toml_string()).unwrap(), s);

    let far = ok.replace("to_host = 1", "to_host = 2");
    let e = err(&far);
    assert!(
        e.contains("to_host: host 2 does not exist: the cluster has 2 hosts (0 to 1)"),
        "{e}"
    );
    assert!(e.starts_with("s.toml:25: events.0.to_host:"), "{e}");
    let e = err(&ok.replace("low = 0.2", "low = 0.9"));
    assert!(
        e.contains("consolidation.low: must be < consolidation.high (0.9), got 0.9"),
        "{e}"
    );
    assert!(e.starts_with("s.toml:18:"), "{e}");
    let e = err(&ok.replace("bandwidth_mbps = 1000", "bandwidth_mbps = 0"));
    assert!(
        e.starts_with("s.toml:13: migration.bandwidth_mbps: must be > 0"),
        "{e}"
    );
    let without =
        format!("{two}\n[[events]]\nat_s = 5\nvm = 3\naction = \"migrate\"\nto_host = 1\n");
    let e = err(&without);
    assert!(e.contains("migrate needs a [migration] table"), "{e}");
    let e = err(&format!(
        "{two}\n[[events]]\nat_s = 5\nvm = 3\naction = \"migrate\"\n"
    ));
    assert!(e.contains("a migrate event needs to_host"), "{e}");

    // Without bandwidth_mbps: an error naming the host group without a NIC; fine when
    // every host has one (no dedicated link: bandwidth 0), with chunks of 16 MiB.
    let no_bw = ok.replace("bandwidth_mbps = 1000\n", "chunk_mib = 16\n");
    let e = err(&no_bw);
    assert!(
        e.contains("migration.bandwidth_mbps: needed: hosts.0 has no kind = \"nic\" device"),
        "{e}"
    );
    let with_nic = no_bw.replace(
        "\n[migration]",
        "\n[[hosts.devices]]\nkind = \"nic\"\nbandwidth_mbps = 1250\n\n[migration]",
    );
    let s = parse(&with_nic).unwrap();
    let m = s.sim_config().unwrap().datacenter.migration.unwrap();
    assert_eq!((m.bandwidth_bytes_per_s, m.chunk_bytes), (0, 16 << 20));
    assert_eq!(parse(&s.to_toml_string()).unwrap(), s);
    let e = err(&with_nic.replace("chunk_mib = 16", "chunk_mib = -1"));
    assert!(
        e.contains("migration.chunk_mib: must be > 0, got -1"),
        "{e}"
    );
}

#[test]
fn cpu_share_interval_is_checked_and_off_by_default() {
    assert_eq!(parse(MINIMAL).unwrap().run.cpu_share_s, None);
    let s = parse(&format!("[run]\ncpu_share_s = 0.5\n{MINIMAL}")).unwrap();
    assert_eq!(s.run.cpu_share_s, Some(0.5));
    assert_eq!(
        err(&format!("[run]\ncpu_share_s = 0\n{MINIMAL}")),
        "s.toml:2: run.cpu_share_s: must be ≥ 1e-9 (one nanosecond), got 0"
    );
}
