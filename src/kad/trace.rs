//! Tracing an operation: the record of every RPC a traced operation sent,
//! kept by the node and handed to the driver with the operation's report
//! ([`OpReport::rpcs`](super::OpReport::rpcs)).
//!
//! Which operations are traced is the driver's choice, given to the node as a
//! [`TraceFilter`] in its [`Config`](super::Config): by kind, by start time
//! and by a sampling probability decided by a hash of the operation, never by
//! the node's random stream, so that tracing changes nothing else the node
//! does. A node without a filter (the default) records nothing and pays one
//! branch per request sent.
//!
//! The core only knows whether a request was answered in time; why one was
//! not (lost on the way, cut by a partition, sent to a node that was down) is
//! the driver's to add, as the simulator does.

use super::id::NodeId;
use super::message::{RequestKind, TxId};
use super::op::{OpId, OpKind};
use super::time::Time;

/// Which operations a node traces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceFilter {
    /// Operations started before this time are not traced (a simulator's warm-up).
    pub from: Time,
    /// The kinds traced, one bit per [`OpKind`] (`1 << kind as u8`).
    pub kinds: u16,
    /// The probability that an operation of those kinds is traced, from 0 to 1.
    pub sample: f64,
    /// Mixed into the sampling hash (the driver's seed), so that two runs of
    /// different seeds trace different operations.
    pub salt: u64,
}

impl TraceFilter {
    /// The bit of `kind` in [`kinds`](Self::kinds).
    pub const fn bit(kind: OpKind) -> u16 {
        1 << kind as u8
    }

    /// Whether the operation `op` of kind `kind` that the node `own` starts at
    /// `now` is traced: its kind is asked for, it starts at `from` or later,
    /// and its hash (of the salt, the node's ID, the start time and the
    /// operation's number) falls under the sampling probability. The hash
    /// never depends on anything but these, so the same run traces the same
    /// operations.
    pub fn wants(&self, kind: OpKind, op: OpId, own: &NodeId, now: Time) -> bool {
        if self.kinds & Self::bit(kind) == 0 || now < self.from {
            return false;
        }
        if self.sample >= 1.0 {
            return true;
        }
        let h = mix(mix(mix(self.salt ^ own.top()) ^ now.0) ^ op);
        unit(h) < self.sample
    }
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `z`.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A hash read as a number in [0, 1).
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// How an RPC of a traced operation ended, as the operation saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RpcEnd {
    /// The reply arrived before the RPC timeout, while the operation ran:
    /// counted in the operation's `responses`.
    Answered,
    /// The RPC timeout passed without a valid reply while the operation ran:
    /// counted in its `timeouts`.
    TimedOut,
    /// The operation ended first (a lookup that converged with queries in
    /// flight, or one cut off by its deadline): counted in `queried` only.
    Open,
}

/// What a reply said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    /// Contacts (to FIND_NODE, or FIND_VALUE without the value).
    Nodes,
    /// The value (to FIND_VALUE).
    Value,
    /// PONG.
    Pong,
    /// The pair was stored.
    Stored,
    /// The STORE was refused (the store was full).
    Refused,
}

impl ReplyKind {
    /// Lower-case name, as written in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyKind::Nodes => "nodes",
            ReplyKind::Value => "value",
            ReplyKind::Pong => "pong",
            ReplyKind::Stored => "stored",
            ReplyKind::Refused => "refused",
        }
    }
}

/// One RPC of a traced operation, in the order sent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rpc<A> {
    /// The request's transaction ID.
    pub tx: TxId,
    /// Where it went.
    pub to: A,
    /// The ID of the node asked, when known (a join's first PING to a
    /// bootstrap node of unknown ID has none).
    pub peer: Option<NodeId>,
    /// The request.
    pub kind: RequestKind,
    /// When it was sent.
    pub sent: Time,
    /// When it was answered or timed out (`None` while open).
    pub end: Option<Time>,
    /// How it ended.
    pub outcome: RpcEnd,
    /// Discovery depth of the node asked in the operation's lookup when the
    /// request was sent (1 for contacts of the own routing table, d + 1 for
    /// one first learned from a node of depth d); `None` outside a lookup
    /// (a join's first PING).
    pub depth: Option<u8>,
    /// What the reply was, when answered.
    pub reply: Option<ReplyKind>,
    /// Contacts in the reply.
    pub contacts: u16,
    /// Of those, the one closest to the operation's target.
    pub nearest: Option<NodeId>,
}

impl RequestKind {
    /// Lower-case name, as written in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Ping => "ping",
            RequestKind::Store => "store",
            RequestKind::FindNode => "find_node",
            RequestKind::FindValue => "find_value",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_takes_about_the_asked_fraction_and_respects_kind_and_start() {
        let f = TraceFilter { from: Time(100), kinds: TraceFilter::bit(OpKind::Get), sample: 0.1, salt: 7 };
        let id = NodeId::hash_of(b"n");
        let n = (0..20_000u64).filter(|&op| f.wants(OpKind::Get, op, &id, Time(500))).count();
        assert!((1_700..2_300).contains(&n), "{n} of 20000 at 0.1");
        assert!(!f.wants(OpKind::FindNode, 1, &id, Time(500)), "kind not asked for");
        assert!(!f.wants(OpKind::Get, 1, &id, Time(99)), "before `from`");
        let all = TraceFilter { sample: 1.0, ..f };
        assert!((0..100).all(|op| all.wants(OpKind::Get, op, &id, Time(100))));
        let none = TraceFilter { sample: 0.0, ..f };
        assert!((0..100).all(|op| !none.wants(OpKind::Get, op, &id, Time(100))));
        // Deterministic.
        assert_eq!(f.wants(OpKind::Get, 42, &id, Time(500)), f.wants(OpKind::Get, 42, &id, Time(500)));
    }
}
