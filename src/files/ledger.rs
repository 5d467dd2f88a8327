//! The record of what kadsim wrote in a directory: `.kadsim-owned`, one line
//! per entry (`NAME<TAB>SOURCE<TAB>LABEL`; a directory's NAME ends in `/`).
//! SOURCE names what the entry was made from (a run, a comparison, a sweep)
//! as a short digest, LABEL says it in words for messages. A name that is
//! not in the record was not written by kadsim, and kadsim never overwrites
//! or deletes it ([`super::owned`]).
//!
//! Lines are appended with one `write` each to a file opened for appending,
//! so that processes sharing a directory (the shards of a sweep) never
//! interleave a line; an entry is recorded before its file is written, so a
//! process killed in between leaves at most a record of a file that is not
//! there, never a file without a record.

use super::bounded;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The file name of the record.
pub const LEDGER: &str = ".kadsim-owned";

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
    /// The record of `dir`, or `None` when it has none.
    pub fn read(dir: &Path) -> Result<Option<Ledger>, LedgerError> {
        let path = dir.join(LEDGER);
        let err = |line: Option<u64>, msg: String| LedgerError { path: path.clone(), line, msg };
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(err(None, format!("cannot read: {e}"))),
            Ok(_) => {}
        }
        let reader = bounded::open_lines(&path).map_err(|e| err(None, e.to_string()))?;
        let mut ledger = Ledger::default();
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
            ledger.entries.insert(name.to_string(), Entry::new(name, source, label));
        }
        Ok(Some(ledger))
    }

    /// The entry named `name` (`NAME/` for a directory), if recorded.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// Every entry, by name.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Records `entry` in `dir`'s record (created if missing), here and on disk.
    pub fn append(&mut self, dir: &Path, entry: Entry) -> std::io::Result<()> {
        let path = dir.join(LEDGER);
        let mut f = std::fs::OpenOptions::new().append(true).create(true).open(&path)?;
        // One write: appends by other processes never interleave with it.
        f.write_all(entry.line().as_bytes())?;
        self.entries.insert(entry.name.clone(), entry);
        Ok(())
    }

    /// Writes the record of `dir` anew with exactly these entries (after
    /// kadsim removed some), replacing the file as a whole.
    pub fn rewrite(&mut self, dir: &Path, entries: Vec<Entry>) -> std::io::Result<()> {
        let tmp = dir.join(format!("{LEDGER}.tmp"));
        let text: String = entries.iter().map(Entry::line).collect();
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, dir.join(LEDGER))?;
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
        l.append(&d, Entry::new("ops.csv", "0123456789abcdef", "run churn")).unwrap();
        l.append(&d, Entry::new("charts/", "0123456789abcdef", "charts\tof\nchurn")).unwrap();
        l.append(&d, Entry::new("ops.csv", "fedcba9876543210", "run other")).unwrap();
        let back = Ledger::read(&d).unwrap().unwrap();
        assert_eq!(back.get("ops.csv").unwrap().source, "fedcba9876543210");
        assert_eq!(back.get("charts/").unwrap().label, "charts of churn");
        assert_eq!(back.entries().count(), 2);
        let mut back = back;
        back.rewrite(&d, vec![Entry::new("ops.csv", "0123456789abcdef", "x")]).unwrap();
        assert_eq!(Ledger::read(&d).unwrap().unwrap().entries().count(), 1);
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
