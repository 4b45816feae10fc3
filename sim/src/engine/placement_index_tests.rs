//! Tests of the placement index: hand-worked choices, and a property test against the
//! linear scan on random clusters and VM streams.

use proptest::prelude::*;

use super::*;

const RULES: [Placement; 3] = [Placement::FirstFit, Placement::BestFit, Placement::WorstFit];

fn free(vcpus: u64, mem: u64) -> HostFree {
    HostFree {
        vcpus,
        mem,
        limit: u32::MAX,
    }
}

/// Four hosts (free slots, free MiB): 0 (4, 100), 1 (2, 500), 2 (8, 50), 3 (2, 500).
/// A VM of 2 vCPUs and 100 MiB fits 0, 1 and 3 (host 2 lacks memory).
/// First-fit: 0. Best-fit: smallest (slots, mem) = (2, 500), hosts 1 and 3 tie → 1.
/// Worst-fit: largest = (4, 100) → 0 (host 2's 8 slots do not count: it does not fit).
#[test]
fn hand_worked_choices() {
    let hosts = [free(4, 100), free(2, 500), free(8, 50), free(2, 500)];
    let pick = |rule| PlacementIndex::new(rule, hosts).choose(2, 100);
    assert_eq!(pick(Placement::FirstFit), Some(0));
    assert_eq!(pick(Placement::BestFit), Some(1));
    assert_eq!(pick(Placement::WorstFit), Some(0));
    // 9 slots fit nowhere; 8 slots and 50 MiB only on host 2.
    for rule in RULES {
        let ix = PlacementIndex::new(rule, hosts);
        assert_eq!(ix.choose(9, 0), None);
        assert_eq!(ix.choose(8, 50), Some(2));
    }
}

/// Worst-fit ties go to the lowest host; leaving and re-entering the candidate set moves
/// the choice and back. Hosts 0..3 all (4, 100): worst-fit and best-fit pick 0; without 0,
/// host 1; host 1 filled to (1, 100) makes best-fit pick it (smallest slots) and worst-fit
/// pick 2.
#[test]
fn ties_and_candidates() {
    for rule in RULES {
        let mut ix = PlacementIndex::new(rule, [free(4, 100); 4]);
        assert_eq!(ix.choose(1, 10), Some(0));
        ix.set_candidate(0, false);
        assert_eq!(ix.choose(1, 10), Some(1));
        ix.update(1, 1, 100);
        let expected = match rule {
            Placement::FirstFit | Placement::BestFit => 1,
            Placement::WorstFit => 2,
        };
        assert_eq!(ix.choose(1, 10), Some(expected), "{rule:?}");
        // Back in, with its free quantities kept: (4, 100), the top for worst-fit.
        ix.set_candidate(0, true);
        let expected = match rule {
            Placement::FirstFit | Placement::WorstFit => 0,
            Placement::BestFit => 1,
        };
        assert_eq!(ix.choose(1, 10), Some(expected), "{rule:?}");
        // A host updated while out comes back with the new figures.
        ix.set_candidate(3, false);
        ix.update(3, 9, 100);
        assert_eq!(ix.choose(9, 0), None);
        ix.set_candidate(3, true);
        assert_eq!(ix.choose(9, 0), Some(3));
    }
}

/// Under gang scheduling a host's limit (its pCPUs) bounds a VM's vCPUs: host 0 has 8 free
/// slots but 4 pCPUs, host 1 has 6 slots and 8 pCPUs; a 5-vCPU VM goes to host 1 under
/// every rule, a 4-vCPU one to 1 (best-fit: 6 < 8), 0 (worst-fit, first-fit).
#[test]
fn the_limit_filters_hosts() {
    let hosts = [
        HostFree {
            vcpus: 8,
            mem: 100,
            limit: 4,
        },
        HostFree {
            vcpus: 6,
            mem: 100,
            limit: 8,
        },
    ];
    for rule in RULES {
        let ix = PlacementIndex::new(rule, hosts);
        assert_eq!(ix.choose(5, 0), Some(1), "{rule:?}");
        let four = if rule == Placement::BestFit { 1 } else { 0 };
        assert_eq!(ix.choose(4, 0), Some(four), "{rule:?}");
    }
}

