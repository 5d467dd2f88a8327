//! A sweep directory read back and drawn again: `kadsim plot DIR` redraws its
//! charts (in any format and size, chosen and named anew) and `kadsim report
//! DIR` writes its `report.md`, without running anything. Only the sweep's
//! own files are read (`sweep.json`, `runs.csv`, `aggregate.csv`; the run
//! directories may be elsewhere, as after a merge of shards run on other
//! machines), each strictly, and against one another: `runs.csv` holds the
//! grid's runs in grid order, as many as `sweep.json` records, and
//! `aggregate.csv` the statistics those rows give.

use super::aggregate::{self, Cell};
use super::grid::Grid;
use super::metrics::{self, Naming};
use super::{Record, SweepError, charts, read_record, runs_schema, table};
use crate::files::owned::{Out, Source};
use crate::files::table::Table;
use crate::metrics::writer::AtomicFile;
use crate::report::chart::Style;
use crate::report::replica_charts;
use crate::report::results::Results;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A sweep read back from its directory.
#[derive(Debug)]
pub struct SweepDir {
    /// The directory.
    pub dir: PathBuf,
    /// Its `sweep.json`.
    pub record: Record,
    /// Its `aggregate.csv`.
    pub cells: Vec<Cell>,
    /// What was read leniently (an older sweep's files), one line each.
    pub notes: Vec<String>,
}

/// Whether `dir` is a sweep's output directory: it holds `sweep.json`, or
/// the records of shards (`sweep.shard-*.json`) not merged yet.
pub fn is_sweep_dir(dir: &Path) -> bool {
    dir.join("sweep.json").is_file() || shard_records(dir) > 0
}

/// How many shard records `dir` holds.
fn shard_records(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |it| {
        it.filter_map(Result::ok)
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.starts_with("sweep.shard-") && n.ends_with(".json")
            })
            .count()
    })
}

/// Reads the sweep in `dir`: `sweep.json`, then `runs.csv` and `aggregate.csv`
/// strictly and against each other.
pub fn read(dir: &Path) -> Result<SweepDir, SweepError> {
    let bad = |e: crate::files::ReadError| SweepError::Input(e.to_string());
    let record_path = dir.join("sweep.json");
    if !record_path.is_file() {
        return Err(SweepError::Input(format!(
            "{}: the shards of a sweep, not merged yet (no sweep.json): join them with kadsim merge {} first",
            dir.display(),
            dir.display()
        )));
    }
    let record = read_record(&record_path).map_err(bad)?;
    if let Some(s) = record.shard {
        return Err(SweepError::Input(format!(
            "{}: the record of shard {}/{}, not of a whole sweep",
            record_path.display(),
            s.i,
            s.n
        )));
    }
    let grid = &record.grid;
    grid.check().map_err(|e| SweepError::Input(format!("{}: grid: {e}", record_path.display())))?;
    let (rows, mut notes) = read_runs(dir, &record)?;
    let (cells, more) = aggregate::read_aggregate(&dir.join("aggregate.csv"), grid).map_err(bad)?;
    notes.extend(more);
    // aggregate.csv holds what runs.csv gives: each point's count and mean.
    let again = aggregate::aggregate(grid, &rows);
    let agg = dir.join("aggregate.csv");
    for c in &again {
        let found = cells.iter().find(|a| a.values == c.values && a.metric == c.metric);
        let same = found.is_some_and(|a| a.n == c.n && (a.mean - c.mean).abs() <= 1e-6 * c.mean.abs().max(1.0));
        if !same {
            return Err(SweepError::Input(format!(
                "{}: {} at {}: {} (runs.csv gives n = {}, mean {:.6}): the files are of different sweeps, or edited",
                agg.display(),
                c.metric,
                c.values.join(", "),
                found.map_or("missing".to_string(), |a| format!("n = {}, mean {:.6}", a.n, a.mean)),
                c.n,
                c.mean
            )));
        }
    }
    if let Some(extra) = cells.iter().find(|a| !again.iter().any(|c| c.values == a.values && c.metric == a.metric)) {
        return Err(SweepError::Input(format!(
            "{}: {} at {} has no value in runs.csv: the files are of different sweeps, or edited",
            agg.display(),
            extra.metric,
            extra.values.join(", ")
        )));
    }
    Ok(SweepDir { dir: dir.to_path_buf(), record, cells, notes })
}

