//! Datacenter operations: energy by hand and against the utilisation of M/M/16, hosts
//! switched off and booted, failures by hand and host availability against
//! MTBF / (MTBF + MTTR).

use rand::Rng;
use rand_distr::{Distribution, Exp};
use sim::observer::Collect;
use sim::rng::{purpose, stream};
use sim::{
    FailureSpec, HostPower, NullObserver, OnFailure, PowerCurve, RecordedFailure, RunStats,
    SimConfig, SimTime, UptimeDist, VmRequest, simulate,
};

fn vm(id: u64, arrival_s: u64, demand_s: u64) -> VmRequest {
    VmRequest {
        id,
        arrival: SimTime::from_secs(arrival_s),
        vcpus: 1,
        memory_mib: 0,
        priority: 0,
        demand: SimTime::from_secs(demand_s),
        estimate: SimTime::from_secs(demand_s),
        tenant: None,
        profile: Default::default(),
    }
}

fn linear(idle_w: f64, max_w: f64, off_w: f64) -> Option<HostPower> {
    Some(HostPower {
        curve: PowerCurve::Linear { idle_w, max_w },
        off_w,
    })
}

/// Mean power over the makespan, W.
fn mean_power(s: &RunStats) -> f64 {
    s.datacenter.energy_j() / s.makespan.as_secs_f64()
}

/// One host of 2 pCPUs, linear 100 → 200 W. A runs 0–10 s, B 2–6 s: busy 1, 2, 1 pCPUs
/// over 2, 4, 4 s: 150 × 2 + 200 × 4 + 150 × 4 = 1700 J. With the curve of 11 points
/// 100, 110, … 200 W (the same line) the energy is the same; with a curve 100 at 0 %,
/// 180 at 50 % (points 5) and 200 at 100 %: 180 × 6 + 200 × 4 = 1880 J.
#[test]
fn energy_by_hand() {
    let vms = || vec![vm(0, 0, 10), vm(1, 2, 4)];
    let mut cfg = SimConfig::single_host(2, 0);
    cfg.cluster.hosts[0].resources.power = linear(100.0, 200.0, 0.0);
    let s = simulate(&cfg, vms(), &mut NullObserver).unwrap();
    assert_eq!(s.makespan, SimTime::from_secs(10));
    assert!((s.datacenter.energy_j() - 1700.0).abs() < 1e-6);
    assert!(s.datacenter.power);
    assert_eq!(s.datacenter.hosts[0].on_ns, 10_000_000_000);

    let line: Vec<f64> = (0..11).map(|i| 100.0 + 10.0 * f64::from(i)).collect();
    cfg.cluster.hosts[0].resources.power = Some(HostPower {
        curve: PowerCurve::Curve(line.try_into().unwrap()),
        off_w: 0.0,
    });
    let s = simulate(&cfg, vms(), &mut NullObserver).unwrap();
    assert!((s.datacenter.energy_j() - 1700.0).abs() < 1e-6);

    let mut c = [0.0; 11];
    for (i, w) in c.iter_mut().enumerate() {
        *w = if i <= 5 {
            100.0 + 16.0 * i as f64
        } else {
            180.0 + 4.0 * (i - 5) as f64
        };
    }
    cfg.cluster.hosts[0].resources.power = Some(HostPower {
        curve: PowerCurve::Curve(c),
        off_w: 0.0,
    });
    let s = simulate(&cfg, vms(), &mut NullObserver).unwrap();
    assert!((s.datacenter.energy_j() - 1880.0).abs() < 1e-6);
}

/// A power model only observes: every VM record is what it is without one.
#[test]
fn power_changes_no_vm() {
    let vms: Vec<VmRequest> = (0..50).map(|i| vm(i, i / 3, 1 + i % 7)).collect();
    let mut cfg = SimConfig::single_host(3, 0);
    cfg.cluster.hosts.push(cfg.cluster.hosts[0].clone());
    let mut plain = Collect::default();
    let a = simulate(&cfg, vms.clone(), &mut plain).unwrap();
    for h in cfg.cluster.hosts.specs_mut() {
        h.resources.power = linear(80.0, 300.0, 5.0);
    }
    let mut powered = Collect::default();
    let b = simulate(&cfg, vms, &mut powered).unwrap();
    assert_eq!(plain.vms, powered.vms);
    assert_eq!(plain.slices, powered.slices);
    assert_eq!(a.events, b.events);
    assert_eq!(a.busy_ns, b.busy_ns);
    assert!(!a.datacenter.tracked());
}

