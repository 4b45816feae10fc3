//! Live migration through the engine, to the nanosecond against the closed form
//! (`sim::precopy`), refusals and abandons, and threshold consolidation by hand.

use sim::observer::Collect;
use sim::{
    ConsolidationSpec, DeviceKind, DeviceSpec, HostSpec, IoBursts, IoProfile, LifecycleAction,
    LifecycleEvent, MemoryProfile, MigrationReason, MigrationSpec, NullObserver, Placement,
    SimConfig, SimTime, SliceEnd, VirtualDevice, VmProfile, VmRequest, simulate,
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

/// Two hosts as [`two_hosts`], each with one NIC of `bandwidth` B/s, `latency` and one
/// channel, and no dedicated migration link: migrations go through host 0's NIC in
/// chunks of `chunk` bytes.
fn two_hosts_with_nics(bandwidth: f64, latency: SimTime, chunk: u64) -> SimConfig {
    let mut cfg = two_hosts();
    for h in cfg.cluster.hosts.specs_mut() {
        h.resources.devices.push(DeviceSpec {
            kind: DeviceKind::Nic,
            bandwidth_bytes_per_s: bandwidth,
            latency,
            channels: 1,
        });
    }
    let m = cfg.datacenter.migration.as_mut().unwrap();
    m.bandwidth_bytes_per_s = 0;
    m.chunk_bytes = chunk;
    cfg
}

/// The worked case of [`precopy_times_to_the_nanosecond`] through an otherwise idle NIC
/// of 1 GB/s with no latency, in chunks of 64 MiB: a chunk of c bytes takes c ns, so the
/// rounds, the downtime and the end are the formula's to the nanosecond (pause at
/// 15.384 581 880 s, end at 15.424 195 961 s, downtime 39 614 081 ns).
#[test]
fn precopy_through_an_idle_nic_matches_the_formula() {
    let mut cfg = two_hosts_with_nics(1e9, SimTime::ZERO, 64 * MIB);
    cfg.events = vec![migrate(10, 0, 1)];
    let mut obs = Collect::default();
    let stats = simulate(&cfg, vec![vm(0, 0, 100, 4096, 200.0)], &mut obs).unwrap();
    let m = &stats.datacenter.migration;
    assert_eq!((m.refused, m.aborted, m.records.len()), (0, 0, 1));
    let r = &m.records[0];
    assert_eq!(r.rounds, 3);
    assert_eq!(r.end, SimTime(10_000_000_000 + 5_424_195_961));
    assert_eq!(r.downtime, SimTime(39_614_081));
    assert_eq!(r.transferred_bytes, 5_424_195_961);
    let v = &obs.vms[0];
    assert_eq!((v.host, v.finish), (1, SimTime(100_039_614_081)));
    assert_eq!(v.downtime, SimTime(39_614_081));
    assert_eq!(v.wait(), SimTime::ZERO);
    let pause = obs
        .slices
        .iter()
        .find(|s| s.reason == SliceEnd::Migrated)
        .unwrap();
    assert_eq!(pause.end, SimTime(15_384_581_880));
}

/// Chunks of 1 GiB = 1 073 741 824 B on a NIC of 1 GB/s with 1 ms latency: a chunk of c
/// bytes holds the NIC for 1 000 000 + c ns. M = 4096 MiB, D = 200 MiB/s = 209 715 200 B/s.
///
/// * round 0: 4 chunks, 4 × 1 074 741 824 = 4 298 967 296 ns; dirtied
///   ⌊0.2097152 × 4 298 967 296⌋ = 901 558 786 B;
/// * round 1: one chunk, 902 558 786 ns; dirtied ⌊0.2097152 × 902 558 786⌋ = 189 280 296 B;
/// * round 2: 190 280 296 ns; dirtied 39 904 670 B ≤ 64 MiB: stop;
/// * stop-copy: 40 904 670 ns. Pre-copy 5 391 806 378 ns; end 10 s + 5 432 711 048 ns.
///
/// The engine and `sim::precopy_over` both give these.
#[test]
fn chunks_with_latency_by_hand() {
    let mut cfg = two_hosts_with_nics(1e9, SimTime::from_millis(1), 1024 * MIB);
    cfg.events = vec![migrate(10, 0, 1)];
    let mut obs = Collect::default();
    let stats = simulate(&cfg, vec![vm(0, 0, 100, 4096, 200.0)], &mut obs).unwrap();
    let r = &stats.datacenter.migration.records[0];
    assert_eq!(r.rounds, 3);
    assert_eq!(r.downtime, SimTime(40_904_670));
    assert_eq!(r.end, SimTime(10_000_000_000 + 5_432_711_048));
    assert_eq!(
        r.transferred_bytes,
        4_294_967_296 + 901_558_786 + 189_280_296 + 39_904_670
    );
    let spec = cfg.datacenter.migration.as_ref().unwrap();
    let link = sim::Link::nic(spec, &cfg.cluster.hosts[0].resources.devices[0]);
    let plan = sim::precopy_over(spec, &link, 4096 * MIB, 4096 * MIB, 200 * MIB);
    assert_eq!(plan.precopy, SimTime(5_391_806_378));
    assert_eq!(r.end, SimTime::from_secs(10).saturating_add(plan.total()));
}

/// Two migrations from host 0 at the same instant share its NIC (1 GB/s, one channel):
/// VMs of 128 MiB that dirty nothing, chunks of 64 MiB = 67 108 864 B (67 108 864 ns
/// each). FIFO: A1 (0–1×), B1 queued; A2 queued behind B1: B1 (1×–2×), A2 (2×–3×), B2
/// (3×–4×). Migration A ends at 10 s + 3 × 67 108 864 = 10.201 326 592 s, B at
/// 10 s + 4 × 67 108 864 = 10.268 435 456 s (on a dedicated link both would end at
/// 10.134 217 728 s). Nothing dirtied: one round, no downtime.
#[test]
fn migrations_share_the_source_nic() {
    let mut cfg = two_hosts_with_nics(1e9, SimTime::ZERO, 64 * MIB);
    cfg.events = vec![migrate(10, 0, 1), migrate(10, 1, 1)];
    let mut obs = Collect::default();
    let vms = vec![vm(0, 0, 100, 128, 0.0), vm(1, 0, 100, 128, 0.0)];
    let stats = simulate(&cfg, vms, &mut obs).unwrap();
    let m = &stats.datacenter.migration;
    let end = |id| m.records.iter().find(|r| r.vm == id).unwrap().end;
    assert_eq!(end(0), SimTime(10_201_326_592));
    assert_eq!(end(1), SimTime(10_268_435_456));
    assert!(
        m.records
            .iter()
            .all(|r| r.rounds == 1 && r.downtime == SimTime::ZERO)
    );
}

/// Without a dedicated link, a host without a NIC cannot migrate: a configuration error.
#[test]
fn a_host_without_nic_needs_the_dedicated_link() {
    let mut cfg = two_hosts_with_nics(1e9, SimTime::ZERO, 64 * MIB);
    cfg.cluster.hosts[1].resources.devices.clear();
    let e = simulate(&cfg, vec![vm(0, 0, 1, 0, 0.0)], &mut NullObserver)
        .unwrap_err()
        .to_string();
    assert!(e.contains("host 1 has no NIC"), "{e}");
}

/// Migration chunks queue behind the VMs' own requests to the NIC (1 GB/s, 10 ms latency,
/// one channel; chunks of 64 MiB hold it 10 000 000 + 67 108 864 = 77 108 864 ns). VM 1
/// (1 s of work, one request of 0 bytes after half of it: 10 ms of NIC latency) holds
/// the NIC from 0.5 s to 0.51 s. VM 0 (128 MiB, dirtying nothing) starts migrating at
/// 0.505 s: its first chunk waits until 0.51 s, runs to 0.587 108 864 s, the second to
/// 0.664 217 728 s; nothing dirtied, so the migration ends there — 5 ms later than on an
/// idle NIC (0.505 + 2 × 0.077 108 864 = 0.659 217 728 s).
#[test]
fn chunks_wait_behind_the_vms_own_requests() {
    let mut cfg = two_hosts_with_nics(1e9, SimTime::from_millis(10), 64 * MIB);
    cfg.events = vec![LifecycleEvent {
        at: SimTime::from_millis(505),
        vm: 0,
        action: LifecycleAction::Migrate { to_host: 1 },
    }];
    let mut io_vm = vm(1, 0, 1, 0, 0.0);
    io_vm.profile.memory = None;
    io_vm.profile.io = Some(IoProfile {
        bursts: IoBursts::Count(1),
        size_mean_bytes: 0.0,
        device: DeviceKind::Nic,
        virtual_device: VirtualDevice::Passthrough,
    });
    let mut obs = Collect::default();
    let stats = simulate(&cfg, vec![vm(0, 0, 100, 128, 0.0), io_vm], &mut obs).unwrap();
    let v1 = obs.vms.iter().find(|v| v.id == 1).unwrap();
    assert_eq!((v1.host, v1.io_requests), (0, 1));
    let r = &stats.datacenter.migration.records[0];
    assert_eq!(r.start, SimTime::from_millis(505));
    assert_eq!(r.end, SimTime(664_217_728));
    assert_eq!((r.rounds, r.downtime), (1, SimTime::ZERO));
}
