//! Mapping between byte spans of a TOML document and dotted key paths
//! (`workload.arrival.rate_per_s`, `hosts[1].pcpus`), so that every error can name the file,
//! the line and the key.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A parsed document kept only for locating keys. Parsing recovers from syntax errors, so
/// even a broken file gives the keys it could read.
pub(crate) struct Doc<'i> {
    text: &'i str,
    root: Spanned<DeTable<'i>>,
}

impl<'i> Doc<'i> {
    pub(crate) fn parse(text: &'i str) -> Doc<'i> {
        let (root, _errors) = DeTable::parse_recoverable(text);
        Doc { text, root }
    }

    /// 1-based line of byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> u64 {
        let end = offset.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64
    }

    /// The deepest key path whose key or value covers byte `offset`.
    pub(crate) fn path_at(&self, offset: usize) -> Option<String> {
        let mut path = String::new();
        if find_in_table(self.root.get_ref(), offset, &mut path) {
            Some(path)
        } else {
            None
        }
    }

    /// The key path an error spanning `span` is about: the deepest key or value covering
    /// its start or, when the span is a key the parsed document does not hold (a
    /// duplicate key, say), that key under the `[table]` header in effect there.
    pub(crate) fn key_at(&self, span: Range<usize>) -> Option<String> {
        if let Some(path) = self.path_at(span.start) {
            return Some(path);
        }
        let text = self.text.get(span.clone())?;
        if !is_bare_key(text) {
            return None;
        }
        let mut best: Option<(usize, String)> = None;
        let mut path = String::new();
        headers_before(
            self.root.get_ref(),
            self.text,
            span.start,
            &mut path,
            &mut best,
        );
        let mut key = best.map(|(_, p)| p).unwrap_or_default();
        push_key(&mut key, text);
        Some(key)
    }

    /// The line of `path` (`a.b[2].c`); if the path is not in the file (a default value),
    /// the line of its nearest ancestor that is.
    pub(crate) fn line_of_path(&self, path: &str) -> Option<u64> {
        let parts = split_path(path);
        (1..=parts.len())
            .rev()
            .find_map(|n| lookup(self.root.get_ref(), &parts[..n]))
            .map(|span| self.line_of(span.start))
    }
}

#[derive(Debug, PartialEq)]
enum Part<'a> {
    Key(&'a str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    for seg in path.split('.') {
        let (key, mut rest) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        parts.push(Part::Key(key));
        while let Some(r) = rest.strip_prefix('[') {
            let Some(close) = r.find(']') else { break };
            match r[..close].parse() {
                Ok(i) => parts.push(Part::Index(i)),
                Err(_) => break,
            }
            rest = &r[close + 1..];
        }
    }
    parts
}

/// The span to report for `parts` under `table`: the key's span for a key (the line a
/// reader looks for), the element's span for an array element.
fn lookup(table: &DeTable<'_>, parts: &[Part<'_>]) -> Option<Range<usize>> {
    let (Part::Key(first), rest) = parts.split_first()? else {
        return None;
    };
    let (key, value) = table.iter().find(|(k, _)| k.get_ref() == first)?;
    lookup_value(value, rest, key.span())
}

fn lookup_value(
    value: &Spanned<DeValue<'_>>,
    parts: &[Part<'_>],
    here: Range<usize>,
) -> Option<Range<usize>> {
    match parts.split_first() {
        None => Some(here),
        Some((Part::Index(i), rest)) => {
            let elem = value.get_ref().as_array()?.get(*i)?;
            lookup_value(elem, rest, elem.span())
        }
        // `hosts.0.devices.1.kind`: a number after an array is an index too.
        Some((Part::Key(k), rest)) if value.get_ref().as_array().is_some() => {
            let i: usize = k.parse().ok()?;
            let elem = value.get_ref().as_array()?.get(i)?;
            lookup_value(elem, rest, elem.span())
        }
        Some((Part::Key(_), _)) => lookup(value.get_ref().as_table()?, parts),
    }
}

fn covers(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && (offset < span.end || span.is_empty() && offset == span.start)
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    if is_bare_key(key) {
        path.push_str(key);
    } else {
        path.push_str(&format!("{key:?}"));
    }
}

/// Appends to `path` the deepest key under `table` covering `offset`; true if found.
fn find_in_table(table: &DeTable<'_>, offset: usize, path: &mut String) -> bool {
    for (key, value) in table.iter() {
        let len = path.len();
        push_key(path, key.get_ref());
        if find_in_value(value, offset, path) || covers(&key.span(), offset) {
            return true;
        }
        path.truncate(len);
    }
    false
}

/// Appends to `path` the deepest part of `value` covering `offset`; true if `value` itself
/// or something inside it covers it. Table contents are searched even when the table's own
/// span (a `[header]`) does not cover the offset.
fn find_in_value(value: &Spanned<DeValue<'_>>, offset: usize, path: &mut String) -> bool {
    match value.get_ref() {
        DeValue::Table(t) => find_in_table(t, offset, path) || covers(&value.span(), offset),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                if find_in_value(item, offset, path) {
                    return true;
                }
                path.truncate(len);
            }
            covers(&value.span(), offset)
        }
        _ => covers(&value.span(), offset),
    }
}

