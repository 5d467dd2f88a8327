//! The command line: flags parsed by clap, then validated into commands, each
//! failure mapped to an exit code (DESIGN.md §7).

use crate::runner::{self, Progress, RunError};
use crate::scenario::{self, ScenarioError};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// kadsim: a deterministic discrete-event simulator of Kademlia DHT networks.
#[derive(Parser, Debug)]
#[command(name = "kadsim", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run a scenario and write results/<name>/ (ops.csv, timeseries.csv,
    /// nodes.csv, summary.csv, manifest.json).
    Run {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Master seed, overriding the file's.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a field: --set protocol.k=8 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Output directory (default results/<name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Check a scenario file and print it with every default filled in.
    Validate {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Override a field: --set protocol.k=8 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
}

/// Exit code for a regression found by `compare`.
pub const EXIT_REGRESSION: u8 = 1;
/// Exit code for bad input.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for an internal error.
pub const EXIT_INTERNAL: u8 = 3;

fn bad_input(e: &ScenarioError) -> ExitCode {
    eprintln!("kadsim: {e}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// Runs a parsed command line.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Cmd::Validate { file, set } => match scenario::load_file(&file, &set) {
            Ok(sc) => {
                match toml::to_string(&sc) {
                    Ok(text) => print!("{text}"),
                    Err(e) => {
                        eprintln!("kadsim: cannot print the scenario: {e}");
                        return ExitCode::from(EXIT_INTERNAL);
                    }
                }
                eprintln!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => bad_input(&e),
        },
        Cmd::Run { file, seed, set, out, quiet } => {
            let mut set = set;
            if let Some(seed) = seed {
                set.push(format!("seed={seed}"));
            }
            let sc = match scenario::load_file(&file, &set) {
                Ok(sc) => sc,
                Err(e) => return bad_input(&e),
            };
            let dir = out.unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
            let mut progress = Bar::new(quiet || !std::io::stderr().is_terminal());
            match runner::run(&sc, &dir, &mut progress) {
                Ok(o) => {
                    progress.finish();
                    if !quiet {
                        eprintln!("{} events, trace {}; results in {}", o.events, o.trace_hash, o.dir.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e @ RunError::Trace(_)) => {
                    progress.finish();
                    eprintln!("kadsim: {e}");
                    ExitCode::from(EXIT_BAD_INPUT)
                }
                Err(e) => {
                    progress.finish();
                    eprintln!("kadsim: {e}");
                    ExitCode::from(EXIT_INTERNAL)
                }
            }
        }
    }
}

/// The progress bar: simulated time, events per second, ETA. Hidden when
/// stderr is not a terminal or with --quiet. Wall-clock time is read here only,
/// for display and the manifest; the simulation never sees it.
struct Bar {
    bar: ProgressBar,
    started: Instant,
}

impl Bar {
    fn new(hidden: bool) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        if hidden {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template("{bar:30} sim {msg} [{elapsed_precise}, ETA {eta}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bar { bar, started: Instant::now() }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn tick(&mut self, now_us: u64, end_us: u64, events: u64) {
        self.bar.set_length(end_us / 1_000_000);
        self.bar.set_position(now_us / 1_000_000);
        let wall = self.started.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_message(format!(
            "{}/{} s, {:.2} M events/s",
            now_us / 1_000_000,
            end_us / 1_000_000,
            events as f64 / wall / 1e6
        ));
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}
