//! Backfilling admission (`[admission] backfill`): hand-worked schedules, and properties on
//! random one-host workloads with exact estimates (proptest).
//!
//! Every hand case runs on one host of 4 pCPUs (4 vCPU slots, overcommit 1), no memory, no
//! context switch, CPU policy FCFS: an admitted VM runs each vCPU on a pCPU of its own, so
//! it ends exactly `demand` after its admission.

use std::collections::BTreeMap;

use proptest::prelude::*;
use sim::observer::{AdmissionNote, BackfillWhy, Collect};
use sim::{Backfill, HeadOfLine, SimConfig, SimTime, VmRequest, simulate};

fn s(x: f64) -> SimTime {
    SimTime::from_secs_f64(x).unwrap()
}

/// VM `id` arriving at `arrival` s with `vcpus`, `demand` s of work and an `estimate` in s.
fn vm(id: u64, arrival: f64, vcpus: u32, demand: f64, estimate: f64) -> VmRequest {
    VmRequest {
        id,
        arrival: s(arrival),
        vcpus,
        memory_mib: 0,
        priority: 0,
        demand: s(demand),
        estimate: s(estimate),
        tenant: None,
        profile: Default::default(),
    }
}

fn config(backfill: Backfill, pcpus: u32) -> SimConfig {
    let mut c = SimConfig::single_host(pcpus, 0);
    c.admission.backfill = backfill;
    c
}

/// Runs and returns (admission by VM id, finish by VM id, the backfilling notes).
#[allow(clippy::type_complexity)]
fn run(
    cfg: &SimConfig,
    vms: Vec<VmRequest>,
) -> (
    BTreeMap<u64, SimTime>,
    BTreeMap<u64, SimTime>,
    Vec<AdmissionNote>,
) {
    let mut c = Collect {
        keep_decisions: true,
        ..Collect::default()
    };
    simulate(cfg, vms, &mut c).unwrap();
    let adm = c.vms.iter().map(|r| (r.id, r.admission)).collect();
    let fin = c.vms.iter().map(|r| (r.id, r.finish)).collect();
    (adm, fin, c.admission_notes)
}

fn starts(adm: &BTreeMap<u64, SimTime>) -> Vec<f64> {
    adm.values().map(|t| t.as_secs_f64()).collect()
}

/// EASY protects only the head; conservative protects every waiting VM.
///
/// VM0 (t=0, 3 vCPUs, 10 s) runs 0–10, leaving 1 slot. VM1 (t=1, 3 vCPUs, 2 s) does not
/// fit: it is the head, reserved at 10 s when VM0 ends, with 4 − 3 = 1 slot spare then.
/// VM2 (t=2, 4 vCPUs, 2 s) does not fit. VM3 (t=3, 1 vCPU, 20 s by its estimate) fits now.
///
/// EASY: VM3 ends at 23 s, after the shadow time, but needs only the 1 spare slot: it
/// starts at 3. VM1 starts at 10 and ends at 12; VM2 needs all 4 slots, which VM3 holds
/// one of until 23: VM2 starts at 23.
/// Starts: VM0 0, VM1 10, VM2 23, VM3 3.
///
/// Conservative: VM1 holds [10, 12) (3 slots), VM2 then [12, 14) (4 slots). VM3 needs 1
/// slot for 20 s: from 3 it would still run over [12, 14), where VM2 holds every slot, so
/// its earliest slot is 14.
/// Starts: VM0 0, VM1 10, VM2 12, VM3 14.
#[test]
fn easy_and_conservative_differ() {
    let vms = || {
        vec![
            vm(0, 0.0, 3, 10.0, 10.0),
            vm(1, 1.0, 3, 2.0, 2.0),
            vm(2, 2.0, 4, 2.0, 2.0),
            vm(3, 3.0, 1, 20.0, 20.0),
        ]
    };
    let (easy, _, notes) = run(&config(Backfill::Easy, 4), vms());
    assert_eq!(starts(&easy), vec![0.0, 10.0, 23.0, 3.0]);
    assert!(notes.iter().any(|n| matches!(
        n,
        AdmissionNote::Backfill {
            vm: 3,
            why: BackfillWhy::SpareCapacity {
                head: 1,
                spare_vcpus: 1,
                ..
            },
            ..
        }
    )));
    let (cons, _, notes) = run(&config(Backfill::Conservative, 4), vms());
    assert_eq!(starts(&cons), vec![0.0, 10.0, 12.0, 14.0]);
    // VM3's reservation, made on arrival at 3 s: 14 s.
    assert!(notes.iter().any(|n| matches!(
        n,
        AdmissionNote::Reservation { vm: 3, start, .. } if *start == s(14.0)
    )));
    // Without backfilling (strict FCFS): VM1 10, VM2 12, VM3 14 as well, but by order.
    let (none, _, _) = run(&config(Backfill::None, 4), vms());
    assert_eq!(starts(&none), vec![0.0, 10.0, 12.0, 14.0]);
}

