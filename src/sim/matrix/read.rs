//! Reading a latency matrix file in bounded memory and time: a regular file
//! (gunzipped when its name ends in `.gz`, within the gzip-bomb ratio of
//! `files::bounded`), lines of at most 1 MiB, read once, the SHA-1 of its
//! bytes taken as they pass. Two layouts (docs/latency.md):
//!
//! - dense: a square matrix of RTTs, one row per line, the values separated by
//!   whitespace or commas (King, p2psim); the diagonal is ignored;
//! - triples: `i j rtt` lines, `i` and `j` 0-based host indices (Meridian);
//!   a pair given one way only holds both ways.
//!
//! Lines whose first non-blank character is `#` are comments; blank lines
//! are skipped. A negative RTT (`-1`) or `nan` is a missing entry, left to
//! [`super::fill`]. Every other fault is refused with its line and column and
//! what was expected: a value that is not a number, an infinite one, a ragged
//! or extra row, too few rows, an index out of range, a pair given twice, an
//! empty file, a matrix larger than the memory allowed.

use super::fill::{self, GIVEN_MISSING, UNSET};
use super::{MAX_HALF_US, MAX_HOSTS, Matrix};
use crate::files::bounded::{self, ByteLimit, Exceeded, GZIP_RATIO, GZIP_SLACK, LineLimit, MAX_LINE, OpenError};
use crate::scenario::clip::clip;
use crate::scenario::{MatrixFormat, MatrixMissing, MatrixUnit};
use sha1::{Digest, Sha1};
use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

/// How to read a matrix file: the scenario's `format`, `unit` and
/// `missing`, and the memory the table may take.
#[derive(Clone, Debug)]
pub struct Options {
    /// Dense, triples, or told apart by the first line of data.
    pub format: MatrixFormat,
    /// The unit of the RTTs.
    pub unit: MatrixUnit,
    /// What missing entries become.
    pub missing: MatrixMissing,
    /// The most bytes the table (4 per host pair) and, for triples, the
    /// entries read (16 each) may take.
    pub max_bytes: f64,
}

/// Why a matrix file cannot be used: one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixError {
    /// The line and column (1-based) of the fault, when it is on a line.
    pub position: Option<(u64, u64)>,
    /// The scenario field at fault when it is not the file's content
    /// (`network.latency.file` when the file cannot be opened,
    /// `network.latency.missing` when an estimate would take too long).
    pub field: Option<&'static str>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for MatrixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some((line, col)) = self.position {
            write!(f, "{line}:{col}: ")?;
        }
        if let Some(field) = self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

fn at(line: u64, col: u64, message: impl Into<String>) -> MatrixError {
    MatrixError { position: Some((line, col)), field: None, message: message.into() }
}

/// A reader that feeds every byte it passes to a SHA-1.
struct Hashed<R> {
    inner: R,
    digest: Rc<RefCell<Sha1>>,
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.borrow_mut().update(&buf[..n]);
        Ok(n)
    }
}

/// Reads the matrix file `path` as `opts` says, completes it
/// ([`fill::complete`]) and returns it with the SHA-1 of the file's bytes.
pub fn read(path: &Path, opts: &Options) -> Result<Matrix, MatrixError> {
    let file = bounded::open_regular(path).map_err(|e| {
        let message = match e {
            OpenError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => "not found".to_string(),
            e => e.to_string(),
        };
        MatrixError { position: None, field: Some("network.latency.file"), message }
    })?;
    let cannot = |e: std::io::Error| MatrixError {
        position: None,
        field: Some("network.latency.file"),
        message: format!("cannot read: {e}"),
    };
    let len = file.metadata().map_err(cannot)?.len();
    // Shares the file's offset: whatever the gzip decoder leaves unread is
    // hashed from it at the end.
    let rest = file.try_clone().map_err(cannot)?;
    let digest = Rc::new(RefCell::new(Sha1::new()));
    let raw = BufReader::with_capacity(64 << 10, Hashed { inner: file, digest: Rc::clone(&digest) });
    let text: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        let max = len.saturating_mul(GZIP_RATIO).saturating_add(GZIP_SLACK);
        Box::new(ByteLimit::new(flate2::read::GzDecoder::new(raw), max, Exceeded::Decompressed(max)))
    } else {
        Box::new(raw)
    };
    let mut input = BufReader::with_capacity(64 << 10, LineLimit::new(text, MAX_LINE));
    let mut parser = Parser::new(opts);
    let mut bytes = Vec::new();
    let mut number = 0u64;
    loop {
        bytes.clear();
        let n = input.read_until(b'\n', &mut bytes).map_err(|e| {
            let message = match bounded::exceeded(&e) {
                Some(Exceeded::Line(max)) => format!(
                    "a line longer than {}: expected rows of a matrix of at most {MAX_HOSTS} hosts",
                    bounded::size(*max)
                ),
                Some(limit) => limit.to_string(),
                None => format!("cannot read: {e}"),
            };
            at(number + 1, 1, message)
        })?;
        if n == 0 {
            break;
        }
        number += 1;
        let mut line = &bytes[..];
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        if number == 1 {
            line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        }
        let text = std::str::from_utf8(line).map_err(|e| {
            let valid = std::str::from_utf8(&line[..e.valid_up_to()]).unwrap_or_default();
            at(number, valid.chars().count() as u64 + 1, "expected UTF-8 text")
        })?;
        let data = text.trim_start();
        if data.is_empty() || data.starts_with('#') {
            continue;
        }
        parser.line(number, text)?;
    }
    std::io::copy(&mut Hashed { inner: rest, digest: Rc::clone(&digest) }, &mut std::io::sink()).map_err(cannot)?;
    let sha1: String = digest.borrow().clone().finalize().iter().map(|b| format!("{b:02x}")).collect();
    let label = path.display().to_string();
    let (hosts, table, notes) = parser.finish(number, &label)?;
    Ok(Matrix::new(hosts, table, sha1, notes))
}

