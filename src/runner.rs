//! Runs a scenario and writes its result files (DESIGN.md §5): `ops.csv`,
//! `timeseries.csv`, `nodes.csv`, `buckets.csv`, `summary.csv`, with
//! `--trace` `trace.csv` and `messages.csv` (written as the run goes), then
//! `manifest.json`. The directory is written as a whole and owned: the files
//! go into a temporary sibling directory, which takes the destination's place
//! only when every file is complete, and only where kadsim may put it (see
//! [`staging`]): a results directory never mixes two runs, a failed or killed
//! run leaves the previous results as they were, an earlier different run is
//! replaced only with `--force`, and a file kadsim did not write never.

use crate::metrics::trace::{CLOSEST_COLUMNS, MESSAGE_COLUMNS, RPC_COLUMNS, TraceWriter};
use crate::metrics::writer::{write_csv, write_json, write_summary};
use crate::metrics::{BucketRow, NodeRow, OpRecord, SampleRow};
use crate::scenario::{BootstrapMode, ChurnModel, Scenario};
use crate::sim::churn::read_trace;
use crate::sim::trace::TraceSpec;
use crate::sim::world::{Population, World};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod staging;
pub mod threads;
pub use staging::Replace;
use staging::{RunIdentity, StageError, Staged};
pub use threads::Threads;

/// What the runner reports while it works. The simulation never reads it.
pub trait Progress {
    /// Called every few thousand events with the simulated time and events so far.
    fn tick(&mut self, now_us: u64, end_us: u64, events: u64);
    /// Wall-clock time since the run started, for the manifest only.
    fn elapsed(&self) -> Duration;
}

/// A progress sink that shows nothing and reports no wall time.
pub struct Silent;

impl Progress for Silent {
    fn tick(&mut self, _: u64, _: u64, _: u64) {}
    fn elapsed(&self) -> Duration {
        Duration::ZERO
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The churn trace is malformed (bad input, exit code 2).
    #[error("{0}")]
    Trace(String),
    /// The destination exists and is not a results directory (exit code 2).
    #[error("{0}")]
    Destination(String),
    /// A result file could not be written (exit code 3).
    #[error("cannot write {path}: {err}")]
    Output {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        err: std::io::Error,
    },
}

/// The manifest of a run: what was run, by which build, from which command,
/// and what came of it.
#[derive(Serialize)]
struct Manifest<'a> {
    kadsim_version: &'static str,
    /// The git commit kadsim was built from (`-dirty` with local changes).
    git_commit: &'static str,
    /// SHA-1 of the sources kadsim was built from (build.rs): a run is the
    /// same run as another only if this, the scenario and the seed agree.
    source_sha1: &'static str,
    /// When the run finished, UTC (`2026-12-07T10:32:05Z`): wall-clock time,
    /// for the reader only, like `wall_time_s`.
    finished_at: String,
    /// The command line that started the run.
    command_line: Vec<String>,
    scenario: &'a Scenario,
    seed: u64,
    /// Things about this run a reader should know before trusting it.
    warnings: &'a [String],
    /// The network's effective size: by state, at the end of the warm-up and at the end.
    population: Populations,
    events: u64,
    trace_hash: String,
    wall_time_s: f64,
    setup_time_s: f64,
    events_per_s: f64,
    /// Worker threads (the outputs do not depend on it).
    threads: usize,
    /// Who chose `threads`: `--threads`, or the default's rule with its
    /// numbers ([`threads`]).
    threads_chosen_by: &'a str,
    node_memory_bytes_mean: f64,
    /// How the events fell into windows of `network.min_latency`, and which
    /// windows the worker threads shared (docs/performance.md).
    windows: &'a crate::sim::windows::Windows,
    /// The trace's settings (`--trace`), when the run wrote one.
    trace: Option<&'a TraceSpec>,
    files: Vec<String>,
}

/// The population at the two moments a reader asks about.
#[derive(Serialize)]
struct Populations {
    at_warmup: Option<Population>,
    at_end: Population,
}

