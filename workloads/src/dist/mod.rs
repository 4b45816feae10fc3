//! Service-time distributions and weighted discrete choices.
//!
//! A [`ServiceDist`] is what a scenario file says (`{ dist = "lognormal", mean_s = 60, cv =
//! 1.5 }`); [`ServiceDist::sampler`] checks it and builds a [`ServiceSampler`] on top of
//! `rand_distr`. Every distribution is parameterised by its mean (in seconds), so swapping
//! one for another keeps the offered load.
//!
//! A [`Choice`] is a fixed value or a weighted pick among values (vCPU counts, memory sizes,
//! priority classes); [`Choice::picker`] builds the allocation-free [`Picker`].

mod choice;
mod service;

pub use choice::{Choice, Picker};
pub(crate) use choice::{choice_classes, choice_values, choice_values_opt};
pub use service::{ServiceDist, ServiceSampler};
