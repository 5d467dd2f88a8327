//! The sweep commands: `kadsim sweep` (its grid from `--param` or the
//! scenario file's `[study]`), `kadsim merge`, and `kadsim plot` and `kadsim
//! report` given a sweep directory (or a merged sweep): its charts redrawn
//! and its `report.md` written from `sweep.json`, `runs.csv` and
//! `aggregate.csv` alone, without running anything.

use super::progress::styled_bar;
use super::{EXIT_BAD_INPUT, notes};
use crate::report::chart::Style;
use crate::report::sweep::{self, Grid, Naming, Param, Shard, SweepError, SweepProgress, metrics, redraw, table};
use crate::scenario::{self, ScenarioError, Study};
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kadsim: {msg}");
    ExitCode::from(code)
}

/// The `[study]` of the scenario `file` (with `set` applied), checked: each
/// field, and each value applied as `--param` applies it.
pub fn study_of(file: &Path, set: &[String]) -> Result<Option<Study>, ScenarioError> {
    let check_metrics = |names: &[String]| -> Result<(), String> {
        for n in names {
            metrics::parse_metrics(n, "study.metrics")?;
        }
        Ok(())
    };
    let is_metric = |name: &str| metrics::index(name).is_some();
    let rules =
        scenario::study::Rules { max_replicas: sweep::MAX_REPLICAS, metrics: &check_metrics, is_metric: &is_metric };
    scenario::load_study(file, set, &rules)
}

/// The naming a study gives its charts.
fn study_naming(study: &Study) -> Naming {
    Naming { metrics: study.metrics.clone(), labels: study.labels.clone(), title: study.title.clone() }
}

/// The chart naming options: `--metrics`, `--label FIELD=Text`, `--title`.
#[derive(clap::Args, Debug, Default)]
pub struct NamingOpts {
    /// The metrics charted, comma-separated (names of runs.csv), or default
    /// (lookup success, hops, latency p50 and p90, found fraction, messages
    /// per node per second; with an adversary, lookup and get success on
    /// attacked targets) or all.
    #[arg(long, value_name = "LIST")]
    pub metrics: Option<String>,
    /// A name on the charts for a parameter or metric: FIELD=Text, e.g.
    /// protocol.k="bucket size k" (repeatable).
    #[arg(long = "label", value_name = "FIELD=TEXT")]
    pub labels: Vec<String>,
    /// The charts' title; {metric} and {param} stand for their names
    /// (default "{metric} vs {param}").
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
}

impl NamingOpts {
    /// The naming, or exit code 2 after one line.
    pub fn naming(&self) -> Result<Naming, ExitCode> {
        Naming::from_options(self.metrics.as_deref(), &self.labels, self.title.as_deref())
            .map_err(|e| fail(EXIT_BAD_INPUT, e))
    }

    /// Whether any option was given.
    pub fn given(&self) -> bool {
        self.metrics.is_some() || !self.labels.is_empty() || self.title.is_some()
    }
}

/// Arguments of `kadsim sweep`.
pub struct SweepArgs<'a> {
    /// Scenario file.
    pub file: &'a Path,
    /// `--param` texts.
    pub params: &'a [String],
    /// `--replicas`.
    pub replicas: Option<u32>,
    /// Threads.
    pub jobs: Option<usize>,
    /// `--shard` text.
    pub shard: Option<&'a str>,
    /// Seed override.
    pub seed: Option<u64>,
    /// `--set` overrides.
    pub set: &'a [String],
    /// Output directory.
    pub out: Option<PathBuf>,
    /// Write into a non-empty output directory.
    pub force: bool,
    /// The progress.
    pub bar: &'a dyn SweepProgress,
    /// How the charts are drawn.
    pub style: &'a Style,
    /// How the charts are chosen and named.
    pub naming: &'a NamingOpts,
}

/// Replicas per point when neither `--replicas` nor the study says.
const DEFAULT_REPLICAS: u32 = 3;

