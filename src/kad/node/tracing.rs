//! The RPC record of traced operations ([`crate::kad::trace`]): an entry per
//! request a traced operation sends, completed when the request is answered
//! or times out while the operation runs, exactly where the operation's
//! `responses` and `timeouts` count it; an entry still open when the
//! operation ends stays [`RpcEnd::Open`]. Untraced operations cost a branch.

use super::{Op, Phase};
use crate::kad::address::Address;
use crate::kad::id::NodeId;
use crate::kad::message::{Body, RequestKind, TxId};
use crate::kad::node::{Node, OpId, OpKind};
use crate::kad::time::Time;
use crate::kad::trace::{ReplyKind, Rpc, RpcEnd};

impl<A: Address> Node<A> {
    /// Whether operation `id` of `kind`, starting now, is traced.
    pub(in crate::kad::node) fn traces(&self, kind: OpKind, id: OpId, now: Time) -> bool {
        self.cfg.trace.as_ref().is_some_and(|f| f.wants(kind, id, self.id(), now))
    }

    /// The traced operation `op`, if it runs and is traced.
    fn traced_op(&mut self, op: OpId) -> Option<&mut Op<A>> {
        self.ops.iter_mut().find(|o| o.id == op).filter(|o| o.traced)
    }

    /// Operation `op` sent request `tx` of `kind` to `to` (`peer`).
    pub(in crate::kad::node) fn trace_sent(
        &mut self,
        now: Time,
        op: OpId,
        tx: TxId,
        to: A,
        peer: Option<NodeId>,
        kind: RequestKind,
    ) {
        let Some(o) = self.traced_op(op) else {
            return;
        };
        let depth = match (&o.phase, &peer) {
            (Phase::Lookup(l), Some(p)) => l.depth_of(p),
            _ => None,
        };
        o.rpcs.push(Rpc {
            tx,
            to,
            peer,
            kind,
            sent: now,
            end: None,
            outcome: RpcEnd::Open,
            depth,
            reply: None,
            contacts: 0,
            nearest: None,
        });
    }

    /// Request `tx` of operation `op` was answered with `body`.
    pub(in crate::kad::node) fn trace_answered(&mut self, now: Time, op: OpId, tx: TxId, body: &Body<A>) {
        let Some(o) = self.traced_op(op) else {
            return;
        };
        let target = o.target;
        let Some(r) = open_rpc(&mut o.rpcs, tx) else {
            return;
        };
        r.end = Some(now);
        r.outcome = RpcEnd::Answered;
        r.reply = match body {
            Body::Nodes { contacts } => {
                r.contacts = u16::try_from(contacts.len()).unwrap_or(u16::MAX);
                r.nearest = contacts.iter().map(|c| c.id).min_by_key(|id| id.distance(&target));
                Some(ReplyKind::Nodes)
            }
            Body::Found { .. } => Some(ReplyKind::Value),
            Body::Pong => Some(ReplyKind::Pong),
            Body::Stored { accepted: true } => Some(ReplyKind::Stored),
            Body::Stored { accepted: false } => Some(ReplyKind::Refused),
            _ => None,
        };
    }

    /// Request `tx` of operation `op` timed out.
    pub(in crate::kad::node) fn trace_timed_out(&mut self, now: Time, op: OpId, tx: TxId) {
        if let Some(r) = self.traced_op(op).and_then(|o| open_rpc(&mut o.rpcs, tx)) {
            r.end = Some(now);
            r.outcome = RpcEnd::TimedOut;
        }
    }
}

/// The open record of request `tx`: the latest, since a transaction ID is
/// only reused once its request is over.
fn open_rpc<A>(rpcs: &mut [Rpc<A>], tx: TxId) -> Option<&mut Rpc<A>> {
    rpcs.iter_mut().rev().find(|r| r.tx == tx && r.outcome == RpcEnd::Open)
}
