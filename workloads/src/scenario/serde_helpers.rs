//! Serde helpers of the scenario's tables: defaults, what is left out when written back,
//! and the two forms of an overcommit ratio.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sim::{Mapping, Placement};

use super::spec::Overcommit;
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

pub(super) fn one_u32() -> u32 {
    1
}

pub(super) fn is_default_overcommit(o: &Overcommit) -> bool {
    *o == Overcommit::default()
}

pub(super) fn first_fit() -> Placement {
    Placement::FirstFit
}

impl Serialize for Overcommit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Overcommit::Ratio(r) => s.serialize_f64(*r),
            Overcommit::Unlimited => s.serialize_str("unlimited"),
        }
    }
}

impl<'de> Deserialize<'de> for Overcommit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Overcommit;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a ratio (number) or \"unlimited\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Overcommit, E> {
                Ok(Overcommit::Ratio(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Overcommit, E> {
                Ok(Overcommit::Ratio(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Overcommit, E> {
                Ok(Overcommit::Ratio(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Overcommit, E> {
                if v == "unlimited" {
                    Ok(Overcommit::Unlimited)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}
