//! The resource model (devices, paging, vCPU mapping, SMT, NUMA, lifecycle) against hand
//! calculation and queueing theory.

mod common;

use sim::observer::Collect;
use sim::rng::{purpose, stream};
use sim::{
    DeviceKind, DeviceSpec, IoBursts, IoProfile, LifecycleAction, LifecycleEvent, Mapping,
    MemoryProfile, SimConfig, SimTime, VirtualDevice, VmProfile, VmRequest, simulate,
};

fn secs(x: f64) -> SimTime {
    SimTime::from_secs_f64(x).unwrap()
}

fn vm(id: u64, arrival: f64, demand: f64) -> VmRequest {
    VmRequest {
        id,
        arrival: secs(arrival),
        vcpus: 1,
        memory_mib: 0,
        priority: 0,
        demand: secs(demand),
        estimate: secs(demand),
        tenant: None,
        profile: VmProfile::default(),
    }
}

fn run(cfg: &SimConfig, vms: Vec<VmRequest>) -> (Collect, sim::RunStats) {
    let mut c = Collect::default();
    let stats = simulate(cfg, vms, &mut c).unwrap();
    assert_eq!(
        stats.vm_time_area_ns,
        c.vms
            .iter()
            .map(|r| u128::from(r.turnaround().nanos()))
            .sum::<u128>(),
        "Little's law"
    );
    c.vms.sort_by_key(|r| r.id);
    (c, stats)
}

fn finishes(c: &Collect) -> Vec<f64> {
    c.vms.iter().map(|r| r.finish.as_secs_f64()).collect()
}

fn disk(latency_s: f64, bandwidth: f64, channels: u32) -> DeviceSpec {
    DeviceSpec {
        kind: DeviceKind::Disk,
        bandwidth_bytes_per_s: bandwidth,
        latency: secs(latency_s),
        channels,
    }
}

fn io(requests: u32, size_mean_bytes: f64) -> IoProfile {
    IoProfile {
        bursts: IoBursts::Count(requests),
        size_mean_bytes,
        device: DeviceKind::Disk,
        virtual_device: VirtualDevice::Passthrough,
    }
}

/// VMs arriving as a Poisson process, each doing one request of exponential size right
/// after 1 ns of CPU: the disk sees Poisson arrivals with exponential service.
fn device_queue_wait(channels: u32, lambda: f64, mean_service: f64, n: u64) -> f64 {
    let mut cfg = SimConfig::single_host(64, 0);
    cfg.cluster.hosts[0].resources.devices = vec![disk(0.0, 1e6, channels)];
    cfg.warmup_vms = 10_000;
    let mut rng = stream(21, 0, purpose::ARRIVALS);
    let exp = rand_distr::Exp::new(lambda).unwrap();
    let mut t = 0.0;
    let vms = (0..n).map(move |id| {
        t += rand_distr::Distribution::sample(&exp, &mut rng);
        VmRequest {
            demand: SimTime(2),
            estimate: SimTime(2),
            profile: VmProfile {
                io: Some(io(1, mean_service * 1e6)),
                memory: None,
                ..Default::default()
            },
            ..vm(id, t, 0.0)
        }
    });
    let mut m = QueueWait::default();
    simulate(&cfg, vms, &mut m).unwrap();
    m.sum / m.n as f64
}

#[derive(Default)]
struct QueueWait {
    sum: f64,
    n: u64,
}
impl sim::Observer for QueueWait {
    fn on_vm_finished(&mut self, r: &sim::VmRecord) {
        if !r.warmup {
            // Time blocked minus service = time queued at the device.
            self.sum += r.io_wait.as_secs_f64() - r.io_service.as_secs_f64();
            self.n += 1;
        }
    }
}

#[test]
fn one_disk_is_an_mm1_queue() {
    // λ = 80/s, E[S] = 10 ms: ρ = 0.8, μ = 100/s, Wq = ρ / (μ − λ) = 0.8 / 20 = 0.04 s.
    // 1,000,000 requests; M/M/1 at ρ = 0.8 has a 1.3 % run-to-run sd of the mean wait
    // for 1M customers (DESIGN §7) → tolerance 5 %.
    let w = device_queue_wait(1, 80.0, 0.01, 1_000_000);
    assert!(
        (w / 0.04 - 1.0).abs() < 0.05,
        "disk queue wait {w} vs M/M/1 0.04"
    );
}

