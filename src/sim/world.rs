//! The world: nodes, the event queue, the network, churn and workload models,
//! and the loop that runs them (DESIGN.md §1, §3).
//!
//! A node is an index into `hosts`. Each event is handled in (time, insertion)
//! order; every decision draws from one of the streams derived from the master
//! seed; nothing iterates a hash map. A hash of the ordered event trace is kept
//! so that two runs can be compared cheaply.

use super::addr::SimAddr;
use super::churn::{DurationDist, TraceEvent};
use super::latency::LatencyModel;
use super::loss::LossModel;
use super::oracle::Oracle;
use super::partition::Partitions;
use super::queue::EventQueue;
use super::recorder::Recorder;
use super::seeds;
use super::workload::{WorkKind, Workload};
use crate::kad::{Command, Config, Input, Message, Node, NodeId, OpKind, OpReport, Output, Time, Timer};
use crate::metrics::OpRecord;
use crate::scenario::{BootstrapMode, ChurnModel, LeaveMode, RejoinId, Scenario};
use crate::wire::encoded_len;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use std::sync::Arc;

/// Delay before a failed join is tried again through another node.
const JOIN_RETRY_US: u64 = 5_000_000;

/// Something scheduled.
#[derive(Debug)]
enum Event {
    /// A datagram arrives at `to`.
    Deliver { to: u32, from: u32, msg: Message<SimAddr> },
    /// A timer of `node` in its incarnation `inc`.
    Timer { node: u32, inc: u32, timer: Timer },
    /// `node` comes up (for the first time or back from downtime).
    Up { node: u32 },
    /// `node` goes down.
    Down { node: u32 },
    /// `node` (incarnation `inc`) tries its join again.
    RetryJoin { node: u32, inc: u32 },
    /// The next workload operation of a kind.
    Work(WorkKind),
    /// End of a sample interval.
    Sample,
}

/// One node slot.
struct Host {
    node: Node<SimAddr>,
    alive: bool,
    joined: bool,
    /// Bumped at every departure, so that timers of a past session are ignored.
    inc: u32,
    sessions: u32,
    /// Counters carried over from past incarnations.
    sent: u64,
    received: u64,
    dropped: u64,
}

/// Live nodes that have joined: the workload's origins and bootstrap choices.
/// A vector with positions, for O(1) insert, remove and uniform choice.
#[derive(Default)]
struct LiveSet {
    items: Vec<u32>,
    pos: Vec<u32>,
}

impl LiveSet {
    const NONE: u32 = u32::MAX;
    fn new(n: usize) -> Self {
        LiveSet { items: Vec::new(), pos: vec![Self::NONE; n] }
    }
    fn insert(&mut self, x: u32) {
        if self.pos[x as usize] == Self::NONE {
            self.pos[x as usize] = self.items.len() as u32;
            self.items.push(x);
        }
    }
    fn remove(&mut self, x: u32) {
        let p = self.pos[x as usize];
        if p == Self::NONE {
            return;
        }
        let last = *self.items.last().expect("non-empty");
        self.items.swap_remove(p as usize);
        if last != x {
            self.pos[last as usize] = p;
        }
        self.pos[x as usize] = Self::NONE;
    }
}

/// What a finished run produced besides its records.
#[derive(Clone, Debug)]
pub struct RunStats {
    /// Events processed.
    pub events: u64,
    /// Hash of the ordered event trace, as 16 hex digits.
    pub trace_hash: String,
}

/// A simulation in progress.
pub struct World {
    sc: Scenario,
    cfg: Arc<Config>,
    queue: EventQueue<Event>,
    now: u64,
    end: u64,
    hosts: Vec<Host>,
    oracle: Oracle,
    live: LiveSet,
    latency: LatencyModel,
    loss: LossModel,
    partitions: Partitions,
    net_rng: ChaCha8Rng,
    churn_rng: ChaCha8Rng,
    boot_rng: ChaCha8Rng,
    sessions: Option<(DurationDist, DurationDist)>,
    workload: Workload,
    /// The recorder of measurements.
    pub rec: Recorder,
    out: Vec<Output<SimAddr>>,
    scratch: Vec<(NodeId, u32)>,
    events: u64,
    hash: u64,
    /// When the last time-series row was taken.
    last_sample: u64,
    /// Nodes up, and when that count last changed: for node-seconds of uptime.
    up_count: u64,
    up_changed: u64,
    /// Whether the totals at the end of the warm-up have been noted.
    warm_marked: bool,
}

