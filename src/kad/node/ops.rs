//! Operations: lookups, gets, puts, pings, the join procedure and their
//! reports. Each operation is a small state machine driven by replies and
//! timeouts of the requests it sent.

use super::{Address, Command, Node, Outbox, Output, Purpose, Timer, secs};
use crate::kad::id::NodeId;
use crate::kad::lookup::{Candidate, Lookup, NearestAnswer};
use crate::kad::message::{Body, Contacts, RequestKind, Value};
use crate::kad::node::report::OpReport;
use crate::kad::op::{OpId, OpKind};
use crate::kad::time::Time;
use crate::kad::trace::Rpc;

#[path = "tracing.rs"]
mod tracing;

/// Where an operation stands. The lookup is kept inline although it is the
/// largest variant (32-byte IDs, S/Kademlia's per-path counters): an
/// operation's phase changes in place, and boxing it would allocate per
/// operation for a few hundred bytes per operation in flight.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub(super) enum Phase<A: Address> {
    /// Iterative lookup in progress.
    Lookup(Lookup<A>),
    /// A put's STOREs are out at the k closest nodes.
    Storing {
        /// STOREs not yet answered or timed out.
        outstanding: u32,
        /// The nodes stored at, nearest first.
        closest: Contacts<A>,
    },
    /// A single request awaits its reply.
    Awaiting,
}

/// A running operation.
#[derive(Clone, Debug)]
pub(crate) struct Op<A: Address> {
    id: OpId,
    kind: OpKind,
    target: NodeId,
    started: Time,
    pub(super) deadline: Time,
    phase: Phase<A>,
    queried: u32,
    responses: u32,
    timeouts: u32,
    hops: Option<u8>,
    /// A put's or republish's nearest answer, kept from its lookup when the
    /// STOREs go out (other operations read it off their lookup at the end).
    nearest: Option<NearestAnswer>,
    replicas: u32,
    /// The value a put or republish stores and when the pair expires. The
    /// lifetime a STORE carries is computed when it is sent, so that the time a
    /// lookup takes does not stretch the pair's 24 h (paper §2.5).
    payload: Option<(Value, Time)>,
    value: Option<Value>,
    /// Boxed: a reply may hold k contacts inline, and most operations have none.
    reply: Option<Box<Body<A>>>,
    /// A get under a value quorum (`Config::value_quorum` > 1): the distinct
    /// values returned so far and how many nodes returned each.
    votes: Vec<(Value, u32)>,
    /// Whether its RPCs are recorded ([`crate::kad::trace`]), and the record.
    traced: bool,
    rpcs: Vec<Rpc<A>>,
}

impl<A: Address> Op<A> {
    /// Heap bytes held by the operation's lookup or store list.
    pub(super) fn heap_bytes(&self) -> usize {
        match &self.phase {
            Phase::Lookup(l) => l.heap_bytes(),
            Phase::Storing { closest, .. } => closest.capacity() * std::mem::size_of::<A::Slot>(),
            Phase::Awaiting => 0,
        }
    }
}

impl<A: Address> Node<A> {
    pub(super) fn begin(&mut self, now: Time, cmd: Command<A>, out: &mut Outbox<A>) -> OpId {
        match cmd {
            Command::FindNode(target) => self.begin_lookup(now, OpKind::FindNode, target, None, out),
            Command::Get(key) => match self.store.get(&key, now) {
                Some(value) => {
                    let id = self.push_op(now, OpKind::Get, key, Phase::Awaiting, None, out);
                    let op = self.ops.last_mut().expect("just pushed");
                    op.hops = Some(0);
                    op.value = Some(value);
                    self.finish(now, self.ops.len() - 1, true, false, out);
                    id
                }
                None => self.begin_lookup(now, OpKind::Get, key, None, out),
            },
            Command::Put(key, value) => {
                let every = self.cfg.publisher_republish_interval;
                self.store.publish(key, value.clone(), now, every);
                self.maintenance_due = self.maintenance_due.min(now.plus(every));
                let expires = now.plus(self.cfg.expire_after);
                self.begin_lookup(now, OpKind::Put, key, Some((value, expires)), out)
            }
            Command::Ping(addr) => self.begin_request(now, OpKind::Ping, addr, Body::Ping, out),
            Command::Request { to, body } => self.begin_request(now, OpKind::Request, to, body, out),
            Command::Join { bootstrap, id: Some(id) } => {
                // Given by the user, not heard from: verified before any hand-over.
                self.saw(now, id, bootstrap, false, out);
                let own = self.own();
                self.begin_lookup(now, OpKind::Join, own, None, out)
            }
            Command::Join { bootstrap, id: None } => self.begin_request(now, OpKind::Join, bootstrap, Body::Ping, out),
        }
    }

