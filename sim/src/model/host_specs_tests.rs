use super::*;

/// A host told apart by its pCPUs.
fn h(pcpus: u32) -> HostSpec {
    HostSpec::new(pcpus, 1024)
}

/// `layout` as (pCPUs, count) groups, encoded and expanded.
fn both(layout: &[(u32, usize)]) -> (HostSpecs, Vec<HostSpec>) {
    let mut rle = HostSpecs::new();
    let mut vec = Vec::new();
    for &(p, n) in layout {
        rle.push_n(h(p), n);
        vec.extend(std::iter::repeat_n(h(p), n));
    }
    (rle, vec)
}

/// Layouts: one group, one host, groups of one, equal neighbours (merged), empty groups
/// (dropped), long and short groups mixed.
const LAYOUTS: &[&[(u32, usize)]] = &[
    &[],
    &[(4, 1)],
    &[(4, 1000)],
    &[(1, 1), (2, 1), (3, 1), (4, 1)],
    &[(8, 3), (8, 5), (2, 0), (16, 7), (8, 1)],
    &[(2, 0), (1, 2), (3, 17), (1, 1), (5, 64), (2, 2), (7, 1)],
    &[(16, 100), (32, 1), (16, 99), (64, 3), (16, 1), (32, 50)],
];

/// Index, `get`, `iter`, `len`, `first`, `last` and `nth` agree with the expanded `Vec` at
/// every host number and one past the end.
#[test]
fn reads_like_the_expanded_vec() {
    for layout in LAYOUTS {
        let (rle, vec) = both(layout);
        assert_eq!(rle.len(), vec.len(), "{layout:?}");
        assert_eq!(rle.is_empty(), vec.is_empty());
        for (i, spec) in vec.iter().enumerate() {
            assert_eq!(&rle[i], spec, "{layout:?} host {i}");
        }
        assert_eq!(rle.get(vec.len()), None);
        assert_eq!(rle.first(), vec.first());
        assert_eq!(rle.last(), vec.last());
        let it = rle.iter();
        assert_eq!(it.len(), vec.len());
        assert!(rle.iter().eq(vec.iter()), "{layout:?}");
        assert!((&rle).into_iter().eq(vec.iter()));
        for n in 0..=vec.len() + 1 {
            assert_eq!(rle.iter().nth(n), vec.get(n), "{layout:?} nth {n}");
            // (nth after a partial walk, then the rest.)
            let mut a = rle.iter();
            let mut b = vec.iter();
            a.next();
            b.next();
            assert_eq!(a.nth(n), b.nth(n));
            assert!(a.eq(b));
        }
        let hosts: usize = rle.groups().map(|(_, n)| n).sum();
        assert_eq!(hosts, vec.len());
        assert!(rle.groups().all(|(_, n)| n >= 1));
    }
}

/// Equal consecutive hosts share a group: from a `Vec`, from an iterator, by `push`.
#[test]
fn merges_equal_neighbours() {
    let vec = vec![h(1), h(1), h(2), h(2), h(2), h(1)];
    let rle = HostSpecs::from(vec.clone());
    let groups: Vec<(u32, usize)> = rle.groups().map(|(s, n)| (s.pcpus, n)).collect();
    assert_eq!(groups, [(1, 2), (2, 3), (1, 1)]);
    assert_eq!(rle.group_count(), 3);
    assert_eq!(vec.iter().cloned().collect::<HostSpecs>(), rle);
    let mut pushed = HostSpecs::new();
    for s in &vec {
        pushed.push(s.clone());
    }
    assert_eq!(pushed.group_count(), 3);
    // One group of 100,000 hosts, not 100,000 specs.
    let big = HostSpecs::repeated(h(16), 100_000);
    assert_eq!((big.len(), big.group_count()), (100_000, 1));
    assert_eq!(big[99_999], h(16));
    // `clear` empties.
    let mut c = big.clone();
    c.clear();
    assert!(c.is_empty());
    assert_eq!(c.len(), 0);
    assert_eq!(c.group_count(), 0);
}

