//! Checking a run directory whole before `kadsim report` writes about it:
//! every file its manifest lists, streamed against what its writer writes.
//! [`Results::read`] has read the tables a report shows (and streamed
//! `nodes.csv`); this adds the traces (`trace.csv`, each operation's rows
//! against `ops.csv`; `messages.csv`), plain or gzip-compressed, and any
//! other listed file, which must be there as a regular file.

use super::results::Results;
use crate::files::ReadError;
use crate::files::bounded::open_regular;
use crate::files::schema;
use crate::files::table::verify;

/// The files [`Results::read`] checks itself (`nodes.csv` only when it is there).
const READ: [&str; 4] = ["ops.csv", "timeseries.csv", "buckets.csv", "summary.csv"];

/// Checks every file the manifest of `r` lists; returns notes on lenient
/// readings.
pub fn listed_files(r: &Results) -> Result<Vec<String>, ReadError> {
    let mut notes = Vec::new();
    for name in r.manifest.files.iter().map(|f| f.0.as_str()) {
        let path = r.dir.join(name);
        match name {
            n if READ.contains(&n) => {}
            "nodes.csv" => {
                open_regular(&path).map_err(|e| ReadError::open(&path, e))?;
            }
            "trace.csv" | "trace.csv.gz" => {
                super::trace::traced_ops(&path, &r.ops)?;
            }
            "messages.csv" | "messages.csv.gz" => notes.extend(verify(&path, schema::messages())?.1),
            "closest.csv" | "closest.csv.gz" => notes.extend(verify(&path, schema::closest())?.1),
            _ => {
                open_regular(&path).map_err(|e| ReadError::open(&path, e))?;
            }
        }
    }
    Ok(notes)
}