#[test]
fn a_disk_with_channels_is_an_mmk_queue() {
    // k = 4 channels, λ = 320/s, E[S] = 10 ms: a = 3.2, ρ = 0.8.
    // Wq = C(4, 3.2) / (4μ − λ) = C / 80; C(4, 3.2) = 0.5964 (sim::queueing::erlang_c).
    let expected = sim::queueing::mmc_mean_wait(4, 320.0, 0.01);
    assert!((expected - 0.5964 / 80.0).abs() < 1e-4, "{expected}");
    // 1,000,000 requests; tolerance 6 % (M/M/k spreads more than M/M/1 at equal ρ).
    let w = device_queue_wait(4, 320.0, 0.01, 1_000_000);
    assert!(
        (w / expected - 1.0).abs() < 0.06,
        "disk queue wait {w} vs M/M/4 {expected}"
    );
}

#[test]
fn io_overlaps_with_another_vms_cpu() {
    // One pCPU, two VMs of 70 s of CPU each. CPU-bound: FCFS finishes them at 70 and 140,
    // the pCPU busy throughout.
    let mut cfg = SimConfig::textbook("fcfs", SimTime::from_secs(1));
    cfg.cluster.hosts[0].resources.devices = vec![disk(3.0, 1e9, 1)];
    let (c, s) = run(&cfg, vec![vm(0, 0.0, 70.0), vm(1, 0.0, 70.0)]);
    assert_eq!(finishes(&c), vec![70.0, 140.0]);
    assert_eq!(s.busy_ns, 140_000_000_000);
    // With 30 % of each VM's time in I/O: 9 requests of 3 s between 10 bursts of 7 s
    // (alone a VM takes 70 + 27 = 97 s, its CPU busy 70 / 97 = 72 %). Together, each I/O
    // of one VM overlaps a burst of the other: A runs [14k, 14k + 7], B [14k + 7, 14k + 14]
    // for k = 0..9, so A finishes at 133, B at 140, and the pCPU is never idle.
    let with_io = |id| VmRequest {
        profile: VmProfile {
            io: Some(io(9, 0.0)),
            memory: None,
            ..Default::default()
        },
        ..vm(id, 0.0, 70.0)
    };
    let (c, s) = run(&cfg, vec![with_io(0), with_io(1)]);
    assert_eq!(finishes(&c), vec![133.0, 140.0]);
    assert_eq!(s.busy_ns, 140_000_000_000);
    assert_eq!(s.makespan, SimTime::from_secs(140));
    assert_eq!(c.vms[0].io_requests, 9);
    // io_wait = 9 × 3 s (the disk is never contended: one VM is always computing).
    assert_eq!(c.vms[0].io_wait, SimTime::from_secs(27));
    // wait = turnaround − CPU − I/O service: A 133 − 70 − 27 = 36, B 140 − 70 − 27 = 43.
    assert_eq!(c.vms[0].wait(), SimTime::from_secs(36));
    assert_eq!(c.vms[1].wait(), SimTime::from_secs(43));
    // Alone: 97 s, utilisation 70 / 97.
    let (c, s) = run(&cfg, vec![with_io(0)]);
    assert_eq!(finishes(&c), vec![97.0]);
    assert_eq!(s.busy_ns, 70_000_000_000);
}

fn thrash_case(working_set_gib: u64) -> (f64, u64) {
    // One host, 4 pCPUs, 8 GiB of memory; memory overcommit 2 admits four 4-GiB VMs.
    let mut cfg = SimConfig::single_host(4, 8 * 1024);
    cfg.cluster.hosts[0].memory_overcommit = 2.0;
    let vms = (0..4)
        .map(|id| VmRequest {
            memory_mib: 4 * 1024,
            profile: VmProfile {
                io: None,
                memory: Some(MemoryProfile {
                    working_set_mib: working_set_gib * 1024,
                    touches_per_ms: 100.0,
                }),
                ..Default::default()
            },
            ..vm(id, 0.0, 1.0)
        })
        .collect();
    let (c, _) = run(&cfg, vms);
    let mean_turnaround = c
        .vms
        .iter()
        .map(|r| r.turnaround().as_secs_f64())
        .sum::<f64>()
        / 4.0;
    (mean_turnaround, c.vms.iter().map(|r| r.major_faults).sum())
}

