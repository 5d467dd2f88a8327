//! Sets of runs for `kadsim compare`: what a directory given as BASE or CAND
//! stands for, and the runs read back from it.
//!
//! A directory with a `manifest.json` is one run. A sweep's output directory
//! (it has `sweep.json` and `runs.csv`) stands for the runs listed in its
//! `runs.csv`, provided they are the replicas of a single grid point; with
//! several points it is refused, listing the points to pick from. Any other
//! directory stands for the run directories below it (a sweep point's
//! `runs/<point>/` holding `r0/ r1/ ...`, or a folder of runs made by hand),
//! which must all share one parent directory. Several directories may be given
//! for one side: their runs are joined. Runs are taken in path order with
//! numbers compared as numbers (`r2` before `r10`), so the result does not
//! depend on the order the file system lists them in.
//!
//! Reading a set also looks for what would make its runs less than
//! independent samples: the same run twice, runs of different configurations
//! in one set, and runs that the base and candidate sets share.

use super::results::Results;
use std::path::{Path, PathBuf};

/// Replicas of one configuration, read back.
#[derive(Clone, Debug)]
pub struct RunSet {
    /// How the set is named in tables and charts.
    pub label: String,
    /// The runs, in path order.
    pub runs: Vec<Results>,
}

/// Most directory levels searched below a directory given for a set.
const MAX_DEPTH: usize = 6;

/// The sort key of a path: each component split into runs of digits (compared
/// as numbers) and other text.
fn natural_key(p: &Path) -> Vec<(String, u128, String)> {
    let mut key = Vec::new();
    for comp in p.components() {
        let s = comp.as_os_str().to_string_lossy();
        let mut rest: &str = &s;
        while !rest.is_empty() {
            let text_end = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
            let (text, tail) = rest.split_at(text_end);
            let num_end = tail.find(|c: char| !c.is_ascii_digit()).unwrap_or(tail.len());
            let (digits, tail) = tail.split_at(num_end);
            // The digits themselves break ties between 7 and 007.
            key.push((text.to_string(), digits.parse().unwrap_or(u128::MAX), digits.to_string()));
            rest = tail;
        }
        key.push(("/".into(), 0, String::new()));
    }
    key
}

fn sort_paths(v: &mut [PathBuf]) {
    v.sort_by_cached_key(|p| natural_key(p));
}

/// The run directories below `dir` (not below a run directory), to `depth` levels.
fn scan(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), String> {
    if dir.join("manifest.json").is_file() {
        found.push(dir.to_path_buf());
        return Ok(());
    }
    if depth == 0 {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            scan(&p, depth - 1, found)?;
        }
    }
    Ok(())
}

/// The run directories a directory given on the command line stands for.
pub fn run_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if dir.join("manifest.json").is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    if !dir.is_dir() {
        return Err(format!(
            "{}: no such directory (expected a run directory with manifest.json or a directory of replicas)",
            dir.display()
        ));
    }
    let runs_csv = dir.join("runs.csv");
    let mut runs = if dir.join("sweep.json").is_file() && runs_csv.is_file() {
        super::sweep::listed::listed_runs(dir, &runs_csv)?
    } else {
        let mut found = Vec::new();
        scan(dir, MAX_DEPTH, &mut found)?;
        found
    };
    if runs.is_empty() {
        return Err(format!("{}: no runs in it or below it (no manifest.json found)", dir.display()));
    }
    sort_paths(&mut runs);
    let mut parents: Vec<PathBuf> = runs.iter().map(|r| r.parent().unwrap_or(dir).to_path_buf()).collect();
    parents.dedup();
    if parents.len() > 1 {
        let shown: Vec<String> = parents.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "{} holds the runs of {} configurations (grid points); give one of them: {}",
            dir.display(),
            parents.len(),
            shown.join(", ")
        ));
    }
    Ok(runs)
}

/// The name of a directory given for a set: its own name, or for a sweep
/// point (`X/runs/<point>`) `X/<point>`.
fn dir_label(dir: &Path) -> String {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let own = name(dir).unwrap_or_else(|| dir.display().to_string());
    match dir.parent() {
        Some(parent) if name(parent).as_deref() == Some("runs") => match parent.parent().and_then(name) {
            Some(sweep) => format!("{sweep}/{own}"),
            None => own,
        },
        _ => own,
    }
}

/// Reads the runs that `dirs` stand for, joined into one set; `side` (`base`
/// or `candidate`) names the set in messages.
pub fn read_set(dirs: &[PathBuf], side: &str) -> Result<RunSet, String> {
    let mut paths = Vec::new();
    for d in dirs {
        paths.extend(run_dirs(d)?);
    }
    let mut runs = Vec::with_capacity(paths.len());
    for p in &paths {
        runs.push(Results::read(p).map_err(|e| e.to_string())?);
    }
    let labels: Vec<String> = dirs.iter().map(|d| dir_label(d)).collect();
    let set = RunSet { label: labels.join("+"), runs };
    if let Some((a, b)) = set.duplicate() {
        return Err(format!(
            "the {side} set holds the same run twice ({} and {}: same seed and configuration, or same trace hash)",
            a.display(),
            b.display()
        ));
    }
    Ok(set)
}

/// A run's identity: its trace hash, and its scenario (seed included).
fn same_run(a: &Results, b: &Results) -> bool {
    a.manifest.trace_hash == b.manifest.trace_hash || a.scenario_json == b.scenario_json
}

/// The scenario of a run without its seed.
fn configuration(r: &Results) -> serde_json::Value {
    let mut sc = r.scenario_json.clone();
    if let Some(m) = sc.as_object_mut() {
        m.remove("seed");
    }
    sc
}

impl RunSet {
    /// Two runs of the set that are the same run, if any.
    fn duplicate(&self) -> Option<(&Path, &Path)> {
        for (i, a) in self.runs.iter().enumerate() {
            if let Some(b) = self.runs[i + 1..].iter().find(|b| same_run(a, b)) {
                return Some((&a.dir, &b.dir));
            }
        }
        None
    }

    /// A run of the set whose configuration differs from the first run's in more than its seed.
    fn odd_one_out(&self) -> Option<(&Path, &Path)> {
        let first = self.runs.first()?;
        let want = configuration(first);
        self.runs.iter().find(|r| configuration(r) != want).map(|r| (first.dir.as_path(), r.dir.as_path()))
    }
}

/// Warnings about the two sets as samples: a set mixing configurations, runs
/// the sets share. Each is one line.
pub fn warnings(base: &RunSet, cand: &RunSet) -> Vec<String> {
    let mut w = Vec::new();
    for (side, set) in [("base", base), ("candidate", cand)] {
        if let Some((a, b)) = set.odd_one_out() {
            w.push(format!(
                "the {side} set mixes configurations: {} differs from {} in more than its seed",
                b.display(),
                a.display()
            ));
        }
    }
    let shared: Vec<(&Results, &Results)> =
        cand.runs.iter().filter_map(|c| base.runs.iter().find(|b| same_run(b, c)).map(|b| (b, c))).collect();
    if let Some((b, c)) = shared.first() {
        w.push(format!(
            "base and candidate share {} of their runs (same seed and configuration, or same trace hash; e.g. {} and {}): \
             shared runs are not independent samples of the two sides",
            shared.len(),
            b.dir.display(),
            c.dir.display()
        ));
    }
    w
}
