//! The record of what kadsim wrote in a directory: `.kadsim-owned`, one line
//! per entry (`NAME<TAB>SOURCE<TAB>LABEL`; a directory's NAME ends in `/`).
//! SOURCE names what the entry was made from (a run, a comparison, a sweep)
//! as a short digest, LABEL says it in words for messages. A name that is
//! not in the record was not written by kadsim, and kadsim never overwrites
//! or deletes it ([`super::owned`]).
//!
//! Lines are appended with one `write` each to a file opened for appending;
//! an entry is recorded before its file is written, so a process killed in
//! between leaves at most a record of a file that is not there, never a file
//! without a record. Processes that write into one directory at the same
//! time (the shards of a sweep, on one machine or over NFS, where appends
//! from two clients are not atomic) each append to a record of their own,
//! `.kadsim-owned.<writer>` (e.g. `.kadsim-owned.shard-2-of-8`); the
//! directory's record is all of them together.

use super::bounded;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The file name of the record.
pub const LEDGER: &str = ".kadsim-owned";

/// Whether `name` is one of a directory's record files: [`LEDGER`], or
/// `LEDGER.<writer>` of one writer among several.
pub fn is_ledger_name(name: &str) -> bool {
    name == LEDGER || name.strip_prefix(LEDGER).and_then(|r| r.strip_prefix('.')).is_some_and(writer_name)
}

/// Whether `w` may name a writer: letters, digits and `-`.
fn writer_name(w: &str) -> bool {
    !w.is_empty() && w.len() <= 64 && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The record file of `writer` (the shared one without).
fn file_of(writer: Option<&str>) -> String {
    match writer {
        Some(w) => format!("{LEDGER}.{w}"),
        None => LEDGER.to_string(),
    }
}

/// The most bytes a label keeps.
const MAX_LABEL: usize = 300;

/// One entry kadsim wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The entry's name in its directory; `/` at the end for a directory.
    pub name: String,
    /// What it was made from: a digest (16 hex digits).
    pub source: String,
    /// The same in words, e.g. `charts of results/churn`.
    pub label: String,
}

/// A record that cannot be read: the file and line at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {msg}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct LedgerError {
    /// The record's path.
    pub path: PathBuf,
    /// The line, when the fault is on one.
    pub line: Option<u64>,
    /// What is wrong.
    pub msg: String,
}

/// The entries of one directory's record, by name (a later line for the same
/// name replaces an earlier one).
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    entries: BTreeMap<String, Entry>,
}

/// Whether `name` may be an entry: one plain path component, a directory's
/// with one `/` at the end.
pub fn plain_name(name: &str) -> bool {
    let base = name.strip_suffix('/').unwrap_or(name);
    !base.is_empty() && base != "." && base != ".." && !base.contains(['/', '\\', '\t', '\n', '\r', '\0'])
}

