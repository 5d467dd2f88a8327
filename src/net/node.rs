//! A Kademlia node on a real UDP socket: one thread owns the socket and the
//! [`Endpoint`], maps the wall clock to the core's time, and serves blocking
//! calls from any number of threads through a channel.

use super::endpoint::{Datagrams, Endpoint, NetStats, ReplyLimits};
use crate::kad::{Body, Command, Config, Contact, NodeId, OpReport, Time};
use crate::wire::krpc;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How a node starts.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Address to bind (port 0: any free port).
    pub listen: SocketAddr,
    /// Nodes to join through, with their IDs when known.
    pub bootstrap: Vec<(SocketAddr, Option<NodeId>)>,
    /// The node's ID (default: random).
    pub id: Option<NodeId>,
    /// Protocol parameters (default: the paper's, with at most
    /// [`MAX_STORED_PAIRS`] pairs stored).
    pub kad: Config,
    /// Seed of the node's random choices (default: from the clock and process ID).
    pub seed: Option<u64>,
    /// The reply budget of each source IP (default: [`ReplyLimits::default`]).
    pub limits: ReplyLimits,
}

/// Pairs a node on the network stores at most by default: with values of at
/// most 1000 bytes (BEP 44), a flood of STOREs costs it about 10 MB.
pub const MAX_STORED_PAIRS: usize = 10_000;

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            bootstrap: Vec::new(),
            id: None,
            kad: Config { max_stored_pairs: MAX_STORED_PAIRS, ..Config::default() },
            seed: None,
            limits: ReplyLimits::default(),
        }
    }
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The socket could not be bound or used.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The protocol parameters are invalid.
    #[error("configuration: {0}")]
    Config(#[from] crate::kad::ConfigError),
    /// A value longer than BEP 44 allows.
    #[error("value of {0} bytes is over the limit of {max} bytes", max = krpc::MAX_VALUE)]
    ValueTooLarge(usize),
    /// Not one canonical bencoded value of at most 1000 bytes.
    #[error("not a bencoded value of at most {max} bytes", max = krpc::MAX_VALUE)]
    BadValue,
    /// The node asked did not answer.
    #[error("no reply from {0}")]
    NoReply(SocketAddr),
    /// No node acknowledged the STORE.
    #[error("no node stored the value")]
    NotStored,
    /// The node has shut down.
    #[error("the node has shut down")]
    Stopped,
}

/// What a put achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The key the value is stored under.
    pub key: NodeId,
    /// Nodes that acknowledged the STORE.
    pub replicas: u32,
}

enum Call {
    Start(Command<SocketAddr>, SyncSender<OpReport<SocketAddr>>),
    Table(SyncSender<Vec<Contact<SocketAddr>>>),
    Stats(SyncSender<(NetStats, usize)>),
    Stop,
}

/// A Kademlia node on a UDP socket, speaking KRPC (BEP 5, BEP 44). Every method
/// blocks until its answer; the node is `Send + Sync`, so threads may share it.
///
/// ```
/// use kadsim::net::{Node, NodeConfig};
///
/// // Two nodes on the loopback interface; the second joins through the first.
/// let a = Node::start(NodeConfig::default()).unwrap();
/// let b = Node::start(NodeConfig {
///     bootstrap: vec![(a.local_addr(), Some(*a.id()))],
///     ..NodeConfig::default()
/// })
/// .unwrap();
/// let stored = b.put("greeting", b"hello").unwrap();
/// assert!(stored.replicas >= 1);
/// assert_eq!(a.get("greeting").unwrap().as_deref(), Some(&b"hello"[..]));
/// assert_eq!(a.ping(b.local_addr()).unwrap(), *b.id());
/// b.shutdown();
/// a.shutdown();
/// ```
pub struct Node {
    id: NodeId,
    addr: SocketAddr,
    calls: Sender<Call>,
    thread: Mutex<Option<JoinHandle<()>>>,
    bootstrapped: bool,
}

impl Node {
    /// Binds the socket, starts the node's thread and, when bootstrap nodes
    /// are given, joins through each in turn until one join succeeds (paper §2.3).
    pub fn start(cfg: NodeConfig) -> Result<Node, NetError> {
        let seed = cfg.seed.unwrap_or_else(clock_seed);
        let id = cfg.id.unwrap_or_else(|| NodeId::random(&mut ChaCha8Rng::seed_from_u64(seed)));
        let socket = UdpSocket::bind(cfg.listen)?;
        let addr = socket.local_addr()?;
        let started = Instant::now();
        let mut endpoint = Endpoint::new(id, Arc::new(cfg.kad.clone()), seed, Time::ZERO)?;
        endpoint.set_local_addr(addr);
        endpoint.reseed_tokens(os_entropy());
        endpoint.set_limits(cfg.limits);
        let (calls, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("kadsim-node-{addr}"))
            .spawn(move || serve(socket, endpoint, rx, started))?;
        let mut node = Node { id, addr, calls, thread: Mutex::new(Some(thread)), bootstrapped: false };
        for (bootstrap, id) in &cfg.bootstrap {
            if node.run(Command::Join { bootstrap: *bootstrap, id: *id })?.success {
                node.bootstrapped = true;
                break;
            }
        }
        Ok(node)
    }

