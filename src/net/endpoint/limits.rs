//! What the endpoint may send and store for whom: anti-amplification (as
//! QUIC's, RFC 9000 §8.1: to an address not yet validated, at most
//! [`AMPLIFICATION`](super::AMPLIFICATION) times the bytes received from it,
//! a reply listing nodes trimmed to fit, one validating `ping` on first
//! contact), the reply budget per source IP ([`ReplyLimits`](super::ReplyLimits):
//! token buckets of datagrams and bytes per second) and the quota of BEP 44
//! `put`s per address (an eighth of the store per hour).

use super::*;

impl Endpoint {
    /// The byte counts of `addr`, created empty on first sight.
    pub(super) fn peer(&mut self, addr: SocketAddr) -> &mut Peer {
        if self.peers.len() >= MAX_PEERS && !self.peers.contains_key(&addr) {
            // Forget some address (the lowest; cheap, and an attacker cannot
            // choose it for a victim's); it starts again unvalidated.
            if let Some(&a) = self.peers.keys().next() {
                self.peers.remove(&a);
            }
        }
        self.peers.entry(addr).or_default()
    }

    pub(super) fn validate(&mut self, addr: SocketAddr) {
        self.peer(addr).validated = true;
    }

    /// How many more bytes may be sent to `addr` (anti-amplification).
    pub(super) fn allowance(&mut self, addr: SocketAddr) -> u64 {
        let p = self.peer(addr);
        if p.validated { u64::MAX } else { (p.received * AMPLIFICATION).saturating_sub(p.sent) }
    }

    /// The reply budget of `ip`, refilled up to `now`.
    pub(super) fn bucket(&mut self, ip: IpAddr, now: Time) -> &mut Bucket {
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
    pub(super) fn budget_left(&mut self, ip: IpAddr, now: Time) -> bool {
        let b = self.bucket(ip, now);
        b.datagrams >= 1.0 && b.bytes >= 1.0
    }

    /// Takes a reply of `len` bytes from `ip`'s budget, if it holds that much.
    pub(super) fn spend(&mut self, ip: IpAddr, len: usize, now: Time) -> bool {
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
    pub(super) fn charge(&mut self, ip: IpAddr, len: usize, now: Time) -> bool {
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
    pub(super) fn reply(&mut self, now: Time, to: SocketAddr, t: Vec<u8>, body: PacketBody, send: &mut Datagrams) {
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

    /// Counts a `put` from `ip` against its quota: an eighth of the store per
    /// hour, so that no single address can fill it. Loopback and private
    /// addresses (a test network, a LAN) are exempt.
    pub(super) fn within_quota(&mut self, ip: IpAddr, now: Time) -> bool {
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
}
