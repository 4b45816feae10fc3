//! `priority_map`: priority classes by trace field.

use std::collections::BTreeMap;

use super::format::TraceFormat;
use crate::error::Error;

/// One field's classes: by integer value and by text value.
type FieldMap = (&'static str, BTreeMap<i64, i32>, BTreeMap<String, i32>);

/// Priority classes by trace field.
#[derive(Clone, Debug, Default)]
pub(crate) struct PriorityMap {
    /// Per field (in the format's order): integer values and text values.
    fields: Vec<FieldMap>,
}

impl PriorityMap {
    pub(crate) fn compile(
        map: &BTreeMap<String, i32>,
        format: TraceFormat,
        key: &str,
    ) -> Result<PriorityMap, Error> {
        let known = format.priority_fields();
        let mut fields: Vec<FieldMap> = known
            .iter()
            .map(|f| (*f, BTreeMap::new(), BTreeMap::new()))
            .collect();
        for (k, &prio) in map {
            let entry_key = format!("{key}.{k:?}");
            let Some((field, value)) = k.split_once(':') else {
                return Err(Error::invalid(
                    entry_key,
                    format!(
                        "expected \"<field>:<value>\" with field one of {}",
                        known.join(", ")
                    ),
                ));
            };
            let Some(slot) = fields.iter_mut().find(|(f, _, _)| *f == field.trim()) else {
                return Err(Error::invalid(
                    entry_key,
                    format!(
                        "unknown field `{field}` for format \"{format}\"; known: {}",
                        known.join(", ")
                    ),
                ));
            };
            let value = value.trim();
            slot.2.insert(value.to_string(), prio);
            if let Ok(n) = value.parse::<i64>() {
                slot.1.insert(n, prio);
            }
        }
        fields.retain(|(_, ints, strs)| !(ints.is_empty() && strs.is_empty()));
        Ok(PriorityMap { fields })
    }

    /// True if no field is mapped.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The class for integer `value` of `field`, if mapped.
    pub(crate) fn int(&self, field: &str, value: i64) -> Option<i32> {
        self.fields
            .iter()
            .find(|(f, _, _)| *f == field)
            .and_then(|(_, ints, _)| ints.get(&value).copied())
    }

    /// The class for text `value` of `field`, if mapped.
    pub(crate) fn text(&self, field: &str, value: &str) -> Option<i32> {
        self.fields
            .iter()
            .find(|(f, _, _)| *f == field)
            .and_then(|(_, _, strs)| strs.get(value).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_map_keys_are_checked() {
        let mut m = BTreeMap::new();
        m.insert("queue:2".to_string(), 3);
        m.insert("user:7".to_string(), -1);
        let p = PriorityMap::compile(&m, TraceFormat::Swf, "p").unwrap();
        assert_eq!(p.int("queue", 2), Some(3));
        assert_eq!(p.int("queue", 1), None);
        assert_eq!(p.int("user", 7), Some(-1));
        m.insert("qos:BE".to_string(), 1);
        let e = PriorityMap::compile(&m, TraceFormat::Swf, "p").unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.\"qos:BE\": unknown field `qos` for format \"swf\"; known: user, group, queue, partition"
        );
        let mut m = BTreeMap::new();
        m.insert("BE".to_string(), 1);
        assert!(PriorityMap::compile(&m, TraceFormat::Alibaba, "p").is_err());
    }
}
