//! Standard output of the subcommands. A closed pipe (`scanscribe validate s.ron | head
//! -1`) ends the command quietly, as it does the shell's own tools, instead of the
//! panic `println!` raises; any other write error is reported and ends it with status 1.
//! `outln!` and `out!` stand for `println!` and `print!` everywhere in `cli`.

use std::io::Write;

/// Writes `args` to standard output.
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader wanted no more: not an error.
            std::process::exit(0);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// `println!` that ends the process quietly when standard output is a closed pipe.
macro_rules! outln {
    () => {
        $crate::cli::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that ends the process quietly when standard output is a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!($($arg)*))
    };
}
