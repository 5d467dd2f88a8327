//! A shard: a share of the simulated nodes with their own event queue, run by
//! one worker thread for the length of a window (DESIGN.md §6).
//!
//! Node `i` lives in shard `i mod S`, at local index `i / S`, so that nodes
//! joining in index order spread over the shards. Within a window a shard
//! touches only its own nodes and the run's read-only context: every message
//! it sends arrives at least `network.min_latency` later, past the end of the
//! window, and goes to the destination shard's mailbox; every finished
//! operation and every count is left for the serial phase to collect.
//!
//! Events are keyed by (time, source, source's sequence number): the node that
//! scheduled them and how many events it had scheduled before. That order does
//! not depend on how the nodes are split into shards or on which thread runs
//! which shard, so every thread count gives the same run. Each node's network
//! draws (latency, loss) come from its own stream.
//!
//! A node behind a NAT (`network.unreachable`) keeps its pinholes in its
//! slot ([`super::nat`]): sending opens one, and a datagram arriving with
//! none open is dropped and counted in `msgs_to_unreachable`. A client-only
//! node (`network.clients`, BEP 43) runs the protocol read-only.
//!
//! Every message sent is counted in its class, lookup or maintenance traffic
//! (`kad::traffic`; the totals are the sums of the classes): a request in the
//! class the core gave it, a reply in the class of the request it answers,
//! which travels beside the message on its delivery event (never in the
//! message, which stays what the wire carries).

use super::addr::SimAddr;
use super::calendar::Calendar;
use super::latency::LatencyModel;
use super::loss::{LossChain, LossModel};
use super::nat::Pinholes;
use super::partition::Partitions;
use super::reach::Class;
use super::seeds;
use super::trace::{Fate, ShardLog, TraceCtx};
use crate::kad::{
    Command, Config, Contact, Input, Message, Node, NodeId, OpReport, Outbox, Output, Time, Timer, Traffic,
};
use crate::wire::{Sizing, encoded_len_as};
use rand_core::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::sync::{Arc, Mutex};

/// The source of events the serial phase schedules (joins, departures, workload).
pub const WORLD_SOURCE: u32 = u32::MAX;

/// What a window reads and never changes.
pub struct Ctx {
    /// Master seed.
    pub seed: u64,
    /// Protocol parameters, shared by every node.
    pub cfg: Arc<Config>,
    /// One-way latency.
    pub latency: LatencyModel,
    /// Message loss.
    pub loss: LossModel,
    /// Scheduled cuts.
    pub partitions: Partitions,
    /// Departing nodes hand their pairs over first.
    pub graceful: bool,
    /// End of the warm-up, µs: operations started earlier are not counted.
    pub warmup: u64,
    /// Number of shards.
    pub shards: u32,
    /// How messages are charged: ID width, values or peers (`crate::wire::size`).
    pub sizing: Sizing,
    /// The adversary, if the scenario has one.
    pub adversary: Option<AdversaryCtx>,
    /// The trace, when the run writes one (`--trace`).
    pub trace: Option<TraceCtx>,
    /// Each node's class (`super::reach`); `None` when every node is a server.
    pub classes: Option<Vec<Class>>,
    /// The protocol of client-only nodes: the scenario's, read-only (BEP 43).
    pub client_cfg: Option<Arc<Config>>,
    /// How long an unreachable node's NAT keeps a pinhole open, µs.
    pub nat_timeout: u64,
}

/// What the engine knows of the adversary's nodes.
pub struct AdversaryCtx {
    /// Whether each node index is malicious.
    pub malicious: Vec<bool>,
    /// Each node's address group tag (`super::addr`): 0 for honest nodes.
    pub tags: Vec<u8>,
    /// The malicious nodes' protocol: the scenario's, with their behaviours.
    pub cfg: Arc<Config>,
    /// Every malicious node as a contact, for the poisoning replies.
    pub colluders: Arc<[Contact<SimAddr>]>,
}

impl Ctx {
    /// The address of node `node`, with its group tag.
    #[inline]
    pub fn addr(&self, node: u32) -> SimAddr {
        match &self.adversary {
            Some(a) => SimAddr::new(node, a.tags[node as usize]),
            None => SimAddr(node),
        }
    }

    /// Whether node `node` is malicious.
    #[inline]
    pub fn malicious(&self, node: u32) -> bool {
        self.adversary.as_ref().is_some_and(|a| a.malicious[node as usize])
    }

