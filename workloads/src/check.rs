//! Range checks of input values and the messages they give: every check names the key it
//! is about, and a value outside a closed set of names lists the names accepted.
//!
//! A leaf module: it depends on nothing in the crate but the error type.

use sim::SimTime;

use crate::error::Error;

/// `Ok` if `v` is finite, else an error under `key`.
pub(crate) fn check_finite(key: &str, v: f64) -> Result<(), Error> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(key, format!("must be finite, got {v}")))
    }
}

/// `Ok` if `v` is a finite number > 0, else an error under `key`.
pub(crate) fn check_positive(key: &str, v: f64) -> Result<(), Error> {
    if v.is_nan() || v <= 0.0 {
        return Err(Error::invalid(key, format!("must be > 0, got {v}")));
    }
    check_finite(key, v)
}

/// `Ok` if `v` is a finite number ≥ 0, else an error under `key`.
pub(crate) fn check_non_negative(key: &str, v: f64) -> Result<(), Error> {
    if v.is_nan() || v < 0.0 {
        return Err(Error::invalid(key, format!("must be ≥ 0, got {v}")));
    }
    check_finite(key, v)
}

/// `Ok` if `v` is a finite number > 0; the message says "a finite number" (the wording of
/// the resource settings).
pub(crate) fn finite_positive(key: &str, v: f64) -> Result<(), Error> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            key,
            format!("must be a finite number > 0, got {v}"),
        ))
    }
}

/// `Ok` if `v` is a finite number ≥ 0; the message says "a finite number" (the wording of
/// the resource settings).
pub(crate) fn finite_non_negative(key: &str, v: f64) -> Result<(), Error> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            key,
            format!("must be a finite number ≥ 0, got {v}"),
        ))
    }
}

/// `Ok` if `v` is in \[0, 1).
pub(crate) fn fraction_below_one(key: &str, v: f64) -> Result<(), Error> {
    if (0.0..1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::invalid(key, format!("must be in [0, 1), got {v}")))
    }
}

/// Microseconds (finite, ≥ 0, within the clock's range) as a [`SimTime`].
pub(crate) fn micros(key: &str, us: f64) -> Result<SimTime, Error> {
    finite_non_negative(key, us)?;
    SimTime::from_secs_f64(us / 1e6).ok_or_else(|| Error::invalid(key, format!("too large: {us}")))
}

/// The message for a name outside a closed set: `must be "disk" or "nic", got "tape"`.
pub(crate) fn not_one_of(accepted: &[&str], got: &str) -> String {
    let quoted: Vec<String> = accepted.iter().map(|a| format!("\"{a}\"")).collect();
    let list = match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    format!("must be {list}, got {got:?}")
}

/// True if `message` is one made by [`not_one_of`].
pub(crate) fn is_not_one_of(message: &str) -> bool {
    message.starts_with("must be \"") && message.contains(", got \"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_set_messages_list_every_name() {
        assert_eq!(
            not_one_of(&["disk", "nic"], "tape"),
            "must be \"disk\" or \"nic\", got \"tape\""
        );
        assert_eq!(
            not_one_of(&["4k", "2m", "1g"], "8k"),
            "must be \"4k\", \"2m\" or \"1g\", got \"8k\""
        );
        assert!(is_not_one_of(&not_one_of(&["a", "b"], "c")));
        assert!(!is_not_one_of("must be > 0, got -3"));
    }

    #[test]
    fn range_checks_name_the_key() {
        assert_eq!(
            check_positive("k", -3.0).unwrap_err().to_string(),
            "k: must be > 0, got -3"
        );
        assert_eq!(
            check_non_negative("k", f64::INFINITY)
                .unwrap_err()
                .to_string(),
            "k: must be finite, got inf"
        );
        assert_eq!(
            finite_positive("k", 0.0).unwrap_err().to_string(),
            "k: must be a finite number > 0, got 0"
        );
        assert_eq!(micros("k", 1.5).unwrap(), SimTime(1_500));
    }
}
