//! Tracing a run (`kadsim run --trace`, docs/tracing.md): the RPCs of the
//! traced operations (`trace.csv`) and the traced datagrams (`messages.csv`).
//!
//! The nodes whose operations are traced run with a [`TraceFilter`] in their
//! configuration and hand each traced operation's RPCs in with its report
//! ([`crate::kad::trace`]). Only the engine knows why a request got no
//! answer, so the shards note every dropped datagram that a trace may ask
//! about (lost by the loss model, cut by a partition, sent to a node that was
//! down) in a [`ShardLog`], and the serial phase's [`Tracer`] keeps them,
//! keyed by (requester, peer, transaction, time), until the operations they
//! belong to are reported: a timed-out RPC whose request or reply was dropped
//! is written `lost`, `cut` or `dead`.
//!
//! Nothing here draws from a random stream or changes an event: the sampling
//! decisions are hashes of the operation (or the datagram's exchange) and the
//! seed, so `ops.csv`, the time series and the trace hash are the same with
//! tracing on or off. The rows leave the serial phase in a fixed order (an
//! operation's RPCs when it is recorded, in `ops.csv` order; datagrams by the
//! time their fate was known), the same for any thread count.

use super::addr::SimAddr;
use crate::kad::trace::{mix, unit};
use crate::kad::{Body, Config, Distance, IdWidth, Message, OpKind, OpReport, RpcEnd, Time, TraceFilter, TxId};
use crate::metrics::trace::{ClosestRow, MessageRow, RpcRow};
use crate::scenario::Scenario;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// What `kadsim run --trace ...` asks for; recorded in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceSpec {
    /// Write `trace.csv`: the RPCs of the traced operations.
    pub ops: bool,
    /// Write `messages.csv`: the traced datagrams.
    pub messages: bool,
    /// The probability that an operation (or a request with its reply) is traced.
    pub sample: f64,
    /// Only operations started by these nodes (and datagrams from or to
    /// them); every node when `None`. Recorded as ranges (`0-19,77`).
    #[serde(serialize_with = "as_ranges")]
    pub nodes: Option<Vec<u32>>,
    /// Compress the files with gzip (`trace.csv.gz`, `messages.csv.gz`).
    pub gzip: bool,
}

impl TraceSpec {
    /// The settings of the command line: `modes` is `ops`, `messages` or
    /// both, comma-separated; `sample` a probability in (0, 1]; `nodes` a
    /// list of node indices and ranges (`3,10-19`). Errors are one line
    /// naming the flag.
    pub fn parse(modes: &str, sample: Option<&str>, nodes: Option<&str>, gzip: bool) -> Result<TraceSpec, String> {
        let (mut ops, mut messages) = (false, false);
        for m in modes.split(',').map(str::trim) {
            match m {
                "ops" => ops = true,
                "messages" => messages = true,
                other => return Err(format!("--trace: '{other}' is not one of ops, messages")),
            }
        }
        let sample = match sample {
            None => 1.0,
            Some(s) => match s.trim().parse::<f64>() {
                Ok(p) if p > 0.0 && p <= 1.0 => p,
                _ => return Err(format!("--trace-sample {s}: expected a probability above 0 and at most 1")),
            },
        };
        let nodes = nodes.map(parse_nodes).transpose()?;
        Ok(TraceSpec { ops, messages, sample, nodes, gzip })
    }

    /// Checks the node list against a network of `n` nodes.
    pub fn check_nodes(&self, n: u32) -> Result<(), String> {
        match self.nodes.as_ref().and_then(|l| l.iter().find(|&&i| i >= n)) {
            Some(i) => {
                Err(format!("--trace-nodes: node {i} does not exist (the scenario has {n} nodes, 0 to {})", n - 1))
            }
            None => Ok(()),
        }
    }

    /// The files the settings write, by name.
    pub fn files(&self) -> Vec<String> {
        let gz = if self.gzip { ".gz" } else { "" };
        let mut v = Vec::new();
        if self.ops {
            v.push(format!("trace.csv{gz}"));
            v.push(format!("closest.csv{gz}"));
        }
        if self.messages {
            v.push(format!("messages.csv{gz}"));
        }
        v
    }
}

