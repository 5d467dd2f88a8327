//! `kadsim sweep` and `kadsim merge`: a scenario run over a grid of parameter
//! values (from `--param` or the scenario file's `[study]`), each point
//! several times (replicas), in parallel; then one row per run (`runs.csv`),
//! means with 95% intervals per grid point (`aggregate.csv`), charts of the
//! chosen metrics against each parameter (`charts/`), and the sweep's record
//! (`sweep.json`). A sweep directory is redrawn and reported on from those
//! three files alone ([`redraw`]).
//!
//! Replica 0 of every grid point runs with the base seed itself and replica
//! r ≥ 1 with [`replica_seed`]`(base, r)`, a SplitMix64 mix of (base, r): the
//! points share their random streams (common random numbers), so differences
//! between points come from the parameters, not from the draws, while two
//! sweeps from different base seeds share no run (with `base + r`, seeds 1..5
//! and 2..6 shared four). Each run is deterministic and
//! the rows are written in grid order, so the files are identical whatever the
//! number of threads (`--jobs`) or shards (`--shard I/N`, joined by `merge`).
//!
//! The parts: [`grid`] (parameters, runs, seeds, shards), [`run`] (running
//! the grid into its directory, with progress), [`aggregate`] (means and
//! intervals), [`metrics`] (what is recorded and charted, and how it is
//! named), [`charts`] (the charts), [`merge`](mod@merge) (joining shards), [`redraw`]
//! (charts and `report.md` of a sweep directory) and [`table`] (the
//! closing table on the terminal).

pub mod aggregate;
pub mod charts;
pub mod grid;
pub mod listed;
pub mod merge;
pub mod metrics;
pub mod redraw;
pub mod run;
pub mod table;

pub use grid::{Grid, MAX_REPLICAS, Param, RunSpec, Shard, replica_seed};
pub use merge::merge;
pub use metrics::{METRICS, Naming, axis_label};
pub use run::{NoProgress, SweepProgress, open_out, sweep};

use crate::files::ReadError;
use crate::files::json::read_json;
use crate::files::owned::OwnError;
use crate::files::schema;
use crate::runner;
use crate::scenario::ScenarioError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The record of a sweep (or of one shard of it): `sweep.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The kadsim that ran it.
    pub kadsim_version: String,
    /// SHA-1 of the sources of the kadsim that ran it (absent before kadsim
    /// recorded it): a sweep is replaced without `--force` only by the same
    /// grid from the same sources.
    #[serde(default)]
    pub source_sha1: Option<String>,
    /// The grid.
    pub grid: Grid,
    /// The shard, for a shard's record.
    pub shard: Option<Shard>,
    /// Runs recorded (the shard's, for a shard).
    pub runs: usize,
    /// How the charts are chosen and named (absent: the defaults).
    #[serde(default, skip_serializing_if = "is_default")]
    pub charts: Naming,
}

fn is_default(n: &Naming) -> bool {
    *n == Naming::default()
}

impl Record {
    /// The record of `grid` (or of its `shard`) with `runs` runs.
    pub fn new(grid: &Grid, shard: Option<Shard>, runs: usize, charts: &Naming) -> Record {
        Record {
            kadsim_version: env!("CARGO_PKG_VERSION").into(),
            source_sha1: Some(runner::SOURCE_SHA1.into()),
            grid: grid.clone(),
            shard,
            runs,
            charts: charts.clone(),
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

impl From<OwnError> for SweepError {
    fn from(e: OwnError) -> Self {
        match e {
            OwnError::Io { .. } => SweepError::Internal(e.to_string()),
            other => SweepError::Input(other.to_string()),
        }
    }
}

impl From<crate::report::chart::SaveError> for SweepError {
    fn from(e: crate::report::chart::SaveError) -> Self {
        match e {
            crate::report::chart::SaveError::Own(e) => e.into(),
            other => SweepError::Internal(other.to_string()),
        }
    }
}

impl SweepError {
    /// Exit code: 2 for bad input, 3 for an internal error.
    pub fn exit_code(&self) -> u8 {
        match self {
            SweepError::Input(_) => 2,
            SweepError::Internal(_) => 3,
        }
    }
}

/// A failed write of `path`.
pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> SweepError {
    SweepError::Internal(format!("cannot write {}: {e}", path.display()))
}

/// The schema of `runs.csv` (and of its shards) of a sweep over `params`.
pub fn runs_schema(params: &[String]) -> schema::Schema {
    let mut s = schema::runs(params, &METRICS.map(|(m, _)| m));
    for c in s.columns.iter_mut().filter(|c| metrics::LATER.contains(&c.name.as_ref())) {
        c.later = true;
    }
    s
}

/// The `runs.csv` header of `grid`.
pub fn header(grid: &Grid) -> Vec<String> {
    let params: Vec<String> = grid.params.iter().map(|p| p.name.clone()).collect();
    runs_schema(&params).names().into_iter().map(String::from).collect()
}

/// The largest `sweep.json` read (a real one is a few kilobytes).
const MAX_RECORD: u64 = 16 << 20;

/// Reads a sweep's (or a shard's) `sweep.json` strictly.
pub fn read_record(path: &Path) -> Result<Record, ReadError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
                // A value of each column's type: counts are whole numbers.
                let whole = |m: &str| schema::metric_column(m).is_some_and(|c| matches!(c.ty, schema::Ty::Uint(_)));
                row.extend(METRICS.iter().enumerate().map(|(i, (m, _))| match (i % 3, whole(m)) {
                    (0, _) => String::new(),
                    (_, true) => "3".into(),
                    _ => "0.5".into(),
                }));
                row.extend(["1234".to_string(), "0123456789abcdef".to_string()]);
                row
            })
            .collect();
        let runs = dir.join("runs.csv");
        run::write_rows(&runs, &grid, &rows).unwrap();
        let params = vec!["k".to_string()];
        let (n, notes) = crate::files::table::verify(&runs, runs_schema(&params)).unwrap();
        assert_eq!((n, notes.len()), (4, 0));
        assert_eq!(header(&grid).len(), rows[0].len());
        let agg = dir.join("aggregate.csv");
        let cells = aggregate::aggregate(&grid, &rows);
        aggregate::write_aggregate(&agg, &grid, &cells).unwrap();
        let (n, notes) = crate::files::table::verify(&agg, schema::aggregate(&params)).unwrap();
        assert!(n > 0 && notes.is_empty());
        let header_line = std::fs::read_to_string(&agg).unwrap().lines().next().unwrap().to_string();
        assert_eq!(header_line, "k,metric,n,mean,sd,ci95_low,ci95_high,ci95_method");
        // Read back strictly, the cells are the ones written (to the 6 decimals written).
        let (back, notes) = aggregate::read_aggregate(&agg, &grid).unwrap();
        assert!(notes.is_empty());
        assert_eq!(back.len(), cells.len());
        assert!(back.iter().zip(&cells).all(|(a, b)| a.metric == b.metric && (a.mean - b.mean).abs() < 1e-6));
        // A shard's rows are read with their lines; a text metric is refused with its line and column.
        assert_eq!(merge::read_shard(&runs, &grid).unwrap()[1].0, 3);
        let text = std::fs::read_to_string(&runs).unwrap().replacen(",0.5,", ",abc,", 1);
        std::fs::write(&runs, text).unwrap();
        let e = merge::read_shard(&runs, &grid).unwrap_err().to_string();
        assert!(
            e.ends_with("runs.csv:2: column find_node.hops.mean: expected a finite number or empty, got \"abc\""),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
