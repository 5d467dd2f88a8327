//! The error of every reader of kadsim's files: the file, the line when
//! known, and what is wrong, shown as one line (`PATH:LINE: message`); the
//! command reports it with exit code 2 (DESIGN.md §7).

use super::bounded::{OpenError, SmallError, exceeded};
use std::path::{Path, PathBuf};

/// Why a file kadsim reads back could not be used (bad input, exit code 2).
#[derive(Debug, thiserror::Error)]
#[error(
    "{}{}{}: {msg}",
    path.display(),
    line.map(|l| format!(":{l}")).unwrap_or_default(),
    column.map(|c| format!(":{c}")).unwrap_or_default()
)]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// The line, when known.
    pub line: Option<u64>,
    /// The column, when known (JSON files).
    pub column: Option<u64>,
    /// What is wrong, one line.
    pub msg: String,
}

impl ReadError {
    /// An error at `line` of `path` (none: the whole file).
    pub fn at(path: &Path, line: Option<u64>, msg: impl Into<String>) -> ReadError {
        let msg: String = msg.into();
        // One line, whatever the message quotes.
        let msg = if msg.contains(['\n', '\r']) { msg.split_whitespace().collect::<Vec<_>>().join(" ") } else { msg };
        ReadError { path: path.to_path_buf(), line, column: None, msg }
    }

    /// `path` could not be opened.
    pub fn open(path: &Path, e: OpenError) -> ReadError {
        ReadError::at(path, None, e.to_string())
    }

    /// Reading `path` failed at `line`: a limit of [`super::bounded`], or
    /// the file system.
    pub fn io(path: &Path, line: Option<u64>, e: &std::io::Error) -> ReadError {
        match exceeded(e) {
            Some(limit) => ReadError::at(path, line, limit.to_string()),
            None => ReadError::at(path, line, format!("cannot read: {e}")),
        }
    }

    /// A small file (`read_small`) could not be read.
    pub fn small(path: &Path, e: SmallError) -> ReadError {
        match e {
            SmallError::NotText { line, column } => {
                let mut err = ReadError::at(path, Some(line), "not UTF-8 text");
                err.column = Some(column);
                err
            }
            e => ReadError::at(path, None, e.to_string()),
        }
    }
}
