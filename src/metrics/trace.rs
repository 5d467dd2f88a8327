//! The rows of the trace files and their writer: `trace.csv`, one row per RPC
//! of the traced operations, `closest.csv`, the true k closest live nodes of
//! each traced operation when it ended, and `messages.csv`, one row per
//! traced datagram (`kadsim run --trace`, docs/tracing.md). The rows are written while the
//! run goes on, plain or gzip-compressed, under a temporary name that takes
//! the final one when the file is whole.

use super::writer::AtomicFile;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One row of `trace.csv`: an RPC of a traced operation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RpcRow {
    /// The operation: its `op` number in `ops.csv`.
    pub op: u64,
    /// The RPC's place among the operation's RPCs, in the order sent, from 0.
    pub seq: u32,
    /// When the request was sent.
    pub sent_us: u64,
    /// When the reply arrived or the RPC timed out; empty when the operation
    /// ended first (`open`).
    pub end_us: Option<u64>,
    /// The node that started the operation.
    pub from: u32,
    /// The node asked.
    pub to: u32,
    /// `ping`, `store`, `find_node` or `find_value`.
    pub kind: &'static str,
    /// Discovery depth of the node asked (1: from the origin's own table).
    pub depth: Option<u8>,
    /// log2 of the XOR distance from the node asked to the target.
    #[serde(serialize_with = "log2")]
    pub dist_log2: Option<f64>,
    /// `answered`, `timed_out`, `lost`, `cut`, `dead` or `open`.
    pub outcome: &'static str,
    /// What the reply said: `nodes`, `value`, `pong`, `stored`, `refused`.
    pub reply: Option<&'static str>,
    /// Contacts in a `nodes` reply.
    pub contacts: Option<u16>,
    /// log2 of the distance to the target of the reply's nearest contact.
    #[serde(serialize_with = "log2")]
    pub nearest_log2: Option<f64>,
    /// The request's transaction ID (as in `messages.csv`).
    pub tx: u32,
}

/// The columns of `trace.csv`, in order.
pub const RPC_COLUMNS: [&str; 14] = [
    "op",
    "seq",
    "sent_us",
    "end_us",
    "from",
    "to",
    "kind",
    "depth",
    "dist_log2",
    "outcome",
    "reply",
    "contacts",
    "nearest_log2",
    "tx",
];

/// One row of `messages.csv`: a datagram and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageRow {
    /// When it was sent.
    pub sent_us: u64,
    /// When it arrived (or would have: a datagram cut in flight or sent to a
    /// node that was down); empty when it was lost or cut as it was sent.
    pub arrived_us: Option<u64>,
    /// Sender.
    pub from: u32,
    /// Destination.
    pub to: u32,
    /// Requests `ping`, `store`, `find_node`, `find_value`; replies `pong`,
    /// `stored`, `nodes`, `value`.
    pub kind: &'static str,
    /// Transaction ID (a reply carries its request's).
    pub tx: u32,
    /// KRPC payload bytes.
    pub bytes: u32,
    /// `delivered`, `lost`, `cut`, `dead`, or `in_flight` when the run ended
    /// before it arrived.
    pub fate: &'static str,
}

/// The columns of `messages.csv`, in order.
pub const MESSAGE_COLUMNS: [&str; 8] = ["sent_us", "arrived_us", "from", "to", "kind", "tx", "bytes", "fate"];

/// One row of `closest.csv`: one of the true k closest live nodes to a traced
/// operation's target when it ended (the origin excluded), by which the
/// operation is judged (DESIGN.md §4: `success`, `found_fraction`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClosestRow {
    /// The operation: its `op` number in `ops.csv`.
    pub op: u64,
    /// 1 for the closest, 2 for the next…
    pub rank: u32,
    /// The node.
    pub node: u32,
    /// log2 of its XOR distance to the target.
    #[serde(serialize_with = "log2")]
    pub dist_log2: Option<f64>,
    /// Whether the operation sent it an RPC.
    pub asked: bool,
    /// Whether it answered one.
    pub answered: bool,
}

/// The columns of `closest.csv`, in order.
pub const CLOSEST_COLUMNS: [&str; 6] = ["op", "rank", "node", "dist_log2", "asked", "answered"];

/// A log2 distance with three decimals (`-inf` for distance 0), or empty.
fn log2<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(x) if *x == f64::NEG_INFINITY => s.serialize_str("-inf"),
        Some(x) => s.serialize_str(&format!("{x:.3}")),
    }
}