#[test]
fn memory_overcommit_thrashes_only_when_working_sets_exceed_memory() {
    // Working sets 4 × 1.5 GiB = 6 GiB ≤ 8 GiB: everything resident, no major faults,
    // each VM runs its 1 s alone on a pCPU.
    let (t, faults) = thrash_case(1); // 4 × 1 GiB
    assert_eq!(faults, 0);
    assert_eq!(t, 1.0);
    let (t2, faults2) = thrash_case(2); // 4 × 2 GiB = 8 GiB: still fits exactly
    assert_eq!((t2, faults2), (1.0, 0));
    // 4 × 3 GiB = 12 GiB > 8 GiB: resident fraction 8/12, each touch misses with
    // probability 1/3: 100 touches/ms → 33.3 faults per ms of CPU, ≈ 33,000 per VM, each
    // a 4 KiB swap-in of 100 µs + 8 µs on one shared swap disk: ≈ 4 × 33,000 × 108 µs
    // ≈ 14 s of swap work for 4 s of CPU. Turnaround explodes (thrashing).
    let (t3, faults3) = thrash_case(3);
    assert!(faults3 > 4 * 30_000, "major faults {faults3}");
    assert!(
        t3 > 10.0,
        "mean turnaround {t3} s should be ≥ 10× the 1 s without paging"
    );
}

#[test]
fn pinned_vcpus_cannot_use_an_idle_pcpu_elsewhere() {
    // Two pCPUs, overcommit 2, three VMs at t = 0 with demands A 4, B 1, C 3 (FCFS).
    // Pinned: A → pCPU0, B → pCPU1, C → pCPU0 (both have one pinned vCPU; lowest number).
    //   pCPU0: A 0–4, C 4–7; pCPU1: B 0–1, then idle. Finishes 4, 1, 7.
    // Floating: A on pCPU0 0–4, B on pCPU1 0–1, C takes pCPU1 at 1: 1–4. Finishes 4, 1, 4.
    let mut cfg = SimConfig::single_host(2, 0);
    cfg.cluster.hosts[0].overcommit = 2.0;
    let vms = vec![vm(0, 0.0, 4.0), vm(1, 0.0, 1.0), vm(2, 0.0, 3.0)];
    let (c, _) = run(&cfg, vms.clone());
    assert_eq!(finishes(&c), vec![4.0, 1.0, 4.0]);
    cfg.cpu.mapping = Mapping::Pinned;
    let (c, _) = run(&cfg, vms);
    assert_eq!(finishes(&c), vec![4.0, 1.0, 7.0]);
}

#[test]
fn floating_vcpus_migrate_and_pay_for_it() {
    // Two pCPUs, RR with a 1 s quantum, three VMs of 2 s at t = 0.
    // t=0: A→p0, B→p1. t=1: both quanta expire; C (ready since 0) goes first → p0 (its
    // first run); A (last on p0, now busy) → p1: one migration. t=2: A done; B → p1 (its
    // own), C quantum → p0 again. t=3: B, C done. Finishes A 2, B 3, C 3; 1 migration.
    let mut cfg = SimConfig::single_host(2, 0);
    cfg.cluster.hosts[0].overcommit = f64::INFINITY;
    cfg.cpu.policy = "rr".into();
    cfg.cpu.quantum = SimTime::from_secs(1);
    let vms = vec![vm(0, 0.0, 2.0), vm(1, 0.0, 2.0), vm(2, 0.0, 2.0)];
    let (c, s) = run(&cfg, vms);
    assert_eq!(finishes(&c), vec![2.0, 3.0, 3.0]);
    assert_eq!(s.migrations, 1);
    assert_eq!(c.vms[0].migrations, 1);
}

