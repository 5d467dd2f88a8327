//! A strict, streaming reader of the CSV files kadsim writes: the header is
//! checked against the file's [`Schema`], then every value of every row
//! against its column's type, one row at a time, so that memory does not
//! grow with the file. What does not fit is an error naming the file, the
//! line and the column (`ops.csv:3: column hops: expected ..., got "abc"`).
//!
//! A file written before a column existed (a column the schema marks
//! `later`) is read without it, and a note says so: the reader's lenient
//! reading is never silent.

use super::bounded::open_lines;
use super::read_error::ReadError;
use super::schema::{Column, Schema, finite};
use csv::StringRecord;
use serde::de::DeserializeOwned;
use std::io::Read;
use std::path::{Path, PathBuf};

/// An open table, positioned before its first row (after [`Table::open`])
/// or on a row (after [`Table::next_row`] returned `true`).
pub struct Table {
    path: PathBuf,
    schema: Schema,
    csv: csv::Reader<Box<dyn Read>>,
    /// For each column of the schema, its place in the file's rows (`None`:
    /// the file predates it).
    at: Vec<Option<usize>>,
    header: StringRecord,
    row: StringRecord,
    line: u64,
    notes: Vec<String>,
}

/// `names` as a short list: the first few, then how many more.
pub fn short_list(names: &[&str]) -> String {
    const SHOWN: usize = 4;
    if names.len() <= SHOWN {
        return names.join(", ");
    }
    format!("{} and {} more", names[..SHOWN].join(", "), names.len() - SHOWN)
}

impl Table {
    /// Opens `path` (plain, or gzip by its `.gz` name) and checks its header
    /// against `schema`.
    pub fn open(path: &Path, schema: Schema) -> Result<Table, ReadError> {
        let reader = open_lines(path).map_err(|e| ReadError::open(path, e))?;
        let mut csv = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
        let header = match csv.headers() {
            Ok(h) => h.clone(),
            Err(e) => return Err(csv_error(path, 1, e)),
        };
        if header.is_empty() {
            return Err(ReadError::at(
                path,
                Some(1),
                format!("empty file: expected the header line {}", short_list(&schema.names())),
            ));
        }
        let at = match_header(&schema, &header).map_err(|msg| ReadError::at(path, Some(1), msg))?;
        let missing: Vec<&str> =
            schema.columns.iter().zip(&at).filter(|(_, p)| p.is_none()).map(|(c, _)| c.name.as_ref()).collect();
        let mut notes = Vec::new();
        if !missing.is_empty() {
            notes.push(format!(
                "{}: no column{} {} (added to kadsim after this file was written): read without {}",
                path.display(),
                if missing.len() == 1 { "" } else { "s" },
                short_list(&missing),
                if missing.len() == 1 { "it" } else { "them" }
            ));
        }
        Ok(Table { path: path.to_path_buf(), schema, csv, at, header, row: StringRecord::new(), line: 1, notes })
    }

    /// The notes on lenient readings (columns an older file lacks), one line each.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The line of the current row.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Whether the file has the column `name`.
    pub fn has(&self, name: &str) -> bool {
        self.schema.index(name).is_some_and(|i| self.at[i].is_some())
    }

    /// Reads the next row and checks it: `false` at the end of the file.
    pub fn next_row(&mut self) -> Result<bool, ReadError> {
        match self.csv.read_record(&mut self.row) {
            Ok(false) => return Ok(false),
            Ok(true) => {}
            Err(e) => return Err(csv_error(&self.path, self.line + 1, e)),
        }
        self.line = self.row.position().map_or(self.line + 1, |p| p.line());
        if self.row.len() != self.header.len() {
            return Err(self.error(format!(
                "{} fields, expected {} as in the header",
                self.row.len(),
                self.header.len()
            )));
        }
        for (c, p) in self.schema.columns.iter().zip(&self.at) {
            if let Some(p) = p
                && let Err(why) = c.check(&self.row[*p])
            {
                return Err(self.error(format!("column {}: {why}", c.name)));
            }
        }
        Ok(true)
    }

    /// An error at the current row.
    pub fn error(&self, msg: impl Into<String>) -> ReadError {
        ReadError::at(&self.path, Some(self.line), msg)
    }

    /// The current row's value of schema column `col` (`None`: the file has
    /// no such column; `Some("")`: empty).
    pub fn get(&self, col: usize) -> Option<&str> {
        self.at.get(col).copied().flatten().and_then(|p| self.row.get(p))
    }

