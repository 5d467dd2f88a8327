//! The protocol core on the wire: a sans-IO KRPC endpoint. Datagrams (bytes
//! and a source address) and the time come in; datagrams to send, the next
//! timer and finished operations come out. The threaded UDP driver
//! ([`super::Node`]) and the tests drive it the same way.
//!
//! It translates between the core's [`Message`]s and KRPC packets (BEP 5,
//! BEP 44; see [`crate::wire::krpc`]):
//!
//! - A KRPC reply does not say what it answers, so every query sent is
//!   remembered by (address, transaction ID) until its reply, error or expiry.
//! - BEP 44 `put` needs a write token from an earlier `get` to the same node.
//!   Tokens from every `get` reply are kept per (address, target), as nodes
//!   such as libtorrent bind a token to the target; a STORE to a node with no
//!   fresh token for its key first sends that node a `get` for the key and
//!   sends the `put` when the token arrives (the core's RPC timeout covers both).
//! - Values are kept in the core as the raw bencoding of BEP 44's `v` (any
//!   bencoded value: `5:hello`, `i42e`, `d1:ai1ee`), so that an immutable
//!   item's target is the SHA-1 of exactly what is stored; [`super::Node`]
//!   wraps and unwraps byte strings for its callers.
//! - Tokens this node hands out are the first 4 bytes of
//!   SHA-1(secret ‖ IP ‖ target), the secret rotated every 5 minutes and the
//!   previous one still accepted (BEP 5: tokens are accepted for up to 10
//!   minutes); a token for one target does not store another.
//! - A malformed, oversized, unsolicited or unwanted datagram is dropped and
//!   counted in [`NetStats`]; the endpoint never panics on input.
//! - Anti-amplification (as QUIC's, RFC 9000 §8.1): to an address not yet
//!   validated (it has neither answered one of this node's queries nor
//!   presented a valid write token), the endpoint sends at most
//!   [`AMPLIFICATION`] times the bytes it has received from that address in
//!   total. A reply listing nodes is trimmed to fit (fewer contacts); any other
//!   reply that does not fit is dropped; both are counted. On first contact an
//!   unvalidated address is sent one `ping` (within its allowance), whose
//!   answer validates it, so that its later queries get whole replies.
//! - A reply budget per source IP ([`ReplyLimits`]: datagrams and bytes per
//!   second, token buckets): a query from an IP whose budget is spent is
//!   dropped before it is decoded, so a flood from one source costs little
//!   more than reading it, and other sources (and pings) keep being answered.

use crate::kad::{Body, Command, Config, Contact, Input, Message, Node, NodeId, OpId, OpReport, Outbox, Output, Time};
use crate::wire::krpc::{self, ERR_METHOD_UNKNOWN, ERR_PROTOCOL, Packet, PacketBody, Query, Response};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

/// How long a write token secret is used before it is rotated (BEP 5 suggests 5 minutes).
const SECRET_ROTATION: Duration = Duration::from_secs(300);
/// How long a token received from a peer is trusted.
const TOKEN_FRESH: Duration = Duration::from_secs(240);
/// Most peers' tokens kept; the oldest is forgotten first.
const MAX_TOKENS: usize = 4096;
/// Most queries awaiting a reply; beyond this the oldest is forgotten.
const MAX_PENDING: usize = 16384;
/// The window of the per-IP store quota.
const QUOTA_WINDOW: Duration = Duration::from_secs(3600);

/// Bytes of the tokens handed out (as `crate::wire::TOKEN_LEN`).
const TOKEN_LEN: usize = crate::wire::TOKEN_LEN;
/// Anti-amplification factor (RFC 9000 §8.1): to an unvalidated address, at
/// most this many times the bytes received from it are sent.
pub const AMPLIFICATION: u64 = 4;
/// Most addresses whose byte counts (anti-amplification) are kept, and most
/// IPs with a reply budget; beyond this, entries are forgotten (a forgotten
/// address starts again from nothing received, unvalidated).
const MAX_PEERS: usize = 16384;
/// A token bucket holds this many seconds' worth of its rate (the burst).
const BURST_SECS: f64 = 2.0;
/// Bytes of the `ping` sent to validate an address (a KRPC ping query with
/// kadsim's 4-byte transaction ID and version).
const PROBE_LEN: u64 = 67;
/// Bytes of one compact IPv4 node info in a reply's `nodes` (BEP 5).
const COMPACT_NODE: u64 = 26;

/// The reply budget of each source IP address: token buckets refilled at
/// these rates, holding up to two seconds' worth. Replies (and validation
/// pings) to an IP beyond its budget are not sent, and its queries are
/// dropped unread while the budget is spent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplyLimits {
    /// Replies per second to one IP address.
    pub datagrams_per_sec: u32,
    /// Bytes of replies per second to one IP address.
    pub bytes_per_sec: u32,
}

impl Default for ReplyLimits {
    /// 500 replies and 512 KiB per second per IP: far beyond what one honest
    /// DHT node asks of another (a few queries per second), and enough for a
    /// test network of dozens of nodes sharing 127.0.0.1; yet one source gets
    /// at most a small share of what a node can answer (tens of thousands of
    /// datagrams per second).
    fn default() -> Self {
        ReplyLimits { datagrams_per_sec: 500, bytes_per_sec: 512 * 1024 }
    }
}

/// A source IP's reply budget.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    datagrams: f64,
    bytes: f64,
    at: Time,
}

/// What was received from, and sent to, one address.
#[derive(Clone, Copy, Debug, Default)]
struct Peer {
    received: u64,
    sent: u64,
    validated: bool,
    probed: bool,
}

/// Counters of what the endpoint received, sent and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Datagrams received.
    pub received: u64,
    /// Datagrams sent.
    pub sent: u64,
    /// Dropped: longer than a KRPC datagram may be.
    pub oversized: u64,
    /// Dropped: not valid bencode or not a valid KRPC message.
    pub malformed: u64,
    /// Dropped: a reply or error matching no query sent.
    pub unexpected: u64,
    /// Queries for methods kadsim does not serve (answered with error 204).
    pub unknown_method: u64,
    /// `put`s with a missing or wrong write token (answered with error 203).
    pub bad_token: u64,
    /// KRPC errors received in reply to queries.
    pub errors_received: u64,
    /// Dropped: from an address the routing table holds under another node ID.
    pub id_conflicts: u64,
    /// `put`s refused because their IP address used up its quota (error 201).
    pub over_quota: u64,
    /// Queries from an IP over its reply budget ([`ReplyLimits`]): dropped
    /// unread, or left unanswered when the budget ran out while answering.
    pub rate_limited: u64,
    /// Datagrams not sent because they would have exceeded the
    /// anti-amplification limit of an unvalidated address (replies, and
    /// queries such as the core's hand-over STOREs to a node that spoke first).
    pub amplification_limited: u64,
    /// Replies sent with fewer contacts than the core gave, to stay within
    /// the anti-amplification limit.
    pub replies_trimmed: u64,
    /// The core's count of messages claiming a node ID that the routing table
    /// holds at another address that has not failed: not admitted (an ID
    /// hijack attempt, or a node that moved). Filled in by [`Endpoint::stats`].
    pub conflicting_claims: u64,
    /// The core's count of newcomers refused because their bucket already held
    /// as many contacts of their IP or subnet as allowed.
    pub refused_admissions: u64,
    /// The core's verification PINGs to contacts first heard from in a query,
    /// sent before any stored pair is handed to them (paper §2.5).
    pub verification_pings: u64,
    /// Queries flagged read-only (BEP 43, `ro` = 1) received: answered, their
    /// senders never added to the routing table when the node honours the
    /// flag (`Config::honour_read_only`).
    pub read_only_queries: u64,
    /// Queries left unanswered because this node is read-only (BEP 43:
    /// "It no longer responds to 'query' messages that it receives").
    pub unanswered_queries: u64,
}

impl NetStats {
    /// All datagrams dropped without reaching the core.
    pub fn dropped(&self) -> u64 {
        self.oversized + self.malformed + self.unexpected + self.id_conflicts + self.rate_limited
    }
}

/// What a query sent was.
#[derive(Clone, Debug)]
enum Sent {
    /// A core request of this kind; for a `get`, its target (the write
    /// token in the reply is for that target).
    Core(crate::kad::RequestKind, Option<NodeId>),
    /// A `get` sent only to obtain a write token for this STORE.
    TokenFor {
        /// The core's STORE message, sent as a `put` once the token arrives.
        store: Message<SocketAddr>,
    },
    /// A `ping` sent only to validate an address (anti-amplification).
    Probe,
}

