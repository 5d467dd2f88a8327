//! What in a directory is kadsim's (DESIGN.md §7: a user's files are
//! sacred): the error of a place kadsim will not write, and the checks that
//! find a foreign entry before kadsim removes or empties a directory.

use super::ledger::{LEDGER, Ledger, LedgerError, is_ledger_name};
use std::path::{Path, PathBuf};

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
    super::siblings::is_sibling_name(name)
        && (dir.join(name).join(LEDGER).is_file() || super::siblings::is_live_sibling(name))
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
