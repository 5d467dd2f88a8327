//! The world: nodes in shards, the serial phase that owns everything global,
//! and the loop of windows that runs them (DESIGN.md §1, §3, §6).
//!
//! Time advances in windows `[T, T + L)`, `L` being `network.min_latency`:
//! no datagram sent inside a window can arrive inside it, so within a window
//! no node can affect another, and the shards run side by side. A window starts
//! at the earliest pending event and ends no later than the next sample, the
//! end of the warm-up and the end of the run.
//!
//! Everything global changes in the serial phase between windows, in a fixed
//! order: at a window's start the global events that fall inside it (joins
//! and departures chosen by the churn model, workload arrivals, join retries)
//! are decided, drawing from the serial streams, and become events of the
//! nodes concerned at their exact times; after the window, the operations
//! that finished in it are recorded in (time, node, operation) order. Two
//! approximations follow, both within one window (1 ms by default): a
//! workload operation picks its origin among the nodes live at the window's
//! start, and a node's arrival or departure reaches the oracle at the start of
//! the window in which it happens, so an operation finishing in that window
//! is judged against it. The windows and every draw are the same whatever the
//! thread count, so the outputs are byte-identical for any `--threads`.

mod classes;
mod judge;
mod lifecycle;
mod reach;
mod report;
mod staleness;

use super::addr::SimAddr;
use super::bootstrap::{Shape, SortedIds, TableBuilder};
use super::churn::{DurationDist, TraceEvent};
use super::latency::LatencyModel;
use super::loss::LossModel;
use super::oracle::Oracle;
use super::parallel::{Control, Plan, Pool, Shared, Sharing};
use super::partition::Partitions;
use super::queue::EventQueue;
use super::recorder::Recorder;
use super::seeds;
use super::shard::{Ctx, LocalEvent, Shard, event_hash};
use super::trace::{TraceCtx, TraceSpec, Tracer};
use super::workload::{WorkKind, Workload};
use crate::kad::{IdWidth, NodeId, OpKind, OpReport, Time, Traffic};
use crate::metrics::OpRecord;
use crate::scenario::{BootstrapMode, ChurnModel, LeaveMode, RejoinId, Scenario};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Delay before a failed join is tried again through another node.
const JOIN_RETRY_US: u64 = 5_000_000;

/// Something the serial phase decides.
#[derive(Debug)]
enum Global {
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

/// The serial phase's view of a node.
#[derive(Clone, Copy, Debug, Default)]
struct Status {
    /// Top 64 bits of its current ID.
    top: u64,
    alive: bool,
    joined: bool,
    inc: u32,
    sessions: u32,
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
    /// Hash of the event trace, as 16 hex digits.
    pub trace_hash: String,
    /// How the events fell into windows.
    pub windows: super::windows::Windows,
}

/// How many nodes were in which state at one moment: the network's
/// effective size, which may be far below the scenario's `nodes` when joins
/// are slow or churn keeps nodes down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Population {
    /// Nodes up and joined (their join lookup finished, or tables filled by the oracle).
    pub joined: u32,
    /// Nodes up whose join is still under way.
    pub joining: u32,
    /// Nodes down that have been up before.
    pub down: u32,
    /// Nodes that have never come up yet.
    pub never_up: u32,
}

/// A simulation in progress.
pub struct World {
    shared: Arc<Shared>,
    co: Coordinator,
    threads: usize,
    /// The worker threads, from the first window on (none on one thread).
    pool: Option<Pool>,
}

