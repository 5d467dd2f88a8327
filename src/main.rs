//! The `kadsim` command line: parse, run, map errors to exit codes.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    kadsim::cli::main(kadsim::cli::Cli::parse())
}