/// Worst-fit's key tree: hosts 0 (4, 100), 1 (2, 500), 2 (8, 50). A VM of (1, 0) takes the
/// most slots, host 2; of (2, 100), host 0 (host 2 lacks memory). Host 1, out of the
/// candidates, given more free slots than 32 bits hold (unlimited overcommit) sends
/// worst-fit to the ordered sets: still host 2 for (1, 0) while host 1 is out, then host 1
/// for (1, 0) and (5, 100) (nothing else has 5 slots and 100 MiB); back to (2, 500),
/// nothing fits (5, 100) and host 0 takes (2, 100). Without candidates nothing fits until
/// host 2 enters, which then takes (1, 0) but not (1, 100).
#[test]
fn worst_fit_key_tree_and_its_fallback() {
    let hosts = [free(4, 100), free(2, 500), free(8, 50)];
    let mut ix = PlacementIndex::new(Placement::WorstFit, hosts);
    assert!(!ix.worst.is_empty() && ix.classes.is_empty());
    assert_eq!(ix.choose(1, 0), Some(2));
    assert_eq!(ix.choose(2, 100), Some(0));
    ix.set_candidate(1, false);
    ix.update(1, u64::MAX, 500);
    assert!(ix.worst.is_empty() && !ix.classes.is_empty());
    assert_eq!(ix.choose(1, 0), Some(2));
    ix.set_candidate(1, true);
    assert_eq!(ix.choose(1, 0), Some(1));
    assert_eq!(ix.choose(5, 100), Some(1));
    ix.update(1, 2, 500);
    assert_eq!(ix.choose(5, 100), None);
    assert_eq!(ix.choose(2, 100), Some(0));

    let mut ix = PlacementIndex::without_candidates(Placement::WorstFit, hosts);
    assert_eq!(ix.choose(1, 0), None);
    ix.set_candidate(2, true);
    assert_eq!(ix.choose(1, 0), Some(2));
    assert_eq!(ix.choose(1, 100), None);
}

/// A host group: count, pCPUs, vCPU overcommit ×4, memory (GiB), memory overcommit ×4.
fn group() -> impl Strategy<Value = (usize, u32, u32, u64, u32)> {
    // (Overcommit ×4 of 9: unlimited, more free vCPU slots than 32 bits hold.)
    (1usize..12, 1u32..17, 4u32..10, 1u64..9, 4u32..6)
}

#[derive(Clone, Debug)]
enum Op {
    /// A VM of (vCPUs, MiB) asks to be placed.
    Place(u64, u64),
    /// The n-th (modulo) resident VM leaves.
    Leave(usize),
    /// Host n (modulo) leaves or re-enters the candidate set.
    Toggle(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u64..9, prop_oneof![Just(0u64), Just(512), Just(1024), 0u64..9000])
            .prop_map(|(v, m)| Op::Place(v, m)),
        3 => any::<usize>().prop_map(Op::Leave),
        1 => any::<usize>().prop_map(Op::Toggle),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The index picks what the linear scan picks, ties included, for every rule, through
    /// admissions, departures and candidate changes on clusters of host groups of
    /// different sizes and overcommit ratios (unlimited among them), with and without gang
    /// limits.
    #[test]
    fn index_agrees_with_the_scan(
        groups in prop::collection::vec(group(), 1..5),
        gang in any::<bool>(),
        ops in prop::collection::vec(op(), 1..300),
    ) {
        // Capacities as the engine derives them: floor(pCPUs × overcommit), floor(MiB ×
        // memory overcommit).
        let mut caps = Vec::new();
        for &(count, pcpus, oc4, gib, moc4) in &groups {
            for _ in 0..count {
                let vcap = if oc4 == 9 {
                    u64::MAX
                } else {
                    u64::from(pcpus) * u64::from(oc4) / 4
                };
                let mcap = gib * 1024 * u64::from(moc4) / 4;
                let limit = if gang { pcpus } else { u32::MAX };
                caps.push((vcap, mcap, limit));
            }
        }
        for rule in RULES {
            let mut hosts: Vec<HostFree> = caps
                .iter()
                .map(|&(v, m, limit)| HostFree { vcpus: v, mem: m, limit })
                .collect();
            let mut candidate = vec![true; hosts.len()];
            let mut ix = PlacementIndex::new(rule, hosts.iter().copied());
            let mut resident: Vec<(usize, u64, u64)> = Vec::new();
            for op in &ops {
                match *op {
                    Op::Place(v, m) => {
                        let want = reference_choice(rule, &hosts, &candidate, v, m);
                        prop_assert_eq!(ix.choose(v, m), want, "{:?} VM ({}, {})", rule, v, m);
                        if let Some(h) = want {
                            hosts[h].vcpus -= v;
                            hosts[h].mem -= m;
                            ix.update(h, hosts[h].vcpus, hosts[h].mem);
                            resident.push((h, v, m));
                        }
                    }
                    Op::Leave(n) if !resident.is_empty() => {
                        let (h, v, m) = resident.swap_remove(n % resident.len());
                        hosts[h].vcpus += v;
                        hosts[h].mem += m;
                        ix.update(h, hosts[h].vcpus, hosts[h].mem);
                    }
                    Op::Leave(_) => {}
                    Op::Toggle(n) => {
                        let h = n % hosts.len();
                        candidate[h] = !candidate[h];
                        ix.set_candidate(h, candidate[h]);
                    }
                }
                // (Free slots saturated at u32::MAX, as `max_free` documents.)
                let top = (0..hosts.len())
                    .filter(|&h| candidate[h])
                    .fold((0, 0), |(v, m), h| (v.max(hosts[h].vcpus), m.max(hosts[h].mem)));
                let top = (top.0.min(u64::from(u32::MAX)), top.1);
                prop_assert_eq!(ix.max_free(), top);
            }
        }
    }
}