/// M/M/16 at ρ = 0.5 (λ = 8 /s, mean service 1 s), linear 100 → 200 W: mean power
/// = 100 + 100 × 0.5 = 150 W. Ten replications of 100,000 VMs (10⁶ in all); the mean of
/// their mean powers must lie within 3 standard errors (measured across them) of 150 W.
/// (The utilisation of one replication has a relative spread of about
/// √2 / √100,000 ≈ 0.45 %, ≈ 0.22 W.)
#[test]
fn mm16_mean_power_is_150_w() {
    let mut cfg = SimConfig::single_host(16, 0);
    cfg.cluster.hosts[0].resources.power = linear(100.0, 200.0, 0.0);
    let n = 100_000u64;
    let mut powers = Vec::new();
    for rep in 0..10 {
        let mut ra = stream(7, rep, purpose::ARRIVALS);
        let mut rs = stream(7, rep, purpose::SERVICE);
        let (ia, sv) = (Exp::new(8.0).unwrap(), Exp::new(1.0).unwrap());
        let mut t = 0.0f64;
        let mut i = 0u64;
        let workload = std::iter::from_fn(|| {
            if i == n {
                return None;
            }
            t += ia.sample(&mut ra);
            let d = SimTime::from_secs_f64(sv.sample(&mut rs)).unwrap();
            let mut r = vm(i, 0, 0);
            r.arrival = SimTime::from_secs_f64(t).unwrap();
            r.demand = d;
            r.estimate = d;
            i += 1;
            Some(r)
        });
        let s = simulate(&cfg, workload, &mut NullObserver).unwrap();
        let util = s.busy_ns as f64 / (16.0 * s.makespan.nanos() as f64);
        let p = mean_power(&s);
        // Linear power is exactly idle + (max − idle) × utilisation.
        assert!((p - (100.0 + 100.0 * util)).abs() < 1e-6, "{p} vs {util}");
        powers.push(p);
    }
    let m = powers.iter().sum::<f64>() / 10.0;
    let sd = (powers.iter().map(|p| (p - m).powi(2)).sum::<f64>() / 9.0).sqrt();
    let se = sd / 10f64.sqrt();
    assert!(
        (m - 150.0).abs() <= 3.0 * se,
        "mean power {m} W, standard error {se} W"
    );
    assert!(se < 0.2, "standard error {se} W");
}

/// Two 1-pCPU hosts, linear 100 → 200 W, off 10 W; power-off after 5 s idle, boot 2 s.
/// VM 0 (0 s, 10 s of work) takes host 0. Host 1 is idle from 0 and switches off at 5 s.
/// VM 1 (6 s, 1 s) fits on no running host: host 1 boots 6–8 s and runs it 8–9 s (queue
/// wait 2 s). The run ends at 10 s (VM 0), before any other power-off.
/// Energy: host 0 busy 10 s at 200 W = 2000 J; host 1: idle 0–5 (500 J), off 5–6 (10 J),
/// booting 6–8 (200 J), busy 8–9 (200 J), idle 9–10 (100 J) = 1010 J; total 3010 J.
/// Hosts on: 10 s + 9 s = 19 host-seconds, a mean of 1.9 over 10 s.
#[test]
fn power_off_and_boot_by_hand() {
    let mut cfg = SimConfig::single_host(1, 0);
    cfg.cluster.hosts[0].resources.power = linear(100.0, 200.0, 10.0);
    cfg.cluster.hosts[0].resources.boot = SimTime::from_secs(2);
    cfg.cluster.hosts.push(cfg.cluster.hosts[0].clone());
    cfg.datacenter.power_off_idle = Some(SimTime::from_secs(5));
    let mut c = Collect::default();
    let s = simulate(&cfg, vec![vm(0, 0, 10), vm(1, 6, 1)], &mut c).unwrap();
    assert_eq!(s.makespan, SimTime::from_secs(10));
    let v1 = c.vms.iter().find(|r| r.id == 1).unwrap();
    assert_eq!(v1.host, 1);
    assert_eq!(v1.admission, SimTime::from_secs(8));
    assert_eq!(v1.finish, SimTime::from_secs(9));
    let d = &s.datacenter;
    assert_eq!(d.boots(), 1);
    assert_eq!(d.hosts[1].boots, 1);
    assert!((d.hosts[0].energy_j - 2000.0).abs() < 1e-6);
    assert!((d.hosts[1].energy_j - 1010.0).abs() < 1e-6);
    assert_eq!(d.on_ns(), 19_000_000_000);

    // With boot_s = 0 the VM starts at its arrival on the woken host.
    cfg.cluster.hosts[1].resources.boot = SimTime::ZERO;
    let mut c = Collect::default();
    simulate(&cfg, vec![vm(0, 0, 10), vm(1, 6, 1)], &mut c).unwrap();
    let v1 = c.vms.iter().find(|r| r.id == 1).unwrap();
    assert_eq!((v1.host, v1.admission), (1, SimTime::from_secs(6)));
}

