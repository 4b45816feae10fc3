//! An overcommit ratio (`[[hosts]] overcommit`, `memory_overcommit`, and the node-list
//! settings of `[cluster]`): a positive number or `"unlimited"`, in either form in a file.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::check::check_positive;
use crate::error::Error;

/// An overcommit ratio: a positive number, or `"unlimited"`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Overcommit {
    /// Admit up to `ratio × capacity`.
    Ratio(f64),
    /// Admit without limit (the textbook setting).
    Unlimited,
}

impl Default for Overcommit {
    fn default() -> Self {
        Overcommit::Ratio(1.0)
    }
}

impl Overcommit {
    /// The ratio as the engine takes it (`f64::INFINITY` for unlimited).
    pub fn ratio(self) -> f64 {
        match self {
            Overcommit::Ratio(r) => r,
            Overcommit::Unlimited => f64::INFINITY,
        }
    }

    pub(super) fn validate(self, key: &str) -> Result<(), Error> {
        match self {
            Overcommit::Ratio(r) => check_positive(key, r),
            Overcommit::Unlimited => Ok(()),
        }
    }
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
