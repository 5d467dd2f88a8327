//! The `kadsim` command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            println!(
                "kadsim {} — a deterministic simulator of Kademlia DHT networks",
                env!("CARGO_PKG_VERSION")
            );
            println!();
            println!("usage: kadsim --version | --help");
            println!(
                "The protocol core is in place; `run`, `plot`, `compare`, `sweep` and `node` are coming."
            );
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("kadsim {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("kadsim: unknown command {other:?}; try `kadsim --help`");
            ExitCode::from(2)
        }
    }
}