/// `text` on one line without tabs, cut to [`MAX_LABEL`] bytes.
fn clean_label(text: &str) -> String {
    let mut s: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if s.len() > MAX_LABEL {
        let mut end = MAX_LABEL;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

impl Entry {
    /// An entry; the label is put on one line and cut to a few hundred bytes.
    pub fn new(name: &str, source: &str, label: &str) -> Entry {
        Entry { name: name.to_string(), source: source.to_string(), label: clean_label(label) }
    }

    fn line(&self) -> String {
        format!("{}\t{}\t{}\n", self.name, self.source, self.label)
    }
}

impl Ledger {
    /// The record of `dir` (all its record files, the shared one first, then
    /// the writers' in name order), or `None` when it has none.
    pub fn read(dir: &Path) -> Result<Option<Ledger>, LedgerError> {
        let mut files: Vec<String> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .filter(|n| is_ledger_name(n))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(LedgerError { path: dir.to_path_buf(), line: None, msg: format!("cannot read: {e}") });
            }
        };
        if files.is_empty() {
            return Ok(None);
        }
        files.sort_by_key(|n| (n != LEDGER, n.clone()));
        let mut ledger = Ledger::default();
        for f in files {
            ledger.read_file(&dir.join(f))?;
        }
        Ok(Some(ledger))
    }

    /// Adds the entries of the record file `path`.
    fn read_file(&mut self, path: &Path) -> Result<(), LedgerError> {
        let err = |line: Option<u64>, msg: String| LedgerError { path: path.to_path_buf(), line, msg };
        let reader = bounded::open_lines(path).map_err(|e| err(None, e.to_string()))?;
        for (i, line) in std::io::BufReader::new(reader).lines().enumerate() {
            let n = i as u64 + 1;
            let line = line.map_err(|e| err(Some(n), format!("cannot read: {e}")))?;
            let mut parts = line.split('\t');
            let (Some(name), Some(source), Some(label), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(err(
                    Some(n),
                    "expected NAME<TAB>SOURCE<TAB>LABEL (a damaged record of kadsim's files)".into(),
                ));
            };
            if !plain_name(name) {
                return Err(err(Some(n), format!("{:?} is not a file name in this directory", clip(name))));
            }
            if source.len() != 16 || !source.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err(Some(n), format!("source: expected 16 hex digits, got {:?}", clip(source))));
            }
            self.entries.insert(name.to_string(), Entry::new(name, source, label));
        }
        Ok(())
    }

    /// The entry named `name` (`NAME/` for a directory), if recorded.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// Every entry, by name.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Records `entry` in `dir`'s record (created if missing), here and on
    /// disk: in the record file of `writer`, or the shared one.
    pub fn append(&mut self, dir: &Path, entry: Entry, writer: Option<&str>) -> std::io::Result<()> {
        let path = dir.join(file_of(writer));
        let mut f = std::fs::OpenOptions::new().append(true).create(true).open(&path)?;
        // One write: appends by other processes never interleave with it.
        f.write_all(entry.line().as_bytes())?;
        self.entries.insert(entry.name.clone(), entry);
        Ok(())
    }

    /// Writes the record of `dir` anew with exactly these entries (after
    /// kadsim removed some), replacing the shared file as a whole and
    /// removing the writers' files.
    pub fn rewrite(&mut self, dir: &Path, entries: Vec<Entry>) -> std::io::Result<()> {
        let tmp = dir.join(format!("{LEDGER}.tmp"));
        let text: String = entries.iter().map(Entry::line).collect();
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, dir.join(LEDGER))?;
        for e in std::fs::read_dir(dir)? {
            let name = e?.file_name().to_string_lossy().into_owned();
            if name != LEDGER && is_ledger_name(&name) {
                std::fs::remove_file(dir.join(name))?;
            }
        }
        self.entries = entries.into_iter().map(|e| (e.name.clone(), e)).collect();
        Ok(())
    }
}

fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    crate::scenario::clip::clip(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> std::path::PathBuf {
        crate::files::scratch(&format!("ledger-{tag}"))
    }

    #[test]
    fn entries_appended_are_read_back_the_latest_winning() {
        let d = scratch("append");
        assert!(Ledger::read(&d).unwrap().is_none());
        let mut l = Ledger::default();
        l.append(&d, Entry::new("ops.csv", "0123456789abcdef", "run churn"), None).unwrap();
        l.append(&d, Entry::new("charts/", "0123456789abcdef", "charts\tof\nchurn"), None).unwrap();
        l.append(&d, Entry::new("ops.csv", "fedcba9876543210", "run other"), None).unwrap();
        l.append(&d, Entry::new("runs/", "0123456789abcdef", "shard 2"), Some("shard-2-of-2")).unwrap();
        let back = Ledger::read(&d).unwrap().unwrap();
        assert_eq!(back.get("ops.csv").unwrap().source, "fedcba9876543210");
        assert_eq!(back.get("charts/").unwrap().label, "charts of churn");
        assert_eq!(back.entries().count(), 3, "the writer's record is part of the directory's");
        assert!(d.join(".kadsim-owned.shard-2-of-2").is_file());
        let mut back = back;
        back.rewrite(&d, vec![Entry::new("ops.csv", "0123456789abcdef", "x")]).unwrap();
        assert_eq!(Ledger::read(&d).unwrap().unwrap().entries().count(), 1);
        assert!(!d.join(".kadsim-owned.shard-2-of-2").exists());
        assert!(is_ledger_name(".kadsim-owned.shard-1-of-8") && !is_ledger_name(".kadsim-owned.tmp.x"));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_damaged_record_is_refused_with_its_line() {
        let d = scratch("damaged");
        std::fs::write(d.join(LEDGER), "ops.csv\t0123456789abcdef\trun\n../up\t0123456789abcdef\tx\n").unwrap();
        let e = Ledger::read(&d).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        std::fs::write(d.join(LEDGER), "ops.csv\tnot-hex\trun\n").unwrap();
        assert!(Ledger::read(&d).unwrap_err().to_string().contains(":1: source"));
        std::fs::write(d.join(LEDGER), "just one field\n").unwrap();
        assert!(Ledger::read(&d).is_err());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn names_are_single_components() {
        for ok in ["ops.csv", "charts/", ".x.partial-12/", "a b.png"] {
            assert!(plain_name(ok), "{ok}");
        }
        for bad in ["", "/", "..", "../x", "a/b", "a/b/", ".", "x\ty"] {
            assert!(!plain_name(bad), "{bad}");
        }
    }
}
