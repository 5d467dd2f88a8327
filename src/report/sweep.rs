//! `kadsim sweep` and `kadsim merge`: a scenario run over a grid of parameter
//! values, each point several times (replicas), in parallel; then one row per
//! run (`runs.csv`), means with 95% Student-t intervals per grid point
//! (`aggregate.csv`), and a chart of each of its metrics against each
//! parameter with error bars.
//!
//! Replica 0 of every grid point runs with the base seed itself and replica
//! r ≥ 1 with [`replica_seed`]`(base, r)`, a SplitMix64 mix of (base, r): the
//! points share their random streams (common random numbers), so differences
//! between points come from the parameters, not from the draws, while two
//! sweeps from different base seeds share no run (with `base + r`, seeds 1..5
//! and 2..6 shared four). Each run is deterministic and
//! the rows are written in grid order, so the files are identical whatever the
//! number of threads (`--jobs`) or shards (`--shard I/N`, joined by `merge`).

use super::chart::{Chart, Mark, Series, Style};
use super::stats;
use crate::files::ReadError;
use crate::files::json::read_json;
use crate::files::ledger::Ledger;
use crate::files::owned::{self, Out, OwnError, Source};
use crate::files::schema;
use crate::files::swap;
use crate::files::table::{Table, push_row};
use crate::metrics::writer::{AtomicFile, write_json};
use crate::runner::{self, Progress};
use crate::scenario::{self, Scenario, ScenarioError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Headline metrics recorded per run (names of `summary.csv`), each with the
/// label of its chart against each parameter.
pub const METRICS: [(&str, &str); 19] = [
    ("find_node.success_rate", "node lookup success rate"),
    ("find_node.hops.mean", "mean hops of node lookups"),
    ("find_node.hops.p90", "90th percentile of node lookup hops"),
    ("find_node.latency_ms.mean", "mean node lookup latency (ms)"),
    ("find_node.latency_ms.p90", "90th percentile of node lookup latency (ms)"),
    ("find_node.found_fraction.mean", "node lookups: fraction of the true k closest found"),
    ("get.success_rate", "get success rate"),
    ("get.latency_ms.mean", "mean get latency (ms)"),
    ("put.replicas.mean", "replicas stored per put"),
    ("msgs.per_live_node_per_s", "messages per node per second"),
    ("bytes.per_live_node_per_s", "bytes per node per second"),
    ("end.rt_size.mean", "routing-table size at the end (contacts)"),
    // The adversary's (empty without one), last so that the older columns of runs.csv keep their places.
    ("find_node.attacked.success_rate", "node lookup success, attacked targets"),
    ("get.attacked.success_rate", "get success rate, attacked keys"),
    ("find_node.eclipsed_fraction", "node lookups eclipsed"),
    ("get.eclipsed_fraction", "gets eclipsed"),
    ("get.wrong_value_fraction", "gets with a wrong value"),
    // Later still: maintenance traffic (BEP 5's good/questionable rule moves
    // it) and peers per get_peers (empty unless records are peers).
    ("msgs.maintenance_per_live_node_per_s", "maintenance messages per node per second"),
    ("get.peers.mean", "peers per get_peers"),
];

/// One swept parameter and its values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// As given on the command line (`k`, `network.loss.p`).
    pub name: String,
    /// The field path it sets (`protocol.k`).
    pub path: String,
    /// The values, in order.
    pub values: Vec<String>,
}

impl std::str::FromStr for Param {
    type Err = String;

    /// `NAME=V1,V2,...`
    fn from_str(s: &str) -> Result<Param, String> {
        let usage = || format!("--param '{s}': expected NAME=V1,V2,..., e.g. k=8,20 or protocol.alpha=1,3");
        let (name, vals) = s.split_once('=').ok_or_else(usage)?;
        let name = name.trim();
        let values: Vec<String> = vals.split(',').map(|v| v.trim().to_string()).collect();
        if name.is_empty() || values.iter().any(String::is_empty) {
            return Err(usage());
        }
        if name == "seed" {
            return Err(format!(
                "--param '{s}': seeds are not swept; give --replicas N (replica seeds derive from --seed or the file's seed)"
            ));
        }
        let path = scenario::field_path(name);
        Ok(Param { name: name.to_string(), path, values })
    }
}

/// The grid: scenario file, parameters, replicas and base seed. Its runs are
/// numbered in order, the last parameter varying fastest, then replicas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// The scenario file as given.
    pub file: PathBuf,
    /// Extra `--set` overrides applied to every run.
    pub set: Vec<String>,
    /// Swept parameters.
    pub params: Vec<Param>,
    /// Runs per grid point.
    pub replicas: u32,
    /// Seed of replica 0.
    pub base_seed: u64,
    /// SHA-1 of the scenario file's bytes, so that shards of sweeps of
    /// different files (or of one file edited in between) are never merged.
    pub scenario_sha1: String,
}