    /// The value of the column `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.schema.index(name).and_then(|i| self.get(i))
    }

    /// The value of the column `name` as an unsigned integer (`None` when
    /// empty or absent; checked by [`next_row`](Self::next_row)).
    pub fn uint(&self, name: &str) -> Option<u64> {
        self.value(name).and_then(|v| v.parse().ok())
    }

    /// The value of the column `name` as a finite number.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.value(name).and_then(finite)
    }

    /// The value of the column `name` as a boolean.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        self.value(name).and_then(|v| v.parse().ok())
    }

    /// The value of the column `name` as a word of its fixed set.
    pub fn word(&self, name: &str) -> Option<&'static str> {
        let i = self.schema.index(name)?;
        self.schema.columns[i].ty.word(self.get(i)?)
    }

    /// The current row as `T`, by the header's names (columns an older file
    /// lacks are missing fields: `T` gives them defaults).
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ReadError> {
        self.row.deserialize(Some(&self.header)).map_err(|e| {
            let msg = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => {
                    match err.field().and_then(|f| self.header.get(f as usize)) {
                        Some(name) => format!("column {name}: {}", err.kind()),
                        None => err.kind().to_string(),
                    }
                }
                other => format!("{other:?}"),
            };
            self.error(msg)
        })
    }
}

/// Where each column of `schema` is in `header`: the header must name the
/// schema's columns in order, leaving out only columns added later.
fn match_header(schema: &Schema, header: &StringRecord) -> Result<Vec<Option<usize>>, String> {
    let names: Vec<&str> = header.iter().collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(format!("column {:?} appears twice", crate::scenario::clip::clip(n)));
        }
    }
    let mut at = Vec::with_capacity(schema.columns.len());
    let mut h = 0;
    for c in &schema.columns {
        if names.get(h) == Some(&c.name.as_ref()) {
            at.push(Some(h));
            h += 1;
        } else if c.later && !names.contains(&c.name.as_ref()) {
            at.push(None);
        } else {
            return Err(misplaced(schema, &names, h, c));
        }
    }
    match names.get(h) {
        None => Ok(at),
        Some(extra) => Err(unknown_or_misplaced(schema, extra, h)),
    }
}

/// Why the header does not have column `c` at place `h`.
fn misplaced(schema: &Schema, names: &[&str], h: usize, c: &Column) -> String {
    if !names.contains(&c.name.as_ref()) {
        return format!("missing column {} ({} writes it as column {})", c.name, schema.file, place(schema, &c.name));
    }
    match names.get(h) {
        Some(got) => unknown_or_misplaced(schema, got, h),
        None => format!("missing column {}", c.name),
    }
}

fn unknown_or_misplaced(schema: &Schema, got: &str, h: usize) -> String {
    match schema.index(got) {
        None => format!("unknown column {:?} (column {})", crate::scenario::clip::clip(got), h + 1),
        Some(_) => format!(
            "column {got} is column {} here, but {} writes it as column {}",
            h + 1,
            schema.file,
            place(schema, got)
        ),
    }
}

fn place(schema: &Schema, name: &str) -> usize {
    schema.index(name).map_or(0, |i| i + 1)
}

/// A CSV error at `line` as a read error.
fn csv_error(path: &Path, line: u64, e: csv::Error) -> ReadError {
    let line = e.position().map_or(line, |p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(io) => ReadError::io(path, Some(line), &io),
        csv::ErrorKind::Utf8 { .. } => ReadError::at(path, Some(line), "not UTF-8 text"),
        other => ReadError::at(path, Some(line), format!("{other:?}")),
    }
}

/// Checks every row of `path` against `schema` without keeping any; returns
/// the rows read and the notes.
pub fn verify(path: &Path, schema: Schema) -> Result<(u64, Vec<String>), ReadError> {
    let mut t = Table::open(path, schema)?;
    let mut rows = 0;
    while t.next_row()? {
        rows += 1;
    }
    Ok((rows, t.take_notes()))
}