/// Summary of a finished run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Events processed.
    pub events: u64,
    /// Hash of the event trace.
    pub trace_hash: String,
    /// Where the files are.
    pub dir: PathBuf,
    /// Warnings (also in the manifest), one line each: first the scenario's
    /// own ([`crate::scenario::warnings`]), then what the run found.
    pub warnings: Vec<String>,
    /// The rows of `summary.csv`.
    pub summary: Vec<(String, String)>,
    /// What the user should know about where the results went: leftovers of
    /// interrupted runs settled, results kept apart from a changed destination.
    pub notes: Vec<String>,
    /// The destination held the same run, which this one replaced in place.
    pub replaced_same: bool,
    /// How the events fell into windows, and which the workers shared.
    pub windows: crate::sim::windows::Windows,
    /// Worker threads the run used.
    pub threads: usize,
}

/// The git commit this binary was built from.
pub const GIT_COMMIT: &str = env!("KADSIM_GIT_COMMIT");

/// SHA-1 of the sources this binary was built from (build.rs).
pub const SOURCE_SHA1: &str = env!("KADSIM_SOURCE_SHA1");

/// `secs` after the Unix epoch as a UTC date and time, `2026-12-07T10:32:05Z`
/// (the proleptic Gregorian calendar, by Hinnant's days-to-civil algorithm).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The identity of a run of `sc` with the trace `spec` by this build: what an
/// earlier run in the destination must match to be replaced without `--force`.
pub fn identity(sc: &Scenario, spec: Option<&TraceSpec>) -> RunIdentity {
    RunIdentity {
        scenario: serde_json::to_value(sc.effective()).unwrap_or_default(),
        source_sha1: SOURCE_SHA1.to_string(),
        trace: serde_json::to_value(spec).unwrap_or_default(),
    }
}

/// The files a run writes, by name.
fn run_files(spec: Option<&TraceSpec>) -> Vec<String> {
    ["ops.csv", "timeseries.csv", "nodes.csv", "buckets.csv", "summary.csv", "manifest.json"]
        .into_iter()
        .map(String::from)
        .chain(spec.map(TraceSpec::files).unwrap_or_default())
        .collect()
}

/// Simulated time between two progress ticks.
const TICK_US: u64 = 1_000_000;

/// The cores the process may use. A run's default threads follow
/// [`Threads::default_for`], which takes all of them only for scenarios
/// busy enough to gain from it.
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `sc` on `threads` threads and writes its results to `dir`, where an
/// earlier run is replaced only by the same run ([`Replace::IfIdentical`]).
/// The results are the same for any number of threads.
pub fn run(
    sc: &Scenario,
    dir: &Path,
    progress: &mut dyn Progress,
    threads: impl Into<Threads>,
) -> Result<Outcome, RunError> {
    run_traced(sc, dir, progress, threads, None, Replace::IfIdentical)
}

