//! Running a sweep: its output directory opened (or refused) as the data
//! safety rules say, every run's scenario checked before anything runs, the
//! runs spread over threads with one progress report over all of them, and
//! the sweep's files written in grid order.

use super::aggregate::{self, Cell};
use super::grid::{Grid, RunSpec, Shard};
use super::metrics::{METRICS, Naming};
use super::{Record, SweepError, charts, header, io, read_record};
use crate::files::ledger::Ledger;
use crate::files::owned::{self, Out, OwnError};
use crate::files::swap;
use crate::metrics::writer::{AtomicFile, write_json};
use crate::report::chart::Style;
use crate::report::results::Results;
use crate::runner::{self, Progress};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The sweep records (`sweep.json`, `sweep.shard-*.json`) in `dir`, by file name.
fn records_in(dir: &Path) -> Result<Vec<(PathBuf, Record)>, SweepError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| SweepError::Input(format!("{}: cannot read: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n == "sweep.json" || (n.starts_with("sweep.shard-") && n.ends_with(".json")))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let path = dir.join(n);
            read_record(&path).map(|r| (path, r)).map_err(|e| SweepError::Input(e.to_string()))
        })
        .collect()
}

/// Opens `out` for the sweep `grid` (or its `shard`): missing or empty, or
/// holding only kadsim's files of the same sweep (other shards of it, or an
/// earlier identical sweep, whose runs are then replaced by identical ones).
/// A different sweep, or other results of kadsim's, are removed first with
/// `force` and refused without; a file kadsim did not write is refused
/// either way, and never touched.
pub fn open_out(out: &Path, grid: &Grid, force: bool) -> Result<Out, SweepError> {
    let mut notes = swap::settle(out)?;
    let non_empty = out.is_dir() && owned::has_content(out)?;
    if non_empty {
        if let Some(path) = owned::foreign_in(out)? {
            if Ledger::read(out).map_err(OwnError::from)?.is_none() && out.join("sweep.json").is_file() {
                return Err(SweepError::Input(format!(
                    "{}: written by an earlier kadsim that kept no record of its files, so kadsim cannot tell {} from a file of yours; move it away or choose another --out",
                    out.display(),
                    path.display()
                )));
            }
            return Err(OwnError::Foreign { path, flag: "--out" }.into());
        }
        let want = grid.identity(Some(runner::SOURCE_SHA1));
        let records = records_in(out);
        let different = match &records {
            Ok(list) if list.is_empty() => Some(format!("{} holds kadsim results that are not a sweep", out.display())),
            Ok(list) => list.iter().find(|(_, r)| r.grid.identity(r.source_sha1.as_deref()) != want).map(|(path, r)| {
                let why = runner::staging::first_difference("", &r.grid.identity(r.source_sha1.as_deref()), &want)
                    .unwrap_or_default();
                let params: Vec<String> =
                    r.grid.params.iter().map(|p| format!("{}={}", p.name, p.values.join(","))).collect();
                format!(
                    "{} holds an earlier sweep of {} ({}{} replicas, seed {}; {}) that differs from this one in {why}",
                    out.display(),
                    r.grid.file.display(),
                    if params.is_empty() { String::new() } else { format!("{}; ", params.join(" ")) },
                    r.grid.replicas,
                    r.grid.base_seed,
                    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                )
            }),
            Err(e) => Some(format!("{} holds a sweep record that cannot be read ({e})", out.display())),
        };
        if let Some(why) = different {
            if !force {
                let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let other =
                    (2..).map(|i| out.with_file_name(format!("{name}-{i}"))).find(|p| !p.exists()).unwrap_or_default();
                return Err(SweepError::Input(format!(
                    "{why}: keep both with --out {}, or replace it with --force",
                    other.display()
                )));
            }
            owned::clear_owned(out)?;
            notes.push(format!("{}: removed the earlier kadsim results there (--force)", out.display()));
        }
    }
    let mut o = Out::open(out, grid.source(), force)?;
    o.notes.splice(0..0, notes);
    Ok(o)
}

/// Progress over the whole sweep: simulated seconds done of all runs.
pub trait SweepProgress: Sync {
    /// Sets the total simulated seconds.
    fn start(&self, total_s: u64, runs: usize);
    /// Adds simulated seconds.
    fn advance(&self, s: u64);
    /// A run finished.
    fn run_done(&self);
    /// The sweep is over: clear what is shown.
    fn finish(&self) {}
}

