//! The tracing flags of `kadsim run` checked into a [`TraceSpec`], and
//! `kadsim trace`: one operation's story and convergence chart, or the worst
//! traced operations (docs/tracing.md). Bad input is one line and exit code 2.

use super::{EXIT_BAD_INPUT, EXIT_INTERNAL};
use crate::files::owned::Out;
use crate::report::chart::Style;
use crate::report::provenance;
use crate::report::trace::{self, OpRow, convergence, story};
use crate::sim::trace::TraceSpec;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kadsim: {msg}");
    ExitCode::from(code)
}

/// The trace `kadsim run` asks for, if any.
pub fn spec(
    modes: Option<String>,
    sample: Option<String>,
    nodes: Option<String>,
    gzip: bool,
) -> Result<Option<TraceSpec>, ExitCode> {
    let parsed = TraceSpec::parse(modes.as_deref().unwrap_or("ops"), sample.as_deref(), nodes.as_deref(), gzip)
        .map_err(|e| fail(EXIT_BAD_INPUT, e))?;
    match modes {
        Some(_) => Ok(Some(parsed)),
        None if sample.is_some() || nodes.is_some() || gzip => Err(fail(
            EXIT_BAD_INPUT,
            "--trace-sample, --trace-nodes and --trace-gzip go with --trace ops or --trace messages",
        )),
        None => Ok(None),
    }
}

/// `kadsim trace DIR --op ID | --worst N`.
pub fn trace(
    dir: &Path,
    op: Option<u64>,
    worst: Option<usize>,
    out: Option<&Path>,
    force: bool,
    style: &Style,
) -> ExitCode {
    let wanted = match (op, worst) {
        (Some(_), Some(_)) => return fail(EXIT_BAD_INPUT, "trace: give --op ID or --worst N, not both"),
        (None, None) => return fail(EXIT_BAD_INPUT, "trace: give --op ID (an op of ops.csv) or --worst N"),
        (_, Some(0)) => return fail(EXIT_BAD_INPUT, "--worst 0: expected at least 1"),
        _ => (op, worst),
    };
    match crate::files::swap::settle(dir) {
        Ok(n) => super::notes(&n),
        Err(e) => return fail(e.exit_code(), e),
    }
    let path = match trace::trace_file(dir) {
        Ok(p) => p,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    let ops = match trace::read_ops(dir) {
        Ok((ops, notes)) => {
            super::notes(&notes);
            ops
        }
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    let chosen: Vec<&OpRow> = match wanted {
        (Some(id), _) => match ops.iter().find(|o| o.op == Some(id)) {
            Some(o) => vec![o],
            None => {
                return fail(EXIT_BAD_INPUT, format!("--op {id}: no such operation in ops.csv (1 to {})", ops.len()));
            }
        },
        (_, Some(n)) => {
            let traced = match trace::traced_ops(&path, &ops) {
                Ok(t) => t,
                Err(e) => return fail(EXIT_BAD_INPUT, e),
            };
            trace::worst(&ops, &traced, n)
        }
        _ => Vec::new(),
    };
    let manifest = match crate::report::manifest::read(&dir.join("manifest.json")) {
        Ok(m) => m,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    let k = manifest.manifest.scenario.protocol.k as u32;
    let mut truth = match trace::closest_file(dir).map(|p| trace::closest_of(&p, &ops, &chosen, k)) {
        Some(Ok(t)) => t,
        Some(Err(e)) => return fail(EXIT_BAD_INPUT, e),
        None => Default::default(),
    };
    let mut rpcs = match trace::rpcs_of(&path, &ops, &chosen) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_BAD_INPUT, e),
    };
    if let (Some(id), true) = (op, rpcs.is_empty()) {
        let why = if chosen.first().is_some_and(|o| o.queried == 0) {
            "sent no RPC (answered from the origin's own store, or it knew no node)".to_string()
        } else {
            format!("not traced (no rows in {}): trace it with a larger --trace-sample", path.display())
        };
        return fail(EXIT_BAD_INPUT, format!("--op {id}: {why}"));
    }
    super::notes(&manifest.notes);
    let out: PathBuf = out.map_or_else(|| dir.join("trace"), Path::to_path_buf);
    let out = match Out::open(&out, provenance::of_manifest(&manifest, dir, "trace charts"), force) {
        Ok(o) => o,
        Err(e) => return fail(e.exit_code(), e),
    };
    super::notes(&out.notes);
    let stems: Vec<String> = chosen.iter().map(|o| format!("op-{}-convergence", o.op.unwrap_or(0))).collect();
    let names: Vec<String> =
        stems.iter().flat_map(|stem| style.formats.iter().map(move |f| format!("{stem}.{}", f.extension()))).collect();
    if let Err(e) = out.claim_all(names.iter().map(String::as_str)) {
        return fail(e.exit_code(), e);
    }
    if worst.is_some() {
        say!(
            "{:>8}  {:<10} {:>7}  {:>10}  {:<7}  {:>4}  {:>8}",
            "op",
            "kind",
            "origin",
            "latency",
            "result",
            "RPCs",
            "timeouts"
        );
        for o in &chosen {
            let result = if o.deadline_hit {
                "cut off"
            } else if o.success {
                "success"
            } else {
                "failure"
            };
            say!(
                "{:>8}  {:<10} {:>7}  {:>7.1} ms  {result:<7}  {:>4}  {:>8}",
                o.op.unwrap_or(0),
                o.kind,
                o.origin,
                o.latency_us as f64 / 1e3,
                o.queried,
                o.timeouts
            );
        }
        say!("");
    }
    for o in chosen {
        let id = o.op.unwrap_or(0);
        let rows = rpcs.remove(&id).unwrap_or_default();
        let closest = truth.remove(&id).unwrap_or_default();
        if op.is_some() {
            put!("{}", story::render(o, &rows, &closest));
            say!("");
        }
        let stem = out.path().join(format!("op-{id}-convergence"));
        match convergence::chart(o, &rows, &closest).save_styled(&stem, style) {
            Ok(files) => {
                for f in files {
                    say!("chart: {}", f.display());
                }
            }
            Err(e) => return fail(EXIT_INTERNAL, e),
        }
    }
    if worst.is_some() {
        say!("kadsim trace {} --op ID tells one operation's story", dir.display());
    }
    ExitCode::SUCCESS
}
