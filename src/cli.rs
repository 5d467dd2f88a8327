//! The command line: flags parsed by clap, then validated into commands, each
//! failure mapped to an exit code (DESIGN.md §7).

/// `println!` that ignores a closed standard output (`kadsim ... | head`)
/// instead of panicking: what was asked for has been written as far as the
/// reader wanted it.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` that ignores a closed standard output, as [`say!`].
macro_rules! put {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

use crate::runner::{self, Progress, RunError};
use crate::scenario::{self, ScenarioError};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

mod commands;
mod plot_cmd;
mod progress;
mod run_summary;
mod sweep_cmd;
mod trace_cmd;
mod validation_cmd;

/// What `kadsim --version` prints: the version and the commit built from
/// (`-dirty` with uncommitted changes, `unknown` outside a git checkout).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("KADSIM_GIT_COMMIT"), ")");

/// kadsim: a deterministic discrete-event simulator of Kademlia DHT networks.
#[derive(Parser, Debug)]
#[command(name = "kadsim", version = VERSION, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run a scenario and write results/NAME/ (ops.csv, timeseries.csv,
    /// nodes.csv, buckets.csv, summary.csv, manifest.json; with --trace,
    /// trace.csv and messages.csv).
    Run {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Master seed, overriding the file's.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a field: --set protocol.k=8 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Output directory (default results/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar or heartbeat lines (the closing summary and
        /// warnings are still printed).
        #[arg(long, short)]
        quiet: bool,
        /// Worker threads (default: all cores when the scenario is busy
        /// enough to gain from them, else 1; the manifest says which and
        /// why). The results are byte-identical for any value.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
        threads: Option<u32>,
        /// Trace the run: `ops` writes trace.csv, one row per RPC of the
        /// traced operations; `messages` writes messages.csv, one row per
        /// datagram; `ops,messages` both. Other outputs are unchanged.
        #[arg(long, value_name = "ops|messages")]
        trace: Option<String>,
        /// Trace each operation (and each request with its reply) with
        /// probability P, decided by a hash of the seed and the operation
        /// (default 1: all).
        #[arg(long, value_name = "P")]
        trace_sample: Option<String>,
        /// Trace only the operations these nodes start (and datagrams from or
        /// to them): node indices and ranges, e.g. 3,10-19.
        #[arg(long, value_name = "LIST")]
        trace_nodes: Option<String>,
        /// Write the trace files gzip-compressed (trace.csv.gz, messages.csv.gz).
        #[arg(long)]
        trace_gzip: bool,
        /// Replace a different earlier run in the output directory (another
        /// seed, scenario, --set or kadsim build). Without it such a run is
        /// kept and this one refused; the same run again is replaced anyway.
        /// Files kadsim did not write are never replaced.
        #[arg(long)]
        force: bool,
    },
    /// Run the validation suite: kadsim's measured values against an
    /// independent reference model, analytic results and monotone effects,
    /// each with its tolerance; prints the table, writes validation.md with
    /// charts, and exits 1 when a check fails.
    Validation {
        /// Networks up to 10,000 nodes, under a minute on two cores (the default; CI runs it).
        #[arg(long, conflicts_with = "full")]
        quick: bool,
        /// Up to 1,000,000 nodes (about 15 minutes and 11 GB on two cores).
        #[arg(long)]
        full: bool,
        /// Only these parts, comma-separated: model, analytic, monotone, gap.
        #[arg(long, value_name = "LIST")]
        only: Option<String>,
        /// Where the report, its charts and the suite's runs go (default:
        /// results/validation, or results/validation-full with --full).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Replace files kadsim wrote there from something else. Files kadsim
        /// did not write are never replaced.
        #[arg(long)]
        force: bool,
        /// Worker threads per run (default 1, with one run per core at a time).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        #[command(flatten)]
        chart: ChartOpts,
    },
    /// Tell one traced operation's story round by round and draw its
    /// convergence chart (distance to the target of each node asked, against
    /// time), or list the slowest and failed traced operations and draw theirs.
    Trace {
        /// A results directory written by `kadsim run --trace ops`.
        dir: PathBuf,
        /// The operation: its `op` number in ops.csv.
        #[arg(long, value_name = "ID")]
        op: Option<u64>,
        /// The N worst traced operations: failed first, then the slowest.
        #[arg(long, value_name = "N")]
        worst: Option<usize>,
        /// Where to write the charts (default DIR/trace).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace files kadsim drew there from something else (other runs'
        /// charts). Files kadsim did not write are never replaced.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        chart: ChartOpts,
    },
    /// Check a scenario file and print it with every default filled in.
    Validate {
        /// The scenario file (TOML). Not needed with --reference.
        #[arg(required_unless_present = "reference")]
        file: Option<PathBuf>,
        /// Print the scenario reference instead (every field, its type,
        /// default and meaning, in Markdown: docs/scenario-reference.md).
        #[arg(long)]
        reference: bool,
        /// Override a field: --set protocol.k=8 (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Draw a run's charts next to its CSVs; given several runs, draw them
    /// together on one chart each (hop and latency CDFs, success and traffic
    /// over time); given a sweep directory, redraw its charts into its
    /// charts/ from runs.csv and aggregate.csv.
    Plot {
        /// Results directories written by `kadsim run`: one run, or several to
        /// overlay; or one sweep directory (`kadsim sweep` or `merge`).
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Names of the overlaid runs in the legends, comma-separated, one per
        /// DIR (default: the directories' names); for a sweep directory, a
        /// name on its charts for a parameter or metric, FIELD=Text
        /// (repeatable).
        #[arg(long, value_name = "A,B,... | FIELD=TEXT")]
        label: Vec<String>,
        /// For a sweep directory: the metrics charted, comma-separated, or
        /// default or all.
        #[arg(long, value_name = "LIST")]
        metrics: Option<String>,
        /// For a sweep directory: the charts' title; {metric} and {param}
        /// stand for their names.
        #[arg(long, value_name = "TEXT")]
        title: Option<String>,
        /// Where to write the charts (default: the results directory; for
        /// several runs, ./overlay).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace files kadsim drew there from something else (other runs'
        /// charts). Files kadsim did not write are never replaced.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        chart: ChartOpts,
    },
    /// Compare a candidate against a base: single runs or replica sets. Two
    /// sets (or a run and a set) are compared between seeds: per-run values,
    /// difference of means, 95% Welch interval and Welch's t-test for every
    /// metric. Two single runs get a within-run bootstrap (labelled "within-run
    /// only": it ignores seed-to-seed variation). Exits 1 when a --fail-if
    /// threshold is crossed.
    Compare {
        /// BASE and CAND: each a run directory, or a directory of replicas (a
        /// sweep point's runs/POINT, a sweep directory of one grid point).
        #[arg(value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// A base directory (repeatable; their runs form one set), instead of BASE.
        #[arg(long = "base", value_name = "DIR")]
        base: Vec<PathBuf>,
        /// A candidate directory (repeatable), instead of CAND.
        #[arg(long = "cand", value_name = "DIR")]
        cand: Vec<PathBuf>,
        /// Print Markdown tables instead of aligned text.
        #[arg(long)]
        markdown: bool,
        /// A regression threshold, e.g. 'hops.mean > +2%', 'success_rate < -0.01'
        /// (change; of the means for sets), 'get.success_rate < 0.99' (value),
        /// 'hops.mean > +2% significant' (and the 95% interval excludes 0); repeatable.
        #[arg(long = "fail-if", value_name = "RULE")]
        fail_if: Vec<String>,
        /// Bootstrap resamples for the within-run intervals.
        #[arg(long, default_value_t = 1000)]
        resamples: usize,
        /// Seed of the bootstrap.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the overlay charts (default: the first candidate directory's compare/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace files kadsim drew there from something else (other runs'
        /// charts). Files kadsim did not write are never replaced.
        #[arg(long)]
        force: bool,
        /// Do not draw the overlay charts.
        #[arg(long)]
        no_charts: bool,
        /// Judge the --fail-if rules even when the two sides' scenarios
        /// differ in more than their seeds (a comparison of two parameter
        /// choices); without it such a gate is refused.
        #[arg(long)]
        allow_different: bool,
        #[command(flatten)]
        chart: ChartOpts,
    },
    /// Run a scenario over a grid of parameter values, several replicas each,
    /// in parallel; write runs.csv, aggregate.csv and charts.
    Sweep {
        /// The scenario file (TOML).
        file: PathBuf,
        /// A swept parameter: NAME=V1,V2,... (repeatable). A one-word name
        /// other than a top-level field (name, seed, nodes, duration, warmup,
        /// sample_interval) is a protocol field (k, alpha, b), as in `run --set`.
        /// Given, it replaces the parameters of the file's `[study]`.
        #[arg(long = "param", value_name = "NAME=V1,V2")]
        params: Vec<String>,
        /// Runs per grid point (default: the file's study.replicas, else 3).
        /// Replica 0 uses the seed (scenario seed or --seed), replica r >= 1 a
        /// seed mixed from (seed, r) by SplitMix64, the same at every grid point.
        #[arg(long)]
        replicas: Option<u32>,
        /// Runs at a time (default: all cores). Results do not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only shard I of N (1-based) of the grid; join shards with `kadsim merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Seed of replica 0, overriding the file's.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a field in every run (repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Output directory (default results/NAME-sweep).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// Replace a different earlier sweep (or other kadsim results) in the
        /// output directory; without it they are kept and this sweep refused.
        /// The same sweep again replaces its runs anyway. Files kadsim did not
        /// write are never replaced or deleted.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        chart: ChartOpts,
        #[command(flatten)]
        naming: sweep_cmd::NamingOpts,
    },
    /// Join the shards of a sweep (written with --shard) into runs.csv,
    /// aggregate.csv and charts; given a merged sweep, redraw its charts.
    Merge {
        /// Directories holding sweep.shard-*.json and runs.shard-*.csv files.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory (default: the first directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace a different sweep's files in the output directory. Files
        /// kadsim did not write are never replaced.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        chart: ChartOpts,
        #[command(flatten)]
        naming: sweep_cmd::NamingOpts,
    },
    /// Write report.md for a run (what was run, the summary tables, the
    /// charts) or for a sweep (the grid, the results per point with
    /// intervals, the charts).
    Report {
        /// A results directory written by `kadsim run`, or a sweep directory.
        dir: PathBuf,
        /// Replace files kadsim drew there from something else (other runs'
        /// charts). Files kadsim did not write are never replaced.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        chart: ChartOpts,
        /// For a sweep: the charts chosen and named.
        #[command(flatten)]
        naming: sweep_cmd::NamingOpts,
    },
    /// Run a node on a real UDP socket (KRPC, BitTorrent Mainline DHT format)
    /// with a command prompt on standard input; `help` lists the commands.
    Node {
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
        listen: String,
        /// A node to join through: ADDR, then optionally its ID (40 hex
        /// digits); repeatable: the nodes are tried in turn.
        #[arg(long, num_args = 1..=2, value_names = ["ADDR", "ID"])]
        bootstrap: Vec<String>,
        /// This node's ID, 40 hex digits (default: random).
        #[arg(long)]
        id: Option<String>,
        /// Seed of the node's random choices (default: from the clock).
        #[arg(long)]
        seed: Option<u64>,
        /// Most contacts of one public IP address per routing-table bucket
        /// (as libtorrent's restrict-routing-IPs; loopback and private
        /// addresses are exempt).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
        max_per_ip: u32,
        /// Most contacts of one public /24 (IPv4) or /64 (IPv6) per bucket.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
        max_per_subnet: u32,
        /// Protocol parameters: "paper" (k = 20, lazy eviction, hourly
        /// refresh) or "mainline" (BEP 5: k = 8, log-distance buckets, good
        /// and questionable nodes after 15 minutes, 15-minute refresh).
        #[arg(long, default_value = "paper", value_name = "NAME")]
        profile: String,
        /// Run as a read-only node (BEP 43): answer no query, and flag every
        /// query sent with `ro` = 1 so that other nodes leave this one out
        /// of their routing tables; lookups, gets and puts work as usual.
        #[arg(long)]
        read_only: bool,
    },
}

/// Exit code for a regression found by `compare`.
pub const EXIT_REGRESSION: u8 = 1;
/// Exit code for bad input.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for an internal error.
pub const EXIT_INTERNAL: u8 = 3;

/// Parses the command line. A usage error (an unknown flag, a missing or
/// malformed argument, an argument that is not UTF-8) is one `kadsim: ...`
/// line and exit code 2, as every other bad input (DESIGN.md §7); help and
/// the version print as clap prints them.
pub fn parse_args() -> Result<Cli, ExitCode> {
    use clap::error::ErrorKind;
    Cli::try_parse().map_err(|e| match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            e.exit()
        }
        ErrorKind::InvalidUtf8 => {
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            let at = args.iter().position(|a| a.to_str().is_none()).unwrap_or(0);
            let flag = at.checked_sub(1).and_then(|i| args[i].to_str()).filter(|a| a.starts_with('-'));
            let value = args.get(at).map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
            let shown = flag.map_or_else(|| value.clone(), |f| format!("{f} {value}"));
            eprintln!("kadsim: {}: not UTF-8 text (argument {at})", scenario::clip::clip(&shown));
            ExitCode::from(EXIT_BAD_INPUT)
        }
        _ => {
            eprintln!("kadsim: {}", usage_line(&e.render().to_string()));
            ExitCode::from(EXIT_BAD_INPUT)
        }
    })
}

