//! The placement index: which host takes a VM of `v` vCPUs and `m` MiB, by first-fit,
//! best-fit or worst-fit, without scanning the hosts.
//!
//! Each host has two free quantities — vCPU slots (`vcpu_cap − used_vcpus`, the cap being
//! `pcpus × overcommit`) and memory (`mem_cap − used_mem`, the cap being `memory_gib ×
//! memory_overcommit`) — and a static limit on the vCPUs of one VM (its pCPUs under gang
//! scheduling, otherwise none). A host fits a VM when both free quantities are at least the
//! VM's and the limit is at least its vCPUs. The rules, as the linear scan they replace
//! applies them (and as [`reference_choice`] still does, for the tests):
//!
//! - **first-fit**: the lowest-numbered host that fits;
//! - **best-fit**: among the hosts that fit, the smallest (free vCPU slots, free memory)
//!   in lexicographic order, then the lowest number (the VM's own size is the same for
//!   every host, so "fewest left after placing it" orders hosts as "fewest free now");
//! - **worst-fit**: the largest (free vCPU slots, free memory), then the lowest number.
//!
//! With one host, every rule takes it if it fits.
//!
//! The structures:
//!
//! - a segment tree over host numbers whose nodes hold the maximum free vCPU slots, free
//!   memory and limit of their subtree. First-fit descends to the leftmost leaf that fits.
//!   The tree has eight children per node, stored together in one 128-byte-aligned group
//!   (two cache lines): 100,000 hosts are six levels deep rather than seventeen, and with
//!   many hosts the lower levels are not in the caches, so a descent or an update costs
//!   its levels' cache misses.
//!   The three maxima are a filter, not an exact test (a subtree may have one host with
//!   many free slots and another with much free memory and none with both), so the
//!   descent backtracks out of such subtrees: O(log H) when the maxima do not mislead,
//!   O(H) at worst. The root also answers "could anything fit at all?" in O(1).
//! - for worst-fit, a second tree of the same shape (eight 16-byte keys per 128-byte group)
//!   whose nodes hold the largest key (free vCPU slots, free memory, `u32::MAX − h`),
//!   packed in a `u128`, of their subtree's candidates (0 for none), so that the largest
//!   key of a tie is the lowest host. When the root's host fits, it is the choice, in
//!   O(1); otherwise a branch-and-bound descent visits children by decreasing key,
//!   skipping those whose key is no more than the best fitting host found so far or whose
//!   first-fit maxima say nothing fits. An update writes a leaf and walks up while the
//!   maxima change, as in the first tree. Keys pack only while free slots fit in 32 bits:
//!   with unlimited overcommit worst-fit uses ordered sets as best-fit does (from the
//!   start, or from the first update that does not pack, once).
//! - for best-fit, an ordered set of (free vCPU slots, free memory, host) per class of
//!   hosts with the same limit (one class without gang scheduling). Best-fit takes the
//!   first entry at or above (v, m, 0); an entry above it with too little memory sends the
//!   search to (its free slots, m, 0), so a query costs O(log H) times the number of
//!   distinct free-slot values it passes (at most `vcpu_cap + 1` of the largest host),
//!   never H. Worst-fit, when it uses the sets, walks down from the top the same way, the
//!   host stored as `u32::MAX − h`.
//!
//! A host may leave the candidate set (a host switched off, booting or failed) and come
//! back with [`PlacementIndex::set_candidate`] in O(log H); its free quantities are kept
//! while it is out. Every change of a host's free quantities goes through
//! [`PlacementIndex::update`] (the engine's `Engine::capacity_changed`).

use crate::model::Placement;

use super::placement_set::{HostSet, Key};
use worst::{KeyGroup, worst_key};

#[path = "placement_worst.rs"]
mod worst;

/// A host's free quantities and vCPU limit, as the index sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFree {
    /// Free vCPU slots.
    pub vcpus: u64,
    /// Free memory (MiB).
    pub mem: u64,
    /// The most vCPUs one VM may have on the host (`u32::MAX` for no limit).
    pub limit: u32,
}

