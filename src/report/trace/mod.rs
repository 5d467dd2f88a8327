//! `kadsim trace`: reading a run's `trace.csv` back, one operation at a time
//! or picking the worst, for its story ([`story`]) and its convergence chart
//! ([`convergence`]). The files are streamed, so a trace of millions of RPCs
//! is read without holding it, and checked as they stream by: every row
//! against what the writer writes, and every operation's rows against
//! `ops.csv` (a traced operation's rows are its RPCs, one per request it
//! sent: at most its `queried`). Only the rows of the operations asked for
//! are kept, never more than that bound, so that a damaged or hostile trace
//! is refused after a bounded number of rows.

pub mod convergence;
pub mod story;

use crate::files::ReadError;
use crate::files::schema;
use crate::files::table::{Table, push_row};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A row of `ops.csv`, with what a trace story needs.
pub use super::ops::Op as OpRow;

/// The most rows kept for one operation, whatever its `queried` says.
pub const MAX_RPCS_PER_OP: u32 = 1 << 20;

/// The most rows kept for all the operations asked for together.
pub const MAX_RPCS: usize = 1 << 22;

/// A row of `trace.csv` as read back (docs/tracing.md); its words are those
/// of the fixed sets the writer uses ([`schema::trace`]).
#[derive(Clone, Debug, PartialEq)]
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
    pub kind: &'static str,
    /// Discovery depth of the node asked.
    pub depth: Option<u32>,
    /// log2 of its XOR distance to the target.
    pub dist_log2: Option<f64>,
    /// answered, timed_out, lost, cut, dead or open.
    pub outcome: &'static str,
    /// What the reply said.
    pub reply: Option<&'static str>,
    /// Contacts in the reply.
    pub contacts: Option<u32>,
    /// log2 distance of the reply's contact nearest the target.
    pub nearest_log2: Option<f64>,
    /// Transaction ID.
    pub tx: u32,
}

/// The trace file of the run in `dir`: `trace.csv` or `trace.csv.gz`.
pub fn trace_file(dir: &Path) -> Result<PathBuf, ReadError> {
    let plain = dir.join("trace.csv");
    let gz = dir.join("trace.csv.gz");
    // Whatever is there under the name is opened, and refused if it is no file.
    if plain.exists() {
        Ok(plain)
    } else if gz.exists() {
        Ok(gz)
    } else {
        Err(ReadError::at(&plain, None, "no trace of operations here: run the scenario with --trace ops"))
    }
}

/// The operations of `ops.csv` in `dir`, which must carry the `op` column,
/// and notes on lenient readings.
pub fn read_ops(dir: &Path) -> Result<(Vec<OpRow>, Vec<String>), ReadError> {
    let path = dir.join("ops.csv");
    let (ops, notes) = super::ops::read(&path)?;
    if ops.iter().any(|o| o.op.is_none()) {
        return Err(ReadError::at(&path, Some(1), "no op column: written by a kadsim without tracing"));
    }
    Ok((ops, notes))
}

/// The number of log2 distance `v` (`-inf` for distance 0).
fn log2(v: Option<&str>) -> Option<f64> {
    match v? {
        "-inf" => Some(f64::NEG_INFINITY),
        x => schema::finite(x),
    }
}

/// Calls `f` with every row of the trace file `path`, in file order, each
/// checked against what the writer writes, and with the table to name its
/// line in errors.
fn each_rpc(path: &Path, mut f: impl FnMut(Rpc, &Table) -> Result<(), ReadError>) -> Result<(), ReadError> {
    let mut t = Table::open(path, schema::trace())?;
    while t.next_row()? {
        let rpc = Rpc {
            op: t.uint("op").unwrap_or_default(),
            seq: t.uint("seq").unwrap_or_default() as u32,
            sent_us: t.uint("sent_us").unwrap_or_default(),
            end_us: t.uint("end_us"),
            from: t.uint("from").unwrap_or_default() as u32,
            to: t.uint("to").unwrap_or_default() as u32,
            kind: t.word("kind").unwrap_or("find_node"),
            depth: t.uint("depth").map(|d| d as u32),
            dist_log2: log2(t.value("dist_log2").filter(|v| !v.is_empty())),
            outcome: t.word("outcome").unwrap_or("open"),
            reply: t.word("reply"),
            contacts: t.uint("contacts").map(|c| c as u32),
            nearest_log2: log2(t.value("nearest_log2").filter(|v| !v.is_empty())),
            tx: t.uint("tx").unwrap_or_default() as u32,
        };
        f(rpc, &t)?;
    }
    Ok(())
}

/// Counts the rows of each operation against what `ops.csv` says it sent:
/// every row of an operation is one of its `queried` RPCs.
struct Counts<'a> {
    ops: &'a [OpRow],
    rows: Vec<u32>,
}