/// clap's rendering of a usage error as one line: its lines joined, the
/// pointer to `--help` left out, every quoted value clipped.
fn usage_line(rendered: &str) -> String {
    let mut line = String::new();
    for l in rendered.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("For more information")) {
        let l = l.strip_prefix("error: ").unwrap_or(l);
        let l = l.strip_prefix("Usage: ").map_or_else(|| l.to_string(), |u| format!("usage: {u}"));
        if !line.is_empty() {
            line.push_str(if line.ends_with(':') { " " } else { "; " });
        }
        line.push_str(&l);
    }
    // clap quotes values in single quotes: the odd pieces between them.
    let clipped: Vec<String> = line
        .split('\'')
        .enumerate()
        .map(|(i, piece)| if i % 2 == 1 { scenario::clip::clip(piece).into_owned() } else { piece.to_string() })
        .collect();
    clipped.join("'")
}

/// Prints what the readers read leniently (an older run's missing columns),
/// one `kadsim: note: ...` line each.
fn bad_input(e: &ScenarioError) -> ExitCode {
    eprintln!("kadsim: {e}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// Runs a parsed command line.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Cmd::Validate { reference: true, .. } => {
            print!("{}", scenario::reference::markdown());
            ExitCode::SUCCESS
        }
        Cmd::Validate { file: None, .. } => ExitCode::from(EXIT_BAD_INPUT),
        Cmd::Validate { file: Some(file), set, .. } => match scenario::load_file(&file, &set) {
            Ok(sc) => {
                notes(sc.notes());
                let study = match sweep_cmd::study_of(&file, &set) {
                    Ok(s) => s,
                    Err(e) => return bad_input(&e),
                };
                for w in scenario::warnings(&sc) {
                    eprintln!("warning: {w}");
                }
                match toml::to_string(&sc.effective()) {
                    Ok(text) => {
                        say!("{}", text.trim_end());
                        if let Some(study) = &study {
                            put!("{}", study.to_toml(50));
                        }
                    }
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
        Cmd::Plot { dirs, label, metrics, title, out, force, chart } => {
            let style = match chart.style() {
                Ok(style) => style,
                Err(code) => return code,
            };
            // A sweep directory first: its charts redrawn.
            let (m, t) = (metrics.as_deref(), title.as_deref());
            if let Some(code) = sweep_cmd::plot_dispatch(&dirs, &label, out.as_deref(), force, &style, m, t) {
                return code;
            }
            if metrics.is_some() || title.is_some() {
                eprintln!("kadsim: --metrics and --title name a sweep's charts: give a sweep directory");
                return ExitCode::from(EXIT_BAD_INPUT);
            }
            let label = (!label.is_empty()).then(|| label.join(","));
            // Replica sets (a directory of runs, not a run): each set's mean with its band.
            // (A manifest.json of any kind makes a run directory: its reader says what is wrong with it.)
            if dirs.iter().any(|d| std::fs::symlink_metadata(d.join("manifest.json")).is_err()) {
                return plot_cmd::plot_sets(&dirs, label.as_deref(), out.as_deref(), force, &style);
            }
            if dirs.len() == 1 && label.is_none() {
                plot_cmd::plot(&dirs[0], out.as_deref(), force, &style)
            } else {
                plot_cmd::overlay(&dirs, label.as_deref(), out.as_deref(), force, &style)
            }
        }
        Cmd::Compare {
            dirs,
            base,
            cand,
            markdown,
            fail_if,
            resamples,
            seed,
            out,
            force,
            no_charts,
            allow_different,
            chart,
        } => {
            let style = match chart.style() {
                Ok(style) => style,
                Err(code) => return code,
            };
            let (base, cand) = match commands::compare_sides(dirs, base, cand) {
                Ok(sides) => sides,
                Err(code) => return code,
            };
            let out = if no_charts { None } else { Some(out.unwrap_or_else(|| cand[0].join("compare"))) };
            let charts = out.as_deref().map(|o| (o, force, &style));
            let gate = commands::Gate { rules: &fail_if, allow_different };
            commands::compare(&base, &cand, markdown, gate, resamples, seed, charts)
        }
        Cmd::Sweep { file, params, replicas, jobs, shard, seed, set, out, quiet, force, chart, naming } => {
            let style = match chart.style() {
                Ok(style) => style,
                Err(code) => return code,
            };
            let on_terminal = std::io::stderr().is_terminal();
            let bar = sweep_cmd::SweepBar::new(quiet || !on_terminal, !quiet && !on_terminal);
            sweep_cmd::sweep(sweep_cmd::SweepArgs {
                file: &file,
                params: &params,
                replicas,
                jobs,
                shard: shard.as_deref(),
                seed,
                set: &set,
                out,
                force,
                bar: &bar,
                style: &style,
                naming: &naming,
            })
        }
        Cmd::Merge { dirs, out, force, chart, naming } => match chart.style() {
            Ok(style) => sweep_cmd::merge(&dirs, out.as_deref(), force, &style, &naming),
            Err(code) => code,
        },
        Cmd::Report { dir, force, chart, naming } => {
            let style = match chart.style() {
                Ok(style) => style,
                Err(code) => return code,
            };
            // A sweep directory first: its report.
            if let Some(code) = sweep_cmd::report_dispatch(&dir, force, &style, &naming) {
                return code;
            }
            if naming.given() {
                eprintln!("kadsim: --metrics, --label and --title name a sweep's charts: give a sweep directory");
                return ExitCode::from(EXIT_BAD_INPUT);
            }
            commands::report(&dir, force, &style)
        }
        Cmd::Node { listen, bootstrap, id, seed, max_per_ip, max_per_subnet, profile, read_only } => {
            commands::node(&listen, &bootstrap, id.as_deref(), seed, (max_per_ip, max_per_subnet), &profile, read_only)
        }
        Cmd::Validation { quick: _, full, only, out, force, threads, chart } => match chart.style() {
            Ok(style) => validation_cmd::validation(full, only.as_deref(), out, force, threads, &style),
            Err(code) => code,
        },
        Cmd::Trace { dir, op, worst, out, force, chart } => match chart.style() {
            Ok(style) => trace_cmd::trace(&dir, op, worst, out.as_deref(), force, &style),
            Err(code) => code,
        },
        Cmd::Run { file, seed, set, out, quiet, threads, trace, trace_sample, trace_nodes, trace_gzip, force } => {
            let mut set = set;
            if let Some(seed) = seed {
                set.push(format!("seed={seed}"));
            }
            let spec = match trace_cmd::spec(trace, trace_sample, trace_nodes, trace_gzip) {
                Ok(spec) => spec,
                Err(code) => return code,
            };
            let sc = match scenario::load_file(&file, &set) {
                Ok(sc) => sc,
                Err(e) => return bad_input(&e),
            };
            notes(sc.notes());
            // A study is checked like every section, then left to kadsim sweep.
            match sweep_cmd::study_of(&file, &set) {
                Ok(Some(study)) => {
                    let points: usize = study.params.iter().map(|p| p.values.len()).product();
                    notes(&[format!(
                        "{} has a [study] ({points} grid point{}): run runs its scenario once, without the study; kadsim sweep {} runs the study",
                        file.display(),
                        if points == 1 { "" } else { "s" },
                        file.display()
                    )]);
                }
                Ok(None) => {}
                Err(e) => return bad_input(&e),
            }
            if let Some(Err(e)) = spec.as_ref().map(|s| s.check_nodes(sc.nodes)) {
                eprintln!("kadsim: {e}");
                return ExitCode::from(EXIT_BAD_INPUT);
            }
            let dir = out.unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
            let on_terminal = std::io::stderr().is_terminal();
            let mut progress = progress::Bar::new(quiet || !on_terminal, !quiet && !on_terminal);
            let threads = threads.map_or_else(
                || runner::Threads::default_for(&sc, runner::available_threads()),
                |t| runner::Threads::given(t as usize),
            );

            // The scenario's warnings before the run, so that a long run can be stopped.
            let early = scenario::warnings(&sc);
            for w in &early {
                eprintln!("kadsim: warning: {w}");
            }
            let replace = if force { runner::Replace::Force } else { runner::Replace::IfIdentical };
            match runner::run_traced(&sc, &dir, &mut progress, threads.clone(), spec.as_ref(), replace) {
                Ok(o) => {
                    progress.finish();
                    for w in o.warnings.iter().filter(|w| !early.contains(w)) {
                        eprintln!("kadsim: warning: {w}");
                    }
                    notes(&o.notes);
                    let wall = progress.elapsed().as_secs_f64();
                    let windows = o.windows.summary(threads.n);
                    let run =
                        run_summary::Run { events: o.events, wall_s: wall, threads: &threads, windows: Some(&windows) };
                    put!("{}", run_summary::render(&sc.name, &o.summary, &o.dir, &run, o.replaced_same));
                    if spec.as_ref().is_some_and(|s| s.ops) {
                        say!("  or: kadsim trace {} --worst 5", o.dir.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(e @ (RunError::Trace(_) | RunError::Destination(_))) => {
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

/// How charts are drawn: the options `plot`, `compare`, `sweep`, `merge`
/// and `report` share.
#[derive(clap::Args, Debug)]
pub struct ChartOpts {
    /// Chart file formats, comma-separated: png, svg, pdf.
    #[arg(long, default_value = "png,svg", value_name = "LIST")]
    format: String,
    /// Chart width: pixels (PNG) or points (SVG, PDF) as a plain number
    /// (default 720); or a page size in inches or points, 3.5in or 252pt
    /// (PNG at 300 dpi, text the size it has at 720 in a 3.5-inch column).
    #[arg(long, value_name = "W")]
    width: Option<String>,
    /// Chart height, as --width (default 450, or 5/8 of a width in inches or points).
    #[arg(long, value_name = "H")]
    height: Option<String>,
    /// Multiplies every text size of the charts.
    #[arg(long, default_value_t = 1.0)]
    font_scale: f64,
    /// Leave the charts' titles out (a paper's figure has a caption instead).
    #[arg(long)]
    no_title: bool,
    /// Write the SVG's text as `<text>` elements (a paper can restyle the
    /// font) instead of outlines.
    #[arg(long)]
    svg_text: bool,
}

impl ChartOpts {
    /// The style, or exit code 2 after one line naming the option at fault.
    pub fn style(&self) -> Result<crate::report::chart::Style, ExitCode> {
        crate::report::chart::Style::from_options(
            &self.format,
            self.width.as_deref(),
            self.height.as_deref(),
            self.font_scale,
            self.no_title,
            self.svg_text,
        )
        .map_err(|e| {
            eprintln!("kadsim: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        })
    }
}

/// Prints each note as `kadsim: note: ...` on stderr.
pub fn notes(lines: &[String]) {
    for n in lines {
        eprintln!("kadsim: note: {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_error_is_one_line_with_its_values_clipped() {
        let e = Cli::try_parse_from(["kadsim", "run", "--bogus"]).unwrap_err();
        let line = usage_line(&e.render().to_string());
        assert!(line.starts_with("unexpected argument '--bogus' found; "), "{line}");
        assert!(line.contains("usage: kadsim run") && !line.contains('\n') && !line.contains("--help"), "{line}");
        let e = Cli::try_parse_from(["kadsim", "run"]).unwrap_err();
        let line = usage_line(&e.render().to_string());
        assert!(line.starts_with("the following required arguments were not provided: <FILE>; usage: "), "{line}");
        let long = "9".repeat(5000);
        let e = Cli::try_parse_from(["kadsim", "run", "x.toml", "--seed", &long]).unwrap_err();
        let line = usage_line(&e.render().to_string());
        assert!(line.contains("… (5000 bytes)") && line.len() < 600, "{line}");
    }
}
