//! `kadsim trace`: reading a run's `trace.csv` back, one operation at a time
//! or picking the worst, for its story ([`story`]) and its convergence chart
//! ([`convergence`]). The files are streamed, so a trace of millions of RPCs
//! is read without holding it.

pub mod convergence;
pub mod story;

use super::results::{ReadError, read_csv};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A row of `trace.csv` as read back (README "Tracing").
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Rpc {
    /// The operation's number in `ops.csv`.
    pub op: u64,
    /// Its place among the operation's RPCs, in the order sent.
    pub seq: u32,
    /// When the request was sent.
    pub sent_us: u64,
    /// When it was answered or timed out (empty: open).
    pub end_us: Option<u64>,
    /// The origin.
    pub from: u32,
    /// The node asked.
    pub to: u32,
    /// The request.
    pub kind: String,
    /// Discovery depth of the node asked.
    pub depth: Option<u32>,
    /// log2 of its XOR distance to the target.
    pub dist_log2: Option<f64>,
    /// answered, timed_out, lost, cut, dead or open.
    pub outcome: String,
    /// What the reply said.
    pub reply: Option<String>,
    /// Contacts in the reply.
    pub contacts: Option<u32>,
    /// log2 distance of the reply's contact nearest the target.
    pub nearest_log2: Option<f64>,
    /// Transaction ID.
    pub tx: u32,
}

/// A row of `ops.csv` with what a trace story needs.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct OpRow {
    /// The operation's number (absent in runs before tracing).
    #[serde(default)]
    pub op: Option<u64>,
    /// Start.
    pub start_us: u64,
    /// End.
    pub end_us: u64,
    /// Kind.
    pub kind: String,
    /// The node that started it.
    pub origin: u32,
    /// Target ID or key, hex.
    pub target: String,
    /// Discovery depth of the result.
    pub hops: Option<u32>,
    /// RPCs sent.
    pub queried: u32,
    /// Answered.
    pub responses: u32,
    /// Timed out.
    pub timeouts: u32,
    /// End minus start.
    pub latency_us: u64,
    /// DESIGN.md §4.
    pub success: bool,
    /// Cut off by the overall deadline.
    pub deadline_hit: bool,
}

impl OpRow {
    /// Failed: not a success, or cut off by its deadline.
    pub fn failed(&self) -> bool {
        !self.success || self.deadline_hit
    }
}

/// The trace file of the run in `dir`: `trace.csv` or `trace.csv.gz`.
pub fn trace_file(dir: &Path) -> Result<PathBuf, ReadError> {
    let plain = dir.join("trace.csv");
    let gz = dir.join("trace.csv.gz");
    if plain.is_file() {
        Ok(plain)
    } else if gz.is_file() {
        Ok(gz)
    } else {
        Err(ReadError {
            path: plain,
            line: None,
            msg: "no trace of operations here: run the scenario with --trace ops".into(),
        })
    }
}

/// The operations of `ops.csv` in `dir`, which must carry the `op` column.
pub fn read_ops(dir: &Path) -> Result<Vec<OpRow>, ReadError> {
    let path = dir.join("ops.csv");
    let ops: Vec<OpRow> = read_csv(&path)?;
    if ops.iter().any(|o| o.op.is_none()) {
        return Err(ReadError { path, line: None, msg: "no op column: written by a kadsim without tracing".into() });
    }
    Ok(ops)
}

/// Calls `f` with every row of the trace file `path`, in file order.
fn each_rpc(path: &Path, mut f: impl FnMut(Rpc)) -> Result<(), ReadError> {
    let err = |line: Option<u64>, msg: String| ReadError { path: path.to_path_buf(), line, msg };
    let reader = crate::metrics::trace::open(path).map_err(|e| err(None, format!("cannot read: {e}")))?;
    let mut r = csv::Reader::from_reader(reader);
    let csv_err = |e: csv::Error| err(e.position().map(|p| p.line()), e.to_string());
    let headers = r.headers().map_err(csv_err)?.clone();
    let mut rec = csv::StringRecord::new();
    while r.read_record(&mut rec).map_err(csv_err)? {
        let line = rec.position().map(|p| p.line());
        let rpc: Rpc = rec.deserialize(Some(&headers)).map_err(|e| err(line, e.to_string()))?;
        if !convergence::OUTCOMES.iter().any(|(o, ..)| *o == rpc.outcome) {
            let known: Vec<&str> = convergence::OUTCOMES.iter().map(|(o, ..)| *o).collect();
            let got: String = rpc.outcome.chars().take(40).collect();
            return Err(err(line, format!("outcome: expected one of {}, got {got:?}", known.join(", "))));
        }
        f(rpc);
    }
    Ok(())
}

/// The operations that have rows in the trace file `path`.
pub fn traced_ops(path: &Path) -> Result<BTreeSet<u64>, ReadError> {
    let mut set = BTreeSet::new();
    each_rpc(path, |r| {
        set.insert(r.op);
    })?;
    Ok(set)
}

/// The rows of the operations `ops` in the trace file `path`, by operation, in file order.
pub fn rpcs_of(path: &Path, ops: &BTreeSet<u64>) -> Result<BTreeMap<u64, Vec<Rpc>>, ReadError> {
    let mut out: BTreeMap<u64, Vec<Rpc>> = BTreeMap::new();
    each_rpc(path, |r| {
        if ops.contains(&r.op) {
            out.entry(r.op).or_default().push(r);
        }
    })?;
    Ok(out)
}

/// The `n` worst of the traced operations: failed ones first, then the
/// slowest; among equals, the earlier number first.
pub fn worst<'a>(ops: &'a [OpRow], traced: &BTreeSet<u64>, n: usize) -> Vec<&'a OpRow> {
    let mut v: Vec<&OpRow> = ops.iter().filter(|o| o.op.is_some_and(|id| traced.contains(&id))).collect();
    v.sort_by_key(|o| (!o.failed(), std::cmp::Reverse(o.latency_us), o.op));
    v.truncate(n);
    v
}