/// Everything the serial phase owns.
struct Coordinator {
    sc: Scenario,
    global: EventQueue<Global>,
    /// Source sequence of the node events the serial phase schedules.
    seq: u64,
    now: u64,
    end: u64,
    lookahead: u64,
    next_sample: u64,
    /// Earliest event held by any shard.
    next_local: u64,
    status: Vec<Status>,
    /// Top 64 bits of every ID drawn in the run: they never repeat.
    tops: BTreeSet<u64>,
    oracle: Oracle,
    live: LiveSet,
    churn_rng: ChaCha8Rng,
    boot_rng: ChaCha8Rng,
    sessions: Option<(DurationDist, DurationDist)>,
    /// The nodes' `[[classes]]`, when the scenario has them.
    groups: Option<super::classes::Classes>,
    workload: Workload,
    rec: Recorder,
    reports: Vec<(u32, u32, OpReport<SimAddr>)>,
    scratch: Vec<(NodeId, u32)>,
    events: u64,
    hash: u64,
    last_window_events: u64,
    /// The windows run so far and their sizes.
    windows: super::windows::Windows,
    /// Which windows the workers share.
    sharing: Sharing,
    /// When the last time-series row was taken.
    last_sample: u64,
    /// Nodes up, and when that count last changed: for node-seconds of uptime.
    up_count: u64,
    up_changed: u64,
    /// Whether the totals at the end of the warm-up have been noted.
    warm_marked: bool,
    /// The population when the warm-up ended.
    at_warmup: Option<Population>,
    /// Whether each node is malicious (empty without an adversary).
    malicious: Vec<bool>,
    /// The malicious nodes, ascending.
    adv_nodes: Vec<u32>,
    /// The Sybil attack's victims.
    victims: Vec<u32>,
    /// The trace's serial side, when tracing.
    tracer: Option<Tracer>,
    /// The nodes' classes and the live servers, with unreachable or client
    /// nodes (`super::reach`); `None` when every node is a server.
    reach: Option<reach::Reach>,
}

impl World {
    /// Builds the world of a validated scenario on one thread; `trace` holds
    /// the churn trace when the scenario replays one.
    pub fn new(sc: &Scenario, trace: Vec<TraceEvent>) -> World {
        World::with_threads(sc, trace, 1)
    }

    /// Builds the world to run on `threads` threads (the results do not
    /// depend on it). The oracle bootstrap, if any, uses them too.
    pub fn with_threads(sc: &Scenario, trace: Vec<TraceEvent>, threads: usize) -> World {
        World::traced(sc, trace, threads, None)
    }