    /// The class of node `node`: the adversary's nodes are always servers.
    #[inline]
    pub fn class(&self, node: u32) -> Class {
        match &self.classes {
            Some(c) if !self.malicious(node) => c[node as usize],
            _ => Class::Server,
        }
    }
}

/// Something that happens to one node.
#[derive(Debug)]
pub enum LocalEvent {
    /// A datagram from node `from` arrives.
    Deliver {
        /// The sender's index.
        from: u32,
        /// The message.
        msg: Message<SimAddr>,
        /// Its class: a request's own, a reply's that of its request. A reply
        /// sent while handling a request takes the request's class.
        traffic: Traffic,
    },
    /// A timer of the node's incarnation `inc`.
    Timer {
        /// The incarnation that set it.
        inc: u32,
        /// Which timer.
        timer: Timer,
    },
    /// The node comes up with ID `id` and joins through `via` (index and ID), or
    /// alone when `via` is `None` (the first node).
    Up {
        /// Its ID for this session.
        id: NodeId,
        /// The bootstrap node.
        via: Option<(u32, NodeId)>,
    },
    /// The node goes down.
    Down,
    /// Incarnation `inc` tries its join again, through `via`.
    Join {
        /// The incarnation.
        inc: u32,
        /// The bootstrap node's index and ID.
        via: (u32, NodeId),
    },
    /// A workload operation starts at the node.
    Start(Command<SimAddr>),
}

/// A datagram in flight to another shard.
#[derive(Debug)]
pub struct Envelope {
    /// Arrival time, µs.
    pub time: u64,
    /// Sender index (the event's source).
    pub from: u32,
    /// The sender's sequence number for it.
    pub seq: u64,
    /// Destination index.
    pub to: u32,
    /// The message.
    pub msg: Message<SimAddr>,
    /// Its class (see [`LocalEvent::Deliver`]).
    pub traffic: Traffic,
}

/// One node slot.
pub struct Host {
    /// The protocol state machine of the current incarnation.
    pub node: Node<SimAddr>,
    /// Whether the node is up.
    pub alive: bool,
    /// Bumped at every departure, so that timers of a past session are ignored.
    pub inc: u32,
    /// Sessions so far.
    pub sessions: u32,
    /// Counters carried over from past incarnations.
    pub sent: u64,
    /// See `sent`.
    pub received: u64,
    /// See `sent`.
    pub dropped: u64,
    /// The NAT's pinholes, for an unreachable node (kept across its sessions).
    pub nat: Option<Box<Pinholes>>,
    /// Network draws of the messages this node sends.
    rng: Pcg64Mcg,
    chain: LossChain,
    /// Events this node has scheduled: the sequence part of their keys.
    seq: u64,
}

/// What a shard counted in a window.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    /// Messages sent, by class (indexed by `Traffic as usize`); the total is
    /// their sum, so that a message costs no more counting than before the split.
    pub msgs_sent: [u64; 2],
    /// KRPC bytes sent, by class.
    pub bytes_sent: [u64; 2],
    /// Lost by the loss model.
    pub msgs_lost: u64,
    /// Dropped by a partition.
    pub msgs_cut: u64,
    /// Arrived at a node that was down.
    pub msgs_to_dead: u64,
    /// Arrived at an unreachable node with no pinhole open to its sender.
    pub msgs_to_unreachable: u64,
    /// Workload operations started after the warm-up.
    pub ops_started: u64,
    /// Events processed.
    pub events: u64,
    /// Sum of the events' hashes: the same whatever order the shards ran in.
    pub hash: u64,
}

/// A share of the nodes and their events.
pub struct Shard {
    index: u32,
    hosts: Vec<Host>,
    queue: Calendar<(u32, LocalEvent)>,
    /// Outgoing datagrams of this window, by destination shard.
    outgoing: Vec<Vec<Envelope>>,
    inbox: Vec<Envelope>,
    out: Outbox<SimAddr>,
    /// Finished operations, with the finishing node and its incarnation.
    pub reports: Vec<(u32, u32, OpReport<SimAddr>)>,
    /// Contact lists of reports the serial phase has read, to go back to the pool.
    pub spent: Vec<OpReport<SimAddr>>,
    /// Counts since the serial phase last took them.
    pub counts: Counts,
    /// Earliest arrival among the datagrams sent to other shards this window.
    sent_min: u64,
    /// What the trace needs from this window (empty unless tracing).
    pub trace: ShardLog,
}

