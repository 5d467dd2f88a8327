//! `kadsim validation`: runs the suite (`crate::validation`), prints each
//! section's checks as it finishes, writes `validation.md` and its charts,
//! and exits 1 when a check fails (2 on bad input, 3 when a file cannot be
//! written).

use super::{EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_REGRESSION};
use crate::files::owned::{Out, Source};
use crate::metrics::writer::AtomicFile;
use crate::report::chart::{Style, save_all};
use crate::validation::check::{Depth, Lab};
use crate::validation::{report, suite};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kadsim: {msg}");
    ExitCode::from(code)
}

/// `kadsim validation [--quick | --full] [--out DIR] [--force] [--threads N]`.
pub fn validation(
    full: bool,
    only: Option<&str>,
    out: Option<PathBuf>,
    force: bool,
    threads: Option<usize>,
    style: &Style,
) -> ExitCode {
    let parts = match crate::validation::chosen(only) {
        Ok(p) => p,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    let depth = if full { Depth::Full } else { Depth::Quick };
    let flag = if full { "--full" } else { "--quick" };
    // The suite's networks are small: one thread per run and a run per core
    // beats two threads per run (the engine's windows hold few events).
    let cores = crate::runner::available_threads();
    let (threads, jobs) = match threads {
        Some(0) => return fail(EXIT_BAD_INPUT, "--threads 0: expected at least 1"),
        Some(n) => (n, (cores / n).max(1)),
        None => (1, cores),
    };
    let dir = out.unwrap_or_else(|| PathBuf::from(if full { "results/validation-full" } else { "results/validation" }));
    // The suite's directory: its report, charts and runs are its own, and a
    // later suite of the same depth replaces them.
    let source = Source::new(format!("kadsim validation {flag}"), &[b"validation", flag.as_bytes()]);
    let top = match Out::open(&dir, source, force) {
        Ok(o) => o,
        Err(e) => return fail(e.exit_code(), e),
    };
    super::notes(&top.notes);
    let (report_path, charts, runs) = match (top.claim("validation.md"), top.subdir("charts"), top.subdir("runs")) {
        (Ok(r), Ok(c), Ok(n)) => (r, c, n),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return fail(e.exit_code(), e),
    };
    let started = Instant::now();
    say!("kadsim validation {flag}: {jobs} runs at a time, {threads} threads each; runs in {}", runs.path().display());
    let lab = Lab { runs: runs.path(), threads, jobs, depth };
    let sections = match suite(&lab, &parts, &mut |s| {
        say!("\n{} ({:.0} s)", s.title, started.elapsed().as_secs_f64());
        put!("{}", report::table(&s.checks));
    }) {
        Ok(s) => s,
        Err(e) => return fail(EXIT_INTERNAL, format!("validation: {e}")),
    };
    let drawn: Vec<(String, crate::report::chart::Chart)> =
        sections.iter().flat_map(|s| s.charts.iter().map(|(n, c)| (n.clone(), c.clone()))).collect();
    if let Err(e) = save_all(&drawn, &charts, style) {
        return fail(e.exit_code(), e);
    }
    let p = report::Provenance {
        command: match only {
            Some(o) => format!("kadsim validation {flag} --only {o}"),
            None => format!("kadsim validation {flag}"),
        },
        version: format!("{} ({})", env!("CARGO_PKG_VERSION"), crate::runner::GIT_COMMIT),
        finished_at: crate::runner::utc(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        ),
        wall_s: started.elapsed().as_secs_f64(),
    };
    let text = report::markdown(&sections, &p, style);
    let write = || -> std::io::Result<()> {
        let mut f = AtomicFile::create(&report_path)?;
        f.write_all(text.as_bytes())?;
        f.finish()
    };
    if let Err(e) = write() {
        return fail(EXIT_INTERNAL, format!("cannot write {}: {e}", report_path.display()));
    }
    let checks: Vec<_> = sections.iter().flat_map(|s| &s.checks).collect();
    let failed: Vec<&str> = checks.iter().filter(|c| !c.pass()).map(|c| c.name.as_str()).collect();
    say!(
        "\n{} of {} checks passed in {:.0} s; report in {}",
        checks.len() - failed.len(),
        checks.len(),
        started.elapsed().as_secs_f64(),
        report_path.display()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("kadsim: validation: {} failed: {}", failed.len(), failed.join(", "));
        ExitCode::from(EXIT_REGRESSION)
    }
}
