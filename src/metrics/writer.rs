//! Writing result files whole or not at all: each file is written under a
//! temporary name and renamed when complete (DESIGN.md §5), so an error never
//! leaves a truncated file behind.

use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file being written; it appears under its final name only on [`finish`](AtomicFile::finish).
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

impl AtomicFile {
    /// Starts writing `dest` (as `dest.tmp`).
    pub fn create(dest: &Path) -> std::io::Result<AtomicFile> {
        let mut tmp = dest.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        Ok(AtomicFile { tmp, dest: dest.to_path_buf(), out })
    }

    /// Flushes and renames into place.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        std::fs::rename(&self.tmp, &self.dest)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Unfinished: remove the partial file. After `finish` it no longer exists.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Writes `rows` as CSV with a header to `dest`, atomically. With no rows the
/// file still gets its header line, taken from `example` (whose values are not
/// written), so that a run with nothing to report leaves a valid, empty table.
pub fn write_csv<T: Serialize>(dest: &Path, rows: impl IntoIterator<Item = T>, example: T) -> std::io::Result<()> {
    let file = AtomicFile::create(dest)?;
    let mut w = csv::Writer::from_writer(file);
    let mut any = false;
    for row in rows {
        w.serialize(row).map_err(std::io::Error::other)?;
        any = true;
    }
    w.flush()?;
    let mut file = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
    if !any {
        file.write_all(header_line(&example)?.as_bytes())?;
    }
    file.finish()
}

/// The CSV header line (with its newline) that serializing `example` writes.
pub fn header_line<T: Serialize>(example: &T) -> std::io::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(example).map_err(std::io::Error::other)?;
    let bytes = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes);
    let end = text.find('\n').map_or(text.len(), |i| i + 1);
    Ok(text[..end].to_string())
}

/// Writes `metric,value` rows to `dest`, atomically.
pub fn write_summary(dest: &Path, rows: &[(String, String)]) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Row<'a> {
        metric: &'a str,
        value: &'a str,
    }
    write_csv(dest, rows.iter().map(|(m, v)| Row { metric: m, value: v }), Row { metric: "", value: "" })
}

/// Writes `value` as pretty JSON to `dest`, atomically.
pub fn write_json<T: Serialize>(dest: &Path, value: &T) -> std::io::Result<()> {
    let mut file = AtomicFile::create(dest)?;
    serde_json::to_writer_pretty(&mut file, value).map_err(std::io::Error::other)?;
    file.write_all(b"\n")?;
    file.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_files_leave_nothing_and_finished_ones_replace_atomically() {
        let dir = std::env::temp_dir().join(format!("kadsim-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("x.csv");
        std::fs::write(&dest, "old complete file\n").unwrap();
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            f.write_all(b"half").unwrap();
            // dropped without finish: an error happened mid-way
        }
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old complete file\n");
        assert!(!dir.join("x.csv.tmp").exists());
        write_summary(&dest, &[("a".into(), "1".into())]).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "metric,value\na,1\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_table_without_rows_still_has_its_header() {
        #[derive(Serialize)]
        struct Row {
            a: u32,
            b_ms: Option<f64>,
        }
        let dir = std::env::temp_dir().join(format!("kadsim-writer-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("e.csv");
        write_csv(&dest, Vec::<Row>::new(), Row { a: 7, b_ms: Some(1.5) }).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "a,b_ms\n");
        write_csv(&dest, vec![Row { a: 1, b_ms: None }], Row { a: 7, b_ms: None }).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "a,b_ms\n1,\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
