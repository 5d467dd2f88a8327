//! The runs a sweep directory lists: its `runs.csv` read strictly against
//! what `kadsim sweep` writes and counted against `sweep.json`, so that a
//! replica set taken from a sweep (`report::runset`) leaves no run out unsaid.

use crate::files::table::{Table, push_row};
use std::path::{Path, PathBuf};

/// The runs a sweep's `runs.csv` lists (its `run` column), each checked to
/// exist; the file is checked whole against what `kadsim sweep` writes, and
/// its rows counted against the runs `sweep.json` records (a row lost would
/// leave a run out of the set unsaid).
pub fn listed_runs(dir: &Path, runs_csv: &Path) -> Result<Vec<PathBuf>, String> {
    let (params, recorded) = super::swept(&dir.join("sweep.json")).map_err(|e| e.to_string())?;
    let record = dir.join("sweep.json");
    let count = |n: usize| {
        let runs = if n == 1 { "run" } else { "runs" };
        format!("{n} {runs} listed, but {} records {recorded}: a row lost or added", record.display())
    };
    let mut t = Table::open(runs_csv, super::runs_schema(&params)).map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    while t.next_row().map_err(|e| e.to_string())? {
        let run = dir.join(t.value("run").unwrap_or_default());
        if !run.join("manifest.json").is_file() {
            return Err(t.error(format!("the run {} it lists has no manifest.json", run.display())).to_string());
        }
        if runs.len() == recorded {
            return Err(t.error(count(runs.len() + 1)).to_string());
        }
        push_row(&mut runs, run, &t).map_err(|e| e.to_string())?;
    }
    if runs.len() != recorded {
        return Err(crate::files::ReadError::at(runs_csv, Some(t.line() + 1), count(runs.len())).to_string());
    }
    Ok(runs)
}