/// Records in `best` the path of the `[header]` table (or `[[array]]` element) starting last
/// before `offset`.
fn headers_before(
    table: &DeTable<'_>,
    text: &str,
    offset: usize,
    path: &mut String,
    best: &mut Option<(usize, String)>,
) {
    for (key, value) in table.iter() {
        let len = path.len();
        push_key(path, key.get_ref());
        header_value(value, text, offset, path, best);
        path.truncate(len);
    }
}

fn header_value(
    value: &Spanned<DeValue<'_>>,
    text: &str,
    offset: usize,
    path: &mut String,
    best: &mut Option<(usize, String)>,
) {
    match value.get_ref() {
        DeValue::Table(t) => {
            let start = value.span().start;
            let is_header = text.get(start..).is_some_and(|s| s.starts_with('['));
            if is_header && start <= offset && best.as_ref().is_none_or(|(b, _)| start > *b) {
                *best = Some((start, path.clone()));
            }
            headers_before(t, text, offset, path, best);
        }
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                header_value(item, text, offset, path, best);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[run]\nseed = 3\n\n[[hosts]]\npcpus = 4\n[[hosts]]\npcpus = 2\n\n[workload]\narrival = { process = \"poisson\", rate_per_s = -3 }\n";

    #[test]
    fn lines_and_paths() {
        let doc = Doc::parse(TEXT);
        assert_eq!(doc.line_of(0), 1);
        // "[run]\n" is 6 bytes, so byte 6 starts line 2.
        assert_eq!(doc.line_of(6), 2);
        assert_eq!(doc.line_of(10_000), 11);
        let at = |needle: &str| doc.path_at(TEXT.find(needle).unwrap());
        assert_eq!(at("seed").as_deref(), Some("run.seed"));
        assert_eq!(at("pcpus = 2").as_deref(), Some("hosts[1].pcpus"));
        assert_eq!(at("-3").as_deref(), Some("workload.arrival.rate_per_s"));
        assert_eq!(at("[workload]").as_deref(), Some("workload"));
        assert_eq!(doc.path_at(TEXT.find("\n\n").unwrap()), None);
    }

    #[test]
    fn lines_of_paths_fall_back_to_ancestors() {
        let doc = Doc::parse(TEXT);
        assert_eq!(doc.line_of_path("run.seed"), Some(2));
        assert_eq!(doc.line_of_path("hosts[1].pcpus"), Some(7));
        assert_eq!(doc.line_of_path("hosts[1].memory_gib"), Some(6));
        assert_eq!(doc.line_of_path("workload.arrival.rate_per_s"), Some(10));
        assert_eq!(doc.line_of_path("run.vms"), Some(1));
        assert_eq!(doc.line_of_path("cpu.quantum_ms"), None);
    }

    #[test]
    fn duplicate_keys_are_named_under_their_header() {
        let text = "top = 1\n[[hosts]]\npcpus = 1\n[[hosts]]\npcpus = 1\npcpus = 2\n";
        let doc = Doc::parse(text);
        let dup = text.rfind("pcpus").unwrap();
        assert_eq!(doc.key_at(dup..dup + 5).as_deref(), Some("hosts[1].pcpus"));
        let text = "a = 1\na = 2\n";
        let doc = Doc::parse(text);
        assert_eq!(doc.key_at(6..7).as_deref(), Some("a"));
    }

    #[test]
    fn numbers_after_arrays_are_indices() {
        // Line 1 `[[hosts]]`, 2 `pcpus`, 3 `[[hosts.devices]]`, 4 `kind`, 5 second device,
        // 6 its `kind`.
        let text = "[[hosts]]\npcpus = 1\n[[hosts.devices]]\nkind = \"disk\"\n[[hosts.devices]]\nkind = \"tape\"\n";
        let doc = Doc::parse(text);
        assert_eq!(doc.line_of_path("hosts.0.devices.1.kind"), Some(6));
        assert_eq!(doc.line_of_path("hosts.0.devices.1.channels"), Some(5));
        assert_eq!(doc.line_of_path("hosts.0.devices.0.kind"), Some(4));
        assert_eq!(doc.line_of_path("hosts.0.pcpus"), Some(2));
        // A key that is not a number under an array falls back to the array.
        assert_eq!(doc.line_of_path("hosts.x"), Some(1));
    }

    #[test]
    fn paths_split() {
        assert_eq!(
            split_path("a.b[2].c"),
            vec![
                Part::Key("a"),
                Part::Key("b"),
                Part::Index(2),
                Part::Key("c")
            ]
        );
    }
}
