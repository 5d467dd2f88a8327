//! A run's results directory, written as a whole and owned (docs/outputs.md "Your
//! results are safe"). The files of a run go into a temporary sibling
//! (`.NAME.partial-PID`, [`crate::files::swap`]), recorded in its record of
//! kadsim's files before each is written; when every one is complete they
//! take the destination's place, in one of three ways decided before the run
//! starts, so that a run that cannot be put in place is refused at once:
//!
//! - **fresh**: the destination is missing or empty: the sibling is renamed
//!   to it;
//! - **in place**: the destination holds a run of the same scenario (seed and
//!   `--set` included) from the same kadsim sources, which this run
//!   reproduces byte for byte: its files are replaced one by one (the
//!   manifest last) and what kadsim drew from it (charts, `report.md`,
//!   `trace/`, `compare/`) stays, still true of the new files;
//! - **swap** (`--force` only): the destination holds a different run: it is
//!   moved aside, the sibling renamed in, the earlier run removed.
//!
//! Anything else is refused with one line: a destination holding a file or
//! folder that kadsim did not write (never deleted, not even with
//! `--force`), and, without `--force`, a different earlier run, named with
//! its scenario, seed and date and what this run changes.

use crate::files::ledger::{LEDGER, Ledger};
use crate::files::owned::{Out, OwnError, Source, foreign_in};
use crate::files::{bounded, swap};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What makes two runs the same run: the scenario as run (seed included) and
/// the sources of the kadsim that ran it. The trace settings are not part of
/// it: tracing changes no other output, so a run traced differently is the
/// same run, and replacing it replaces its trace files.
#[derive(Clone, Debug)]
pub struct RunIdentity {
    /// The effective scenario, as the manifest records it.
    pub scenario: Value,
    /// `KADSIM_SOURCE_SHA1` of the build.
    pub source_sha1: String,
    /// The trace settings (`null` without `--trace`).
    pub trace: Value,
}

/// A run put in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// Where its results are.
    pub dir: PathBuf,
    /// What the user should be told (leftovers settled, results diverted).
    pub notes: Vec<String>,
    /// It replaced the same run in place (identical results; what was drawn
    /// from the earlier one kept).
    pub in_place: bool,
}

impl RunIdentity {
    /// The source that the run's files are recorded under.
    pub fn source(&self) -> Source {
        let name = self.scenario["name"].as_str().unwrap_or("run");
        let seed = self.scenario["seed"].to_string();
        Source::new(
            format!("the run {name} (seed {seed})"),
            &[self.scenario.to_string().as_bytes(), self.source_sha1.as_bytes()],
        )
    }
}

/// Whether a different earlier run may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    /// Only by the same run (in place).
    IfIdentical,
    /// Any run of kadsim's (`--force`); never a file kadsim did not write.
    Force,
}

/// Why a destination cannot take a run's results.
#[derive(Debug)]
pub enum StageError {
    /// The destination is not a place for these results (bad input).
    Refused(String),
    /// A file-system call failed.
    Io(PathBuf, std::io::Error),
}

impl From<OwnError> for StageError {
    fn from(e: OwnError) -> StageError {
        match e {
            OwnError::Io { path, err } => StageError::Io(path, err),
            other => StageError::Refused(other.to_string()),
        }
    }
}

impl From<crate::files::ledger::LedgerError> for StageError {
    fn from(e: crate::files::ledger::LedgerError) -> StageError {
        StageError::Refused(e.to_string())
    }
}

/// How the written directory takes the destination's place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    Fresh,
    InPlace,
    Swap,
}

/// A run's results being written, to be put in place by [`Staged::commit`].
#[derive(Debug)]
pub struct Staged {
    dest: PathBuf,
    tmp: PathBuf,
    plan: Plan,
    identity: RunIdentity,
    committed: bool,
    /// Notes for the user: leftovers settled, the way the results went in.
    pub notes: Vec<String>,
}

/// The trace files a run may write; replacing the same run removes those of
/// the earlier run that the new one does not write.
const TRACE_FILES: [&str; 6] =
    ["trace.csv", "trace.csv.gz", "closest.csv", "closest.csv.gz", "messages.csv", "messages.csv.gz"];

/// The most bytes an earlier run's manifest may have.
pub const MAX_MANIFEST: u64 = 16 << 20;

