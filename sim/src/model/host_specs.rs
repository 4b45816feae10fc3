//! [`HostSpecs`]: a cluster's hosts, stored as runs of identical consecutive hosts.

use std::fmt;
use std::ops::{Index, IndexMut};

use super::HostSpec;

/// The hosts of a cluster, numbered from 0 in declaration order, stored run-length encoded:
/// a scenario declares its hosts in a few groups (`[[hosts]] count = N`), so a 100,000-host
/// cluster costs a few specs rather than 100,000 copies of one.
///
/// It reads like a `Vec<HostSpec>`: [`len`](HostSpecs::len), indexing by host number (one
/// group: a comparison; more: a binary search over the groups), [`iter`](HostSpecs::iter)
/// once per host. [`groups`](HostSpecs::groups) gives each run once, for work that depends
/// only on the spec. Writing to one host through `hosts[i]` gives that host a group of its
/// own. Two encodings of the same hosts are equal.
#[derive(Clone, Default)]
pub struct HostSpecs {
    /// The runs, in host order; every count is ≥ 1.
    groups: Vec<(HostSpec, usize)>,
    /// `ends[g]`: one past the last host of group `g` (prefix sums of the counts).
    ends: Vec<usize>,
}

impl HostSpecs {
    /// No hosts.
    pub fn new() -> HostSpecs {
        HostSpecs::default()
    }

    /// `count` hosts equal to `spec`, stored once.
    pub fn repeated(spec: HostSpec, count: usize) -> HostSpecs {
        let mut hosts = HostSpecs::new();
        hosts.push_n(spec, count);
        hosts
    }

    /// The number of hosts.
    pub fn len(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    /// Whether there are no hosts.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The number of groups (runs of identical consecutive hosts as stored).
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Appends one host (to the last group when it is equal to that group's spec).
    pub fn push(&mut self, spec: HostSpec) {
        self.push_n(spec, 1);
    }

    /// Appends `count` hosts equal to `spec` without copying it per host (to the last group
    /// when equal to that group's spec; nothing for 0).
    pub fn push_n(&mut self, spec: HostSpec, count: usize) {
        if count == 0 {
            return;
        }
        // (A cluster has far fewer than `usize::MAX` hosts: the scenario limits them.)
        let end = self.len().saturating_add(count);
        if let (Some((last, n)), Some(last_end)) = (self.groups.last_mut(), self.ends.last_mut())
            && *last == spec
        {
            *n += count;
            *last_end = end;
        } else {
            self.groups.push((spec, count));
            self.ends.push(end);
        }
    }

    /// Removes every host.
    pub fn clear(&mut self) {
        self.groups.clear();
        self.ends.clear();
    }

    /// Host `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<&HostSpec> {
        self.group_of(i).map(|g| &self.groups[g].0)
    }

    /// Host `i`, mutable, or `None` past the end; host `i` gets a group of its own first.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut HostSpec> {
        let g = self.split_out(i)?;
        Some(&mut self.groups[g].0)
    }

    /// Host 0.
    pub fn first(&self) -> Option<&HostSpec> {
        self.groups.first().map(|g| &g.0)
    }

    /// The last host.
    pub fn last(&self) -> Option<&HostSpec> {
        self.groups.last().map(|g| &g.0)
    }

    /// Every host in order, one item per host.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            groups: &self.groups,
            left: self.len(),
            in_group: self.groups.first().map_or(0, |g| g.1),
        }
    }

    /// Each group once, in host order, with its number of hosts (≥ 1). Consecutive groups
    /// may have equal specs after a host was written through `hosts[i]`.
    pub fn groups(&self) -> impl ExactSizeIterator<Item = (&HostSpec, usize)> + Clone + '_ {
        self.groups.iter().map(|(s, n)| (s, *n))
    }

    /// Each group's spec once, mutable: a change applies to all hosts of the group.
    pub fn specs_mut(&mut self) -> impl ExactSizeIterator<Item = &mut HostSpec> + '_ {
        self.groups.iter_mut().map(|(s, _)| s)
    }

    /// The group holding host `i`.
    fn group_of(&self, i: usize) -> Option<usize> {
        if self.ends.len() == 1 {
            return (i < self.ends[0]).then_some(0);
        }
        let g = self.ends.partition_point(|&end| end <= i);
        (g < self.ends.len()).then_some(g)
    }

    /// Splits host `i` out of its group (into up to three groups) and returns its group.
    fn split_out(&mut self, i: usize) -> Option<usize> {
        let g = self.group_of(i)?;
        let count = self.groups[g].1;
        if count == 1 {
            return Some(g);
        }
        let end = self.ends[g];
        let start = end - count;
        let (before, after) = (i - start, end - i - 1);
        let spec = self.groups[g].0.clone();
        // Group `g` keeps the hosts before `i` (if any), then `i`, then those after it.
        let mut at = g;
        if before > 0 {
            self.groups[g].1 = before;
            self.ends[g] = i;
            at += 1;
            self.groups.insert(at, (spec.clone(), 1));
            self.ends.insert(at, i + 1);
        } else {
            self.groups[g].1 = 1;
            self.ends[g] = i + 1;
        }
        if after > 0 {
            self.groups.insert(at + 1, (spec, after));
            self.ends.insert(at + 1, end);
        }
        Some(at)
    }

    #[cold]
    #[track_caller]
    fn out_of_range(&self, i: usize) -> ! {
        panic!(
            "index out of bounds: the len is {} but the index is {i}",
            self.len()
        )
    }
}

