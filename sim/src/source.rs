//! Where the engine reads VM requests from: [`VmSource`], a stream in arrival order that
//! lends the next request instead of handing it over, so that the engine copies each
//! request once, into the VM's own entry.

use crate::model::VmRequest;

/// A stream of VM requests in arrival order, read in place.
pub trait VmSource {
    /// The next request, if any, without taking it.
    fn peek(&mut self) -> Option<&VmRequest>;
    /// Moves past the request [`VmSource::peek`] lent.
    fn advance(&mut self);
}

impl<S: VmSource + ?Sized> VmSource for &mut S {
    #[inline(always)]
    fn peek(&mut self) -> Option<&VmRequest> {
        (**self).peek()
    }
    #[inline(always)]
    fn advance(&mut self) {
        (**self).advance()
    }
}

/// Any iterator of requests as a [`VmSource`]: the next request is taken one step early and
/// held here.
pub struct Peeked<I: Iterator<Item = VmRequest>> {
    iter: I,
    next: Option<VmRequest>,
}

impl<I: Iterator<Item = VmRequest>> Peeked<I> {
    /// Wraps `iter` (taking its first request now).
    pub fn new(mut iter: I) -> Self {
        let next = iter.next();
        Peeked { iter, next }
    }
}

impl<I: Iterator<Item = VmRequest>> VmSource for Peeked<I> {
    #[inline(always)]
    fn peek(&mut self) -> Option<&VmRequest> {
        self.next.as_ref()
    }
    #[inline(always)]
    fn advance(&mut self) {
        self.next = self.iter.next();
    }
}