impl HostFree {
    /// Whether a VM of `v` vCPUs and `m` MiB fits.
    #[inline]
    pub fn fits(&self, v: u64, m: u64) -> bool {
        self.vcpus >= v && self.mem >= m && u64::from(self.limit) >= v
    }
}

/// Children per node of the tree.
const B: usize = 8;

/// `B` sibling nodes, aligned to 128 bytes (two cache lines).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(128))]
struct Group([Node; B]);

/// A node of the tree: the most free vCPU slots (saturated at `u32::MAX`, above any VM's
/// vCPUs), the highest vCPU limit and the most free memory of a subtree's candidates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(16))]
struct Node {
    vcpus: u32,
    limit: u32,
    mem: u64,
}

impl Node {
    #[inline]
    fn of(f: HostFree) -> Self {
        Node {
            vcpus: u32::try_from(f.vcpus).unwrap_or(u32::MAX),
            limit: f.limit,
            mem: f.mem,
        }
    }

    /// Whether a VM of `v` vCPUs and `m` MiB may fit under this node (at a leaf: fits).
    #[inline(always)]
    fn may_fit(&self, v: u64, m: u64) -> bool {
        u64::from(self.vcpus) >= v && self.mem >= m && u64::from(self.limit) >= v
    }

    #[inline]
    fn max(self, o: Node) -> Node {
        Node {
            vcpus: self.vcpus.max(o.vcpus),
            limit: self.limit.max(o.limit),
            mem: self.mem.max(o.mem),
        }
    }
}

/// A host's free quantities as last given, and whether it is a candidate.
#[derive(Clone, Copy, Debug)]
struct Leaf {
    free: HostFree,
    candidate: bool,
}

/// One class of hosts with the same vCPU limit, for best-fit and worst-fit.
#[derive(Debug)]
struct Class {
    limit: u32,
    set: HostSet,
}

/// The index over the hosts' free capacity (see the module documentation).
#[derive(Debug)]
pub struct PlacementIndex {
    /// The rule queries follow (first-fit when there is only one host: all rules agree).
    rule: Placement,
    /// Per host, its free quantities and whether it is a candidate (one entry, so that an
    /// update reads one cache line).
    hosts: Vec<Leaf>,
    /// The number of internal nodes of the tree: host `h`'s leaf is node `first_leaf + h`.
    /// Node `k` has children `B·k + 1 ..= B·k + B`, and lives at position `k + B − 1` of
    /// `tree` (so that the children of node `k` fill group `k + 1`).
    first_leaf: usize,
    /// The tree's nodes, in groups of `B` siblings; groups past the last leaf's are not
    /// allocated (their nodes are empty).
    tree: Vec<Group>,
    /// Worst-fit while every host's free slots fit in 32 bits: a tree of the same shape as
    /// `tree` whose nodes hold the largest worst-fit key ([`worst_key`]) of their subtree's
    /// candidates (0 for none); empty otherwise.
    worst: Vec<KeyGroup>,
    /// Best-fit, and worst-fit without the key tree: the classes of hosts by limit, and
    /// each host's class (empty otherwise).
    classes: Vec<Class>,
    class_of: Vec<u32>,
}

impl PlacementIndex {
    /// About how many bytes the index takes per host, under the rule that takes the most
    /// (best-fit): its free quantities and flag, its class, a leaf and its share of the
    /// internal nodes and of a last partial group (16 B × (1 + 1/7) and some), and an
    /// ordered-set entry and its share of a B-tree node (48). First-fit takes neither the
    /// class nor the set; worst-fit takes, instead of both, a leaf of the key tree and its
    /// share of the internal nodes (16 B × (1 + 1/7) and some, about 20).
    pub const BYTES_PER_HOST: u64 = 24 + 4 + 24 + 48;