/// As [`run`], also writing the trace `trace` asks for (`trace.csv`,
/// `messages.csv`, docs/tracing.md; the other files are the same as without
/// it), replacing an earlier run in `dir` as `replace` allows.
pub fn run_traced(
    sc: &Scenario,
    dir: &Path,
    progress: &mut dyn Progress,
    threads: impl Into<Threads>,
    trace: Option<&TraceSpec>,
    replace: Replace,
) -> Result<Outcome, RunError> {
    let chosen: Threads = threads.into();
    let threads = chosen.n;
    let spec = trace;
    let trace = match (&sc.churn.model, &sc.churn.trace) {
        (ChurnModel::Trace, Some(path)) => read_trace(path, sc.nodes).map_err(|e| RunError::Trace(e.to_string()))?,
        _ => Vec::new(),
    };
    let staged = Staged::begin(dir, identity(sc, spec), &run_files(spec), replace).map_err(|e| match e {
        StageError::Refused(msg) => RunError::Destination(msg),
        StageError::Io(path, err) => RunError::Output { path, err },
    })?;
    let mut world = World::traced(sc, trace, threads, spec);
    let mut writers = TraceFiles::create(spec, staged.dir())?;
    let setup = progress.elapsed().as_secs_f64();
    let end = world.end();
    let mut t = 0;
    loop {
        t = (t + TICK_US).min(end);
        let more = world.run_until(t);
        writers.write(&mut world)?;
        progress.tick(world.now(), end, world.events());
        if !more || t >= end {
            break;
        }
    }
    let stats = world.finish();
    writers.write(&mut world)?;
    writers.finish()?;
    progress.tick(end, end, stats.events);
    let wall = progress.elapsed().as_secs_f64();

    // The scenario's own warnings, then what the run found: nodes still
    // joining when the warm-up ended (unless the scenario's warning said so).
    let mut warnings = crate::scenario::warnings(sc);
    let at_warmup = world.population_at_warmup();
    let at_end = world.population();
    if !warnings.iter().any(|w| w.starts_with("bootstrap.join_rate")) {
        warnings.extend(unfinished_joins(sc, at_warmup));
    }

    let out = |p: &Path, err| RunError::Output { path: p.to_path_buf(), err };
    let file = |name: &str| staged.dir().join(name);
    let p = file("ops.csv");
    write_csv(&p, &world.recorder().ops, &OpRecord::header_row()).map_err(|e| out(&p, e))?;
    let p = file("timeseries.csv");
    write_csv(&p, &world.recorder().samples, &SampleRow::default()).map_err(|e| out(&p, e))?;
    let p = file("nodes.csv");
    write_csv(&p, world.node_rows(), NodeRow::default()).map_err(|e| out(&p, e))?;
    let p = file("buckets.csv");
    write_csv(&p, world.bucket_rows(), BucketRow::default()).map_err(|e| out(&p, e))?;
    let p = file("summary.csv");
    let mut summary = vec![
        ("nodes".to_string(), sc.nodes.to_string()),
        ("duration_s".to_string(), format!("{}", sc.duration.as_secs_f64())),
        ("warmup_s".to_string(), format!("{}", sc.warmup.as_secs_f64())),
        ("events".to_string(), stats.events.to_string()),
    ];
    summary.extend(size_rows(sc, &world, at_warmup, at_end));
    summary.extend(world.recorder().summary());
    if let Some(last) = world.recorder().samples.last() {
        summary.push(("end.alive".into(), last.alive.to_string()));
        summary.push(("end.rt_size.mean".into(), format!("{:.6}", last.rt_size_mean)));
        summary.push(("end.stored_pairs".into(), last.stored_pairs.to_string()));
    }
    // Last, so that readers of the older rows by position keep working.
    summary.extend(world.recorder().adversary_summary());
    summary.extend(world.adversary_summary());
    // The churn study's (issue 21), after the adversary's.
    summary.extend(world.recorder().churn_summary());
    // Reachability's (issue 24), last.
    summary.extend(world.recorder().reach_summary());
    // Node classes' (issue 24), after everything else: `class.NAME.*`.
    summary.extend(world.class_summary());
    write_summary(&p, &summary).map_err(|e| out(&p, e))?;
    let effective = sc.effective();
    let manifest = Manifest {
        kadsim_version: env!("CARGO_PKG_VERSION"),
        git_commit: GIT_COMMIT,
        source_sha1: SOURCE_SHA1,
        finished_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or_else(|_| String::new(), |d| utc(d.as_secs())),
        command_line: std::env::args().collect(),
        scenario: &effective,
        seed: sc.seed,
        warnings: &warnings,
        population: Populations { at_warmup, at_end },
        events: stats.events,
        trace_hash: stats.trace_hash.clone(),
        wall_time_s: wall,
        setup_time_s: setup,
        // Over the event loop only, not the set-up (tables filled by the oracle).
        events_per_s: if wall > setup { stats.events as f64 / (wall - setup) } else { 0.0 },
        threads,
        threads_chosen_by: &chosen.chosen_by,
        node_memory_bytes_mean: world.node_memory_bytes(),
        windows: &stats.windows,
        trace: spec,
        files: run_files(spec).into_iter().filter(|f| f != "manifest.json").collect(),
    };
    let p = file("manifest.json");
    write_json(&p, &manifest).map_err(|e| out(&p, e))?;
    let placed = staged.commit(&stats.trace_hash).map_err(|e| match e {
        StageError::Refused(msg) => RunError::Destination(msg),
        StageError::Io(path, err) => RunError::Output { path, err },
    })?;
    Ok(Outcome {
        events: stats.events,
        trace_hash: stats.trace_hash,
        dir: placed.dir,
        warnings,
        summary,
        notes: placed.notes,
        replaced_same: placed.in_place,
        windows: stats.windows,
        threads,
    })
}