/// The KRPC endpoint of one node.
pub struct Endpoint {
    core: Node<SocketAddr>,
    cfg: Arc<Config>,
    out: Outbox<SocketAddr>,
    rng: ChaCha8Rng,
    secrets: [[u8; 16]; 2],
    secret_since: Time,
    /// Tokens received: (address, target) → (token, when). Nodes such as
    /// libtorrent bind a token to the target it was asked for.
    tokens: BTreeMap<(SocketAddr, NodeId), (Vec<u8>, Time)>,
    /// Queries awaiting a reply: (address, transaction) → (what, when sent).
    pending: BTreeMap<(SocketAddr, u32), (Sent, Time)>,
    /// Local transaction IDs handed to the core for remote queries.
    next_local_tx: u32,
    timers: BTreeMap<crate::kad::Timer, Time>,
    reports: Vec<OpReport<SocketAddr>>,
    stats: NetStats,
    /// `put`s accepted per IP address in the current quota window: (count, window start).
    puts_by_ip: BTreeMap<IpAddr, (usize, Time)>,
    /// The node ID each recent peer address spoke with, for errors (which carry none).
    peer_ids: BTreeMap<SocketAddr, (NodeId, Time)>,
    /// The node's own socket address, when the driver knows it: contacts
    /// claiming it (under any ID) are left out of replies taken in.
    local: Option<SocketAddr>,
    /// Bytes received from and sent to each address, and whether it is validated.
    peers: BTreeMap<SocketAddr, Peer>,
    /// The reply budget of each source IP.
    buckets: BTreeMap<IpAddr, Bucket>,
    limits: ReplyLimits,
    /// While a query is being answered: its source IP and the time.
    answering: Option<(IpAddr, Time)>,
}

/// The query being answered: its source, the local transaction ID given to
/// the core, its KRPC `t`, and the write token to add (for a `get`).
type ReplyTo = (SocketAddr, u32, Vec<u8>, Option<Vec<u8>>);

/// Datagrams to send: (destination, bytes).
pub type Datagrams = Vec<(SocketAddr, Vec<u8>)>;

