//! The ordered set of (free vCPU slots, free memory, host rank) that best-fit and
//! worst-fit search (see `placement_index`).
//!
//! Free vCPU slots fit in 32 bits on any real host, so a key is packed into one `u128`
//! (slots in the top 32 bits, memory in the next 64, the rank in the low 32): a B-tree
//! node then holds 16-byte keys compared in one step, instead of 24-byte tuples compared
//! field by field, and a search touches fewer cache lines. A set that meets more free
//! slots than 32 bits hold (a host with unlimited overcommit) turns into a set of tuples,
//! once; the order is the same either way.

use std::collections::BTreeSet;

/// (free vCPU slots, free memory, host number as the rule orders it).
pub(super) type Key = (u64, u64, u32);

#[derive(Debug)]
pub(super) enum HostSet {
    Packed(BTreeSet<u128>),
    Wide(BTreeSet<Key>),
}

/// `k` in one `u128`, when its free slots fit in 32 bits.
#[inline(always)]
pub(super) fn pack(k: Key) -> Option<u128> {
    let slots = u32::try_from(k.0).ok()?;
    Some((u128::from(slots) << 96) | (u128::from(k.1) << 32) | u128::from(k.2))
}

/// The key `pack` made.
#[inline(always)]
pub(super) fn unpack(p: u128) -> Key {
    ((p >> 96) as u64, (p >> 32) as u64, p as u32)
}

impl HostSet {
    pub(super) fn new() -> Self {
        HostSet::Packed(BTreeSet::new())
    }

    #[inline]
    pub(super) fn insert(&mut self, k: Key) {
        match self {
            HostSet::Packed(s) => match pack(k) {
                Some(p) => {
                    s.insert(p);
                }
                None => {
                    self.widen();
                    self.insert(k);
                }
            },
            HostSet::Wide(s) => {
                s.insert(k);
            }
        }
    }

    #[inline]
    pub(super) fn remove(&mut self, k: &Key) {
        match self {
            HostSet::Packed(s) => {
                if let Some(p) = pack(*k) {
                    s.remove(&p);
                }
            }
            HostSet::Wide(s) => {
                s.remove(k);
            }
        }
    }

    pub(super) fn clear(&mut self) {
        match self {
            HostSet::Packed(s) => s.clear(),
            HostSet::Wide(s) => s.clear(),
        }
    }

    /// The smallest key at or above `k`.
    #[inline]
    pub(super) fn first_from(&self, k: Key) -> Option<Key> {
        match self {
            // (Above every packed key when its slots do not fit.)
            HostSet::Packed(s) => s.range(pack(k)?..).next().map(|&p| unpack(p)),
            HostSet::Wide(s) => s.range(k..).next().copied(),
        }
    }

    /// The largest key at or below `k`.
    #[inline]
    pub(super) fn last_to(&self, k: Key) -> Option<Key> {
        match self {
            HostSet::Packed(s) => {
                let p = pack(k).unwrap_or(u128::MAX);
                s.range(..=p).next_back().map(|&p| unpack(p))
            }
            HostSet::Wide(s) => s.range(..=k).next_back().copied(),
        }
    }

    /// Turns a packed set into a set of tuples (the first time a key's slots do not fit).
    #[cold]
    fn widen(&mut self) {
        if let HostSet::Packed(s) = self {
            let wide = s.iter().map(|&p| unpack(p)).collect();
            *self = HostSet::Wide(wide);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed and wide sets answer alike, before and after a key too wide to pack, and
    /// the keys come back whole (u64::MAX memory, u32::MAX ranks).
    #[test]
    fn packed_and_wide_sets_agree() {
        let keys: Vec<Key> = vec![
            (0, 0, 0),
            (3, u64::MAX, 7),
            (3, 5, u32::MAX),
            (u64::from(u32::MAX), 1, 2),
            (16, 131_072, 42),
        ];
        let mut packed = HostSet::new();
        let mut wide = BTreeSet::new();
        for &k in &keys {
            packed.insert(k);
            wide.insert(k);
        }
        assert!(matches!(packed, HostSet::Packed(_)));
        let probes = [
            (0, 0, 0),
            (3, 6, 0),
            (4, 0, 0),
            (17, 0, 0),
            (u64::MAX, 0, 0),
        ];
        let check = |set: &HostSet, wide: &BTreeSet<Key>| {
            for p in probes {
                assert_eq!(set.first_from(p), wide.range(p..).next().copied(), "{p:?}");
                assert_eq!(
                    set.last_to(p),
                    wide.range(..=p).next_back().copied(),
                    "{p:?}"
                );
            }
        };
        check(&packed, &wide);
        packed.remove(&(3, 5, u32::MAX));
        wide.remove(&(3, 5, u32::MAX));
        check(&packed, &wide);
        // Unlimited overcommit: more free slots than 32 bits hold.
        let big = (u64::MAX - 3, 10, 1);
        packed.insert(big);
        wide.insert(big);
        assert!(matches!(packed, HostSet::Wide(_)));
        check(&packed, &wide);
    }
}
