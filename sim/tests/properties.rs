//! Invariants of the engine on random small workloads (proptest).

use proptest::prelude::*;
use sim::observer::Collect;
use sim::{
    DeviceKind, DeviceSpec, FastPaths, HeadOfLine, HostSpec, HostSpecs, IoBursts, IoProfile,
    LifecycleAction, LifecycleEvent, Mapping, MemoryProfile, SimConfig, SimTime, VirtualDevice,
    VmRequest, simulate, simulate_with,
};

const CPU: [&str; 9] = [
    "fcfs",
    "sjf",
    "srtf",
    "priority",
    "priority-preemptive",
    "rr",
    "mlfq",
    "lottery",
    "credit",
];

mod common;
use common::random::{ADMISSION, PLACEMENTS, VmTuple, vms_from};

#[derive(Debug, Clone)]
struct Case {
    vms: Vec<VmRequest>,
    cfg: SimConfig,
}

fn vm_strategy() -> impl Strategy<Value = VmTuple> {
    // (arrival gap, burst, vcpus, priority, memory, estimate) in small integer units
    (0u64..5, 0u64..10, 1u32..4, 0i32..4, 0u64..4, 0u64..12)
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(vm_strategy(), 1..25),
        1u32..4,   // pCPUs per host
        1usize..3, // hosts
        0usize..4, // overcommit choice
        0usize..CPU.len(),
        0usize..ADMISSION.len(),
        0u64..3,       // context switch (units of 0.1 s)
        1u64..4,       // quantum (s)
        any::<bool>(), // skip-ahead
        0usize..3,     // placement
    )
        .prop_map(|(vms, pcpus, hosts, oc, cpu, adm, cs, q, skip, pl)| {
            let vms = vms_from(vms);
            let mut cfg = SimConfig::single_host(pcpus, 4 * 1024);
            let overcommit = [1.0, 1.5, 3.0, f64::INFINITY][oc];
            cfg.cluster.hosts = HostSpecs::repeated(
                HostSpec {
                    overcommit,
                    ..HostSpec::new(pcpus, 4 * 1024)
                },
                hosts,
            );
            cfg.cluster.placement = PLACEMENTS[pl];
            cfg.cpu.policy = CPU[cpu].into();
            cfg.admission.policy = ADMISSION[adm].into();
            cfg.cpu.context_switch = SimTime::from_millis(100 * cs);
            cfg.cpu.quantum = SimTime::from_secs(q);
            cfg.admission.head_of_line = if skip {
                HeadOfLine::SkipAhead
            } else {
                HeadOfLine::Strict
            };
            Case { vms, cfg }
        })
}