#[test]
fn smt_siblings_slow_each_other_down() {
    // One core with two threads, each thread at half speed while the other is busy.
    // A (1 s) and B (2 s) at t = 0: both at rate 0.5 until A has done its 1 s of work at
    // t = 2; B has done 1 s by then and runs its last 1 s alone: finishes at 3.
    let mut cfg = SimConfig::single_host(2, 0);
    cfg.cluster.hosts[0].resources.threads_per_core = 2;
    cfg.cluster.hosts[0].resources.smt_slowdown = 0.5;
    let (c, s) = run(&cfg, vec![vm(0, 0.0, 1.0), vm(1, 0.0, 2.0)]);
    assert_eq!(finishes(&c), vec![2.0, 3.0]);
    assert_eq!(s.work_ns, 3_000_000_000);
    // B's first planned end (t = 4 at rate 0.5) was cancelled when A finished: the run
    // ends at 3, when B does.
    assert_eq!(s.makespan, SimTime::from_secs(3));
    // On two separate cores (threads_per_core = 1) there is no slowdown: 1 and 2.
    cfg.cluster.hosts[0].resources.threads_per_core = 1;
    let (c, _) = run(&cfg, vec![vm(0, 0.0, 1.0), vm(1, 0.0, 2.0)]);
    assert_eq!(finishes(&c), vec![1.0, 2.0]);
}

#[test]
fn numa_remote_memory_slows_a_vcpu_down() {
    // Two nodes of one pCPU and 4 GiB each; a vCPU away from its VM's home node runs at
    // half speed. A (2 GiB, 1 s) → home node 0 (tie, lowest); B (1 GiB, 4 s) → node 1
    // (more free); C (1 GiB, 1 s) → node 1 (3 GiB free vs 2). A on p0, B on p1, C waits;
    // at t = 1 p0 frees and C runs there, remote, at rate 0.5: finishes at 3.
    let mut cfg = SimConfig::single_host(2, 8 * 1024);
    cfg.cluster.hosts[0].overcommit = 2.0;
    cfg.cluster.hosts[0].resources.numa_nodes = 2;
    cfg.cluster.hosts[0].resources.numa_remote_slowdown = 0.5;
    let mem = |v: VmRequest, gib: u64| VmRequest {
        memory_mib: gib * 1024,
        ..v
    };
    let vms = vec![
        mem(vm(0, 0.0, 1.0), 2),
        mem(vm(1, 0.0, 4.0), 1),
        mem(vm(2, 0.0, 1.0), 1),
    ];
    let (c, _) = run(&cfg, vms.clone());
    assert_eq!(finishes(&c), vec![1.0, 4.0, 3.0]);
    cfg.cluster.hosts[0].resources.numa_nodes = 1;
    let (c, _) = run(&cfg, vms);
    assert_eq!(finishes(&c), vec![1.0, 4.0, 2.0]);
}

#[test]
fn translation_overhead_first_touch_and_exits_cost_cpu() {
    // Translation overhead 0.25 → rate 1/1.25 = 0.8: 4 s of work take 5 s.
    let mut cfg = SimConfig::textbook("fcfs", SimTime::from_secs(1));
    cfg.cluster.hosts[0].resources.translation_overhead = 0.25;
    let (c, _) = run(&cfg, vec![vm(0, 0.0, 4.0)]);
    assert_eq!(finishes(&c), vec![5.0]);

    // First touch: a 1 MiB working set is 256 pages of 4 KiB at 1 ms each = 0.256 s.
    let mut cfg = SimConfig::textbook("fcfs", SimTime::from_secs(1));
    cfg.cluster.hosts[0].resources.first_touch = SimTime::from_millis(1);
    let touch = VmRequest {
        profile: VmProfile {
            io: None,
            memory: Some(MemoryProfile {
                working_set_mib: 1,
                touches_per_ms: 0.0,
            }),
            ..Default::default()
        },
        ..vm(0, 0.0, 1.0)
    };
    let (c, _) = run(&cfg, vec![touch.clone()]);
    assert_eq!(finishes(&c), vec![1.256]);
    assert_eq!(c.vms[0].minor_faults, 256);
    assert_eq!(c.vms[0].fault_service, SimTime::from_millis(256));
    assert_eq!(c.vms[0].wait(), SimTime::ZERO);
    // With 2 MiB pages the same working set is one page: 1 ms.
    cfg.cluster.hosts[0].resources.page_bytes = 2 << 20;
    let (c, _) = run(&cfg, vec![touch]);
    assert_eq!((finishes(&c), c.vms[0].minor_faults), (vec![1.001], 1));

    // VM exits: one virtio request (1 exit of 1 ms) on a disk of 100 ms latency, between
    // two bursts of 1 s: 1 + 0.1 + 0.001 + 1 = 2.101 s. Emulated: 4 exits → 2.104 s.
    let mut cfg = SimConfig::textbook("fcfs", SimTime::from_secs(1));
    cfg.cluster.hosts[0].resources.devices = vec![disk(0.1, 1e9, 1)];
    cfg.cluster.hosts[0].resources.exit_cost = SimTime::from_millis(1);
    for (dev, expected) in [
        (VirtualDevice::Virtio, 2.101),
        (VirtualDevice::Emulated, 2.104),
        (VirtualDevice::Passthrough, 2.1),
    ] {
        let v = VmRequest {
            profile: VmProfile {
                io: Some(IoProfile {
                    virtual_device: dev,
                    ..io(1, 0.0)
                }),
                memory: None,
                ..Default::default()
            },
            ..vm(0, 0.0, 2.0)
        };
        let (c, _) = run(&cfg, vec![v]);
        assert_eq!(finishes(&c), vec![expected], "{dev:?}");
    }
}