/// The rows of `runs.csv`, checked whole: the grid's runs in grid order
/// (directory, values, replica and seed), as many as the record says.
fn read_runs(dir: &Path, record: &Record) -> Result<(Vec<Vec<String>>, Vec<String>), SweepError> {
    let bad = |e: crate::files::ReadError| SweepError::Input(e.to_string());
    let grid = &record.grid;
    let params: Vec<String> = grid.params.iter().map(|p| p.name.clone()).collect();
    let path = dir.join("runs.csv");
    let schema = runs_schema(&params);
    let width = schema.columns.len();
    let mut t = Table::open(&path, schema).map_err(bad)?;
    let notes = t.take_notes();
    let all = grid.runs();
    let listed =
        |n: usize| format!("{n} runs listed, but {} records {}", dir.join("sweep.json").display(), record.runs);
    let mut rows = Vec::new();
    while t.next_row().map_err(bad)? {
        let row: Vec<String> = (0..width).map(|i| t.get(i).unwrap_or_default().to_string()).collect();
        let Some(spec) = all.get(rows.len()).filter(|_| rows.len() < record.runs) else {
            return Err(bad(t.error(listed(rows.len() + 1))));
        };
        let np = params.len();
        let want: Vec<String> = [vec![spec.dir(grid)], spec.values.clone(), vec![spec.replica.to_string()]].concat();
        if row[..np + 2] != want[..] || row[np + 2] != spec.seed.to_string() {
            return Err(bad(t.error(format!(
                "run {}: expected run {} of the grid ({}, replica {}, seed {}) here",
                row[0],
                spec.dir(grid),
                spec.values.join(", "),
                spec.replica,
                spec.seed
            ))));
        }
        rows.push(row);
    }
    if rows.len() != record.runs || record.runs != all.len() {
        let line = t.line() + 1;
        return Err(bad(crate::files::ReadError::at(&path, Some(line), listed(rows.len()))));
    }
    Ok((rows, notes))
}

impl SweepDir {
    /// The source the sweep's files are recorded under.
    fn source(&self) -> Source {
        self.record.grid.source_of(self.record.source_sha1.as_deref())
    }

    /// The naming of the charts: the record's, overridden by `over`, checked.
    fn naming(&self, over: &Naming) -> Result<Naming, SweepError> {
        let naming = self.record.charts.overridden_by(over);
        naming.check(&self.record.grid).map_err(SweepError::Input)?;
        Ok(naming)
    }

    /// The charts, drawn into `out` (the sweep's `charts/` when `None`);
    /// returns the files written and notes for the user.
    pub fn plot(
        &self,
        out: Option<&Path>,
        force: bool,
        style: &Style,
        over: &Naming,
    ) -> Result<(Vec<PathBuf>, Vec<String>), SweepError> {
        let naming = self.naming(over)?;
        let mut drawn = charts::charts(&self.record.grid, &self.cells, &naming);
        let (replicas, mut told) = self.replica_charts(over)?;
        drawn.extend(replicas);
        if drawn.is_empty() && self.record.grid.points().len() == 1 {
            return Err(SweepError::Input(format!(
                "{}: a sweep of one grid point (a replica set) whose runs are not here has no chart to draw \
                 (its replica charts read the runs listed in runs.csv); kadsim report {} tabulates it",
                self.dir.display(),
                self.dir.display()
            )));
        }
        if drawn.is_empty() {
            return Err(SweepError::Input(format!(
                "{}: no chart to draw: no metric of --metrics has a value at any grid point",
                self.dir.display()
            )));
        }
        let target = match out {
            Some(o) => Out::open(o, self.source(), force)?,
            None => {
                let top = Out::open(&self.dir, self.source(), force)?;
                let mut sub = top.subdir("charts")?;
                sub.notes = top.notes;
                sub
            }
        };
        let files = crate::report::chart::save_all(&drawn, &target, style)?;
        told.extend(target.notes.iter().cloned());
        Ok((files, told))
    }

    /// The charts of a sweep of one grid point, a replica set: each
    /// replica-set chart (`report::replica_charts`), from the runs that
    /// `runs.csv` lists, with notes for the user; none for a sweep of several
    /// points, when `over` chooses metrics (the charts against a parameter are
    /// asked for), or when the runs are not here (a merge of shards run
    /// elsewhere: a note says so).
    fn replica_charts(&self, over: &Naming) -> Result<(replica_charts::Charts, Vec<String>), SweepError> {
        if self.record.grid.points().len() != 1 || over.metrics.is_some() {
            return Ok((Vec::new(), Vec::new()));
        }
        let listed = super::listed::listed_runs(&self.dir, &self.dir.join("runs.csv"));
        let dirs = match listed.and_then(|d| if d.is_empty() { Err("runs.csv lists no run".into()) } else { Ok(d) }) {
            Ok(d) => d,
            Err(e) => return Ok((Vec::new(), vec![format!("no replica charts: {e}")])),
        };
        let mut runs = Vec::with_capacity(dirs.len());
        for d in &dirs {
            runs.push(Results::read(d).map_err(|e| SweepError::Input(e.to_string()))?);
        }
        let label = self.dir.file_name().map_or_else(|| self.dir.display().to_string(), |n| n.to_string_lossy().into());
        Ok((replica_charts::charts(&[replica_charts::Set { label, runs: &runs }]), Vec::new()))
    }

