//! A cache hint: start bringing a value's cache line in before it is read.
//!
//! With many hosts, the state an event touches (its VM, its host, the host's pCPU, its
//! placement entry) is mostly not in the caches; the main loop asks for the next event's
//! state while it handles the current one, so the two memory waits overlap.

/// Hints the processor to load the cache line holding `value` into all cache levels.
/// Without effect on results: a prefetch neither reads the value architecturally nor can
/// it fault. (A no-op off x86-64.)
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    prefetch_line((value as *const T).cast::<u8>());
}

#[inline(always)]
fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: `_mm_prefetch` is a hint with no architectural memory access (it cannot
    // fault), SSE is part of the x86-64 baseline, and the pointer comes from a reference.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