/// The layout being read, once the first line of data has told it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Dense,
    Triples,
}

/// One `i j rtt` line: the pair, its half-RTT (or a missing marker) and
/// its line, to place a pair given twice.
struct Entry {
    i: u16,
    j: u16,
    half: u32,
    line: u64,
}

struct Parser<'o> {
    opts: &'o Options,
    layout: Option<Layout>,
    /// Fields of the current line, as byte ranges.
    spans: Vec<(usize, usize)>,
    /// Dense: the side, the rows so far, the table.
    n: usize,
    rows: usize,
    table: Vec<u32>,
    /// Triples: the entries, the largest index, the lines of data.
    entries: Vec<Entry>,
    max_index: usize,
    data_lines: u64,
}

impl<'o> Parser<'o> {
    fn new(opts: &'o Options) -> Parser<'o> {
        Parser {
            opts,
            layout: None,
            spans: Vec::new(),
            n: 0,
            rows: 0,
            table: Vec::new(),
            entries: Vec::new(),
            max_index: 0,
            data_lines: 0,
        }
    }

    fn line(&mut self, number: u64, text: &str) -> Result<(), MatrixError> {
        split(text, &mut self.spans).map_err(|(byte, what)| at(number, column(text, byte), what))?;
        let layout = match self.layout {
            Some(l) => l,
            None => {
                let whole = |k: usize| {
                    let (s, e) = self.spans[k];
                    text[s..e].bytes().all(|b| b.is_ascii_digit())
                };
                let l = match self.opts.format {
                    MatrixFormat::Dense => Layout::Dense,
                    MatrixFormat::Triples => Layout::Triples,
                    MatrixFormat::Auto if self.spans.len() == 3 && whole(0) && whole(1) => Layout::Triples,
                    MatrixFormat::Auto => Layout::Dense,
                };
                self.layout = Some(l);
                l
            }
        };
        self.data_lines += 1;
        match layout {
            Layout::Dense => self.dense(number, text),
            Layout::Triples => self.triple(number, text),
        }
    }

    /// The column of the field after the `expected`-th, or of the line's
    /// end when it has fewer.
    fn count_column(&self, text: &str, expected: usize) -> u64 {
        match self.spans.get(expected) {
            Some(&(s, _)) => column(text, s),
            None => column(text, text.trim_end().len()),
        }
    }

    fn dense(&mut self, number: u64, text: &str) -> Result<(), MatrixError> {
        if self.rows == 0 {
            let n = self.spans.len();
            if n > MAX_HOSTS {
                let col = column(text, self.spans[MAX_HOSTS].0);
                return Err(at(number, col, format!("a row of {n} values: expected at most {MAX_HOSTS} hosts")));
            }
            self.fits(n, number)?;
            self.n = n;
            self.table = vec![GIVEN_MISSING; n * n];
        }
        let n = self.n;
        if self.rows == n {
            let what = format!(
                "expected {n} rows, as many as the first row has values (a square matrix): this is row {}",
                n + 1
            );
            return Err(at(number, 1, what));
        }
        if self.spans.len() != n {
            let what = format!(
                "expected {n} values, as many as the first row has (a square matrix), got {}",
                self.spans.len()
            );
            return Err(at(number, self.count_column(text, n), what));
        }
        let row = self.rows;
        for c in 0..n {
            let (s, e) = self.spans[c];
            let v = rtt(&text[s..e], self.opts.unit).map_err(|m| at(number, column(text, s), m))?;
            // The diagonal is checked as a value, then ignored.
            if c != row {
                self.table[row * n + c] = v;
            }
        }
        self.rows += 1;
        Ok(())
    }

    fn triple(&mut self, number: u64, text: &str) -> Result<(), MatrixError> {
        if self.spans.len() != 3 {
            let what = format!(
                "expected 3 values, i j rtt (two host indices from 0 and an RTT in {}), got {}",
                unit_word(self.opts.unit),
                self.spans.len()
            );
            return Err(at(number, self.count_column(text, 3), what));
        }
        let field = |k: usize| {
            let (s, e) = self.spans[k];
            (&text[s..e], column(text, s))
        };
        let (ti, ci) = field(0);
        let (tj, cj) = field(1);
        let (tr, cr) = field(2);
        // Told apart by the first line, a dense matrix of 3 hosts may come here.
        let hint = |m: String| match self.opts.format {
            MatrixFormat::Auto => format!(
                "{m} (read as i j rtt triples from the first line on; for a dense matrix of 3 hosts set format = \"dense\")"
            ),
            _ => m,
        };
        let i = index(ti).map_err(|m| at(number, ci, hint(m)))?;
        let j = index(tj).map_err(|m| at(number, cj, hint(m)))?;
        let half = rtt(tr, self.opts.unit).map_err(|m| at(number, cr, m))?;
        if (self.entries.len() + 1) as f64 * std::mem::size_of::<Entry>() as f64 > self.opts.max_bytes {
            let what = format!("more triples than fit in the {} of memory allowed", megabytes(self.opts.max_bytes));
            return Err(at(number, 1, what));
        }
        self.max_index = self.max_index.max(usize::from(i.max(j)));
        self.entries.push(Entry { i, j, half, line: number });
        Ok(())
    }

    /// Whether a file told apart as triples is rather a dense matrix of 3
    /// hosts: `format` is auto, it has 3 lines of data, and read as rows
    /// their diagonal is 0 or missing (`0 25 40`, `25 0 31`, `40 31 0`).
    fn looks_dense(&self) -> bool {
        let e = &self.entries;
        self.opts.format == MatrixFormat::Auto
            && self.data_lines == 3
            && e.len() == 3
            && e[0].i == 0
            && e[1].j == 0
            && (e[2].half == 0 || e[2].half > MAX_HALF_US)
    }

    /// Refuses a table of `n` × `n` that would not fit in the memory allowed.
    fn fits(&self, n: usize, number: u64) -> Result<(), MatrixError> {
        let bytes = (n * n * std::mem::size_of::<u32>()) as f64;
        if bytes > self.opts.max_bytes {
            return Err(at(
                number,
                1,
                format!(
                    "a matrix of {n} hosts takes {}, more than the {} of memory allowed",
                    megabytes(bytes),
                    megabytes(self.opts.max_bytes)
                ),
            ));
        }
        Ok(())
    }

    /// The complete table and its side, after the last of `lines` lines.
    fn finish(mut self, lines: u64, label: &str) -> Result<(usize, Vec<u32>, Vec<String>), MatrixError> {
        let end = lines + 1;
        let (n, mut table) = match self.layout {
            None => {
                return Err(at(
                    end.max(1),
                    1,
                    "no line of data: expected a latency matrix (rows of RTTs, or i j rtt triples)",
                ));
            }
            Some(Layout::Dense) => {
                if self.rows < self.n {
                    let what = format!(
                        "expected {} rows, as many as the first row has values (a square matrix), got {}",
                        self.n, self.rows
                    );
                    return Err(at(end, 1, what));
                }
                (self.n, std::mem::take(&mut self.table))
            }
            Some(Layout::Triples) if self.looks_dense() => {
                // Three lines of three values, with a dense matrix's diagonal.
                let mut table = vec![GIVEN_MISSING; 9];
                for (r, e) in self.entries.iter().enumerate() {
                    let row =
                        [half_of(f64::from(e.i), self.opts.unit), half_of(f64::from(e.j), self.opts.unit), e.half];
                    table[r * 3..r * 3 + 3].copy_from_slice(&row);
                }
                (3, table)
            }
            Some(Layout::Triples) => {
                let n = self.max_index + 1;
                self.fits(n, end)?;
                let mut table = vec![UNSET; n * n];
                for e in std::mem::take(&mut self.entries) {
                    if e.i == e.j {
                        continue;
                    }
                    let cell = &mut table[usize::from(e.i) * n + usize::from(e.j)];
                    if *cell != UNSET {
                        return Err(at(e.line, 1, format!("the host pair {} {} is given a second time", e.i, e.j)));
                    }
                    *cell = e.half;
                }
                (n, table)
            }
        };
        let done = fill::complete(&mut table, n, self.opts.missing)?;
        let mut notes = Vec::new();
        if done.estimated > 0 {
            notes.push(format!(
                "{label}: {} missing host pair{} estimated from the shortest detour through a third host (network.latency.missing = \"estimate\")",
                done.estimated,
                if done.estimated == 1 { "" } else { "s" }
            ));
        }
        if done.dropped > 0 {
            let why = match self.opts.missing {
                MatrixMissing::Drop => "with missing RTTs (network.latency.missing = \"drop\")",
                MatrixMissing::Estimate => "with missing RTTs that no detour estimates",
            };
            notes.push(format!("{label}: {} of {n} hosts dropped {why}: {} hosts left", done.dropped, done.hosts));
        }
        Ok((done.hosts, table, notes))
    }
}

/// Splits `text` into fields separated by whitespace or by one comma (with
/// whitespace around it or not), as byte ranges into `spans`. An empty
/// field (two commas, a comma first or last) is an error at its byte.
fn split(text: &str, spans: &mut Vec<(usize, usize)>) -> Result<(), (usize, &'static str)> {
    spans.clear();
    let b = text.as_bytes();
    let blank = |i: usize| b[i].is_ascii_whitespace();
    let mut i = 0;
    let skip = |mut i: usize| {
        while i < b.len() && blank(i) {
            i += 1;
        }
        i
    };
    i = skip(i);
    while i < b.len() {
        if b[i] == b',' {
            return Err((i, "expected a value before ','"));
        }
        let start = i;
        while i < b.len() && !blank(i) && b[i] != b',' {
            i += 1;
        }
        spans.push((start, i));
        i = skip(i);
        if i < b.len() && b[i] == b',' {
            let comma = i;
            i = skip(i + 1);
            if i == b.len() {
                return Err((comma, "expected a value after ','"));
            }
        }
    }
    Ok(())
}

/// `bytes` in MB, or GB from 1 GB on.
fn megabytes(bytes: f64) -> String {
    if bytes >= 1e9 { format!("{:.1} GB", bytes / 1e9) } else { format!("{:.1} MB", bytes / 1e6) }
}

/// The 1-based column, in characters, of byte `byte` of `text`.
fn column(text: &str, byte: usize) -> u64 {
    text[..byte.min(text.len())].chars().count() as u64 + 1
}

fn unit_word(unit: MatrixUnit) -> &'static str {
    match unit {
        MatrixUnit::Millis => "milliseconds",
        MatrixUnit::Micros => "microseconds",
    }
}