/// One run of the grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSpec {
    /// Index in grid order.
    pub index: usize,
    /// Parameter values, one per parameter.
    pub values: Vec<String>,
    /// Replica number.
    pub replica: u32,
    /// Seed.
    pub seed: u64,
}

impl RunSpec {
    /// Directory of the run, relative to the sweep's.
    pub fn dir(&self, grid: &Grid) -> String {
        let point: Vec<String> = grid.params.iter().zip(&self.values).map(|(p, v)| format!("{}={v}", p.name)).collect();
        let point = if point.is_empty() { "base".to_string() } else { point.join("_") };
        format!("runs/{}/r{}", sanitize(&point), self.replica)
    }
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "=._-".contains(c) { c } else { '-' }).collect()
}

/// The seed of replica `r` of a sweep whose base seed is `seed`: the seed
/// itself for r = 0; for r ≥ 1 the r-th output of a SplitMix64 generator
/// seeded with `seed` (Steele, Lea & Flood 2014: state `seed + r·γ`,
/// γ = 0x9E3779B97F4A7C15, through the Stafford variant-13 finalizer), keeping
/// its top 63 bits so that it is a valid scenario seed (TOML integers are
/// signed). The finalizer is a bijection and r·γ ≠ 1 modulo 2^64 for every
/// r − r' that fits in a u32, so the replicas of base seeds 1 and 2 never
/// coincide.
pub fn replica_seed(seed: u64, r: u32) -> u64 {
    if r == 0 {
        return seed;
    }
    let mut z = seed.wrapping_add(u64::from(r).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 1
}

impl Grid {
    /// What makes two sweeps the same sweep: the grid (not the path the
    /// scenario file was given by: its SHA-1 is in the grid) and the kadsim
    /// sources.
    fn identity(&self, source_sha1: Option<&str>) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.remove("file");
            m.insert("source_sha1".into(), source_sha1.into());
        }
        v
    }

    /// The source the sweep's files are recorded under.
    pub fn source(&self) -> Source {
        let params: Vec<String> = self.params.iter().map(|p| format!("{}={}", p.name, p.values.join(","))).collect();
        Source::new(
            format!(
                "the sweep of {} ({})",
                self.file.display(),
                if params.is_empty() { "no parameters".into() } else { params.join(" ") }
            ),
            &[self.identity(Some(runner::SOURCE_SHA1)).to_string().as_bytes()],
        )
    }
}

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
    let own = |e: OwnError| match e {
        OwnError::Io { .. } => SweepError::Internal(e.to_string()),
        other => SweepError::Input(other.to_string()),
    };
    let mut notes = swap::settle(out).map_err(own)?;
    let non_empty = out.is_dir() && owned::has_content(out).map_err(own)?;
    if non_empty {
        if let Some(path) = owned::foreign_in(out).map_err(own)? {
            if Ledger::read(out).map_err(|e| own(e.into()))?.is_none() && out.join("sweep.json").is_file() {
                return Err(SweepError::Input(format!(
                    "{}: written by an earlier kadsim that kept no record of its files, so kadsim cannot tell {} from a file of yours; move it away or choose another --out",
                    out.display(),
                    path.display()
                )));
            }
            return Err(own(OwnError::Foreign { path, flag: "--out" }));
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
            owned::clear_owned(out).map_err(own)?;
            notes.push(format!("{}: removed the earlier kadsim results there (--force)", out.display()));
        }
    }
    let mut o = Out::open(out, grid.source(), force).map_err(own)?;
    o.notes.splice(0..0, notes);
    Ok(o)
}

/// Most replicas per grid point.
pub const MAX_REPLICAS: u32 = 10_000;

