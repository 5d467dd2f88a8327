//! Output directories kadsim owns (DESIGN.md §5, rule 5 of the house: a
//! user's files are sacred). Every command that writes files (`run`,
//! `sweep`, `merge`, `plot`, `report`, `trace`, `compare`) writes them
//! through an [`Out`], which records each file in the directory's
//! [`Ledger`] before writing it, and refuses:
//! - a file kadsim did not write ([`OwnError::Foreign`]): never overwritten;
//! - a file kadsim wrote from something else ([`OwnError::Other`]): the
//!   charts of another run, say; replaced only with `--force`.
//!
//! A directory is replaced or emptied as a whole only when every entry in it,
//! at every depth, is kadsim's ([`foreign_in`]).

use super::ledger::{Entry, LEDGER, Ledger, LedgerError, is_ledger_name, plain_name};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What an output is made from: a short digest to compare, and words for
/// messages (`charts of results/churn`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// 16 hex digits.
    pub id: String,
    /// What it is, in words.
    pub label: String,
}

impl Source {
    /// The source named `label`, identified by the SHA-1 of `parts`.
    pub fn new(label: impl Into<String>, parts: &[&[u8]]) -> Source {
        use sha1::{Digest, Sha1};
        let mut h = Sha1::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        let id = h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
        Source { id, label: label.into() }
    }
}

/// Why kadsim will not write where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum OwnError {
    /// A file or folder kadsim did not write is in the way.
    #[error(
        "{}: not written by kadsim (it is not in the directory's record of kadsim's files); kadsim never overwrites or deletes what it did not write: move it away or choose another {flag}",
        path.display()
    )]
    Foreign {
        /// The foreign entry.
        path: PathBuf,
        /// The option that chose the place, e.g. `--out`.
        flag: &'static str,
    },
    /// A file kadsim wrote from something else is in the way.
    #[error("{}: holds {label}; replace it with --force, or choose another --out", path.display())]
    Other {
        /// The file.
        path: PathBuf,
        /// What it was made from.
        label: String,
    },
    /// The directory's record of kadsim's files is damaged.
    #[error("{0}")]
    Ledger(#[from] LedgerError),
    /// A refusal worded by the caller (an earlier run in the way, say).
    #[error("{0}")]
    Refused(String),
    /// A file-system call failed.
    #[error("cannot write {}: {err}", path.display())]
    Io {
        /// Where.
        path: PathBuf,
        /// The error.
        err: std::io::Error,
    },
}

impl OwnError {
    /// Exit code: 3 for a failed file-system call, 2 (bad input) otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            OwnError::Io { .. } => 3,
            _ => 2,
        }
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OwnError + '_ {
    move |err| OwnError::Io { path: path.to_path_buf(), err }
}

/// A directory kadsim writes outputs of one [`Source`] into.
#[derive(Debug)]
pub struct Out {
    dir: PathBuf,
    source: Source,
    force: bool,
    /// The record file this writer appends to, when several write into the
    /// same directories at once (`shard-2-of-8`); the shared one otherwise.
    writer: Option<String>,
    ledger: Mutex<Ledger>,
    /// Lines to tell the user (leftovers of interrupted commands settled).
    pub notes: Vec<String>,
}