    /// An index over `hosts` (numbered from 0 in this order), all of them candidates.
    pub fn new(rule: Placement, hosts: impl IntoIterator<Item = HostFree>) -> Self {
        let hosts: Vec<Leaf> = hosts
            .into_iter()
            .map(|free| Leaf {
                free,
                candidate: true,
            })
            .collect();
        let n = hosts.len();
        let rule = if n <= 1 { Placement::FirstFit } else { rule };
        // The smallest complete B-ary tree with at least n leaves (one host: the root is
        // its leaf).
        let (mut first_leaf, mut width) = (0usize, 1usize);
        while width < n {
            first_leaf += width;
            width *= B;
        }
        // Through the group of the last leaf.
        let groups = (first_leaf + n.max(1) - 1).div_ceil(B) + 1;
        let mut index = PlacementIndex {
            rule,
            first_leaf,
            tree: vec![Group::default(); groups],
            worst: Vec::new(),
            classes: Vec::new(),
            class_of: Vec::new(),
            hosts,
        };
        for h in 0..n {
            *index.node_mut(first_leaf + h) = Node::of(index.hosts[h].free);
        }
        for i in (0..first_leaf).rev() {
            index.pull(i);
        }
        let packs = (0..n).all(|h| worst_key(index.hosts[h].free, h).is_some());
        match rule {
            Placement::FirstFit => {}
            Placement::WorstFit if packs => index.build_keys(groups),
            _ => index.build_sets(),
        }
        index
    }

    /// Builds the classes and their sets from the hosts (the candidates' keys).
    #[cold]
    fn build_sets(&mut self) {
        let mut limits: Vec<u32> = self.hosts.iter().map(|l| l.free.limit).collect();
        limits.sort_unstable();
        limits.dedup();
        self.classes = limits
            .iter()
            .map(|&limit| Class {
                limit,
                set: HostSet::new(),
            })
            .collect();
        self.class_of = self
            .hosts
            .iter()
            .map(|f| limits.partition_point(|&l| l < f.free.limit) as u32)
            .collect();
        for h in 0..self.hosts.len() {
            if self.hosts[h].candidate {
                let key = self.key(h);
                self.classes[self.class_of[h] as usize].set.insert(key);
            }
        }
    }

    /// An index over `hosts` like [`Self::new`], but with no host a candidate yet (each
    /// enters with [`Self::set_candidate`]).
    pub fn without_candidates(rule: Placement, hosts: impl IntoIterator<Item = HostFree>) -> Self {
        let mut index = Self::new(rule, hosts);
        for l in &mut index.hosts {
            l.candidate = false;
        }
        index.tree.fill(Group::default());
        index.worst.fill(KeyGroup::default());
        for c in &mut index.classes {
            c.set.clear();
        }
        index
    }

    /// Number of hosts.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether there are no hosts.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Host `h`'s free quantities as last given.
    pub fn host(&self, h: usize) -> HostFree {
        self.hosts[h].free
    }

    /// Hints the processor to bring host `h`'s entry into the caches ahead of an
    /// [`Self::update`] (with many hosts it is mostly not in them).
    #[inline(always)]
    pub fn prefetch(&self, h: usize) {
        if let Some(leaf) = self.hosts.get(h) {
            crate::prefetch::prefetch(leaf);
            // Its node in the tree and its parent, which an update writes.
            let k = self.first_leaf + h;
            for k in [k, k.saturating_sub(1) / B] {
                let (g, i) = slot(k);
                if let Some(node) = self.tree.get(g).and_then(|g| g.0.get(i)) {
                    crate::prefetch::prefetch(node);
                }
                if let Some(key) = self.worst.get(g).and_then(|g| g.0.get(i)) {
                    crate::prefetch::prefetch(key);
                }
            }
        }
    }

    /// Whether host `h` is a candidate.
    pub fn is_candidate(&self, h: usize) -> bool {
        self.hosts[h].candidate
    }

    #[inline]
    fn key(&self, h: usize) -> Key {
        let f = self.hosts[h].free;
        let rank = match self.rule {
            Placement::WorstFit => u32::MAX - h as u32,
            _ => h as u32,
        };
        (f.vcpus, f.mem, rank)
    }

    /// Node `k`.
    #[inline(always)]
    fn node(&self, k: usize) -> Node {
        let (g, i) = slot(k);
        self.tree[g].0[i]
    }