/// Where a trace file's bytes go: the file, or a gzip stream into it.
enum Sink {
    Plain(AtomicFile),
    Gzip(flate2::write::GzEncoder<AtomicFile>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(f) => f.write(buf),
            Sink::Gzip(g) => g.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(f) => f.flush(),
            Sink::Gzip(g) => g.flush(),
        }
    }
}

/// A trace file being written row by row.
pub struct TraceWriter {
    path: PathBuf,
    csv: csv::Writer<Sink>,
}

impl TraceWriter {
    /// Starts `dir/NAME` (`NAME.gz` with `gzip`), headed by `columns`.
    pub fn create(dir: &Path, name: &str, columns: &[&str], gzip: bool) -> std::io::Result<TraceWriter> {
        let path = dir.join(if gzip { format!("{name}.gz") } else { name.to_string() });
        let file = AtomicFile::create(&path)?;
        // The gzip header carries no name and no time: the bytes depend on the rows alone.
        let sink = if gzip {
            Sink::Gzip(flate2::GzBuilder::new().write(file, flate2::Compression::new(6)))
        } else {
            Sink::Plain(file)
        };
        let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(sink);
        csv.write_record(columns).map_err(std::io::Error::other)?;
        Ok(TraceWriter { path, csv })
    }

    /// The file's final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends rows.
    pub fn write<T: Serialize>(&mut self, rows: impl IntoIterator<Item = T>) -> std::io::Result<()> {
        for r in rows {
            self.csv.serialize(r).map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    /// Completes the file and puts it under its name.
    pub fn finish(self) -> std::io::Result<()> {
        let sink = self.csv.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
        match sink {
            Sink::Plain(f) => f.finish(),
            Sink::Gzip(g) => g.finish()?.finish(),
        }
    }
}

/// Opens a trace file for reading, plain or gzip by its name, in bounded
/// memory ([`crate::files::bounded::open_lines`]: a regular file, lines of
/// at most 1 MiB, a gzip stream of at most 100 times its size).
pub fn open(path: &Path) -> std::io::Result<Box<dyn std::io::Read>> {
    crate::files::bounded::open_lines(path).map_err(|e| match e {
        crate::files::bounded::OpenError::Io(io) => io,
        other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn header_of<T: Serialize>(row: &T) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        text.lines().next().unwrap().to_string()
    }

    #[test]
    fn the_column_lists_name_the_rows_fields_in_order() {
        let r = RpcRow {
            op: 1,
            seq: 0,
            sent_us: 0,
            end_us: None,
            from: 0,
            to: 1,
            kind: "find_node",
            depth: Some(1),
            dist_log2: Some(f64::NEG_INFINITY),
            outcome: "open",
            reply: None,
            contacts: None,
            nearest_log2: None,
            tx: 9,
        };
        assert_eq!(header_of(&r), RPC_COLUMNS.join(","));
        let m =
            MessageRow { sent_us: 0, arrived_us: None, from: 0, to: 1, kind: "ping", tx: 1, bytes: 50, fate: "lost" };
        assert_eq!(header_of(&m), MESSAGE_COLUMNS.join(","));
        let c = ClosestRow { op: 1, rank: 1, node: 3, dist_log2: Some(140.5), asked: true, answered: false };
        assert_eq!(header_of(&c), CLOSEST_COLUMNS.join(","));
    }

    #[test]
    fn plain_and_gzip_files_read_back_the_same_and_gzip_is_deterministic() {
        let dir = std::env::temp_dir().join(format!("kadsim-tracew-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let row = MessageRow {
            sent_us: 5,
            arrived_us: Some(9),
            from: 1,
            to: 2,
            kind: "ping",
            tx: 3,
            bytes: 50,
            fate: "delivered",
        };
        let mut bytes = Vec::new();
        for gzip in [false, true, true] {
            let mut w = TraceWriter::create(&dir, "m.csv", &MESSAGE_COLUMNS, gzip).unwrap();
            w.write([row.clone(), row.clone()]).unwrap();
            let p = w.path().to_path_buf();
            w.finish().unwrap();
            let mut text = String::new();
            open(&p).unwrap().read_to_string(&mut text).unwrap();
            let line = "5,9,1,2,ping,3,50,delivered\n";
            assert_eq!(text, format!("{}\n{line}{line}", MESSAGE_COLUMNS.join(",")));
            bytes.push(std::fs::read(&p).unwrap());
        }
        assert_eq!(bytes[1], bytes[2], "the same rows make the same gzip bytes");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
