//! Numbers as people read them: decimals without trailing zeros (`sim::numbers`, which
//! the crates that do not depend on `reports` use too).

pub use sim::numbers::{decimals_trimmed, trim_fraction};