/// A VM that would delay the head must not start.
///
/// VM0 (t=0, 2 vCPUs, 10 s) runs 0–10. VM1 (t=1, 4 vCPUs, 5 s) is the head, reserved at
/// 10 s with no spare slot. VM2 (t=2, 2 vCPUs, 9 s) fits now but would end at 11 > 10:
/// it must wait. VM3 (t=3, 1 vCPU, 7 s) ends at 10, no later than the reservation: it
/// backfills at 3. At 10 VM0 and VM3 end, VM1 starts (10–15), then VM2 (15–24).
/// Starts: VM0 0, VM1 10, VM2 15, VM3 3. (Skip-ahead, for contrast, starts VM2 at 2 (to
/// 11) and VM3 at 10 when VM0 ends (to 17): VM1 waits until 17.)
#[test]
fn a_vm_that_would_delay_the_head_waits() {
    let vms = || {
        vec![
            vm(0, 0.0, 2, 10.0, 10.0),
            vm(1, 1.0, 4, 5.0, 5.0),
            vm(2, 2.0, 2, 9.0, 9.0),
            vm(3, 3.0, 1, 7.0, 7.0),
        ]
    };
    let (easy, _, notes) = run(&config(Backfill::Easy, 4), vms());
    assert_eq!(starts(&easy), vec![0.0, 10.0, 15.0, 3.0]);
    assert!(
        notes
            .iter()
            .all(|n| !matches!(n, AdmissionNote::Backfill { vm: 2, .. }))
    );
    let mut skip = config(Backfill::None, 4);
    skip.admission.head_of_line = HeadOfLine::SkipAhead;
    let (skip, _, _) = run(&skip, vms());
    assert_eq!(starts(&skip), vec![0.0, 17.0, 2.0, 10.0]);
    // Conservative gives the same schedule here: VM2's earliest slot is after VM1's.
    let (cons, _, _) = run(&config(Backfill::Conservative, 4), vms());
    assert_eq!(starts(&cons), vec![0.0, 10.0, 15.0, 3.0]);
}

/// A VM that runs past its estimate is not killed, and the plans follow it.
///
/// VM0 (t=0, 2 vCPUs) has 12 s of work but an estimate of 10 s. VM1 (t=1, 4 vCPUs, 5 s)
/// is the head, reserved at 10 s. VM2 (t=2, 2 vCPUs, 8 s) ends by its estimate at 10:
/// it backfills at 2 and ends at 10. From 10 s VM0 runs late: it is planned to end any
/// moment, so VM3 (t=11, 2 vCPUs, 0.5 s) cannot end before the head's reservation and
/// waits. VM0 ends at 12 (not killed); VM1 runs 12–17, VM3 17–17.5.
/// Starts: VM0 0, VM1 12, VM2 2, VM3 17, under EASY and conservative alike.
#[test]
fn a_late_vm_is_not_killed_and_the_plans_follow_it() {
    let vms = || {
        vec![
            vm(0, 0.0, 2, 12.0, 10.0),
            vm(1, 1.0, 4, 5.0, 5.0),
            vm(2, 2.0, 2, 8.0, 8.0),
            vm(3, 11.0, 2, 0.5, 0.5),
        ]
    };
    for b in [Backfill::Easy, Backfill::Conservative] {
        let (adm, fin, _) = run(&config(b, 4), vms());
        assert_eq!(starts(&adm), vec![0.0, 12.0, 2.0, 17.0], "{b:?}");
        assert_eq!(fin[&0], s(12.0), "{b:?}");
    }
}