    /// `report.md` in the sweep's directory, with its charts drawn afresh in
    /// `charts/`; returns its path and notes for the user.
    pub fn report(&self, force: bool, style: &Style, over: &Naming) -> Result<(PathBuf, Vec<String>), SweepError> {
        let naming = self.naming(over)?;
        let top = Out::open(&self.dir, self.source(), force)?;
        let path = top.claim("report.md")?;
        let mut drawn = charts::charts(&self.record.grid, &self.cells, &naming);
        let (replicas, mut told) = self.replica_charts(over)?;
        drawn.extend(replicas);
        if !drawn.is_empty() {
            let sub = top.subdir("charts")?;
            crate::report::chart::save_all(&drawn, &sub, style)?;
        }
        let stems: Vec<(String, String)> = drawn.iter().map(|(s, c)| (s.clone(), c.title.clone())).collect();
        let text = self.render(&naming, &stems, style);
        let fail = |e: std::io::Error| SweepError::Internal(format!("cannot write {}: {e}", path.display()));
        let mut f = AtomicFile::create(&path).map_err(fail)?;
        f.write_all(text.as_bytes()).map_err(fail)?;
        f.finish().map_err(fail)?;
        told.extend(top.notes.iter().cloned());
        Ok((path, told))
    }

    /// The text of `report.md`: what was swept, the results per grid point,
    /// the charts (the stems drawn, with their titles as captions).
    pub fn render(&self, naming: &Naming, charts: &[(String, String)], style: &Style) -> String {
        let rec = &self.record;
        let grid: &Grid = &rec.grid;
        let name = self.dir.file_name().map_or_else(|| self.dir.display().to_string(), |n| n.to_string_lossy().into());
        let points = grid.points().len();
        let mut out = String::new();
        let _ = writeln!(out, "# kadsim sweep report: {name}\n");
        let _ = writeln!(
            out,
            "The scenario `{}` (SHA-1 `{}`){} over {points} grid point{} × {} replica{} = {} runs, by kadsim {}. \
             Replica 0 of every point runs with seed {}, replica r ≥ 1 with the r-th SplitMix64 output from it: \
             the points share their random draws.\n",
            grid.file.display(),
            grid.scenario_sha1,
            if grid.set.is_empty() { String::new() } else { format!(" with `--set {}`", grid.set.join(" --set ")) },
            if points == 1 { "" } else { "s" },
            grid.replicas,
            if grid.replicas == 1 { "" } else { "s" },
            rec.runs,
            rec.kadsim_version,
            grid.base_seed,
        );
        out.push_str("## Grid\n\n");
        if grid.params.is_empty() {
            out.push_str("No parameter: one point, the scenario as it is (a replica set).\n\n");
        } else {
            out.push_str("| parameter | field | values |\n|---|---|---|\n");
            for p in &grid.params {
                let _ =
                    writeln!(out, "| {} | `{}` | {} |", naming.label(&p.name, &p.path), p.path, p.values.join(", "));
            }
            out.push('\n');
        }
        out.push_str("## Results\n\n");
        let methods: Vec<String> = {
            let mut m: Vec<aggregate::Method> = Vec::new();
            for c in &self.cells {
                if let Some(x) = c.method
                    && !m.contains(&x)
                {
                    m.push(x);
                }
            }
            m.iter().map(|x| x.words(grid.replicas as usize)).collect()
        };
        let _ = writeln!(
            out,
            "Each cell: the mean over the replicas{} (`aggregate.csv` has every headline metric; `runs.csv` every run).\n",
            if methods.is_empty() {
                String::new()
            } else {
                format!(" and its interval [low, high]: {}", methods.join("; "))
            }
        );
        let chosen: Vec<(&str, String)> = naming.metrics().into_iter().map(|m| (m, naming.axis(m))).collect();
        let chosen: Vec<(&str, String)> =
            chosen.into_iter().filter(|(m, _)| self.cells.iter().any(|c| c.metric == *m)).collect();
        out.push_str(&table::render(grid, &self.cells, &chosen, naming, true));
        out.push_str("\n## Charts\n\n");
        if charts.is_empty() {
            out.push_str("No chart: a sweep of one grid point has no x axis, and its runs are not here.\n\n");
        }
        for (stem, caption) in charts {
            let present: Vec<&str> = ["png", "svg", "pdf"]
                .into_iter()
                .filter(|ext| style.formats.iter().any(|f| f.extension() == *ext))
                .collect();
            let Some(shown) = present.iter().find(|e| **e != "pdf") else {
                let _ = writeln!(out, "- [{caption}](charts/{stem}.pdf)");
                continue;
            };
            let links: Vec<String> = present
                .iter()
                .filter(|e| *e != shown)
                .map(|e| format!("[{}](charts/{stem}.{e})", e.to_uppercase()))
                .collect();
            let links = if links.is_empty() { String::new() } else { format!(" ({})", links.join(", ")) };
            let _ = writeln!(out, "![{caption}](charts/{stem}.{shown})\n\n*{caption}*{links}\n");
        }
        out.push_str("\n## Files\n\n");
        out.push_str(
            "- `runs.csv`: one row per run: parameters, replica, seed, the headline metrics, events, trace hash.\n\
             - `aggregate.csv`: one row per grid point and metric: n, mean, sd, the 95% interval and its method.\n\
             - `runs/POINT/rR/`: each run's own results (`kadsim report` on one of them describes it).\n",
        );
        let names: Vec<&str> = metrics::METRICS.iter().map(|(m, _)| *m).collect();
        let _ = writeln!(out, "\nHeadline metrics: {}.", names.join(", "));
        out
    }
}