    /// The node's ID.
    pub fn id(&self) -> &NodeId {
        &self.id
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether a join through a bootstrap node succeeded at start.
    pub fn bootstrapped(&self) -> bool {
        self.bootstrapped
    }

    /// Runs one operation of the core and waits for its report.
    pub fn run(&self, cmd: Command<SocketAddr>) -> Result<OpReport<SocketAddr>, NetError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.calls.send(Call::Start(cmd, tx)).map_err(|_| NetError::Stopped)?;
        rx.recv().map_err(|_| NetError::Stopped)
    }

    fn check_len(value: &[u8]) -> Result<(), NetError> {
        if value.len() > krpc::MAX_VALUE { Err(NetError::ValueTooLarge(value.len())) } else { Ok(()) }
    }

    /// Stores the byte string `value` under `key` at the k closest nodes (paper §2.3).
    pub fn put_key(&self, key: NodeId, value: &[u8]) -> Result<Stored, NetError> {
        Self::check_len(value)?;
        self.put_bencoded_key(key, &krpc::bencode_bytes(value))
    }

    /// Stores the value whose raw bencoding is `raw` (BEP 44: any bencoded
    /// value) under `key` at the k closest nodes.
    pub fn put_bencoded_key(&self, key: NodeId, raw: &[u8]) -> Result<Stored, NetError> {
        if !krpc::valid_value(raw) {
            return Err(NetError::BadValue);
        }
        let r = self.run(Command::Put(key, Arc::from(raw)))?;
        if !r.success {
            return Err(NetError::NotStored);
        }
        Ok(Stored { key, replicas: r.replicas })
    }

    /// Looks `key` up (paper §2.3); `None` when no node returned it. A byte
    /// string comes back as its content, any other value as its bencoding.
    pub fn get_key(&self, key: NodeId) -> Result<Option<Vec<u8>>, NetError> {
        Ok(self.get_bencoded_key(key)?.map(unwrap_value))
    }

    /// Looks `key` up; the raw bencoding of the value found.
    pub fn get_bencoded_key(&self, key: NodeId) -> Result<Option<Vec<u8>>, NetError> {
        Ok(self.run(Command::Get(key))?.value.map(|v| v.to_vec()))
    }

    /// Stores `value` under the SHA-1 of the string `key` (kadsim's extension of BEP 44).
    pub fn put(&self, key: &str, value: &[u8]) -> Result<Stored, NetError> {
        self.put_key(NodeId::hash_of(key.as_bytes()), value)
    }

