//! Invariants of the engine on random small workloads (proptest).

use proptest::prelude::*;
use sim::observer::Collect;
use sim::{HeadOfLine, HostSpec, Placement, SimConfig, SimTime, VmRequest, simulate};

const CPU: [&str; 6] = [
    "fcfs",
    "sjf",
    "srtf",
    "priority",
    "priority-preemptive",
    "rr",
];
const ADM: [&str; 3] = ["fcfs", "sjf", "priority"];

#[derive(Debug, Clone)]
struct Case {
    vms: Vec<VmRequest>,
    cfg: SimConfig,
}

fn vm_strategy() -> impl Strategy<Value = (u64, u64, u32, i32, u64, u64)> {
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
        0usize..ADM.len(),
        0u64..3,       // context switch (units of 0.1 s)
        1u64..4,       // quantum (s)
        any::<bool>(), // skip-ahead
        0usize..3,     // placement
    )
        .prop_map(|(vms, pcpus, hosts, oc, cpu, adm, cs, q, skip, pl)| {
            let mut t = 0;
            let vms = vms
                .into_iter()
                .enumerate()
                .map(|(i, (gap, burst, vcpus, prio, mem, est))| {
                    t += gap;
                    VmRequest {
                        id: i as u64,
                        arrival: SimTime::from_secs(t),
                        vcpus,
                        memory_mib: mem * 1024,
                        priority: prio,
                        demand: SimTime::from_secs(burst),
                        estimate: SimTime::from_secs(est),
                        tenant: None,
                        profile: Default::default(),
                    }
                })
                .collect();
            let mut cfg = SimConfig::single_host(pcpus, 4 * 1024);
            let overcommit = [1.0, 1.5, 3.0, f64::INFINITY][oc];
            cfg.cluster.hosts = vec![
                HostSpec {
                    overcommit,
                    ..HostSpec::new(pcpus, 4 * 1024)
                };
                hosts
            ];
            cfg.cluster.placement =
                [Placement::FirstFit, Placement::BestFit, Placement::WorstFit][pl];
            cfg.cpu.policy = CPU[cpu].into();
            cfg.admission.policy = ADM[adm].into();
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn invariants_hold(case in case_strategy()) {
        let mut c = Collect::default();
        let stats = simulate(&case.cfg, case.vms.clone(), &mut c).unwrap();

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
        let mut per_pcpu = std::collections::BTreeMap::<(u32, u32), Vec<(SimTime, SimTime)>>::new();
        for s in &c.slices {
            prop_assert!(s.dispatch <= s.start && s.start <= s.end);
            per_pcpu.entry((s.host, s.pcpu)).or_default().push((s.dispatch, s.end));
        }
        for v in per_pcpu.values_mut() {
            v.sort();
            for w in v.windows(2) {
                prop_assert!(w[0].1 <= w[1].0, "overlap on a pCPU: {:?}", w);
            }
        }
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