impl Grid {
    /// Checks the grid: parameters named once, values distinct, every run in a
    /// directory of its own, a sane number of replicas.
    pub fn check(&self) -> Result<(), String> {
        if self.replicas == 0 || self.replicas > MAX_REPLICAS {
            return Err(format!("--replicas {}: expected 1 to {MAX_REPLICAS}", self.replicas));
        }
        for (i, p) in self.params.iter().enumerate() {
            if self.params[..i].iter().any(|q| q.path == p.path) {
                return Err(format!("--param {}: the parameter is given twice", p.name));
            }
            for (j, v) in p.values.iter().enumerate() {
                if p.values[..j].iter().any(|w| sanitize(w) == sanitize(v)) {
                    return Err(format!("--param {}: the value {v} is given twice", p.name));
                }
            }
        }
        let mut dirs: Vec<String> = self.runs().iter().map(|r| r.dir(self)).collect();
        dirs.sort();
        if let Some(w) = dirs.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("two grid points would share the run directory {}", w[0]));
        }
        Ok(())
    }

    /// Every run, in grid order.
    pub fn runs(&self) -> Vec<RunSpec> {
        let mut points: Vec<Vec<String>> = vec![Vec::new()];
        for p in &self.params {
            points = points
                .into_iter()
                .flat_map(|pt| p.values.iter().map(move |v| [pt.clone(), vec![v.clone()]].concat()))
                .collect();
        }
        let mut runs = Vec::new();
        for values in points {
            for r in 0..self.replicas {
                runs.push(RunSpec {
                    index: runs.len(),
                    values: values.clone(),
                    replica: r,
                    seed: replica_seed(self.base_seed, r),
                });
            }
        }
        runs
    }

    /// The scenario of `run`, with its overrides applied and checked.
    pub fn scenario(&self, run: &RunSpec) -> Result<Scenario, ScenarioError> {
        let mut set = self.set.clone();
        set.extend(self.params.iter().zip(&run.values).map(|(p, v)| format!("{}={v}", p.path)));
        set.push(format!("seed={}", run.seed));
        scenario::load_file(&self.file, &set)
    }
}

/// A shard: run `index` belongs to shard `i` (1-based) of `n` when `index % n == i − 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    /// This shard, 1..=n.
    pub i: usize,
    /// Number of shards.
    pub n: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard '{s}': expected I/N with 1 <= I <= N, e.g. 2/8");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if n == 0 || i == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard { i, n })
    }
}

impl Shard {
    fn owns(&self, index: usize) -> bool {
        index % self.n == self.i - 1
    }
}

/// The record of a sweep (or of one shard of it): `sweep.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    kadsim_version: String,
    /// SHA-1 of the sources of the kadsim that ran it (absent before kadsim
    /// recorded it): a sweep is replaced without `--force` only by the same
    /// grid from the same sources.
    #[serde(default)]
    source_sha1: Option<String>,
    grid: Grid,
    shard: Option<Shard>,
    runs: usize,
}

impl Record {
    fn new(grid: &Grid, shard: Option<Shard>, runs: usize) -> Record {
        Record {
            kadsim_version: env!("CARGO_PKG_VERSION").into(),
            source_sha1: Some(runner::SOURCE_SHA1.into()),
            grid: grid.clone(),
            shard,
            runs,
        }
    }
}

/// Why a sweep or merge failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Bad input: a scenario, a parameter value, a shard file (exit code 2).
    #[error("{0}")]
    Input(String),
    /// A run or a file write failed (exit code 3).
    #[error("{0}")]
    Internal(String),
}

