//! Reading files in bounded memory and time. kadsim reads back what it wrote
//! (results, shards, traces) and what users hand in (scenarios, churn
//! traces): none of it may hang the process (a FIFO), exhaust its memory (a
//! line without end, `/dev/zero`, a sparse file of zeros) or decompress
//! without end (a gzip bomb). Each limit is an error the caller reports as
//! one line with exit code 2.

use std::io::{BufReader, Read};
use std::path::Path;

/// The longest line any reader accepts: kadsim's own lines are a few hundred
/// bytes (a manifest line a few kilobytes), so a longer one is not a kadsim
/// file, or a damaged one.
pub const MAX_LINE: usize = 1 << 20;

/// The most bytes a gzip stream may decompress to: this many times its
/// compressed size, plus [`GZIP_SLACK`]. kadsim's traces compress about 5:1,
/// a gzip bomb a thousand to one.
pub const GZIP_RATIO: u64 = 100;

/// Headroom of the decompressed limit, for small files.
pub const GZIP_SLACK: u64 = 64 << 20;

/// A limit that a file went past; carried inside an `std::io::Error` of
/// kind `InvalidData` so that the csv and JSON readers pass it through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    /// A line longer than the limit.
    #[error("a line longer than {} (kadsim's files have short lines: a damaged file, or not a kadsim file)", size(*.0))]
    Line(u64),
    /// A whole file larger than the limit.
    #[error("larger than {} (the most this file may hold)", size(*.0))]
    File(u64),
    /// A compressed stream that decompresses past the limit.
    #[error("decompresses to more than {} ({}x its compressed size): refused as a gzip bomb", size(*.0), GZIP_RATIO)]
    Decompressed(u64),
}

/// `n` bytes in the largest binary unit that divides it evenly, or in bytes.
pub fn size(n: u64) -> String {
    for (unit, scale) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if n >= scale && n.is_multiple_of(scale) {
            return format!("{} {unit}", n / scale);
        }
    }
    format!("{n} bytes")
}

impl From<Exceeded> for std::io::Error {
    fn from(e: Exceeded) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// The limit inside `e`, if a bounded reader raised it.
pub fn exceeded(e: &std::io::Error) -> Option<&Exceeded> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<Exceeded>())
}

/// Why a file could not be opened for reading.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// It is not there, or not readable.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// It is there, but not a regular file.
    #[error("not a regular file ({0}); give a file")]
    NotRegular(&'static str),
}

/// What kind of file system object `meta` describes, in words.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Opens `path` (following symbolic links) if it is a regular file: never a
/// FIFO, which would block, nor a device such as `/dev/zero`, which never ends.
pub fn open_regular(path: &Path) -> Result<std::fs::File, OpenError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(OpenError::NotRegular(kind_of(&meta)));
    }
    Ok(std::fs::File::open(path)?)
}

/// A reader that fails once a line runs past `max` bytes.
pub struct LineLimit<R> {
    inner: R,
    /// Bytes since the last newline.
    run: u64,
    max: u64,
}

impl<R: Read> LineLimit<R> {
    /// Limits `inner`'s lines to `max` bytes (without the newline).
    pub fn new(inner: R, max: usize) -> LineLimit<R> {
        LineLimit { inner, run: 0, max: max as u64 }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut longest = 0;
        for b in &buf[..n] {
            if *b == b'\n' {
                longest = longest.max(self.run);
                self.run = 0;
            } else {
                self.run += 1;
            }
        }
        if longest.max(self.run) > self.max {
            return Err(Exceeded::Line(self.max).into());
        }
        Ok(n)
    }
}

/// A reader that fails once more than `max` bytes have come through.
pub struct ByteLimit<R> {
    inner: R,
    left: u64,
    error: Exceeded,
}

impl<R: Read> ByteLimit<R> {
    /// Limits `inner` to `max` bytes; past them, `error`.
    pub fn new(inner: R, max: u64, error: Exceeded) -> ByteLimit<R> {
        ByteLimit { inner, left: max, error }
    }
}

impl<R: Read> Read for ByteLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)? as u64;
        if n > self.left {
            return Err(self.error.clone().into());
        }
        self.left -= n;
        Ok(n as usize)
    }
}

/// Opens a text file kadsim reads line by line: a regular file, gunzipped
/// when its name ends in `.gz` (up to [`GZIP_RATIO`] times its size plus
/// [`GZIP_SLACK`]), with lines of at most [`MAX_LINE`] bytes.
pub fn open_lines(path: &Path) -> Result<Box<dyn Read>, OpenError> {
    let file = open_regular(path)?;
    let len = file.metadata()?.len();
    let file = BufReader::with_capacity(64 << 10, file);
    if path.extension().is_some_and(|e| e == "gz") {
        let max = len.saturating_mul(GZIP_RATIO).saturating_add(GZIP_SLACK);
        let unzipped = ByteLimit::new(flate2::read::GzDecoder::new(file), max, Exceeded::Decompressed(max));
        Ok(Box::new(LineLimit::new(unzipped, MAX_LINE)))
    } else {
        Ok(Box::new(LineLimit::new(file, MAX_LINE)))
    }
}

