//! kadsim's own files on disk, and the user's around them (DESIGN.md §5, §7):
//! reading in bounded memory ([`bounded`]), what each CSV file kadsim writes
//! holds ([`schema`]), reading such a file strictly, row by row ([`table`]),
//! small JSON files read into typed values ([`json`]), the one-line error of
//! every reader ([`read_error`]); and writing only where kadsim owns the place
//! ([`owned`], with its per-directory record [`ledger`] and the crash-safe
//! replacement of run directories, [`swap`]).
//!
//! Every file kadsim reads back, whether it wrote it or a user handed it in,
//! goes through [`bounded`]: only regular files, no line longer than
//! [`bounded::MAX_LINE`], no decompressed stream past its limit, so that a
//! FIFO, `/dev/zero`, a sparse multi-gigabyte file or a gzip bomb is refused
//! with one line and exit code 2, never a hang or an aborted allocation.

pub mod bounded;
pub mod json;
pub mod ledger;
pub mod owned;
pub mod ownership;
pub mod read_error;
pub mod schema;
mod siblings;
pub mod swap;
pub mod table;

pub use read_error::ReadError;

/// A fresh, empty directory for a unit test, unique to this process and `tag`.
#[cfg(test)]
pub(crate) fn scratch(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("kadsim-unit-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
