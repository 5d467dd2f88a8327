//! The RPC record of traced operations ([`crate::kad::trace`]): an entry per
//! request a traced operation sends, completed when the request is answered
//! or times out while the operation runs, exactly where the operation's
//! `responses` and `timeouts` count it; an entry still open when the
//! operation ends stays [`RpcEnd::Open`]. Untraced operations cost a branch.

use super::{Op, Phase};
use crate::kad::address::Address;
use crate::kad::id::NodeId;
use crate::kad::message::{Body, RequestKind, TxId};
use crate::kad::node::Node;
use crate::kad::op::{OpId, OpKind};
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

    /// Operation `op` sent request `tx` of `kind` to `to` (`peer`); returns
    /// whether the operation is traced.
    pub(in crate::kad::node) fn trace_sent(
        &mut self,
        now: Time,
        op: OpId,
        tx: TxId,
        to: A,
        peer: Option<NodeId>,
        kind: RequestKind,
    ) -> bool {
        let Some(o) = self.traced_op(op) else {
            return false;
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
        true
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
                r.nearest = contacts.iter().map(|c| A::unpack(c).id).min_by_key(|id| id.distance(&target));
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

#[cfg(test)]
mod tests {
    use crate::kad::id::test_id as id;
    use crate::kad::trace::{ReplyKind, RpcEnd, TraceFilter};
    use crate::kad::{
        Body, Command, Config, Contact, Input, Message, Node, OpKind, OpReport, Outbox, Output, Time, Timer,
    };
    use std::sync::Arc;

    const SEC: u64 = 1_000_000;

    /// Node 1 knows nodes 2 to 5, looks up ID (9, 9), gets one answer from
    /// the nearest it asked (naming node 6, which never answers) and no other.
    fn lookup(cfg: Config) -> (OpReport<u32>, Vec<Message<u32>>) {
        let mut a = Node::new(id(1, 1), Arc::new(cfg), 7, Time::ZERO).unwrap();
        let mut out = Outbox::new();
        for i in 2..6u8 {
            let msg = Message { read_only: false, tx: 1, sender: id(i, i), body: Body::Ping };
            a.handle(Time::ZERO, Input::Datagram { from: u32::from(i), msg }, &mut out);
        }
        out.clear();
        a.start(Time::ZERO, Command::FindNode(id(9, 9)), &mut out);
        let mut sent = Vec::new();
        let mut report = None;
        let mut answered = false;
        for t in 0..200u64 {
            for o in out.drain(..).collect::<Vec<_>>() {
                match o {
                    Output::Send { to, msg, .. } => {
                        if !answered && to == 5 {
                            // Node 5 (ID 5…5) is nearest (9, 9) of those asked: it answers once.
                            answered = true;
                            let contacts = vec![Contact { id: id(8, 6), addr: 6 }, Contact { id: id(12, 7), addr: 7 }];
                            let reply = Message {
                                read_only: false,
                                tx: msg.tx,
                                sender: id(5, 5),
                                body: Body::Nodes { contacts },
                            };
                            sent.push(msg);
                            a.handle(Time(t * SEC / 10), Input::Datagram { from: 5, msg: reply }, &mut out);
                            continue;
                        }
                        sent.push(msg);
                    }
                    Output::Done(r) => report = Some(r),
                    Output::SetTimer { .. } => {}
                }
            }
            if report.is_some() {
                break;
            }
            a.handle(Time(t * SEC / 10 + 1), Input::Timer(Timer::Rpc), &mut out);
        }
        (report.expect("the lookup ends"), sent)
    }

    #[test]
    fn a_traced_lookup_logs_each_rpc_as_its_counters_count_it_and_sends_the_same() {
        let filter = TraceFilter { from: Time::ZERO, kinds: TraceFilter::bit(OpKind::FindNode), sample: 1.0, salt: 1 };
        let (r, sent) = lookup(Config { trace: Some(filter), ..Config::default() });
        assert_eq!(r.rpcs.len() as u32, r.queried);
        let n = |e: RpcEnd| r.rpcs.iter().filter(|x| x.outcome == e).count() as u32;
        assert_eq!((n(RpcEnd::Answered), n(RpcEnd::TimedOut)), (r.responses, r.timeouts));
        assert_eq!(n(RpcEnd::Answered), 1);
        let ans = r.rpcs.iter().find(|x| x.outcome == RpcEnd::Answered).unwrap();
        assert_eq!((ans.to, ans.depth, ans.reply, ans.contacts), (5, Some(1), Some(ReplyKind::Nodes), 2));
        assert_eq!(ans.nearest, Some(id(8, 6)), "the contact nearest the target");
        assert!(r.rpcs.iter().any(|x| x.to == 6 && x.depth == Some(2)), "node 6 learned from depth 1");
        assert!(r.rpcs.iter().all(|x| x.end.is_some_and(|e| e >= x.sent) || x.outcome == RpcEnd::Open));
        // Untraced (by kind or by sampling), the same lookup logs nothing and sends the same messages.
        let off = TraceFilter { kinds: TraceFilter::bit(OpKind::Get), ..filter };
        for cfg in [Config::default(), Config { trace: Some(off), ..Config::default() }] {
            let (plain, plain_sent) = lookup(cfg);
            assert!(plain.rpcs.is_empty());
            assert_eq!((plain.queried, plain.responses, plain.timeouts), (r.queried, r.responses, r.timeouts));
            assert_eq!(plain_sent, sent, "tracing changes nothing the node sends");
        }
    }
}