/// Why a small file could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum SmallError {
    /// Not openable, or not a regular file.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// Larger than allowed.
    #[error("{0}")]
    Limit(Exceeded),
    /// Not UTF-8 text: the first byte that is not, at a 1-based line and
    /// column (in characters).
    #[error("not UTF-8 text (line {line}, column {column})")]
    NotText {
        /// The line of the first bad byte.
        line: u64,
        /// Its column: the characters before it on its line, plus one.
        column: u64,
    },
}

/// Reads a whole small file (a scenario, a manifest) as text: a regular file
/// of at most `max` bytes.
pub fn read_small(path: &Path, max: u64) -> Result<String, SmallError> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(OpenError::Io)?;
    if bytes.len() as u64 > max {
        return Err(SmallError::Limit(Exceeded::File(max)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = std::str::from_utf8(&e.as_bytes()[..e.utf8_error().valid_up_to()]).unwrap_or_default();
        let line = valid.matches('\n').count() as u64 + 1;
        let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
        SmallError::NotText { line, column }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(tag: &str) -> std::path::PathBuf {
        crate::files::scratch(&format!("bounded-{tag}"))
    }

    #[test]
    fn a_line_past_the_limit_is_an_error_shorter_lines_pass() {
        let text = format!("{}\n{}\n", "a".repeat(10), "b".repeat(10));
        let mut ok = String::new();
        LineLimit::new(text.as_bytes(), 10).read_to_string(&mut ok).unwrap();
        assert_eq!(ok, text);
        let long = format!("short\n{}\n", "x".repeat(11));
        let e = LineLimit::new(long.as_bytes(), 10).read_to_string(&mut String::new()).unwrap_err();
        assert_eq!(exceeded(&e), Some(&Exceeded::Line(10)));
        // A stream of zeros (no newline at all) stops at the limit, not at its end.
        let e = LineLimit::new(std::io::repeat(0), 1 << 16).read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(exceeded(&e), Some(&Exceeded::Line(1 << 16)));
    }

    #[test]
    fn a_byte_limit_stops_an_endless_stream() {
        let e = ByteLimit::new(std::io::repeat(b'\n'), 1000, Exceeded::Decompressed(1000))
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(exceeded(&e), Some(&Exceeded::Decompressed(1000)));
        let mut v = Vec::new();
        ByteLimit::new(&b"12345"[..], 5, Exceeded::File(5)).read_to_end(&mut v).unwrap();
        assert_eq!(v, b"12345");
    }

    #[test]
    fn a_gzip_bomb_is_refused_by_its_ratio() {
        let d = scratch("bomb");
        let p = d.join("bomb.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&p).unwrap(), flate2::Compression::best());
        let line = b"1,2,3\n".repeat(10_000);
        // 600 MB of short lines in a file of a few hundred kilobytes.
        for _ in 0..10_000 {
            gz.write_all(&line).unwrap();
        }
        gz.finish().unwrap();
        let e = open_lines(&p).unwrap().read_to_end(&mut Vec::new()).unwrap_err();
        assert!(matches!(exceeded(&e), Some(Exceeded::Decompressed(_))), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn only_regular_files_are_opened() {
        let d = scratch("kinds");
        assert!(matches!(open_regular(&d), Err(OpenError::NotRegular("a directory"))));
        #[cfg(unix)]
        assert!(matches!(open_regular(Path::new("/dev/zero")), Err(OpenError::NotRegular("a device"))));
        assert!(matches!(open_regular(&d.join("missing")), Err(OpenError::Io(_))));
        let f = d.join("small.toml");
        std::fs::write(&f, "nodes = 10\n").unwrap();
        assert_eq!(read_small(&f, 100).unwrap(), "nodes = 10\n");
        assert!(matches!(read_small(&f, 5), Err(SmallError::Limit(Exceeded::File(5)))));
        // A byte that is not UTF-8 is placed: line 2, after two characters.
        std::fs::write(&f, b"nodes = 10\n\xc3\xa9x\xff = 1\n").unwrap();
        assert!(matches!(read_small(&f, 100), Err(SmallError::NotText { line: 2, column: 3 })));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(size(MAX_LINE as u64), "1 MiB");
        assert_eq!(size(3 << 30), "3 GiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
