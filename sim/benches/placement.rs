//! Criterion benchmark of the placement index: one placement and one departure (a choice,
//! two capacity updates) on clusters of 1,000, 10,000 and 100,000 hosts of 16 vCPU slots and
//! 128 GiB filled to about 80 %, for each rule. A constant time per step across the three
//! sizes is the index's promise; the linear scan it replaced grows with the hosts.
//!
//! `cargo bench -p sim --bench placement`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::Rng;
use sim::Placement;
use sim::engine::placement_index::{HostFree, PlacementIndex};
use sim::rng::{purpose, stream};

const VCPUS: [u64; 4] = [1, 2, 4, 8];
const MEM_MIB: [u64; 4] = [2048, 4096, 8192, 16384];

fn bench_placement(c: &mut Criterion) {
    let mut group = c.benchmark_group("placement");
    for rule in [Placement::FirstFit, Placement::BestFit, Placement::WorstFit] {
        for hosts in [1_000usize, 10_000, 100_000] {
            let empty = HostFree {
                vcpus: 16,
                mem: 128 * 1024,
                limit: u32::MAX,
            };
            let mut ix = PlacementIndex::new(rule, vec![empty; hosts]);
            let mut rng = stream(7, 0, purpose::SIZES);
            // Fill to about 80 % of the vCPU slots, keeping what was placed where.
            let mut placed: Vec<(usize, u64, u64)> = Vec::new();
            let mut used = 0u64;
            while used < hosts as u64 * 16 * 8 / 10 {
                let k = rng.random_range(0..4);
                let (v, m) = (VCPUS[k], MEM_MIB[k]);
                let Some(h) = ix.choose(v, m) else { break };
                let f = ix.host(h);
                ix.update(h, f.vcpus - v, f.mem - m);
                placed.push((h, v, m));
                used += v;
            }
            group.bench_function(BenchmarkId::new(rule.name(), hosts), |b| {
                let mut i = 0usize;
                b.iter(|| {
                    // A random resident VM leaves; one of the same size is placed.
                    i = (i + 7919) % placed.len();
                    let (h, v, m) = placed[i];
                    let f = ix.host(h);
                    ix.update(h, f.vcpus + v, f.mem + m);
                    let h2 = ix.choose(v, m).expect("the freed room fits it");
                    let f = ix.host(h2);
                    ix.update(h2, f.vcpus - v, f.mem - m);
                    placed[i] = (h2, v, m);
                    h2
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_placement);
criterion_main!(benches);