impl<'a> Counts<'a> {
    fn new(ops: &'a [OpRow]) -> Counts<'a> {
        Counts { ops, rows: Vec::new() }
    }

    /// Counts `rpc`; an error when its operation is not in `ops.csv` or has
    /// more rows than RPCs sent.
    fn count(&mut self, rpc: &Rpc, t: &Table) -> Result<usize, ReadError> {
        let n = self.ops.len();
        let i = rpc
            .op
            .checked_sub(1)
            .filter(|&i| i < n as u64)
            .ok_or_else(|| t.error(format!("column op: operation {} is not in ops.csv (1 to {n})", rpc.op)))?
            as usize;
        if self.rows.is_empty() {
            self.rows = vec![0; n];
        }
        self.rows[i] += 1;
        let sent = self.ops[i].queried;
        if self.rows[i] > sent {
            return Err(
                t.error(format!("operation {} has more rows than the {sent} RPCs ops.csv says it sent", rpc.op))
            );
        }
        Ok(i)
    }
}

/// The operations that have rows in the trace file `path`, each checked to
/// be one of `ops` (those of `ops.csv`) with no more rows than RPCs sent.
pub fn traced_ops(path: &Path, ops: &[OpRow]) -> Result<BTreeSet<u64>, ReadError> {
    let mut counts = Counts::new(ops);
    each_rpc(path, |r, t| counts.count(&r, t).map(|_| ()))?;
    Ok(counts.rows.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, _)| i as u64 + 1).collect())
}

/// The rows of the operations `wanted` (rows of `ops`) in the trace file
/// `path`, by operation, in file order. At most an operation's `queried`
/// rows (and [`MAX_RPCS_PER_OP`]) are taken for it, [`MAX_RPCS`] in all:
/// past either, the file is refused with its line.
pub fn rpcs_of(path: &Path, ops: &[OpRow], wanted: &[&OpRow]) -> Result<BTreeMap<u64, Vec<Rpc>>, ReadError> {
    let ids: BTreeSet<u64> = wanted.iter().filter_map(|o| o.op).collect();
    let mut counts = Counts::new(ops);
    let mut out: BTreeMap<u64, Vec<Rpc>> = BTreeMap::new();
    let mut kept = 0usize;
    each_rpc(path, |r, t| {
        let i = counts.count(&r, t)?;
        if !ids.contains(&r.op) {
            return Ok(());
        }
        if counts.rows[i] > MAX_RPCS_PER_OP || kept >= MAX_RPCS {
            return Err(t.error(format!(
                "more rows than kadsim trace keeps ({MAX_RPCS_PER_OP} for one operation, {MAX_RPCS} in all)"
            )));
        }
        kept += 1;
        let rows = out.entry(r.op).or_default();
        push_row(rows, r, t)
    })?;
    Ok(out)
}

/// One of the true k closest live nodes to a traced operation's target
/// when it ended (a row of `closest.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct Closest {
    /// 1 for the closest.
    pub rank: u32,
    /// The node.
    pub node: u32,
    /// log2 of its XOR distance to the target.
    pub dist_log2: Option<f64>,
    /// Whether the operation asked it.
    pub asked: bool,
    /// Whether it answered.
    pub answered: bool,
}

/// The file of the true closest nodes of the run in `dir` (`closest.csv` or
/// `closest.csv.gz`), or `None` when the run has none (traced by a kadsim
/// from before it was written).
pub fn closest_file(dir: &Path) -> Option<PathBuf> {
    ["closest.csv", "closest.csv.gz"].into_iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// The rows of `closest.csv` (`path`) of the operations `wanted`, by
/// operation, closest first. An operation has at most `k` rows, ranked 1, 2,
/// … in file order, and belongs to `ops`; anything else is refused with its
/// line.
pub fn closest_of(
    path: &Path,
    ops: &[OpRow],
    wanted: &[&OpRow],
    k: u32,
) -> Result<BTreeMap<u64, Vec<Closest>>, ReadError> {
    let ids: BTreeSet<u64> = wanted.iter().filter_map(|o| o.op).collect();
    let mut t = Table::open(path, schema::closest())?;
    let mut out: BTreeMap<u64, Vec<Closest>> = BTreeMap::new();
    let mut last: Option<(u64, u32)> = None;
    while t.next_row()? {
        let op = t.uint("op").unwrap_or_default();
        let rank = t.uint("rank").unwrap_or_default() as u32;
        if op == 0 || op > ops.len() as u64 {
            return Err(t.error(format!("op {op}: not an operation of ops.csv (1 to {})", ops.len())));
        }
        let want = match last {
            Some((o, r)) if o == op => r + 1,
            _ => 1,
        };
        if rank != want || rank > k {
            return Err(t.error(format!(
                "rank {rank}: expected {want} (each operation's rows ranked 1, 2, … up to k = {k}, in order)"
            )));
        }
        last = Some((op, rank));
        if ids.contains(&op) {
            out.entry(op).or_default().push(Closest {
                rank,
                node: t.uint("node").unwrap_or_default() as u32,
                dist_log2: log2(t.value("dist_log2").filter(|v| !v.is_empty())),
                asked: t.boolean("asked").unwrap_or(false),
                answered: t.boolean("answered").unwrap_or(false),
            });
        }
    }
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