/// An earlier run's manifest, as far as replacing it needs, or why it cannot be read.
fn earlier_manifest(dir: &Path) -> Result<Value, String> {
    let path = dir.join("manifest.json");
    let text = bounded::read_small(&path, MAX_MANIFEST).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}:{}:{}: not a kadsim manifest: {e}", path.display(), e.line(), e.column()))?;
    if !v["scenario"].is_object() {
        return Err(format!("{}: not a kadsim manifest: no scenario object", path.display()));
    }
    Ok(v)
}

/// The first place where `a` and `b` differ, as `path A (this run: B)`.
pub fn first_difference(path: &str, a: &Value, b: &Value) -> Option<String> {
    let at = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                first_difference(&at(k), x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null))
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| first_difference(&at(&i.to_string()), p, q))
        }
        _ if a == b => None,
        _ => {
            let show = |v: &Value| {
                let s = if v.is_null() { "unset".to_string() } else { v.to_string() };
                crate::scenario::clip::clip(&s).into_owned()
            };
            Some(format!("{path} {} (this run: {})", show(a), show(b)))
        }
    }
}

/// The date an earlier run finished: its manifest's `finished_at`, else the
/// manifest file's time.
fn finished(dir: &Path, m: &Value) -> String {
    if let Some(at) = m["finished_at"].as_str() {
        return crate::scenario::clip::clip(at).replace('T', " ").replace('Z', " UTC");
    }
    std::fs::metadata(dir.join("manifest.json"))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or_else(
            || "at an unknown time".into(),
            |d| crate::runner::utc(d.as_secs()).replace('T', " ").replace('Z', " UTC"),
        )
}

/// A directory next to `dest` that does not exist: `dest-seedN` when only the
/// seed differs, else `dest-2`, `dest-3`, …
fn free_sibling(dest: &Path, seed_only: Option<&Value>) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if let Some(seed) = seed_only {
        let p = dest.with_file_name(format!("{name}-seed{seed}"));
        if !p.exists() {
            return p;
        }
    }
    (2..).map(|i| dest.with_file_name(format!("{name}-{i}"))).find(|p| !p.exists()).unwrap_or_default()
}

/// Why the earlier run `old` (in `dest`) is not this run, or `None` when it is.
fn why_different(old: &Value, new: &RunIdentity) -> Option<(String, bool)> {
    let mut old_sc = old["scenario"].clone();
    let mut new_sc = new.scenario.clone();
    let seeds = (old_sc["seed"].clone(), new_sc["seed"].clone());
    for sc in [&mut old_sc, &mut new_sc] {
        if let Some(m) = sc.as_object_mut() {
            m.remove("seed");
        }
    }
    let mut why = Vec::new();
    if seeds.0 != seeds.1 {
        why.push(format!("seed {} (this run: {})", seeds.0, seeds.1));
    }
    if let Some(d) = first_difference("", &old_sc, &new_sc) {
        why.push(d);
    }
    let seed_only = why.len() == 1 && seeds.0 != seeds.1;
    match old["source_sha1"].as_str() {
        Some(s) if s == new.source_sha1 => {}
        Some(s) => why.push(format!(
            "the kadsim build (sources {}, this one {})",
            crate::scenario::clip::clip(&s.chars().take(12).collect::<String>()),
            &new.source_sha1[..12.min(new.source_sha1.len())]
        )),
        None => why.push("the kadsim build (an earlier kadsim, which did not record its sources)".into()),
    }
    let seed_only = seed_only && why.len() == 1;
    (!why.is_empty()).then(|| (why.join("; "), seed_only))
}