impl Out {
    /// Opens `dir` for the outputs of `source`, creating it (and its parents)
    /// when missing; with `force`, files kadsim wrote from another source may
    /// be replaced. Files already there that kadsim did not write stay, and
    /// stay untouched. Leftovers of an interrupted replacement of `dir` are
    /// settled first ([`super::swap::settle`]).
    pub fn open(dir: &Path, source: Source, force: bool) -> Result<Out, OwnError> {
        let notes = super::swap::settle(dir)?;
        let made = !dir.exists();
        if !made {
            if !dir.is_dir() {
                return Err(OwnError::Refused(format!("{}: exists and is not a directory", dir.display())));
            }
        } else {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
                // Made inside a directory kadsim owns (compare/ in a run): recorded there.
                if parent.join(LEDGER).is_file()
                    && let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned())
                {
                    Out::attach(parent, &source, force, false)?.claim(&format!("{name}/"))?;
                }
            }
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let mut out = Out::attach(dir, &source, force, made)?;
        out.notes = notes;
        Ok(out)
    }

    /// Starts this writer's record file in the directory if it has none:
    /// the folder is kadsim's before anything is written in it.
    fn mark(&self) -> Result<(), OwnError> {
        let name = self.writer.as_ref().map_or_else(|| LEDGER.to_string(), |w| format!("{LEDGER}.{w}"));
        let path = self.dir.join(name);
        std::fs::OpenOptions::new().append(true).create(true).open(&path).map_err(io(&path))?;
        Ok(())
    }

    /// An existing directory, opened without settling; with `mark`, its
    /// record of kadsim's files is started if it has none (a folder kadsim
    /// made, marked as kadsim's before anything is written in it). Otherwise
    /// the record is started by the first claim, so that a refused command
    /// leaves a user's folder as it was.
    fn attach(dir: &Path, source: &Source, force: bool, mark: bool) -> Result<Out, OwnError> {
        let ledger = match Ledger::read(dir)? {
            Some(l) => l,
            None => {
                if mark {
                    let path = dir.join(LEDGER);
                    std::fs::OpenOptions::new().append(true).create(true).open(&path).map_err(io(&path))?;
                }
                Ledger::default()
            }
        };
        Ok(Out {
            dir: dir.to_path_buf(),
            source: source.clone(),
            force,
            writer: None,
            ledger: Mutex::new(ledger),
            notes: Vec::new(),
        })
    }

    /// This Out (and the folders made through it) records its files in the
    /// record file of `writer` (e.g. `shard-2-of-8`), for processes writing
    /// into the same directories at once.
    pub fn as_writer(mut self, writer: &str) -> Out {
        self.writer = Some(writer.to_string());
        self
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// What is written here.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Whether files of other sources may be replaced.
    pub fn force(&self) -> bool {
        self.force
    }

    /// Records `name` (a file, or a folder when it ends in `/`) as this
    /// source's and returns its path, or refuses when something kadsim did
    /// not write, or wrote from another source (without `--force`), is there.
    pub fn claim(&self, name: &str) -> Result<PathBuf, OwnError> {
        self.claim_all([name]).map(|mut v| v.remove(0))
    }

    /// Claims every name, each checked before any is recorded: a refusal
    /// leaves the directory as it was.
    pub fn claim_all<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Result<Vec<PathBuf>, OwnError> {
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        let mut paths = Vec::new();
        let mut new = Vec::new();
        for name in names {
            assert!(plain_name(name), "kadsim's own output names are plain: {name:?}");
            let path = self.dir.join(name.trim_end_matches('/'));
            let exists = std::fs::symlink_metadata(&path).is_ok();
            if exists && ledger.get(name).is_none_or(|e| e.source != self.source.id) {
                // Another process (a shard beside this one) may have recorded it since.
                *ledger = Ledger::read(&self.dir)?.unwrap_or_default();
            }
            let recorded = ledger.get(name);
            if exists {
                match recorded {
                    None => return Err(OwnError::Foreign { path, flag: "--out" }),
                    Some(e) if e.source != self.source.id && !self.force && !name.ends_with('/') => {
                        return Err(OwnError::Other { path, label: e.label.clone() });
                    }
                    Some(_) => {}
                }
                if path.is_dir() != name.ends_with('/') {
                    return Err(OwnError::Foreign { path, flag: "--out" });
                }
            }
            if recorded.is_none_or(|e| e.source != self.source.id) {
                new.push(name);
            }
            paths.push(path);
        }
        for name in new {
            ledger
                .append(&self.dir, Entry::new(name, &self.source.id, &self.source.label), self.writer.as_deref())
                .map_err(io(&self.dir.join(LEDGER)))?;
        }
        Ok(paths)
    }

    /// The folder `name` inside, claimed and created, for outputs of the same source.
    pub fn subdir(&self, name: &str) -> Result<Out, OwnError> {
        let path = self.claim(&format!("{name}/"))?;
        std::fs::create_dir_all(&path).map_err(io(&path))?;
        let mut sub = Out::attach(&path, &self.source, self.force, false)?;
        sub.writer = self.writer.clone();
        sub.mark()?;
        Ok(sub)
    }
}