    fn push_op(
        &mut self,
        now: Time,
        kind: OpKind,
        target: NodeId,
        phase: Phase<A>,
        payload: Option<(Value, Time)>,
        out: &mut Outbox<A>,
    ) -> OpId {
        let id = self.next_op;
        self.next_op += 1;
        let traced = self.traces(kind, id, now);
        let deadline = now.plus(self.cfg.op_timeout);
        if self.ops.capacity() == 0 {
            self.ops = out.ops.pop().unwrap_or_default();
            self.ops.reserve(4);
        }
        self.ops.push(Op {
            id,
            kind,
            target,
            started: now,
            deadline,
            phase,
            queried: 0,
            responses: 0,
            timeouts: 0,
            hops: None,
            nearest: None,
            replicas: 0,
            payload,
            value: None,
            reply: None,
            votes: Vec::new(),
            traced,
            rpcs: Vec::new(),
        });
        self.arm(Timer::Rpc, deadline, out);
        id
    }

    /// Starts an iterative lookup seeded with the k closest contacts of the
    /// routing table (depth 1), and marks the target's bucket as looked up.
    pub(super) fn begin_lookup(
        &mut self,
        now: Time,
        kind: OpKind,
        target: NodeId,
        payload: Option<(Value, Time)>,
        out: &mut Outbox<A>,
    ) -> OpId {
        let mut lookup = Lookup::with_buffers(target, self.own(), &self.cfg, out.lookup_buffers());
        let seeds = self.closest(&target, None, out);
        lookup.seed(&seeds);
        out.recycle_contacts(seeds);
        self.table.touch(&target, now);
        let id = self.push_op(now, kind, target, Phase::Lookup(lookup), payload, out);
        self.advance(now, self.ops.len() - 1, out);
        id
    }

    fn begin_request(&mut self, now: Time, kind: OpKind, to: A, body: Body<A>, out: &mut Outbox<A>) -> OpId {
        let target = match &body {
            Body::Store { key, .. } | Body::FindValue { key } => *key,
            Body::FindNode { target } => *target,
            _ => NodeId::default(),
        };
        let id = self.push_op(now, kind, target, Phase::Awaiting, None, out);
        if body.is_request() {
            self.ops.last_mut().expect("just pushed").queried += 1;
            self.send_request(now, to, None, body, Purpose::Op(id, kind.traffic()), out);
        } else {
            self.finish(now, self.ops.len() - 1, false, false, out);
        }
        id
    }

    /// Sends the lookup's next queries, or ends the lookup when it has converged.
    fn advance(&mut self, now: Time, idx: usize, out: &mut Outbox<A>) {
        let op = &mut self.ops[idx];
        let Phase::Lookup(lookup) = &mut op.phase else {
            return;
        };
        let mut queries = out.contacts_for(self.cfg.k);
        lookup.next_queries(&mut queries);
        let done = lookup.is_done();
        op.queried += queries.len() as u32;
        let (id, target) = (op.id, op.target);
        let get = op.kind == OpKind::Get;
        let purpose = Purpose::Op(id, op.kind.traffic());
        for c in queries.iter().map(A::unpack) {
            let body = if get { Body::FindValue { key: target } } else { Body::FindNode { target } };
            self.send_request(now, c.addr, Some(c.id), body, purpose, out);
        }
        out.recycle_contacts(queries);
        if done {
            self.lookup_done(now, idx, out);
        }
    }