/// A sorted node list written as ranges, `0-19,77`, as `--trace-nodes` takes it.
fn as_ranges<S: serde::Serializer>(nodes: &Option<Vec<u32>>, s: S) -> Result<S::Ok, S::Error> {
    let Some(list) = nodes else {
        return s.serialize_none();
    };
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let mut j = i;
        while j + 1 < list.len() && list[j + 1] == list[j] + 1 {
            j += 1;
        }
        parts.push(if j > i { format!("{}-{}", list[i], list[j]) } else { list[i].to_string() });
        i = j + 1;
    }
    s.serialize_str(&parts.join(","))
}

/// Node indices and ranges, comma-separated (`3,10-19`), sorted, without repeats.
fn parse_nodes(text: &str) -> Result<Vec<u32>, String> {
    let bad = |p: &str| format!("--trace-nodes: '{p}' is not a node index or a range like 10-19");
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let (a, b) = (a.parse::<u32>().map_err(|_| bad(part))?, b.parse::<u32>().map_err(|_| bad(part))?);
        if a > b || b - a > 10_000_000 {
            return Err(bad(part));
        }
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Why a datagram never reached a node that could act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// Lost by the loss model.
    Lost,
    /// Dropped by a partition, as it was sent or in flight.
    Cut,
    /// It arrived at a node that was down.
    Dead,
    /// It arrived at an unreachable node whose NAT had no pinhole open to
    /// its sender (`network.unreachable`).
    Unreachable,
}

impl Fate {
    /// Lower-case name, as written in the trace files.
    pub fn as_str(self) -> &'static str {
        match self {
            Fate::Lost => "lost",
            Fate::Cut => "cut",
            Fate::Dead => "dead",
            Fate::Unreachable => "unreachable",
        }
    }
}

/// What the shards need to know of the trace (read-only in a window).
pub struct TraceCtx {
    /// Whether operations are traced.
    pub ops: bool,
    /// Whether datagrams are traced.
    pub messages: bool,
    sample: f64,
    salt: u64,
    /// Whether each node index is listed (`None`: every node).
    listed: Option<Vec<bool>>,
    /// The protocol of the nodes whose operations are traced: the scenario's
    /// with a [`TraceFilter`].
    cfg: Arc<Config>,
}

impl TraceCtx {
    /// The trace of `spec` over scenario `sc`, whose nodes run `cfg`.
    pub fn new(spec: &TraceSpec, sc: &Scenario, cfg: &Config) -> TraceCtx {
        let salt = super::seeds::derive(sc.seed, "trace", 0);
        let mut kinds =
            TraceFilter::bit(OpKind::FindNode) | TraceFilter::bit(OpKind::Get) | TraceFilter::bit(OpKind::Put);
        if sc.output.maintenance_ops {
            // Traced when `ops.csv` records them.
            kinds |= TraceFilter::bit(OpKind::Join)
                | TraceFilter::bit(OpKind::Refresh)
                | TraceFilter::bit(OpKind::Republish);
        }
        let filter = TraceFilter { from: Time(sc.warmup.0), kinds, sample: spec.sample, salt };
        let listed = spec.nodes.as_ref().map(|l| {
            let mut v = vec![false; sc.nodes as usize];
            for &i in l.iter().filter(|&&i| i < sc.nodes) {
                v[i as usize] = true;
            }
            v
        });
        TraceCtx {
            ops: spec.ops,
            messages: spec.messages,
            sample: spec.sample,
            salt,
            listed,
            cfg: Arc::new(Config { trace: Some(filter), ..cfg.clone() }),
        }
    }

    /// Whether node `i` is traced (listed, or every node is).
    #[inline]
    pub fn listed(&self, i: u32) -> bool {
        self.listed.as_ref().is_none_or(|l| l.get(i as usize).copied().unwrap_or(false))
    }

