//! A Kademlia node as a sans-IO state machine (DESIGN.md §2).
//!
//! The driver hands the node the current time with every call, delivers the
//! datagrams addressed to it and the timers it asked for, and drains the outputs
//! it produced: messages to send, timers to set, finished operations. The node
//! owns one seeded RNG and no clock, socket or global state, so the same inputs
//! always give the same outputs.
//!
//! Outputs are appended to a buffer the driver passes in and drains, rather than
//! queued inside each node: a simulator holding a million nodes then keeps one
//! buffer, not a million.

mod confirm;
mod ops;
mod outbox;
mod report;
mod serve;
mod stream;

pub use super::op::{OpId, OpKind};
pub use outbox::Outbox;
pub use report::{NearestAnswer, OpReport, Stats};

use super::behaviour::{self, Behaviour};
use super::config::{Config, ConfigError, Eviction};
use super::id::{Key, NodeId};
use super::message::{Body, Contact, Message, RequestKind, TxId, Value};
use super::routing::{AfterFailedPing, RoutingTable, Seen};
use super::store::Store;
use super::time::Time;
use super::traffic::Traffic;
use ops::Op;
use std::sync::Arc;
use std::time::Duration;
use stream::Stream;

pub use super::address::Address;

/// The node's timers (a two-entry timer table, as in quinn-proto).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// RPC timeouts and operation deadlines.
    Rpc = 0,
    /// Bucket refresh, republishing and expiry.
    Maintenance = 1,
}

/// Something that happens to a node.
#[derive(Clone, Debug)]
pub enum Input<A: Address> {
    /// A datagram from `from` arrived.
    Datagram {
        /// The sender's address.
        from: A,
        /// The message.
        msg: Message<A>,
    },
    /// A timer the node asked for fired.
    Timer(Timer),
}

/// An operation the user starts.
#[derive(Clone, Debug)]
pub enum Command<A: Address> {
    /// Iterative node lookup of an ID (paper §2.3).
    FindNode(NodeId),
    /// Iterative value lookup of a key (paper §2.3).
    Get(Key),
    /// Store a pair at the k closest nodes, and republish it every 24 h (paper §2.3, §2.5).
    Put(Key, Value),
    /// PING an address (paper §2.3).
    Ping(A),
    /// Join through a bootstrap node whose ID may be unknown (paper §2.3).
    Join {
        /// The bootstrap node's address.
        bootstrap: A,
        /// Its ID, if known; otherwise it is pinged first to learn it.
        id: Option<NodeId>,
    },
    /// Send one request to an address and report its reply.
    Request {
        /// Where to.
        to: A,
        /// The request (PING, STORE, FIND_NODE or FIND_VALUE).
        body: Body<A>,
    },
}

/// Something the driver must do.
#[derive(Clone, Debug)]
pub enum Output<A: Address> {
    /// Send `msg` to `to`.
    Send {
        /// Destination address.
        to: A,
        /// The message.
        msg: Message<A>,
        /// A request's class, lookup or maintenance traffic, decided by the
        /// operation or timer that sent it; `None` for a reply, which belongs
        /// to the class of the request it answers: only the requester knows
        /// it, so a driver that counts traffic carries it with the request
        /// ([`Traffic`]).
        traffic: Option<Traffic>,
    },
    /// Deliver `Input::Timer(timer)` at `at` (or soon after). Later requests for
    /// the same timer do not cancel earlier ones; a timer that fires early is harmless.
    SetTimer {
        /// When.
        at: Time,
        /// Which.
        timer: Timer,
    },
    /// An operation finished.
    Done(OpReport<A>),
}

/// Why an outstanding request was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// Part of an operation, of the class of its kind ([`OpKind::traffic`]).
    Op(OpId, Traffic),
    /// The PING to a bucket's least-recently-seen contact (paper §2.2).
    Evict,
    /// A STORE that nobody waits for: a get's caching STORE (lookup traffic,
    /// paper §2.3), a hand-over to a new node or before leaving (maintenance,
    /// paper §2.5).
    Background(Traffic),
    /// The PING that verifies a newcomer first heard from in a request: its
    /// answer from the same address under the same ID lets the hand-over of
    /// stored pairs go ahead (paper §2.5).
    Verify,
    /// The PING that asks a contact of unknown status, first heard from in
    /// a request, to answer, under the answered-only rule
    /// ([`Config::answered_only`]): its answer makes it known good.
    Confirm,
}