/// A VM that ends early brings the reservations forward.
///
/// VM0 (t=0, 4 vCPUs) has an estimate of 10 s but ends at 4. VM1 (t=1, 2 vCPUs, 3 s) and
/// VM2 (t=1, 4 vCPUs, 2 s) wait: conservative reserves VM1 at 10 and VM2 at 13 (after
/// VM1). At 4 VM0 ends: VM1 moves to 4 (starts), VM2 to 7 (when VM1 ends).
/// Starts: VM0 0, VM1 4, VM2 7, under EASY (VM1 starts as the head at 4, VM2 as the head
/// at 7) and conservative alike.
#[test]
fn an_early_end_brings_reservations_forward() {
    let vms = || {
        vec![
            vm(0, 0.0, 4, 4.0, 10.0),
            vm(1, 1.0, 2, 3.0, 3.0),
            vm(2, 1.0, 4, 2.0, 2.0),
        ]
    };
    for b in [Backfill::Easy, Backfill::Conservative] {
        let (adm, _, notes) = run(&config(b, 4), vms());
        assert_eq!(starts(&adm), vec![0.0, 4.0, 7.0], "{b:?}");
        if b == Backfill::Conservative {
            let firsts: Vec<(u64, SimTime)> = notes
                .iter()
                .filter_map(|n| match n {
                    AdmissionNote::Reservation { vm, start, .. } => Some((*vm, *start)),
                    _ => None,
                })
                .collect();
            assert_eq!(
                firsts,
                vec![(1, s(10.0)), (2, s(13.0)), (1, s(4.0)), (2, s(7.0))]
            );
        }
    }
}

/// Two hosts of 2 pCPUs, first-fit. VM0 (t=0, 2 vCPUs, 10 s) fills host 0, VM1 (t=0,
/// 1 vCPU, 4 s) goes to host 1. VM2 (t=1, 2 vCPUs, 3 s) fits nowhere: its earliest host is
/// host 1 (free at 4 s, when VM1 ends) — the reservation is on the host where enough frees
/// first. VM3 (t=2, 1 vCPU, 20 s) fits only on host 1, the reserved host, and would end
/// at 22 > 4 with no spare slot: it waits. VM2 starts at 4 on host 1, VM3 at 7 when VM2
/// ends there.
/// Starts: VM0 0, VM1 0, VM2 4, VM3 7.
#[test]
fn easy_reserves_on_the_host_that_frees_first() {
    let mut cfg = config(Backfill::Easy, 2);
    cfg.cluster.hosts.push(cfg.cluster.hosts[0].clone());
    let vms = vec![
        vm(0, 0.0, 2, 10.0, 10.0),
        vm(1, 0.0, 1, 4.0, 4.0),
        vm(2, 1.0, 2, 3.0, 3.0),
        vm(3, 2.0, 1, 20.0, 20.0),
    ];
    let (adm, _, notes) = run(&cfg, vms);
    assert_eq!(starts(&adm), vec![0.0, 0.0, 4.0, 7.0]);
    assert!(notes.iter().any(|n| matches!(
        n,
        AdmissionNote::Reservation { vm: 2, host: 1, start, .. } if *start == s(4.0)
    )));
}

// ---- Properties on random one-host workloads with exact estimates. ----

fn workload() -> impl Strategy<Value = Vec<VmRequest>> {
    // (arrival gap, vCPUs, demand = estimate), whole seconds.
    prop::collection::vec((0u64..4, 1u32..5, 1u64..10), 1..30).prop_map(|v| {
        let mut t = 0;
        v.into_iter()
            .enumerate()
            .map(|(i, (gap, vcpus, d))| {
                t += gap;
                vm(i as u64, t as f64, vcpus, d as f64, d as f64)
            })
            .collect()
    })
}