    /// As [`with_threads`](Self::with_threads), writing the trace `spec`
    /// asks for (`kadsim run --trace`; rows from [`take_trace`](Self::take_trace)).
    /// Tracing changes no other output.
    pub fn traced(sc: &Scenario, trace: Vec<TraceEvent>, threads: usize, spec: Option<&TraceSpec>) -> World {
        let spec = spec.filter(|s| s.ops || s.messages);
        let threads = threads.clamp(1, sc.nodes.max(1) as usize);
        let seed = sc.seed;
        let n = sc.nodes as usize;
        let cfg = Arc::new(super::fault::broken_on_purpose(sc.protocol.config()));
        // A matrix places nodes on hosts from a stream of its own.
        let stream = match sc.network.latency.model {
            crate::scenario::LatencyModel::Matrix => "latency-hosts",
            _ => "network",
        };
        let mut net_rng = seeds::stream(seed, stream);
        let groups = super::classes::Classes::new(sc);
        let latency = LatencyModel::new(&sc.network.latency, n, &mut net_rng)
            .with_access(groups.as_ref().and_then(|g| g.access_delays(sc)))
            .with_floor(sc.network.min_latency.0);
        let mut part_rng = seeds::stream(seed, "partitions");
        let partitions = Partitions::new(&sc.network.partitions, n, &mut part_rng);
        let lookahead = latency.floor();
        // First IDs, their top 64 bits redrawn where they repeat; then the
        // adversary's, placed as the scenario says.
        let mut tops = BTreeSet::new();
        let mut status = vec![Status::default(); n];
        for (i, st) in status.iter_mut().enumerate() {
            st.top = draw_top(&mut tops, seed, i as u32, 0, cfg.id_width);
        }
        let mut node_tops: Vec<u64> = status.iter().map(|s| s.top).collect();
        let adversary = super::adversary::setup(sc, &cfg, &mut node_tops, &mut tops);
        for (st, top) in status.iter_mut().zip(&node_tops) {
            st.top = *top;
        }
        let (adv_nodes, victims) =
            adversary.as_ref().map_or((Vec::new(), Vec::new()), |a| (a.nodes.clone(), a.victims.clone()));
        let malicious = adversary.as_ref().map_or_else(Vec::new, |a| a.ctx.malicious.clone());
        let (trace_ctx, tracer) = match spec {
            Some(s) => (Some(TraceCtx::new(s, sc, &cfg)), Some(Tracer::new(s, &cfg))),
            None => (None, None),
        };
        let classes = match &groups {
            Some(g) => Some(g.reach(sc)).filter(|r| r.iter().any(|&c| c != super::reach::Class::Server)),
            None => super::reach::classes(sc),
        };
        let client_cfg = classes
            .as_ref()
            .filter(|c| c.contains(&super::reach::Class::Client))
            .map(|_| Arc::new(crate::kad::Config { read_only: true, ..(*cfg).clone() }));
        let ctx = Ctx {
            seed,
            cfg,
            latency,
            loss: LossModel::new(&sc.network.loss),
            partitions,
            graceful: sc.churn.leave == LeaveMode::Graceful,
            warmup: sc.warmup.0,
            shards: threads as u32,
            sizing: crate::wire::Sizing {
                width: sc.protocol.id_width(),
                peers: sc.workload.records.peer_sets(),
                discv5: sc.profile == crate::scenario::Profile::Discv5,
                libp2p: sc.profile == crate::scenario::Profile::Ipfs,
            },
            adversary: adversary.map(|a| a.ctx),
            trace: trace_ctx,
            classes,
            client_cfg,
            nat_timeout: sc.network.nat_timeout().0,
        };
        let reach = ctx.classes.as_ref().map(|_| reach::Reach::new((0..n as u32).map(|i| ctx.class(i)).collect()));
        let ids: Vec<NodeId> = status.iter().map(|s| super::addr::id_from_top(s.top)).collect();
        let shards = (0..threads as u32).map(|s| Mutex::new(Shard::new(&ctx, s, &ids))).collect();
        let mailboxes = (0..threads).map(|_| Mutex::new(Vec::new())).collect();
        let sessions = (sc.churn.model == ChurnModel::Distributions).then(|| {
            (
                sc.churn.session.as_ref().map_or_else(DurationDist::default_session, DurationDist::new),
                sc.churn.downtime.as_ref().map_or_else(DurationDist::default_downtime, DurationDist::new),
            )
        });
        let mut co = Coordinator {
            global: EventQueue::new(),
            seq: 0,
            now: 0,
            end: sc.duration.0,
            lookahead,
            next_sample: sc.sample_interval.0.min(sc.duration.0),
            next_local: u64::MAX,
            status,
            tops,
            oracle: Oracle::new(),
            live: LiveSet::new(n),
            churn_rng: seeds::stream(seed, "churn"),
            boot_rng: seeds::stream(seed, "bootstrap"),
            sessions,
            groups,
            workload: Workload::new(&sc.workload, seeds::stream(seed, "workload")).with_width(sc.protocol.id_width()),
            rec: Recorder::default(),
            reports: Vec::new(),
            scratch: Vec::new(),
            events: 0,
            hash: 0,
            last_window_events: 0,
            windows: Default::default(),
            sharing: Sharing::new(threads),
            last_sample: 0,
            up_count: 0,
            up_changed: 0,
            warm_marked: false,
            at_warmup: None,
            malicious,
            adv_nodes,
            victims,
            tracer,
            reach,
            sc: sc.clone(),
        };
        co.rec.adversary = sc.adversary.enabled();
        let mut w = World { shared: Arc::new(Shared { ctx, shards, mailboxes }), co, threads, pool: None };
        w.schedule_start(trace);
        w
    }

    /// The current simulated time in microseconds.
    pub fn now(&self) -> u64 {
        self.co.now
    }

