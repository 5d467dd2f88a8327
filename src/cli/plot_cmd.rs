//! `kadsim plot`: one run's charts, several runs or replica sets overlaid,
//! each read back strictly and drawn into a directory kadsim owns.

use super::{EXIT_BAD_INPUT, notes};
use crate::files::owned::Out;
use crate::report::plot;
use crate::report::provenance;
use crate::report::results::Results;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Settles what interrupted runs left next to `dir` (printing a note for
/// each), or exit code 2 after one line saying why it cannot be.
fn settle(dir: &Path) -> Result<(), ExitCode> {
    match crate::files::swap::settle(dir) {
        Ok(n) => {
            notes(&n);
            Ok(())
        }
        Err(e) => {
            eprintln!("kadsim: {e}");
            Err(ExitCode::from(e.exit_code()))
        }
    }
}

/// Reads the run in `dir`, or exit code 2 after one line.
fn read_run(dir: &Path) -> Result<Results, ExitCode> {
    settle(dir)?;
    let r = Results::read(dir).map_err(|e| {
        eprintln!("kadsim: {e}");
        ExitCode::from(EXIT_BAD_INPUT)
    })?;
    notes(&r.notes);
    Ok(r)
}

/// `kadsim plot DIR1 DIR2 ...`: several runs on one chart each.
pub(super) fn overlay(
    dirs: &[PathBuf],
    label: Option<&str>,
    out: Option<&Path>,
    force: bool,
    style: &crate::report::chart::Style,
) -> ExitCode {
    let mut runs = Vec::new();
    for d in dirs {
        match read_run(d) {
            Ok(r) => runs.push(r),
            Err(code) => return code,
        }
    }
    let labels = match plot::run_labels(&runs, label) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kadsim: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let out = out.map_or_else(|| PathBuf::from("overlay"), Path::to_path_buf);
    let source = provenance::of_runs(runs.iter().zip(labels.iter().map(String::as_str)), "overlay charts");
    draw_into(&out, source, force, |out| plot::plot_runs(&runs, &labels, out, style))
}

/// `kadsim plot SET...` where a directory is a replica set (a sweep of one
/// grid point, a sweep point's `runs/<point>/`, a folder of runs; a run
/// directory is a set of one): one set's charts into `DIR/charts` (or
/// `out`), several sets' overlays into `overlay/` (or `out`).
pub(super) fn plot_sets(
    dirs: &[PathBuf],
    label: Option<&str>,
    out: Option<&Path>,
    force: bool,
    style: &crate::report::chart::Style,
) -> ExitCode {
    let mut sets = Vec::new();
    for d in dirs {
        if let Err(code) = settle(d) {
            return code;
        }
        match crate::report::runset::read_set(std::slice::from_ref(d), "plotted") {
            Ok(s) => {
                for r in &s.runs {
                    notes(&r.notes);
                }
                sets.push(s);
            }
            Err(e) => {
                eprintln!("kadsim: {e}");
                return ExitCode::from(EXIT_BAD_INPUT);
            }
        }
    }
    let labels = match plot::labels(sets.iter().map(|s| s.label.clone()).collect(), label, "sets") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kadsim: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let drawn: Vec<crate::report::replica_charts::Set> = sets
        .iter()
        .zip(&labels)
        .map(|(s, l)| crate::report::replica_charts::Set { label: l.clone(), runs: &s.runs })
        .collect();
    let charts = crate::report::replica_charts::charts(&drawn);
    let target = match (out, dirs) {
        (Some(o), _) => o.to_path_buf(),
        (None, [one]) => one.join("charts"),
        (None, _) => PathBuf::from("overlay"),
    };
    let all: Vec<(&Results, &str)> =
        sets.iter().zip(&labels).flat_map(|(s, l)| s.runs.iter().map(move |r| (r, l.as_str()))).collect();
    let source = provenance::of_runs(all, if dirs.len() == 1 { "replica charts" } else { "overlay charts" });
    draw_into(&target, source, force, |out| crate::report::chart::save_all(&charts, out, style))
}

/// Opens `out` for `source`'s files, draws into it and prints each file
/// written; a refusal is one line and exit code 2, a failure exit code 3.
fn draw_into(
    out: &Path,
    source: crate::files::owned::Source,
    force: bool,
    draw: impl FnOnce(&Out) -> Result<Vec<PathBuf>, crate::report::chart::SaveError>,
) -> ExitCode {
    let out = match Out::open(out, source, force) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kadsim: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    notes(&out.notes);
    match draw(&out) {
        Ok(files) => {
            for f in files {
                say!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kadsim: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

pub(super) fn plot(dir: &Path, out: Option<&Path>, force: bool, style: &crate::report::chart::Style) -> ExitCode {
    let results = match read_run(dir) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let source = provenance::of_run(&results, "charts");
    draw_into(out.unwrap_or(dir), source, force, |out| plot::plot_run_styled(&results, out, style))
}