/// `kadsim sweep`.
pub fn sweep(a: SweepArgs) -> ExitCode {
    let flags = match a.naming.naming() {
        Ok(n) => n,
        Err(code) => return code,
    };
    let shard: Option<Shard> = match a.shard.map(str::parse).transpose() {
        Ok(s) => s,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    let given: Vec<Param> = match a.params.iter().map(|p| p.parse()).collect::<Result<_, String>>() {
        Ok(p) => p,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    let base = match scenario::load_file(a.file, a.set) {
        Ok(sc) => sc,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    notes(base.notes());
    let study = match study_of(a.file, a.set) {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    // --param replaces the study's parameters, all of them; --replicas its replicas.
    let params = if given.is_empty() {
        let from_study = |p: &scenario::StudyParam| Param {
            name: p.name.clone(),
            path: scenario::field_path(&p.name),
            values: p.values.clone(),
        };
        study.params.iter().map(from_study).collect()
    } else {
        if !study.params.is_empty() {
            notes(&[format!("--param given: the [study] parameters of {} are not swept", a.file.display())]);
        }
        given
    };
    let scenario_sha1 = match crate::files::bounded::read_small(a.file, scenario::MAX_SCENARIO_BYTES) {
        Ok(text) => crate::kad::NodeId::hash_of(text.as_bytes()).to_hex(),
        Err(e) => return fail(EXIT_BAD_INPUT, format!("{}: cannot read: {e}", a.file.display())),
    };
    let grid = Grid {
        file: a.file.to_path_buf(),
        set: a.set.to_vec(),
        params,
        replicas: a.replicas.or(study.replicas).unwrap_or(DEFAULT_REPLICAS),
        base_seed: a.seed.unwrap_or(base.seed),
        scenario_sha1,
    };
    if let Err(e) = grid.check() {
        return fail(EXIT_BAD_INPUT, e);
    }
    let naming = study_naming(&study).overridden_by(&flags);
    if let Err(e) = naming.check(&grid) {
        return fail(EXIT_BAD_INPUT, e);
    }
    let out = a.out.unwrap_or_else(|| PathBuf::from("results").join(format!("{}-sweep", base.name)));
    let jobs = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let mut told = Vec::new();
    let started = std::time::Instant::now(); // wall clock, for the closing line only
    let done = sweep::sweep(&grid, shard, jobs, &out, a.force, a.bar, a.style, &naming, &mut told);
    a.bar.finish();
    notes(&told);
    match done {
        Ok(d) => {
            let wall = started.elapsed().as_secs_f64();
            match shard {
                Some(s) => say!(
                    "{}: shard {}/{} of {} runs: {} runs in {wall:.0} s; results in {}\nnext, when every shard is done: kadsim merge {}",
                    base.name,
                    s.i,
                    s.n,
                    grid.runs().len(),
                    d.runs,
                    out.display(),
                    out.display()
                ),
                None => closing(&base.name, &grid, &d, &naming, &out, Some(wall)),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.exit_code(), e),
    }
}

/// The lines a whole sweep (or merge) ends with on standard output: the
/// grid, the table of its points, where its files are.
fn closing(name: &str, grid: &Grid, d: &sweep::run::Done, naming: &Naming, out: &Path, wall: Option<f64>) {
    let points = grid.points().len();
    let took = wall.map_or(String::new(), |w| format!(" in {w:.0} s"));
    say!(
        "{name}: {points} grid point{} x {} replica{} = {} runs{took}",
        if points == 1 { "" } else { "s" },
        grid.replicas,
        if grid.replicas == 1 { "" } else { "s" },
        d.runs
    );
    put!("{}", table::closing(grid, &d.cells, naming));
    let first = d.charts.first().and_then(|c| c.extension()).map(|e| e.to_owned());
    let charts = d.charts.iter().filter(|c| c.extension() == first.as_deref()).count();
    say!(
        "results in {} (runs.csv, aggregate.csv{})",
        out.display(),
        if charts > 0 { format!(", {charts} charts in charts/") } else { String::new() }
    );
    say!("next: kadsim report {}", out.display());
}

/// `kadsim merge`; a merged sweep given alone (no shard records in it) is
/// redrawn, as `kadsim plot DIR` does.
pub fn merge(dirs: &[PathBuf], out: Option<&Path>, force: bool, style: &Style, opts: &NamingOpts) -> ExitCode {
    let flags = match opts.naming() {
        Ok(n) => n,
        Err(code) => return code,
    };
    let no_shards = dirs.iter().all(|d| {
        std::fs::read_dir(d).map_or(true, |it| {
            !it.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().starts_with("sweep.shard-"))
        })
    });
    if dirs.len() == 1 && no_shards && dirs[0].join("sweep.json").is_file() {
        notes(&[format!(
            "{} is a merged sweep (sweep.json, no shards): its charts redrawn from runs.csv and aggregate.csv, as kadsim plot {} does",
            dirs[0].display(),
            dirs[0].display()
        )]);
        return plot(&dirs[0], out, force, style, &flags);
    }
    let target = out.map(Path::to_path_buf).unwrap_or_else(|| dirs[0].clone());
    match sweep::merge(dirs, &target, force, style, &flags) {
        Ok(d) => {
            let rec = sweep::read_record(&target.join("sweep.json"));
            let name = target.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            match rec {
                Ok(r) => closing(&name, &r.grid, &d, &r.charts, &target, None),
                Err(_) => say!("{} runs merged; results in {}", d.runs, target.display()),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.exit_code(), e),
    }
}

/// Reads the sweep in `dir` after settling what interrupted commands left
/// beside it, printing its notes; or exit code 2 after one line.
fn read(dir: &Path) -> Result<redraw::SweepDir, ExitCode> {
    match crate::files::swap::settle(dir) {
        Ok(n) => notes(&n),
        Err(e) => return Err(fail(e.exit_code(), e)),
    }
    let sd = redraw::read(dir).map_err(|e: SweepError| fail(e.exit_code(), e))?;
    notes(&sd.notes);
    Ok(sd)
}

/// `kadsim plot DIR` of a sweep: its charts into DIR/charts (or `out`).
fn plot(dir: &Path, out: Option<&Path>, force: bool, style: &Style, naming: &Naming) -> ExitCode {
    let sd = match read(dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match sd.plot(out, force, style, naming) {
        Ok((files, told)) => {
            notes(&told);
            for f in files {
                say!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.exit_code(), e),
    }
}

/// `kadsim plot` given a sweep directory (or a merged sweep, or a sweep's
/// shards): the sweep's charts redrawn; `None` when `dirs` is not one sweep
/// directory, for the other kinds of plot. `labels` are `--label
/// FIELD=Text`, each.
pub fn plot_dispatch(
    dirs: &[PathBuf],
    labels: &[String],
    out: Option<&Path>,
    force: bool,
    style: &Style,
    metrics: Option<&str>,
    title: Option<&str>,
) -> Option<ExitCode> {
    if dirs.len() != 1 || !redraw::is_sweep_dir(&dirs[0]) || dirs[0].join("manifest.json").is_file() {
        return None;
    }
    let naming = match Naming::from_options(metrics, labels, title) {
        Ok(n) => n,
        Err(e) => return Some(fail(EXIT_BAD_INPUT, e)),
    };
    Some(plot(&dirs[0], out, force, style, &naming))
}

/// `kadsim report DIR` of a sweep: DIR/report.md and its charts; `None`
/// when `dir` is not a sweep directory.
pub fn report_dispatch(dir: &Path, force: bool, style: &Style, opts: &NamingOpts) -> Option<ExitCode> {
    if !redraw::is_sweep_dir(dir) || dir.join("manifest.json").is_file() {
        return None;
    }
    let naming = match opts.naming() {
        Ok(n) => n,
        Err(code) => return Some(code),
    };
    let sd = match read(dir) {
        Ok(s) => s,
        Err(code) => return Some(code),
    };
    Some(match sd.report(force, style, &naming) {
        Ok((path, told)) => {
            notes(&told);
            say!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.exit_code(), e),
    })
}

/// The sweep's one bar over all runs: simulated seconds of every run. Off a
/// terminal (a batch job's log) a heartbeat line goes to stderr at every 10%
/// of the simulated time of all runs instead, unless --quiet.
pub struct SweepBar {
    bar: ProgressBar,
    done: AtomicUsize,
    runs: AtomicUsize,
    /// Print heartbeat lines.
    heartbeat: bool,
    /// Simulated seconds done and in all, for the heartbeat.
    seconds: AtomicU64,
    total: AtomicU64,
    /// The next tenth at which a heartbeat is due.
    next_tenth: AtomicU64,
    started: Instant,
}

impl SweepBar {
    /// A bar, `hidden` or not, and heartbeat lines or not.
    pub fn new(hidden: bool, heartbeat: bool) -> SweepBar {
        let bar = styled_bar(hidden, "{bar:30} {percent}% of simulated time, {msg} [{elapsed_precise}, ETA {eta}]");
        SweepBar {
            bar,
            done: AtomicUsize::new(0),
            runs: AtomicUsize::new(0),
            heartbeat,
            seconds: AtomicU64::new(0),
            total: AtomicU64::new(0),
            next_tenth: AtomicU64::new(1),
            started: Instant::now(),
        }
    }

    /// Prints the heartbeat lines due at `done` of the total simulated seconds.
    fn beat(&self, done: u64) {
        let total = self.total.load(Ordering::Relaxed).max(1);
        loop {
            let tenth = self.next_tenth.load(Ordering::Relaxed);
            if tenth > 10 || done.saturating_mul(10) < total.saturating_mul(tenth) {
                return;
            }
            // One thread prints each tenth (the last one reached when several pass at once).
            let reached = (done.saturating_mul(10) / total).min(10);
            if self.next_tenth.compare_exchange(tenth, reached + 1, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
                let runs = (self.done.load(Ordering::Relaxed), self.runs.load(Ordering::Relaxed));
                eprintln!("{}", sweep_heartbeat(done, total, runs, self.started.elapsed().as_secs_f64()));
                return;
            }
        }
    }
}

/// A sweep's heartbeat line: percent of all runs' simulated time, runs done, wall time.
fn sweep_heartbeat(done_s: u64, total_s: u64, (runs_done, runs): (usize, usize), wall_s: f64) -> String {
    let pct = (done_s.min(total_s) * 100).checked_div(total_s).unwrap_or(100);
    format!("kadsim: sweep {pct:>3}% of {total_s} s simulated in all, {runs_done}/{runs} runs done, {wall_s:.0} s wall")
}

impl SweepProgress for SweepBar {
    fn start(&self, total_s: u64, runs: usize) {
        self.runs.store(runs, Ordering::Relaxed);
        self.total.store(total_s.max(1), Ordering::Relaxed);
        self.bar.set_length(total_s.max(1));
        self.bar.set_message(format!("0/{runs} runs"));
    }
    fn advance(&self, s: u64) {
        self.bar.inc(s);
        let done = self.seconds.fetch_add(s, Ordering::Relaxed) + s;
        if self.heartbeat {
            self.beat(done);
        }
    }
    fn run_done(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.bar.set_message(format!("{done}/{} runs", self.runs.load(Ordering::Relaxed)));
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
