//! BEP 5's routing table of good nodes taken literally ("Every node
//! maintains a routing table of known good nodes"; "A good node is a node
//! has responded to one of our queries"): with the answered-only rule on, a
//! node heard from only in its own requests enters no bucket, nor any
//! replacement cache, until it has answered a request of this node.
//!
//! libtorrent does the same (`routing_table::add_node_impl`: a node that has
//! not been pinged goes to the replacement bucket, and only pinged ones are
//! moved into the live bucket; `next_refresh` pings such entries of buckets
//! that are not full), and the `mainline` crate adds only nodes that answered
//! its requests (`Rpc::handle_request`). Here a newcomer for a bucket with
//! room (or a stale contact, or that may split) is to be PINGed at once by
//! the node, and its answer admits it; a newcomer for a full bucket is
//! ignored, as libtorrent's unpinged replacements of a full bucket wait
//! forever. The rule keeps out of tables the nodes that send requests but
//! cannot be reached (behind a NAT or firewall, `docs/reachability.md`),
//! which the paper's §2.2 ("when a Kademlia node receives any message ...
//! it updates the appropriate k-bucket for the sender's node ID") lets in.

use super::{Address, NodeId, RoutingTable, Seen};

impl<A: Address> RoutingTable<A> {
    /// Turns the answered-only rule on or off (a bare table: off, the
    /// paper's §2.2).
    pub fn with_answered_only(mut self, on: bool) -> Self {
        self.answered_only = on;
        self
    }

    /// Whether the answered-only rule is on.
    pub fn answered_only(&self) -> bool {
        self.answered_only
    }

    /// Under the rule, the outcome for `id` heard from in a request: `None`
    /// when the table already holds it (in a bucket or a replacement cache,
    /// where only contacts that answered or were given are): then it is
    /// heard from as usual. Else [`Seen::Unanswered`], asking for a PING when
    /// its bucket could take it.
    pub(super) fn unanswered(&mut self, id: &NodeId) -> Option<Seen<A>> {
        let bi = self.bucket_of(id);
        let m = self.metas[bi];
        if self.find(m.start as usize, m.run_end(), id).is_some() {
            return None;
        }
        let stale = !self.failing.is_empty() && (m.start as usize..m.end()).any(|i| self.is_stale_slot(i));
        let ping = m.len < self.k || stale || self.may_split(bi, id);
        Some(Seen::Unanswered { ping })
    }
}
