//! Weighted discrete choices (vCPU counts, memory sizes, priority classes): what a
//! scenario says, in either of its two forms, and the allocation-free picker.

use std::fmt;
use std::marker::PhantomData;

use rand::distr::weighted::WeightedIndex;
use rand_distr::Distribution;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sim::rng::SimRng;

use crate::error::Error;

/// A fixed value, or a weighted random choice among values.
#[derive(Clone, Debug, PartialEq)]
pub enum Choice<T> {
    /// Always this value.
    Fixed(T),
    /// `values[i]` with probability `weights[i] / Σ weights`.
    Weighted {
        /// The possible values.
        values: Vec<T>,
        /// Their weights (same length, finite, ≥ 0, positive sum; need not sum to 1).
        weights: Vec<f64>,
    },
}

impl<T: Copy + Into<f64>> Choice<T> {
    /// The expected value (weights normalised to sum to 1). NaN if the weights are invalid.
    pub fn mean(&self) -> f64 {
        match self {
            Choice::Fixed(v) => (*v).into(),
            Choice::Weighted { values, weights } => {
                let total: f64 = weights.iter().sum();
                values
                    .iter()
                    .zip(weights)
                    .map(|(v, w)| (*v).into() * w)
                    .sum::<f64>()
                    / total
            }
        }
    }
}

