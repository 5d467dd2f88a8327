//! BEP 5's routing table of known good nodes ("Every node maintains a
//! routing table of known good nodes"; "A good node is a node has responded
//! to one of our queries"; "Nodes that we know are good are given priority
//! over nodes with unknown status"), as far as the answers a node gets can
//! tell: with the answered-only rule on,
//!
//! - a contact first heard from in a request of its own enters the table of
//!   unknown status, and is handed to other nodes (in the replies to their
//!   FIND_NODE and FIND_VALUE) only once it has answered a request of this
//!   node; this node's own lookups may still try it, and its answer makes
//!   it known good;
//! - a contact whose last request went unanswered is neither handed out
//!   nor used to start lookups until it answers again (libtorrent's
//!   `routing_table::find_node` leaves out entries that are not
//!   `confirmed()`, those whose last query timed out);
//! - a request from a contact clears none of its failures: only an answer
//!   shows that it can be reached (BEP 5: "Nodes become bad when they fail
//!   to respond to multiple queries in a row").
//!
//! The `mainline` crate goes further and adds only nodes that answered its
//! requests (`Rpc::handle_request`); libtorrent parks a node heard from in a
//! query in a replacement bucket until a ping confirms it
//! (`routing_table::add_node_impl`). Both keep out of what they hand to
//! others the nodes that send requests but cannot be reached, behind a NAT
//! or firewall (`docs/reachability.md`), which the paper's §2.2 ("when a
//! Kademlia node receives any message ... it updates the appropriate
//! k-bucket for the sender's node ID") lets in and hands out like any other.

use super::{Address, NodeId, RoutingTable, Time, secs_of};

impl<A: Address> RoutingTable<A> {
    /// Turns the answered-only rule on or off (a bare table: off, the
    /// paper's §2.2). Contacts already held count as having answered at
    /// `now` (a table given whole, as the oracle bootstrap's, is one of
    /// known good nodes).
    pub fn with_answered_only(mut self, on: bool, now: Time) -> Self {
        self.answered_only = on;
        if self.stamped() && self.ages.len() != self.slots.len() {
            self.ages = vec![secs_of(now).saturating_add(1); self.slots.len()];
        }
        self
    }

    /// Whether the answered-only rule is on.
    pub fn answered_only(&self) -> bool {
        self.answered_only
    }

    /// Whether the contact in slot `i` has ever answered this node (its
    /// stamp is set; always true without stamps).
    #[inline]
    pub(super) fn has_answered(&self, i: usize) -> bool {
        self.ages.get(i).is_none_or(|&a| a != 0)
    }

    /// Whether `id` is in a bucket and has ever answered this node (`None`
    /// when it is not in a bucket). Without the answered-only or the
    /// good/questionable rule, every contact counts as having answered.
    pub fn answered(&self, id: &NodeId) -> Option<bool> {
        let m = &self.metas[self.bucket_of(id)];
        self.find(m.start as usize, m.end(), id).map(|i| self.has_answered(i))
    }

    /// Whether `id` is in a bucket at `addr`.
    pub fn contains_at(&self, id: &NodeId, addr: A) -> bool {
        let m = &self.metas[self.bucket_of(id)];
        self.find(m.start as usize, m.end(), id).is_some_and(|i| A::addr(&self.slots[i]) == addr)
    }

    /// [`closest`](Self::closest) for a reply to another node: under the
    /// answered-only rule, only contacts that have answered this node.
    pub fn closest_for_reply(&self, target: &NodeId, n: usize, exclude: Option<&NodeId>, out: &mut Vec<A::Slot>) {
        self.closest_filtered(target, n, exclude, self.answered_only, out);
    }
}