    /// The end of the run in microseconds.
    pub fn end(&self) -> u64 {
        self.co.end
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.co.events
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Scenario {
        &self.co.sc
    }

    /// The run's measurements.
    pub fn recorder(&self) -> &Recorder {
        &self.co.rec
    }

    /// The trace rows made since the last call (`trace.csv`, `messages.csv`);
    /// empty when not tracing.
    pub fn take_trace(&mut self) -> super::trace::TraceRows {
        self.co.tracer.as_mut().map(Tracer::take).unwrap_or_default()
    }

    /// Runs whole windows while they start no later than `until` (capped at
    /// the end). Window boundaries never depend on `until`, so stopping here
    /// and there does not change the run. Returns false once the run is over.
    pub fn run_until(&mut self, until: u64) -> bool {
        let until = until.min(self.co.end);
        let threads = self.threads.min(self.shared.shards.len());
        if threads > 1 && self.pool.is_none() {
            self.pool = Some(Pool::start(threads, &self.shared));
        }
        let ctl = self.pool.as_ref().map(Pool::control);
        let more = loop {
            match self.co.window(&self.shared, ctl, until) {
                Step::Ran => {}
                Step::Idle(more) => break more,
            }
        };
        if !self.co.warm_marked && until >= self.co.sc.warmup.0 {
            self.co.mark_warmup();
        }
        self.co.now = self.co.now.max(until);
        more
    }

    /// Ends the run: the last sample if the final interval is open, and the stats.
    pub fn finish(&mut self) -> RunStats {
        while self.run_until(self.co.end) {}
        if self.co.rec.samples.last().is_none_or(|s| s.time_s * 1e6 < self.co.end as f64) {
            self.co.now = self.co.end;
            self.co.sample(&self.shared);
        }
        if let Some(t) = &mut self.co.tracer {
            t.finish();
        }
        RunStats {
            events: self.co.events,
            trace_hash: format!("{:016x}", self.co.hash),
            windows: self.co.windows.clone(),
        }
    }

    /// The population now.
    pub fn population(&self) -> Population {
        self.co.population()
    }

    /// The population at the end of the warm-up (`None` before it ends).
    pub fn population_at_warmup(&self) -> Option<Population> {
        self.co.at_warmup
    }

    /// Calls `f` with every node slot, in index order.
    fn each_host(&self, mut f: impl FnMut(u32, &super::shard::Host)) {
        let ctx = &self.shared.ctx;
        let guards: Vec<_> = self.shared.shards.iter().map(|s| s.lock().expect("no worker panicked")).collect();
        for i in 0..self.co.status.len() as u32 {
            f(i, guards[(i % ctx.shards) as usize].host(ctx, i));
        }
    }

    /// Takes `node` down now, as a crash (for tests).
    #[cfg(test)]
    pub(crate) fn crash(&mut self, node: u32) {
        self.co.now = self.co.now.max(1);
        self.co.down(&self.shared, node);
    }

    /// Reads a node slot (for tests).
    #[cfg(test)]
    pub(crate) fn host<R>(&self, node: u32, f: impl FnOnce(&super::shard::Host) -> R) -> R {
        let ctx = &self.shared.ctx;
        f(self.shared.shards[(node % ctx.shards) as usize].lock().unwrap().host(ctx, node))
    }

    /// The scheduled partitions (for tests).
    #[cfg(test)]
    pub(crate) fn partitions(&self) -> &Partitions {
        &self.shared.ctx.partitions
    }

    /// Nodes the oracle counts alive (for tests).
    #[cfg(test)]
    pub(crate) fn oracle_len(&self) -> usize {
        self.co.oracle.len()
    }
}

/// What one call of [`Coordinator::window`] did.
enum Step {
    /// It ran a window.
    Ran,
    /// No window starts by the time asked for; `true` if the run goes on.
    Idle(bool),
}

/// The top 64 bits of a new ID of `node`, redrawn until no other ID has them.
fn draw_top(tops: &mut BTreeSet<u64>, seed: u64, node: u32, inc: u32, width: IdWidth) -> u64 {
    (0..)
        .map(|attempt| seeds::node_id(seed, node, inc, attempt, width).top())
        .find(|t| tops.insert(*t))
        .expect("an unused 64-bit prefix exists")
}

impl Coordinator {
    /// Runs the serial phase and the window that starts at the earliest
    /// pending event, if that is no later than `until`.
    fn window(&mut self, shared: &Shared, ctl: Option<&Control>, until: u64) -> Step {
        let start = self.global.peek_time().unwrap_or(u64::MAX).min(self.next_local);
        if start > until {
            return Step::Idle(start != u64::MAX && until < self.end);
        }
        if !self.warm_marked && start >= self.sc.warmup.0 {
            self.mark_warmup();
        }
        let mut end = start.saturating_add(self.lookahead).min(self.end + 1);
        if self.next_sample > start {
            end = end.min(self.next_sample);
        }
        if !self.warm_marked {
            end = end.min(self.sc.warmup.0.max(start + 1));
        }
        let seq = self.seq;
        while let Some(t) = self.global.peek_time()
            && t < end
        {
            let Some((t, ev)) = self.global.pop() else { break };
            self.now = t;
            self.handle(shared, ev);
        }
        // The window's size, guessed from the last one's and the node events
        // just scheduled, decides whether it is shared (never what it does).
        let expected = self.last_window_events + (self.seq - seq);
        let plan = ctl.map_or(Plan::Inline, |ctl| self.sharing.plan(ctl, self.last_window_events, expected));
        let shared_window = match (ctl, plan) {
            (Some(ctl), Plan::Share { wake }) => {
                ctl.window(end, wake, &|s, end| shared.run_shard(s, end));
                true
            }
            _ => {
                (0..shared.shards.len()).for_each(|s| shared.run_shard(s, end));
                false
            }
        };
        self.now = end - 1;
        let mut next = u64::MAX;
        let mut events = 0;
        for s in &shared.shards {
            let mut s = s.lock().expect("no worker panicked");
            let c = std::mem::take(&mut s.counts);
            self.rec.count(|r| {
                let (l, m) = (Traffic::Lookup as usize, Traffic::Maintenance as usize);
                r.msgs_sent += c.msgs_sent[l] + c.msgs_sent[m];
                r.bytes_sent += c.bytes_sent[l] + c.bytes_sent[m];
                r.lookup_msgs_sent += c.msgs_sent[l];
                r.lookup_bytes_sent += c.bytes_sent[l];
                r.maintenance_msgs_sent += c.msgs_sent[m];
                r.maintenance_bytes_sent += c.bytes_sent[m];
                r.msgs_lost += c.msgs_lost;
                r.msgs_cut += c.msgs_cut;
                r.msgs_to_dead += c.msgs_to_dead;
                r.msgs_to_unreachable += c.msgs_to_unreachable;
                r.ops_started += c.ops_started as u32;
            });
            events += c.events;
            self.hash = self.hash.wrapping_add(c.hash);
            self.reports.append(&mut s.reports);
            if let Some(t) = &mut self.tracer {
                t.collect(&mut s.trace);
            }
            next = next.min(s.next_time());
        }
        self.events += events;
        self.last_window_events = events;
        if events > 0 {
            self.windows.note(events, shared_window);
        }
        self.next_local = next;
        let mut reports = std::mem::take(&mut self.reports);
        reports.sort_unstable_by_key(|(node, _, r)| (r.finished, *node, r.id));
        for (node, inc, r) in reports.drain(..) {
            let r = self.done(node, inc, r);
            // The report's buffers go back to the pool of the shard that made them.
            let shard = (node % shared.ctx.shards) as usize;
            shared.shards[shard].lock().expect("no worker panicked").spent.push(r);
        }
        self.reports = reports;
        if let Some(t) = &mut self.tracer {
            t.window_done(end);
        }
        Step::Ran
    }