impl<T: Copy> Choice<T> {
    /// Checks the choice, reporting errors under `key` (e.g. `workload.vcpus`).
    ///
    /// `values_key` is how the file names the list of values (`values`, or `classes` for
    /// priorities); `check` validates one value.
    pub fn validate(
        &self,
        key: &str,
        values_key: &str,
        check: impl Fn(T) -> Result<(), String>,
    ) -> Result<(), Error> {
        match self {
            Choice::Fixed(v) => check(*v).map_err(|m| Error::invalid(key, m)),
            Choice::Weighted { values, weights } => {
                let vkey = format!("{key}.{values_key}");
                let wkey = format!("{key}.weights");
                crate::limits::check_list_len(&vkey, values.len())?;
                crate::limits::check_list_len(&wkey, weights.len())?;
                if values.is_empty() {
                    return Err(Error::invalid(vkey, "must not be empty"));
                }
                for v in values {
                    check(*v).map_err(|m| Error::invalid(&vkey, m))?;
                }
                if weights.len() != values.len() {
                    return Err(Error::invalid(
                        wkey,
                        format!(
                            "has {} entries but {values_key} has {}",
                            weights.len(),
                            values.len()
                        ),
                    ));
                }
                if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
                    return Err(Error::invalid(
                        wkey,
                        format!("must be finite numbers ≥ 0, got {w}"),
                    ));
                }
                let total: f64 = weights.iter().sum();
                if !(total > 0.0 && total.is_finite()) {
                    return Err(Error::invalid(
                        wkey,
                        format!("must sum to a finite number > 0, got {total}"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Checks the choice (see [`Choice::validate`]) and builds its sampler.
    pub fn picker(
        &self,
        key: &str,
        values_key: &str,
        check: impl Fn(T) -> Result<(), String>,
    ) -> Result<Picker<T>, Error> {
        self.validate(key, values_key, check)?;
        match self {
            Choice::Fixed(v) => Ok(Picker {
                values: vec![*v],
                index: None,
            }),
            Choice::Weighted { values, weights } => Ok(Picker {
                values: values.clone(),
                index: Some(
                    WeightedIndex::new(weights.iter().copied())
                        .map_err(|e| Error::invalid(format!("{key}.weights"), e.to_string()))?,
                ),
            }),
        }
    }
}

/// Draws from a checked [`Choice`]. A fixed value draws no random number.
#[derive(Clone, Debug)]
pub struct Picker<T> {
    values: Vec<T>,
    index: Option<WeightedIndex<f64>>,
}

impl<T: Copy> Picker<T> {
    /// One value.
    pub fn sample(&self, rng: &mut SimRng) -> T {
        let i = match &self.index {
            Some(index) => index.sample(rng),
            None => 0,
        };
        // `WeightedIndex` returns an index below the number of weights, which equals the
        // number of values (checked when the picker was built).
        self.values[i.min(self.values.len() - 1)]
    }

    /// The same choice (same weights, same draws) of `f` of each value.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Picker<U> {
        Picker {
            values: self.values.into_iter().map(f).collect(),
            index: self.index,
        }
    }
}

/// (De)serialises a [`Choice`] as a scalar or `{ <values_key> = [...], weights = [...] }`.
struct ChoiceFormat {
    values_key: &'static str,
    fields: &'static [&'static str],
}

static VALUES: ChoiceFormat = ChoiceFormat {
    values_key: "values",
    fields: &["values", "weights"],
};
static CLASSES: ChoiceFormat = ChoiceFormat {
    values_key: "classes",
    fields: &["classes", "weights"],
};

impl ChoiceFormat {
    fn serialize<T: Serialize, S: Serializer>(
        &self,
        c: &Choice<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match c {
            Choice::Fixed(v) => v.serialize(s),
            Choice::Weighted { values, weights } => {
                let mut st = s.serialize_struct("Choice", 2)?;
                st.serialize_field(self.values_key, values)?;
                st.serialize_field("weights", weights)?;
                st.end()
            }
        }
    }

    fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        &'static self,
        d: D,
    ) -> Result<Choice<T>, D::Error> {
        struct V<T> {
            format: &'static ChoiceFormat,
            marker: PhantomData<T>,
        }
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Choice<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a number or a table {{ {} = [...], weights = [...] }}",
                    self.format.values_key
                )
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Choice<T>, E> {
                T::deserialize(de::value::I64Deserializer::new(v)).map(Choice::Fixed)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Choice<T>, E> {
                T::deserialize(de::value::U64Deserializer::new(v)).map(Choice::Fixed)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Choice<T>, E> {
                T::deserialize(de::value::F64Deserializer::new(v)).map(Choice::Fixed)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Choice<T>, A::Error> {
                let vk = self.format.values_key;
                let mut values: Option<Vec<T>> = None;
                let mut weights: Option<Vec<f64>> = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == vk {
                        if values.is_some() {
                            return Err(de::Error::duplicate_field(vk));
                        }
                        values = Some(map.next_value()?);
                    } else if key == "weights" {
                        if weights.is_some() {
                            return Err(de::Error::duplicate_field("weights"));
                        }
                        weights = Some(map.next_value()?);
                    } else {
                        return Err(de::Error::unknown_field(&key, self.format.fields));
                    }
                }
                Ok(Choice::Weighted {
                    values: values.ok_or_else(|| de::Error::missing_field(vk))?,
                    weights: weights.ok_or_else(|| de::Error::missing_field("weights"))?,
                })
            }
        }
        d.deserialize_any(V {
            format: self,
            marker: PhantomData,
        })
    }
}

pub(crate) mod choice_values {
    use super::*;

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        c: &Choice<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        VALUES.serialize(c, s)
    }

    pub(crate) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Choice<T>, D::Error> {
        VALUES.deserialize(d)
    }
}

/// [`choice_values`] for an optional knob (absent = `None`, not serialised).
pub(crate) mod choice_values_opt {
    use super::*;

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        c: &Option<Choice<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match c {
            Some(c) => VALUES.serialize(c, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Choice<T>>, D::Error> {
        VALUES.deserialize(d).map(Some)
    }
}

pub(crate) mod choice_classes {
    use super::*;

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        c: &Choice<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        CLASSES.serialize(c, s)
    }

    pub(crate) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Choice<T>, D::Error> {
        CLASSES.deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::rng::{purpose, stream};

    const N: usize = 200_000;

    #[test]
    fn choice_mean_and_validation() {
        let c = Choice::Weighted {
            values: vec![1u32, 2, 4],
            weights: vec![0.5, 0.3, 0.2],
        };
        // 1·0.5 + 2·0.3 + 4·0.2 = 0.5 + 0.6 + 0.8 = 1.9
        assert!((c.mean() - 1.9).abs() < 1e-12);
        // Unnormalised weights: (1·1 + 3·3) / 4 = 2.5
        let c = Choice::Weighted {
            values: vec![1u32, 3],
            weights: vec![1.0, 3.0],
        };
        assert_eq!(c.mean(), 2.5);
        let ok = |_: u32| Ok(());
        let bad = Choice::Weighted {
            values: vec![1u32, 2],
            weights: vec![1.0],
        };
        assert_eq!(
            bad.validate("workload.vcpus", "values", ok)
                .unwrap_err()
                .to_string(),
            "workload.vcpus.weights: has 1 entries but values has 2"
        );
        let bad = Choice::Weighted {
            values: vec![1u32, 2],
            weights: vec![0.0, 0.0],
        };
        assert_eq!(
            bad.validate("p", "classes", ok).unwrap_err().to_string(),
            "p.weights: must sum to a finite number > 0, got 0"
        );
        let bad = Choice::Weighted {
            values: vec![1u32],
            weights: vec![-1.0],
        };
        assert!(bad.validate("p", "values", ok).is_err());
        let bad: Choice<u32> = Choice::Weighted {
            values: vec![],
            weights: vec![],
        };
        assert_eq!(
            bad.validate("p", "values", ok).unwrap_err().to_string(),
            "p.values: must not be empty"
        );
    }

    #[test]
    fn picker_frequencies_follow_weights() {
        let c = Choice::Weighted {
            values: vec![1u32, 2, 4],
            weights: vec![0.5, 0.3, 0.2],
        };
        let p = c.picker("v", "values", |_| Ok(())).unwrap();
        let mut rng = stream(3, 0, purpose::SIZES);
        let mut counts = [0usize; 5];
        for _ in 0..N {
            counts[p.sample(&mut rng) as usize] += 1;
        }
        // Binomial sd of a frequency: √(p(1−p)/N) ≤ √(0.25/2e5) = 0.112 %; 4 sd = 0.45 %.
        for (v, w) in [(1, 0.5), (2, 0.3), (4, 0.2)] {
            let f = counts[v] as f64 / N as f64;
            assert!((f - w).abs() < 0.0045, "value {v}: frequency {f}");
        }
        assert_eq!(counts[0] + counts[3], 0);
    }
}