    /// The protocol node `i` runs when its operations are traced.
    pub fn cfg_for(&self, i: u32) -> Option<&Arc<Config>> {
        (self.ops && self.listed(i)).then_some(&self.cfg)
    }

    /// Whether a datagram between `requester` and `responder` of transaction
    /// `tx` is traced: one of them is listed, and the exchange (a request and
    /// its reply together) falls in the sample.
    fn wants_message(&self, requester: u32, responder: u32, tx: TxId) -> bool {
        self.messages
            && (self.listed(requester) || self.listed(responder))
            && (self.sample >= 1.0
                || unit(
                    mix(mix(mix(self.salt ^ 0x6d73_6773) ^ u64::from(requester)) ^ u64::from(responder))
                        ^ u64::from(tx),
                ) < self.sample)
    }
}

/// A dropped datagram, as the operations' trace needs it.
#[derive(Clone, Copy, Debug)]
struct DropRec {
    time: u64,
    from: u32,
    to: u32,
    tx: TxId,
    request: bool,
    fate: Fate,
    at_arrival: bool,
}

/// What one shard noted in a window for the trace.
#[derive(Debug, Default)]
pub struct ShardLog {
    drops: Vec<DropRec>,
    /// Traced datagrams sent (with the request flag): delivered so far as
    /// the sender knows, or lost or cut as they were sent.
    sent: Vec<(bool, MessageRow)>,
}

/// The requester and the responder of the exchange `msg` belongs to.
fn ends(from: u32, to: u32, msg: &Message<SimAddr>) -> (u32, u32, bool) {
    if msg.body.is_request() { (from, to, true) } else { (to, from, false) }
}

/// The kind of a datagram, as written in `messages.csv`.
fn kind_of(body: &Body<SimAddr>) -> &'static str {
    match body {
        Body::Ping => "ping",
        Body::Store { .. } => "store",
        Body::FindNode { .. } => "find_node",
        Body::FindValue { .. } => "find_value",
        Body::Pong => "pong",
        Body::Stored { .. } => "stored",
        Body::Nodes { .. } => "nodes",
        Body::Found { .. } => "value",
    }
}

/// The `messages.csv` row of a datagram from `from` to `to` sent at `now`.
fn message_row(
    now: u64,
    arrived_us: Option<u64>,
    from: u32,
    to: u32,
    msg: &Message<SimAddr>,
    bytes: u64,
    fate: &'static str,
) -> MessageRow {
    MessageRow { sent_us: now, arrived_us, from, to, kind: kind_of(&msg.body), tx: msg.tx, bytes: bytes as u32, fate }
}

impl ShardLog {
    /// A datagram of `bytes` from `from` to `to` was dropped as it was sent at `now`.
    #[allow(clippy::too_many_arguments)]
    pub fn dropped_at_send(
        &mut self,
        t: &TraceCtx,
        now: u64,
        from: u32,
        to: u32,
        msg: &Message<SimAddr>,
        bytes: u64,
        fate: Fate,
    ) {
        let (req, resp, request) = ends(from, to, msg);
        if t.ops && t.listed(req) {
            self.drops.push(DropRec { time: now, from, to, tx: msg.tx, request, fate, at_arrival: false });
        }
        if t.wants_message(req, resp, msg.tx) {
            self.sent.push((request, message_row(now, None, from, to, msg, bytes, fate.as_str())));
        }
    }

    /// A datagram from `from` reached `to` at `now` and was dropped there.
    pub fn dropped_at_arrival(
        &mut self,
        t: &TraceCtx,
        now: u64,
        from: u32,
        to: u32,
        msg: &Message<SimAddr>,
        fate: Fate,
    ) {
        let (req, resp, request) = ends(from, to, msg);
        if (t.ops && t.listed(req)) || t.wants_message(req, resp, msg.tx) {
            self.drops.push(DropRec { time: now, from, to, tx: msg.tx, request, fate, at_arrival: true });
        }
    }

