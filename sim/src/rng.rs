//! Named random-number streams derived from one master seed.
//!
//! Every purpose (arrivals, sizes, service times, …) has its own stream so that changing
//! how one quantity is drawn does not shift the others. The generator is PCG-64 (`Pcg64Mcg`,
//! from `rand_pcg`); the stream seed is SplitMix64 applied to the master seed, the
//! replication number and a 64-bit FNV-1a hash of the purpose's name.

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// The random-number generator used everywhere in vmsched.
pub type SimRng = Pcg64Mcg;

/// Purposes with their own stream (use these names, so streams are stable across versions).
pub mod purpose {
    /// Inter-arrival times.
    pub const ARRIVALS: &str = "arrivals";
    /// vCPU counts and memory sizes.
    pub const SIZES: &str = "sizes";
    /// CPU demand (service times).
    pub const SERVICE: &str = "service";
    /// Priority classes.
    pub const PRIORITY: &str = "priority";
    /// Users' runtime estimates.
    pub const ESTIMATE: &str = "estimate";
    /// Paging.
    pub const PAGING: &str = "paging";
    /// I/O.
    pub const IO: &str = "io";
    /// Host failures and repairs (one stream per host, see [`super::stream_indexed`]).
    pub const FAILURES: &str = "failures";
    /// The draws of the `lottery` CPU policy (see [`super::stream_seed`]).
    pub const LOTTERY: &str = "lottery";
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// Derives a 64-bit seed from a master seed and a list of words (e.g. replication number,
/// sweep-cell hash). Pure and stable across platforms.
pub fn derive_seed(master: u64, words: &[u64]) -> u64 {
    let mut s = splitmix64(master);
    for &w in words {
        s = splitmix64(s ^ w);
    }
    s
}

/// The seed of the stream for `purpose` in replication `replication` of a run seeded with
/// `master` (what [`stream`] starts its generator from). A counter-based user draws its
/// numbers as `derive_seed(stream_seed(…), &[counter words])`, each draw independent of
/// how many came before.
pub fn stream_seed(master: u64, replication: u64, purpose: &str) -> u64 {
    derive_seed(master, &[replication, fnv1a(purpose)])
}

/// The stream for `purpose` in replication `replication` of a run seeded with `master`.
pub fn stream(master: u64, replication: u64, purpose: &str) -> SimRng {
    let seed = stream_seed(master, replication, purpose);
    let lo = splitmix64(seed);
    let hi = splitmix64(lo);
    SimRng::from_seed(((u128::from(hi) << 64) | u128::from(lo)).to_le_bytes())
}

/// The stream for `purpose` of item `index` (a host, say) in replication `replication`:
/// each item has its own, so adding items leaves the others' draws alone. Existing streams
/// ([`stream`]) are unchanged by it.
pub fn stream_indexed(master: u64, replication: u64, purpose: &str, index: usize) -> SimRng {
    let seed = derive_seed(master, &[replication, fnv1a(purpose), index as u64]);
    let lo = splitmix64(seed);
    let hi = splitmix64(lo);
    SimRng::from_seed(((u128::from(hi) << 64) | u128::from(lo)).to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = stream(42, 0, purpose::ARRIVALS).random();
        let b: u64 = stream(42, 0, purpose::ARRIVALS).random();
        let c: u64 = stream(42, 0, purpose::SERVICE).random();
        let d: u64 = stream(42, 1, purpose::ARRIVALS).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
