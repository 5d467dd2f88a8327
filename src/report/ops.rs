//! Reading `ops.csv` back strictly into compact rows: no text is kept per
//! operation (the kind is one of a fixed set of names, the target its first
//! 64 bits), and the rows are gathered with fallible reservations, so that a
//! file too large for memory is an error naming it, never an aborted
//! allocation.

use crate::files::ReadError;
use crate::files::schema;
use crate::files::table::{Table, push_row};
use std::path::Path;

/// A row of `ops.csv` as read back (`metrics::OpRecord`).
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    /// The operation's number, 1 for the first row (`None` in runs that
    /// predate the `op` column).
    pub op: Option<u64>,
    /// Simulated start time.
    pub start_us: u64,
    /// Simulated end time.
    pub end_us: u64,
    /// `find_node`, `get` or `put` (and maintenance kinds when recorded).
    pub kind: &'static str,
    /// The node that started it.
    pub origin: u32,
    /// The first 64 bits of the target ID or key.
    pub target_top: u64,
    /// Discovery depth of the result.
    pub hops: Option<u8>,
    /// RPCs sent.
    pub queried: u32,
    /// RPCs answered.
    pub responses: u32,
    /// RPCs timed out.
    pub timeouts: u32,
    /// End minus start.
    pub latency_us: u64,
    /// See DESIGN.md §4.
    pub success: bool,
    /// Cut off by the overall deadline.
    pub deadline_hit: bool,
    /// |result ∩ true k closest| / min(k, alive − 1).
    pub found_fraction: Option<f64>,
    /// STOREs acknowledged (puts).
    pub replicas: u32,
}

impl Op {
    /// Failed: not a success, or cut off by its deadline.
    pub fn failed(&self) -> bool {
        !self.success || self.deadline_hit
    }
}

/// The rows of `ops.csv` at `path`, and notes on lenient readings (an older
/// file without the later columns).
pub fn read(path: &Path) -> Result<(Vec<Op>, Vec<String>), ReadError> {
    let mut t = Table::open(path, schema::ops())?;
    let mut ops = Vec::new();
    while t.next_row()? {
        let latency_us = t.uint("latency_us").unwrap_or_default();
        let (start_us, end_us) = (t.uint("start_us").unwrap_or_default(), t.uint("end_us").unwrap_or_default());
        if end_us.checked_sub(start_us) != Some(latency_us) {
            return Err(t.error(format!(
                "column latency_us: expected end_us - start_us = {}, got {latency_us}",
                end_us as i128 - start_us as i128
            )));
        }
        let target = t.value("target").unwrap_or_default();
        let op = Op {
            op: t.uint("op"),
            start_us,
            end_us,
            kind: t.word("kind").unwrap_or("find_node"),
            origin: t.uint("origin").unwrap_or_default() as u32,
            target_top: u64::from_str_radix(&target[..16.min(target.len())], 16).unwrap_or_default(),
            hops: t.uint("hops").map(|h| h as u8),
            queried: t.uint("queried").unwrap_or_default() as u32,
            responses: t.uint("responses").unwrap_or_default() as u32,
            timeouts: t.uint("timeouts").unwrap_or_default() as u32,
            latency_us,
            success: t.boolean("success").unwrap_or_default(),
            deadline_hit: t.boolean("deadline_hit").unwrap_or_default(),
            found_fraction: t.number("found_fraction"),
            replicas: t.uint("replicas").unwrap_or_default() as u32,
        };
        if let Some(n) = op.op
            && n != ops.len() as u64 + 1
        {
            return Err(t.error(format!("column op: expected {} (rows are numbered from 1), got {n}", ops.len() + 1)));
        }
        push_row(&mut ops, op, &t)?;
    }
    Ok((ops, t.take_notes()))
}
