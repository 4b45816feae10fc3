//! Numbers as people read them: decimals without trailing zeros. A leaf module that every
//! crate formatting numbers for people uses (`reports` re-exports it as `reports::numbers`).

/// `s` (a number with a decimal point) without trailing zeros after the point, and
/// without the point when nothing follows it: `2.500` → `2.5`, `24.000` → `24`. A
/// number without a point is returned as it is (`100` stays `100`).
pub fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `x` with `decimals` decimals, trailing zeros removed ([`trim_fraction`]): `2.5` with 4
/// decimals → `2.5`, `3.0` → `3`.
pub fn decimals_trimmed(x: f64, decimals: usize) -> String {
    trim_fraction(&format!("{x:.decimals$}")).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_zeros_go() {
        assert_eq!(trim_fraction("2.500"), "2.5");
        assert_eq!(trim_fraction("24.000"), "24");
        assert_eq!(trim_fraction("100"), "100");
        assert_eq!(trim_fraction("0.125"), "0.125");
        assert_eq!(decimals_trimmed(1.0 / 3.0, 4), "0.3333");
        assert_eq!(decimals_trimmed(3.0, 4), "3");
    }
}