/// Shows nothing.
pub struct NoProgress;
impl SweepProgress for NoProgress {
    fn start(&self, _: u64, _: usize) {}
    fn advance(&self, _: u64) {}
    fn run_done(&self) {}
}

/// The per-run side of the shared progress.
struct RunTicker<'a> {
    bar: &'a dyn SweepProgress,
    done_s: u64,
    started: Instant,
}

impl Progress for RunTicker<'_> {
    fn tick(&mut self, now_us: u64, _: u64, _: u64) {
        let s = now_us / 1_000_000;
        if s > self.done_s {
            self.bar.advance(s - self.done_s);
            self.done_s = s;
        }
    }
    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// What a finished sweep (or shard) did.
#[derive(Debug)]
pub struct Done {
    /// Runs done.
    pub runs: usize,
    /// The grid points' statistics (none for a shard: `merge` makes them).
    pub cells: Vec<Cell>,
    /// The chart files written.
    pub charts: Vec<PathBuf>,
}

/// Runs the grid (or `shard` of it) on `jobs` threads, writing under `out`;
/// the charts are chosen and named by `naming`.
///
/// `out` is opened by [`open_out`] (with `force`) once every run's scenario
/// has been checked, so that nothing is replaced for a sweep that cannot run;
/// `notes` receives what the user should be told about it.
#[allow(clippy::too_many_arguments)]
pub fn sweep(
    grid: &Grid,
    shard: Option<Shard>,
    jobs: usize,
    out: &Path,
    force: bool,
    bar: &dyn SweepProgress,
    style: &Style,
    naming: &Naming,
    notes: &mut Vec<String>,
) -> Result<Done, SweepError> {
    let runs: Vec<RunSpec> = grid.runs().into_iter().filter(|r| shard.is_none_or(|s| s.owns(r.index))).collect();
    // Every scenario is checked before anything runs.
    let scenarios = runs.iter().map(|r| grid.scenario(r)).collect::<Result<Vec<_>, _>>()?;
    let mut out_dir = open_out(out, grid, force)?;
    if let Some(s) = shard {
        // Shards may write into the same folders at once: each keeps its own record file.
        out_dir = out_dir.as_writer(&s.tag());
    }
    notes.extend(out_dir.notes.iter().cloned());
    // The sweep's record first: the directory is this sweep's (or shard's)
    // from now on, for shards starting beside it and for a later sweep.
    let record = Record::new(grid, shard, runs.len(), naming);
    let record_name = match shard {
        Some(s) => format!("sweep.{}.json", s.tag()),
        None => "sweep.json".into(),
    };
    let p = out_dir.claim(&record_name)?;
    write_json(&p, &record).map_err(|e| io(&p, e))?;
    let runs_dir = out_dir.subdir("runs")?;
    for r in &runs {
        runs_dir.subdir(&grid.point_dir(&r.values))?.claim(&format!("r{}/", r.replica))?;
    }
    let replace = if force { runner::Replace::Force } else { runner::Replace::IfIdentical };
    let total: u64 = scenarios.iter().map(|s| s.duration.as_secs_f64() as u64).sum();
    bar.start(total, runs.len());
    let next = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<RowResult>>> = Mutex::new((0..runs.len()).map(|_| None).collect());
    // One thread per run while the runs at once fill the cores (runner::threads).
    let at_once = jobs.clamp(1, runs.len().max(1));
    let cores = runner::available_threads();
    std::thread::scope(|scope| {
        for _ in 0..at_once {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(run) = runs.get(i) else { break };
                    let dir = out.join(run.dir(grid));
                    let started = Instant::now(); // wall clock, for the run's manifest only
                    let mut ticker = RunTicker { bar, done_s: 0, started };
                    let threads = runner::Threads::per_run(&scenarios[i], cores, at_once, "kadsim sweep");
                    let row = runner::run_traced(&scenarios[i], &dir, &mut ticker, threads, None, replace)
                        .map_err(|e| match e {
                            runner::RunError::Trace(_) | runner::RunError::Destination(_) => {
                                SweepError::Input(e.to_string())
                            }
                            _ => SweepError::Internal(format!("run {}: {e}", run.dir(grid))),
                        })
                        .and_then(|o| run_row(grid, run, &dir, &o.trace_hash, o.events));
                    bar.run_done();
                    if let Ok(mut rows) = rows.lock() {
                        rows[i] = Some(row);
                    }
                }
            });
        }
    });
    let rows = rows.into_inner().map_err(|_| SweepError::Internal("a worker thread panicked".into()))?;
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(SweepError::Internal("a run did not finish".into()))))
        .collect::<Result<_, _>>()?;
    match shard {
        Some(s) => {
            write_rows(&out_dir.claim(&format!("runs.{}.csv", s.tag()))?, grid, &rows)?;
            Ok(Done { runs: rows.len(), cells: Vec::new(), charts: Vec::new() })
        }
        None => {
            let (cells, charts) = finish(grid, &rows, &out_dir, style, naming)?;
            Ok(Done { runs: rows.len(), cells, charts })
        }
    }
}

