//! A results directory written as a whole. The files of a run go into a
//! temporary sibling (`.NAME.partial-PID`); when every one is complete the
//! sibling takes the destination's place: an existing destination is first
//! moved aside (`.NAME.old-PID`), the new one renamed in, the old one removed.
//! A run that fails or is killed leaves the previous results untouched (and at
//! most a `.partial` sibling, removed by the next run to the same place), so
//! `report` or `compare` never read files of two runs as one.
//!
//! The destination is only replaced when it is empty or holds kadsim results:
//! `--out` pointed at a directory of other files is refused, not emptied.

use std::path::{Path, PathBuf};

/// Files and folders that kadsim writes into a results directory.
const KNOWN: [&str; 15] = [
    "ops.csv",
    "timeseries.csv",
    "nodes.csv",
    "buckets.csv",
    "summary.csv",
    "manifest.json",
    "report.md",
    "compare",
    "charts",
    "README.md",
    "trace.csv",
    "trace.csv.gz",
    "messages.csv",
    "messages.csv.gz",
    "trace",
];

/// Why a destination cannot take a run's results.
#[derive(Debug)]
pub enum StageError {
    /// The destination is not a place for results (bad input).
    Refused(String),
    /// A file-system call failed.
    Io(PathBuf, std::io::Error),
}

/// A run's results being written, to be put in place by [`Staged::commit`].
#[derive(Debug)]
pub struct Staged {
    dest: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

/// Whether `dir` may be replaced: empty, or holding a kadsim run (its
/// manifest, or only files kadsim writes: a run killed under an older version
/// may have left CSVs without a manifest).
fn replaceable(dir: &Path) -> Result<bool, std::io::Error> {
    if dir.join("manifest.json").is_file() {
        return Ok(true);
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let chart = name.ends_with(".png") || name.ends_with(".svg") || name.ends_with(".pdf");
        let temp = name.ends_with(".tmp");
        if !(KNOWN.contains(&name.as_ref()) || chart || temp) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The process that made a `.partial-PID` sibling is gone (Linux: no
/// `/proc/PID`; elsewhere nothing is assumed gone).
fn abandoned(pid: &str) -> bool {
    let proc = Path::new("/proc");
    proc.is_dir() && pid.parse::<u32>().is_ok() && !proc.join(pid).exists()
}

impl Staged {
    /// Prepares to write results for `dest`: checks that `dest` may be
    /// replaced, clears siblings left by killed runs, and creates the
    /// temporary directory.
    pub fn begin(dest: &Path) -> Result<Staged, StageError> {
        let Some(name) = dest.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Err(StageError::Refused(format!(
                "{}: the output must name a directory (not '.', '..' or a root)",
                dest.display()
            )));
        };
        if dest.exists() {
            if !dest.is_dir() {
                return Err(StageError::Refused(format!("{}: exists and is not a directory", dest.display())));
            }
            match replaceable(dest) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(StageError::Refused(format!(
                        "{}: exists and holds files that are not kadsim results; remove it or choose another --out",
                        dest.display()
                    )));
                }
                Err(e) => return Err(StageError::Io(dest.to_path_buf(), e)),
            }
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| StageError::Io(parent.clone(), e))?;
        // Siblings of runs that were killed before they finished.
        let partial = format!(".{name}.partial-");
        if let Ok(entries) = std::fs::read_dir(&parent) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = n.strip_prefix(&partial)
                    && abandoned(pid)
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let tmp = parent.join(format!("{partial}{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| StageError::Io(tmp.clone(), e))?;
        }
        std::fs::create_dir(&tmp).map_err(|e| StageError::Io(tmp.clone(), e))?;
        Ok(Staged { dest: dest.to_path_buf(), tmp, committed: false })
    }

    /// Where the files go until [`commit`](Staged::commit).
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Puts the written directory in the destination's place.
    pub fn commit(mut self) -> Result<(), StageError> {
        let io = |p: &Path, e| StageError::Io(p.to_path_buf(), e);
        let name = self.dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let old = self.tmp.with_file_name(format!(".{name}.old-{}", std::process::id()));
        let had_old = self.dest.exists();
        if had_old {
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(|e| io(&old, e))?;
            }
            std::fs::rename(&self.dest, &old).map_err(|e| io(&self.dest, e))?;
        }
        if let Err(e) = std::fs::rename(&self.tmp, &self.dest) {
            if had_old {
                let _ = std::fs::rename(&old, &self.dest);
            }
            return Err(io(&self.dest, e));
        }
        self.committed = true;
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
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

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kadsim-staging-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn an_uncommitted_run_leaves_the_previous_results_whole() {
        let root = scratch("keep");
        let dest = root.join("run");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("manifest.json"), "old").unwrap();
        std::fs::write(dest.join("ops.csv"), "old ops").unwrap();
        {
            let s = Staged::begin(&dest).unwrap();
            std::fs::write(s.dir().join("ops.csv"), "new ops").unwrap();
            // dropped: the run failed before its manifest
        }
        assert_eq!(std::fs::read_to_string(dest.join("ops.csv")).unwrap(), "old ops");
        let left: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("run")], "no temporary sibling remains");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_commit_replaces_the_whole_directory() {
        let root = scratch("swap");
        let dest = root.join("run");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("manifest.json"), "old").unwrap();
        std::fs::write(dest.join("hops_cdf.png"), "old chart").unwrap();
        let s = Staged::begin(&dest).unwrap();
        std::fs::write(s.dir().join("manifest.json"), "new").unwrap();
        s.commit().unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("manifest.json")).unwrap(), "new");
        assert!(!dest.join("hops_cdf.png").exists(), "the old run's chart went with it");
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_directory_of_other_files_is_refused_and_left_alone() {
        let root = scratch("refuse");
        std::fs::write(root.join("thesis.tex"), "precious").unwrap();
        assert!(matches!(Staged::begin(&root), Err(StageError::Refused(_))));
        assert_eq!(std::fs::read_to_string(root.join("thesis.tex")).unwrap(), "precious");
        assert!(matches!(Staged::begin(Path::new(".")), Err(StageError::Refused(_))));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn siblings_of_killed_runs_are_cleared() {
        let root = scratch("stale");
        let dest = root.join("run");
        // A PID far above Linux's pid_max: no such process.
        let stale = root.join(".run.partial-4294967");
        std::fs::create_dir(&stale).unwrap();
        let s = Staged::begin(&dest).unwrap();
        if Path::new("/proc").is_dir() {
            assert!(!stale.exists());
        }
        s.commit().unwrap();
        assert!(dest.is_dir());
        let _ = std::fs::remove_dir_all(&root);
    }
}
