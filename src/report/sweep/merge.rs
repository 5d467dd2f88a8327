//! `kadsim merge`: the shards of a sweep (`--shard I/N`, each with its
//! `sweep.shard-I-of-N.json` and `runs.shard-I-of-N.csv`) joined into the
//! whole sweep's files, after checking that every run is there exactly once.

use super::grid::{Grid, Shard};
use super::metrics::Naming;
use super::run::{Done, finish, open_out};
use super::{Record, SweepError, header, read_record, runs_schema};
use crate::files::ReadError;
use crate::files::table::{Table, push_row};
use crate::report::chart::Style;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The rows of a shard's CSV file with their line numbers, checked against
/// the grid's header and every value against its column's type.
pub(super) fn read_shard(path: &Path, grid: &Grid) -> Result<Vec<(u64, Vec<String>)>, SweepError> {
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
/// The charts are chosen and named by the shards' record overridden by `naming`.
pub fn merge(dirs: &[PathBuf], out: &Path, force: bool, style: &Style, naming: &Naming) -> Result<Done, SweepError> {
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
                let m = crate::report::manifest::read(&manifest).map_err(|e| input(e.to_string()))?;
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
    let naming = rec.charts.overridden_by(naming);
    naming.check(&grid).map_err(input)?;
    let (cells, charts) = finish(&grid, &rows, &out, style, &naming)?;
    Ok(Done { runs: rows.len(), cells, charts })
}
