//! Replacing a run directory as a whole, and settling what an interrupted
//! replacement left behind.
//!
//! A run is written into a sibling `.NAME.partial-PID` and put in place by
//! renames: when NAME already holds a run that may be replaced, NAME is first
//! moved aside to `.NAME.old-PID`, the new directory renamed to NAME, and the
//! old one removed. A process stopped between two steps leaves one of these
//! states, which the next command that touches NAME settles ([`settle`]) and
//! reports in a note:
//!
//! | left behind | meaning | settled by |
//! |---|---|---|
//! | `.partial` without its `manifest.json` | the run did not finish | removing it |
//! | `.partial` complete, NAME there | finished, never swapped in | removing it (the earlier run stays) |
//! | `.partial` complete, NAME missing, no `.old` | finished into a new place | renaming it to NAME |
//! | `.old` and complete `.partial`, NAME missing | stopped between the renames | renaming `.partial` to NAME, removing `.old` |
//! | `.old`, NAME missing, no `.partial` | the same, the new run lost | renaming `.old` back to NAME |
//! | `.old`, NAME there | stopped before the clean-up | removing `.old` |
//!
//! Only directories of processes that are gone are touched (Linux:
//! `/proc/PID`; elsewhere nothing is assumed gone), and only after checking
//! that everything in them is kadsim's ([`super::owned::foreign_in`]).

use super::ownership::{OwnError, io, remove_owned};
use super::siblings::{gone, sibling_parts};
pub use super::siblings::{is_live_sibling, is_sibling_name};
use std::path::{Path, PathBuf};

/// The environment variable that stops kadsim at a named step of a
/// replacement, as a crash would (tests only): `swap-aside` after NAME was
/// moved aside, `swap-renamed` after the new run took its place,
/// `inplace-midway` after the first file of an identical run was replaced.
pub const FAULT_VAR: &str = "KADSIM_TEST_FAULT";

/// Stops the process here, as a crash or `kill -9` would, when the test
/// fault point `step` is asked for.
pub fn fault_point(step: &str) {
    if std::env::var(FAULT_VAR).is_ok_and(|v| v == step) {
        eprintln!("kadsim: test fault point {step}: stopping");
        std::process::abort();
    }
}

/// The parent directory of `dest` and its file name.
pub fn split(dest: &Path) -> Option<(PathBuf, String)> {
    let name = dest.file_name()?.to_string_lossy().into_owned();
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((parent, name))
}

/// `.NAME.partial-PID` next to `dest`, for this process.
pub fn partial_of(dest: &Path) -> Option<PathBuf> {
    let (parent, name) = split(dest)?;
    Some(parent.join(format!(".{name}.partial-{}", std::process::id())))
}

/// `.NAME.old-PID` next to `dest`, for this process.
pub fn old_of(dest: &Path) -> Option<PathBuf> {
    let (parent, name) = split(dest)?;
    Some(parent.join(format!(".{name}.old-{}", std::process::id())))
}

/// A staged run is complete once its manifest, written last, is there.
fn complete(dir: &Path) -> bool {
    dir.join("manifest.json").is_file()
}

/// Settles what interrupted replacements of `dest` left next to it (see the
/// module's table) and returns one note per thing done.
pub fn settle(dest: &Path) -> Result<Vec<String>, OwnError> {
    let Some((parent, name)) = split(dest) else { return Ok(Vec::new()) };
    let Ok(entries) = std::fs::read_dir(&parent) else { return Ok(Vec::new()) };
    let mut partials: Vec<(String, PathBuf)> = Vec::new();
    let mut olds: Vec<(String, PathBuf)> = Vec::new();
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if let Some((base, kind, pid)) = sibling_parts(&n)
            && base == name
            && gone(pid)
            && e.path().is_dir()
        {
            let item = (pid.to_string(), e.path());
            if kind == "partial" { partials.push(item) } else { olds.push(item) }
        }
    }
    partials.sort();
    olds.sort();
    let mut notes = Vec::new();
    let shown = |p: &Path| p.display().to_string();
    for (pid, old) in &olds {
        if dest.exists() {
            remove_owned(old)?;
            notes.push(format!(
                "removed {}: the earlier run that {} replaced (a replacement stopped before its clean-up)",
                shown(old),
                shown(dest)
            ));
            continue;
        }
        match partials.iter().position(|(p, dir)| p == pid && complete(dir)) {
            Some(i) => {
                let (_, new) = partials.remove(i);
                std::fs::rename(&new, dest).map_err(io(dest))?;
                remove_owned(old)?;
                notes.push(format!(
                    "{}: finished a replacement that was stopped halfway: the new run (from {}) is in place, the earlier run it replaced is removed",
                    shown(dest),
                    shown(&new)
                ));
            }
            None => {
                std::fs::rename(old, dest).map_err(io(dest))?;
                notes.push(format!(
                    "{}: restored the earlier run from {}, left by a replacement that was stopped halfway",
                    shown(dest),
                    shown(old)
                ));
            }
        }
    }
    for (_, partial) in &partials {
        if !dest.exists() && complete(partial) {
            std::fs::rename(partial, dest).map_err(io(dest))?;
            notes.push(format!(
                "{}: put in place a finished run that was stopped before it was (from {})",
                shown(dest),
                shown(partial)
            ));
            continue;
        }
        let finished = complete(partial);
        remove_owned(partial)?;
        notes.push(if finished {
            format!(
                "removed {}: a finished run that was stopped before it was put in place; {} holds a complete run",
                shown(partial),
                shown(dest)
            )
        } else {
            format!("removed {}: the files of a run into {} that did not finish", shown(partial), shown(dest))
        });
    }
    Ok(notes)
}

