//! The NAT in front of an unreachable node (`network.unreachable`,
//! `docs/reachability.md`): a pinhole per address the node has sent to,
//! open for `network.nat_timeout` after the last datagram sent there, and
//! nothing else gets in. This is RFC 4787's "address-dependent filtering"
//! (§5: a datagram from an external address is let through only if the
//! internal endpoint has sent to that address before) with its mapping
//! refreshed by outbound traffic only (REQ-6), the behaviour that keeps a
//! node behind a home gateway from answering unsolicited queries.
//!
//! The table lives with the node's slot in its shard: it is opened when the
//! node sends and read when a datagram arrives to it, both on the node's own
//! shard, so the parallel engine shares nothing. It keeps one entry per
//! address with a pinhole that is or was open, reusing expired entries
//! before it grows, so it holds at most as many entries as the node had
//! pinholes open at once, and allocates only when that peak grows.

/// The pinholes of one node's NAT: `(peer node index, expiry in µs)`.
#[derive(Clone, Debug, Default)]
pub struct Pinholes {
    holes: Vec<(u32, u64)>,
}

impl Pinholes {
    /// An empty table: nothing gets in.
    pub fn new() -> Self {
        Self::default()
    }

    /// The node sent a datagram to `peer` at `now`: the pinhole to it is open
    /// until `now + timeout` (REQ-6: outbound refreshes the mapping).
    #[inline]
    pub fn sent(&mut self, peer: u32, now: u64, timeout: u64) {
        let until = now.saturating_add(timeout);
        let mut free = None;
        for (i, h) in self.holes.iter_mut().enumerate() {
            if h.0 == peer {
                h.1 = until;
                return;
            }
            if free.is_none() && h.1 <= now {
                free = Some(i);
            }
        }
        match free {
            Some(i) => self.holes[i] = (peer, until),
            None => self.holes.push((peer, until)),
        }
    }

    /// Whether a datagram from `peer` arriving at `now` gets through: the
    /// node sent to it less than `timeout` ago.
    #[inline]
    pub fn admits(&self, peer: u32, now: u64) -> bool {
        self.holes.iter().any(|&(p, until)| p == peer && now < until)
    }

    /// Entries held (open pinholes and expired ones awaiting reuse).
    pub fn len(&self) -> usize {
        self.holes.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.holes.is_empty()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.holes.capacity() * std::mem::size_of::<(u32, u64)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 60_000_000;

    #[test]
    fn only_addresses_sent_to_within_the_timeout_get_in() {
        let mut p = Pinholes::new();
        assert!(!p.admits(7, 0), "nothing unsolicited");
        p.sent(7, 1_000, T);
        assert!(p.admits(7, 1_000 + T - 1));
        assert!(!p.admits(7, 1_000 + T), "closed at the timeout");
        assert!(!p.admits(8, 2_000), "per address");
        // Sending again refreshes the pinhole.
        p.sent(7, 50_000_000, T);
        assert!(p.admits(7, 1_000 + T));
        assert!(p.admits(7, 50_000_000 + T - 1));
        assert!(!p.admits(7, 50_000_000 + T));
    }

    #[test]
    fn expired_entries_are_reused_so_the_table_stays_at_its_peak() {
        let mut p = Pinholes::new();
        for peer in 0..10 {
            p.sent(peer, 0, T);
        }
        assert_eq!(p.len(), 10);
        // Long after: ten new peers take the ten expired entries.
        for peer in 10..20 {
            p.sent(peer, 2 * T, T);
        }
        assert_eq!(p.len(), 10);
        assert!((10..20).all(|q| p.admits(q, 2 * T + 1)));
        assert!((0..10).all(|q| !p.admits(q, 2 * T + 1)));
        let cap = p.heap_bytes();
        for round in 3..50 {
            for peer in 0..10 {
                p.sent(100 * round + peer, u64::from(round) * 2 * T, T);
            }
        }
        assert_eq!((p.len(), p.heap_bytes()), (10, cap), "no growth in steady state");
    }
}
