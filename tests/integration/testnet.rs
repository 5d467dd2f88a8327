//! A tiny deterministic driver for integration tests: one event queue ordered
//! by (time, insertion sequence), constant one-way latency with optional
//! uniform jitter, optional message loss, and nodes that can be marked dead.
//! Every random draw comes from one seeded ChaCha8 stream, so a test is a pure
//! function of its seed.

use kadsim::kad::{Command, Config, Input, Message, Node, NodeId, OpId, OpReport, Outbox, Output, Time, Timer};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

/// What happens at an instant.
#[derive(Clone, Debug)]
enum Event {
    /// `msg` from node `from` arrives at node `to`. Boxed: a message with its
    /// inline contacts is most of a kilobyte, and heap entries move a lot.
    Deliver { to: u32, from: u32, msg: Box<Message<u32>> },
    /// A timer node `node` asked for fires.
    Timer { node: u32, timer: Timer },
}

/// An event with its place in the queue: ordered by time, then by insertion.
#[derive(Clone, Debug)]
struct Scheduled {
    at: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A finished operation and the node it ran on.
#[derive(Clone, Debug)]
pub struct Done {
    /// The origin node's index.
    pub node: u32,
    /// Its report.
    pub report: OpReport<u32>,
}

/// A network of nodes addressed by their index.
#[derive(Clone, Debug)]
pub struct TestNet {
    /// The nodes; node `i` has address `i`.
    pub nodes: Vec<Node<u32>>,
    /// A dead node receives nothing: no message, no timer.
    pub dead: Vec<bool>,
    /// The configuration every node shares.
    pub cfg: Arc<Config>,
    /// The current time.
    pub now: Time,
    /// One-way latency of every message.
    pub latency: Duration,
    /// Extra latency, uniform in `[0, jitter)`.
    pub jitter: Duration,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Every finished operation, in completion order.
    pub done: Vec<Done>,
    /// Messages handed to the network, and of those how many were lost or
    /// addressed to a dead node.
    pub sent: u64,
    pub lost: u64,
    rng: ChaCha8Rng,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    out: Outbox<u32>,
}

impl TestNet {
    /// `n` nodes with IDs drawn from a ChaCha8 stream seeded with `seed`, all
    /// created at time zero and knowing nobody.
    pub fn new(n: usize, cfg: Config, seed: u64) -> TestNet {
        let cfg = Arc::new(cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let nodes = (0..n)
            .map(|i| {
                let id = NodeId::random(&mut rng);
                let node_seed = seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
                Node::new(id, Arc::clone(&cfg), node_seed, Time::ZERO).expect("valid config")
            })
            .collect();
        TestNet {
            nodes,
            dead: vec![false; n],
            cfg,
            now: Time::ZERO,
            latency: Duration::from_millis(50),
            jitter: Duration::ZERO,
            loss: 0.0,
            done: Vec::new(),
            sent: 0,
            lost: 0,
            rng,
            queue: BinaryHeap::new(),
            seq: 0,
            out: Outbox::new(),
        }
    }

    /// Node `i`'s ID.
    pub fn id(&self, i: u32) -> NodeId {
        *self.nodes[i as usize].id()
    }

    /// A uniform draw from `0..n`, from the network's RNG.
    pub fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n
    }

    /// A uniformly random ID, from the network's RNG.
    pub fn random_id(&mut self) -> NodeId {
        NodeId::random(&mut self.rng)
    }

    /// Starts `cmd` on node `node` now; its report lands in [`TestNet::done`].
    pub fn start(&mut self, node: u32, cmd: Command<u32>) -> OpId {
        assert!(!self.dead[node as usize], "node {node} is dead");
        let mut out = std::mem::take(&mut self.out);
        let op = self.nodes[node as usize].start(self.now, cmd, &mut out);
        self.dispatch(node, &mut out);
        self.out = out;
        op
    }

    /// Processes every event due at or before `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Time) {
        while self.queue.peek().is_some_and(|Reverse(s)| s.at <= t.as_micros()) {
            let Reverse(s) = self.queue.pop().expect("peeked");
            self.now = Time(s.at);
            let (node, input) = match s.event {
                Event::Deliver { to, from, msg } => (to, Input::Datagram { from, msg: *msg }),
                Event::Timer { node, timer } => (node, Input::Timer(timer)),
            };
            if self.dead[node as usize] {
                if matches!(input, Input::Datagram { .. }) {
                    self.lost += 1;
                }
                continue;
            }
            let mut out = std::mem::take(&mut self.out);
            self.nodes[node as usize].handle(self.now, input, &mut out);
            self.dispatch(node, &mut out);
            self.out = out;
        }
        self.now = self.now.max(t);
    }

    /// Runs until the clock has advanced by `d`.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    fn push(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled { at, seq: self.seq, event }));
    }

    /// Turns node `from`'s outputs into events and reports.
    fn dispatch(&mut self, from: u32, out: &mut Outbox<u32>) {
        for o in out.drain(..) {
            match o {
                Output::Send { to, msg, .. } => {
                    self.sent += 1;
                    if self.loss > 0.0 && self.unit() < self.loss {
                        self.lost += 1;
                        continue;
                    }
                    let mut delay = kadsim::kad::time::micros(self.latency);
                    let jitter = kadsim::kad::time::micros(self.jitter);
                    if jitter > 0 {
                        delay += self.rng.next_u64() % jitter;
                    }
                    let at = self.now.as_micros() + delay;
                    self.push(at, Event::Deliver { to, from, msg: Box::new(msg) });
                }
                Output::SetTimer { at, timer } => {
                    if at == Time::NEVER {
                        continue;
                    }
                    let at = at.max(self.now).as_micros();
                    self.push(at, Event::Timer { node: from, timer });
                }
                Output::Done(report) => self.done.push(Done { node: from, report }),
            }
        }
    }

    /// A uniform draw from `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