    /// Notes the totals at the end of the warm-up, so that the summary's
    /// traffic rates cover only the time after it.
    fn mark_warmup(&mut self) {
        self.at_warmup = Some(self.population());
        self.now = self.sc.warmup.0;
        self.count_uptime();
        self.rec.mark_warmup();
        self.warm_marked = true;
    }

    fn population(&self) -> Population {
        let mut p = Population::default();
        for st in &self.status {
            match (st.alive, st.joined, st.sessions) {
                (true, true, _) => p.joined += 1,
                (true, false, _) => p.joining += 1,
                (false, _, 0) => p.never_up += 1,
                (false, _, _) => p.down += 1,
            }
        }
        p
    }

    /// Adds the node-microseconds of uptime since the last change, then
    /// restarts the count at `now`.
    fn count_uptime(&mut self) {
        self.rec.node_us += self.up_count as f64 * self.now.saturating_sub(self.up_changed) as f64;
        self.up_changed = self.now;
    }

    /// Schedules an event for `node` at the current time.
    fn schedule_for(&mut self, shared: &Shared, node: u32, ev: LocalEvent) {
        self.seq += 1;
        let ctx = &shared.ctx;
        let mut shard = shared.shards[(node % ctx.shards) as usize].lock().expect("no worker panicked");
        shard.schedule(ctx, self.now, self.seq, node, ev);
        self.next_local = self.next_local.min(self.now);
    }