    /// A datagram of `bytes` from `from` to `to`, sent at `now`, is on its way
    /// and arrives at `arrive`.
    #[allow(clippy::too_many_arguments)]
    pub fn sent(
        &mut self,
        t: &TraceCtx,
        now: u64,
        arrive: u64,
        from: u32,
        to: u32,
        msg: &Message<SimAddr>,
        bytes: u64,
    ) {
        let (req, resp, request) = ends(from, to, msg);
        if t.wants_message(req, resp, msg.tx) {
            self.sent.push((request, message_row(now, Some(arrive), from, to, msg, bytes, "delivered")));
        }
    }
}

/// A dropped datagram as the operations' trace asks about it: time,
/// requester, peer, transaction, fate.
type FateKey = (u64, u32, u32, TxId, Fate);

/// The datagram key of a `messages.csv` row: when its fate was known, the
/// two ends, the transaction and whether it is a request.
type MsgKey = (u64, u32, u32, TxId, bool);

/// The serial phase's side of the trace: drops kept until the operations
/// that ask about them are recorded, datagrams kept until they arrive, and
/// the rows made, waiting for the runner to write them.
pub struct Tracer {
    ops: bool,
    messages: bool,
    width: IdWidth,
    /// Drops older than this (µs) can no longer be asked about.
    horizon: u64,
    next_prune: u64,
    /// Drops that operations may ask about, (time, requester, peer,
    /// transaction, fate), in time order: those of past windows, each window
    /// sorted when it closes, then those of the current window.
    fates: VecDeque<FateKey>,
    window_fates: Vec<FateKey>,
    /// Traced datagrams in flight, by arrival.
    pending: BTreeMap<MsgKey, MessageRow>,
    /// Drops at arrival of this window, to mark on `pending`.
    arrivals: Vec<DropRec>,
    /// Datagrams whose fate is known, not yet in order.
    ready: Vec<(bool, MessageRow)>,
    rpc_rows: Vec<RpcRow>,
    closest_rows: Vec<ClosestRow>,
    msg_rows: Vec<MessageRow>,
}

impl Tracer {
    /// The serial phase's tracer for `spec`, nodes running `cfg`.
    pub fn new(spec: &TraceSpec, cfg: &Config) -> Tracer {
        let horizon = Time::ZERO.plus(cfg.op_timeout).plus(cfg.rpc_timeout).0 + 1_000_000;
        Tracer {
            ops: spec.ops,
            messages: spec.messages,
            width: cfg.id_width,
            horizon,
            next_prune: horizon,
            fates: VecDeque::new(),
            window_fates: Vec::new(),
            pending: BTreeMap::new(),
            arrivals: Vec::new(),
            ready: Vec::new(),
            rpc_rows: Vec::new(),
            closest_rows: Vec::new(),
            msg_rows: Vec::new(),
        }
    }

    /// Takes what a shard noted in the window just run. The order in which
    /// shards are taken does not matter.
    pub fn collect(&mut self, log: &mut ShardLog) {
        for d in log.drops.drain(..) {
            if self.ops {
                let (req, peer) = if d.request { (d.from, d.to) } else { (d.to, d.from) };
                self.window_fates.push((d.time, req, peer, d.tx, d.fate));
            }
            if self.messages && d.at_arrival {
                self.arrivals.push(d);
            }
        }
        for (request, row) in log.sent.drain(..) {
            match row.arrived_us {
                Some(at) => {
                    self.pending.insert((at, row.from, row.to, row.tx, request), row);
                }
                None => self.ready.push((request, row)),
            }
        }
    }