impl From<ScenarioError> for SweepError {
    fn from(e: ScenarioError) -> Self {
        SweepError::Input(e.to_string())
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> SweepError {
    SweepError::Internal(format!("cannot write {}: {e}", path.display()))
}

/// Progress over the whole sweep: simulated seconds done of all runs.
pub trait SweepProgress: Sync {
    /// Sets the total simulated seconds.
    fn start(&self, total_s: u64, runs: usize);
    /// Adds simulated seconds.
    fn advance(&self, s: u64);
    /// A run finished.
    fn run_done(&self);
}

/// Shows nothing.
pub struct NoProgress;
impl SweepProgress for NoProgress {
    fn start(&self, _: u64, _: usize) {}
    fn advance(&self, _: u64) {}
    fn run_done(&self) {}
}

/// The per-run side of the shared bar.
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

/// Runs the grid (or `shard` of it) on `jobs` threads, writing under `out`.
/// Returns the number of runs done.
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
    notes: &mut Vec<String>,
) -> Result<usize, SweepError> {
    let runs: Vec<RunSpec> = grid.runs().into_iter().filter(|r| shard.is_none_or(|s| s.owns(r.index))).collect();
    // Every scenario is checked before anything runs.
    let scenarios = runs.iter().map(|r| grid.scenario(r)).collect::<Result<Vec<_>, _>>()?;
    let mut out_dir = open_out(out, grid, force)?;
    if let Some(s) = shard {
        // Shards may write into the same folders at once: each keeps its own record file.
        out_dir = out_dir.as_writer(&format!("shard-{}-of-{}", s.i, s.n));
    }
    notes.extend(out_dir.notes.iter().cloned());
    let own = |e: OwnError| SweepError::Input(e.to_string());
    // The sweep's record first: the directory is this sweep's (or shard's)
    // from now on, for shards starting beside it and for a later sweep.
    let record = Record::new(grid, shard, runs.len());
    let record_name = match shard {
        Some(s) => format!("sweep.shard-{}-of-{}.json", s.i, s.n),
        None => "sweep.json".into(),
    };
    let p = out_dir.claim(&record_name).map_err(own)?;
    write_json(&p, &record).map_err(|e| io(&p, e))?;
    let runs_dir = out_dir.subdir("runs").map_err(own)?;
    for r in &runs {
        let point = r.dir(grid);
        let point = point.trim_start_matches("runs/").split('/').next().unwrap_or_default().to_string();
        runs_dir.subdir(&point).map_err(own)?.claim(&format!("r{}/", r.replica)).map_err(own)?;
    }
    let replace = if force { runner::Replace::Force } else { runner::Replace::IfIdentical };
    let total: u64 = scenarios.iter().map(|s| s.duration.as_secs_f64() as u64).sum();
    bar.start(total, runs.len());
    let next = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<RowResult>>> = Mutex::new((0..runs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, runs.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(run) = runs.get(i) else { break };
                    let dir = out.join(run.dir(grid));
                    let started = Instant::now(); // wall clock, for the run's manifest only
                    let mut ticker = RunTicker { bar, done_s: 0, started };
                    let row = runner::run_traced(&scenarios[i], &dir, &mut ticker, 1, None, replace)
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
            let tag = format!("shard-{}-of-{}", s.i, s.n);
            write_rows(&out_dir.claim(&format!("runs.{tag}.csv")).map_err(own)?, grid, &rows)?;
        }
        None => finish(grid, &rows, &out_dir, style)?,
    }
    Ok(rows.len())
}

/// The `runs.csv` header of `grid`.
fn header(grid: &Grid) -> Vec<String> {
    let mut h = vec!["run".to_string()];
    h.extend(grid.params.iter().map(|p| p.name.clone()));
    h.extend(["replica", "seed"].map(String::from));
    h.extend(METRICS.map(|(m, _)| m.to_string()));
    h.extend(["events", "trace_hash"].map(String::from));
    h
}

/// The `runs.csv` row of a finished run, its metrics copied verbatim from its `summary.csv`.
fn run_row(grid: &Grid, run: &RunSpec, dir: &Path, hash: &str, events: u64) -> Result<Vec<String>, SweepError> {
    let summary: BTreeMap<String, String> = super::summary::read(&dir.join("summary.csv"))
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

fn write_rows(path: &Path, grid: &Grid, rows: &[Vec<String>]) -> Result<(), SweepError> {
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
/// `sweep.json` of a whole grid into `out`, each claimed there first.
fn finish(grid: &Grid, rows: &[Vec<String>], out: &Out, style: &Style) -> Result<(), SweepError> {
    let own = |e: OwnError| match e {
        OwnError::Io { .. } => SweepError::Internal(e.to_string()),
        other => SweepError::Input(other.to_string()),
    };
    let files = out.claim_all(["runs.csv", "aggregate.csv", "sweep.json"]).map_err(own)?;
    write_rows(&files[0], grid, rows)?;
    let agg = aggregate(grid, rows);
    write_aggregate(&files[1], grid, &agg)?;
    let mut charts = Vec::new();
    for (metric, label) in METRICS {
        for (pi, p) in grid.params.iter().enumerate() {
            let chart = chart(grid, &agg, metric, label, pi);
            if chart.series.iter().all(|s| s.points.is_empty()) {
                continue;
            }
            // No dot in the stem: the extension would replace what follows it
            // (`--param network.loss.rate` gave `..._vs_network.png`).
            let stem = format!("{}_vs_{}", metric.replace('.', "_"), sanitize(&p.name).replace('.', "_"));
            charts.push((stem, chart));
        }
    }
    if !charts.is_empty() {
        let dir = out.subdir("charts").map_err(own)?;
        super::chart::save_all(&charts, &dir, style).map_err(|e| match e {
            super::chart::SaveError::Own(e) => own(e),
            other => SweepError::Internal(other.to_string()),
        })?;
    }
    let record = Record::new(grid, None, rows.len());
    write_json(&files[2], &record).map_err(|e| io(&files[2], e))
}

/// A run's `runs.csv` row, or why it has none.
type RowResult = Result<Vec<String>, SweepError>;

/// A chart series being gathered: name, points, error bars.
type Group = (String, Vec<(f64, f64)>, Vec<(f64, f64)>);

/// One grid point's statistics of one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Parameter values of the point.
    pub values: Vec<String>,
    /// Metric name.
    pub metric: String,
    /// Replicas with a value.
    pub n: usize,
    /// Mean over replicas.
    pub mean: f64,
    /// Sample standard deviation (NaN for one replica).
    pub sd: f64,
    /// 95% Student-t interval of the mean (NaN for one replica).
    pub ci: (f64, f64),
}

/// Means and intervals per grid point and metric, in grid order.
pub fn aggregate(grid: &Grid, rows: &[Vec<String>]) -> Vec<Cell> {
    let np = grid.params.len();
    let mut points: Vec<(Vec<String>, Vec<&Vec<String>>)> = Vec::new();
    for r in rows {
        let values = r[1..=np].to_vec();
        match points.last_mut() {
            Some((v, rs)) if *v == values => rs.push(r),
            _ => points.push((values, vec![r])),
        }
    }
    let mut cells = Vec::new();
    for (values, rs) in points {
        for (mi, (m, _)) in METRICS.iter().enumerate() {
            let xs: Vec<f64> = rs.iter().filter_map(|r| r[np + 3 + mi].parse::<f64>().ok()).collect();
            if xs.is_empty() {
                continue;
            }
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let sd = if xs.len() > 1 {
                (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
            } else {
                f64::NAN
            };
            let ci = stats::t_interval(&xs, 0.95).map_or((f64::NAN, f64::NAN), |i| (i.low, i.high));
            cells.push(Cell { values: values.clone(), metric: m.to_string(), n: xs.len(), mean, sd, ci });
        }
    }
    cells
}

fn write_aggregate(path: &Path, grid: &Grid, cells: &[Cell]) -> Result<(), SweepError> {
    let file = AtomicFile::create(path).map_err(|e| io(path, e))?;
    let mut w = csv::Writer::from_writer(file);
    let mut head: Vec<String> = grid.params.iter().map(|p| p.name.clone()).collect();
    head.extend(["metric", "n", "mean", "sd", "ci95_low", "ci95_high"].map(String::from));
    w.write_record(&head).map_err(|e| io(path, e))?;
    let f = |x: f64| if x.is_finite() { format!("{x:.6}") } else { String::new() };
    for c in cells {
        let mut rec = c.values.clone();
        rec.extend([c.metric.clone(), c.n.to_string(), f(c.mean), f(c.sd), f(c.ci.0), f(c.ci.1)]);
        w.write_record(&rec).map_err(|e| io(path, e))?;
    }
    let file = w.into_inner().map_err(|e| io(path, e))?;
    file.finish().map_err(|e| io(path, e))
}

/// The y-axis label of a sweep chart of `metric`: a few words and the unit
/// (the chart's title keeps the long name).
pub fn axis_label(metric: &str) -> &'static str {
    match metric {
        "find_node.success_rate" => "lookup success rate",
        "find_node.hops.mean" => "mean hops",
        "find_node.hops.p90" => "hops, 90th pct.",
        "find_node.latency_ms.mean" => "mean latency (ms)",
        "find_node.latency_ms.p90" => "latency, 90th pct. (ms)",
        "find_node.found_fraction.mean" => "k closest found",
        "get.success_rate" => "get success rate",
        "get.latency_ms.mean" => "mean get latency (ms)",
        "put.replicas.mean" => "replicas per put",
        "msgs.per_live_node_per_s" => "messages / node / s",
        "bytes.per_live_node_per_s" => "bytes / node / s",
        "end.rt_size.mean" => "contacts per table",
        "find_node.attacked.success_rate" => "success, attacked targets",
        "get.attacked.success_rate" => "get success, attacked keys",
        "find_node.eclipsed_fraction" => "lookups eclipsed",
        "get.eclipsed_fraction" => "gets eclipsed",
        "get.wrong_value_fraction" => "gets with a wrong value",
        "msgs.maintenance_per_live_node_per_s" => "maintenance msgs / node / s",
        "get.peers.mean" => "peers per get",
        _ => "value",
    }
}

/// `metric` against parameter `pi`: one series per combination of the other
/// parameters' values, the mean over replicas with its 95% interval as a
/// band. Non-numeric values are placed at their positions 0, 1, 2, … on the
/// x axis.
fn chart(grid: &Grid, cells: &[Cell], metric: &str, label: &str, pi: usize) -> Chart {
    let p = &grid.params[pi];
    let numeric = p.values.iter().all(|v| v.parse::<f64>().is_ok());
    let x_of = |v: &str| -> f64 {
        if numeric { v.parse().unwrap_or(f64::NAN) } else { p.values.iter().position(|x| x == v).unwrap_or(0) as f64 }
    };
    let mut groups: Vec<Group> = Vec::new();
    for c in cells.iter().filter(|c| c.metric == metric) {
        let others: Vec<String> = grid
            .params
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != pi)
            .map(|(j, q)| format!("{}={}", q.name, c.values[j]))
            .collect();
        let name = if others.is_empty() { "mean".to_string() } else { others.join(", ") };
        let at = match groups.iter().position(|g| g.0 == name) {
            Some(i) => i,
            None => {
                groups.push((name, Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        groups[at].1.push((x_of(&c.values[pi]), c.mean));
        groups[at].2.push(c.ci);
    }
    let series = groups
        .into_iter()
        .map(|(name, mut pts, errs)| {
            let mut both: Vec<((f64, f64), (f64, f64))> = pts.drain(..).zip(errs).collect();
            both.sort_by(|a, b| a.0.0.total_cmp(&b.0.0));
            let (pts, band): (Vec<_>, Vec<_>) = both.into_iter().unzip();
            let s = Series::new(name, pts, Mark::Line { dots: true });
            if grid.replicas > 1 { s.with_band(band) } else { s }
        })
        .collect();
    let note = if grid.replicas > 1 {
        // Non-numeric values name their positions on the x axis itself.
        format!("Lines: mean of {} replicas; bands: 95% Student-t interval of the mean.", grid.replicas)
    } else {
        "One replica per point: no interval (sweep --replicas 3 or more for bands).".to_string()
    };
    Chart {
        title: format!("{label} vs {}", p.name),
        x_label: p.name.clone(),
        y_label: axis_label(metric).to_string(),
        series,
        integer_x: !numeric || p.values.iter().all(|v| v.parse::<i64>().is_ok()),
        x_names: if numeric { Vec::new() } else { p.values.clone() },
        x_pad: true,
        note: Some(note),
        ..Chart::default()
    }
}

/// The schema of `runs.csv` (and of its shards) of a sweep over `params`.
pub fn runs_schema(params: &[String]) -> schema::Schema {
    schema::runs(params, &METRICS.map(|(m, _)| m))
}

/// The largest `sweep.json` read (a real one is a few kilobytes).
const MAX_RECORD: u64 = 16 << 20;

/// Reads a sweep's (or a shard's) `sweep.json` strictly.
fn read_record(path: &Path) -> Result<Record, ReadError> {
    let (rec, _): (Record, String) = read_json(path, MAX_RECORD)?;
    if let Some(s) = rec.shard
        && (s.i == 0 || s.i > s.n)
    {
        return Err(ReadError::at(path, None, format!("shard: {}/{} is not a shard I/N with 1 <= I <= N", s.i, s.n)));
    }
    Ok(rec)
}

/// The names of the parameters of the sweep whose `sweep.json` is `path`.
pub fn swept_params(path: &Path) -> Result<Vec<String>, ReadError> {
    Ok(swept(path)?.0)
}

/// The names of the parameters of the sweep whose `sweep.json` is `path`,
/// and the number of runs it records.
pub fn swept(path: &Path) -> Result<(Vec<String>, usize), ReadError> {
    let rec = read_record(path)?;
    Ok((rec.grid.params.into_iter().map(|p| p.name).collect(), rec.runs))
}

/// The rows of a shard's CSV file with their line numbers, checked against
/// the grid's header and every value against its column's type.
fn read_shard(path: &Path, grid: &Grid) -> Result<Vec<(u64, Vec<String>)>, SweepError> {
    let bad = |e: ReadError| SweepError::Input(e.to_string());
    let params: Vec<String> = grid.params.iter().map(|p| p.name.clone()).collect();
    let mut t = Table::open(path, runs_schema(&params)).map_err(bad)?;
    if !t.take_notes().is_empty() {
        return Err(SweepError::Input(format!(
            "{}:1: its header is not the one this sweep's runs.csv has (a shard of another kadsim)",
            path.display()
        )));
    }
    let width = header(grid).len();
    let mut rows = Vec::new();
    while t.next_row().map_err(bad)? {
        let row: Vec<String> = (0..width).map(|i| t.get(i).unwrap_or_default().to_string()).collect();
        push_row(&mut rows, (t.line(), row), &t).map_err(bad)?;
    }
    Ok(rows)
}

/// The field in which two grids differ, for a message.
fn grid_difference(a: &Grid, b: &Grid) -> &'static str {
    if a.scenario_sha1 != b.scenario_sha1 {
        "scenario_sha1 (the scenario file's bytes)"
    } else if a.file != b.file {
        "file"
    } else if a.set != b.set {
        "set"
    } else if a.params != b.params {
        "params"
    } else if a.replicas != b.replicas {
        "replicas"
    } else {
        "base_seed"
    }
}

/// Joins the shards found in `dirs` (`sweep.shard-I-of-N.json` and
/// `runs.shard-I-of-N.csv`) into a whole sweep in `out`: every run of the grid
/// must be present exactly once. Every record must be of one grid and of the
/// shard its name says; every shard must be there; each `runs.shard` file
/// must hold the rows of its shard's runs, as many as its record says, each
/// of its grid point, replica and seed, and of the run in its directory (the
/// trace hash of its `manifest.json`, when the run directory is there).
pub fn merge(dirs: &[PathBuf], out: &Path, force: bool, style: &Style) -> Result<usize, SweepError> {
    let input = SweepError::Input;
    // Every record first, so that a grid that differs is named as such.
    let mut records: Vec<(PathBuf, PathBuf, Record)> = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(dir).map_err(|e| input(format!("{}: cannot read: {e}", dir.display())))?;
        let mut names: Vec<String> =
            entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        for name in names.iter().filter(|n| n.starts_with("sweep.shard-") && n.ends_with(".json")) {
            let path = dir.join(name);
            let rec = read_record(&path).map_err(|e| input(e.to_string()))?;
            let tag = name.trim_start_matches("sweep.").trim_end_matches(".json");
            let named = match rec.shard {
                Some(s) => format!("shard-{}-of-{}", s.i, s.n) == tag,
                None => false,
            };
            if !named {
                let shard = rec.shard.map_or("null".to_string(), |s| format!("{}/{}", s.i, s.n));
                return Err(input(format!("{}: shard: {shard} is not the shard its name says", path.display())));
            }
            if let Some((first, _, r)) = records.first()
                && r.grid != rec.grid
            {
                return Err(input(format!(
                    "{}: a shard of a different sweep than {} (grid.{} differs)",
                    path.display(),
                    first.display(),
                    grid_difference(&r.grid, &rec.grid)
                )));
            }
            if let Some((other, ..)) = records.iter().find(|(_, _, r)| r.shard == rec.shard) {
                return Err(input(format!(
                    "{}: shard {} twice (also {}): its runs would be merged twice",
                    path.display(),
                    rec.shard.map_or(String::new(), |s| format!("{}/{}", s.i, s.n)),
                    other.display()
                )));
            }
            records.push((path, dir.join(format!("runs.{tag}.csv")), rec));
        }
    }
    let Some((first, _, rec)) = records.first() else {
        return Err(input("no sweep.shard-*.json found in the given directories".into()));
    };
    let (grid, n) = (rec.grid.clone(), rec.shard.map_or(1, |s| s.n));
    let all = grid.runs();
    for (path, _, r) in &records {
        if r.shard.map(|s| s.n) != Some(n) {
            return Err(input(format!(
                "{}: a shard of {} shards, where {} is of {n}",
                path.display(),
                r.shard.map_or(0, |s| s.n),
                first.display()
            )));
        }
    }
    let mut rows: BTreeMap<usize, (String, Vec<String>)> = BTreeMap::new();
    for (path, csv_path, rec) in &records {
        let shard = rec.shard.unwrap_or(Shard { i: 1, n: 1 });
        let owned = all.iter().filter(|r| shard.owns(r.index)).count();
        if rec.runs != owned {
            return Err(input(format!(
                "{}: runs: {} recorded, but shard {}/{} of this grid has {owned} runs",
                path.display(),
                rec.runs,
                shard.i,
                shard.n
            )));
        }
        let shard_rows = read_shard(csv_path, &grid)?;
        let dir = csv_path.parent().unwrap_or(Path::new("."));
        let listed = |k: usize| {
            let runs = if k == 1 { "run" } else { "runs" };
            format!("{k} {runs} listed, but {} records {}: a row lost or added", path.display(), rec.runs)
        };
        for (count, (line, r)) in shard_rows.iter().enumerate() {
            let at = format!("{}:{line}", csv_path.display());
            let bad = |why: String| input(format!("{at}: {why}"));
            if count == rec.runs {
                return Err(bad(listed(count + 1)));
            }
            let spec = all
                .iter()
                .find(|s| s.dir(&grid) == r[0])
                .ok_or_else(|| bad(format!("run {} is not in the grid", r[0])))?;
            let np = grid.params.len();
            if r[1..=np] != spec.values[..]
                || r[np + 1] != spec.replica.to_string()
                || r[np + 2] != spec.seed.to_string()
            {
                return Err(bad(format!("the parameters, replica or seed of run {} differ from the grid's", r[0])));
            }
            if !shard.owns(spec.index) {
                return Err(bad(format!("run {} belongs to another shard than {}/{}", r[0], shard.i, shard.n)));
            }
            let manifest = dir.join(&r[0]).join("manifest.json");
            if manifest.is_file() {
                let m = super::manifest::read(&manifest).map_err(|e| input(e.to_string()))?;
                let hash = r.last().map_or("", String::as_str);
                if m.manifest.trace_hash.0 != hash {
                    return Err(bad(format!(
                        "column trace_hash: {hash}, but {} says {}: a row of another run",
                        manifest.display(),
                        m.manifest.trace_hash.0
                    )));
                }
            }
            if let Some((earlier, _)) = rows.get(&spec.index) {
                return Err(bad(format!("run {} appears twice (first at {earlier})", r[0])));
            }
            rows.insert(spec.index, (at, r.clone()));
        }
        if shard_rows.len() < rec.runs {
            let end = shard_rows.last().map_or(1, |(line, _)| line + 1);
            return Err(input(format!("{}:{end}: {}", csv_path.display(), listed(shard_rows.len()))));
        }
    }
    for i in 1..=n {
        if !records.iter().any(|(_, _, r)| r.shard.is_some_and(|s| s.i == i)) {
            let dir = first.parent().unwrap_or(Path::new("."));
            return Err(input(format!(
                "{}: not found: shard {i} of {n} is missing ({} of {} runs)",
                dir.join(format!("sweep.shard-{i}-of-{n}.json")).display(),
                all.iter().filter(|r| Shard { i, n }.owns(r.index)).count(),
                all.len()
            )));
        }
    }
    // Implied by the checks above; kept so that no gap is ever merged over.
    if let Some(missing) = all.iter().find(|r| !rows.contains_key(&r.index)) {
        return Err(input(format!("run {} is in no shard", missing.dir(&grid))));
    }
    let out = open_out(out, &grid, force)?;
    for n in &out.notes {
        eprintln!("kadsim: note: {n}");
    }
    let rows: Vec<Vec<String>> = rows.into_values().map(|(_, r)| r).collect();
    finish(&grid, &rows, &out, style)?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_seeds_are_splitmix64_and_do_not_overlap() {
        // SplitMix64 seeded with 0 first returns 0xE220A8397B1DCDAF (Vigna's reference splitmix64.c).
        assert_eq!(replica_seed(0, 1), 0xE220_A839_7B1D_CDAF >> 1);
        assert_eq!(replica_seed(42, 0), 42);
        // Sets of 1000 replicas from seeds 1 and 2 share no seed (with seed + r they shared 999).
        let a: std::collections::BTreeSet<u64> = (0..1000).map(|r| replica_seed(1, r)).collect();
        let b: std::collections::BTreeSet<u64> = (0..1000).map(|r| replica_seed(2, r)).collect();
        assert_eq!((a.len(), b.len()), (1000, 1000));
        assert!(a.is_disjoint(&b));
        // Every derived seed fits a TOML integer.
        assert!(a.iter().chain(&b).all(|&s| s <= i64::MAX as u64));
    }

    #[test]
    fn runs_csv_and_aggregate_csv_read_back_under_their_schemas() {
        let dir = std::env::temp_dir().join(format!("kadsim-sweep-schema-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let grid = Grid {
            file: "x.toml".into(),
            set: Vec::new(),
            params: vec!["k=8,20".parse().unwrap()],
            replicas: 2,
            base_seed: 1,
            scenario_sha1: "0".repeat(40),
        };
        let rows: Vec<Vec<String>> = grid
            .runs()
            .iter()
            .map(|r| {
                let mut row = vec![r.dir(&grid), r.values[0].clone(), r.replica.to_string(), r.seed.to_string()];
                row.extend(
                    METRICS.iter().enumerate().map(|(i, _)| if i % 3 == 0 { String::new() } else { "0.5".into() }),
                );
                row.extend(["1234".to_string(), "0123456789abcdef".to_string()]);
                row
            })
            .collect();
        let runs = dir.join("runs.csv");
        write_rows(&runs, &grid, &rows).unwrap();
        let params = vec!["k".to_string()];
        let (n, notes) = crate::files::table::verify(&runs, runs_schema(&params)).unwrap();
        assert_eq!((n, notes.len()), (4, 0));
        let agg = dir.join("aggregate.csv");
        write_aggregate(&agg, &grid, &aggregate(&grid, &rows)).unwrap();
        let (n, notes) = crate::files::table::verify(&agg, schema::aggregate(&params)).unwrap();
        assert!(n > 0 && notes.is_empty());
        // A shard's rows are read with their lines; a text metric is refused with its line and column.
        assert_eq!(read_shard(&runs, &grid).unwrap()[1].0, 3);
        let text = std::fs::read_to_string(&runs).unwrap().replacen(",0.5,", ",abc,", 1);
        std::fs::write(&runs, text).unwrap();
        let e = read_shard(&runs, &grid).unwrap_err().to_string();
        assert!(
            e.ends_with("runs.csv:2: column find_node.hops.mean: expected a finite number or empty, got \"abc\""),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
