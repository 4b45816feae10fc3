//! Worst-fit's tree of largest keys, beside the first-fit tree of the placement index
//! (see `placement_index`): its nodes, their updates and the search.

use super::super::placement_set::{pack, unpack};
use super::{B, HostFree, PlacementIndex, slot};

/// `B` sibling nodes of the worst-fit tree, aligned to 128 bytes (two cache lines), the
/// same shape as the first tree's groups.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(128))]
pub(super) struct KeyGroup(pub(super) [u128; B]);

/// Host `h`'s worst-fit key: free vCPU slots in the top 32 bits, free memory in the next
/// 64, `u32::MAX − h` in the low 32 (never 0, the key of "no candidate"), or `None` when the
/// free slots do not fit in 32 bits.
#[inline(always)]
pub(super) fn worst_key(f: HostFree, h: usize) -> Option<u128> {
    pack((f.vcpus, f.mem, u32::MAX - h as u32))
}

impl PlacementIndex {
    /// Fills the key tree (`groups` groups, as the first tree) from the hosts.
    pub(super) fn build_keys(&mut self, groups: usize) {
        self.worst = vec![KeyGroup::default(); groups];
        for h in 0..self.hosts.len() {
            *self.key_mut(self.first_leaf + h) = self.leaf_key(h);
        }
        for i in (0..self.first_leaf).rev() {
            let max = self.key_children_max(i);
            *self.key_mut(i) = max;
        }
    }

    /// Node `k` of the worst-fit tree.
    #[inline(always)]
    pub(super) fn key_node(&self, k: usize) -> u128 {
        let (g, i) = slot(k);
        self.worst[g].0[i]
    }

    #[inline(always)]
    pub(super) fn key_mut(&mut self, k: usize) -> &mut u128 {
        let (g, i) = slot(k);
        &mut self.worst[g].0[i]
    }

    /// Host `h`'s leaf in the worst-fit tree: its key, or 0 when it is not a candidate.
    #[inline(always)]
    pub(super) fn leaf_key(&self, h: usize) -> u128 {
        let l = self.hosts[h];
        if l.candidate {
            worst_key(l.free, h).unwrap_or(0)
        } else {
            0
        }
    }

    /// The largest key among the children of internal node `k` of the worst-fit tree.
    #[inline]
    pub(super) fn key_children_max(&self, k: usize) -> u128 {
        match self.worst.get(k + 1) {
            Some(g) => g.0.iter().fold(0, |a, &c| a.max(c)),
            None => 0,
        }
    }

    /// Writes host `h`'s leaf of the key tree and its ancestors while their keys change.
    /// A child that rose to its parent's key or above is the parent's new key; one that was
    /// below it leaves it unchanged; only a child that was the parent's key and fell makes
    /// the parent look at all its children.
    #[inline]
    pub(super) fn refresh_keys(&mut self, h: usize) {
        let mut k = self.first_leaf + h;
        let (mut old, mut new) = (self.key_node(k), self.leaf_key(h));
        *self.key_mut(k) = new;
        while k > 0 && old != new {
            k = (k - 1) / B;
            let parent = self.key_node(k);
            let key = if new >= parent {
                new
            } else if old < parent {
                break;
            } else {
                self.key_children_max(k)
            };
            (old, new) = (parent, key);
            *self.key_mut(k) = key;
        }
    }

    /// Worst-fit from the key tree: the root's host when it fits (the largest key of all),
    /// otherwise a search for the largest key among the hosts that fit.
    #[inline]
    pub(super) fn worst_fit(&self, v: u64, m: u64) -> Option<usize> {
        let (slots, mem, rank) = unpack(self.key_node(0));
        let h = (u32::MAX - rank) as usize;
        if slots >= v
            && mem >= m
            && h < self.hosts.len()
            && u64::from(self.hosts[h].free.limit) >= v
        {
            return Some(h);
        }
        let mut best = 0u128;
        self.worst_under(0, v, m, &mut best);
        (best != 0).then(|| (u32::MAX - best as u32) as usize)
    }

    /// Raises `best` to the largest key under node `k` (which is above `best`) of a
    /// candidate that fits: the children in order of decreasing key, skipping those whose
    /// key is no more than `best` or whose maxima say nothing fits.
    pub(super) fn worst_under(&self, k: usize, v: u64, m: u64, best: &mut u128) {
        if k >= self.first_leaf {
            let h = k - self.first_leaf;
            if h < self.hosts.len() && self.hosts[h].candidate && self.hosts[h].free.fits(v, m) {
                *best = (*best).max(self.key_node(k));
            }
            return;
        }
        let (Some(keys), Some(nodes)) = (self.worst.get(k + 1), self.tree.get(k + 1)) else {
            return;
        };
        // The children worth a visit, by decreasing key (insertion sort of at most B).
        let mut order = [(0u128, 0usize); B];
        let mut len = 0;
        for j in 0..B {
            let key = keys.0[j];
            if key > *best && nodes.0[j].may_fit(v, m) {
                let mut i = len;
                while i > 0 && order[i - 1].0 < key {
                    order[i] = order[i - 1];
                    i -= 1;
                }
                order[i] = (key, j);
                len += 1;
            }
        }
        for &(key, j) in &order[..len] {
            if key <= *best {
                break;
            }
            self.worst_under(B * k + 1 + j, v, m, best);
        }
    }
}
