//! Runs a scenario and writes its result files (DESIGN.md §5): `ops.csv`,
//! `timeseries.csv`, `nodes.csv`, `buckets.csv`, `summary.csv`, then `manifest.json`. Each
//! file is written under a temporary name and renamed when whole; the manifest
//! comes last, so its presence means the run is complete.

use crate::metrics::writer::{write_csv, write_json, write_summary};
use crate::scenario::{ChurnModel, Scenario};
use crate::sim::churn::read_trace;
use crate::sim::world::World;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// A result file could not be written (exit code 3).
    #[error("cannot write {path}: {err}")]
    Output {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        err: std::io::Error,
    },
}

/// The manifest of a run.
#[derive(Serialize)]
struct Manifest<'a> {
    kadsim_version: &'static str,
    scenario: &'a Scenario,
    seed: u64,
    events: u64,
    trace_hash: String,
    wall_time_s: f64,
    setup_time_s: f64,
    events_per_s: f64,
    /// Worker threads (the outputs do not depend on it).
    threads: usize,
    node_memory_bytes_mean: f64,
    files: [&'static str; 5],
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
}

/// Simulated time between two progress ticks.
const TICK_US: u64 = 1_000_000;

/// The threads a run uses by default: every core the process may use.
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `sc` on `threads` threads and writes its results to `dir`. The
/// results are the same for any number of threads.
pub fn run(sc: &Scenario, dir: &Path, progress: &mut dyn Progress, threads: usize) -> Result<Outcome, RunError> {
    let trace = match (&sc.churn.model, &sc.churn.trace) {
        (ChurnModel::Trace, Some(path)) => read_trace(path, sc.nodes).map_err(|e| RunError::Trace(e.to_string()))?,
        _ => Vec::new(),
    };
    let out = |p: &Path, err| RunError::Output { path: p.to_path_buf(), err };
    std::fs::create_dir_all(dir).map_err(|e| out(dir, e))?;
    let mut world = World::with_threads(sc, trace, threads);
    let setup = progress.elapsed().as_secs_f64();
    let end = world.end();
    let mut t = 0;
    loop {
        t = (t + TICK_US).min(end);
        let more = world.run_until(t);
        progress.tick(world.now(), end, world.events());
        if !more || t >= end {
            break;
        }
    }
    let stats = world.finish();
    progress.tick(end, end, stats.events);
    let wall = progress.elapsed().as_secs_f64();

    let file = |name: &str| dir.join(name);
    let p = file("ops.csv");
    write_csv(&p, &world.recorder().ops).map_err(|e| out(&p, e))?;
    let p = file("timeseries.csv");
    write_csv(&p, &world.recorder().samples).map_err(|e| out(&p, e))?;
    let p = file("nodes.csv");
    write_csv(&p, world.node_rows()).map_err(|e| out(&p, e))?;
    let p = file("buckets.csv");
    write_csv(&p, world.bucket_rows()).map_err(|e| out(&p, e))?;
    let p = file("summary.csv");
    let mut summary = vec![
        ("nodes".to_string(), sc.nodes.to_string()),
        ("duration_s".to_string(), format!("{}", sc.duration.as_secs_f64())),
        ("warmup_s".to_string(), format!("{}", sc.warmup.as_secs_f64())),
        ("events".to_string(), stats.events.to_string()),
    ];
    summary.extend(world.recorder().summary());
    if let Some(last) = world.recorder().samples.last() {
        summary.push(("end.alive".into(), last.alive.to_string()));
        summary.push(("end.rt_size.mean".into(), format!("{:.6}", last.rt_size_mean)));
        summary.push(("end.stored_pairs".into(), last.stored_pairs.to_string()));
    }
    write_summary(&p, &summary).map_err(|e| out(&p, e))?;
    let manifest = Manifest {
        kadsim_version: env!("CARGO_PKG_VERSION"),
        scenario: sc,
        seed: sc.seed,
        events: stats.events,
        trace_hash: stats.trace_hash.clone(),
        wall_time_s: wall,
        setup_time_s: setup,
        // Over the event loop only, not the set-up (tables filled by the oracle).
        events_per_s: if wall > setup { stats.events as f64 / (wall - setup) } else { 0.0 },
        threads,
        node_memory_bytes_mean: world.node_memory_bytes(),
        files: ["ops.csv", "timeseries.csv", "nodes.csv", "buckets.csv", "summary.csv"],
    };
    let p = file("manifest.json");
    write_json(&p, &manifest).map_err(|e| out(&p, e))?;
    Ok(Outcome { events: stats.events, trace_hash: stats.trace_hash, dir: dir.to_path_buf() })
}