    /// Closes the window ending at `end` (µs): the traced datagrams that
    /// arrived in it get their fate and join the rows, in the order of the
    /// time their fate was known (then sender, destination, transaction).
    pub fn window_done(&mut self, end: u64) {
        for d in self.arrivals.drain(..) {
            if let Some(row) = self.pending.get_mut(&(d.time, d.from, d.to, d.tx, d.request)) {
                row.fate = d.fate.as_str();
            }
        }
        if self.messages {
            let later = self.pending.split_off(&(end, 0, 0, 0, false));
            let arrived = std::mem::replace(&mut self.pending, later);
            self.ready.extend(arrived.into_iter().map(|((_, _, _, _, request), row)| (request, row)));
            self.ready
                .sort_unstable_by_key(|(request, r)| (r.arrived_us.unwrap_or(r.sent_us), r.from, r.to, r.tx, *request));
            self.msg_rows.extend(self.ready.drain(..).map(|(_, r)| r));
        }
        // Sorted whole, so that the order is the same whatever the order of the shards.
        self.window_fates.sort_unstable();
        self.fates.extend(self.window_fates.drain(..));
        if end >= self.next_prune {
            let oldest = end.saturating_sub(self.horizon);
            while self.fates.front().is_some_and(|f| f.0 < oldest) {
                self.fates.pop_front();
            }
            self.next_prune = end + self.horizon / 4;
        }
    }

    /// Ends the run: the traced datagrams still in flight are written with
    /// the fate `in_flight` (and the time they would have arrived), so that
    /// `messages.csv` holds every traced datagram sent.
    pub fn finish(&mut self) {
        for row in std::mem::take(&mut self.pending).into_values() {
            self.msg_rows.push(MessageRow { fate: "in_flight", ..row });
        }
    }

    /// The rows of an operation recorded as number `op` of `ops.csv`,
    /// started by `origin`.
    pub fn op(&mut self, op: u64, origin: u32, r: &OpReport<SimAddr>) {
        for (seq, rpc) in r.rpcs.iter().enumerate() {
            let to = rpc.to.node();
            let outcome = match (rpc.outcome, rpc.end) {
                (RpcEnd::Answered, _) => "answered",
                (RpcEnd::Open, _) | (RpcEnd::TimedOut, None) => "open",
                (RpcEnd::TimedOut, Some(end)) => {
                    self.fate_of(origin, to, rpc.tx, rpc.sent.0, end.0).map_or("timed_out", Fate::as_str)
                }
            };
            let dist = |id: &crate::kad::NodeId| log2_distance(&id.distance(&r.target), self.width);
            self.rpc_rows.push(RpcRow {
                op,
                seq: seq as u32,
                sent_us: rpc.sent.0,
                end_us: rpc.end.map(|t| t.0),
                from: origin,
                to,
                kind: rpc.kind.as_str(),
                depth: rpc.depth,
                dist_log2: rpc.peer.as_ref().map(dist),
                outcome,
                reply: rpc.reply.map(|k| k.as_str()),
                contacts: rpc.reply.filter(|k| *k == crate::kad::ReplyKind::Nodes).map(|_| rpc.contacts),
                nearest_log2: rpc.nearest.as_ref().map(dist),
                tx: rpc.tx,
            });
        }
    }

    /// What became of the request `tx` from `origin` to `to` sent at `sent`
    /// or of its reply, if either was dropped by `end`.
    fn fate_of(&self, origin: u32, to: u32, tx: TxId, sent: u64, end: u64) -> Option<Fate> {
        let from = self.fates.partition_point(|f| f.0 < sent);
        let past = self.fates.range(from..).take_while(|f| f.0 <= end);
        let now = self.window_fates.iter().filter(|f| f.0 >= sent && f.0 <= end);
        past.chain(now).filter(|f| (f.1, f.2, f.3) == (origin, to, tx)).map(|f| f.4).min()
    }

    /// The rows of `closest.csv` for the operation recorded as number `op`:
    /// `truth`, the true closest live nodes to its target when it ended
    /// (origin excluded, closest first), each with whether the operation
    /// asked it and whether it answered. Only traced operations that sent
    /// RPCs get rows.
    pub fn closest(&mut self, op: u64, r: &OpReport<SimAddr>, truth: &[(crate::kad::NodeId, u32)]) {
        if r.rpcs.is_empty() {
            return;
        }
        for (i, (id, node)) in truth.iter().enumerate() {
            let mine = r.rpcs.iter().filter(|rpc| rpc.to.node() == *node);
            let (asked, answered) =
                mine.fold((false, false), |(_, b), rpc| (true, b || rpc.outcome == RpcEnd::Answered));
            self.closest_rows.push(ClosestRow {
                op,
                rank: i as u32 + 1,
                node: *node,
                dist_log2: Some(log2_distance(&id.distance(&r.target), self.width)),
                asked,
                answered,
            });
        }
    }

