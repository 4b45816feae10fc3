//! Live migration through the engine, to the nanosecond against the closed form
//! (`sim::precopy`), refusals and abandons, and threshold consolidation by hand.

use sim::observer::Collect;
use sim::{
    ConsolidationSpec, HostSpec, LifecycleAction, LifecycleEvent, MemoryProfile, MigrationReason,
    MigrationSpec, NullObserver, Placement, SimConfig, SimTime, SliceEnd, VmProfile, VmRequest,
    simulate,
};

const MIB: u64 = 1 << 20;

fn vm(id: u64, arrival_s: u64, demand_s: u64, memory_mib: u64, dirty: f32) -> VmRequest {
    VmRequest {
        id,
        arrival: SimTime::from_secs(arrival_s),
        vcpus: 1,
        memory_mib,
        priority: 0,
        demand: SimTime::from_secs(demand_s),
        estimate: SimTime::from_secs(demand_s),
        tenant: None,
        profile: VmProfile {
            memory: Some(MemoryProfile {
                working_set_mib: memory_mib,
                touches_per_ms: 0.0,
            }),
            dirty_mib_per_s: dirty,
            ..Default::default()
        },
    }
}

/// Two hosts of 4 pCPUs and 8 GiB, a 1 GB/s migration link, stop-copy at 64 MiB.
fn two_hosts() -> SimConfig {
    let mut cfg = SimConfig::single_host(4, 8192);
    cfg.cluster.hosts.push(HostSpec::new(4, 8192));
    cfg.datacenter.migration = Some(MigrationSpec::with_bandwidth(1_000_000_000));
    cfg
}

fn migrate(at_s: u64, vm: u64, to_host: u32) -> LifecycleEvent {
    LifecycleEvent {
        at: SimTime::from_secs(at_s),
        vm,
        action: LifecycleAction::Migrate { to_host },
    }
}

/// M = 4096 MiB, D = 200 MiB/s, B = 10⁹ B/s, stop-copy 64 MiB, migrated at 10 s while it
/// runs (100 s of work) on host 0. By hand (as in `sim::migration`'s unit test): rounds of
/// 4 294 967 296, 900 719 925 and 188 894 659 B (1 ns per byte), pre-copy 5 384 581 880 ns;
/// then 39 614 081 B left: downtime 39 614 081 ns. So the VM pauses at
/// 15.384 581 880 s, resumes on host 1 at 15.424 195 961 s, and finishes its 100 s of
/// work 39 614 081 ns late, at 100.039 614 081 s, with no ready wait charged.
#[test]
fn precopy_times_to_the_nanosecond() {
    let mut cfg = two_hosts();
    cfg.events = vec![migrate(10, 0, 1)];
    let mut obs = Collect::default();
    let stats = simulate(&cfg, vec![vm(0, 0, 100, 4096, 200.0)], &mut obs).unwrap();
    let m = &stats.datacenter.migration;
    assert!(m.configured);
    assert_eq!((m.refused, m.aborted, m.records.len()), (0, 0, 1));
    let r = &m.records[0];
    assert_eq!((r.vm, r.from, r.to, r.rounds), (0, 0, 1, 3));
    assert_eq!(r.start, SimTime::from_secs(10));
    assert_eq!(r.end, SimTime(10_000_000_000 + 5_424_195_961));
    assert_eq!(r.downtime, SimTime(39_614_081));
    assert_eq!(r.transferred_bytes, 5_424_195_961);
    assert_eq!(r.reason, MigrationReason::Manual);
    // Agrees with the closed form.
    let plan = sim::precopy(
        cfg.datacenter.migration.as_ref().unwrap(),
        4096 * MIB,
        4096 * MIB,
        200 * MIB,
    );
    assert_eq!(r.end, SimTime::from_secs(10).saturating_add(plan.total()));

    let v = &obs.vms[0];
    assert_eq!(v.host, 1);
    assert_eq!(v.finish, SimTime(100_039_614_081));
    assert_eq!(v.ready_wait, SimTime::ZERO);
    // Its wait is not charged for the downtime: turnaround − service − downtime = 0.
    assert_eq!(v.downtime, SimTime(39_614_081));
    assert_eq!(v.wait(), SimTime::ZERO);
    // The slice on host 0 ends at the pause; the next starts on host 1 at the resume.
    let pause = obs
        .slices
        .iter()
        .find(|s| s.reason == SliceEnd::Migrated)
        .unwrap();
    assert_eq!((pause.host, pause.end), (0, SimTime(15_384_581_880)));
    let last = obs.slices.last().unwrap();
    assert_eq!((last.host, last.start), (1, SimTime(15_424_195_961)));
}