/// The `runs.csv` row of a finished run, its metrics copied verbatim from its `summary.csv`.
fn run_row(grid: &Grid, run: &RunSpec, dir: &Path, hash: &str, events: u64) -> Result<Vec<String>, SweepError> {
    let summary: BTreeMap<String, String> = crate::report::summary::read(&dir.join("summary.csv"))
        .map_err(|e| SweepError::Internal(e.to_string()))?
        .rows
        .into_iter()
        .collect();
    let mut row = vec![run.dir(grid)];
    row.extend(run.values.iter().cloned());
    row.push(run.replica.to_string());
    row.push(run.seed.to_string());
    row.extend(METRICS.iter().map(|(m, _)| summary.get(*m).cloned().unwrap_or_default()));
    row.push(events.to_string());
    row.push(hash.to_string());
    Ok(row)
}

/// Writes `runs.csv` (or a shard's) of `grid`.
pub fn write_rows(path: &Path, grid: &Grid, rows: &[Vec<String>]) -> Result<(), SweepError> {
    let file = AtomicFile::create(path).map_err(|e| io(path, e))?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(header(grid)).map_err(|e| io(path, e))?;
    for r in rows {
        w.write_record(r).map_err(|e| io(path, e))?;
    }
    let file = w.into_inner().map_err(|e| io(path, e))?;
    file.finish().map_err(|e| io(path, e))
}

/// Writes `runs.csv`, `aggregate.csv`, the charts (in `charts/`) and
/// `sweep.json` of a whole grid into `out`, each claimed there first;
/// returns the statistics and the chart files.
pub fn finish(
    grid: &Grid,
    rows: &[Vec<String>],
    out: &Out,
    style: &Style,
    naming: &Naming,
) -> Result<(Vec<Cell>, Vec<PathBuf>), SweepError> {
    let files = out.claim_all(["runs.csv", "aggregate.csv", "sweep.json"])?;
    write_rows(&files[0], grid, rows)?;
    let cells = aggregate::aggregate(grid, rows);
    aggregate::write_aggregate(&files[1], grid, &cells)?;
    let mut charts = charts::charts(grid, &cells, naming);
    charts.extend(replica_charts(grid, rows, out.path(), naming));
    let mut written = Vec::new();
    if !charts.is_empty() {
        let dir = out.subdir("charts")?;
        written = crate::report::chart::save_all(&charts, &dir, style)?;
    }
    let record = Record::new(grid, None, rows.len(), naming);
    write_json(&files[2], &record).map_err(|e| io(&files[2], e))?;
    Ok((cells, written))
}

/// A sweep of one grid point is a replica set: its replica-set charts
/// (`report::replica_charts`), from the runs below `dir`; none for several
/// points, when `--metrics` asks for charts against a parameter, or when a
/// run is not below `dir` (shards merged from elsewhere: `kadsim plot` on a
/// directory holding them draws them).
fn replica_charts(
    grid: &Grid,
    rows: &[Vec<String>],
    dir: &Path,
    naming: &Naming,
) -> crate::report::replica_charts::Charts {
    if grid.points().len() != 1 || naming.metrics.is_some() {
        return Vec::new();
    }
    let mut runs = Vec::with_capacity(rows.len());
    for row in rows {
        match row.first().map(|r| Results::read(&dir.join(r))) {
            Some(Ok(r)) => runs.push(r),
            _ => return Vec::new(),
        }
    }
    let label = dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
    crate::report::replica_charts::charts(&[crate::report::replica_charts::Set { label, runs: &runs }])
}

/// A run's `runs.csv` row, or why it has none.
type RowResult = Result<Vec<String>, SweepError>;