impl World {
    /// Builds the world of a validated scenario; `trace` holds the churn trace
    /// when the scenario replays one.
    pub fn new(sc: &Scenario, trace: Vec<TraceEvent>) -> World {
        let seed = sc.seed;
        let n = sc.nodes as usize;
        let cfg = Arc::new(sc.protocol.config());
        let mut net_rng = seeds::stream(seed, "network");
        let latency = LatencyModel::new(&sc.network.latency, n, &mut net_rng);
        let loss = LossModel::new(&sc.network.loss, n);
        let mut part_rng = seeds::stream(seed, "partitions");
        let partitions = Partitions::new(&sc.network.partitions, n, &mut part_rng);
        let hosts = (0..n as u32)
            .map(|i| Host {
                node: new_node(seed, &cfg, i, 0, seeds::node_id(seed, i, 0, 0), 0),
                alive: false,
                joined: false,
                inc: 0,
                sessions: 0,
                sent: 0,
                received: 0,
                dropped: 0,
            })
            .collect();
        let sessions = (sc.churn.model == ChurnModel::Distributions).then(|| {
            (
                sc.churn.session.as_ref().map_or_else(DurationDist::default_session, DurationDist::new),
                sc.churn.downtime.as_ref().map_or_else(DurationDist::default_downtime, DurationDist::new),
            )
        });
        let mut w = World {
            cfg,
            queue: EventQueue::new(),
            now: 0,
            end: sc.duration.0,
            hosts,
            oracle: Oracle::new(),
            live: LiveSet::new(n),
            latency,
            loss,
            partitions,
            net_rng,
            churn_rng: seeds::stream(seed, "churn"),
            boot_rng: seeds::stream(seed, "bootstrap"),
            sessions,
            workload: Workload::new(&sc.workload, seeds::stream(seed, "workload")),
            rec: Recorder::default(),
            out: Vec::new(),
            scratch: Vec::new(),
            events: 0,
            hash: 0xcbf2_9ce4_8422_2325,
            last_sample: 0,
            up_count: 0,
            up_changed: 0,
            warm_marked: false,
            sc: sc.clone(),
        };
        w.schedule_start(trace);
        w
    }

    fn schedule_start(&mut self, trace: Vec<TraceEvent>) {
        let n = self.sc.nodes;
        if self.sc.churn.model == ChurnModel::Trace {
            for e in trace {
                let ev = if e.up { Event::Up { node: e.node } } else { Event::Down { node: e.node } };
                self.queue.push(e.time_us, ev);
            }
        } else {
            match self.sc.bootstrap.mode {
                BootstrapMode::Oracle => self.oracle_bootstrap(),
                BootstrapMode::Join => {
                    let gap = 1e6 / self.sc.bootstrap.join_rate.0;
                    for i in 0..n {
                        self.queue.push((f64::from(i) * gap).round() as u64, Event::Up { node: i });
                    }
                }
            }
        }
        for kind in WorkKind::ALL {
            if let Some(gap) = self.workload.next_gap_us(kind, n as usize) {
                self.queue.push(gap, Event::Work(kind));
            }
        }
        self.queue.push(self.sc.sample_interval.0.min(self.end), Event::Sample);
    }