/// Which switched-off host boots, with hosts of different sizes: hosts 0 and 1 have 1
/// pCPU, hosts 2 and 3 have 4; power-off after 5 s idle, boot 2 s. VM 0 (0 s, 20 s, 1 vCPU)
/// takes host 0; hosts 1–3 switch off at 5 s. VM 1 (6 s, 1 s, 4 vCPUs) fits on no running
/// host: the lowest-numbered switched-off host that could hold it is host 2 (host 1 is too
/// small), which boots 6–8 s; VM 2 (7 s, 1 s, 3 vCPUs) waits behind it (strict head of
/// line). At 8 s VM 1 takes host 2, and VM 2 fits on no running host: host 3 boots (8–10
/// s; host 1 is still too small). At 9 s VM 1 leaves and VM 2 takes host 2 (first-fit:
/// the lowest host that fits), 9–10 s. Two boots, of hosts 2 and 3.
#[test]
fn the_lowest_off_host_that_could_hold_the_vm_boots() {
    let mut cfg = SimConfig::single_host(1, 0);
    cfg.cluster.hosts[0].resources.boot = SimTime::from_secs(2);
    let small = cfg.cluster.hosts[0].clone();
    let mut large = small.clone();
    large.pcpus = 4;
    cfg.cluster.hosts = vec![small.clone(), small, large.clone(), large].into();
    cfg.datacenter.power_off_idle = Some(SimTime::from_secs(5));
    let mut v1 = vm(1, 6, 1);
    v1.vcpus = 4;
    let mut v2 = vm(2, 7, 1);
    v2.vcpus = 3;
    let mut c = Collect::default();
    let s = simulate(&cfg, vec![vm(0, 0, 20), v1, v2], &mut c).unwrap();
    let at = |id: u64| {
        let r = c.vms.iter().find(|r| r.id == id).unwrap();
        (r.host, r.admission.as_secs_f64(), r.finish.as_secs_f64())
    };
    assert_eq!(at(1), (2, 8.0, 9.0));
    assert_eq!(at(2), (2, 9.0, 10.0));
    let boots: Vec<u64> = s.datacenter.hosts.iter().map(|h| h.boots).collect();
    assert_eq!(boots, [0, 0, 1, 1]);
}

fn recorded(host: u32, fail_s: u64, repair_s: u64) -> FailureSpec {
    FailureSpec::Recorded(vec![RecordedFailure {
        host,
        fail: SimTime::from_secs(fail_s),
        repair: SimTime::from_secs(repair_s),
    }])
}