impl Staged {
    /// Prepares to write a run of `identity` into `dest`: settles leftovers
    /// of interrupted runs there, decides how the results will take the
    /// destination's place (refusing now what cannot), and creates the
    /// temporary directory, with `files` recorded as kadsim's.
    pub fn begin(dest: &Path, identity: RunIdentity, files: &[String], replace: Replace) -> Result<Staged, StageError> {
        if swap::split(dest).is_none() || dest.file_name().is_none() {
            return Err(StageError::Refused(format!(
                "{}: the output must name a directory (not '.', '..' or a root)",
                dest.display()
            )));
        }
        let notes = swap::settle(dest)?;
        let plan = if dest.exists() { Staged::plan_over(dest, &identity, replace)? } else { Plan::Fresh };
        let tmp = swap::partial_of(dest).ok_or_else(|| StageError::Refused(format!("{}: no name", dest.display())))?;
        if let Some(parent) = tmp.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StageError::Io(parent.to_path_buf(), e))?;
        }
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| StageError::Io(tmp.clone(), e))?;
        }
        std::fs::create_dir(&tmp).map_err(|e| StageError::Io(tmp.clone(), e))?;
        let staged = Staged { dest: dest.to_path_buf(), tmp, plan, identity, committed: false, notes };
        let out = Out::open(&staged.tmp, staged.identity.source(), false)?;
        out.claim_all(files.iter().map(String::as_str))?;
        Ok(staged)
    }

    /// How a run goes into the existing directory `dest`, or why it cannot.
    fn plan_over(dest: &Path, identity: &RunIdentity, replace: Replace) -> Result<Plan, StageError> {
        if !dest.is_dir() {
            return Err(StageError::Refused(format!("{}: exists and is not a directory", dest.display())));
        }
        let empty = std::fs::read_dir(dest).map_err(|e| StageError::Io(dest.to_path_buf(), e))?.next().is_none();
        if empty {
            return Ok(Plan::Fresh);
        }
        if let Some(path) = foreign_in(dest)? {
            let why = if Ledger::read(dest)?.is_none() && dest.join("manifest.json").is_file() {
                format!(
                    "{}: written by an earlier kadsim that kept no record of its files, so kadsim cannot tell {} from a file of yours; move {} away or choose another --out",
                    dest.display(),
                    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    dest.display()
                )
            } else {
                OwnError::Foreign { path, flag: "--out" }.to_string()
            };
            return Err(StageError::Refused(why));
        }
        let old = match earlier_manifest(dest) {
            Ok(m) => m,
            Err(_) if replace == Replace::Force => return Ok(Plan::Swap),
            Err(e) => {
                return Err(StageError::Refused(format!(
                    "{}: holds kadsim's files but no readable run ({e}); replace it with --force, or choose another --out",
                    dest.display()
                )));
            }
        };
        match why_different(&old, identity) {
            None => Ok(Plan::InPlace),
            Some(_) if replace == Replace::Force => Ok(Plan::Swap),
            Some((why, seed_only)) => {
                let name = crate::scenario::clip::clip(old["scenario"]["name"].as_str().unwrap_or("?")).into_owned();
                let suggest = free_sibling(dest, seed_only.then_some(&identity.scenario["seed"]));
                Err(StageError::Refused(format!(
                    "{} holds an earlier run ({name}, seed {}, finished {}) that differs from this one in {why}: keep both with --out {}, or replace it with --force",
                    dest.display(),
                    old["scenario"]["seed"],
                    finished(dest, &old),
                    suggest.display()
                )))
            }
        }
    }

    /// Where the files go until [`commit`](Staged::commit).
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Puts the written directory in the destination's place (see the module
    /// doc); `trace_hash` is the new run's. Returns where the results are,
    /// with the notes for the user: the destination, or, when the destination
    /// changed under the run and can no longer take it, a new directory next
    /// to it (and a note saying so).
    pub fn commit(mut self, trace_hash: &str) -> Result<Committed, StageError> {
        let dest = self.dest.clone();
        // Re-decided: another process may have written the destination since.
        let replace = if self.plan == Plan::Swap { Replace::Force } else { Replace::IfIdentical };
        let plan = if dest.exists() {
            match Staged::plan_over(&dest, &self.identity, replace) {
                Ok(p) => p,
                Err(e) => return self.divert(e),
            }
        } else {
            Plan::Fresh
        };
        self.register_in_parent()?;
        match plan {
            Plan::Fresh => {
                if dest.exists() {
                    std::fs::remove_dir(&dest).map_err(|e| StageError::Io(dest.clone(), e))?;
                }
                std::fs::rename(&self.tmp, &dest).map_err(|e| StageError::Io(dest.clone(), e))?;
            }
            Plan::Swap => swap::swap_in(&self.tmp, &dest)?,
            Plan::InPlace => {
                let old = earlier_manifest(&dest).map_err(StageError::Refused)?;
                if old["trace_hash"].as_str().is_some_and(|h| h != trace_hash) {
                    let e = StageError::Refused(format!(
                        "{} holds a run of the same scenario and kadsim sources with other results (trace hash {}, this run {trace_hash})",
                        dest.display(),
                        crate::scenario::clip::clip(old["trace_hash"].as_str().unwrap_or_default())
                    ));
                    return self.divert(e);
                }
                self.replace_in_place(&old)?;
            }
        }
        self.committed = true;
        Ok(Committed { dir: dest, notes: std::mem::take(&mut self.notes), in_place: plan == Plan::InPlace })
    }

    /// Records the destination in its parent's record of kadsim's files,
    /// when the parent is kadsim's (a sweep's `runs/POINT/`).
    fn register_in_parent(&self) -> Result<(), StageError> {
        let Some((parent, name)) = swap::split(&self.dest) else { return Ok(()) };
        match Ledger::read(&parent)? {
            // Recorded already (by the sweep that made the folder): nothing to append.
            Some(l) if l.get(&format!("{name}/")).is_some() => Ok(()),
            Some(_) => {
                Out::open(&parent, self.identity.source(), false)?.claim(&format!("{name}/"))?;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The destination's files replaced one by one by this run's identical
    /// ones, the manifest last; then the trace files of the earlier run
    /// (`old` is its manifest) that this one does not write are removed;
    /// anything else in it stays.
    fn replace_in_place(&self, old: &Value) -> Result<(), StageError> {
        let ours = Ledger::read(&self.tmp)?.unwrap_or_default();
        let mut names: Vec<String> =
            ours.entries().map(|e| e.name.clone()).filter(|n| self.tmp.join(n).exists()).collect();
        names.sort_by_key(|n| n == "manifest.json");
        let out = Out::open(&self.dest, self.identity.source(), true)?;
        for (i, name) in names.iter().enumerate() {
            let to = out.claim(name)?;
            std::fs::rename(self.tmp.join(name), &to).map_err(|e| StageError::Io(to.clone(), e))?;
            if i == 0 {
                swap::fault_point("inplace-midway");
            }
        }
        let _ = std::fs::remove_file(self.tmp.join(LEDGER));
        std::fs::remove_dir(&self.tmp).map_err(|e| StageError::Io(self.tmp.clone(), e))?;
        let recorded = Ledger::read(&self.dest)?.unwrap_or_default();
        let stale = old["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|f| TRACE_FILES.contains(f) && !names.iter().any(|n| n == f) && recorded.get(f).is_some());
        for f in stale {
            let p = self.dest.join(f);
            if p.is_file() {
                std::fs::remove_file(&p).map_err(|e| StageError::Io(p.clone(), e))?;
            }
        }
        Ok(())
    }

    /// The results go to a new directory next to the destination, because
    /// the destination can no longer take them (`why`).
    fn divert(mut self, why: StageError) -> Result<Committed, StageError> {
        let why = match why {
            StageError::Refused(m) => m,
            StageError::Io(p, e) => format!("{}: {e}", p.display()),
        };
        let to = free_sibling(&self.dest, None);
        std::fs::rename(&self.tmp, &to).map_err(|e| StageError::Io(to.clone(), e))?;
        self.committed = true;
        self.notes.push(format!("{why}: this run's results were kept in {} instead", to.display()));
        Ok(Committed { dir: to, notes: std::mem::take(&mut self.notes), in_place: false })
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // A run that failed before committing: its partial files go.
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> std::path::PathBuf {
        crate::files::scratch(&format!("staging-{tag}"))
    }

    fn identity(seed: u64, k: u32) -> RunIdentity {
        RunIdentity {
            scenario: serde_json::json!({"name": "r", "seed": seed, "protocol": {"k": k}}),
            source_sha1: "0123456789abcdef0123456789abcdef01234567".into(),
            trace: Value::Null,
        }
    }

    const FILES: [&str; 2] = ["ops.csv", "manifest.json"];

    /// Writes a run of `id` into `dest` whose ops.csv says `what`.
    fn write_run(dest: &Path, id: &RunIdentity, what: &str, replace: Replace) -> Result<PathBuf, StageError> {
        write_run_noted(dest, id, what, replace).map(|c| c.dir)
    }

    fn write_run_noted(dest: &Path, id: &RunIdentity, what: &str, replace: Replace) -> Result<Committed, StageError> {
        let files: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
        let s = Staged::begin(dest, id.clone(), &files, replace)?;
        std::fs::write(s.dir().join("ops.csv"), what).unwrap();
        let m = serde_json::json!({"scenario": id.scenario, "source_sha1": id.source_sha1, "trace_hash": what, "trace": null, "finished_at": "2026-12-07T10:32:05Z"});
        std::fs::write(s.dir().join("manifest.json"), m.to_string()).unwrap();
        s.commit(what)
    }

    fn ops(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("ops.csv")).unwrap()
    }

    #[test]
    fn an_uncommitted_run_leaves_the_previous_results_whole() {
        let root = scratch("keep");
        let dest = root.join("run");
        write_run(&dest, &identity(1, 20), "old", Replace::IfIdentical).unwrap();
        {
            let files: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
            let s = Staged::begin(&dest, identity(1, 20), &files, Replace::IfIdentical).unwrap();
            std::fs::write(s.dir().join("ops.csv"), "new ops").unwrap();
            // dropped: the run failed before its manifest
        }
        assert_eq!(ops(&dest), "old");
        let left: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("run")], "no temporary sibling remains");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn another_seed_is_refused_naming_the_earlier_run_and_force_replaces_it_whole() {
        let root = scratch("seed");
        let dest = root.join("run");
        write_run(&dest, &identity(1, 20), "seed 1", Replace::IfIdentical).unwrap();
        std::fs::write(
            Out::open(&dest, Source::new("charts", &[]), false).unwrap().claim("hops_cdf.png").unwrap(),
            "chart",
        )
        .unwrap();
        let Err(StageError::Refused(msg)) = write_run(&dest, &identity(2, 20), "seed 2", Replace::IfIdentical) else {
            panic!("another seed must be refused")
        };
        assert!(msg.contains("earlier run (r, seed 1, finished 2026-12-07 10:32:05 UTC)"), "{msg}");
        assert!(msg.contains("seed 1 (this run: 2)") && msg.contains("--out") && msg.contains("run-seed2"), "{msg}");
        let Err(StageError::Refused(msg)) = write_run(&dest, &identity(1, 8), "k 8", Replace::IfIdentical) else {
            panic!("another k must be refused")
        };
        assert!(msg.contains("protocol.k 20 (this run: 8)"), "{msg}");
        assert_eq!(ops(&dest), "seed 1");
        write_run(&dest, &identity(2, 20), "seed 2", Replace::Force).unwrap();
        assert_eq!(ops(&dest), "seed 2");
        assert!(!dest.join("hops_cdf.png").exists(), "the earlier run's chart went with it");
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn the_same_run_again_is_replaced_in_place_keeping_what_was_drawn_from_it() {
        let root = scratch("same");
        let dest = root.join("run");
        write_run(&dest, &identity(1, 20), "h1", Replace::IfIdentical).unwrap();
        std::fs::write(
            Out::open(&dest, Source::new("charts", &[]), false).unwrap().claim("hops_cdf.png").unwrap(),
            "chart",
        )
        .unwrap();
        assert_eq!(write_run(&dest, &identity(1, 20), "h1", Replace::IfIdentical).unwrap(), dest);
        assert!(dest.join("hops_cdf.png").exists());
        assert_eq!(foreign_in(&dest).unwrap(), None);
        // Same settings, other results (a hand-edited manifest): kept apart.
        let kept = write_run(&dest, &identity(1, 20), "h2", Replace::IfIdentical).unwrap();
        assert_eq!(kept, root.join("run-2"));
        assert_eq!((ops(&dest), ops(&kept)), ("h1".to_string(), "h2".to_string()));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_directory_with_other_files_is_refused_and_left_alone_even_with_force() {
        let root = scratch("refuse");
        let dest = root.join("run");
        write_run(&dest, &identity(1, 20), "x", Replace::IfIdentical).unwrap();
        std::fs::write(dest.join("thesis.tex"), "precious").unwrap();
        for replace in [Replace::IfIdentical, Replace::Force] {
            let Err(StageError::Refused(msg)) = write_run(&dest, &identity(2, 20), "y", replace) else { panic!() };
            assert!(msg.contains("thesis.tex: not written by kadsim"), "{msg}");
        }
        assert_eq!(std::fs::read_to_string(dest.join("thesis.tex")).unwrap(), "precious");
        assert!(matches!(
            Staged::begin(Path::new("."), identity(1, 20), &[], Replace::Force),
            Err(StageError::Refused(_))
        ));
        // Written by an older kadsim: no record, so nothing in it is known to be kadsim's.
        let legacy = root.join("legacy");
        std::fs::create_dir(&legacy).unwrap();
        std::fs::write(legacy.join("manifest.json"), "{}").unwrap();
        let Err(StageError::Refused(msg)) = write_run(&legacy, &identity(1, 20), "z", Replace::Force) else { panic!() };
        assert!(msg.contains("earlier kadsim that kept no record"), "{msg}");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn an_empty_directory_is_taken() {
        let root = scratch("empty");
        let dest = root.join("run");
        std::fs::create_dir(&dest).unwrap();
        write_run(&dest, &identity(1, 20), "x", Replace::IfIdentical).unwrap();
        assert_eq!(ops(&dest), "x");
        let _ = std::fs::remove_dir_all(&root);
    }
}