impl Endpoint {
    /// A node with ID `id` and configuration `cfg`; `seed` drives its random
    /// choices and its token secrets.
    pub fn new(id: NodeId, cfg: Arc<Config>, seed: u64, now: Time) -> Result<Endpoint, crate::kad::ConfigError> {
        // KRPC carries 20-byte IDs (BEP 5, "Node IDs ... 160-bit"): a real
        // node is a Mainline DHT node, 160 bits by construction.
        if cfg.id_width != crate::kad::IdWidth::Bits160 {
            return Err(crate::kad::ConfigError {
                field: "id_width",
                expected:
                    "160 bits on a real network: KRPC (BEP 5) carries 20-byte IDs; 256-bit IDs are for simulations"
                        .into(),
            });
        }
        let core = Node::new(id, cfg.clone(), seed, now)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6b72_7063_746f_6b6e);
        let mut secrets = [[0u8; 16]; 2];
        rng.fill_bytes(&mut secrets[0]);
        rng.fill_bytes(&mut secrets[1]);
        Ok(Endpoint {
            core,
            cfg,
            out: Outbox::new(),
            rng,
            secrets,
            secret_since: now,
            tokens: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_local_tx: 1,
            timers: BTreeMap::new(),
            reports: Vec::new(),
            stats: NetStats::default(),
            puts_by_ip: BTreeMap::new(),
            peer_ids: BTreeMap::new(),
            local: None,
            peers: BTreeMap::new(),
            buckets: BTreeMap::new(),
            limits: ReplyLimits::default(),
            answering: None,
        })
    }

    /// The node's ID.
    pub fn id(&self) -> &NodeId {
        self.core.id()
    }

    /// Tells the endpoint its own socket address. Some nodes return it under
    /// other IDs (e.g. a node that filed the sender of a lookup under the
    /// lookup's target); such contacts are dropped instead of queried, which
    /// would cost a timeout each.
    pub fn set_local_addr(&mut self, addr: SocketAddr) {
        self.local = Some(addr);
    }

    /// Sets the reply budget of each source IP (default [`ReplyLimits::default`]).
    pub fn set_limits(&mut self, limits: ReplyLimits) {
        self.limits = limits;
    }

    /// Draws the write-token secrets from `entropy` instead of the node's seed
    /// (the seed may be known: the node ID derives from it). The UDP driver
    /// passes OS randomness here.
    pub fn reseed_tokens(&mut self, entropy: [u8; 32]) {
        self.rng = ChaCha8Rng::from_seed(entropy);
        self.rng.fill_bytes(&mut self.secrets[0]);
        self.rng.fill_bytes(&mut self.secrets[1]);
    }

    /// The protocol core, read-only (routing table, store, counters).
    pub fn core(&self) -> &Node<SocketAddr> {
        &self.core
    }

    /// The counters: the endpoint's own, with the core's defence counters.
    pub fn stats(&self) -> NetStats {
        let core = self.core.stats();
        NetStats {
            conflicting_claims: core.conflicting_claims,
            refused_admissions: core.refused_admissions,
            verification_pings: core.verification_pings,
            ..self.stats.clone()
        }
    }

    /// Operations finished since the last call.
    pub fn take_reports(&mut self) -> Vec<OpReport<SocketAddr>> {
        std::mem::take(&mut self.reports)
    }

    /// When [`Endpoint::on_timer`] should next be called.
    pub fn next_timer(&self) -> Option<Time> {
        self.timers.values().min().copied()
    }

    /// Adds a known contact to the routing table (e.g. a bootstrap node whose ID is known).
    pub fn add_contact(&mut self, id: NodeId, addr: SocketAddr) -> bool {
        self.core.add_contact(id, addr)
    }

    /// Starts an operation; its report comes out of [`Endpoint::take_reports`] when it ends.
    pub fn start(&mut self, now: Time, cmd: Command<SocketAddr>, send: &mut Datagrams) -> OpId {
        let mut out = std::mem::take(&mut self.out);
        let id = self.core.start(now, cmd, &mut out);
        self.flush(now, &mut out, None, send);
        self.out = out;
        id
    }

    /// Fires the timers that are due.
    pub fn on_timer(&mut self, now: Time, send: &mut Datagrams) {
        let due: Vec<crate::kad::Timer> = self.timers.iter().filter(|(_, at)| **at <= now).map(|(t, _)| *t).collect();
        let mut out = std::mem::take(&mut self.out);
        for t in due {
            self.timers.remove(&t);
            self.core.handle(now, Input::Timer(t), &mut out);
        }
        self.flush(now, &mut out, None, send);
        self.out = out;
        self.expire(now);
    }

    /// Handles one datagram from `from`.
    pub fn on_datagram(&mut self, now: Time, from: SocketAddr, bytes: &[u8], send: &mut Datagrams) {
        self.stats.received += 1;
        self.peer(from).received += bytes.len() as u64;
        if bytes.len() > krpc::MAX_DATAGRAM {
            self.stats.oversized += 1;
            return;
        }
        // A query from an IP whose reply budget is spent is dropped unread:
        // a flood costs little more than reading it. (Canonical bencoding
        // sorts keys, so a KRPC query ends with its `y`.)
        if bytes.ends_with(b"1:y1:qe") && !self.budget_left(from.ip(), now) {
            self.stats.rate_limited += 1;
            return;
        }
        let packet = match krpc::decode(bytes) {
            Ok(p) => p,
            Err(e) => {
                self.stats.malformed += 1;
                // A query we cannot use still gets an answer, when it has a
                // transaction ID (a read-only node answers none, BEP 43).
                if let Some(t) = krpc::query_tx(bytes).filter(|_| !self.cfg.read_only) {
                    match e {
                        krpc::DecodeError::BadField { field: "a.v", why: "too long" } => {
                            self.error(now, from, t, krpc::ERR_VALUE_TOO_BIG, "message (v field) too big", send)
                        }
                        _ => self.error(now, from, t, ERR_PROTOCOL, "Protocol Error", send),
                    }
                }
                return;
            }
        };
        // One node ID per socket address, as the routing table holds it: a
        // datagram from a known address under another ID is dropped (a node
        // that restarted with a new ID gets in once its old entry goes stale).
        if let PacketBody::Query { id, .. } | PacketBody::Response { id, .. } = &packet.body
            && self.core.routing_table().contacts().any(|c| c.addr == from && c.id != *id)
        {
            self.stats.id_conflicts += 1;
            return;
        }
        if let PacketBody::Query { id, .. } | PacketBody::Response { id, .. } = &packet.body {
            self.remember_peer(from, *id, now);
        }
        match packet.body {
            PacketBody::Query { id, query } => {
                self.stats.read_only_queries += u64::from(packet.read_only);
                self.on_query(now, from, packet.t, (id, packet.read_only), query, send)
            }
            PacketBody::Response { id, response } => self.on_response(now, from, &packet.t, id, response, send),
            PacketBody::Error { .. } => self.on_error(now, from, &packet.t, send),
        }
    }

    /// The byte counts of `addr`, created empty on first sight.
    fn peer(&mut self, addr: SocketAddr) -> &mut Peer {
        if self.peers.len() >= MAX_PEERS && !self.peers.contains_key(&addr) {
            // Forget some address (the lowest; cheap, and an attacker cannot
            // choose it for a victim's); it starts again unvalidated.
            if let Some(&a) = self.peers.keys().next() {
                self.peers.remove(&a);
            }
        }
        self.peers.entry(addr).or_default()
    }

    fn validate(&mut self, addr: SocketAddr) {
        self.peer(addr).validated = true;
    }

    /// How many more bytes may be sent to `addr` (anti-amplification).
    fn allowance(&mut self, addr: SocketAddr) -> u64 {
        let p = self.peer(addr);
        if p.validated { u64::MAX } else { (p.received * AMPLIFICATION).saturating_sub(p.sent) }
    }

    /// The reply budget of `ip`, refilled up to `now`.
    fn bucket(&mut self, ip: IpAddr, now: Time) -> &mut Bucket {
        let (rd, rb) = (f64::from(self.limits.datagrams_per_sec), f64::from(self.limits.bytes_per_sec));
        if self.buckets.len() >= MAX_PEERS && !self.buckets.contains_key(&ip) {
            // Forget the IPs whose budgets are full again (idle ones); if
            // none are, forget them all.
            self.buckets.retain(|_, b| {
                let secs = now.since(b.at).as_secs_f64();
                b.datagrams + secs * rd < rd * BURST_SECS || b.bytes + secs * rb < rb * BURST_SECS
            });
            if self.buckets.len() >= MAX_PEERS {
                self.buckets.clear();
            }
        }
        let b =
            self.buckets.entry(ip).or_insert(Bucket { datagrams: rd * BURST_SECS, bytes: rb * BURST_SECS, at: now });
        let secs = now.since(b.at).as_secs_f64();
        b.datagrams = (b.datagrams + secs * rd).min(rd * BURST_SECS);
        b.bytes = (b.bytes + secs * rb).min(rb * BURST_SECS);
        b.at = now;
        b
    }

    /// Whether `ip` may be sent at least one more reply.
    fn budget_left(&mut self, ip: IpAddr, now: Time) -> bool {
        let b = self.bucket(ip, now);
        b.datagrams >= 1.0 && b.bytes >= 1.0
    }

    /// Takes a reply of `len` bytes from `ip`'s budget, if it holds that much.
    fn spend(&mut self, ip: IpAddr, len: usize, now: Time) -> bool {
        let b = self.bucket(ip, now);
        if b.datagrams >= 1.0 && b.bytes >= len as f64 {
            b.datagrams -= 1.0;
            b.bytes -= len as f64;
            true
        } else {
            false
        }
    }

    /// Takes `len` bytes and a datagram from `ip`'s budget, going into debt
    /// (down to minus one burst) if need be; whether it held that much.
    fn charge(&mut self, ip: IpAddr, len: usize, now: Time) -> bool {
        let (rd, rb) = (f64::from(self.limits.datagrams_per_sec), f64::from(self.limits.bytes_per_sec));
        let b = self.bucket(ip, now);
        let had = b.datagrams >= 1.0 && b.bytes >= len as f64;
        b.datagrams = (b.datagrams - 1.0).max(-rd * BURST_SECS);
        b.bytes = (b.bytes - len as f64).max(-rb * BURST_SECS);
        had
    }

    /// Sends a reply (response or error) to a query from `to`, within the
    /// anti-amplification limit (trimming a list of nodes to fit) and `to`'s
    /// IP budget; first, once, a `ping` to validate an unvalidated address.
    fn reply(&mut self, now: Time, to: SocketAddr, t: Vec<u8>, body: PacketBody, send: &mut Datagrams) {
        let id = *self.core.id();
        let p = *self.peer(to);
        if !p.validated && !p.probed && self.allowance(to) >= PROBE_LEN && self.spend(to.ip(), PROBE_LEN as usize, now)
        {
            self.peer(to).probed = true;
            let own = self.rng.next_u32() | 0x8000_0000;
            self.track(to, own, Sent::Probe, now);
            let t = own.to_be_bytes().to_vec();
            let ping = Packet {
                t,
                version: Some(krpc::CLIENT_VERSION.to_vec()),
                read_only: false,
                body: PacketBody::Query { id, query: Query::Ping },
            };
            self.emit(to, krpc::encode(&ping), send);
        }
        let allowance = self.allowance(to);
        let mut p = Packet { t, version: Some(krpc::CLIENT_VERSION.to_vec()), read_only: false, body };
        let mut bytes = krpc::encode(&p);
        if bytes.len() as u64 > allowance {
            let over = bytes.len() as u64 - allowance;
            let trimmed = match &mut p.body {
                PacketBody::Response { response: Response { nodes: Some(nodes), .. }, .. } => {
                    let cut = over.div_ceil(COMPACT_NODE) as usize;
                    // An empty list still costs its key; cut one node more than needed at worst.
                    (cut <= nodes.len()).then(|| nodes.truncate(nodes.len() - cut)).is_some()
                }
                _ => false,
            };
            if trimmed {
                bytes = krpc::encode(&p);
            }
            if !trimmed || bytes.len() as u64 > allowance {
                self.stats.amplification_limited += 1;
                return;
            }
            self.stats.replies_trimmed += 1;
        }
        if !self.spend(to.ip(), bytes.len(), now) {
            self.stats.rate_limited += 1;
            return;
        }
        self.emit(to, bytes, send);
    }

    /// Rotates the token secret every [`SECRET_ROTATION`]; after two periods
    /// or more without a rotation, neither old secret is kept.
    fn rotate(&mut self, now: Time) {
        let idle = now.since(self.secret_since);
        if idle >= SECRET_ROTATION * 2 {
            self.rng.fill_bytes(&mut self.secrets[1]);
        } else if idle >= SECRET_ROTATION {
            self.secrets[1] = self.secrets[0];
        } else {
            return;
        }
        self.rng.fill_bytes(&mut self.secrets[0]);
        self.secret_since = now;
    }

    /// Counts a `put` from `ip` against its quota: an eighth of the store per
    /// hour, so that no single address can fill it. Loopback and private
    /// addresses (a test network, a LAN) are exempt.
    fn within_quota(&mut self, ip: IpAddr, now: Time) -> bool {
        let local = match ip {
            IpAddr::V4(a) => a.is_loopback() || a.is_private() || a.is_link_local(),
            IpAddr::V6(a) => a.is_loopback(),
        };
        if local {
            return true;
        }
        let quota = (self.cfg.max_stored_pairs / 8).max(1);
        if self.puts_by_ip.len() >= MAX_TOKENS && !self.puts_by_ip.contains_key(&ip) {
            let oldest = self.puts_by_ip.iter().min_by_key(|(_, (_, at))| *at).map(|(a, _)| *a);
            if let Some(a) = oldest {
                self.puts_by_ip.remove(&a);
            }
        }
        let entry = self.puts_by_ip.entry(ip).or_insert((0, now));
        if now.since(entry.1) >= QUOTA_WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.0 <= quota
    }

    fn remember_peer(&mut self, addr: SocketAddr, id: NodeId, now: Time) {
        if self.peer_ids.len() >= MAX_TOKENS && !self.peer_ids.contains_key(&addr) {
            let oldest = self.peer_ids.iter().min_by_key(|(_, (_, at))| *at).map(|(a, _)| *a);
            if let Some(a) = oldest {
                self.peer_ids.remove(&a);
            }
        }
        self.peer_ids.insert(addr, (id, now));
    }

    /// The write token for `ip` and `target` under secret `which` (0 current,
    /// 1 previous): bound to the target, as libtorrent's, so that a token
    /// obtained for one item cannot store another.
    fn token(&self, ip: IpAddr, target: &NodeId, which: usize) -> Vec<u8> {
        let mut h = Sha1::new();
        h.update(self.secrets[which]);
        match ip {
            IpAddr::V4(a) => h.update(a.octets()),
            IpAddr::V6(a) => h.update(a.octets()),
        }
        h.update(target.as_bytes());
        h.finalize()[..TOKEN_LEN].to_vec()
    }

    fn token_ok(&self, ip: IpAddr, target: &NodeId, token: &[u8]) -> bool {
        token == self.token(ip, target, 0).as_slice() || token == self.token(ip, target, 1).as_slice()
    }

    /// Sends a query. To an address this node has never heard from, queries
    /// go unlimited (this node chose to contact it: a bootstrap node, a
    /// contact from a lookup); to one that spoke first and is not validated,
    /// within its anti-amplification allowance, or not at all (the core sees
    /// a lost datagram). While a query from an IP is being answered, queries
    /// to that IP (the core's hand-over STOREs to a newcomer) are taken from
    /// its reply budget too, and the budget may go into debt: a query that
    /// makes the core send much (a hand-over of many keys to a newcomer) keeps
    /// its source's further queries out until the budget refills.
    /// Whether it was sent.
    fn send_packet(&mut self, to: SocketAddr, t: Vec<u8>, body: PacketBody, send: &mut Datagrams) -> bool {
        // BEP 43: a read-only node flags every query it sends.
        let read_only = self.cfg.read_only;
        let p = Packet { t, version: Some(krpc::CLIENT_VERSION.to_vec()), read_only, body };
        let bytes = krpc::encode(&p);
        if self.peer(to).received > 0 && bytes.len() as u64 > self.allowance(to) {
            self.stats.amplification_limited += 1;
            return false;
        }
        if let Some((ip, now)) = self.answering
            && ip == to.ip()
            && !self.charge(ip, bytes.len(), now)
        {
            self.stats.rate_limited += 1;
            return false;
        }
        self.emit(to, bytes, send);
        true
    }

    /// Sends `bytes` to `to`, counted.
    fn emit(&mut self, to: SocketAddr, bytes: Vec<u8>, send: &mut Datagrams) {
        self.stats.sent += 1;
        self.peer(to).sent += bytes.len() as u64;
        send.push((to, bytes));
    }

    fn error(&mut self, now: Time, to: SocketAddr, t: Vec<u8>, code: i64, message: &str, send: &mut Datagrams) {
        self.reply(now, to, t, PacketBody::Error { code, message: message.to_string() }, send);
    }

    /// Answers a query from node `id`, flagged read-only or not (BEP 43). A
    /// read-only node answers nothing, not even with an error.
    fn on_query(
        &mut self,
        now: Time,
        from: SocketAddr,
        t: Vec<u8>,
        (id, read_only): (NodeId, bool),
        query: Query,
        send: &mut Datagrams,
    ) {
        if self.cfg.read_only {
            self.stats.unanswered_queries += 1;
            return;
        }
        self.rotate(now);
        // Replies to `get` and `get_peers` carry a write token for their target (BEP 44, BEP 5).
        let token_for = match &query {
            Query::Get { target } => Some(*target),
            Query::GetPeers { info_hash } => Some(*info_hash),
            _ => None,
        };
        let body = match query {
            Query::Ping => Body::Ping,
            Query::FindNode { target } => Body::FindNode { target },
            Query::Get { target } => Body::FindValue { key: target },
            Query::GetPeers { info_hash } => Body::FindNode { target: info_hash },
            Query::Put { token, v, target, ttl } => {
                let immutable = krpc::bencoded_target(&v);
                let key = target.unwrap_or(immutable);
                if self.token_ok(from.ip(), &key, &token) {
                    // Only the holder of this IP could have read the token.
                    self.validate(from);
                } else {
                    self.stats.bad_token += 1;
                    return self.error(now, from, t, ERR_PROTOCOL, "bad token", send);
                }
                if !self.within_quota(from.ip(), now) {
                    self.stats.over_quota += 1;
                    return self.error(now, from, t, krpc::ERR_GENERIC, "store quota exceeded", send);
                }
                // A string-key put may not replace an immutable item (BEP 44: its value is fixed by its key).
                if key != immutable
                    && self.core.store().get(&key, now).is_some_and(|held| krpc::bencoded_target(&held) == key)
                {
                    return self.error(now, from, t, ERR_PROTOCOL, "immutable item", send);
                }
                let expire = self.cfg.expire_after.as_secs().min(u64::from(u32::MAX)) as u32;
                Body::Store { key, value: Arc::from(v), ttl_secs: ttl.map_or(expire, |t| t.min(expire)) }
            }
            Query::Other { .. } => {
                self.stats.unknown_method += 1;
                return self.error(now, from, t, ERR_METHOD_UNKNOWN, "Method Unknown", send);
            }
        };
        let tx = self.next_local_tx;
        self.next_local_tx = self.next_local_tx.wrapping_add(1);
        let mut out = std::mem::take(&mut self.out);
        self.core.handle(now, Input::Datagram { from, msg: Message { tx, sender: id, body, read_only } }, &mut out);
        let token = token_for.map(|target| self.token(from.ip(), &target, 0));
        self.answering = Some((from.ip(), now));
        self.flush(now, &mut out, Some((from, tx, t, token)), send);
        self.answering = None;
        self.out = out;
    }

    fn on_response(&mut self, now: Time, from: SocketAddr, t: &[u8], id: NodeId, r: Response, send: &mut Datagrams) {
        let Some(tx) = tx_of(t) else {
            self.stats.unexpected += 1;
            return;
        };
        let Some((sent, _)) = self.pending.remove(&(from, tx)) else {
            self.stats.unexpected += 1;
            return;
        };
        // It answered a query: the address is its own.
        self.validate(from);
        // A token is kept for the target of the `get` that brought it.
        let target = match &sent {
            Sent::Core(_, target) => *target,
            Sent::TokenFor { store: Message { body: Body::Store { key, .. }, .. } } => Some(*key),
            _ => None,
        };
        if let (Some(token), Some(target)) = (&r.token, target) {
            self.remember_token(from, target, token.clone(), now);
        }
        use crate::kad::RequestKind as K;
        let body = match sent {
            Sent::Probe => return,
            Sent::TokenFor { store } => {
                // The token came: send the waiting put. No token: the peer
                // will not take a put, which the core hears as a refusal now
                // rather than as a timeout later.
                match r.token {
                    Some(token) => self.send_put(from, store, token, now, send),
                    None => {
                        let msg = Message {
                            read_only: false,
                            tx: store.tx,
                            sender: id,
                            body: Body::Stored { accepted: false },
                        };
                        self.feed(now, from, msg, send);
                    }
                }
                return;
            }
            Sent::Core(K::Ping, _) => Body::Pong,
            Sent::Core(K::Store, _) => Body::Stored { accepted: true },
            Sent::Core(K::FindNode, _) => Body::Nodes { contacts: contacts(r.nodes, self.local) },
            Sent::Core(K::FindValue, _) => match r.v {
                Some(v) => Body::Found {
                    value: Arc::from(v),
                    ttl_secs: r.ttl.unwrap_or(self.cfg.expire_after.as_secs().min(u64::from(u32::MAX)) as u32),
                },
                None => Body::Nodes { contacts: contacts(r.nodes, self.local) },
            },
        };
        self.feed(now, from, Message { read_only: false, tx, sender: id, body }, send);
    }

    fn on_error(&mut self, now: Time, from: SocketAddr, t: &[u8], send: &mut Datagrams) {
        let Some(((sent, _), tx)) = tx_of(t).and_then(|tx| self.pending.remove(&(from, tx)).map(|s| (s, tx))) else {
            self.stats.unexpected += 1;
            return;
        };
        self.stats.errors_received += 1;
        self.validate(from);
        // An error is an answer: the peer is up but will not do what was asked.
        // The core hears it at once, as the nearest reply it understands: a
        // refused STORE, or a lookup reply with no contacts. Errors carry no
        // node ID; the one the peer last spoke with is used.
        let Some(&(sender, _)) = self.peer_ids.get(&from) else { return };
        use crate::kad::RequestKind as K;
        let (tx, body) = match sent {
            Sent::Probe => return,
            Sent::TokenFor { store } => (store.tx, Body::Stored { accepted: false }),
            Sent::Core(K::Store, _) => (tx, Body::Stored { accepted: false }),
            Sent::Core(K::FindNode | K::FindValue, _) => (tx, Body::Nodes { contacts: Vec::new() }),
            Sent::Core(K::Ping, _) => (tx, Body::Pong),
        };
        self.feed(now, from, Message { read_only: false, tx, sender, body }, send);
    }

    /// Hands a reply to the core and sends what follows.
    fn feed(&mut self, now: Time, from: SocketAddr, msg: Message<SocketAddr>, send: &mut Datagrams) {
        let mut out = std::mem::take(&mut self.out);
        self.core.handle(now, Input::Datagram { from, msg }, &mut out);
        self.flush(now, &mut out, None, send);
        self.out = out;
    }

    fn remember_token(&mut self, from: SocketAddr, target: NodeId, token: Vec<u8>, now: Time) {
        if self.tokens.len() >= MAX_TOKENS && !self.tokens.contains_key(&(from, target)) {
            // Forget some token (the lowest address's): cheap, and at worst costs a `get`.
            self.tokens.pop_first();
        }
        self.tokens.insert((from, target), (token, now));
    }

    fn fresh_token(&self, to: SocketAddr, target: NodeId, now: Time) -> Option<Vec<u8>> {
        self.tokens.get(&(to, target)).filter(|(_, at)| now.since(*at) < TOKEN_FRESH).map(|(t, _)| t.clone())
    }

    fn track(&mut self, to: SocketAddr, tx: u32, sent: Sent, now: Time) {
        if self.pending.len() >= MAX_PENDING {
            // Forget some query (the lowest address's; a scan for the oldest
            // would cost a flood dearly); its reply will count as unexpected.
            self.pending.pop_first();
        }
        self.pending.insert((to, tx), (sent, now));
    }

    fn send_put(
        &mut self,
        to: SocketAddr,
        store: Message<SocketAddr>,
        token: Vec<u8>,
        now: Time,
        send: &mut Datagrams,
    ) {
        let Body::Store { key, value, ttl_secs } = &store.body else { return };
        // An immutable item's target is the SHA-1 of its bencoding (plain BEP 44);
        // any other target is kadsim's string-key extension.
        let query = Query::Put { token, v: value.to_vec(), target: Some(*key), ttl: Some(*ttl_secs) };
        self.track(to, store.tx, Sent::Core(crate::kad::RequestKind::Store, None), now);
        let id = *self.core.id();
        if !self.send_packet(to, store.tx.to_be_bytes().to_vec(), PacketBody::Query { id, query }, send) {
            self.pending.remove(&(to, store.tx));
        }
    }

    /// Encodes the core's outputs. `reply_to` names the query being answered:
    /// (its source, the local tx given to the core, its KRPC `t`, the token to add).
    fn flush(&mut self, now: Time, out: &mut Outbox<SocketAddr>, mut reply_to: Option<ReplyTo>, send: &mut Datagrams) {
        let id = *self.core.id();
        for o in out.drain(..) {
            match o {
                Output::SetTimer { at, timer } => {
                    let e = self.timers.entry(timer).or_insert(at);
                    *e = (*e).min(at);
                }
                Output::Done(report) => self.reports.push(report),
                // The traffic class counts a simulation's lookup and maintenance
                // traffic (`kad::traffic`); a real node has no use for it.
                Output::Send { to, msg, .. } if msg.body.is_request() => {
                    let kind = msg.body.request_kind().expect("a request has a kind");
                    let t = msg.tx.to_be_bytes().to_vec();
                    let query = match &msg.body {
                        Body::Ping => Query::Ping,
                        Body::FindNode { target } => Query::FindNode { target: *target },
                        Body::FindValue { key } => Query::Get { target: *key },
                        Body::Store { key, .. } => match self.fresh_token(to, *key, now) {
                            Some(token) => {
                                self.send_put(to, msg, token, now, send);
                                continue;
                            }
                            None => {
                                // Ask for a token first, under a transaction of our own.
                                let own = self.rng.next_u32() | 0x8000_0000;
                                let target = *key;
                                self.track(to, own, Sent::TokenFor { store: msg }, now);
                                let q = Query::Get { target };
                                let t = own.to_be_bytes().to_vec();
                                if !self.send_packet(to, t, PacketBody::Query { id, query: q }, send) {
                                    self.pending.remove(&(to, own));
                                }
                                continue;
                            }
                        },
                        _ => continue,
                    };
                    let tx = msg.tx;
                    let target = match &msg.body {
                        Body::FindValue { key } => Some(*key),
                        _ => None,
                    };
                    self.track(to, tx, Sent::Core(kind, target), now);
                    if !self.send_packet(to, t, PacketBody::Query { id, query }, send) {
                        self.pending.remove(&(to, tx));
                    }
                }
                Output::Send { to, msg, .. } => {
                    // A reply: only ever to the query being handled.
                    let Some((_, _, t, token)) = reply_to.take_if(|r| r.0 == to && r.1 == msg.tx) else {
                        continue;
                    };
                    let body = match msg.body {
                        Body::Pong | Body::Stored { accepted: true } => {
                            PacketBody::Response { id, response: Response::default() }
                        }
                        Body::Stored { accepted: false } => {
                            PacketBody::Error { code: krpc::ERR_GENERIC, message: "store full".into() }
                        }
                        Body::Nodes { contacts } => PacketBody::Response {
                            id,
                            response: Response { nodes: Some(compact(&contacts)), token, ..Response::default() },
                        },
                        Body::Found { value, ttl_secs } => PacketBody::Response {
                            id,
                            response: Response {
                                token,
                                v: Some(value.to_vec()),
                                ttl: Some(ttl_secs),
                                ..Response::default()
                            },
                        },
                        _ => continue,
                    };
                    self.reply(now, to, t, body, send);
                }
            }
        }
    }

    /// Forgets queries whose replies can no longer matter.
    fn expire(&mut self, now: Time) {
        let horizon = self.cfg.rpc_timeout * 2;
        self.pending.retain(|_, (_, at)| now.since(*at) < horizon);
    }
}