/// `summary.csv` rows on the network's effective size: the scenario's
/// `nodes` counts node slots, which may never all be up at once.
fn size_rows(sc: &Scenario, world: &World, at_warmup: Option<Population>, at_end: Population) -> Vec<(String, String)> {
    let measured_s = sc.duration.as_secs_f64() - sc.warmup.as_secs_f64();
    let alive_mean = world
        .recorder()
        .node_seconds_after_warmup()
        .filter(|_| measured_s > 0.0)
        .map_or(String::new(), |ns| format!("{:.3}", ns / measured_s));
    vec![
        ("nodes.ever_up".into(), (sc.nodes - at_end.never_up).to_string()),
        ("nodes.joined_at_warmup".into(), at_warmup.map_or(String::new(), |p| p.joined.to_string())),
        ("alive.mean".into(), alive_mean),
    ]
}

/// A warning when nodes that should have joined during the warm-up had not
/// finished joining when it ended: the measured network is then smaller, and
/// still growing, than the scenario's `nodes` says.
fn unfinished_joins(sc: &Scenario, at_warmup: Option<Population>) -> Option<String> {
    let p = at_warmup?;
    if sc.warmup.0 == 0 || sc.bootstrap.mode != BootstrapMode::Join || sc.churn.model != ChurnModel::None {
        return None;
    }
    let unfinished = p.joining + p.never_up;
    (unfinished > 0).then(|| {
        format!(
            "only {} of {} nodes had joined when the warm-up ended at {} s ({} still joining, {} not yet arrived): \
             operations are measured on a network still growing; lengthen warmup or raise bootstrap.join_rate",
            p.joined,
            sc.nodes,
            sc.warmup.as_secs_f64(),
            p.joining,
            p.never_up
        )
    })
}

/// The trace files of a run, written as the rows come.
struct TraceFiles {
    rpcs: Option<TraceWriter>,
    closest: Option<TraceWriter>,
    messages: Option<TraceWriter>,
}

impl TraceFiles {
    /// Starts the files `spec` asks for in `dir` (none without a spec).
    fn create(spec: Option<&TraceSpec>, dir: &Path) -> Result<TraceFiles, RunError> {
        let open = |on: bool, name: &str, columns: &[&str]| -> Result<Option<TraceWriter>, RunError> {
            match spec.filter(|_| on) {
                Some(s) => TraceWriter::create(dir, name, columns, s.gzip)
                    .map(Some)
                    .map_err(|err| RunError::Output { path: dir.join(name), err }),
                None => Ok(None),
            }
        };
        Ok(TraceFiles {
            rpcs: open(spec.is_some_and(|s| s.ops), "trace.csv", &RPC_COLUMNS)?,
            closest: open(spec.is_some_and(|s| s.ops), "closest.csv", &CLOSEST_COLUMNS)?,
            messages: open(spec.is_some_and(|s| s.messages), "messages.csv", &MESSAGE_COLUMNS)?,
        })
    }

    /// Writes the rows the world made since the last call.
    fn write(&mut self, world: &mut World) -> Result<(), RunError> {
        let rows = world.take_trace();
        let fail = |w: &TraceWriter, err| RunError::Output { path: w.path().to_path_buf(), err };
        if let Some(w) = &mut self.rpcs {
            w.write(rows.rpcs).map_err(|e| fail(w, e))?;
        }
        if let Some(w) = &mut self.closest {
            w.write(rows.closest).map_err(|e| fail(w, e))?;
        }
        if let Some(w) = &mut self.messages {
            w.write(rows.messages).map_err(|e| fail(w, e))?;
        }
        Ok(())
    }

    /// Completes the files.
    fn finish(self) -> Result<(), RunError> {
        for w in [self.rpcs, self.closest, self.messages].into_iter().flatten() {
            let path = w.path().to_path_buf();
            w.finish().map_err(|err| RunError::Output { path, err })?;
        }
        Ok(())
    }
}