    #[inline(always)]
    fn node_mut(&mut self, k: usize) -> &mut Node {
        let (g, i) = slot(k);
        &mut self.tree[g].0[i]
    }

    /// Worst-fit leaves the key tree for the sets, once (a host's free slots no longer
    /// fit in 32 bits: unlimited overcommit).
    #[cold]
    fn leave_key_tree(&mut self) {
        self.worst = Vec::new();
        self.build_sets();
    }

    /// Sets internal node `k` to the maxima of its children (group `k + 1`).
    #[inline]
    fn pull(&mut self, k: usize) {
        let max = match self.tree.get(k + 1) {
            Some(g) => g.0.iter().fold(Node::default(), |a, &c| a.max(c)),
            None => Node::default(),
        };
        *self.node_mut(k) = max;
    }

    /// Writes host `h`'s leaf (zeros when it is not a candidate) and its ancestors.
    #[inline]
    fn refresh_tree(&mut self, h: usize) {
        let mut k = self.first_leaf + h;
        *self.node_mut(k) = if self.hosts[h].candidate {
            Node::of(self.hosts[h].free)
        } else {
            Node::default()
        };
        while k > 0 {
            k = (k - 1) / B;
            let before = self.node(k);
            self.pull(k);
            if self.node(k) == before {
                break;
            }
        }
        if !self.worst.is_empty() {
            self.refresh_keys(h);
        }
    }

    /// Host `h` now has `vcpus` free vCPU slots and `mem` free MiB. O(log H).
    pub fn update(&mut self, h: usize, vcpus: u64, mem: u64) {
        let old = self.hosts[h].free;
        if old.vcpus == vcpus && old.mem == mem {
            return;
        }
        let in_sets = self.hosts[h].candidate && !self.classes.is_empty();
        if in_sets {
            let key = self.key(h);
            self.classes[self.class_of[h] as usize].set.remove(&key);
        }
        self.hosts[h].free.vcpus = vcpus;
        self.hosts[h].free.mem = mem;
        if !self.worst.is_empty() && u32::try_from(vcpus).is_err() {
            // (The sets are built from every host's entry, this one's included.)
            self.leave_key_tree();
        } else if in_sets {
            let key = self.key(h);
            self.classes[self.class_of[h] as usize].set.insert(key);
        }
        if self.hosts[h].candidate {
            self.refresh_tree(h);
        }
    }

    /// Takes host `h` out of the candidate set (`false`: no VM is placed on it) or puts it
    /// back (`true`), keeping its free quantities. O(log H).
    pub fn set_candidate(&mut self, h: usize, candidate: bool) {
        if self.hosts[h].candidate == candidate {
            return;
        }
        if !self.classes.is_empty() {
            let key = self.key(h);
            let set = &mut self.classes[self.class_of[h] as usize].set;
            if candidate {
                set.insert(key);
            } else {
                set.remove(&key);
            }
        }
        self.hosts[h].candidate = candidate;
        self.refresh_tree(h);
    }

    /// The most free vCPU slots (saturated at `u32::MAX`, more than any VM has) and the
    /// most free memory on any candidate host (maybe two different hosts): a VM larger
    /// than either fits nowhere. O(1).
    #[inline]
    pub fn max_free(&self) -> (u64, u64) {
        let root = self.node(0);
        (u64::from(root.vcpus), root.mem)
    }

    /// Whether the root's maxima let a VM of `v` vCPUs and `m` MiB fit somewhere (a
    /// necessary condition).
    #[inline]
    fn may_fit(&self, i: usize, v: u64, m: u64) -> bool {
        self.node(i).may_fit(v, m)
    }