    /// Every node up and joined at time 0, each routing table filled as a
    /// settled network would hold it: for every subtree at distance level l
    /// from the own ID, up to k nodes of it drawn at random (all of them where
    /// there are at most k), farthest level first.
    fn oracle_bootstrap(&mut self) {
        let n = self.hosts.len();
        for i in 0..n as u32 {
            let id = *self.hosts[i as usize].node.id();
            self.oracle.insert(id, i);
        }
        let k = self.cfg.k;
        let ids: Vec<(NodeId, u32)> = self.oracle.entries().to_vec();
        for i in 0..n {
            let own = *self.hosts[i].node.id();
            // The own subtree narrows level by level; its two halves at each level
            // are the own side and the sibling subtree, split by one binary
            // search inside the current range.
            let (mut s, mut e) = (0, ids.len());
            for level in 0..crate::kad::ID_BITS {
                let m = s + ids[s..e].partition_point(|(x, _)| !x.bit(level));
                let (sibling, own_side) = if own.bit(level) { ((s, m), (m, e)) } else { ((m, e), (s, m)) };
                let (ss, se) = sibling;
                let size = se - ss;
                if size <= k {
                    for &(cid, ci) in &ids[ss..se] {
                        self.hosts[i].node.add_contact(cid, SimAddr(ci));
                    }
                } else {
                    for j in floyd_sample(&mut self.boot_rng, size, k) {
                        let (cid, ci) = ids[ss + j];
                        self.hosts[i].node.add_contact(cid, SimAddr(ci));
                    }
                }
                (s, e) = own_side;
                // Below the level where the own subtree holds nobody else, nothing remains.
                if e - s <= 1 {
                    break;
                }
            }
            let h = &mut self.hosts[i];
            h.alive = true;
            h.joined = true;
            h.sessions = 1;
            self.up_count += 1;
            self.live.insert(i as u32);
            self.schedule_down(i as u32);
        }
    }

    /// Adds the node-microseconds of uptime since the last change, then
    /// restarts the count at `now`.
    fn count_uptime(&mut self) {
        self.rec.node_us += self.up_count as f64 * self.now.saturating_sub(self.up_changed) as f64;
        self.up_changed = self.now;
    }