impl Index<usize> for HostSpecs {
    type Output = HostSpec;

    #[track_caller]
    fn index(&self, i: usize) -> &HostSpec {
        match self.get(i) {
            Some(s) => s,
            None => self.out_of_range(i),
        }
    }
}

impl IndexMut<usize> for HostSpecs {
    #[track_caller]
    fn index_mut(&mut self, i: usize) -> &mut HostSpec {
        match self.split_out(i) {
            Some(g) => &mut self.groups[g].0,
            None => self.out_of_range(i),
        }
    }
}

/// Per host: two encodings of the same hosts are equal.
impl PartialEq for HostSpecs {
    fn eq(&self, other: &HostSpecs) -> bool {
        if self.len() != other.len() {
            return false;
        }
        // Walk both run lists; compare specs wherever a run starts on either side.
        let (mut a, mut b) = (self.groups.iter(), other.groups.iter());
        let (mut x, mut y) = (a.next(), b.next());
        let (mut left_x, mut left_y) = (x.map_or(0, |g| g.1), y.map_or(0, |g| g.1));
        while let (Some((sx, _)), Some((sy, _))) = (x, y) {
            if sx != sy {
                return false;
            }
            let step = left_x.min(left_y);
            left_x -= step;
            left_y -= step;
            if left_x == 0 {
                x = a.next();
                left_x = x.map_or(0, |g| g.1);
            }
            if left_y == 0 {
                y = b.next();
                left_y = y.map_or(0, |g| g.1);
            }
        }
        true
    }
}

impl fmt::Debug for HostSpecs {
    /// The groups as `count × spec`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Group<'a>(&'a HostSpec, usize);
        impl fmt::Debug for Group<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} × ", self.1)?;
                fmt::Debug::fmt(self.0, f)
            }
        }
        f.debug_list()
            .entries(self.groups.iter().map(|(s, n)| Group(s, *n)))
            .finish()
    }
}

impl From<Vec<HostSpec>> for HostSpecs {
    /// Merges equal consecutive hosts.
    fn from(hosts: Vec<HostSpec>) -> HostSpecs {
        hosts.into_iter().collect()
    }
}

impl<const N: usize> From<[HostSpec; N]> for HostSpecs {
    /// Merges equal consecutive hosts.
    fn from(hosts: [HostSpec; N]) -> HostSpecs {
        hosts.into_iter().collect()
    }
}

impl FromIterator<HostSpec> for HostSpecs {
    /// Merges equal consecutive hosts.
    fn from_iter<I: IntoIterator<Item = HostSpec>>(iter: I) -> HostSpecs {
        let mut hosts = HostSpecs::new();
        hosts.extend(iter);
        hosts
    }
}

impl Extend<HostSpec> for HostSpecs {
    fn extend<I: IntoIterator<Item = HostSpec>>(&mut self, iter: I) {
        for h in iter {
            self.push(h);
        }
    }
}

impl<'a> IntoIterator for &'a HostSpecs {
    type Item = &'a HostSpec;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Every host of a [`HostSpecs`] in order ([`HostSpecs::iter`]).
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    /// The current group first.
    groups: &'a [(HostSpec, usize)],
    /// Hosts not yet yielded.
    left: usize,
    /// Hosts of the current group not yet yielded.
    in_group: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a HostSpec;

    fn next(&mut self) -> Option<&'a HostSpec> {
        if self.in_group == 0 {
            let rest = self.groups.get(1..)?;
            self.groups = rest;
            self.in_group = rest.first()?.1;
        }
        self.in_group -= 1;
        self.left -= 1;
        Some(&self.groups[0].0)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }

    fn nth(&mut self, mut n: usize) -> Option<&'a HostSpec> {
        // Skip whole groups.
        while n >= self.in_group && !self.groups.is_empty() {
            n -= self.in_group;
            self.left -= self.in_group;
            self.groups = &self.groups[1..];
            self.in_group = self.groups.first().map_or(0, |g| g.1);
        }
        if self.groups.is_empty() {
            return None;
        }
        self.in_group -= n;
        self.left -= n;
        self.next()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::iter::FusedIterator for Iter<'_> {}

#[cfg(test)]
#[path = "host_specs_tests.rs"]
mod tests;