/// A destination without room (host 1 holds 6 GiB of VM 1; VM 0 needs 4 GiB of its 8)
/// refuses: counted, and VM 0 finishes on host 0 as if nothing happened. A VM that ends
/// during its pre-copy abandons it and gives the destination its booking back (VM 2 of
/// 8 GiB is then admitted to host 1 at once).
#[test]
fn refusals_and_abandons_are_counted() {
    let mut cfg = two_hosts();
    cfg.events = vec![migrate(1, 0, 1)];
    let mut obs = Collect::default();
    let mut big = vm(1, 0, 50, 6144, 0.0);
    big.vcpus = 1;
    // VM 0 on host 0 (first fit), VM 1 (6 GiB) does not fit beside it: host 1.
    let stats = simulate(&cfg, vec![vm(0, 0, 10, 4096, 0.0), big], &mut obs).unwrap();
    let m = &stats.datacenter.migration;
    assert_eq!((m.refused, m.aborted, m.records.len()), (1, 0, 0));
    let v0 = obs.vms.iter().find(|v| v.id == 0).unwrap();
    assert_eq!((v0.host, v0.finish), (0, SimTime::from_secs(10)));

    // VM 0 (2 s of work) starts migrating at 1 s; its pre-copy takes 4.29 s: it finishes
    // at 2 s on host 0 first. VM 1 (8 GiB, arriving at 3 s) fits on host 1 only once the
    // booking is gone: admitted at 3 s.
    let mut cfg = two_hosts();
    cfg.events = vec![migrate(1, 0, 1)];
    let mut obs = Collect::default();
    let vms = vec![vm(0, 0, 2, 4096, 200.0), vm(1, 3, 1, 8192, 0.0)];
    let stats = simulate(&cfg, vms, &mut obs).unwrap();
    let m = &stats.datacenter.migration;
    assert_eq!((m.refused, m.aborted, m.records.len()), (0, 1, 0));
    let v1 = obs.vms.iter().find(|v| v.id == 1).unwrap();
    assert_eq!(v1.admission, SimTime::from_secs(3));
}

/// A migration to a host that does not exist, or without migration settings, is a
/// configuration error.
#[test]
fn bad_migrations_are_configuration_errors() {
    let mut cfg = two_hosts();
    cfg.events = vec![migrate(1, 0, 2)];
    let e = simulate(&cfg, vec![vm(0, 0, 1, 0, 0.0)], &mut NullObserver)
        .unwrap_err()
        .to_string();
    assert!(e.contains("to_host 2 does not exist"), "{e}");
    cfg.events = vec![migrate(1, 0, 1)];
    cfg.datacenter.migration = None;
    assert!(simulate(&cfg, vec![vm(0, 0, 1, 0, 0.0)], &mut NullObserver).is_err());
    let mut cfg = two_hosts();
    cfg.datacenter.consolidation = Some(ConsolidationSpec {
        policy: "threshold".into(),
        interval: SimTime::from_secs(10),
        low: 0.5,
        high: 0.5,
    });
    let e = simulate(&cfg, vec![vm(0, 0, 1, 0, 0.0)], &mut NullObserver)
        .unwrap_err()
        .to_string();
    assert!(e.contains("low < high"), "{e}");
}

/// Threshold consolidation by hand. Worst fit puts VM 0 on host 0 and VM 1 on host 1
/// (each 1 vCPU of 4 pCPUs, busy all the time: u = 0.25 on both). At the first decision
/// (10 s), with low = 0.3 and high = 0.8, both hosts are under `low`; host 0 (lowest
/// number on ties) is emptied onto host 1 (0.25 + 0.25 ≤ 0.8), which then receives and
/// is left alone. VM 0 holds no memory: a pre-copy of nothing, no downtime, so it
/// migrates at 10 s in 0 ns, and finishes at 100 s on host 1. Later decisions find one
/// host at 0.5: nothing to do.
#[test]
fn threshold_consolidation_empties_the_least_used_host() {
    let mut cfg = two_hosts();
    cfg.cluster.placement = Placement::WorstFit;
    cfg.datacenter.consolidation = Some(ConsolidationSpec {
        policy: "threshold".into(),
        interval: SimTime::from_secs(10),
        low: 0.3,
        high: 0.8,
    });
    let mut obs = Collect::default();
    let vms = vec![vm(0, 0, 100, 0, 0.0), vm(1, 0, 100, 0, 0.0)];
    let stats = simulate(&cfg, vms, &mut obs).unwrap();
    let m = &stats.datacenter.migration;
    assert_eq!(m.records.len(), 1, "{:?}", m.records);
    let r = &m.records[0];
    assert_eq!((r.vm, r.from, r.to), (0, 0, 1));
    assert_eq!(
        (r.start, r.end),
        (SimTime::from_secs(10), SimTime::from_secs(10))
    );
    assert_eq!(r.reason, MigrationReason::Underload);
    let v0 = obs.vms.iter().find(|v| v.id == 0).unwrap();
    assert_eq!((v0.host, v0.finish), (1, SimTime::from_secs(100)));
    assert_eq!(stats.makespan, SimTime::from_secs(100));
}