    /// The rows made since the last call.
    pub fn take(&mut self) -> TraceRows {
        TraceRows {
            rpcs: std::mem::take(&mut self.rpc_rows),
            closest: std::mem::take(&mut self.closest_rows),
            messages: std::mem::take(&mut self.msg_rows),
        }
    }
}

/// The rows of the trace files made since the last call.
#[derive(Debug, Default)]
pub struct TraceRows {
    /// `trace.csv`'s.
    pub rpcs: Vec<RpcRow>,
    /// `closest.csv`'s.
    pub closest: Vec<ClosestRow>,
    /// `messages.csv`'s.
    pub messages: Vec<MessageRow>,
}

/// log2 of an XOR distance between IDs of `width` bits: from 0 (distance 1)
/// to just under the width; minus infinity for distance 0.
pub fn log2_distance(d: &Distance, width: IdWidth) -> f64 {
    let lz = d.leading_zeros();
    if lz >= 256 {
        return f64::NEG_INFINITY;
    }
    // The 64 bits from the leading one on: a number in [2^63, 2^64).
    let bytes = d.to_bytes();
    let mut window = [0u8; 16];
    for (i, w) in window.iter_mut().enumerate() {
        *w = bytes.get(lz / 8 + i).copied().unwrap_or(0);
    }
    let m = ((u128::from_be_bytes(window) << (lz % 8)) >> 64) as u64;
    let exp = width.bits() as f64 - 1.0 - lz as f64;
    exp + (m as f64 / 2f64.powi(63)).log2()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kad::NodeId;

    #[test]
    fn log2_distances_of_either_width() {
        let zero = NodeId::default();
        let mut one = NodeId::default();
        one.0[19] = 1; // distance 1 at 160 bits
        assert_eq!(log2_distance(&zero.distance(&one), IdWidth::Bits160), 0.0);
        let mut three = NodeId::default();
        three.0[19] = 3;
        assert!((log2_distance(&zero.distance(&three), IdWidth::Bits160) - 3f64.log2()).abs() < 1e-12);
        let mut top = NodeId::default();
        top.0[0] = 0x80;
        assert_eq!(log2_distance(&zero.distance(&top), IdWidth::Bits160), 159.0);
        assert_eq!(log2_distance(&zero.distance(&top), IdWidth::Bits256), 255.0);
        let mut wide = NodeId::default();
        wide.0[31] = 1;
        assert_eq!(log2_distance(&zero.distance(&wide), IdWidth::Bits256), 0.0);
        assert_eq!(log2_distance(&zero.distance(&zero), IdWidth::Bits160), f64::NEG_INFINITY);
    }

    #[test]
    fn flags_parse_or_fail_in_one_line() {
        let s = TraceSpec::parse("ops,messages", Some("0.25"), Some("5,1-3,2"), true).unwrap();
        assert!(s.ops && s.messages && s.gzip);
        assert_eq!(s.sample, 0.25);
        assert_eq!(s.nodes, Some(vec![1, 2, 3, 5]));
        assert_eq!(s.files(), ["trace.csv.gz", "closest.csv.gz", "messages.csv.gz"]);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["nodes"], "1-3,5", "the manifest keeps the list short");
        assert!(s.check_nodes(6).is_ok());
        assert!(s.check_nodes(5).unwrap_err().contains("node 5 does not exist"));
        for (modes, sample, nodes) in [
            ("op", None, None),
            ("ops", Some("2"), None),
            ("ops", Some("0"), None),
            ("ops", Some("x"), None),
            ("ops", None, Some("a")),
            ("ops", None, Some("5-1")),
        ] {
            let e = TraceSpec::parse(modes, sample, nodes, false).unwrap_err();
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }
}