/// Every slice is well formed (dispatch ≤ start ≤ end) and no pCPU runs two at once.
fn check_slices(slices: &[sim::SliceRecord]) -> Result<(), TestCaseError> {
    let mut per_pcpu = std::collections::BTreeMap::<(u32, u32), Vec<(SimTime, SimTime)>>::new();
    for s in slices {
        prop_assert!(s.dispatch <= s.start && s.start <= s.end);
        per_pcpu
            .entry((s.host, s.pcpu))
            .or_default()
            .push((s.dispatch, s.end));
    }
    for v in per_pcpu.values_mut() {
        v.sort();
        for w in v.windows(2) {
            prop_assert!(w[0].1 <= w[1].0, "overlap on a pCPU: {:?}", w);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn invariants_hold(case in case_strategy(), gang in any::<bool>()) {
        let mut case = case;
        // Gang scheduling where it applies (non-preemptive policies and rr).
        case.cfg.cpu.gang = gang && !matches!(case.cfg.cpu.policy.as_str(), "srtf" | "priority-preemptive");
        let mut c = Collect::default();
        let stats = simulate(&case.cfg, case.vms.clone(), &mut c).unwrap();
        if case.cfg.cpu.gang {
            // A gang's vCPUs are first dispatched at the same instant.
            let mut first = std::collections::BTreeMap::<(u64, u32), SimTime>::new();
            for s in &c.slices {
                first.entry((s.vm, s.vcpu)).and_modify(|t| *t = (*t).min(s.dispatch)).or_insert(s.dispatch);
            }
            for r in &c.vms {
                let t: Vec<_> = (0..r.vcpus).filter_map(|i| first.get(&(r.id, i))).collect();
                prop_assert!(t.windows(2).all(|w| w[0] == w[1]), "VM {} vCPUs first dispatched at {:?}", r.id, t);
            }
        }

        // Every VM that is not rejected is admitted and finishes.
        prop_assert_eq!(stats.finished + stats.rejected, case.vms.len() as u64);
        prop_assert_eq!(c.vms.len() as u64, stats.finished);

        // Time never goes backwards within a VM's life.
        for r in &c.vms {
            prop_assert!(r.arrival <= r.admission);
            prop_assert!(r.admission <= r.first_run);
            prop_assert!(r.first_run <= r.finish);
            prop_assert!(r.finish <= stats.makespan);
            // A VM cannot finish sooner than its work allows.
            prop_assert!(r.turnaround() >= r.service);
        }
        // Slices are well formed and no pCPU runs two vCPUs at once.
        check_slices(&c.slices)?;
        // Busy time = guest work + switches; guest work = the demand of every finished vCPU.
        let demand: u128 = c.vms.iter().map(|r| u128::from(r.service.nanos()) * u128::from(r.vcpus)).sum();
        prop_assert_eq!(stats.work_ns, demand);
        let cs = u128::from(case.cfg.cpu.context_switch.nanos());
        let slice_busy: u128 = c.slices.iter().map(|s| u128::from((s.end.nanos()) - s.dispatch.nanos())).sum();
        prop_assert_eq!(stats.busy_ns, slice_busy);
        prop_assert!(stats.busy_ns <= demand + cs * u128::from(stats.context_switches));
        // Little's law, exactly.
        let total: u128 = c.vms.iter().map(|r| u128::from(r.turnaround().nanos())).sum();
        prop_assert_eq!(stats.vm_time_area_ns, total);
    }

    #[test]
    fn sjf_never_waits_longer_than_fcfs_when_all_arrive_together(
        bursts in prop::collection::vec(0u64..50, 1..30)
    ) {
        // One pCPU, all at t = 0, exact estimates: SJF minimises the mean wait.
        let vms: Vec<VmRequest> = bursts.iter().enumerate().map(|(i, &b)| VmRequest {
            id: i as u64, arrival: SimTime::ZERO, vcpus: 1, memory_mib: 0, priority: 0,
            demand: SimTime::from_secs(b), estimate: SimTime::from_secs(b), tenant: None, profile: Default::default(),
        }).collect();
        let mean_wait = |policy: &str| {
            let mut c = Collect::default();
            simulate(&SimConfig::textbook(policy, SimTime::from_secs(1)), vms.clone(), &mut c).unwrap();
            c.vms.iter().map(|r| r.wait().nanos() as f64).sum::<f64>() / c.vms.len() as f64
        };
        prop_assert!(mean_wait("sjf") <= mean_wait("fcfs"));
    }
}

/// Resource-model settings layered on a base case: devices and I/O, paging, SMT, NUMA,
/// translation overhead, pinning, migrations and lifecycle events.
fn rich_case_strategy() -> impl Strategy<Value = (Case, bool)> {
    (
        case_strategy(),
        prop::collection::vec((0u32..4, any::<bool>(), 0u64..4, 0usize..3), 25),
        (1u32..3, 0u32..3, any::<bool>(), any::<bool>(), 0u64..3),
        prop::collection::vec((0u64..30, 0u64..25, 0usize..3), 0..4),
    )
        .prop_map(
            |(mut case, profiles, (tpc, nodes, pinned, overhead, mig), events)| {
                for (vm, &(ios, paging, ws_gib, dev)) in case.vms.iter_mut().zip(&profiles) {
                    if ios > 0 {
                        vm.profile.io = Some(IoProfile {
                            bursts: if ios == 3 {
                                IoBursts::Exponential(SimTime::from_millis(700))
                            } else {
                                IoBursts::Count(ios)
                            },
                            size_mean_bytes: 1e6,
                            device: DeviceKind::Disk,
                            virtual_device: [
                                VirtualDevice::Emulated,
                                VirtualDevice::Virtio,
                                VirtualDevice::Passthrough,
                            ][dev],
                        });
                    }
                    if paging {
                        vm.profile.memory = Some(MemoryProfile {
                            working_set_mib: ws_gib * 1024,
                            touches_per_ms: 0.05,
                        });
                    }
                }
                for h in case.cfg.cluster.hosts.specs_mut() {
                    h.memory_overcommit = 2.0;
                    let r = &mut h.resources;
                    r.devices = vec![DeviceSpec {
                        kind: DeviceKind::Disk,
                        bandwidth_bytes_per_s: 2e6,
                        latency: SimTime::from_millis(100),
                        channels: 1,
                    }];
                    r.threads_per_core = tpc;
                    r.smt_slowdown = 0.3;
                    r.numa_nodes = nodes.max(1);
                    r.numa_remote_slowdown = 0.2;
                    r.first_touch = SimTime::from_micros(u64::from(overhead) * 10);
                    r.exit_cost = SimTime::from_millis(u64::from(overhead) * 5);
                    r.translation_overhead = if overhead { 0.05 } else { 0.0 };
                    r.balloon = !overhead;
                }
                case.cfg.cpu.mapping = if pinned {
                    Mapping::Pinned
                } else {
                    Mapping::Floating
                };
                case.cfg.cpu.migration = SimTime::from_millis(50 * mig);
                let n = case.vms.len() as u64;
                let any_stop = events.iter().any(|e| e.2 == 2);
                case.cfg.events = events
                    .into_iter()
                    .map(|(at, vm, a)| LifecycleEvent {
                        at: SimTime::from_millis(at * 500),
                        vm: vm % (n + 1),
                        action: [
                            LifecycleAction::Pause,
                            LifecycleAction::Resume,
                            LifecycleAction::Stop,
                        ][a],
                    })
                    .collect();
                // A pause without a later resume would never end: add a resume for each.
                let resumes: Vec<LifecycleEvent> = case
                    .cfg
                    .events
                    .iter()
                    .filter(|e| e.action == LifecycleAction::Pause)
                    .map(|e| LifecycleEvent {
                        at: e.at.saturating_add(SimTime::from_secs(3)),
                        vm: e.vm,
                        action: LifecycleAction::Resume,
                    })
                    .collect();
                case.cfg.events.extend(resumes);
                case.cfg.timeline_interval = Some(SimTime::from_millis(700));
                (case, any_stop)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn resource_model_invariants_hold((case, any_stop) in rich_case_strategy()) {
        let mut c = Collect::default();
        let stats = simulate(&case.cfg, case.vms.clone(), &mut c).unwrap();
        prop_assert_eq!(stats.finished + stats.rejected, case.vms.len() as u64);
        for r in &c.vms {
            prop_assert!(r.arrival <= r.admission && r.admission <= r.first_run);
            prop_assert!(r.first_run <= r.finish && r.finish <= stats.makespan);
            if !r.stopped {
                prop_assert!(r.turnaround() >= r.service);
            }
        }
        check_slices(&c.slices)?;
        let demand: u128 = c.vms.iter().map(|r| u128::from(r.service.nanos()) * u128::from(r.vcpus)).sum();
        if any_stop {
            prop_assert!(stats.work_ns <= demand);
        } else {
            prop_assert_eq!(stats.work_ns, demand);
        }
        let slice_busy: u128 = c.slices.iter().map(|s| u128::from(s.end.nanos() - s.dispatch.nanos())).sum();
        prop_assert_eq!(stats.busy_ns, slice_busy);
        prop_assert!(stats.busy_ns >= stats.work_ns + stats.overhead_ns);
        let total: u128 = c.vms.iter().map(|r| u128::from(r.turnaround().nanos())).sum();
        prop_assert_eq!(stats.vm_time_area_ns, total);
        let ios: u64 = c.vms.iter().map(|r| r.io_requests).sum();
        prop_assert_eq!(ios, stats.io_requests);
        for s in &c.samples {
            prop_assert!(s.cpu_utilization >= 0.0 && s.cpu_utilization <= 1.0 + 1e-9);
            prop_assert!(s.resident_mib <= s.working_set_mib);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// The plain path (a VM without I/O or memory profile on a plain dedicated host runs
    /// with one event) must give exactly what the general path gives: records, slices,
    /// samples and counters, in order. Asking for a decision trace must change nothing
    /// either.
    #[test]
    fn plain_path_matches_the_general_path(
        case in case_strategy(),
        profiled in prop::collection::vec(0u32..4, 25),
        timeline in any::<bool>(),
    ) {
        let mut case = case;
        for (vm, &p) in case.vms.iter_mut().zip(&profiled) {
            // A few VMs with a memory profile or I/O keep to the general path.
            if p == 1 {
                vm.profile.memory = Some(MemoryProfile { working_set_mib: 512, touches_per_ms: 0.05 });
            } else if p == 2 {
                vm.profile.io = Some(IoProfile {
                    bursts: IoBursts::Count(2),
                    size_mean_bytes: 1e6,
                    device: DeviceKind::Disk,
                    virtual_device: VirtualDevice::Virtio,
                });
            }
        }
        for h in case.cfg.cluster.hosts.specs_mut() {
            h.resources.devices = vec![DeviceSpec {
                kind: DeviceKind::Disk,
                bandwidth_bytes_per_s: 2e6,
                latency: SimTime::from_millis(100),
                channels: 1,
            }];
        }
        if timeline {
            case.cfg.timeline_interval = Some(SimTime::from_millis(700));
        }
        let run = |plain: bool, keep_decisions: bool| {
            let mut c = Collect { keep_decisions, ..Collect::default() };
            let stats = simulate_with(&case.cfg, case.vms.clone(), &mut c, FastPaths { plain, ..FastPaths::default() }).unwrap();
            (stats, c)
        };
        let (plain_stats, plain) = run(true, false);
        let (general_stats, general) = run(false, true);
        let (traced_stats, traced) = run(true, true);
        prop_assert_eq!(&plain_stats, &general_stats);
        prop_assert_eq!(&plain_stats, &traced_stats);
        prop_assert_eq!(format!("{:?}", plain.vms), format!("{:?}", general.vms));
        prop_assert_eq!(format!("{:?}", plain.slices), format!("{:?}", general.slices));
        prop_assert_eq!(format!("{:?}", plain.samples), format!("{:?}", general.samples));
        prop_assert_eq!(format!("{:?}", traced.decisions), format!("{:?}", general.decisions));
        prop_assert_eq!(format!("{:?}", plain.vms), format!("{:?}", traced.vms));
    }
}
