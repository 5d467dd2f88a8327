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

use super::ledger::{Entry, LEDGER, Ledger, plain_name};
pub(crate) use super::ownership::io;
pub use super::ownership::{OwnError, clear_owned, foreign_in, has_content, remove_owned};
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