#[test]
fn pause_resume_and_stop() {
    // One pCPU, FCFS. A (4 s) and B (2 s) at 0; A paused at 1 and resumed at 3: A 0–1,
    // B 1–3, A 3–6. C (10 s) arrives at 0 too but is stopped at 2 while still queued
    // behind A: it leaves at 2 without running. Finishes A 6, B 3, C 2.
    let mut cfg = SimConfig::textbook("fcfs", SimTime::from_secs(1));
    cfg.events = vec![
        LifecycleEvent {
            at: secs(1.0),
            vm: 0,
            action: LifecycleAction::Pause,
        },
        LifecycleEvent {
            at: secs(3.0),
            vm: 0,
            action: LifecycleAction::Resume,
        },
        LifecycleEvent {
            at: secs(2.0),
            vm: 2,
            action: LifecycleAction::Stop,
        },
        LifecycleEvent {
            at: secs(2.0),
            vm: 99,
            action: LifecycleAction::Stop,
        },
    ];
    let (c, s) = run(
        &cfg,
        vec![vm(0, 0.0, 4.0), vm(1, 0.0, 2.0), vm(2, 0.0, 10.0)],
    );
    assert_eq!(finishes(&c), vec![6.0, 3.0, 2.0]);
    assert!(c.vms[2].stopped && !c.vms[0].stopped);
    assert_eq!(s.stopped, 1);
    assert_eq!(s.lifecycle_ignored, 1);
    // Stopping a running VM frees its pCPU at once: A stopped at 1 → B runs 1–3.
    cfg.events = vec![LifecycleEvent {
        at: secs(1.0),
        vm: 0,
        action: LifecycleAction::Stop,
    }];
    let (c, _) = run(&cfg, vec![vm(0, 0.0, 4.0), vm(1, 0.0, 2.0)]);
    assert_eq!(finishes(&c), vec![1.0, 3.0]);
}

#[test]
fn defaults_leave_old_scenarios_unchanged() {
    // The resource model at its defaults (no devices, one thread per core, one NUMA node,
    // no overheads, floating mapping) gives the textbook numbers bit for bit.
    let cfg = SimConfig::textbook("rr", SimTime::from_secs(4));
    let (c, _) = run(
        &cfg,
        vec![vm(1, 0.0, 24.0), vm(2, 0.0, 3.0), vm(3, 0.0, 3.0)],
    );
    let waits: Vec<f64> = c.vms.iter().map(|r| r.wait().as_secs_f64()).collect();
    assert_eq!(waits, vec![6.0, 4.0, 7.0]);
}