/// At no instant do the admitted VMs hold more than the host's 4 slots.
fn within_capacity(vms: &[VmRequest], adm: &BTreeMap<u64, SimTime>, fin: &BTreeMap<u64, SimTime>) {
    let mut changes: Vec<(SimTime, i64)> = Vec::new();
    for v in vms {
        changes.push((adm[&v.id], i64::from(v.vcpus)));
        changes.push((fin[&v.id], -i64::from(v.vcpus)));
    }
    // Ends before starts at the same instant.
    changes.sort_by_key(|&(t, d)| (t, d));
    let mut used = 0;
    for (_, d) in changes {
        used += d;
        assert!(used <= 4, "more than 4 slots in use");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// EASY, FCFS order: the head never starts later than any reservation it was given,
    /// and every VM that started ahead of it fitted, by its estimate, before the shadow
    /// time or in the spare slots.
    #[test]
    fn easy_head_never_starts_after_its_reservation(vms in workload()) {
        let (adm, fin, notes) = run(&config(Backfill::Easy, 4), vms.clone());
        prop_assert_eq!(adm.len(), vms.len());
        within_capacity(&vms, &adm, &fin);
        for n in &notes {
            match *n {
                AdmissionNote::Reservation { vm, start, .. } => {
                    prop_assert!(adm[&vm] <= start, "VM {} reserved at {} started at {}", vm, start, adm[&vm]);
                }
                AdmissionNote::Backfill { vm, time, end_by_estimate, why, .. } => {
                    prop_assert_eq!(adm[&vm], time);
                    // Exact estimates: the VM ends when its estimate says.
                    prop_assert_eq!(fin[&vm], end_by_estimate);
                    match why {
                        BackfillWhy::EndsBefore { at, .. } => prop_assert!(end_by_estimate <= at),
                        BackfillWhy::SpareCapacity { spare_vcpus, .. } => {
                            prop_assert!(u64::from(vms[vm as usize].vcpus) <= spare_vcpus)
                        }
                        _ => prop_assert!(false, "one host: {:?}", why),
                    }
                }
            }
        }
    }

    /// Conservative: no VM starts later than the reservation it got on arrival, and
    /// reservations only move earlier; a VM started ahead of others ran exactly its
    /// estimate.
    #[test]
    fn conservative_reservations_only_move_earlier(vms in workload()) {
        let (adm, fin, notes) = run(&config(Backfill::Conservative, 4), vms.clone());
        prop_assert_eq!(adm.len(), vms.len());
        within_capacity(&vms, &adm, &fin);
        let mut last: BTreeMap<u64, SimTime> = BTreeMap::new();
        for n in &notes {
            match *n {
                AdmissionNote::Reservation { vm, start, time, .. } => {
                    if let Some(prev) = last.get(&vm) {
                        prop_assert!(start <= *prev, "VM {} moved later: {} -> {}", vm, prev, start);
                    } else {
                        // The first one is made on arrival.
                        prop_assert_eq!(time, vms[vm as usize].arrival);
                    }
                    last.insert(vm, start);
                    prop_assert!(adm[&vm] <= start);
                }
                AdmissionNote::Backfill { vm, end_by_estimate, .. } => {
                    prop_assert_eq!(fin[&vm], end_by_estimate);
                }
            }
        }
    }

    /// Every VM starts (none starves) under both, with sjf order too.
    #[test]
    fn every_vm_starts_under_both(vms in workload()) {
        for b in [Backfill::Easy, Backfill::Conservative] {
            for order in ["fcfs", "sjf"] {
                let mut cfg = config(b, 4);
                cfg.admission.policy = order.into();
                let (adm, fin, _) = run(&cfg, vms.clone());
                prop_assert_eq!(adm.len(), vms.len());
                within_capacity(&vms, &adm, &fin);
            }
        }
    }
}