impl Purpose {
    /// The class of the request (see [`crate::kad::traffic`]): an
    /// operation's, a background STORE's own, and maintenance for the PINGs
    /// of eviction checks (paper §2.2) and newcomer verification (§2.5).
    fn traffic(self) -> Traffic {
        match self {
            Purpose::Op(_, t) | Purpose::Background(t) => t,
            Purpose::Evict | Purpose::Verify | Purpose::Confirm => Traffic::Maintenance,
        }
    }
}

/// A request awaiting its reply.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pending<A> {
    tx: TxId,
    to: A,
    peer: Option<NodeId>,
    kind: RequestKind,
    deadline: Time,
    purpose: Purpose,
    /// Part of a traced operation: its outcome goes to the operation's RPC log.
    traced: bool,
}

/// One Kademlia node.
#[derive(Clone, Debug)]
pub struct Node<A: Address> {
    cfg: Arc<Config>,
    /// The node's random streams (transaction IDs, refresh targets), kept at rest.
    rng: Stream,
    table: RoutingTable<A>,
    store: Store,
    pending: Vec<Pending<A>>,
    ops: Vec<Op<A>>,
    next_op: OpId,
    /// When each timer was last asked for (`Time::NEVER`: not armed).
    armed: [Time; 2],
    maintenance_due: Time,
    stats: Stats,
    /// The malicious contacts a poisoning node answers with (`Behaviour::POISON`).
    colluders: Option<Arc<[Contact<A>]>>,
    /// Newcomers to PING once due, under the answered-only rule
    /// (`confirm.rs`); `None` when there are none, so the paper's node pays
    /// one word.
    confirm: Option<Box<confirm::Due<A>>>,
}

impl<A: Address> Node<A> {
    /// A node with ID `id`, configuration `cfg`, and an RNG seeded with `seed`
    /// (transaction IDs and refresh targets come from it), created at `now`.
    pub fn new(id: NodeId, cfg: Arc<Config>, seed: u64, now: Time) -> Result<Self, ConfigError> {
        cfg.validate()?;
        if !id.fits(cfg.id_width) {
            return Err(ConfigError { field: "id_width", expected: "an own ID that fits the ID width".into() });
        }
        let table = RoutingTable::new(id, cfg.k, cfg.b, cfg.replacement_cache, cfg.stale_limit, now)
            .with_layout(cfg.id_width, cfg.buckets)
            .with_eviction_ping(cfg.eviction == Eviction::Ping)
            .with_admission_limits(cfg.max_per_ip_per_bucket, cfg.max_per_subnet_per_bucket)
            .with_questionable_after(cfg.questionable_after, now)
            .with_answered_only(cfg.answered_only, now);
        Ok(Node {
            rng: Stream::new(seed),
            maintenance_due: now.plus(cfg.refresh_interval),
            cfg,
            table,
            store: Store::default(),
            pending: Vec::new(),
            ops: Vec::new(),
            next_op: 0,
            armed: [Time::NEVER; 2],
            stats: Stats::default(),
            colluders: None,
            confirm: None,
        })
    }

    /// The node's ID, by value.
    #[inline]
    fn own(&self) -> NodeId {
        *self.table.own_id()
    }

    /// The node's ID.
    pub fn id(&self) -> &NodeId {
        self.table.own_id()
    }

    /// Hands a malicious node the contacts of its fellow attackers: a node
    /// with [`Behaviour::POISON`] answers FIND_NODE and FIND_VALUE with the k
    /// of them closest to the target (an attacker running many nodes knows
    /// them all). Honest nodes never read it.
    pub fn set_colluders(&mut self, colluders: Arc<[Contact<A>]>) {
        self.colluders = Some(colluders);
    }

    /// The node's configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The routing table, read-only.
    pub fn routing_table(&self) -> &RoutingTable<A> {
        &self.table
    }

    /// The value store, read-only.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Message counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Requests awaiting a reply.
    pub fn pending_requests(&self) -> usize {
        self.pending.len()
    }

    /// Operations still running.
    pub fn active_ops(&self) -> usize {
        self.ops.len()
    }