/// Whether `name` is a leftover of kadsim's own in a directory whose record
/// is `ledger`: a file being written (`NAME.tmp` of a recorded NAME), or a
/// run directory being staged or replaced (`.NAME.partial-PID`,
/// `.NAME.old-PID`, which hold a record of their own, or are a running
/// process's that may not have written it yet).
fn leftover(dir: &Path, name: &str, ledger: Option<&Ledger>) -> bool {
    if let Some(base) = name.strip_suffix(".tmp") {
        return ledger.is_some_and(|l| l.get(base).is_some()) || base == LEDGER;
    }
    if is_ledger_name(name) {
        return true;
    }
    super::swap::is_sibling_name(name) && (dir.join(name).join(LEDGER).is_file() || super::swap::is_live_sibling(name))
}

/// The entries of `dir`, by name, sorted.
fn names_in(dir: &Path) -> Result<Vec<String>, OwnError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(io(dir))?;
    names.sort();
    Ok(names)
}

/// Whether `dir` holds anything but kadsim's record of its files and files
/// or runs kadsim is writing (or was, when it was stopped).
pub fn has_content(dir: &Path) -> Result<bool, OwnError> {
    let names = names_in(dir)?;
    // Read after the listing: an entry is recorded before it is made, so the
    // record covers everything listed, whatever another process does meanwhile.
    let ledger = Ledger::read(dir)?;
    for name in names {
        if !leftover(dir, &name, ledger.as_ref()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The first entry under `dir` (in name order, at any depth) that kadsim did
/// not write, if any. A directory without a record holds only foreign
/// entries, unless it is empty.
pub fn foreign_in(dir: &Path) -> Result<Option<PathBuf>, OwnError> {
    let names = names_in(dir)?;
    // After the listing, as in `has_content`.
    let ledger = Ledger::read(dir)?;
    for name in names {
        let path = dir.join(&name);
        if leftover(dir, &name, ledger.as_ref()) {
            if path.is_dir()
                && let Some(f) = foreign_in(&path)?
            {
                return Ok(Some(f));
            }
            continue;
        }
        let is_dir = std::fs::symlink_metadata(&path).map_err(io(&path))?.is_dir();
        let key = if is_dir { format!("{name}/") } else { name.clone() };
        if ledger.as_ref().and_then(|l| l.get(&key)).is_none() {
            return Ok(Some(path));
        }
        if is_dir && let Some(f) = foreign_in(&path)? {
            return Ok(Some(f));
        }
    }
    Ok(None)
}

/// Removes `dir` and everything in it, after checking that all of it is
/// kadsim's; otherwise refuses, naming the first foreign entry.
pub fn remove_owned(dir: &Path) -> Result<(), OwnError> {
    if let Some(path) = foreign_in(dir)? {
        return Err(OwnError::Foreign { path, flag: "--out" });
    }
    std::fs::remove_dir_all(dir).map_err(io(dir))
}

/// Empties `dir` of everything kadsim wrote there (its record too), after
/// checking that nothing else is in it.
pub fn clear_owned(dir: &Path) -> Result<(), OwnError> {
    if let Some(path) = foreign_in(dir)? {
        return Err(OwnError::Foreign { path, flag: "--out" });
    }
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = e.map_err(io(dir))?.path();
        if path.file_name().is_some_and(|n| is_ledger_name(&n.to_string_lossy())) {
            continue;
        }
        if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) }.map_err(io(&path))?;
    }
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = e.map_err(io(dir))?.path();
        if path.file_name().is_some_and(|n| is_ledger_name(&n.to_string_lossy())) {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> std::path::PathBuf {
        crate::files::scratch(&format!("owned-{tag}"))
    }

    fn src(label: &str) -> Source {
        Source::new(label, &[label.as_bytes()])
    }

    #[test]
    fn a_users_file_is_never_claimed_and_its_neighbours_are_written() {
        let d = scratch("foreign");
        std::fs::write(d.join("hops_cdf.png"), "the user's").unwrap();
        std::fs::write(d.join("thesis.tex"), "precious").unwrap();
        let out = Out::open(&d, src("a"), true).unwrap();
        assert!(matches!(out.claim("hops_cdf.png"), Err(OwnError::Foreign { .. })), "not even with --force");
        let p = out.claim("latency_cdf.png").unwrap();
        std::fs::write(&p, "chart").unwrap();
        assert_eq!(std::fs::read_to_string(d.join("thesis.tex")).unwrap(), "precious");
        assert_eq!(foreign_in(&d).unwrap(), Some(d.join("hops_cdf.png")));
        assert!(matches!(remove_owned(&d), Err(OwnError::Foreign { .. })));
        assert!(d.join("thesis.tex").exists());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_file_of_another_source_needs_force() {
        let d = scratch("other");
        let a = Out::open(&d, src("charts of results/a"), false).unwrap();
        std::fs::write(a.claim("hops_cdf.png").unwrap(), "a").unwrap();
        drop(a);
        // The same source again: fine.
        Out::open(&d, src("charts of results/a"), false).unwrap().claim("hops_cdf.png").unwrap();
        let b = Out::open(&d, src("charts of results/b"), false).unwrap();
        let e = b.claim("hops_cdf.png").unwrap_err();
        assert!(e.to_string().contains("holds charts of results/a"), "{e}");
        Out::open(&d, src("charts of results/b"), true).unwrap().claim("hops_cdf.png").unwrap();
        // Now b's: a needs --force in its turn.
        assert!(Out::open(&d, src("charts of results/a"), false).unwrap().claim("hops_cdf.png").is_err());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn an_all_kadsim_tree_is_removed_and_leftovers_count_as_kadsims() {
        let d = scratch("tree");
        let run = d.join("run");
        let out = Out::open(&run, src("run"), false).unwrap();
        std::fs::write(out.claim("ops.csv").unwrap(), "x").unwrap();
        std::fs::write(run.join("ops.csv.tmp"), "half").unwrap();
        let charts = out.subdir("charts").unwrap();
        std::fs::write(charts.claim("a.png").unwrap(), "x").unwrap();
        assert_eq!(foreign_in(&run).unwrap(), None);
        std::fs::write(run.join("charts/mine.txt"), "user").unwrap();
        assert_eq!(foreign_in(&run).unwrap(), Some(run.join("charts/mine.txt")));
        std::fs::remove_file(run.join("charts/mine.txt")).unwrap();
        clear_owned(&run).unwrap();
        assert_eq!(std::fs::read_dir(&run).unwrap().count(), 0);
        std::fs::write(Out::open(&run, src("run"), false).unwrap().claim("ops.csv").unwrap(), "x").unwrap();
        remove_owned(&run).unwrap();
        assert!(!run.exists());
        // A directory without a record holds nothing of kadsim's.
        std::fs::create_dir(&run).unwrap();
        std::fs::write(run.join("manifest.json"), "{}").unwrap();
        assert_eq!(foreign_in(&run).unwrap(), Some(run.join("manifest.json")));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_folder_made_inside_an_owned_directory_is_recorded_there() {
        let d = scratch("nested");
        let run = Out::open(&d.join("run"), src("run"), false).unwrap();
        std::fs::write(run.claim("ops.csv").unwrap(), "x").unwrap();
        let cmp = Out::open(&d.join("run/compare"), src("comparison"), false).unwrap();
        std::fs::write(cmp.claim("compare_hops_cdf.png").unwrap(), "x").unwrap();
        assert_eq!(foreign_in(&d.join("run")).unwrap(), None);
        let _ = std::fs::remove_dir_all(&d);
    }
}