/// Mixes an event's description into a 64-bit hash.
pub fn event_hash(time: u64, what: u64) -> u64 {
    let mut z = time.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ what;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A fresh node of index `node` in incarnation `inc`.
pub fn new_node(ctx: &Ctx, node: u32, inc: u32, id: NodeId, now: u64) -> Node<SimAddr> {
    let rng_seed = seeds::derive(ctx.seed, "node", u64::from(node) << 32 | u64::from(inc));
    match &ctx.adversary {
        Some(a) if a.malicious[node as usize] => {
            let mut n = Node::new(id, a.cfg.clone(), rng_seed, Time(now)).expect("validated with the protocol");
            n.set_colluders(a.colluders.clone());
            n
        }
        _ => {
            let traced = ctx.trace.as_ref().and_then(|t| t.cfg_for(node));
            let cfg = match (ctx.class(node), &ctx.client_cfg, traced) {
                // BEP 43: a client-only node runs the protocol read-only.
                (Class::Client, Some(_), Some(t)) => Arc::new(Config { read_only: true, ..(**t).clone() }),
                (Class::Client, Some(c), None) => c.clone(),
                _ => traced.unwrap_or(&ctx.cfg).clone(),
            };
            Node::new(id, cfg, rng_seed, Time(now)).expect("the scenario's protocol section was validated")
        }
    }
}

impl Shard {
    /// Shard `index` of `ctx.shards`, holding the nodes of `ids` (indexed by
    /// node) that fall to it, all down.
    pub fn new(ctx: &Ctx, index: u32, ids: &[NodeId]) -> Shard {
        let s = ctx.shards as usize;
        let hosts = (index as usize..ids.len())
            .step_by(s)
            .map(|i| Host {
                node: new_node(ctx, i as u32, 0, ids[i], 0),
                alive: false,
                inc: 0,
                sessions: 0,
                sent: 0,
                received: 0,
                dropped: 0,
                nat: (ctx.class(i as u32) == Class::Unreachable).then(|| Box::new(Pinholes::new())),
                rng: Pcg64Mcg::seed_from_u64(seeds::derive(ctx.seed, "net", i as u64)),
                chain: LossChain::default(),
                seq: 0,
            })
            .collect();
        Shard {
            index,
            hosts,
            queue: Calendar::new(ctx.latency.floor()),
            outgoing: (0..s).map(|_| Vec::new()).collect(),
            inbox: Vec::new(),
            out: Outbox::new(),
            reports: Vec::new(),
            spent: Vec::new(),
            counts: Counts::default(),
            sent_min: u64::MAX,
            trace: ShardLog::default(),
        }
    }

    /// The node with global index `node` (which must belong to this shard).
    pub fn host(&self, ctx: &Ctx, node: u32) -> &Host {
        &self.hosts[(node / ctx.shards) as usize]
    }

    /// Mutable access to a node of this shard.
    pub fn host_mut(&mut self, ctx: &Ctx, node: u32) -> &mut Host {
        &mut self.hosts[(node / ctx.shards) as usize]
    }

    /// This shard's nodes with their global indices.
    pub fn hosts<'a>(&'a self, ctx: &Ctx) -> impl Iterator<Item = (u32, &'a Host)> {
        let (s, i) = (ctx.shards, self.index);
        self.hosts.iter().enumerate().map(move |(l, h)| (l as u32 * s + i, h))
    }

    /// This shard's nodes, mutably, with their global indices.
    pub fn hosts_mut<'a>(&'a mut self, ctx: &Ctx) -> impl Iterator<Item = (u32, &'a mut Host)> {
        let (s, i) = (ctx.shards, self.index);
        self.hosts.iter_mut().enumerate().map(move |(l, h)| (l as u32 * s + i, h))
    }

    /// Schedules an event of the serial phase for `node` (source
    /// [`WORLD_SOURCE`], sequence `seq`).
    pub fn schedule(&mut self, ctx: &Ctx, time: u64, seq: u64, node: u32, ev: LocalEvent) {
        self.queue.push(time, WORLD_SOURCE, seq, (node / ctx.shards, ev));
    }

    /// Time of the earliest event this shard holds or has sent to another shard
    /// in the last window.
    pub fn next_time(&mut self) -> u64 {
        self.queue.peek_time().unwrap_or(u64::MAX).min(self.sent_min)
    }

    /// Heap bytes of the queue, mailboxes and buffers.
    pub fn heap_bytes(&self) -> usize {
        self.queue.heap_bytes()
            + (self.inbox.capacity() + self.outgoing.iter().map(Vec::capacity).sum::<usize>())
                * std::mem::size_of::<Envelope>()
    }

    /// Runs every event before `end`: the datagrams waiting in this shard's
    /// mailbox first enter the queue, then events run in key order. Datagrams
    /// for other shards are posted to their mailboxes at the end.
    pub fn run(&mut self, ctx: &Ctx, end: u64, mailboxes: &[Mutex<Vec<Envelope>>]) {
        self.sent_min = u64::MAX;
        for r in self.spent.drain(..) {
            self.out.recycle_report(r);
        }
        {
            let mut mb = mailboxes[self.index as usize].lock().expect("a worker panicked");
            std::mem::swap(&mut *mb, &mut self.inbox);
        }
        let s = ctx.shards;
        for e in self.inbox.drain(..) {
            let ev = LocalEvent::Deliver { from: e.from, msg: e.msg, traffic: e.traffic };
            self.queue.push(e.time, e.from, e.seq, (e.to / s, ev));
        }
        while self.queue.peek_time().is_some_and(|t| t < end) {
            let Some((now, (local, ev))) = self.queue.pop() else {
                break;
            };
            self.handle(ctx, now, local, ev);
        }
        for (dest, out) in self.outgoing.iter_mut().enumerate() {
            if !out.is_empty() {
                mailboxes[dest].lock().expect("a worker panicked").append(out);
            }
        }
    }

    fn handle(&mut self, ctx: &Ctx, now: u64, local: u32, ev: LocalEvent) {
        let node = local * ctx.shards + self.index;
        self.counts.events += 1;
        let h = &mut self.hosts[local as usize];
        let what = match ev {
            LocalEvent::Deliver { from, msg, traffic } => {
                let what = 1 | u64::from(node) << 8 | u64::from(from) << 36 ^ u64::from(msg.tx) << 4;
                if ctx.partitions.cut(now, from, node) {
                    // The cut appeared while the datagram was in flight.
                    self.counts.msgs_cut += 1;
                    if let Some(t) = &ctx.trace {
                        self.trace.dropped_at_arrival(t, now, from, node, &msg, Fate::Cut);
                    }
                    self.out.recycle_message(msg);
                } else if !h.alive {
                    self.counts.msgs_to_dead += 1;
                    if let Some(t) = &ctx.trace {
                        self.trace.dropped_at_arrival(t, now, from, node, &msg, Fate::Dead);
                    }
                    self.out.recycle_message(msg);
                } else if h.nat.as_ref().is_some_and(|nat| !nat.admits(from, now)) {
                    // Behind a NAT, with no pinhole open to the sender.
                    self.counts.msgs_to_unreachable += 1;
                    if let Some(t) = &ctx.trace {
                        self.trace.dropped_at_arrival(t, now, from, node, &msg, Fate::Unreachable);
                    }
                    self.out.recycle_message(msg);
                } else {
                    h.node.handle(Time(now), Input::Datagram { from: ctx.addr(from), msg }, &mut self.out);
                    self.flush(ctx, now, local, Some(traffic));
                }
                what
            }
            LocalEvent::Timer { inc, timer } => {
                if h.alive && h.inc == inc {
                    h.node.handle(Time(now), Input::Timer(timer), &mut self.out);
                    self.flush(ctx, now, local, None);
                }
                2 | u64::from(node) << 8 | u64::from(inc) << 40
            }
            LocalEvent::Up { id, via } => {
                if h.sessions > 0 {
                    let s = *h.node.stats();
                    h.sent += s.sent;
                    h.received += s.received;
                    h.dropped += s.dropped();
                    h.node = new_node(ctx, node, h.inc, id, now);
                }
                h.alive = true;
                h.sessions += 1;
                if let Some((via, via_id)) = via {
                    self.join(ctx, now, local, via, via_id);
                }
                3 | u64::from(node) << 8
            }
            LocalEvent::Down => {
                if ctx.graceful {
                    h.node.hand_over(Time(now), &mut self.out);
                    self.flush(ctx, now, local, None);
                }
                let h = &mut self.hosts[local as usize];
                h.alive = false;
                h.inc += 1;
                4 | u64::from(node) << 8
            }
            LocalEvent::Join { inc, via: (via, via_id) } => {
                if h.alive && h.inc == inc {
                    self.join(ctx, now, local, via, via_id);
                }
                5 | u64::from(node) << 8
            }
            LocalEvent::Start(cmd) => {
                if h.alive {
                    h.node.start(Time(now), cmd, &mut self.out);
                    if now >= ctx.warmup {
                        self.counts.ops_started += 1;
                    }
                    self.flush(ctx, now, local, None);
                }
                6 | u64::from(node) << 8
            }
        };
        self.counts.hash = self.counts.hash.wrapping_add(event_hash(now, what));
    }

    /// Starts the join procedure through `via` (paper §2.3).
    fn join(&mut self, ctx: &Ctx, now: u64, local: u32, via: u32, via_id: NodeId) {
        let cmd = Command::Join { bootstrap: ctx.addr(via), id: Some(via_id) };
        self.hosts[local as usize].node.start(Time(now), cmd, &mut self.out);
        self.flush(ctx, now, local, None);
    }

    /// Carries out what node `local` asked for. `answering` is the class of
    /// the datagram it was handling, if any: the class of the reply to it.
    fn flush(&mut self, ctx: &Ctx, now: u64, local: u32, answering: Option<Traffic>) {
        let node = local * ctx.shards + self.index;
        let mut out = std::mem::take(&mut self.out);
        for o in out.drain(..) {
            match o {
                Output::Send { to, msg, traffic } => {
                    // Only a datagram is answered; a reply without one would be a
                    // bug of the core, counted as maintenance in a release build.
                    debug_assert!(traffic.is_some() || answering.is_some(), "a reply to nothing");
                    let traffic = traffic.or(answering).unwrap_or(Traffic::Maintenance);
                    self.send(ctx, now, local, to.node(), msg, traffic);
                }
                Output::SetTimer { at, timer } => {
                    let h = &mut self.hosts[local as usize];
                    let ev = LocalEvent::Timer { inc: h.inc, timer };
                    h.seq += 1;
                    self.queue.push(at.0.max(now), node, h.seq, (local, ev));
                }
                Output::Done(report) => self.reports.push((node, self.hosts[local as usize].inc, report)),
            }
        }
        self.out = out;
    }

    fn send(&mut self, ctx: &Ctx, now: u64, local: u32, to: u32, msg: Message<SimAddr>, traffic: Traffic) {
        let from = local * ctx.shards + self.index;
        let bytes = encoded_len_as(&msg, ctx.sizing) as u64;
        self.counts.msgs_sent[traffic as usize] += 1;
        self.counts.bytes_sent[traffic as usize] += bytes;
        if let Some(nat) = &mut self.hosts[local as usize].nat {
            // The NAT sees every datagram leave, whatever becomes of it after.
            nat.sent(to, now, ctx.nat_timeout);
        }
        if ctx.partitions.cut(now, from, to) {
            self.counts.msgs_cut += 1;
            if let Some(t) = &ctx.trace {
                self.trace.dropped_at_send(t, now, from, to, &msg, bytes, Fate::Cut);
            }
            self.out.recycle_message(msg);
            return;
        }
        let h = &mut self.hosts[local as usize];
        if ctx.loss.lost(&mut h.chain, &mut h.rng) {
            self.counts.msgs_lost += 1;
            if let Some(t) = &ctx.trace {
                self.trace.dropped_at_send(t, now, from, to, &msg, bytes, Fate::Lost);
            }
            self.out.recycle_message(msg);
            return;
        }
        let time = now + ctx.latency.sample(from, to, &mut h.rng);
        if let Some(t) = ctx.trace.as_ref().filter(|t| t.messages) {
            self.trace.sent(t, now, time, from, to, &msg, bytes);
        }
        h.seq += 1;
        let seq = h.seq;
        let dest = to % ctx.shards;
        if dest == self.index {
            let ev = LocalEvent::Deliver { from, msg, traffic };
            self.queue.push(time, from, seq, (to / ctx.shards, ev));
        } else {
            self.sent_min = self.sent_min.min(time);
            self.outgoing[dest as usize].push(Envelope { time, from, seq, to, msg, traffic });
        }
    }
}