/// Puts the complete directory `new` in the place of the existing `dest`:
/// `dest` moved aside, `new` renamed in, the old one removed (see the module
/// doc for what a stop between the steps leaves).
pub fn swap_in(new: &Path, dest: &Path) -> Result<(), OwnError> {
    let old = old_of(dest).ok_or_else(|| OwnError::Refused(format!("{}: not a directory name", dest.display())))?;
    if old.exists() {
        remove_owned(&old)?;
    }
    std::fs::rename(dest, &old).map_err(io(dest))?;
    fault_point("swap-aside");
    if let Err(err) = std::fs::rename(new, dest) {
        let _ = std::fs::rename(&old, dest);
        return Err(OwnError::Io { path: dest.to_path_buf(), err });
    }
    fault_point("swap-renamed");
    remove_owned(&old)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::owned::{Out, Source};

    fn scratch(tag: &str) -> std::path::PathBuf {
        crate::files::scratch(&format!("swap-{tag}"))
    }

    /// A kadsim-owned run directory at `dir` whose ops.csv says `what`.
    fn run(dir: &Path, what: &str, complete: bool) {
        let out = Out::open(dir, Source::new("run", &[]), false).unwrap();
        std::fs::write(out.claim("ops.csv").unwrap(), what).unwrap();
        if complete {
            std::fs::write(out.claim("manifest.json").unwrap(), "{}").unwrap();
        }
    }

    /// A PID far above Linux's pid_max: no such process.
    const DEAD: &str = "4294967";

    fn ops(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("ops.csv")).unwrap()
    }

    #[test]
    fn names_of_siblings() {
        assert_eq!(sibling_parts(".churn.partial-123"), Some(("churn", "partial", "123")));
        assert_eq!(sibling_parts(".a.old-b.old-7"), Some(("a.old-b", "old", "7")));
        assert_eq!(sibling_parts(".churn.partial-"), None);
        assert_eq!(sibling_parts("churn.partial-1"), None);
        assert_eq!(sibling_parts(".x.partial-1a"), None);
    }

    #[test]
    fn every_state_an_interrupted_swap_leaves_is_settled() {
        if !Path::new("/proc").is_dir() {
            return;
        }
        let root = scratch("states");
        let dest = root.join("r");
        let partial = root.join(format!(".r.partial-{DEAD}"));
        let old = root.join(format!(".r.old-{DEAD}"));

        // Stopped between the renames: roll forward.
        run(&old, "earlier", true);
        run(&partial, "new", true);
        let notes = settle(&dest).unwrap();
        assert_eq!(ops(&dest), "new");
        assert!(!old.exists() && !partial.exists());
        assert!(notes[0].contains("finished a replacement"), "{notes:?}");

        // Stopped between the renames without a new run: roll back.
        std::fs::rename(&dest, &old).unwrap();
        let notes = settle(&dest).unwrap();
        assert_eq!(ops(&dest), "new");
        assert!(notes[0].contains("restored the earlier run"), "{notes:?}");

        // Stopped before the clean-up: the earlier run goes.
        run(&old, "earlier", true);
        assert!(settle(&dest).unwrap()[0].contains("removed"));
        assert!(!old.exists());
        assert_eq!(ops(&dest), "new");

        // An unfinished run, and a finished one that never swapped in: removed, NAME unchanged.
        run(&partial, "half", false);
        assert!(settle(&dest).unwrap()[0].contains("did not finish"));
        run(&partial, "whole", true);
        assert!(settle(&dest).unwrap()[0].contains("holds a complete run"));
        assert_eq!(ops(&dest), "new");

        // A finished run into a place that did not exist: put in place.
        std::fs::remove_dir_all(&dest).unwrap();
        run(&partial, "whole", true);
        settle(&dest).unwrap();
        assert_eq!(ops(&dest), "whole");
        assert!(settle(&dest).unwrap().is_empty(), "nothing left to settle");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_leftover_holding_a_users_file_is_not_removed() {
        if !Path::new("/proc").is_dir() {
            return;
        }
        let root = scratch("foreign");
        let dest = root.join("r");
        run(&dest, "new", true);
        let old = root.join(format!(".r.old-{DEAD}"));
        run(&old, "earlier", true);
        std::fs::write(old.join("notes.txt"), "mine").unwrap();
        assert!(matches!(settle(&dest), Err(OwnError::Foreign { .. })));
        assert!(old.join("notes.txt").exists());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_swap_replaces_the_directory_whole() {
        let root = scratch("swap");
        let dest = root.join("r");
        run(&dest, "earlier", true);
        let new = partial_of(&dest).unwrap();
        run(&new, "new", true);
        swap_in(&new, &dest).unwrap();
        assert_eq!(ops(&dest), "new");
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
        let _ = std::fs::remove_dir_all(&root);
    }
}
