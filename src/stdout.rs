//! Standard output that a closed pipe ends quietly: `vmsched textbook | head` stops when
//! `head` has read enough, as command-line tools do, instead of panicking the way
//! `print!` does on a broken pipe.

use std::fmt;
use std::io::{self, Write};

/// `print!` to standard output; a closed pipe exits with status 0, another write error
/// with status 1 and a message.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*))
    };
}

/// `println!` to standard output, as [`out!`].
macro_rules! outln {
    () => {
        $crate::stdout::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes `args` to standard output (see [`out!`]).
pub fn write(args: fmt::Arguments) {
    let result = io::stdout().lock().write_fmt(args);
    if let Err(e) = result {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}