    /// Gets the value stored under the string `key`.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, NetError> {
        self.get_key(NodeId::hash_of(key.as_bytes()))
    }

    /// Stores a BEP 44 immutable item, the byte string `value`: its key is
    /// the SHA-1 of its bencoding.
    pub fn put_immutable(&self, value: &[u8]) -> Result<Stored, NetError> {
        self.put_key(krpc::immutable_target(value), value)
    }

    /// Gets a BEP 44 immutable item (see [`Node::get_key`] for what comes
    /// back); a value that does not hash to `target` is refused.
    pub fn get_immutable(&self, target: NodeId) -> Result<Option<Vec<u8>>, NetError> {
        Ok(self.get_immutable_bencoded(target)?.map(unwrap_value))
    }

    /// Stores a BEP 44 immutable item of any bencoded value, given as its raw
    /// bencoding (`i42e`, `l1:a1:be`, `d1:ki1ee`, `5:hello`): its key is the
    /// SHA-1 of `raw`.
    pub fn put_immutable_bencoded(&self, raw: &[u8]) -> Result<Stored, NetError> {
        self.put_bencoded_key(krpc::bencoded_target(raw), raw)
    }

    /// Gets a BEP 44 immutable item as its raw bencoding; a value that does
    /// not hash to `target` is refused.
    pub fn get_immutable_bencoded(&self, target: NodeId) -> Result<Option<Vec<u8>>, NetError> {
        Ok(self.get_bencoded_key(target)?.filter(|v| krpc::bencoded_target(v) == target))
    }

    /// The k closest nodes to `target` that answered an iterative lookup (paper §2.3).
    pub fn find_node(&self, target: NodeId) -> Result<Vec<Contact<SocketAddr>>, NetError> {
        Ok(self.run(Command::FindNode(target))?.closest)
    }

    /// PINGs `addr`; its node ID when it answers.
    pub fn ping(&self, addr: SocketAddr) -> Result<NodeId, NetError> {
        let r = self.run(Command::Ping(addr))?;
        if r.success { Ok(r.target) } else { Err(NetError::NoReply(addr)) }
    }

    /// Sends one request (PING, STORE, FIND_NODE, FIND_VALUE) to `to`; its
    /// reply. A STORE's value is a byte string; a value found comes back as
    /// in [`Node::get_key`].
    pub fn request(&self, to: SocketAddr, mut body: Body<SocketAddr>) -> Result<Body<SocketAddr>, NetError> {
        if let Body::Store { value, .. } = &mut body {
            Self::check_len(value)?;
            *value = Arc::from(krpc::bencode_bytes(value));
        }
        let mut reply = self.run(Command::Request { to, body })?.reply.ok_or(NetError::NoReply(to))?;
        if let Body::Found { value, .. } = &mut reply {
            *value = Arc::from(unwrap_value(value.to_vec()));
        }
        Ok(reply)
    }

    /// The contacts of the routing table, bucket by bucket.
    pub fn table(&self) -> Result<Vec<Contact<SocketAddr>>, NetError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.calls.send(Call::Table(tx)).map_err(|_| NetError::Stopped)?;
        rx.recv().map_err(|_| NetError::Stopped)
    }

    /// Datagram counters and the number of pairs stored.
    pub fn stats(&self) -> Result<(NetStats, usize), NetError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.calls.send(Call::Stats(tx)).map_err(|_| NetError::Stopped)?;
        rx.recv().map_err(|_| NetError::Stopped)
    }

    /// Stops the node's thread and closes the socket.
    pub fn shutdown(self) {
        self.stop();
    }

    fn stop(&self) {
        let _ = self.calls.send(Call::Stop);
        if let Ok(mut t) = self.thread.lock()
            && let Some(t) = t.take()
        {
            let _ = t.join();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The content of a value's raw bencoding if it is a byte string, else the bencoding itself.
fn unwrap_value(raw: Vec<u8>) -> Vec<u8> {
    match krpc::bytes_content(&raw) {
        Some(content) => content.to_vec(),
        None => raw,
    }
}

/// A seed from the clock and the process ID, for nodes not given one.
fn clock_seed() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

/// 32 bytes from the operating system's randomness, through the standard
/// library's randomly keyed hasher (no extra crate): for the write-token secrets.
fn os_entropy() -> [u8; 32] {
    use std::hash::{BuildHasher, Hasher};
    let mut out = [0u8; 32];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(clock_seed() ^ i as u64);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

/// Longest wait for a datagram before the thread looks at its calls again.
const POLL: Duration = Duration::from_millis(10);
/// Most datagrams read in one go before the thread looks at its calls,
/// timers and sends again: under a flood the node still answers its callers
/// and sends its replies every few milliseconds.
const BATCH: usize = 256;

/// The node's thread: socket, timers and calls.
fn serve(socket: UdpSocket, mut ep: Endpoint, calls: Receiver<Call>, started: Instant) {
    let now = || Time(started.elapsed().as_micros() as u64);
    let mut waiting: Vec<(crate::kad::OpId, SyncSender<OpReport<SocketAddr>>)> = Vec::new();
    let mut send: Datagrams = Vec::new();
    let mut buf = vec![0u8; krpc::MAX_DATAGRAM + 512];
    loop {
        loop {
            match calls.try_recv() {
                Ok(Call::Start(cmd, reply)) => {
                    let op = ep.start(now(), cmd, &mut send);
                    waiting.push((op, reply));
                }
                Ok(Call::Table(reply)) => {
                    let _ = reply.send(ep.core().routing_table().contacts().collect());
                }
                Ok(Call::Stats(reply)) => {
                    let _ = reply.send((ep.stats(), ep.core().store().len()));
                }
                Ok(Call::Stop) | Err(mpsc::TryRecvError::Disconnected) => return,
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        if ep.next_timer().is_some_and(|t| t <= now()) {
            ep.on_timer(now(), &mut send);
        }
        for (to, bytes) in send.drain(..) {
            // A send that fails (an unreachable address) is a lost datagram, as in UDP.
            let _ = socket.send_to(&bytes, to);
        }
        for report in ep.take_reports() {
            if let Some(i) = waiting.iter().position(|(op, _)| *op == report.id) {
                let (_, reply) = waiting.swap_remove(i);
                let _ = reply.send(report);
            }
        }
        let wait = ep.next_timer().map_or(POLL, |t| Duration::from_micros(t.0.saturating_sub(now().0))).min(POLL);
        let _ = socket.set_read_timeout(Some(wait.max(Duration::from_micros(200))));
        // Block for the first datagram, then take what else is queued without
        // waiting, up to BATCH. A failed read is a timeout, or ICMP port
        // unreachable and the like, which surface here on some systems: a
        // lost datagram.
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            ep.on_datagram(now(), from, &buf[..n], &mut send);
            if socket.set_nonblocking(true).is_ok() {
                for _ in 1..BATCH {
                    let Ok((n, from)) = socket.recv_from(&mut buf) else { break };
                    ep.on_datagram(now(), from, &buf[..n], &mut send);
                }
                let _ = socket.set_nonblocking(false);
            }
        }
    }
}