/// One 1-pCPU host; VM 0 (0 s, 10 s of work); the host fails at 4 s, repaired at 6 s.
/// Restart: 4 s of work lost, VM 0 runs again 6–16 s; availability 1 − 2/16 = 0.875.
/// Lose: VM 0 ends at 4 s, recorded as stopped; the run ends there.
#[test]
fn failure_by_hand() {
    let mut cfg = SimConfig::single_host(1, 0);
    cfg.datacenter.failures = Some(recorded(0, 4, 6));
    let mut c = Collect::default();
    let s = simulate(&cfg, vec![vm(0, 0, 10)], &mut c).unwrap();
    assert_eq!(c.vms[0].finish, SimTime::from_secs(16));
    assert_eq!(c.vms[0].admission, SimTime::from_secs(6));
    assert_eq!(c.vms[0].first_run, SimTime::ZERO);
    assert!(!c.vms[0].stopped);
    let d = &s.datacenter;
    assert_eq!(d.vm_interruptions(), 1);
    assert_eq!(d.lost_work_ns, 4_000_000_000);
    assert_eq!(d.down_ns(), 2_000_000_000);
    assert_eq!(s.makespan, SimTime::from_secs(16));
    assert!(
        c.slices
            .iter()
            .any(|x| x.reason == sim::SliceEnd::HostFailed)
    );

    cfg.datacenter.on_failure = OnFailure::Lose;
    let mut c = Collect::default();
    let s = simulate(&cfg, vec![vm(0, 0, 10), vm(1, 1, 1)], &mut c).unwrap();
    let v0 = c.vms.iter().find(|r| r.id == 0).unwrap();
    assert!(v0.stopped);
    assert_eq!(v0.finish, SimTime::from_secs(4));
    // VM 1 waited behind VM 0 and runs after the repair, 6–7 s.
    let v1 = c.vms.iter().find(|r| r.id == 1).unwrap();
    assert_eq!(
        (v1.admission, v1.finish),
        (SimTime::from_secs(6), SimTime::from_secs(7))
    );
    assert_eq!(s.datacenter.vms_lost, 1);
    assert_eq!(s.datacenter.lost_work_ns, 4_000_000_000);
}

/// Ten 1-pCPU hosts with random failures (MTBF 1 h, MTTR 0.1 h), kept busy for 4·10⁶ s
/// by one 1-s VM every 100 s: about 10 × 4·10⁶ / 3960 ≈ 10,100 failure cycles. The
/// availability is MTBF / (MTBF + MTTR) = 1 / 1.1 = 0.90909. Its standard deviation here
/// is ≈ 0.0012 (per cycle Var(D − p(U + D)) = (1 − p)² · 0.01 h² + p² · 1 h² ≈ 0.0165 h²,
/// p = 1/11; √(0.0165 × 10,100) h / 11,111 host-h), so ±0.004 is over three.
fn availability_run(dist: UptimeDist) -> RunStats {
    let mut cfg = SimConfig::single_host(1, 0);
    cfg.cluster.hosts = sim::HostSpecs::repeated(cfg.cluster.hosts[0].clone(), 10);
    cfg.datacenter.failures = Some(FailureSpec::Random {
        mtbf: SimTime::from_secs(3600),
        mttr: SimTime::from_secs(360),
        dist,
    });
    let workload = (0..40_000u64).map(|i| vm(i, 100 * i, 1));
    simulate(&cfg, workload, &mut NullObserver).unwrap()
}

#[test]
fn availability_matches_mtbf_over_mtbf_plus_mttr() {
    for dist in [UptimeDist::Exponential, UptimeDist::Weibull { shape: 2.0 }] {
        let s = availability_run(dist);
        let d = &s.datacenter;
        assert!(d.failures() >= 10_000, "{} failures", d.failures());
        let a = 1.0 - d.down_ns() as f64 / (10.0 * s.makespan.nanos() as f64);
        assert!((a - 1.0 / 1.1).abs() < 0.004, "{dist:?}: availability {a}");
    }
}

/// Failures come from their own stream: the same seed gives the same history, another
/// replication another one, and the workload's streams are untouched.
#[test]
fn failure_streams_are_deterministic() {
    let a = availability_run(UptimeDist::Exponential);
    let b = availability_run(UptimeDist::Exponential);
    assert_eq!(a, b);
    let x: u64 = stream(1, 0, purpose::ARRIVALS).random();
    let y: u64 = stream(1, 0, purpose::ARRIVALS).random();
    assert_eq!(x, y);
}