    /// A lookup converged: report it, or go on to the put's STOREs, or to the
    /// join's bucket refreshes.
    fn lookup_done(&mut self, now: Time, idx: usize, out: &mut Outbox<A>) {
        let op = &mut self.ops[idx];
        let Phase::Lookup(lookup) = &op.phase else {
            return;
        };
        let mut closest = out.contacts_for(self.cfg.k);
        closest.extend(lookup.result().map(Candidate::slot));
        if op.kind != OpKind::Get {
            // A get's hops are those of the node that returned the value, if any (DESIGN.md §4).
            op.hops = lookup.result().next().map(|c| c.depth);
        }
        match op.kind {
            OpKind::FindNode | OpKind::Refresh => self.finish(now, idx, !closest.is_empty(), false, out),
            OpKind::Get => self.finish(now, idx, false, false, out),
            OpKind::Join => {
                self.finish(now, idx, !closest.is_empty(), false, out);
                // Refresh every bucket farther than the closest neighbour (paper §2.3).
                if let Some(nearest) = closest.first() {
                    let table = &mut self.table;
                    let nearest = A::unpack(nearest).id;
                    for target in self.rng.with(|r| table.join_refreshes(&nearest, now, r)) {
                        self.begin_lookup(now, OpKind::Refresh, target, None, out);
                    }
                }
            }
            OpKind::Put | OpKind::Republish => {
                let (Some((value, expires)), false) = (op.payload.clone(), closest.is_empty()) else {
                    self.finish(now, idx, false, false, out);
                    out.recycle_contacts(closest);
                    return;
                };
                let (id, key) = (op.id, op.target);
                op.nearest = lookup.nearest_answer();
                // A put's STOREs are lookup traffic, a republish's maintenance.
                let purpose = Purpose::Op(id, op.kind.traffic());
                let ttl = secs(expires.since(now));
                op.queried += closest.len() as u32;
                // Sent while the lookup is still at hand, so that a trace
                // records each node's discovery depth.
                let acks = self.cfg.store_acks;
                for c in closest.iter().map(A::unpack) {
                    let body = Body::Store { key, value: value.clone(), ttl_secs: ttl };
                    self.send_request(now, c.addr, Some(c.id), body, purpose, out);
                }
                let sent = closest.len() as u32;
                let storing = Phase::Storing { outstanding: if acks { sent } else { 0 }, closest };
                if let Phase::Lookup(l) = std::mem::replace(&mut self.ops[idx].phase, storing) {
                    out.recycle_lookup(l.into_buffers());
                }
                if !acks {
                    // libp2p's ADD_PROVIDER: nothing comes back, the put is
                    // done once its STOREs leave, each counted a replica.
                    self.ops[idx].replicas = sent;
                    self.finish(now, idx, true, false, out);
                }
                return;
            }
            OpKind::Ping | OpKind::Request => {}
        }
        out.recycle_contacts(closest);
    }

    /// A reply for operation `op` from `sender` passed validation.
    pub(super) fn op_reply(&mut self, now: Time, op: OpId, sender: NodeId, body: Body<A>, out: &mut Outbox<A>) {
        let Some(idx) = self.ops.iter().position(|o| o.id == op) else {
            return;
        };
        let o = &mut self.ops[idx];
        o.responses += 1;
        match &mut o.phase {
            Phase::Lookup(lookup) => match body {
                Body::Nodes { contacts } => {
                    lookup.answered(now, &sender, &contacts);
                    out.recycle_contacts(contacts);
                    self.advance(now, idx, out);
                }
                Body::Found { value, ttl_secs } => {
                    let depth = lookup.answered(now, &sender, &[]);
                    if self.cfg.value_quorum > 1 {
                        // Accepted only once `value_quorum` distinct nodes
                        // returned it byte for byte; each candidate answers
                        // once, so the votes come from distinct nodes.
                        let votes = match o.votes.iter_mut().find(|(v, _)| *v == value) {
                            Some((_, n)) => {
                                *n += 1;
                                *n
                            }
                            None => {
                                o.votes.push((value.clone(), 1));
                                1
                            }
                        };
                        if (votes as usize) < self.cfg.value_quorum {
                            self.advance(now, idx, out);
                            return;
                        }
                    }
                    let o = &mut self.ops[idx];
                    let Phase::Lookup(lookup) = &o.phase else {
                        return;
                    };
                    // The first value (or the first to reach the quorum) ends a value lookup (paper §2.3).
                    o.hops = depth;
                    o.value = Some(value.clone());
                    let cache_at = lookup.closest_answered_except(&sender);
                    let (key, traffic) = (o.target, o.kind.traffic());
                    self.finish(now, idx, true, false, out);
                    if let (true, Some(c)) = (self.cfg.cache_on_get, cache_at) {
                        // The cached copy lives no longer than the pair itself
                        // (paper §2.5). The STORE is part of the get: lookup traffic.
                        let body = Body::Store { key, value, ttl_secs };
                        self.send_request(now, c.addr, Some(c.id), body, Purpose::Background(traffic), out);
                    }
                }
                _ => {}
            },
            Phase::Storing { outstanding, .. } => {
                // Late replies to the lookup's FIND_NODEs are not STORE acknowledgements.
                let Body::Stored { accepted } = body else {
                    out.recycle_body(body);
                    return;
                };
                o.replicas += u32::from(accepted);
                *outstanding -= 1;
                if *outstanding == 0 {
                    let ok = o.replicas > 0;
                    self.finish(now, idx, ok, false, out);
                }
            }
            Phase::Awaiting => {
                if o.kind == OpKind::Join {
                    // The bootstrap node answered and is in the table: look up the own ID.
                    out.recycle_body(body);
                    let mut lookup = Lookup::with_buffers(self.own(), self.own(), &self.cfg, out.lookup_buffers());
                    let seeds = self.closest(&self.own(), None, out);
                    lookup.seed(&seeds);
                    out.recycle_contacts(seeds);
                    self.table.touch(&self.own(), now);
                    let own = self.own();
                    let o = &mut self.ops[idx];
                    o.target = own;
                    o.phase = Phase::Lookup(lookup);
                    self.advance(now, idx, out);
                } else {
                    o.target = if o.kind == OpKind::Ping { sender } else { o.target };
                    o.reply = Some(Box::new(body));
                    self.finish(now, idx, true, false, out);
                }
            }
        }
    }