    /// The current simulated time in microseconds.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The end of the run in microseconds.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Scenario {
        &self.sc
    }

    /// Runs every event up to and including time `until` (capped at the end).
    /// Returns false once the run is over.
    pub fn run_until(&mut self, until: u64) -> bool {
        let until = until.min(self.end);
        while let Some(t) = self.queue.peek_time() {
            if t > until {
                break;
            }
            let Some((t, ev)) = self.queue.pop() else {
                break;
            };
            if !self.warm_marked && t >= self.sc.warmup.0 {
                self.mark_warmup();
            }
            self.now = t;
            self.events += 1;
            self.handle(ev);
        }
        if !self.warm_marked && until >= self.sc.warmup.0 {
            self.mark_warmup();
        }
        self.now = until;
        until < self.end && !self.queue.is_empty()
    }

    /// Notes the totals at the end of the warm-up, so that the summary's
    /// traffic rates cover only the time after it.
    fn mark_warmup(&mut self) {
        self.now = self.sc.warmup.0;
        self.count_uptime();
        self.rec.mark_warmup();
        self.warm_marked = true;
    }

    fn mix(&mut self, x: u64) {
        // FNV-1a over 64-bit words: cheap, stable across builds and platforms.
        self.hash = (self.hash ^ x).wrapping_mul(0x0000_0100_0000_01b3);
    }

    fn handle(&mut self, ev: Event) {
        let now = self.now;
        self.mix(now);
        match ev {
            Event::Deliver { to, from, msg } => {
                self.mix(1 | u64::from(to) << 8 | u64::from(from) << 36);
                self.mix(u64::from(msg.tx));
                if self.partitions.cut(now, from, to) {
                    // The cut appeared while the datagram was in flight.
                    self.rec.count(|c| c.msgs_cut += 1);
                    return;
                }
                let h = &mut self.hosts[to as usize];
                if !h.alive {
                    self.rec.count(|c| c.msgs_to_dead += 1);
                    return;
                }
                h.node.handle(Time(now), Input::Datagram { from: SimAddr(from), msg }, &mut self.out);
                self.flush(to);
            }
            Event::Timer { node, inc, timer } => {
                self.mix(2 | u64::from(node) << 8 | u64::from(inc) << 40);
                let h = &mut self.hosts[node as usize];
                if h.alive && h.inc == inc {
                    h.node.handle(Time(now), Input::Timer(timer), &mut self.out);
                    self.flush(node);
                }
            }
            Event::Up { node } => {
                self.mix(3 | u64::from(node) << 8);
                self.up(node);
            }
            Event::Down { node } => {
                self.mix(4 | u64::from(node) << 8);
                self.down(node);
            }
            Event::RetryJoin { node, inc } => {
                self.mix(5 | u64::from(node) << 8);
                let h = &self.hosts[node as usize];
                if h.alive && h.inc == inc && !h.joined {
                    self.join(node);
                }
            }
            Event::Work(kind) => {
                self.mix(6 | (kind as u64) << 8);
                self.work(kind);
            }
            Event::Sample => {
                self.mix(7);
                self.sample();
            }
        }
    }

    fn up(&mut self, node: u32) {
        let seed = self.sc.seed;
        let h = &mut self.hosts[node as usize];
        if h.alive {
            return;
        }
        if h.sessions > 0 {
            let id = match self.sc.churn.rejoin_id {
                RejoinId::Same => *h.node.id(),
                RejoinId::New => seeds::node_id(seed, node, h.inc, 0),
            };
            let s = *h.node.stats();
            h.sent += s.sent;
            h.received += s.received;
            h.dropped += s.dropped();
            h.node = new_node(seed, &self.cfg, node, h.inc, id, self.now);
        }
        h.alive = true;
        h.sessions += 1;
        let id = *h.node.id();
        self.oracle.insert(id, node);
        self.count_uptime();
        self.up_count += 1;
        self.rec.count(|c| c.joins += 1);
        if self.live.items.is_empty() {
            // The first node is alone: it has joined a network of one.
            self.hosts[node as usize].joined = true;
            self.live.insert(node);
        } else {
            self.join(node);
        }
        self.schedule_down(node);
    }

    fn schedule_down(&mut self, node: u32) {
        if let Some((session, _)) = &self.sessions {
            let len = session.sample(&mut self.churn_rng);
            self.queue.push(self.now.saturating_add(len), Event::Down { node });
        }
    }

    /// Starts the join procedure through a random live node (paper §2.3).
    fn join(&mut self, node: u32) {
        let candidates = self.live.items.len();
        if candidates == 0 {
            self.hosts[node as usize].joined = true;
            self.live.insert(node);
            return;
        }
        let via = self.live.items[(self.boot_rng.next_u64() % candidates as u64) as usize];
        let bid = *self.hosts[via as usize].node.id();
        let now = Time(self.now);
        self.hosts[node as usize].node.start(
            now,
            Command::Join { bootstrap: SimAddr(via), id: Some(bid) },
            &mut self.out,
        );
        self.flush(node);
    }

    fn down(&mut self, node: u32) {
        let now = self.now;
        let h = &mut self.hosts[node as usize];
        if !h.alive {
            return;
        }
        if self.sc.churn.leave == LeaveMode::Graceful {
            h.node.hand_over(Time(now), &mut self.out);
            self.flush(node);
        }
        let h = &mut self.hosts[node as usize];
        h.alive = false;
        h.joined = false;
        h.inc += 1;
        let id = *h.node.id();
        self.oracle.remove(id, node);
        self.count_uptime();
        self.up_count -= 1;
        self.live.remove(node);
        self.rec.count(|c| c.leaves += 1);
        if let Some((_, downtime)) = &self.sessions {
            let len = downtime.sample(&mut self.churn_rng);
            self.queue.push(now.saturating_add(len), Event::Up { node });
        }
    }

    /// The next operation of `kind`. Operations arrive as a Poisson process at
    /// the per-node rate times all the nodes there can be, and each picks a
    /// node slot at random; one whose node is not live drops the operation.
    /// This thinning gives exactly the per-node rate for the nodes live at each
    /// moment, however their number changes: a gap drawn for the nodes live
    /// when it was scheduled would stall the workload for as long as the first
    /// gap, drawn while almost no node had joined.
    fn work(&mut self, kind: WorkKind) {
        let live = self.live.items.len();
        let slots = self.hosts.len();
        let slot = if slots > 0 { self.workload.pick(slots) } else { usize::MAX };
        if slot < live
            && let Some(cmd) = self.workload.command(kind)
        {
            let origin = self.live.items[slot];
            let now = Time(self.now);
            self.hosts[origin as usize].node.start(now, cmd, &mut self.out);
            if self.now >= self.sc.warmup.0 {
                self.rec.count(|c| c.ops_started += 1);
            }
            self.flush(origin);
        }
        if let Some(gap) = self.workload.next_gap_us(kind, slots) {
            self.queue.push(self.now.saturating_add(gap), Event::Work(kind));
        }
    }

    fn sample(&mut self) {
        let alive: Vec<&Host> = self.hosts.iter().filter(|h| h.alive).collect();
        let rt: usize = alive.iter().map(|h| h.node.routing_table().len()).sum();
        let stored: u64 = alive.iter().map(|h| h.node.store().len() as u64).sum();
        let n = alive.len();
        let rt_mean = if n == 0 { 0.0 } else { rt as f64 / n as f64 };
        // The interval is (partly) in the warm-up when it began before the warm-up ended.
        let warm = self.last_sample < self.sc.warmup.0;
        self.last_sample = self.now;
        self.count_uptime();
        self.rec.sample(self.now as f64 / 1e6, warm, n as u32, rt_mean, stored);
        if self.now < self.end {
            let next = (self.now + self.sc.sample_interval.0).min(self.end);
            self.queue.push(next, Event::Sample);
        }
    }

    /// Carries out what node `from` asked for.
    fn flush(&mut self, from: u32) {
        let mut out = std::mem::take(&mut self.out);
        for o in out.drain(..) {
            match o {
                Output::Send { to, msg } => self.send(from, to.0, msg),
                Output::SetTimer { at, timer } => {
                    let inc = self.hosts[from as usize].inc;
                    self.queue.push(at.0.max(self.now), Event::Timer { node: from, inc, timer });
                }
                Output::Done(report) => self.done(from, report),
            }
        }
        self.out = out;
    }

    fn send(&mut self, from: u32, to: u32, msg: Message<SimAddr>) {
        let bytes = encoded_len(&msg) as u64;
        self.rec.count(|c| {
            c.msgs_sent += 1;
            c.bytes_sent += bytes;
        });
        if self.partitions.cut(self.now, from, to) {
            self.rec.count(|c| c.msgs_cut += 1);
            return;
        }
        if self.loss.lost(from, &mut self.net_rng) {
            self.rec.count(|c| c.msgs_lost += 1);
            return;
        }
        let delay = self.latency.sample(from, to, &mut self.net_rng).max(1);
        self.queue.push(self.now + delay, Event::Deliver { to, from, msg });
    }

    fn done(&mut self, origin: u32, r: OpReport<SimAddr>) {
        if r.kind == OpKind::Join {
            let h = &mut self.hosts[origin as usize];
            if r.success {
                h.joined = true;
                self.live.insert(origin);
            } else {
                let inc = h.inc;
                self.queue.push(self.now + JOIN_RETRY_US, Event::RetryJoin { node: origin, inc });
            }
        }
        if r.kind == OpKind::Put && r.success {
            self.workload.stored(&r.target);
        }
        let user = matches!(r.kind, OpKind::FindNode | OpKind::Get | OpKind::Put);
        if r.started.0 < self.sc.warmup.0 || !(user || self.sc.output.maintenance_ops) {
            return;
        }
        let k = self.cfg.k;
        let (success, found_fraction) = match r.kind {
            OpKind::FindNode | OpKind::Put | OpKind::Refresh | OpKind::Republish | OpKind::Join => {
                self.oracle.closest(&r.target, k, Some(origin), &mut self.scratch);
                let truth = &self.scratch;
                let found = r.closest.iter().filter(|c| truth.iter().any(|(id, _)| *id == c.id)).count();
                let denom = truth.len();
                let fraction = if denom == 0 { 1.0 } else { found as f64 / denom as f64 };
                let success = match r.kind {
                    OpKind::Put => r.success,
                    _ => match (r.closest.first(), truth.first()) {
                        (Some(c), Some((id, _))) => c.id == *id,
                        _ => false,
                    },
                };
                (success, Some(fraction))
            }
            _ => (r.success, None),
        };
        self.rec.op(OpRecord {
            start_us: r.started.0,
            end_us: r.finished.0,
            kind: r.kind.as_str(),
            origin,
            target: r.target.to_hex(),
            hops: r.hops,
            queried: r.queried,
            responses: r.responses,
            timeouts: r.timeouts,
            latency_us: r.finished.0 - r.started.0,
            success,
            found_fraction,
            replicas: r.replicas,
            deadline_hit: r.deadline_hit,
        });
    }

    /// Ends the run: the last sample if the final interval is open, and the stats.
    pub fn finish(&mut self) -> RunStats {
        while self.run_until(self.end) {}
        if self.rec.samples.last().is_none_or(|s| s.time_s * 1e6 < self.end as f64) {
            self.sample();
        }
        RunStats { events: self.events, trace_hash: format!("{:016x}", self.hash) }
    }

    /// One row per node, in index order.
    pub fn node_rows(&self) -> Vec<crate::metrics::NodeRow> {
        self.hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let t = h.node.routing_table();
                let s = h.node.stats();
                crate::metrics::NodeRow {
                    node: i as u32,
                    id: h.node.id().to_hex(),
                    alive: h.alive,
                    sessions: h.sessions,
                    rt_size: t.len() as u32,
                    buckets: t.nonempty_buckets() as u32,
                    stored_pairs: h.node.store().len() as u32,
                    msgs_sent: h.sent + s.sent,
                    msgs_received: h.received + s.received,
                    msgs_dropped: h.dropped + s.dropped(),
                }
            })
            .collect()
    }

    /// Routing-table fill by classic bucket index over the nodes up (`buckets.csv`).
    pub fn bucket_rows(&self) -> Vec<crate::metrics::BucketRow> {
        const BITS: usize = crate::kad::ID_BITS;
        let k = self.cfg.k;
        let (mut contacts, mut full) = (vec![0u64; BITS], vec![0u32; BITS]);
        let mut per_node = vec![0usize; BITS];
        let mut up = 0u32;
        for h in self.hosts.iter().filter(|h| h.alive) {
            up += 1;
            per_node.fill(0);
            let own = h.node.id();
            for c in h.node.routing_table().contacts() {
                if let Some(i) = own.distance(&c.id).bucket_index() {
                    per_node[i] += 1;
                }
            }
            for (i, n) in per_node.iter().enumerate() {
                contacts[i] += *n as u64;
                full[i] += u32::from(*n >= k);
            }
        }
        let nearest = contacts.iter().position(|c| *c > 0).unwrap_or(BITS - 1);
        let denom = f64::from(up.max(1));
        (nearest..BITS)
            .rev()
            .map(|i| crate::metrics::BucketRow {
                bucket: i as u8,
                nodes: up,
                contacts_mean: contacts[i] as f64 / denom,
                full_fraction: f64::from(full[i]) / denom,
            })
            .collect()
    }

    /// Mean bytes per node held by the nodes (struct plus heap).
    pub fn node_memory_bytes(&self) -> f64 {
        let total: usize = self.hosts.iter().map(|h| h.node.memory_bytes() + std::mem::size_of::<Host>()).sum();
        total as f64 / self.hosts.len().max(1) as f64
    }
}

fn new_node(seed: u64, cfg: &Arc<Config>, node: u32, inc: u32, id: NodeId, now: u64) -> Node<SimAddr> {
    let rng_seed = seeds::derive(seed, "node", u64::from(node) << 32 | u64::from(inc));
    Node::new(id, cfg.clone(), rng_seed, Time(now)).expect("the scenario's protocol section was validated")
}

/// `k` distinct indices below `n`, by Floyd's algorithm, in increasing order.
fn floyd_sample(rng: &mut ChaCha8Rng, n: usize, k: usize) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::with_capacity(k);
    for j in n - k..n {
        let t = (rng.next_u64() % (j as u64 + 1)) as usize;
        if chosen.contains(&t) {
            chosen.push(j);
        } else {
            chosen.push(t);
        }
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
#[path = "world_tests.rs"]
mod tests;
