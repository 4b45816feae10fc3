//! Serde helpers of the scenario's tables: default values, and what is left out when a
//! scenario is written back (values at their defaults).

use sim::{Demote, Mapping, MlfqSpec, Placement};

use super::overcommit::Overcommit;
use crate::units::PageSize;

pub(super) fn is_one_u32(v: &u32) -> bool {
    *v == 1
}
pub(super) fn is_zero(v: &f64) -> bool {
    *v == 0.0
}
pub(super) fn is_page_4k(p: &PageSize) -> bool {
    *p == PageSize::Kib4
}
pub(super) fn is_floating(m: &Mapping) -> bool {
    *m == Mapping::Floating
}

pub(super) fn is_default_levels(v: &u32) -> bool {
    *v == MlfqSpec::default().levels
}
pub(super) fn is_one(v: &f64) -> bool {
    *v == 1.0
}
pub(super) fn is_contended(d: &Demote) -> bool {
    *d == Demote::Contended
}

pub(super) fn one_u32() -> u32 {
    1
}

pub(super) fn is_default_overcommit(o: &Overcommit) -> bool {
    *o == Overcommit::default()
}

pub(super) fn first_fit() -> Placement {
    Placement::FirstFit
}
