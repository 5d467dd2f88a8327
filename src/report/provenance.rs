//! What kadsim's charts and reports are drawn from, as the [`Source`]s their
//! files are recorded under ([`crate::files::owned`]): drawing the same run
//! again replaces its charts; drawing another run over them needs `--force`.
//! A run is identified by its trace hash and scenario, not by its path, so a
//! run moved or copied elsewhere is still the same run.

use super::results::Results;
use crate::files::owned::Source;
use serde_json::Value;

/// The bytes that identify the run whose manifest is `m`.
fn run_key(m: &Value) -> Vec<u8> {
    format!("{}\n{}", m["trace_hash"], m["scenario"]).into_bytes()
}

/// `what` (e.g. `charts`) of the run `r`.
pub fn of_run(r: &Results, what: &str) -> Source {
    Source::new(format!("{what} of {}", r.dir.display()), &[b"run", &run_key(&r.manifest)])
}

/// `what` of the run whose manifest is `m`, in `dir`.
pub fn of_manifest(m: &Value, dir: &std::path::Path, what: &str) -> Source {
    Source::new(format!("{what} of {}", dir.display()), &[b"run", &run_key(m)])
}

/// `what` drawn from several runs together, each under its label.
pub fn of_runs<'a>(runs: impl IntoIterator<Item = (&'a Results, &'a str)>, what: &str) -> Source {
    let mut parts: Vec<Vec<u8>> = vec![b"runs".to_vec()];
    let mut labels = Vec::new();
    for (r, label) in runs {
        parts.push(run_key(&r.manifest));
        parts.push(label.as_bytes().to_vec());
        labels.push(label.to_string());
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Source::new(format!("{what} of {}", labels.join(", ")), &refs)
}