#[test]
fn timeline_samples_report_device_utilisation() {
    // The M/M/1 disk of `one_disk_is_an_mm1_queue` at ρ = 0.8, sampled every second:
    // the mean of the samples' disk utilisation is ρ (±3 % over 200,000 requests).
    let mut cfg = SimConfig::single_host(64, 0);
    cfg.cluster.hosts[0].resources.devices = vec![disk(0.0, 1e6, 1)];
    cfg.timeline_interval = Some(SimTime::from_secs(1));
    let mut rng = stream(5, 0, purpose::ARRIVALS);
    let exp = rand_distr::Exp::new(80.0).unwrap();
    let mut t = 0.0;
    let vms = (0..200_000u64).map(move |id| {
        t += rand_distr::Distribution::sample(&exp, &mut rng);
        VmRequest {
            demand: SimTime(2),
            estimate: SimTime(2),
            profile: VmProfile {
                io: Some(io(1, 0.01 * 1e6)),
                memory: None,
                ..Default::default()
            },
            ..vm(id, t, 0.0)
        }
    });
    let mut c = Collect::default();
    simulate(&cfg, vms, &mut c).unwrap();
    let n = c.samples.len();
    assert!(n > 2000, "{n} samples");
    let disk_util: f64 = c
        .samples
        .iter()
        .map(|s| s.devices[0].utilization)
        .sum::<f64>()
        / n as f64;
    assert!(
        (disk_util - 0.8).abs() < 0.03,
        "disk utilisation {disk_util}"
    );
    assert_eq!(c.samples[0].devices.len(), 2); // the disk and the implicit swap device
    assert_eq!(c.samples[0].devices[1].kind, "swap");
}

/// Gang scheduling on one host with 2 pCPUs, FCFS run queue, unlimited vCPU overcommit.
/// All arrive at t = 0 in the order A (1 vCPU, 2 s), B (2 vCPUs, 1 s each), C (1 vCPU, 1 s).
///
/// Independent vCPUs: t=0 A→p0, B0→p1; t=1 B0 done, B1→p1; t=2 A, B1 done, C→p0; t=3 C done.
///   finishes A 2, B 2, C 3; waits (turnaround − service) A 0, B 1, C 2.
/// Gang: t=0 A→p0; B needs 2 idle pCPUs, only p1 is idle: B waits and C, behind it, too
/// (p1 stays idle: the fragmentation gang scheduling costs); t=2 A done, B0→p0, B1→p1;
/// t=3 B done, C→p0; t=4 C done. Finishes A 2, B 3, C 4; waits A 0, B 2, C 3.
#[test]
fn gang_scheduling_starts_a_vms_vcpus_together() {
    let mut cfg = SimConfig::single_host(2, 0);
    cfg.cluster.hosts[0].overcommit = f64::INFINITY;
    let vms = vec![
        vm(0, 0.0, 2.0),
        VmRequest {
            vcpus: 2,
            ..vm(1, 0.0, 1.0)
        },
        vm(2, 0.0, 1.0),
    ];
    let by_id = |c: &Collect| {
        let mut v: Vec<(u64, f64, f64)> = c
            .vms
            .iter()
            .map(|r| (r.id, r.finish.as_secs_f64(), r.wait().as_secs_f64()))
            .collect();
        v.sort_by_key(|x| x.0);
        v
    };
    let (free, _) = run(&cfg, vms.clone());
    assert_eq!(
        by_id(&free),
        vec![(0, 2.0, 0.0), (1, 2.0, 1.0), (2, 3.0, 2.0)]
    );
    cfg.cpu.gang = true;
    let (gang, _) = run(&cfg, vms.clone());
    assert_eq!(
        by_id(&gang),
        vec![(0, 2.0, 0.0), (1, 3.0, 2.0), (2, 4.0, 3.0)]
    );
    // Both of B's slices start at t = 2 on different pCPUs.
    let b: Vec<_> = gang.slices.iter().filter(|s| s.vm == 1).collect();
    assert_eq!(b.len(), 2);
    assert!(b.iter().all(|s| s.start == secs(2.0)));
    assert_ne!(b[0].pcpu, b[1].pcpu);
    // Round robin keeps the gang together across quanta: every slice of B (quantum 0.25 s)
    // starts and ends with its sibling's.
    cfg.cpu.policy = "rr".into();
    cfg.cpu.quantum = secs(0.25);
    let (rr, _) = run(&cfg, vms.clone());
    let mut b: Vec<(SimTime, SimTime)> = rr
        .slices
        .iter()
        .filter(|s| s.vm == 1)
        .map(|s| (s.start, s.end))
        .collect();
    b.sort();
    assert_eq!(b.len() % 2, 0);
    for pair in b.chunks(2) {
        assert_eq!(pair[0], pair[1], "B's vCPUs ran apart: {b:?}");
    }
    // A VM with more vCPUs than the host has pCPUs can never run as a gang: rejected.
    let (big, stats) = run(
        &cfg,
        vec![VmRequest {
            vcpus: 3,
            ..vm(0, 0.0, 1.0)
        }],
    );
    assert_eq!((big.vms.len(), stats.rejected), (0, 1));
    // Preemptive policies and pinned vCPUs are refused with gang scheduling.
    cfg.cpu.policy = "srtf".into();
    assert!(simulate(&cfg, vms.clone(), &mut Collect::default()).is_err());
    cfg.cpu.policy = "fcfs".into();
    cfg.cpu.mapping = Mapping::Pinned;
    assert!(simulate(&cfg, vms, &mut Collect::default()).is_err());
}

