//! What kadsim's charts and reports are drawn from, as the [`Source`]s their
//! files are recorded under ([`crate::files::owned`]): drawing the same run
//! again replaces its charts; drawing another run over them needs `--force`.
//! A run is identified by its trace hash and scenario, not by its path, so a
//! run moved or copied elsewhere is still the same run.

use super::manifest::ReadManifest;
use super::results::Results;
use crate::files::owned::Source;
use serde_json::Value;

/// The bytes that identify the run of trace hash `hash` and scenario `scenario`.
fn run_key(hash: &str, scenario: &Value) -> Vec<u8> {
    format!("{hash}\n{scenario}").into_bytes()
}

/// `what` (e.g. `charts`) of the run `r`.
pub fn of_run(r: &Results, what: &str) -> Source {
    let key = run_key(&r.manifest.trace_hash.0, &r.scenario_json);
    Source::new(format!("{what} of {}", r.dir.display()), &[b"run", &key])
}

/// `what` of the run whose manifest is `m`, in `dir`.
pub fn of_manifest(m: &ReadManifest, dir: &std::path::Path, what: &str) -> Source {
    let key = run_key(&m.manifest.trace_hash.0, &m.scenario_json);
    Source::new(format!("{what} of {}", dir.display()), &[b"run", &key])
}

/// `what` drawn from several runs together, each under its label.
pub fn of_runs<'a>(runs: impl IntoIterator<Item = (&'a Results, &'a str)>, what: &str) -> Source {
    let mut parts: Vec<Vec<u8>> = vec![b"runs".to_vec()];
    let mut labels = Vec::new();
    for (r, label) in runs {
        parts.push(run_key(&r.manifest.trace_hash.0, &r.scenario_json));
        parts.push(label.as_bytes().to_vec());
        labels.push(label.to_string());
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Source::new(format!("{what} of {}", labels.join(", ")), &refs)
}