/// Writing host `i` gives it a group of its own: at the start, middle and end of a
/// group, on a group of one, and every host in turn; the other hosts are unchanged.
#[test]
fn index_mut_splits_the_group() {
    for layout in LAYOUTS {
        let (rle, vec) = both(layout);
        for i in 0..vec.len() {
            let (mut a, mut b) = (rle.clone(), vec.clone());
            a[i].overcommit = 2.0;
            b[i].overcommit = 2.0;
            assert!(a.iter().eq(b.iter()), "{layout:?} host {i}");
            assert_eq!(a.len(), b.len());
            assert!(a.groups().all(|(_, n)| n >= 1));
            // (At most two more groups.)
            assert!(a.group_count() <= rle.group_count() + 2);
        }
    }
    // 5 hosts in one group; host 2 splits it in three: 2, 1, 2.
    let mut a = HostSpecs::repeated(h(4), 5);
    a[2].pcpus = 8;
    let groups: Vec<(u32, usize)> = a.groups().map(|(s, n)| (s.pcpus, n)).collect();
    assert_eq!(groups, [(4, 2), (8, 1), (4, 2)]);
    // Then host 0 and host 4: at the ends, two groups each.
    a[0].pcpus = 1;
    a[4].pcpus = 1;
    let groups: Vec<(u32, usize)> = a.groups().map(|(s, n)| (s.pcpus, n)).collect();
    assert_eq!(groups, [(1, 1), (4, 1), (8, 1), (4, 1), (1, 1)]);
    // Writing every host of a copy in turn.
    let (mut all, mut vec) = both(&[(3, 4), (5, 3)]);
    for i in 0..all.len() {
        all[i].pcpus += i as u32;
        vec[i].pcpus += i as u32;
    }
    assert!(all.iter().eq(vec.iter()));
    assert_eq!(all.get_mut(7), None);
}

/// Equality is per host, whatever the groups: a split and unmerged encoding equals the
/// merged one; a different host or length is not equal.
#[test]
fn equal_across_encodings() {
    let merged = HostSpecs::repeated(h(4), 6);
    let mut split = HostSpecs::repeated(h(4), 6);
    split[1].pcpus = 4; // (its own group now, same spec)
    split[4].pcpus = 4;
    assert_eq!(split.group_count(), 5);
    assert_eq!(split, merged);
    assert_eq!(merged, split);
    let mut other = split.clone();
    other[5].pcpus = 5;
    assert_ne!(other, merged);
    assert_ne!(HostSpecs::repeated(h(4), 5), merged);
    assert_eq!(HostSpecs::new(), HostSpecs::from(Vec::new()));
    for layout in LAYOUTS {
        let (rle, vec) = both(layout);
        assert_eq!(rle, HostSpecs::from(vec));
    }
}

/// A host number past the end panics like a `Vec`.
#[test]
#[should_panic(expected = "index out of bounds: the len is 3 but the index is 3")]
fn out_of_range_panics() {
    let hosts = HostSpecs::from([h(1), h(2), h(2)]);
    let _ = &hosts[3];
}

/// The same with one group (the fast path).
#[test]
#[should_panic(expected = "index out of bounds: the len is 2 but the index is 2")]
fn out_of_range_panics_with_one_group() {
    let mut hosts = HostSpecs::repeated(h(1), 2);
    hosts[2].pcpus = 3;
}

/// Debug output lists the groups as `count × spec`.
#[test]
fn debug_shows_groups() {
    let hosts = HostSpecs::from([h(1), h(1), h(2)]);
    let s = format!("{hosts:?}");
    assert!(s.starts_with("[2 × HostSpec { pcpus: 1,"), "{s}");
    assert!(s.contains(", 1 × HostSpec { pcpus: 2,"), "{s}");
}