/// The 4-byte transaction IDs kadsim sends, as the core's u32.
fn tx_of(t: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(t).ok().map(u32::from_be_bytes)
}

/// Compact node info of the IPv4 contacts (BEP 5); IPv6 contacts are left out.
fn compact(contacts: &[Contact<SocketAddr>]) -> Vec<(NodeId, SocketAddrV4)> {
    contacts
        .iter()
        .filter_map(|c| match c.addr {
            SocketAddr::V4(a) => Some((c.id, a)),
            SocketAddr::V6(_) => None,
        })
        .collect()
}

/// The usable contacts of a reply: not port 0, not 0.0.0.0, not this node's own address.
fn contacts(nodes: Option<Vec<(NodeId, SocketAddrV4)>>, local: Option<SocketAddr>) -> Vec<Contact<SocketAddr>> {
    nodes
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, a)| a.port() != 0 && !a.ip().is_unspecified() && local != Some(SocketAddr::V4(*a)))
        .map(|(id, a)| Contact { id, addr: SocketAddr::V4(a) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kad::OpKind;
    use proptest::prelude::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn endpoint(n: u8) -> Endpoint {
        Endpoint::new(NodeId::hash_of(&[n]), Arc::new(Config::default()), u64::from(n), Time::ZERO).unwrap()
    }

    #[test]
    fn a_real_node_refuses_256_bit_ids() {
        // BEP 5's KRPC has 20-byte IDs: no real node runs a 256-bit space.
        let cfg = Config { id_width: crate::kad::IdWidth::Bits256, ..Config::default() };
        let err = Endpoint::new(NodeId::default(), Arc::new(cfg), 1, Time::ZERO).err().expect("refused");
        assert_eq!(err.field, "id_width");
        assert!(err.to_string().contains("KRPC (BEP 5) carries 20-byte IDs"), "{err}");
    }

    /// Two endpoints wired back to back: delivers every datagram at once
    /// (loopback), until none is left.
    struct Pair {
        eps: [Endpoint; 2],
        addrs: [SocketAddr; 2],
        log: Vec<(usize, Vec<u8>)>,
    }

    impl Pair {
        fn new() -> Pair {
            Pair { eps: [endpoint(1), endpoint(2)], addrs: [addr(1001), addr(1002)], log: Vec::new() }
        }

        fn deliver(&mut self, now: Time, mut send: Datagrams, from: usize) {
            let mut queue: Vec<(usize, SocketAddr, Vec<u8>)> = send.drain(..).map(|(to, b)| (from, to, b)).collect();
            while let Some((src, to, bytes)) = queue.pop() {
                let dst = self.addrs.iter().position(|a| *a == to).expect("a known address");
                self.log.push((src, bytes.clone()));
                let mut out = Datagrams::new();
                self.eps[dst].on_datagram(now, self.addrs[src], &bytes, &mut out);
                queue.extend(out.into_iter().map(|(to, b)| (dst, to, b)));
            }
        }

        fn run(&mut self, at: usize, cmd: Command<SocketAddr>) -> OpReport<SocketAddr> {
            let now = Time::from_secs(1);
            let mut send = Datagrams::new();
            let op = self.eps[at].start(now, cmd, &mut send);
            self.deliver(now, send, at);
            let reports = self.eps[at].take_reports();
            reports.into_iter().find(|r| r.id == op).expect("the operation finished")
        }
    }

    #[test]
    fn ping_store_and_get_travel_as_krpc_between_two_endpoints() {
        let mut p = Pair::new();
        let ping = p.run(0, Command::Ping(p.addrs[1]));
        assert!(ping.success);
        assert_eq!(ping.target, *p.eps[1].id());
        // The first datagram is a KRPC ping query of exactly the size the simulator charges (size.rs).
        let first = krpc::decode(&p.log[0].1).unwrap();
        assert!(matches!(first.body, PacketBody::Query { query: Query::Ping, .. }));
        let core_ping = Message::<u32> { tx: 0, sender: NodeId::default(), body: Body::Ping, read_only: false };
        assert_eq!(p.log[0].1.len(), crate::wire::encoded_len(&core_ping));

        // A STORE needs a write token: get first, then put (BEP 44).
        let key = NodeId::hash_of(b"greeting");
        // (Values are held as their bencoding: BEP 44's v may be any bencoded value.)
        let put = p.run(0, Command::Put(key, Arc::from(&b"5:hello"[..])));
        assert!(put.success && put.replicas == 1, "{put:?}");
        assert_eq!(p.eps[1].core().store().len(), 1);
        let queries: Vec<Query> = p
            .log
            .iter()
            .filter(|(src, _)| *src == 0)
            .filter_map(|(_, b)| match krpc::decode(b).unwrap().body {
                PacketBody::Query { query, .. } => Some(query),
                _ => None,
            })
            .collect();
        let get_at = queries.iter().position(|q| matches!(q, Query::Get { target } if *target == key));
        let put_at = queries.iter().position(|q| matches!(q, Query::Put { target: Some(k), .. } if *k == key));
        assert!(get_at.is_some() && put_at.is_some() && get_at < put_at, "{queries:?}");

        // The value comes back from the other side.
        let get = p.run(1, Command::Get(key));
        assert_eq!(get.kind, OpKind::Get);
        assert_eq!(get.value.as_deref(), Some(&b"5:hello"[..]));
        assert_eq!(p.eps[0].stats().dropped(), 0);
        assert_eq!(p.eps[1].stats().dropped(), 0);
    }

    #[test]
    fn an_immutable_item_is_put_as_plain_bep44_with_its_target() {
        let mut p = Pair::new();
        p.run(0, Command::Ping(p.addrs[1]));
        let v = b"12:Hello World!";
        let key = krpc::immutable_target(b"Hello World!");
        assert!(p.run(0, Command::Put(key, Arc::from(&v[..]))).success);
        let put = p.log.iter().find_map(|(_, b)| match krpc::decode(b).unwrap().body {
            PacketBody::Query { query: q @ Query::Put { .. }, .. } => Some(q),
            _ => None,
        });
        assert!(matches!(put, Some(Query::Put { target: Some(t), .. }) if t == key), "{put:?}");
        assert!(p.eps[1].core().store().get(&key, Time::from_secs(2)).is_some());
    }

    #[test]
    fn dictionaries_lists_and_integers_are_stored_and_served_as_bep44_items() {
        let mut p = Pair::new();
        assert!(p.run(0, Command::Ping(p.addrs[1])).success);
        for raw in [&b"d4:name6:kadsim7:versioni1ee"[..], b"l5:helloi42ee", b"i-1234e"] {
            let key = krpc::bencoded_target(raw);
            let put = p.run(0, Command::Put(key, Arc::from(raw)));
            assert!(put.success && put.replicas == 1, "{put:?}");
            let get = p.run(1, Command::Get(key));
            assert_eq!(get.value.as_deref(), Some(raw), "{}", String::from_utf8_lossy(raw));
        }
        assert_eq!(p.eps[1].core().store().len(), 3);
        // On the wire, v is the value itself, not a string holding it.
        assert!(p.log.iter().any(|(_, b)| b.windows(9).any(|w| w == b"1:vi-1234")));
    }

    #[test]
    fn a_ping_claiming_a_known_id_from_another_port_is_counted_and_moves_nothing() {
        let mut p = Pair::new();
        assert!(p.run(0, Command::Ping(p.addrs[1])).success);
        let victim = *p.eps[1].id();
        let q = Packet {
            t: vec![7, 7],
            version: None,
            read_only: false,
            body: PacketBody::Query { id: victim, query: Query::Ping },
        };
        let mut send = Datagrams::new();
        p.eps[0].on_datagram(Time::from_secs(2), addr(6666), &krpc::encode(&q), &mut send);
        let stats = p.eps[0].stats();
        assert_eq!(stats.conflicting_claims, 1, "{stats:?}");
        let held: Vec<_> = p.eps[0].core().routing_table().contacts().filter(|c| c.id == victim).collect();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].addr, p.addrs[1], "the contact keeps its verified address");
    }

    #[test]
    fn a_put_with_a_wrong_token_is_refused_with_error_203() {
        let mut ep = endpoint(3);
        let q = Packet {
            t: vec![1, 2],
            version: None,
            read_only: false,
            body: PacketBody::Query {
                id: NodeId::hash_of(b"x"),
                query: Query::Put { token: vec![9; 4], v: b"v".to_vec(), target: None, ttl: None },
            },
        };
        let mut send = Datagrams::new();
        ep.on_datagram(Time::from_secs(1), addr(9), &krpc::encode(&q), &mut send);
        assert_eq!(answers(&send).len(), 1);
        let reply = answers(&send).remove(0);
        assert_eq!(reply.t, vec![1, 2], "the reply echoes the query's transaction ID");
        assert!(matches!(reply.body, PacketBody::Error { code: ERR_PROTOCOL, .. }));
        assert_eq!(ep.stats().bad_token, 1);
        assert!(ep.core().store().is_empty());
    }

    #[test]
    fn get_peers_is_answered_with_closest_nodes_and_a_token() {
        let mut p = Pair::new();
        assert!(p.run(0, Command::Ping(p.addrs[1])).success);
        let mut send = Datagrams::new();
        let q = query(b"torrent client", b"gp", Query::GetPeers { info_hash: NodeId::hash_of(b"torrent") });
        p.eps[0].on_datagram(Time::from_secs(2), addr(7), &q, &mut send);
        match answers(&send).remove(0).body {
            PacketBody::Response { response, .. } => {
                assert!(response.token.is_some());
                let nodes = response.nodes.expect("closest nodes");
                assert_eq!(nodes.iter().map(|n| n.0).collect::<Vec<_>>(), vec![*p.eps[1].id()]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_methods_get_error_204_and_unsolicited_replies_are_dropped() {
        let mut ep = endpoint(4);
        let mut send = Datagrams::new();
        let q = Packet {
            t: vec![7],
            version: None,
            read_only: false,
            body: PacketBody::Query {
                id: NodeId::hash_of(b"y"),
                query: Query::Other { method: "announce_peer".into() },
            },
        };
        ep.on_datagram(Time::from_secs(1), addr(9), &krpc::encode(&q), &mut send);
        assert!(matches!(answers(&send).remove(0).body, PacketBody::Error { code: ERR_METHOD_UNKNOWN, .. }));
        let r = Packet {
            t: vec![0, 0, 0, 5],
            version: None,
            read_only: false,
            body: PacketBody::Response { id: NodeId::hash_of(b"y"), response: Response::default() },
        };
        send.clear();
        ep.on_datagram(Time::from_secs(1), addr(9), &krpc::encode(&r), &mut send);
        assert!(send.is_empty());
        assert_eq!(ep.stats().unexpected, 1);
        ep.on_datagram(Time::from_secs(1), addr(9), &[b'x'; 1600], &mut send);
        assert_eq!(ep.stats().oversized, 1);
        assert_eq!(ep.stats().unknown_method, 1);
    }

    /// The replies (responses and errors) among datagrams sent, without the
    /// validation pings a first contact may draw.
    fn answers(send: &Datagrams) -> Vec<Packet> {
        send.iter()
            .map(|(_, b)| krpc::decode(b).unwrap())
            .filter(|p| !matches!(p.body, PacketBody::Query { .. }))
            .collect()
    }

    fn query(id: &[u8], t: &[u8], query: Query) -> Vec<u8> {
        krpc::encode(&Packet {
            t: t.to_vec(),
            version: None,
            read_only: false,
            body: PacketBody::Query { id: NodeId::hash_of(id), query },
        })
    }

    /// The token `ep` hands to `from` in its reply to a `get`.
    fn token_from(ep: &mut Endpoint, now: Time, from: SocketAddr, target: NodeId) -> Vec<u8> {
        let mut send = Datagrams::new();
        ep.on_datagram(now, from, &query(b"peer", b"g", Query::Get { target }), &mut send);
        match answers(&send).remove(0).body {
            PacketBody::Response { response, .. } => response.token.expect("a get reply carries a token"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tokens_expire_after_two_rotations_even_when_the_node_was_idle() {
        let mut ep = endpoint(6);
        let peer = addr(9);
        let t0 = Time::from_secs(10);
        let token = token_from(&mut ep, t0, peer, krpc::immutable_target(b"x"));
        let put = |token: &[u8]| {
            query(b"peer", b"p", Query::Put { token: token.to_vec(), v: b"x".to_vec(), target: None, ttl: None })
        };
        // Within one rotation period, and within the next, the token is good (BEP 5: up to 10 minutes).
        let mut send = Datagrams::new();
        ep.on_datagram(t0.plus(Duration::from_secs(400)), peer, &put(&token), &mut send);
        assert_eq!(ep.stats().bad_token, 0);
        // A token from another IP is not.
        ep.on_datagram(
            t0.plus(Duration::from_secs(401)),
            SocketAddr::from(([10, 0, 0, 1], 9)),
            &put(&token),
            &mut send,
        );
        assert_eq!(ep.stats().bad_token, 1);
        // After 25 idle minutes, the old token is refused.
        ep.on_datagram(t0.plus(Duration::from_secs(1900)), peer, &put(&token), &mut send);
        assert_eq!(ep.stats().bad_token, 2);
    }

    #[test]
    fn a_token_for_one_target_does_not_store_another() {
        let mut ep = endpoint(12);
        let peer = addr(9);
        let now = Time::from_secs(10);
        let (first, second) = (b"first item".to_vec(), b"second item".to_vec());
        let token = token_from(&mut ep, now, peer, krpc::immutable_target(&first));
        let mut send = Datagrams::new();
        let put = |v: &[u8], t: &[u8]| {
            query(
                b"peer",
                t,
                Query::Put { token: token.clone(), v: v.to_vec(), target: Some(krpc::immutable_target(v)), ttl: None },
            )
        };
        ep.on_datagram(now, peer, &put(&second, b"2"), &mut send);
        assert!(
            matches!(answers(&send).remove(0).body, PacketBody::Error { code: ERR_PROTOCOL, .. }),
            "refused with 203"
        );
        assert_eq!((ep.core().store().len(), ep.stats().bad_token), (0, 1));
        ep.on_datagram(now, peer, &put(&first, b"1"), &mut send);
        assert_eq!(ep.core().store().len(), 1, "the token stores the item it was asked for");
    }

    /// A client of a node that binds tokens to targets (as libtorrent does):
    /// each STORE is preceded by a `get` for its own key, and the `put`
    /// carries the token that `get` brought.
    #[test]
    fn each_put_carries_a_token_got_for_its_own_target() {
        let (mut a, b) = (endpoint(13), addr(2001));
        let now = Time::from_secs(1);
        let b_id = NodeId::hash_of(b"libtorrent");
        let mut puts = Vec::new();
        for v in [&b"one"[..], b"two"] {
            let key = krpc::immutable_target(v);
            let mut send = Datagrams::new();
            let store = Body::Store { key, value: Arc::from(v), ttl_secs: 60 };
            let op = a.start(now, Command::Request { to: b, body: store }, &mut send);
            // Play b: answer a get with a token naming its target, a put with an ack.
            while let Some((_, bytes)) = send.pop() {
                let p = krpc::decode(&bytes).unwrap();
                let PacketBody::Query { query, .. } = p.body else { continue };
                let response = match query {
                    Query::Get { target } => Response { token: Some(target.0[..4].to_vec()), ..Response::default() },
                    Query::Put { token, target, .. } => {
                        puts.push((target, token));
                        Response::default()
                    }
                    other => panic!("{other:?}"),
                };
                let r = Packet {
                    t: p.t,
                    version: None,
                    read_only: false,
                    body: PacketBody::Response { id: b_id, response },
                };
                a.on_datagram(now, b, &krpc::encode(&r), &mut send);
            }
            let report = a.take_reports().into_iter().find(|r| r.id == op).expect("the STORE ended");
            assert!(matches!(report.reply, Some(Body::Stored { accepted: true })), "{report:?}");
        }
        assert_eq!(puts.len(), 2);
        for (target, token) in puts {
            assert_eq!(Some(token), target.map(|t| t.0[..4].to_vec()), "the token of the put's own target");
        }
    }

    #[test]
    fn one_public_address_may_fill_an_eighth_of_the_store_per_hour() {
        let cfg = Config { max_stored_pairs: 80, ..Config::default() };
        let mut ep = Endpoint::new(NodeId::hash_of(b"q"), Arc::new(cfg), 1, Time::ZERO).unwrap();
        let (public, other) = (SocketAddr::from(([203, 0, 113, 5], 6881)), SocketAddr::from(([198, 51, 100, 7], 6881)));
        let mut send = Datagrams::new();
        let mut put_all = |ep: &mut Endpoint, from: SocketAddr, now: Time, n: usize| {
            for i in 0..n {
                let v = format!("{from} {now:?} {i}").into_bytes();
                let token = token_from(ep, now, from, krpc::immutable_target(&v));
                ep.on_datagram(
                    now,
                    from,
                    &query(b"peer", b"p", Query::Put { token, v, target: None, ttl: None }),
                    &mut send,
                );
            }
        };
        put_all(&mut ep, public, Time::from_secs(1), 15);
        assert_eq!((ep.core().store().len(), ep.stats().over_quota), (10, 5), "80 / 8 = 10 per hour");
        put_all(&mut ep, other, Time::from_secs(2), 3);
        assert_eq!(ep.core().store().len(), 13, "another address has its own quota");
        put_all(&mut ep, public, Time::from_secs(3700), 4);
        assert_eq!(ep.core().store().len(), 17, "a new hour, a new quota");
        put_all(&mut ep, addr(9), Time::from_secs(3701), 30);
        assert_eq!(ep.core().store().len(), 47, "loopback is exempt");
    }

    #[test]
    fn a_string_key_put_cannot_replace_an_immutable_item() {
        let mut ep = endpoint(7);
        let peer = addr(9);
        let now = Time::from_secs(10);
        let v = b"Hello World!".to_vec();
        let target = krpc::immutable_target(&v);
        let token = token_from(&mut ep, now, peer, target);
        let mut send = Datagrams::new();
        let honest = Query::Put { token: token.clone(), v: v.clone(), target: Some(target), ttl: None };
        ep.on_datagram(now, peer, &query(b"peer", b"1", honest), &mut send);
        let forged = Query::Put { token, v: b"forged".to_vec(), target: Some(target), ttl: None };
        ep.on_datagram(now, peer, &query(b"peer", b"2", forged), &mut send);
        assert!(matches!(answers(&send).remove(1).body, PacketBody::Error { code: ERR_PROTOCOL, .. }));
        assert_eq!(ep.core().store().get(&target, now).map(|v| v.to_vec()), Some(krpc::bencode_bytes(&v)));
    }

    #[test]
    fn an_error_reply_ends_a_store_at_once_instead_of_by_timeout() {
        let (mut a, b) = (endpoint(8), addr(2000));
        let now = Time::from_secs(1);
        let mut send = Datagrams::new();
        let op = a.start(now, Command::Request { to: b, body: Body::Ping }, &mut send);
        // b answers the ping, so a knows its ID.
        let t = krpc::decode(&send[0].1).unwrap().t;
        let pong = Packet {
            t,
            version: None,
            read_only: false,
            body: PacketBody::Response { id: NodeId::hash_of(b"b"), response: Response::default() },
        };
        let mut out = Datagrams::new();
        a.on_datagram(now, b, &krpc::encode(&pong), &mut out);
        assert!(a.take_reports().iter().any(|r| r.id == op && r.success));
        // A STORE to b: a asks for a token first; b answers with an error.
        let store = Body::Store { key: NodeId::hash_of(b"k"), value: Arc::from(&b"v"[..]), ttl_secs: 60 };
        send.clear();
        let op = a.start(now, Command::Request { to: b, body: store }, &mut send);
        let get = krpc::decode(&send[0].1).unwrap();
        assert!(matches!(get.body, PacketBody::Query { query: Query::Get { .. }, .. }));
        let refusal = Packet {
            t: get.t,
            version: None,
            read_only: false,
            body: PacketBody::Error { code: 201, message: "no".into() },
        };
        a.on_datagram(now, b, &krpc::encode(&refusal), &mut out);
        let report = a.take_reports().into_iter().find(|r| r.id == op).expect("the request ended at once");
        assert!(matches!(report.reply, Some(Body::Stored { accepted: false })), "{report:?}");
        assert_eq!(report.finished, now);
    }

    #[test]
    fn a_query_with_a_value_too_big_gets_error_205() {
        let mut ep = endpoint(9);
        let mut send = Datagrams::new();
        let mut bytes =
            query(b"peer", b"zz", Query::Put { token: vec![1; 4], v: vec![b'x'; 1000], target: None, ttl: None });
        // Grow the value from 1000 to 1001 bytes: "1000:xxx…" becomes "1001:xxx…x".
        let at = bytes.windows(5).position(|w| w == b"1000:").unwrap();
        bytes[at + 3] = b'1';
        bytes.insert(at + 5, b'x');
        ep.on_datagram(Time::from_secs(1), addr(9), &bytes, &mut send);
        let reply = answers(&send).remove(0);
        assert_eq!(reply.t, b"zz".to_vec());
        assert!(matches!(reply.body, PacketBody::Error { code: krpc::ERR_VALUE_TOO_BIG, .. }));
        assert_eq!(ep.stats().malformed, 1);
    }

    #[test]
    fn one_address_cannot_speak_for_several_node_ids() {
        let mut p = Pair::new();
        assert!(p.run(0, Command::Ping(p.addrs[1])).success);
        // A query from node 1's address under another ID is dropped.
        let mut send = Datagrams::new();
        p.eps[0].on_datagram(Time::from_secs(2), p.addrs[1], &query(b"sybil", b"s", Query::Ping), &mut send);
        assert!(send.is_empty());
        assert_eq!(p.eps[0].stats().id_conflicts, 1);
        assert_eq!(p.eps[0].core().routing_table().len(), 1);
    }

    /// An endpoint that knows 20 nodes and holds a 1000-byte value and a short one.
    fn well_connected() -> (Endpoint, NodeId, NodeId) {
        let mut ep = endpoint(10);
        for i in 0..20u16 {
            ep.add_contact(NodeId::hash_of(&i.to_be_bytes()), SocketAddr::from(([10, 0, 0, 1], 7000 + i)));
        }
        let (big, small) = (NodeId::hash_of(b"big"), NodeId::hash_of(b"small"));
        let mut send = Datagrams::new();
        let peer = addr(40000);
        for (key, v) in [(big, vec![b'x'; 1000]), (small, b"hi".to_vec())] {
            let token = token_from(&mut ep, Time::from_secs(1), peer, key);
            let put = Query::Put { token, v, target: Some(key), ttl: None };
            ep.on_datagram(Time::from_secs(1), peer, &query(b"peer", b"p", put), &mut send);
        }
        assert_eq!(ep.core().store().len(), 2);
        (ep, big, small)
    }

    /// Everything `ep` sends to `from` in the 60 s after one datagram from it.
    fn sent_after(ep: &mut Endpoint, from: SocketAddr, datagram: &[u8]) -> usize {
        let mut send = Datagrams::new();
        let t0 = Time::from_secs(10);
        ep.on_datagram(t0, from, datagram, &mut send);
        for s in 1..=60 {
            ep.on_timer(t0.plus(Duration::from_secs(s)), &mut send);
        }
        send.iter().filter(|(to, _)| *to == from).map(|(_, b)| b.len()).sum()
    }

    #[test]
    fn no_single_datagram_makes_the_node_send_more_than_4x_its_size() {
        let target = NodeId::hash_of(b"anything");
        let (_, big, small) = well_connected();
        let queries = [
            ("ping", Query::Ping),
            ("find_node", Query::FindNode { target }),
            ("get (nodes)", Query::Get { target }),
            ("get (1000-byte value)", Query::Get { target: big }),
            ("get (short value)", Query::Get { target: small }),
            ("get_peers", Query::GetPeers { info_hash: target }),
            ("put (bad token)", Query::Put { token: vec![0; 4], v: b"v".to_vec(), target: None, ttl: None }),
            ("unknown method", Query::Other { method: "vote".into() }),
        ];
        for (i, (what, q)) in queries.into_iter().enumerate() {
            let (mut ep, _, _) = well_connected();
            let from = SocketAddr::from(([192, 0, 2, 1], 1000 + i as u16));
            let bytes = query(b"stranger", b"t", q);
            let sent = sent_after(&mut ep, from, &bytes);
            eprintln!("{what}: {} bytes in, {sent} bytes out ({:.2}x)", bytes.len(), sent as f64 / bytes.len() as f64);
            assert!(sent > 0, "{what}: answered");
            assert!(sent <= 4 * bytes.len(), "{what}: {sent} bytes sent for {} received", bytes.len());
        }
        // A malformed query still gets its error, within the limit.
        let (mut ep, _, _) = well_connected();
        let bad = b"d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe";
        let sent = sent_after(&mut ep, SocketAddr::from(([192, 0, 2, 2], 1)), bad);
        assert!(sent <= 4 * bad.len(), "{sent} bytes for {}", bad.len());
    }

    #[test]
    fn a_validated_address_gets_whole_replies() {
        let (mut ep, big, _) = well_connected();
        let from = SocketAddr::from(([192, 0, 2, 1], 1000));
        let mut send = Datagrams::new();
        let now = Time::from_secs(10);
        let trimmed = ep.stats().replies_trimmed;
        ep.on_datagram(now, from, &query(b"stranger", b"t", Query::FindNode { target: big }), &mut send);
        // First contact: a validation ping, and a reply with fewer than k contacts.
        let probe = krpc::decode(&send[0].1).unwrap();
        assert!(matches!(probe.body, PacketBody::Query { query: Query::Ping, .. }), "{probe:?}");
        let nodes = |b: &[u8]| match krpc::decode(b).unwrap().body {
            PacketBody::Response { response, .. } => response.nodes.map_or(0, |n| n.len()),
            other => panic!("{other:?}"),
        };
        assert!(nodes(&send[1].1) < 20, "trimmed to fit");
        assert_eq!(ep.stats().replies_trimmed, trimmed + 1);
        // The stranger answers the ping: from now on it gets whole replies.
        let pong = Packet {
            t: probe.t,
            version: None,
            read_only: false,
            body: PacketBody::Response { id: NodeId::hash_of(b"stranger"), response: Response::default() },
        };
        ep.on_datagram(now, from, &krpc::encode(&pong), &mut send);
        send.clear();
        ep.on_datagram(now, from, &query(b"stranger", b"u", Query::FindNode { target: big }), &mut send);
        assert_eq!(nodes(&send[0].1), 20);
        send.clear();
        ep.on_datagram(now, from, &query(b"stranger", b"v", Query::Get { target: big }), &mut send);
        assert!(matches!(
            krpc::decode(&send[0].1).unwrap().body,
            PacketBody::Response { response: Response { v: Some(_), .. }, .. }
        ));
    }

    #[test]
    fn one_ip_over_its_budget_is_dropped_unread_and_others_are_answered() {
        let mut ep = endpoint(11);
        ep.set_limits(ReplyLimits { datagrams_per_sec: 10, bytes_per_sec: 100_000 });
        let now = Time::from_secs(1);
        let mut send = Datagrams::new();
        // 1000 pings from 100 ports of one IP in one instant: a 2-second burst (20) is answered.
        for i in 0..1000u16 {
            let from = SocketAddr::from(([192, 0, 2, 9], 2000 + i % 100));
            ep.on_datagram(now, from, &query(b"flood", b"f", Query::Ping), &mut send);
        }
        let answered =
            send.iter().filter(|(_, b)| matches!(krpc::decode(b).unwrap().body, PacketBody::Response { .. })).count();
        assert!(answered <= 20, "{answered} pongs");
        assert!(ep.stats().rate_limited >= 980 - 20, "{:?}", ep.stats());
        // Another IP is answered at once; the flooder again after a second.
        send.clear();
        ep.on_datagram(now, SocketAddr::from(([192, 0, 2, 10], 1)), &query(b"other", b"o", Query::Ping), &mut send);
        assert!(
            send.iter()
                .any(|(to, b)| to.port() == 1 && matches!(krpc::decode(b).unwrap().body, PacketBody::Response { .. }))
        );
        send.clear();
        let later = now.plus(Duration::from_secs(1));
        ep.on_datagram(later, SocketAddr::from(([192, 0, 2, 9], 2000)), &query(b"flood", b"g", Query::Ping), &mut send);
        assert!(!send.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Any bytes at all: the endpoint never panics, never answers garbage,
        /// and counts every datagram it could not use.
        #[test]
        fn random_datagrams_are_dropped_and_counted(data in proptest::collection::vec(any::<u8>(), 0..1700)) {
            let mut ep = endpoint(5);
            let mut send = Datagrams::new();
            ep.on_datagram(Time::from_secs(1), addr(9), &data, &mut send);
            let s = ep.stats().clone();
            prop_assert_eq!(s.received, 1);
            if krpc::decode(&data).is_err() {
                prop_assert_eq!(s.dropped(), 1);
                // At most an error reply, and only to something shaped like a query.
                prop_assert!(answers(&send).len() <= usize::from(krpc::query_tx(&data).is_some()));
            }
        }
    }
}
