//! Where the engine reads VM requests from: [`VmSource`], a stream in arrival order that
//! lends the next request instead of handing it over, so that the engine copies each
//! request once, into the VM's own entry. Any iterator serves, made peekable.

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

/// Any iterator of requests, peekable, as a [`VmSource`].
impl<I: Iterator<Item = VmRequest>> VmSource for std::iter::Peekable<I> {
    #[inline(always)]
    fn peek(&mut self) -> Option<&VmRequest> {
        std::iter::Peekable::peek(self)
    }
    #[inline(always)]
    fn advance(&mut self) {
        self.next();
    }
}
