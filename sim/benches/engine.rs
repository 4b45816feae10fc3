//! Criterion benchmarks: the event queue alone, and a 100,000-VM run of each CPU policy.
//!
//! `cargo bench -p sim` (the HTML report lands in target/criterion/).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand_distr::{Distribution, Exp};
use sim::event::EventQueue;
use sim::metrics::Metrics;
use sim::policy::split_policy_name;
use sim::rng::{purpose, stream};
use sim::{SimConfig, SimTime, VmRequest, simulate};

/// M/M/16 at ρ = 0.9 (λ = 14.4/s, E[S] = 1 s), single-vCPU VMs, `n` of them, with
/// priorities 0–2 so priority policies have something to order.
fn workload(n: u64) -> Vec<VmRequest> {
    let mut arr = stream(1, 0, purpose::ARRIVALS);
    let mut svc = stream(1, 0, purpose::SERVICE);
    let gap = Exp::new(14.4).unwrap();
    let s = Exp::new(1.0).unwrap();
    let mut t = SimTime::ZERO;
    (0..n)
        .map(|id| {
            t = t.saturating_add(SimTime::from_secs_f64(gap.sample(&mut arr)).unwrap());
            let d = SimTime::from_secs_f64(s.sample(&mut svc)).unwrap();
            VmRequest {
                id,
                arrival: t,
                vcpus: 1,
                memory_mib: 0,
                priority: (id % 3) as i32,
                demand: d,
                estimate: d,
                tenant: None,
                profile: Default::default(),
            }
        })
        .collect()
}

fn event_queue(c: &mut Criterion) {
    // Hold model: a queue of 1,000 pending events; each step pops the earliest and schedules
    // one a pseudo-random interval later.
    let mut g = c.benchmark_group("event_queue");
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("hold_1000_x_100000", |b| {
        b.iter_batched(
            || {
                let mut q = EventQueue::new();
                for i in 0..1000u64 {
                    q.schedule(SimTime::ZERO, SimTime(i * 7919 % 10_007), i)
                        .unwrap();
                }
                q
            },
            |mut q| {
                let mut x = 12345u64;
                for _ in 0..100_000 {
                    let (t, e) = q.pop().unwrap();
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    q.schedule(t, SimTime(t.0 + (x >> 50)), e).unwrap();
                }
                q
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn policies(c: &mut Criterion) {
    let vms = workload(100_000);
    let mut g = c.benchmark_group("run_100k_vms");
    g.sample_size(10);
    g.throughput(Throughput::Elements(vms.len() as u64));
    for name in [
        "fcfs",
        "sjf",
        "srtf",
        "priority",
        "priority-preemptive",
        "rr",
    ] {
        let (admission, cpu) = split_policy_name(name).unwrap();
        // 16 pCPUs with 2 vCPUs admitted per pCPU, so the CPU policy decides who runs.
        let mut cfg = SimConfig::single_host(16, 0);
        cfg.cluster.hosts[0].overcommit = 2.0;
        cfg.admission.policy = admission;
        cfg.cpu.policy = cpu;
        cfg.cpu.quantum = SimTime::from_millis(100);
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut m = Metrics::new();
                simulate(&cfg, vms.iter().cloned(), &mut m).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, event_queue, policies);
criterion_main!(benches);
