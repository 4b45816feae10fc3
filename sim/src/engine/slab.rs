//! A slab: a vector whose freed slots are reused, so its size is the peak in flight.
//! Slots are typed indices (`K`: a VM's, a vCPU's or a request's slot).

use std::marker::PhantomData;

use super::ids::Id;

#[derive(Debug)]
pub(super) struct Slab<K, T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
    key: PhantomData<K>,
}

impl<K: Id, T> Slab<K, T> {
    pub(super) fn new() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
            key: PhantomData,
        }
    }

    #[inline(always)]
    pub(super) fn insert(&mut self, t: T) -> K {
        self.insert_with(|| t)
    }

    /// Inserts the item `make` builds, built in its slot (no copy of a large item).
    #[inline(always)]
    pub(super) fn insert_with(&mut self, make: impl FnOnce() -> T) -> K {
        match self.free.pop() {
            Some(i) => {
                self.items[i as usize] = Some(make());
                K::from_raw(i)
            }
            None => {
                self.items.push(Some(make()));
                K::from_raw((self.items.len() - 1) as u32)
            }
        }
    }

    pub(super) fn remove(&mut self, i: K) -> Option<T> {
        let t = self.items.get_mut(i.index())?.take();
        if t.is_some() {
            self.free.push(i.raw());
        }
        t
    }

    /// Empties slot `i` (if occupied) without moving its item out.
    pub(super) fn free(&mut self, i: K) {
        if let Some(slot) = self.items.get_mut(i.index())
            && slot.is_some()
        {
            *slot = None;
            self.free.push(i.raw());
        }
    }

    /// The items in occupied slots, in slot order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().flatten()
    }

    /// The occupied slots with their items, in slot order.
    pub(super) fn iter_slots(&self) -> impl Iterator<Item = (K, &T)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.as_ref().map(|t| (K::from_raw(i as u32), t)))
    }

    /// The item in slot `i`, if the slot is occupied.
    #[inline]
    pub(super) fn try_get(&self, i: K) -> Option<&T> {
        self.items.get(i.index()).and_then(Option::as_ref)
    }

    /// Hints the processor to bring slot `i` into the caches (see `prefetch`).
    #[inline(always)]
    pub(super) fn prefetch(&self, i: K) {
        if let Some(slot) = self.items.get(i.index()) {
            crate::prefetch::prefetch(slot);
        }
    }

    /// The item in slot `i`. The engine only holds slots of live items.
    #[inline]
    // An invariant of the engine, not of its input: every slot it reads was inserted and
    // not yet removed (the property tests exercise every path); a broken invariant is a
    // bug to report, not an input error to recover from.
    #[allow(clippy::expect_used)]
    pub(super) fn get(&self, i: K) -> &T {
        self.items[i.index()]
            .as_ref()
            .expect("engine invariant: slab slot referenced after removal")
    }

    #[inline]
    // As for `get`.
    #[allow(clippy::expect_used)]
    pub(super) fn get_mut(&mut self, i: K) -> &mut T {
        self.items[i.index()]
            .as_mut()
            .expect("engine invariant: slab slot referenced after removal")
    }
}