/// Half the RTT `tok` gives, in whole microseconds, or [`GIVEN_MISSING`]
/// for a negative number or `nan`.
fn rtt(tok: &str, unit: MatrixUnit) -> Result<u32, String> {
    let word = unit_word(unit);
    let v: f64 = tok.parse().map_err(|_| {
        format!("expected an RTT in {word} (a number; -1 or nan for a missing one), got {:?}", clip(tok))
    })?;
    if v.is_nan() || v < 0.0 {
        return Ok(GIVEN_MISSING);
    }
    if !(v * scale(unit) / 2.0).round().le(&f64::from(MAX_HALF_US)) {
        let most = 2.0 * f64::from(MAX_HALF_US) / scale(unit);
        return Err(format!(
            "expected an RTT of at most {most:.0} {word} (write -1 or nan for a missing one), got {:?}",
            clip(tok)
        ));
    }
    Ok(half_of(v, unit))
}

/// Microseconds per unit.
fn scale(unit: MatrixUnit) -> f64 {
    match unit {
        MatrixUnit::Millis => 1000.0,
        MatrixUnit::Micros => 1.0,
    }
}

/// Half of the RTT `v` (finite, at least 0, in `unit`) in whole
/// microseconds, held to [`MAX_HALF_US`].
fn half_of(v: f64, unit: MatrixUnit) -> u32 {
    (v * scale(unit) / 2.0).round().min(f64::from(MAX_HALF_US)) as u32
}

/// A 0-based host index.
fn index(tok: &str) -> Result<u16, String> {
    if tok.is_empty() || !tok.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected a host index (a whole number from 0), got {:?}", clip(tok)));
    }
    match tok.parse::<u64>() {
        Ok(v) if v < MAX_HOSTS as u64 => Ok(v as u16),
        _ => Err(format!("expected a host index below {MAX_HOSTS} (at most {MAX_HOSTS} hosts), got {}", clip(tok))),
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
