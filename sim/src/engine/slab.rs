//! A slab: a vector whose freed slots are reused, so its size is the peak in flight.

#[derive(Debug)]
pub(crate) struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }

    #[inline(always)]
    pub(crate) fn insert(&mut self, t: T) -> u32 {
        self.insert_with(|| t)
    }

    /// Inserts the item `make` builds, built in its slot (no copy of a large item).
    #[inline(always)]
    pub(crate) fn insert_with(&mut self, make: impl FnOnce() -> T) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.items[i as usize] = Some(make());
                i
            }
            None => {
                self.items.push(Some(make()));
                (self.items.len() - 1) as u32
            }
        }
    }

    pub(crate) fn remove(&mut self, i: u32) -> Option<T> {
        let t = self.items.get_mut(i as usize)?.take();
        if t.is_some() {
            self.free.push(i);
        }
        t
    }

    /// Empties slot `i` (if occupied) without moving its item out.
    pub(crate) fn free(&mut self, i: u32) {
        if let Some(slot) = self.items.get_mut(i as usize)
            && slot.is_some()
        {
            *slot = None;
            self.free.push(i);
        }
    }

    /// The items in occupied slots, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().flatten()
    }

    /// The item in slot `i`, if the slot is occupied.
    #[inline]
    pub(crate) fn try_get(&self, i: u32) -> Option<&T> {
        self.items.get(i as usize).and_then(Option::as_ref)
    }

    /// The item in slot `i`. The engine only holds slots of live items.
    #[inline]
    // An invariant of the engine, not of its input: every slot it reads was inserted and
    // not yet removed (the property tests exercise every path); a broken invariant is a
    // bug to report, not an input error to recover from.
    #[allow(clippy::expect_used)]
    pub(crate) fn get(&self, i: u32) -> &T {
        self.items[i as usize]
            .as_ref()
            .expect("engine invariant: slab slot referenced after removal")
    }

    #[inline]
    // As for `get`.
    #[allow(clippy::expect_used)]
    pub(crate) fn get_mut(&mut self, i: u32) -> &mut T {
        self.items[i as usize]
            .as_mut()
            .expect("engine invariant: slab slot referenced after removal")
    }
}