    fn handle(&mut self, shared: &Shared, ev: Global) {
        self.events += 1;
        let what = match ev {
            Global::Up { node } => {
                self.up(shared, node);
                3 | u64::from(node) << 8 | 1 << 63
            }
            Global::Down { node } => {
                self.down(shared, node);
                4 | u64::from(node) << 8 | 1 << 63
            }
            Global::RetryJoin { node, inc } => {
                let st = self.status[node as usize];
                if st.alive && st.inc == inc && !st.joined {
                    if let Some(via) = self.bootstrap_node() {
                        self.schedule_for(shared, node, LocalEvent::Join { inc, via });
                    } else {
                        self.joined_alone(node);
                    }
                }
                5 | u64::from(node) << 8 | 1 << 63
            }
            Global::Work(kind) => {
                self.work(shared, kind);
                6 | (kind as u64) << 8 | 1 << 63
            }
            Global::Sample => {
                self.sample(shared);
                7 | 1 << 63
            }
        };
        self.hash = self.hash.wrapping_add(event_hash(self.now, what));
    }

    /// The next operation of `kind`. Operations arrive as a Poisson process at
    /// the per-node rate times all the nodes there can be, and each picks a
    /// node slot at random; one whose node is not live drops the operation.
    /// This thinning gives exactly the per-node rate for the nodes live at each
    /// moment, however their number changes: a gap drawn for the nodes live
    /// when it was scheduled would stall the workload for as long as the first
    /// gap, drawn while almost no node had joined.
    fn work(&mut self, shared: &Shared, kind: WorkKind) {
        let live = self.live.items.len();
        let slots = self.status.len();
        let slot = if slots > 0 { self.workload.pick(slots) } else { usize::MAX };
        if slot < live
            && let Some(cmd) = self.workload.command(kind)
        {
            let origin = self.live.items[slot];
            let cmd = match cmd {
                // A peer announces itself: its compact address (BEP 5), so that
                // its re-announces refresh one entry of the infohash's set.
                crate::kad::Command::Put(key, _) if self.sc.workload.records.peer_sets() => {
                    crate::kad::Command::Put(key, staleness::compact_peer(origin))
                }
                cmd => cmd,
            };
            // Only honest nodes are users: a malicious origin drops the operation.
            if !self.is_malicious(origin) {
                self.schedule_for(shared, origin, LocalEvent::Start(cmd));
            }
        }
        if let Some(gap) = self.workload.next_gap_us(kind, slots) {
            self.global.push(self.now.saturating_add(gap), Global::Work(kind));
        }
    }

    fn sample(&mut self, shared: &Shared) {
        let (n, tables) = self.tables(shared);
        // The interval is (partly) in the warm-up when it began before the warm-up ended.
        let warm = self.last_sample < self.sc.warmup.0;
        self.last_sample = self.now;
        self.count_uptime();
        self.rec.sample(self.now as f64 / 1e6, warm, n, tables);
        if self.now < self.end {
            self.next_sample = (self.now + self.sc.sample_interval.0).min(self.end);
            self.global.push(self.next_sample, Global::Sample);
        } else {
            self.next_sample = u64::MAX;
        }
    }
}

#[cfg(test)]
#[path = "world_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "world_reach_tests.rs"]
mod reach_tests;