/// The balloon. One host, 2 pCPUs, 4 GiB, memory overcommit 2, 4 KiB pages, first touch
/// 1 µs. A and B (1 vCPU, 5 s of work, a 3 GiB working set each) arrive at t = 0.
#[test]
fn balloon_reclaims_a_paused_vms_working_set() {
    let mut cfg = SimConfig::single_host(2, 4096);
    cfg.cluster.hosts[0].memory_overcommit = 2.0;
    cfg.cluster.hosts[0].resources.first_touch = SimTime::from_micros(1);
    let with = |touches_per_ms: f64| {
        (0..2)
            .map(|id| VmRequest {
                memory_mib: 3072,
                profile: VmProfile {
                    memory: Some(MemoryProfile {
                        working_set_mib: 3072,
                        touches_per_ms,
                    }),
                    io: None,
                    ..Default::default()
                },
                ..vm(id, 0.0, 5.0)
            })
            .collect::<Vec<_>>()
    };
    let pause = |at: f64, until: f64| {
        vec![
            LifecycleEvent {
                at: secs(at),
                vm: 0,
                action: LifecycleAction::Pause,
            },
            LifecycleEvent {
                at: secs(until),
                vm: 0,
                action: LifecycleAction::Resume,
            },
        ]
    };
    // No touches after the first mapping, so no major faults: times are exact.
    // 3 GiB / 4 KiB = 786,432 pages → 0.786432 s of first touch at admission.
    // A: first touch 0.786432 s, paused 1 → 2 s, 5 s of work: finish 6.786432 s.
    // With the balloon A maps its working set again at resume: + 0.786432 s = 7.572864 s,
    // and twice the minor faults.
    cfg.events = pause(1.0, 2.0);
    let (plain, _) = run(&cfg, with(0.0));
    cfg.cluster.hosts[0].resources.balloon = true;
    let (ballooned, _) = run(&cfg, with(0.0));
    assert_eq!(plain.vms[0].finish, SimTime::from_nanos(6_786_432_000));
    assert_eq!(ballooned.vms[0].finish, SimTime::from_nanos(7_572_864_000));
    assert_eq!(plain.vms[0].minor_faults, 786_432);
    assert_eq!(ballooned.vms[0].minor_faults, 2 * 786_432);
    assert_eq!(
        ballooned.vms[0].fault_service,
        SimTime::from_nanos(2 * 786_432_000)
    );
    // B is untouched by A's pause in time (its own pCPU) and pays its first touch once.
    assert_eq!(plain.vms[1].finish, ballooned.vms[1].finish);
    // With touches, both working sets (6 GiB) exceed 4 GiB: resident fraction 2/3, so B
    // misses one touch in 3 (≈ 1,670 major faults over 5 s at 1 touch/ms). With A paused
    // at 0.5 s and ballooned, B's working set fits (fraction 1) by the time B's guest work
    // starts (after its 0.79 s of first touch): next to no major faults.
    cfg.events = pause(0.5, 20.0);
    cfg.cluster.hosts[0].resources.balloon = false;
    let (plain, _) = run(&cfg, with(1.0));
    cfg.cluster.hosts[0].resources.balloon = true;
    let (ballooned, _) = run(&cfg, with(1.0));
    let (p, b) = (plain.vms[1].major_faults, ballooned.vms[1].major_faults);
    assert!(p > 1_000, "B without balloon: {p} major faults");
    assert!(b * 10 < p, "B with balloon: {b} major faults, without {p}");
}