/// Appends `x` to `v`, reserving room fallibly: a file too large for memory
/// is an error naming it, not an aborted allocation.
pub fn push_row<T>(v: &mut Vec<T>, x: T, t: &Table) -> Result<(), ReadError> {
    if v.len() == v.capacity() && v.try_reserve(v.len().max(1024)).is_err() {
        return Err(t.error(format!("too many rows to hold in memory ({} read)", v.len())));
    }
    v.push(x);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::schema::{self, Ty};
    use super::*;

    fn scratch(name: &str, text: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kadsim-table-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn small() -> Schema {
        Schema {
            file: "t.csv",
            columns: vec![
                Column::new("a", schema::U32),
                Column::new("b", Ty::Number).or_empty(),
                Column::new("c", Ty::Bool).or_empty().later(),
                Column::new("d", Ty::Word(&schema::OUTCOMES)).later(),
            ],
        }
    }

    fn first_error(name: &str, text: &str) -> String {
        let p = scratch(name, text);
        let r = Table::open(&p, small()).and_then(|mut t| {
            while t.next_row()? {}
            Ok(())
        });
        r.unwrap_err().to_string().rsplit_once(name).unwrap().1.to_string()
    }

    #[test]
    fn headers_must_be_the_writers_leaving_out_only_later_columns() {
        assert_eq!(first_error("h1.csv", "a,c,d\n"), ":1: missing column b (t.csv writes it as column 2)");
        assert_eq!(first_error("h2.csv", "a,b,x\n"), ":1: unknown column \"x\" (column 3)");
        assert_eq!(first_error("h3.csv", "a,b,a\n"), ":1: column \"a\" appears twice");
        assert_eq!(first_error("h4.csv", "b,a\n"), ":1: column b is column 1 here, but t.csv writes it as column 2");
        assert_eq!(first_error("h5.csv", ""), ":1: empty file: expected the header line a, b, c, d");
        // An older file: the later columns are missing, and a note says so.
        let p = scratch("old.csv", "a,b\n1,\n");
        let mut t = Table::open(&p, small()).unwrap();
        assert!(t.next_row().unwrap());
        assert_eq!((t.uint("a"), t.number("b"), t.value("c"), t.has("d")), (Some(1), None, None, false));
        let notes = t.take_notes();
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0]
                .ends_with("old.csv: no columns c, d (added to kadsim after this file was written): read without them"),
            "{notes:?}"
        );
        let p = scratch("new.csv", "a,b,c,d\n1,2.5,true,open\n");
        let mut t = Table::open(&p, small()).unwrap();
        assert!(t.next_row().unwrap() && t.take_notes().is_empty());
        assert_eq!((t.number("b"), t.boolean("c"), t.word("d")), (Some(2.5), Some(true), Some("open")));
    }

    #[test]
    fn every_value_is_checked_with_file_line_and_column() {
        let rows = |body: &str| format!("a,b,c,d\n1,1,true,open\n{body}\n");
        assert_eq!(
            first_error("v1.csv", &rows("lots,1,,open")),
            ":3: column a: expected an unsigned integer of at most 4294967295, got \"lots\""
        );
        assert_eq!(
            first_error("v2.csv", &rows("1,NaN,,open")),
            ":3: column b: expected a finite number or empty, got \"NaN\""
        );
        assert_eq!(
            first_error("v3.csv", &rows("1,1e999,,open")),
            ":3: column b: expected a finite number or empty, got \"1e999\""
        );
        assert_eq!(
            first_error("v4.csv", &rows("1,inf,,open")),
            ":3: column b: expected a finite number or empty, got \"inf\""
        );
        assert_eq!(
            first_error("v5.csv", &rows(",1,,open")),
            ":3: column a: expected an unsigned integer of at most 4294967295, got an empty value"
        );
        assert_eq!(
            first_error("v6.csv", &rows("1,1,,banana")),
            ":3: column d: expected one of answered, timed_out, lost, cut, dead, unreachable, open, got \"banana\""
        );
        assert_eq!(first_error("v7.csv", &rows("1,1,open")), ":3: 3 fields, expected 4 as in the header");
        assert_eq!(
            first_error("v8.csv", &rows("-1,1,,open")),
            ":3: column a: expected an unsigned integer of at most 4294967295, got \"-1\""
        );
        assert_eq!(
            first_error("v9.csv", &rows("4294967296,1,,open")),
            ":3: column a: expected an unsigned integer of at most 4294967295, got \"4294967296\""
        );
        // Long values are echoed clipped.
        let long = "x".repeat(5000);
        let e = first_error("v10.csv", &rows(&format!("{long},1,,open")));
        assert!(e.len() < 400 && e.contains("(5000 bytes)"), "{e}");
    }

    #[test]
    fn limits_of_the_bounded_reader_are_errors_with_the_line() {
        let p = scratch("long.csv", &format!("a,b\n1,2\n{}\n", "9".repeat(super::super::bounded::MAX_LINE + 10)));
        let e = verify(&p, small()).unwrap_err().to_string();
        assert!(e.contains("long.csv:3: a line longer than 1 MiB"), "{e}");
        #[cfg(unix)]
        {
            let e = verify(Path::new("/dev/zero"), small()).unwrap_err().to_string();
            assert_eq!(e, "/dev/zero: not a regular file (a device); give a file");
        }
    }

    #[test]
    fn the_finite_number_parser_takes_what_writers_write_and_nothing_else() {
        for ok in ["0", "1.5", "-2", "1e-3", "120", "0.000001"] {
            assert!(finite(ok).is_some(), "{ok}");
        }
        for bad in ["NaN", "nan", "inf", "-inf", "infinity", "1e999", "", " 1", "0x10", "1,5"] {
            assert!(finite(bad).is_none(), "{bad}");
        }
    }
}
