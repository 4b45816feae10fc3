//! EASY backfilling's quick scan (`FastPaths::backfill`, on by default) against the
//! straightforward scan that asks the placement rule and the head's reservation for every
//! waiting VM: on random multi-host workloads, with wrong estimates, every admission order
//! and placement rule, both give the same run, step for step (every VM's record, every
//! backfilling note, every counter).

use proptest::prelude::*;
use sim::observer::Collect;
use sim::{Backfill, FastPaths, HostSpec, SimConfig, SimTime, VmRequest, simulate_with};

mod common;
use common::random::{ADMISSION, PLACEMENTS, vms_from};

fn case() -> impl Strategy<Value = (SimConfig, Vec<VmRequest>)> {
    (
        // (arrival gap, demand, vCPUs, priority, GiB, estimate), whole seconds.
        prop::collection::vec(
            (0u64..3, 1u64..12, 1u32..9, 0i32..3, 0u64..4, 1u64..15),
            1..150,
        ),
        prop::collection::vec((1u32..9, 2u64..9), 1..4), // hosts: (pCPUs, GiB)
        0usize..ADMISSION.len(),
        0usize..3, // placement
        0u64..3,   // context switch (units of 0.1 s)
    )
        .prop_map(|(vms, hosts, adm, pl, cs)| {
            let vms = vms_from(vms);
            let mut cfg = SimConfig::single_host(1, 1024);
            cfg.cluster.hosts = hosts
                .into_iter()
                .map(|(pcpus, gib)| HostSpec::new(pcpus, gib * 1024))
                .collect();
            cfg.cluster.placement = PLACEMENTS[pl];
            cfg.admission.policy = ADMISSION[adm].into();
            cfg.admission.backfill = Backfill::Easy;
            cfg.cpu.context_switch = SimTime::from_millis(100 * cs);
            (cfg, vms)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn quick_scan_is_the_plain_scan((cfg, vms) in case()) {
        let run = |quick: bool, keep_decisions: bool| {
            let mut c = Collect { keep_decisions, ..Collect::default() };
            let fast = FastPaths { backfill: quick, ..FastPaths::default() };
            let stats = simulate_with(&cfg, vms.clone(), &mut c, fast).unwrap();
            (stats, c)
        };
        for keep in [false, true] {
            let (quick_stats, quick) = run(true, keep);
            let (plain_stats, plain) = run(false, keep);
            prop_assert_eq!(quick_stats, plain_stats);
            prop_assert_eq!(&quick.vms, &plain.vms);
            prop_assert_eq!(&quick.rejected, &plain.rejected);
            prop_assert_eq!(&quick.admission_notes, &plain.admission_notes);
        }
    }
}