    /// A request of operation `op` to `peer` timed out.
    pub(super) fn op_failure(
        &mut self,
        now: Time,
        op: OpId,
        peer: Option<NodeId>,
        kind: RequestKind,
        out: &mut Outbox<A>,
    ) {
        let Some(idx) = self.ops.iter().position(|o| o.id == op) else {
            return;
        };
        let o = &mut self.ops[idx];
        o.timeouts += 1;
        match &mut o.phase {
            Phase::Lookup(lookup) => {
                if let Some(peer) = peer {
                    lookup.failed(&peer);
                }
                self.advance(now, idx, out);
            }
            Phase::Storing { outstanding, .. } => {
                if kind != RequestKind::Store {
                    return; // a lookup query that outlived the lookup
                }
                *outstanding -= 1;
                if *outstanding == 0 {
                    let ok = o.replicas > 0;
                    self.finish(now, idx, ok, false, out);
                }
            }
            Phase::Awaiting => self.finish(now, idx, false, false, out),
        }
    }

    /// Ends every operation past its overall deadline with what it has.
    pub(super) fn expire_ops(&mut self, now: Time, out: &mut Outbox<A>) {
        let mut i = 0;
        while i < self.ops.len() {
            if self.ops[i].deadline > now {
                i += 1;
                continue;
            }
            let o = &self.ops[i];
            let ok = match o.phase {
                Phase::Storing { .. } => o.replicas > 0,
                _ => false,
            };
            self.finish(now, i, ok, true, out);
        }
    }

    /// Removes operation `idx` and reports it.
    fn finish(&mut self, now: Time, idx: usize, success: bool, deadline_hit: bool, out: &mut Outbox<A>) {
        let op = self.ops.remove(idx);
        if self.ops.is_empty() {
            // An idle node keeps no room for operations (a million idle nodes
            // add up): the empty list goes back to the pool.
            out.recycle_ops(std::mem::take(&mut self.ops));
        }
        let (closest, hops, nearest) = match op.phase {
            Phase::Lookup(lookup) => {
                let hops = match op.kind {
                    OpKind::Get => op.hops,
                    _ => op.hops.or_else(|| lookup.result().next().map(|c| c.depth)),
                };
                let mut closest = out.contacts_for(self.cfg.k);
                closest.extend(lookup.result().map(Candidate::slot));
                let nearest = lookup.nearest_answer();
                out.recycle_lookup(lookup.into_buffers());
                (closest, hops, nearest)
            }
            Phase::Storing { closest, .. } => (closest, op.hops, op.nearest),
            Phase::Awaiting => (out.contacts_for(self.cfg.k), op.hops, None),
        };
        out.push(Output::Done(OpReport {
            id: op.id,
            kind: op.kind,
            target: op.target,
            started: op.started,
            finished: now,
            hops,
            nearest,
            queried: op.queried,
            responses: op.responses,
            timeouts: op.timeouts,
            success,
            replicas: op.replicas,
            deadline_hit,
            closest,
            value: op.value,
            reply: op.reply.map(|b| *b),
            rpcs: op.rpcs,
        }));
    }
}
