//! Closed sets of names in scenario files, parsed into enums as the file is read:
//! placement, head of line, vCPU mapping, page size, device kinds, virtual device kinds and
//! lifecycle actions.
//!
//! A name outside its set is an error that lists the accepted names, for example
//! `hosts.0.devices.1.kind: must be "disk" or "nic", got "tape"`. Each enum is written back
//! under its canonical name.

use serde::de::{self, Deserialize, Deserializer};
use serde::ser::Serializer;
use sim::{
    Backfill, Demote, DeviceKind, HeadOfLine, LifecycleAction, Mapping, Placement, VirtualDevice,
};

use crate::check::not_one_of;
use crate::units::PageSize;

/// An enum written by name in scenario files.
pub(crate) trait Named: Sized + Copy {
    /// The accepted names, in the order messages list them.
    const NAMES: &'static [&'static str];
    /// The value called `name`, if any.
    fn from_name(name: &str) -> Option<Self>;
    /// The canonical name.
    fn name(self) -> &'static str;
}

impl Named for Mapping {
    const NAMES: &'static [&'static str] = &["floating", "pinned"];
    fn from_name(name: &str) -> Option<Self> {
        Mapping::from_name(name)
    }
    fn name(self) -> &'static str {
        Mapping::name(self)
    }
}

impl Named for Demote {
    const NAMES: &'static [&'static str] = &["contended", "always"];
    fn from_name(name: &str) -> Option<Self> {
        Demote::from_name(name)
    }
    fn name(self) -> &'static str {
        Demote::name(self)
    }
}

impl Named for Backfill {
    const NAMES: &'static [&'static str] = &Backfill::NAMES;
    fn from_name(name: &str) -> Option<Self> {
        Backfill::from_name(name)
    }
    fn name(self) -> &'static str {
        Backfill::name(self)
    }
}

impl Named for DeviceKind {
    const NAMES: &'static [&'static str] = &["disk", "nic"];
    fn from_name(name: &str) -> Option<Self> {
        DeviceKind::from_name(name)
    }
    fn name(self) -> &'static str {
        DeviceKind::name(self)
    }
}

impl Named for VirtualDevice {
    const NAMES: &'static [&'static str] = &["emulated", "virtio", "passthrough"];
    fn from_name(name: &str) -> Option<Self> {
        VirtualDevice::from_name(name)
    }
    fn name(self) -> &'static str {
        VirtualDevice::name(self)
    }
}

impl Named for LifecycleAction {
    const NAMES: &'static [&'static str] = &["pause", "resume", "stop", "migrate"];
    fn from_name(name: &str) -> Option<Self> {
        LifecycleAction::from_name(name)
    }
    fn name(self) -> &'static str {
        LifecycleAction::name(self)
    }
}

impl Named for PageSize {
    const NAMES: &'static [&'static str] = &PageSize::NAMES;
    fn from_name(name: &str) -> Option<Self> {
        PageSize::from_name(name)
    }
    fn name(self) -> &'static str {
        PageSize::name(self)
    }
}

/// `#[serde(with = "crate::names::named")]`: a [`Named`] enum as its name; an unknown name
/// is an error listing the accepted ones ([`not_one_of`]).
pub(crate) mod named {
    use super::*;

    pub(crate) fn serialize<T: Named, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.name())
    }

    pub(crate) fn deserialize<'de, T: Named, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let name = String::deserialize(d)?;
        T::from_name(&name).ok_or_else(|| de::Error::custom(not_one_of(T::NAMES, &name)))
    }
}

/// `#[serde(with = "crate::names::placement")]`: `"first-fit"`, `"best-fit"` or
/// `"worst-fit"`.
pub(crate) mod placement {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(p: &Placement, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.name())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Placement, D::Error> {
        let name = String::deserialize(d)?;
        Placement::from_name(&name)
            .ok_or_else(|| de::Error::unknown_variant(&name, &Placement::NAMES))
    }
}

/// `#[serde(with = "crate::names::head_of_line")]`: `"strict"` or `"skip"`.
pub(crate) mod head_of_line {
    use super::*;

    const NAMES: &[&str] = &["strict", "skip"];

    pub(crate) fn serialize<S: Serializer>(h: &HeadOfLine, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match h {
            HeadOfLine::Strict => "strict",
            HeadOfLine::SkipAhead => "skip",
        })
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HeadOfLine, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "strict" => Ok(HeadOfLine::Strict),
            "skip" => Ok(HeadOfLine::SkipAhead),
            _ => Err(de::Error::unknown_variant(&name, NAMES)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name of a set parses to a value whose canonical name is that name.
    fn round_trips<T: Named>() {
        for name in T::NAMES {
            assert_eq!(T::from_name(name).map(T::name), Some(*name));
        }
        assert!(T::from_name("no-such-name").is_none());
    }

    #[test]
    fn every_listed_name_is_accepted() {
        round_trips::<Backfill>();
        round_trips::<Mapping>();
        round_trips::<DeviceKind>();
        round_trips::<VirtualDevice>();
        round_trips::<LifecycleAction>();
        round_trips::<PageSize>();
    }
}
