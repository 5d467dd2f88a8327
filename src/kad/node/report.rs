//! What a node tells its driver: finished operations and message counters.

use crate::kad::address::Address;
use crate::kad::id::NodeId;
pub use crate::kad::lookup::NearestAnswer;
use crate::kad::message::{Body, Contacts, Value};
use crate::kad::op::{OpId, OpKind};
use crate::kad::time::Time;
use crate::kad::trace::Rpc;
use std::time::Duration;

/// The record of a finished operation (DESIGN.md §4).
#[derive(Clone, Debug)]
pub struct OpReport<A: Address> {
    /// The operation.
    pub id: OpId,
    /// Its kind.
    pub kind: OpKind,
    /// The ID or key it was about (the pinged node's ID, if known, for a ping).
    pub target: NodeId,
    /// When it started.
    pub started: Time,
    /// When it finished.
    pub finished: Time,
    /// Discovery depth of the result: for a node lookup, of the closest node in
    /// the result; for a get, of the node that returned the value (0 when the
    /// origin held it); for a put, of its node lookup. `None` when there is no result.
    pub hops: Option<u8>,
    /// The nearest node that answered the operation's lookup (the first of
    /// `closest`): when its answer came and its discovery depth. A driver
    /// that knows the true closest node tells from it how long the lookup
    /// took to reach that node (README "Metric definitions",
    /// `closest_found_us`). For a put, of its node lookup; `None` for an
    /// operation without a lookup or whose lookup got no answer.
    pub nearest: Option<NearestAnswer>,
    /// RPCs the operation sent.
    pub queried: u32,
    /// Of those, how many were answered.
    pub responses: u32,
    /// Of those, how many timed out.
    pub timeouts: u32,
    /// The core's verdict: a node lookup converged by the paper's rule with a
    /// non-empty result; a get returned the value; a put had at least one STORE
    /// acknowledged; a ping or request was answered. A simulator judges node
    /// lookups against its global view instead (DESIGN.md §4).
    pub success: bool,
    /// STOREs acknowledged (puts and republishes).
    pub replicas: u32,
    /// Whether the operation was cut off by its overall deadline.
    pub deadline_hit: bool,
    /// The k closest nodes that answered, nearest first (lookups).
    pub closest: Contacts<A>,
    /// The value found (gets).
    pub value: Option<Value>,
    /// The reply received (pings and requests).
    pub reply: Option<Body<A>>,
    /// A traced operation's RPCs, in the order sent; empty unless traced
    /// ([`crate::kad::trace`]).
    pub rpcs: Vec<Rpc<A>>,
}

impl<A: Address> OpReport<A> {
    /// Time from start to finish.
    pub fn latency(&self) -> Duration {
        self.finished.since(self.started)
    }
}

/// Message counters of one node. Every dropped datagram is counted under its reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages sent.
    pub sent: u64,
    /// Messages received (including dropped ones).
    pub received: u64,
    /// Replies whose transaction ID matches no outstanding request (also late replies).
    pub dropped_unknown_tx: u64,
    /// Replies from an address or ID other than the one asked.
    pub dropped_wrong_sender: u64,
    /// Replies of the wrong kind for their request.
    pub dropped_unexpected: u64,
    /// Messages that break the protocol's rules (too many contacts, the own ID as sender).
    pub dropped_malformed: u64,
    /// STOREs refused because the store was full.
    pub stores_refused: u64,
    /// Messages whose sender claimed an ID the routing table holds at another
    /// address that has not failed: the claim was not admitted to the table
    /// (a hijack attempt, or a node that moved). The message itself was handled.
    pub conflicting_claims: u64,
    /// Newcomers not admitted to the routing table because their bucket held
    /// as many contacts of their IP address or subnet as allowed
    /// (`Config::max_per_ip_per_bucket`). The message itself was handled.
    pub refused_admissions: u64,
    /// Verification PINGs sent to a contact first heard from in a request,
    /// before handing it stored pairs (paper §2.5).
    pub verification_pings: u64,
    /// PINGs asking a contact first heard from in a request to answer, before
    /// it is handed to other nodes (`Config::answered_only`).
    pub confirmation_pings: u64,
    /// Requests a read-only node (BEP 43, `Config::read_only`) received and
    /// did not answer.
    pub unanswered_requests: u64,
}

impl Stats {
    /// All datagrams dropped, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_unknown_tx + self.dropped_wrong_sender + self.dropped_unexpected + self.dropped_malformed
    }
}