    /// The candidate host the rule picks for a VM of `v` ≥ 1 vCPUs and `m` MiB, if any.
    pub fn choose(&self, v: u64, m: u64) -> Option<usize> {
        if self.hosts.is_empty() || !self.may_fit(0, v, m) {
            return None;
        }
        let chosen = match self.rule {
            Placement::FirstFit => self.first_fit(0, v, m),
            Placement::BestFit => self
                .classes
                .iter()
                .filter(|c| u64::from(c.limit) >= v)
                .filter_map(|c| best_in(&c.set, v, m))
                .min()
                .map(|k| k.2 as usize),
            Placement::WorstFit if !self.worst.is_empty() => self.worst_fit(v, m),
            Placement::WorstFit => self
                .classes
                .iter()
                .filter(|c| u64::from(c.limit) >= v)
                .filter_map(|c| worst_in(&c.set, v, m))
                .max()
                .map(|k| (u32::MAX - k.2) as usize),
        };
        // The chosen host's entry is updated once the VM is admitted: start its load now,
        // so that it overlaps the admission's reads of the host.
        if let Some(h) = chosen {
            self.prefetch(h);
        }
        chosen
    }

    /// The leftmost leaf under node `k` that fits, as a host number (the caller checked
    /// that node `k` may fit).
    fn first_fit(&self, k: usize, v: u64, m: u64) -> Option<usize> {
        if k >= self.first_leaf {
            let h = k - self.first_leaf;
            return (h < self.hosts.len()).then_some(h);
        }
        let children = &self.tree.get(k + 1)?.0;
        for (j, c) in children.iter().enumerate() {
            if c.may_fit(v, m)
                && let Some(h) = self.first_fit(B * k + 1 + j, v, m)
            {
                return Some(h);
            }
        }
        None
    }
}

/// Where node `k` of a tree lies: (group, position in it). Node `k` lives at position
/// `k + B − 1` of the groups in order, so that the children of node `k` fill group `k + 1`.
#[inline(always)]
fn slot(k: usize) -> (usize, usize) {
    let p = k + B - 1;
    (p / B, p % B)
}

/// Best-fit in one class: the smallest key with free slots ≥ `v` and free memory ≥ `m`.
#[inline]
fn best_in(set: &HostSet, v: u64, m: u64) -> Option<Key> {
    let mut from = (v, m, 0u32);
    loop {
        let k = set.first_from(from)?;
        if k.1 >= m {
            return Some(k);
        }
        // Every host with k.0 free slots and less than m free memory is skipped at once.
        from = (k.0, m, 0);
    }
}

/// Worst-fit in one class: the largest key with free slots ≥ `v` and free memory ≥ `m`.
#[inline]
fn worst_in(set: &HostSet, v: u64, m: u64) -> Option<Key> {
    let mut to = (u64::MAX, u64::MAX, u32::MAX);
    loop {
        let k = set.last_to(to)?;
        if k.0 < v {
            return None;
        }
        if k.1 >= m {
            return Some(k);
        }
        // The largest memory with k.0 free slots is too small: go below k.0.
        to = (k.0.checked_sub(1)?, u64::MAX, u32::MAX);
    }
}

/// The linear scan the index replaces (kept as the reference for tests and benchmarks):
/// the candidate host `rule` picks for a VM of `v` vCPUs and `m` MiB. O(H).
pub fn reference_choice(
    rule: Placement,
    hosts: &[HostFree],
    candidate: &[bool],
    v: u64,
    m: u64,
) -> Option<usize> {
    if let ([only], [c]) = (hosts, candidate) {
        return (*c && only.fits(v, m)).then_some(0);
    }
    let mut best: Option<(usize, u64, u64)> = None;
    for (i, h) in hosts.iter().enumerate() {
        if !candidate[i] || !h.fits(v, m) {
            continue;
        }
        let (free_v, free_m) = (h.vcpus - v, h.mem - m);
        let better = match (rule, best) {
            (Placement::FirstFit, _) => return Some(i),
            (_, None) => true,
            (Placement::BestFit, Some((_, bv, bm))) => (free_v, free_m) < (bv, bm),
            (Placement::WorstFit, Some((_, bv, bm))) => (free_v, free_m) > (bv, bm),
        };
        if better {
            best = Some((i, free_v, free_m));
        }
    }
    best.map(|(i, _, _)| i)
}

#[cfg(test)]
#[path = "placement_index_tests.rs"]
mod tests;