    /// Bytes the node occupies: its own struct plus what it holds on the heap
    /// (routing table, store, outstanding requests, running operations). Values
    /// shared with other nodes are counted in full.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.table.heap_bytes()
            + self.store.heap_bytes()
            + self.pending.capacity() * std::mem::size_of::<Pending<A>>()
            + self.ops.iter().map(Op::heap_bytes).sum::<usize>()
            + self.ops.capacity() * std::mem::size_of::<Op<A>>()
            + self.confirm.as_ref().map_or(0, |l| l.capacity() * std::mem::size_of::<(Time, Contact<A>)>())
    }

    /// The earliest time a timer the node asked for is due, for drivers that keep
    /// a single wake-up.
    pub fn poll_timeout(&self) -> Option<Time> {
        self.armed.iter().min().copied().filter(|t| *t != Time::NEVER)
    }

    /// Feeds one input at time `now`; outputs are appended to `out`.
    pub fn handle(&mut self, now: Time, input: Input<A>, out: &mut Outbox<A>) {
        match input {
            Input::Datagram { from, msg } => self.on_datagram(now, from, msg, out),
            Input::Timer(t) => self.on_timer(now, t, out),
        }
        self.arm(Timer::Maintenance, self.maintenance_due, out);
    }

    /// Starts an operation at time `now`; its report arrives later as
    /// `Output::Done` (or at once, for a get the node can answer itself).
    pub fn start(&mut self, now: Time, cmd: Command<A>, out: &mut Outbox<A>) -> OpId {
        let id = self.begin(now, cmd, out);
        self.arm(Timer::Maintenance, self.maintenance_due, out);
        id
    }

    /// Puts a contact in the routing table without any message, as if it had
    /// been heard from: for drivers that bootstrap from a known list (a saved
    /// table, or the simulator's oracle mode). A full bucket keeps its contacts
    /// and caches the newcomer. Returns whether the contact is now in a bucket.
    pub fn add_contact(&mut self, id: NodeId, addr: A) -> bool {
        // Not heard from by this node: under BEP 5's rule, of unknown status.
        match self.table.heard(id, addr, Time::ZERO, false) {
            Seen::Inserted | Seen::Refreshed => true,
            Seen::Cached { ping } => {
                if let Some(c) = ping {
                    // No ping goes out: the head stays.
                    self.table.cancel_eviction(&c.id);
                }
                false
            }
            Seen::Ignored | Seen::Conflict | Seen::Refused => false,
        }
    }

    /// Replaces the routing table by one built from its buckets, given in ID
    /// order as `(lowest ID, depth, contacts)`: for drivers that know a settled
    /// network's tables (the simulator's oracle bootstrap). See
    /// [`RoutingTable::from_buckets`] for what the buckets must satisfy.
    pub fn bootstrap_table<'a, I>(&mut self, now: Time, buckets: I)
    where
        I: IntoIterator<Item = (NodeId, u8, &'a [Contact<A>])>,
        I::IntoIter: Clone,
    {
        let c = &self.cfg;
        self.table = RoutingTable::from_buckets(
            *self.table.own_id(),
            c.k,
            c.b,
            c.replacement_cache,
            c.stale_limit,
            now,
            buckets,
        )
        .with_layout(c.id_width, c.buckets)
        .with_eviction_ping(c.eviction == Eviction::Ping)
        .with_admission_limits(c.max_per_ip_per_bucket, c.max_per_subnet_per_bucket)
        .with_questionable_after(c.questionable_after, now)
        .with_answered_only(c.answered_only, now);
    }

    /// Before leaving gracefully: STORE every held pair at the closest contact
    /// to its key, so that the pairs outlive this node's departure.
    pub fn hand_over(&mut self, now: Time, out: &mut Outbox<A>) {
        let pairs: Vec<(Key, Value, Duration)> = self
            .store
            .pairs()
            .iter()
            .filter(|p| p.expires > now)
            .map(|p| (p.key, p.value.clone(), p.expires.since(now)))
            .collect();
        for (key, value, left) in pairs {
            let mut to = out.contacts_for(self.cfg.k);
            self.table.closest(&key, 1, None, &mut to);
            if let Some(c) = to.first().map(A::unpack) {
                let body = Body::Store { key, value, ttl_secs: secs(left) };
                self.send_request(now, c.addr, Some(c.id), body, Purpose::Background(Traffic::Maintenance), out);
            }
            out.recycle_contacts(to);
        }
    }

    fn arm(&mut self, timer: Timer, at: Time, out: &mut Outbox<A>) {
        if at == Time::NEVER {
            return;
        }
        let slot = &mut self.armed[timer as usize];
        if at < *slot {
            *slot = at;
            out.push(Output::SetTimer { at, timer });
        }
    }

    fn on_datagram(&mut self, now: Time, from: A, msg: Message<A>, out: &mut Outbox<A>) {
        self.stats.received += 1;
        if msg.sender == self.own() {
            self.stats.dropped_malformed += 1;
            return;
        }
        if msg.body.is_request() {
            self.on_request(now, from, msg, out);
        } else {
            self.on_reply(now, from, msg, out);
        }
    }

    /// Validates a reply against its request and hands it to whoever waits.
    fn on_reply(&mut self, now: Time, from: A, msg: Message<A>, out: &mut Outbox<A>) {
        let Some(i) = self.pending.iter().position(|p| p.tx == msg.tx) else {
            self.stats.dropped_unknown_tx += 1;
            out.recycle_message(msg);
            return;
        };
        let p = self.pending[i];
        if p.to != from || p.peer.is_some_and(|id| id != msg.sender) {
            self.stats.dropped_wrong_sender += 1;
            out.recycle_message(msg);
            return;
        }
        if !msg.body.answers(p.kind) {
            self.stats.dropped_unexpected += 1;
            out.recycle_message(msg);
            return;
        }
        if let Body::Nodes { contacts } = &msg.body
            && contacts.len() > self.cfg.k
        {
            self.stats.dropped_malformed += 1;
            out.recycle_message(msg);
            return;
        }
        self.pending.remove(i);
        self.release_idle_buffers(out);
        // A reply to a fresh transaction ID, from the address asked (and under
        // the ID expected, if one was): the sender is verified.
        let inserted = self.saw(now, msg.sender, from, true, out);
        match p.purpose {
            Purpose::Evict => {
                if let Some(c) = self.table.eviction_answered(&msg.sender, now) {
                    self.send_request(now, c.addr, Some(c.id), Body::Ping, Purpose::Evict, out);
                }
                out.recycle_message(msg);
            }
            Purpose::Verify => {
                if !inserted {
                    self.hand_over_to(now, Contact { id: msg.sender, addr: from }, out);
                }
                out.recycle_message(msg);
            }
            // Known good now, by `saw` above.
            Purpose::Background(_) | Purpose::Confirm => out.recycle_message(msg),
            Purpose::Op(op, _) => {
                if p.traced {
                    self.trace_answered(now, op, p.tx, &msg.body);
                }
                self.op_reply(now, op, msg.sender, msg.body, out)
            }
        }
    }

    /// Refreshes `id` in the routing table and acts on the outcome: ping the
    /// least-recently-seen contact of a full bucket (paper §2.2), or hand pairs
    /// to a newly seen node (paper §2.5) — at once if `verified` (it answered
    /// a request of this node), else once it has answered a verification PING.
    /// Returns whether the contact was newly inserted.
    fn saw(&mut self, now: Time, id: NodeId, addr: A, verified: bool, out: &mut Outbox<A>) -> bool {
        match self.table.heard(id, addr, now, verified) {
            Seen::Inserted => {
                let c = Contact { id, addr };
                if verified {
                    self.hand_over_to(now, c, out);
                } else {
                    self.verify(now, c, out);
                    self.schedule_confirm(now, c, out);
                }
                return true;
            }
            Seen::Cached { ping: Some(c) } => {
                self.send_request(now, c.addr, Some(c.id), Body::Ping, Purpose::Evict, out);
            }
            Seen::Conflict => self.stats.conflicting_claims += 1,
            Seen::Refused => self.stats.refused_admissions += 1,
            Seen::Cached { ping: None } | Seen::Refreshed | Seen::Ignored => {}
        }
        false
    }

    /// A contact entered the routing table without having answered this node
    /// (it sent a request, or was promoted from a replacement cache): if it
    /// would be handed any pair, PING it first, so that a forged sender
    /// address earns nothing but this one small datagram. The hand-over
    /// follows the answer ([`Purpose::Verify`]).
    fn verify(&mut self, now: Time, c: Contact<A>, out: &mut Outbox<A>) {
        if !self.cfg.replicate_to_new_nodes || self.store.is_empty() {
            return;
        }
        if self.pending.iter().any(|p| p.purpose == Purpose::Verify && p.peer == Some(c.id)) {
            return;
        }
        let mut near = out.contacts_for(self.cfg.k);
        let mask = self.table.closer_bits(&c.id);
        let own = self.own();
        let due = self.store.pairs().iter().any(|p| {
            p.expires > now && own_is_closest(&own, &mask, &p.key) && {
                near.clear();
                self.table.closest(&p.key, self.cfg.k, None, &mut near);
                near.iter().map(A::unpack).any(|x| x.id == c.id && x.addr == c.addr)
            }
        });
        out.recycle_contacts(near);
        if due {
            self.stats.verification_pings += 1;
            self.send_request(now, c.addr, Some(c.id), Body::Ping, Purpose::Verify, out);
        }
    }

    /// Hands a verified newcomer the stored pairs it should hold (paper §2.5):
    /// "for each of its <key,value> pairs, the node determines whether the new
    /// node is one of the k closest nodes to the key; if so, it stores the pair
    /// on the new node", and "to avoid redundant STORE RPCs … a node only
    /// transfers a pair if its own ID is closer to the key than are the IDs of
    /// other nodes". Both are judged on the routing table's view: the newcomer
    /// is among the k closest contacts to the key, and this node is closer to
    /// the key than every known contact other than the newcomer (the newcomer
    /// itself may be closer: the pair's best holder must still receive it).
    /// No further cap: the rule sends a pair only from its closest known
    /// holder to one of its k closest nodes, which is what the paper's
    /// replication wants, and only to an address that answered under the ID.
    fn hand_over_to(&mut self, now: Time, c: Contact<A>, out: &mut Outbox<A>) {
        if !self.cfg.replicate_to_new_nodes || self.store.is_empty() {
            return;
        }
        let mut near = out.contacts_for(self.cfg.k);
        let mask = self.table.closer_bits(&c.id);
        let own = self.own();
        let mut pairs = Vec::new();
        for p in self.store.pairs() {
            if p.expires <= now || !own_is_closest(&own, &mask, &p.key) {
                continue;
            }
            near.clear();
            self.table.closest(&p.key, self.cfg.k, None, &mut near);
            if near.iter().map(A::unpack).any(|x| x.id == c.id && x.addr == c.addr) {
                pairs.push((p.key, p.value.clone(), p.expires.since(now)));
            }
        }
        out.recycle_contacts(near);
        for (key, value, ttl) in pairs {
            let body = Body::Store { key, value, ttl_secs: secs(ttl) };
            self.send_request(now, c.addr, Some(c.id), body, Purpose::Background(Traffic::Maintenance), out);
        }
    }

    /// An idle node keeps no room for requests (a million idle nodes add up):
    /// the empty list goes back to the pool.
    fn release_idle_buffers(&mut self, out: &mut Outbox<A>) {
        if self.pending.is_empty() && self.pending.capacity() > 0 {
            out.recycle_pending(std::mem::take(&mut self.pending));
        }
    }

    /// Sends a request and remembers it until its reply or its timeout (a
    /// STORE with [`Config::store_acks`] off goes unanswered: see
    /// [`send_unanswered`](Self::send_unanswered)).
    fn send_request(
        &mut self,
        now: Time,
        to: A,
        peer: Option<NodeId>,
        body: Body<A>,
        purpose: Purpose,
        out: &mut Outbox<A>,
    ) {
        let Some(kind) = body.request_kind() else {
            return;
        };
        if kind == RequestKind::Store && !self.cfg.store_acks {
            self.send_unanswered(to, body, purpose, out);
            return;
        }
        let tx = loop {
            let tx = self.rng.next_tx();
            if !self.pending.iter().any(|p| p.tx == tx) {
                break tx;
            }
        };
        let deadline = now.plus(self.cfg.rpc_timeout);
        if self.pending.capacity() == 0 {
            // Room for a lookup's α queries and a few more, so a pooled list rarely grows.
            self.pending = out.pending.pop().unwrap_or_default();
            self.pending.reserve(self.cfg.alpha + 5);
        }
        let traced = match (purpose, &self.cfg.trace) {
            (Purpose::Op(op, _), Some(_)) => self.trace_sent(now, op, tx, to, peer, kind),
            _ => false,
        };
        self.pending.push(Pending { tx, to, peer, kind, deadline, purpose, traced });
        self.stats.sent += 1;
        let traffic = Some(purpose.traffic());
        let msg = Message { tx, sender: self.own(), body, read_only: self.cfg.read_only };
        out.push(Output::Send { to, msg, traffic });
        self.arm(Timer::Rpc, deadline, out);
    }

    /// Sends a request that gets no answer (a STORE with
    /// [`Config::store_acks`] off): nothing is remembered, nothing times out.
    fn send_unanswered(&mut self, to: A, body: Body<A>, purpose: Purpose, out: &mut Outbox<A>) {
        let tx = self.rng.next_tx();
        self.stats.sent += 1;
        let msg = Message { tx, sender: self.own(), body, read_only: self.cfg.read_only };
        out.push(Output::Send { to, msg, traffic: Some(purpose.traffic()) });
    }

    fn on_timer(&mut self, now: Time, timer: Timer, out: &mut Outbox<A>) {
        if self.armed[timer as usize] <= now {
            self.armed[timer as usize] = Time::NEVER;
        }
        self.expire_requests(now, out);
        self.expire_ops(now, out);
        if self.maintenance_due <= now {
            self.maintain(now, out);
        }
        self.confirm_due(now, out);
        let next = self.pending.iter().map(|p| p.deadline).chain(self.ops.iter().map(|o| o.deadline)).min();
        let next = match (next, self.next_confirm()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(at) = next {
            self.arm(Timer::Rpc, at, out);
        }
    }

    /// Fails every request whose reply is overdue: the contact's stale counter
    /// grows (paper §4.1), an unanswered eviction ping evicts (paper §2.2), and
    /// the operation that waited frees the slot.
    fn expire_requests(&mut self, now: Time, out: &mut Outbox<A>) {
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].deadline > now {
                i += 1;
                continue;
            }
            let p = self.pending.remove(i);
            self.release_idle_buffers(out);
            let promoted = match (p.purpose, p.peer) {
                (Purpose::Evict, Some(peer)) => match self.table.eviction_failed(&peer) {
                    AfterFailedPing::Promoted(c) => Some(c),
                    AfterFailedPing::PingAgain(c) => {
                        // Queued behind the requests still to be checked.
                        self.send_request(now, c.addr, Some(c.id), Body::Ping, Purpose::Evict, out);
                        None
                    }
                    AfterFailedPing::Nothing => None,
                },
                (_, Some(peer)) => self.table.failed(&peer),
                (_, None) => None,
            };
            if let Some(c) = promoted {
                // Promoted from a replacement cache: heard from, not verified.
                self.verify(now, c, out);
                if self.table.answered(&c.id) == Some(false) {
                    self.schedule_confirm(now, c, out);
                }
            }
            if let Purpose::Op(op, _) = p.purpose {
                if p.traced {
                    self.trace_timed_out(now, op, p.tx);
                }
                self.op_failure(now, op, p.peer, p.kind, out);
            }
        }
    }

    /// Periodic upkeep: refresh buckets idle for an hour (paper §2.3), drop
    /// expired pairs, republish (paper §2.5).
    fn maintain(&mut self, now: Time, out: &mut Outbox<A>) {
        let refresh = self.cfg.refresh_interval;
        let table = &mut self.table;
        let targets = self.rng.with(|r| table.due_refreshes(now, refresh, r));
        if !self.table.is_empty() {
            for target in targets {
                self.begin_lookup(now, OpKind::Refresh, target, None, out);
            }
        }
        self.store.expire(now);
        let ttl = self.cfg.expire_after;
        for (key, value, left) in self.store.due_republish(now, self.cfg.republish_interval) {
            self.begin_lookup(now, OpKind::Republish, key, Some((value, now.plus(left))), out);
        }
        for (key, value) in self.store.due_publisher(now, self.cfg.publisher_republish_interval) {
            self.begin_lookup(now, OpKind::Republish, key, Some((value, now.plus(ttl))), out);
        }
        self.maintenance_due = self.table.next_refresh(refresh).min(self.store.next_due());
    }
}

/// Whether `own` is closer to `key` than every contact whose bit is set in
/// `mask` ([`RoutingTable::closer_bits`]): own is closer than a contact `c`
/// exactly when the key agrees with own at the first bit where own and `c`
/// differ.
#[inline]
fn own_is_closest(own: &NodeId, mask: &NodeId, key: &Key) -> bool {
    own.0.iter().zip(&mask.0).zip(&key.0).all(|((o, m), k)| (o ^ k) & m == 0)
}

/// A lifetime in whole seconds, as a STORE carries it.
fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
#[path = "adversary_tests.rs"]
mod adversary_tests;

#[cfg(test)]
#[path = "reach_tests.rs"]
mod reach_tests;
