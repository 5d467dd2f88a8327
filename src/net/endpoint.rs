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
//!
//! The tokens are kept in `tokens.rs`, the amplification limit, reply budgets
//! and put quotas in `limits.rs`; this file maps KRPC to the core and back.

mod limits;
mod tokens;

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

    fn remember_peer(&mut self, addr: SocketAddr, id: NodeId, now: Time) {
        if self.peer_ids.len() >= MAX_TOKENS && !self.peer_ids.contains_key(&addr) {
            let oldest = self.peer_ids.iter().min_by_key(|(_, (_, at))| *at).map(|(a, _)| *a);
            if let Some(a) = oldest {
                self.peer_ids.remove(&a);
            }
        }
        self.peer_ids.insert(addr, (id, now));
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
#[path = "endpoint_tests.rs"]
mod tests;
